//! What the benchmark examples share (`analysis_bench`, `build_bench_store`, `pg_bench`,
//! `store_bench`, the server's `jwt_fixture`): `main`'s exit, reading `--flag value`
//! arguments, and timing repeated runs. None of it changes what a benchmark prints.

use std::process::ExitCode;
use std::time::Instant;

/// Any error of a benchmark, printed as it is.
pub type Error = Box<dyn std::error::Error>;

/// `main`'s exit code for the result of `program`'s run: on an error, prints
/// `program: error` to stderr and fails.
pub fn exit_code(program: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line's arguments after the program's name, read one by one; [`Args::value`]
/// reads the value of a flag.
pub struct Args(std::iter::Skip<std::env::Args>);

impl Args {
    /// This process's arguments.
    pub fn new() -> Self {
        Self(std::env::args().skip(1))
    }

    /// The argument following `flag`: an error (`FLAG needs a value`) when there is none.
    pub fn value(&mut self, flag: &str) -> Result<String, Error> {
        self.0
            .next()
            .ok_or_else(|| format!("{flag} needs a value").into())
    }
}

impl Default for Args {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for Args {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.0.next()
    }
}

/// The value at quantile `q` (0 to 1) of `sorted` (ascending), by nearest rank; NaN when
/// `sorted` is empty.
pub fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `f` up to 5 times to warm up, then `iterations` times timed: the times in ms,
/// ascending, and the value of the last run (`T::default()` when none ran).
pub fn timed_runs<T: Default>(
    iterations: usize,
    mut f: impl FnMut() -> Result<T, Error>,
) -> Result<(Vec<f64>, T), Error> {
    let mut last = T::default();
    for _ in 0..5.min(iterations) {
        last = f()?;
    }
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        last = f()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_the_ceiling_rank() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(nearest_rank(&sorted, 0.5), 2.0);
        assert_eq!(nearest_rank(&sorted, 0.99), 4.0);
        assert_eq!(nearest_rank(&sorted, 0.0), 1.0);
        assert!(nearest_rank(&[], 0.5).is_nan());
    }
}
