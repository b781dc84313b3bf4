//! `mozaggregator definitions`: print the layout of every metric of definition files, one JSON
//! object per line, sorted by metric name.
//!
//! ```text
//! $ mozaggregator definitions --histograms Histograms.json --scalars Scalars.yaml
//! {"metric":"A11Y_CONSUMERS","kind":"enumerated","buckets":[0,1,2,3,4,5,6,7,8,9,10,11],"labels":[],"description":"Accessibility client by enum id","keyed":false}
//! ```

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mozaggregator_core::definitions::{Definition, Definitions};
use mozaggregator_http::{Error, Result};
use serde::Serialize;

/// Arguments of `mozaggregator definitions`.
#[derive(clap::Args)]
#[command(
    long_about = "Print the bucket layout of every metric of definition files, one JSON object \
                  per line, sorted by metric name: \
                  {\"metric\",\"kind\",\"buckets\",\"labels\",\"description\",\"keyed\"}. \
                  `buckets` are the lower bounds; `labels` are a categorical histogram's labels \
                  followed by \"spill\" (else []). Scalars are SCALARS_<CATEGORY.PROBE>, kind \
                  exponential, over the fixed scalar labels. Files only, never the network."
)]
pub struct Args {
    /// A Histograms.json file.
    #[arg(long, value_name = "FILE")]
    histograms: Option<PathBuf>,

    /// A Scalars.yaml file; repeat for several.
    #[arg(long, value_name = "FILE")]
    scalars: Vec<PathBuf>,
}

/// One output line.
#[derive(Serialize)]
struct Line<'a> {
    metric: &'a str,
    kind: &'a str,
    buckets: &'a [u64],
    labels: Vec<&'a str>,
    description: &'a str,
    keyed: bool,
}

impl<'a> From<&'a Definition> for Line<'a> {
    fn from(def: &'a Definition) -> Self {
        Self {
            metric: &def.name,
            kind: def.kind.name(),
            buckets: def.layout.bounds(),
            labels: def.layout.served_labels(),
            description: &def.description,
            keyed: def.keyed,
        }
    }
}

/// Runs the command.
///
/// # Errors
/// A usage error when no file is given; the core's errors for unreadable or malformed files;
/// an I/O error when stdout fails (a closed pipe ends the output quietly instead).
pub fn run(args: Args) -> Result<ExitCode> {
    if args.histograms.is_none() && args.scalars.is_empty() {
        return Err(Error::Usage(
            "definitions: give --histograms FILE and/or --scalars FILE".into(),
        ));
    }
    let defs = Definitions::load(args.histograms.as_deref(), &args.scalars)?;
    match write_lines(&defs, io::stdout().lock()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(source) => Err(Error::Io {
            path: "stdout".into(),
            source,
        }),
    }
}

/// Writes one JSON line per definition, sorted by name.
fn write_lines(defs: &Definitions, out: impl Write) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut line = Vec::with_capacity(1024);
    for def in defs.sorted() {
        line.clear();
        serde_json::to_writer(&mut line, &Line::from(def)).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_json_objects_in_field_order() {
        let defs = Definitions::from_histograms_json(
            r#"{"B": {"kind": "categorical", "labels": ["x"], "description": "b"},
                "A": {"kind": "flag", "keyed": "true"}}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        write_lines(&defs, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            r#"{"metric":"A","kind":"flag","buckets":[0,1,2],"labels":[],"description":"","keyed":true}"#
        );
        assert!(lines[1].starts_with(r#"{"metric":"B","kind":"categorical","buckets":[0,1,2,"#));
        assert!(
            lines[1].ends_with(r#"49,50],"labels":["x","spill"],"description":"b","keyed":false}"#)
        );
    }
}
