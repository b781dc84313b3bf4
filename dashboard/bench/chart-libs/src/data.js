export const dates = Array.from({length: 30}, (_, i) => 1704067200 + i * 86400);
export const series = Array.from({length: 6}, (_, s) => dates.map((_, i) => 10 + s * 5 + Math.sin(i / 3 + s) * 3));
export const bars = Array.from({length: 50}, (_, i) => Math.exp(-((i - 20) ** 2) / 60));
