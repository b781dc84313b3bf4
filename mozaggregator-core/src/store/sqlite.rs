//! The embedded SQLite store. (Being written.)
