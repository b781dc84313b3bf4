//! Realistic synthetic main pings, deterministic for a seed. (Being written.)
