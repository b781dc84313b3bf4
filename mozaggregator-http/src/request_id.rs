//! Request ids: every answer carries one in `X-Request-Id`, and the request's log lines name
//! it, so that an operator can find the full error behind a user's 500.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The response header that carries the id.
pub const HEADER: &str = "x-request-id";

/// A request id: unique within a server process, and unlikely to repeat across restarts (the
/// high bits come from the start time). Printed as 16 hexadecimal digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(u64);

static START: LazyLock<u64> = LazyLock::new(|| {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // 24 bits of the start time at the top; the counter takes the 40 bits below.
    ((nanos as u64) & 0xff_ffff) << 40
});
static NEXT: AtomicU64 = AtomicU64::new(0);

impl RequestId {
    /// A new id.
    pub fn next() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) & ((1 << 40) - 1);
        RequestId(*START | n)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_printed_as_16_hex_digits() {
        let a = RequestId::next();
        let b = RequestId::next();
        assert_ne!(a, b);
        let s = a.to_string();
        assert_eq!(s.len(), 16);
        assert!(s.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
