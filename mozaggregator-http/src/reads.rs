//! Where store reads run.
//!
//! A store read is synchronous (SQLite): it must not stall the async workers that serve every
//! connection, so reads normally run on tokio's blocking pool, at most `max_concurrent_reads`
//! at once. That costs two thread hand-offs per request (to a pool thread and back), and after
//! the server has idled each hand-off also wakes a sleeping thread: a dashboard's lone request
//! paid about 0.2 ms for them (BENCHMARKS.md, "Latency of a lone request").
//!
//! So a *lone* read, one that starts while no other read is in flight, runs inline on the
//! worker that received the request. At most one read runs inline at a time, and only when
//! the runtime has at least two workers, so another worker always keeps serving connections
//! (and sends any read that arrives meanwhile to the pool). Under load reads are rarely
//! alone, and the pool takes them as before. An inline read is not cut short by the request
//! timeout: its answer is sent when it ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::api_error::ApiError;

/// The read scheduler of one server (see the module docs).
pub(crate) struct Reads {
    permits: Arc<Semaphore>,
    max: usize,
    inline: bool,
    inline_busy: AtomicBool,
}

/// Clears the inline flag when the inline read ends, even by a panic.
struct InlineSlot<'a>(&'a AtomicBool);

impl Drop for InlineSlot<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Reads {
    /// At most `max` reads at once (at least 1); `inline` allows lone reads to run inline.
    pub(crate) fn new(max: usize, inline: bool) -> Self {
        let max = max.max(1);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
            inline,
            inline_busy: AtomicBool::new(false),
        }
    }

    /// Runs `read`: inline when it is alone (see the module docs), else on the blocking pool.
    pub(crate) async fn run<T, F>(&self, read: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Some(_slot) = self.inline_slot() {
            let _permit = permit;
            return read();
        }
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            read()
        })
        .await
        .map_err(|e| ApiError::Internal(format!("store task failed: {e}")))?
    }

    /// The inline slot, when this read is alone (our permit is the only one taken), the
    /// runtime has another worker, and no other read holds the slot.
    fn inline_slot(&self) -> Option<InlineSlot<'_>> {
        let alone = self.permits.available_permits() + 1 == self.max;
        if !self.inline || !alone {
            return None;
        }
        let workers =
            tokio::runtime::Handle::try_current().map_or(0, |h| h.metrics().num_workers());
        if workers < 2 {
            return None;
        }
        self.inline_busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(InlineSlot(&self.inline_busy))
    }

    /// True while a read runs inline (for tests).
    #[cfg(test)]
    fn inline_busy(&self) -> bool {
        self.inline_busy.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lone_read_runs_inline_and_a_concurrent_one_on_the_pool() {
        let reads = Arc::new(Reads::new(4, true));
        let here = std::thread::current().id();
        let lone = reads.run(move || Ok(std::thread::current().id())).await;
        assert_eq!(lone.ok(), Some(here));
        assert!(!reads.inline_busy());

        // While a read holds the inline slot, a second one goes to the pool.
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let first = {
            let reads = Arc::clone(&reads);
            tokio::spawn(async move {
                reads
                    .run(move || {
                        let _ = started_tx.send(());
                        let _ = release_rx.recv_timeout(Duration::from_secs(10));
                        Ok(std::thread::current().id())
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)))
            .await
            .unwrap()
            .unwrap();
        assert!(reads.inline_busy());
        let second = reads.run(move || Ok(std::thread::current().id())).await;
        let _ = release_tx.send(());
        let first = first.await.unwrap().unwrap();
        assert_ne!(second.unwrap(), here, "the second read ran on the pool");
        assert_ne!(first, here, "the spawned read ran inline on a worker");
        assert!(!reads.inline_busy());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_worker_never_runs_reads_inline() {
        let reads = Reads::new(4, true);
        let here = std::thread::current().id();
        let id = reads.run(move || Ok(std::thread::current().id())).await;
        assert_ne!(id.ok(), Some(here));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inline_can_be_turned_off() {
        let reads = Reads::new(4, false);
        let here = std::thread::current().id();
        let id = reads.run(move || Ok(std::thread::current().id())).await;
        assert_ne!(id.ok(), Some(here));
    }
}
