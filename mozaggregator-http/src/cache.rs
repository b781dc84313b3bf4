//! The server-side response cache: bodies of successful answers per (URL, authorized?),
//! for a fixed time, bounded in entries and bytes, tied to the store's data version.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// What identifies a cached answer: the request's path and query, and whether the caller was
/// authorized (authorized callers see more).
pub type CacheKey = (String, bool);

/// One cached answer.
#[derive(Clone, Debug)]
pub struct CachedBody {
    /// The body.
    pub body: Bytes,
    /// Its content type.
    pub content_type: &'static str,
    /// When it was stored.
    pub stored: Instant,
    /// The store's data version it was computed from.
    pub data_version: u64,
}

/// Limits of a [`ResponseCache`].
#[derive(Clone, Copy, Debug)]
pub struct CacheLimits {
    /// How long an entry lives.
    pub timeout: Duration,
    /// Most entries kept.
    pub max_entries: usize,
    /// Most body bytes kept (keys not counted).
    pub max_bytes: usize,
}

#[derive(Default)]
struct Inner {
    map: HashMap<CacheKey, (u64, Arc<CachedBody>)>,
    order: VecDeque<(CacheKey, u64)>,
    bytes: usize,
    next: u64,
}

/// A bounded, time-limited response cache. Evicts the oldest entries first when full. An entry
/// of another data version than the caller's is a miss (and is dropped).
///
/// ```
/// use std::time::Duration;
/// use mozaggregator_http::cache::{CacheLimits, ResponseCache};
/// let cache = ResponseCache::new(CacheLimits { timeout: Duration::from_secs(60),
///     max_entries: 10, max_bytes: 1 << 20 });
/// let key = ("/status".to_string(), false);
/// cache.put(key.clone(), "OK".into(), "text/plain", 7);
/// assert!(cache.get(&key, 7).is_some());
/// assert!(cache.get(&key, 8).is_none()); // new data: stale
/// ```
pub struct ResponseCache {
    limits: CacheLimits,
    inner: Mutex<Inner>,
}

impl ResponseCache {
    /// An empty cache.
    pub fn new(limits: CacheLimits) -> Self {
        Self {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live entry for `key` computed from `data_version`, if any.
    pub fn get(&self, key: &CacheKey, data_version: u64) -> Option<Arc<CachedBody>> {
        let mut inner = self.lock();
        let (_, entry) = inner.map.get(key)?;
        if entry.data_version == data_version && entry.stored.elapsed() < self.limits.timeout {
            return Some(Arc::clone(entry));
        }
        if let Some((_, old)) = inner.map.remove(key) {
            inner.bytes = inner.bytes.saturating_sub(old.body.len());
        }
        None
    }

    /// Time left for the entry of `key` (zero when there is none).
    pub fn time_left(&self, key: &CacheKey) -> Duration {
        self.lock().map.get(key).map_or(Duration::ZERO, |(_, e)| {
            self.limits.timeout.saturating_sub(e.stored.elapsed())
        })
    }

    /// Stores an answer; returns the stored entry. Bodies larger than the byte limit are not
    /// stored (the entry is still returned).
    pub fn put(
        &self,
        key: CacheKey,
        body: Bytes,
        content_type: &'static str,
        data_version: u64,
    ) -> Arc<CachedBody> {
        let entry = Arc::new(CachedBody {
            body,
            content_type,
            stored: Instant::now(),
            data_version,
        });
        let size = entry.body.len();
        if size > self.limits.max_bytes || self.limits.max_entries == 0 {
            return entry;
        }
        let mut inner = self.lock();
        let seq = inner.next;
        inner.next += 1;
        if let Some((_, old)) = inner.map.insert(key.clone(), (seq, Arc::clone(&entry))) {
            inner.bytes = inner.bytes.saturating_sub(old.body.len());
        }
        inner.bytes += size;
        inner.order.push_back((key, seq));
        while inner.map.len() > self.limits.max_entries || inner.bytes > self.limits.max_bytes {
            let Some((old_key, old_seq)) = inner.order.pop_front() else {
                break;
            };
            // Skip queue records of entries replaced or removed since.
            if inner.map.get(&old_key).is_some_and(|(s, _)| *s == old_seq) {
                if let Some((_, old)) = inner.map.remove(&old_key) {
                    inner.bytes = inner.bytes.saturating_sub(old.body.len());
                }
            }
        }
        // Keep the queue from growing without bound with stale records.
        if inner.order.len() > 2 * inner.map.len() + 64 {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(k, s)| map.get(k).is_some_and(|(seq, _)| seq == s));
        }
        entry
    }

    /// Empties the cache.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
        inner.bytes = 0;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of bodies held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(max_entries: usize, max_bytes: usize, timeout: Duration) -> ResponseCache {
        ResponseCache::new(CacheLimits {
            timeout,
            max_entries,
            max_bytes,
        })
    }

    fn key(s: &str) -> CacheKey {
        (s.to_string(), false)
    }

    #[test]
    fn bounded_by_entries_and_bytes_oldest_first() {
        let c = cache(2, 100, Duration::from_secs(60));
        c.put(key("a"), Bytes::from_static(b"1"), "t", 0);
        c.put(key("b"), Bytes::from_static(b"2"), "t", 0);
        c.put(key("c"), Bytes::from_static(b"3"), "t", 0);
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("a"), 0).is_none());
        assert!(c.get(&key("c"), 0).is_some());
        let c = cache(10, 10, Duration::from_secs(60));
        c.put(key("a"), Bytes::from(vec![0; 6]), "t", 0);
        c.put(key("b"), Bytes::from(vec![0; 6]), "t", 0);
        assert_eq!((c.len(), c.bytes()), (1, 6));
        c.put(key("huge"), Bytes::from(vec![0; 11]), "t", 0);
        assert!(c.get(&key("huge"), 0).is_none());
        // Replacing an entry keeps the byte count right.
        c.put(key("b"), Bytes::from(vec![0; 2]), "t", 0);
        assert_eq!(c.bytes(), 2);
        c.clear();
        assert!(c.is_empty());
        assert_eq!(c.bytes(), 0);
    }

    #[test]
    fn expired_and_other_version_entries_miss() {
        let c = cache(10, 100, Duration::ZERO);
        c.put(key("a"), Bytes::from_static(b"1"), "t", 0);
        assert!(c.get(&key("a"), 0).is_none());
        assert_eq!(c.time_left(&key("a")), Duration::ZERO);
        let c = cache(10, 100, Duration::from_secs(60));
        c.put(key("a"), Bytes::from_static(b"1"), "t", 3);
        assert!(c.time_left(&key("a")) > Duration::from_secs(59));
        assert!(c.get(&key("a"), 4).is_none());
        assert!(c.is_empty());
        assert!(c.get(&("a".to_string(), true), 3).is_none());
    }

    #[test]
    fn queue_stays_bounded_under_rewrites() {
        let c = cache(4, 1000, Duration::from_secs(60));
        for i in 0..10_000 {
            c.put(
                key(&format!("k{}", i % 3)),
                Bytes::from_static(b"x"),
                "t",
                0,
            );
        }
        assert_eq!(c.len(), 3);
        assert!(c.lock().order.len() < 100);
    }
}
