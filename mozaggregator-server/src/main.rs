//! The `mozaggregator` command-line tool and HTTP server.
fn main() {}
