//! Leave-one-group-out jackknife intervals over replicate groups (docs/statistics.md,
//! "Intervals").
//!
//! Pings are split into R groups by client (`sample_id mod R`), so that a group holds whole
//! clients. A statistic θ is computed once from all groups (θ̂) and once without each group i
//! (θ̂₍ᵢ₎). With θ̄ the mean of the θ̂₍ᵢ₎, the standard error is
//! `SE = √((R−1)/R · Σ(θ̂₍ᵢ₎ − θ̄)²)` and the interval is `θ̂ ± t·SE`, with `t` the two-sided
//! quantile of Student's t with R−1 degrees of freedom.

use std::fmt;
use std::str::FromStr;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::error::{Error, Result};

/// The replicate counts a store may be written with: the divisors of 100 from 2 up, so that
/// every group gets the same share of `sample_id`s.
pub const REPLICATE_COUNTS: [u32; 8] = [2, 4, 5, 10, 20, 25, 50, 100];

/// A confidence level an interval may be asked at.
///
/// ```
/// use mozaggregator_core::stats::Confidence;
/// let c: Confidence = "0.95".parse().unwrap();
/// assert_eq!(c, Confidence::P95);
/// assert_eq!(c.to_string(), "0.95");
/// assert!("0.8".parse::<Confidence>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Confidence {
    /// 90 %.
    P90,
    /// 95 %.
    P95,
    /// 99 %.
    P99,
    /// 97.5 %: the level at which a comparison's verdict reads each of its two intervals when
    /// `ci=0.95` (see [`Confidence::per_test`]); not accepted as `ci`.
    P975,
    /// 99.5 %: the verdict's per-interval level for `ci=0.99`; not accepted as `ci`.
    P995,
}

impl Confidence {
    /// The level as a probability (`0.9`, `0.95`, `0.99`).
    pub fn level(self) -> f64 {
        match self {
            Confidence::P90 => 0.9,
            Confidence::P95 => 0.95,
            Confidence::P99 => 0.99,
            Confidence::P975 => 0.975,
            Confidence::P995 => 0.995,
        }
    }

    /// The level at which each of two tests must be read so that "either rejects" errs at most
    /// `1 − self` of the time (Bonferroni): `1 − (1 − level) / 2`. A comparison's verdict
    /// reads the median and the mean this way.
    ///
    /// ```
    /// use mozaggregator_core::stats::Confidence;
    /// assert_eq!(Confidence::P90.per_test(), Confidence::P95);
    /// assert_eq!(Confidence::P95.per_test().level(), 0.975);
    /// ```
    pub fn per_test(self) -> Confidence {
        match self {
            Confidence::P90 => Confidence::P95,
            Confidence::P95 => Confidence::P975,
            Confidence::P99 | Confidence::P975 | Confidence::P995 => Confidence::P995,
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::P90 => "0.9",
            Confidence::P95 => "0.95",
            Confidence::P99 => "0.99",
            Confidence::P975 => "0.975",
            Confidence::P995 => "0.995",
        })
    }
}

impl FromStr for Confidence {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "0.9" | "0.90" => Ok(Confidence::P90),
            "0.95" => Ok(Confidence::P95),
            "0.99" => Ok(Confidence::P99),
            other => Err(Error::invalid(
                "ci",
                format!("`{other}` is not a confidence level: use 0.9, 0.95 or 0.99"),
            )),
        }
    }
}

/// Serialized as the level, a number: `0.9`, `0.95` or `0.99`.
impl Serialize for Confidence {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.level())
    }
}

/// Two-sided quantiles `t(1 − α/2, df)` of Student's t for the degrees of freedom R − 1 of each
/// replicate count R in [`REPLICATE_COUNTS`]: (df, [90 %, 95 %, 99 %, 97.5 %, 99.5 %]), to 12
/// decimals (as
/// `scipy.stats.t.ppf` gives them). The unit tests check each against a numerical integration
/// of the t density.
const T_QUANTILES: [(u32, [f64; 5]); 8] = [
    (
        1,
        [
            6.313_751_514_675,
            12.706_204_736_175,
            63.656_741_162_872,
            25.451_699_579_357,
            127.321_336_468_875,
        ],
    ),
    (
        3,
        [
            2.353_363_434_802,
            3.182_446_305_284,
            5.840_909_309_733,
            4.176_534_846_105,
            7.453_318_505_151,
        ],
    ),
    (
        4,
        [
            2.131_846_786_327,
            2.776_445_105_198,
            4.604_094_871_350,
            3.495_405_932_516,
            5.597_568_367_075,
        ],
    ),
    (
        9,
        [
            1.833_112_932_656,
            2.262_157_162_798,
            3.249_835_541_592,
            2.685_010_846_816,
            3.689_662_392_304,
        ],
    ),
    (
        19,
        [
            1.729_132_811_521,
            2.093_024_054_408,
            2.860_934_606_465,
            2.433_440_211_375,
            3.173_724_530_792,
        ],
    ),
    (
        24,
        [
            1.710_882_079_909,
            2.063_898_561_628,
            2.796_939_504_774,
            2.390_949_315_129,
            3.090_513_548_717,
        ],
    ),
    (
        49,
        [
            1.676_550_892_617,
            2.009_575_237_129,
            2.679_951_973_632,
            2.312_375_163_800,
            2.939_729_818_421,
        ],
    ),
    (
        99,
        [
            1.660_391_156_017,
            1.984_216_951_586,
            2.626_405_457_281,
            2.276_003_474_751,
            2.871_307_661_215,
        ],
    ),
];

/// The two-sided Student's t quantile for `confidence` with `df` degrees of freedom, for the
/// `df = R − 1` of a replicate count R in [`REPLICATE_COUNTS`]; `None` for any other `df`.
///
/// ```
/// use mozaggregator_core::stats::{t_quantile, Confidence};
/// let t = t_quantile(Confidence::P95, 19).unwrap();
/// assert!((t - 2.093).abs() < 1e-3);
/// assert_eq!(t_quantile(Confidence::P95, 7), None);
/// ```
pub fn t_quantile(confidence: Confidence, df: u32) -> Option<f64> {
    let (_, row) = T_QUANTILES.iter().find(|(d, _)| *d == df)?;
    Some(match confidence {
        Confidence::P90 => row[0],
        Confidence::P95 => row[1],
        Confidence::P99 => row[2],
        Confidence::P975 => row[3],
        Confidence::P995 => row[4],
    })
}

/// An estimate with its jackknife interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// θ̂, from all groups; the interval is centred on it.
    pub estimate: f64,
    /// The jackknife standard error.
    pub se: f64,
    /// `estimate − t·se`.
    pub lower: f64,
    /// `estimate + t·se`.
    pub upper: f64,
}

impl Interval {
    /// Whether the interval leaves 0 out: `lower > 0` or `upper < 0`.
    pub fn excludes_zero(&self) -> bool {
        self.lower > 0.0 || self.upper < 0.0
    }

    /// `(name, value)` of each serialized field, in order.
    pub(crate) fn fields(&self) -> [(&'static str, f64); 4] {
        [
            ("estimate", self.estimate),
            ("lower", self.lower),
            ("upper", self.upper),
            ("se", self.se),
        ]
    }
}

/// Serialized as `{"estimate": x, "lower": x, "upper": x, "se": x}` (a value that is not
/// finite as `null`).
///
/// ```
/// use mozaggregator_core::stats::Interval;
/// let i = Interval { estimate: 1.5, se: 0.25, lower: 1.0, upper: 2.0 };
/// assert_eq!(serde_json::to_string(&i).unwrap(), r#"{"estimate":1.5,"lower":1.0,"upper":2.0,"se":0.25}"#);
/// ```
impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        for (key, value) in self.fields() {
            map.serialize_entry(key, &value.is_finite().then_some(value))?;
        }
        map.end()
    }
}

/// The jackknife interval of `estimate` from its leave-one-group-out values, one per group
/// (R = `leave_one_out.len()`).
///
/// `None` when the interval is not defined: fewer than two groups, a group count not in
/// [`REPLICATE_COUNTS`], or an estimate or a leave-one-out value that is missing or not finite.
///
/// ```
/// use mozaggregator_core::stats::{jackknife, Confidence};
/// // Four groups whose leave-one-out means spread around the estimate 10.
/// let i = jackknife(10.0, &[Some(9.5), Some(10.5), Some(10.0), Some(10.0)], Confidence::P95).unwrap();
/// // SE = √(3/4 · (0.25 + 0.25)) = √0.375; t(0.975, 3) ≈ 3.182.
/// assert!((i.se - 0.375f64.sqrt()).abs() < 1e-12);
/// assert!((i.upper - (10.0 + 3.182446305284 * i.se)).abs() < 1e-9);
/// assert!(i.excludes_zero());
/// assert_eq!(jackknife(10.0, &[Some(9.0), None, Some(1.0), Some(2.0)], Confidence::P95), None);
/// ```
pub fn jackknife(
    estimate: f64,
    leave_one_out: &[Option<f64>],
    confidence: Confidence,
) -> Option<Interval> {
    let r = u32::try_from(leave_one_out.len()).ok()?;
    let t = t_quantile(confidence, r.checked_sub(1)?)?;
    if !estimate.is_finite() {
        return None;
    }
    // Two passes over the values, no copy: every answer entry runs this for each statistic.
    let mut total = 0.0;
    for v in leave_one_out {
        total += v.filter(|v| v.is_finite())?;
    }
    let n = f64::from(r);
    let mean = total / n;
    let squares: f64 = leave_one_out
        .iter()
        .flatten()
        .map(|v| (v - mean).powi(2))
        .sum();
    let se = ((n - 1.0) / n * squares).sqrt();
    if !se.is_finite() {
        return None;
    }
    Some(Interval {
        estimate,
        se,
        lower: estimate - t * se,
        upper: estimate + t * se,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Γ(k/2) for a positive integer k, from Γ(1/2) = √π, Γ(1) = 1 and Γ(x + 1) = x·Γ(x).
    fn gamma_half(k: u32) -> f64 {
        let (mut x, mut g) = if k % 2 == 0 {
            (1.0, 1.0)
        } else {
            (0.5, std::f64::consts::PI.sqrt())
        };
        while x < f64::from(k) / 2.0 {
            g *= x;
            x += 1.0;
        }
        g
    }

    /// P(T ≤ t) for Student's t with `df` degrees of freedom, by Simpson's rule on the density.
    fn t_cdf(t: f64, df: u32) -> f64 {
        let nu = f64::from(df);
        let c = gamma_half(df + 1) / ((nu * std::f64::consts::PI).sqrt() * gamma_half(df));
        let density = |x: f64| c * (1.0 + x * x / nu).powf(-(nu + 1.0) / 2.0);
        let steps = 200_000;
        let h = t / f64::from(steps);
        let mut area = density(0.0) + density(t);
        for i in 1..steps {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            area += w * density(h * f64::from(i));
        }
        0.5 + area * h / 3.0
    }

    #[test]
    fn every_tabled_quantile_is_the_quantile_of_its_t_distribution() {
        for r in REPLICATE_COUNTS {
            for c in [
                Confidence::P90,
                Confidence::P95,
                Confidence::P99,
                Confidence::P975,
                Confidence::P995,
            ] {
                let t = t_quantile(c, r - 1).unwrap();
                let want = 1.0 - (1.0 - c.level()) / 2.0;
                let got = t_cdf(t, r - 1);
                assert!((got - want).abs() < 1e-9, "R={r} {c}: P(T ≤ {t}) = {got}");
            }
        }
    }

    #[test]
    fn quantiles_shrink_towards_the_normal_as_groups_grow() {
        for c in [
            Confidence::P90,
            Confidence::P95,
            Confidence::P99,
            Confidence::P975,
            Confidence::P995,
        ] {
            let ts: Vec<f64> = REPLICATE_COUNTS
                .iter()
                .map(|r| t_quantile(c, r - 1).unwrap())
                .collect();
            assert!(ts.windows(2).all(|w| w[0] > w[1]), "{c}: {ts:?}");
        }
        assert!((t_quantile(Confidence::P95, 99).unwrap() - 1.96).abs() < 0.03);
    }

    #[test]
    fn identical_groups_give_a_zero_width_interval() {
        let i = jackknife(3.0, &[Some(3.0); 20], Confidence::P99).unwrap();
        assert_eq!((i.se, i.lower, i.upper), (0.0, 3.0, 3.0));
        assert!(i.excludes_zero());
        let zero = jackknife(0.0, &[Some(0.0); 20], Confidence::P99).unwrap();
        assert!(!zero.excludes_zero());
    }

    #[test]
    fn undefined_inputs_give_no_interval() {
        assert_eq!(jackknife(1.0, &[], Confidence::P90), None);
        assert_eq!(jackknife(1.0, &[Some(1.0)], Confidence::P90), None);
        // Three groups is not a replicate count.
        assert_eq!(jackknife(1.0, &[Some(1.0); 3], Confidence::P90), None);
        assert_eq!(jackknife(f64::NAN, &[Some(1.0); 2], Confidence::P90), None);
        assert_eq!(
            jackknife(1.0, &[Some(1.0), Some(f64::INFINITY)], Confidence::P90),
            None
        );
    }

    #[test]
    fn the_mean_of_groups_matches_the_textbook_jackknife_of_the_mean() {
        // For the mean of equal-sized groups, the jackknife SE equals the standard error of
        // the group means: s / √R.
        let groups = [4.0, 7.0, 5.0, 9.0, 5.0];
        let r = groups.len() as f64;
        let all = groups.iter().sum::<f64>() / r;
        let loo: Vec<Option<f64>> = (0..groups.len())
            .map(|i| Some((groups.iter().sum::<f64>() - groups[i]) / (r - 1.0)))
            .collect();
        let i = jackknife(all, &loo, Confidence::P90).unwrap();
        let s2 = groups.iter().map(|g| (g - all).powi(2)).sum::<f64>() / (r - 1.0);
        assert!((i.se - (s2 / r).sqrt()).abs() < 1e-12, "{}", i.se);
    }
}
