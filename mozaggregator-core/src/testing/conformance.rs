//! The `Store` conformance suite. (Being written.)
