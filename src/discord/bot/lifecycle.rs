//! The tasks answering interactions, and shutdown: every command, click and new channel is answered in a
//! task this tracks; shutdown stops taking new ones, waits for those in flight up to the drain limit, and
//! cancels what is still running then, so nothing a run started outlives it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The answering tasks and the state of shutdown.
pub struct Lifecycle {
    accepting: AtomicBool,
    /// The tasks answering; shutdown closes it and waits for them.
    tasks: TaskTracker,
    /// Cancelled when shutdown starts: ends the stand-by of commands another process answers, and cuts the
    /// live desks' waits short.
    stopping: CancellationToken,
    /// Cancelled when the drain limit has passed: tasks still running end there, with the process.
    abandon: CancellationToken,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            accepting: AtomicBool::new(true),
            tasks: TaskTracker::new(),
            stopping: CancellationToken::new(),
            abandon: CancellationToken::new(),
        }
    }
}

impl Lifecycle {
    /// Whether new commands are taken (false once shutdown started).
    pub fn accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// Cancelled when shutdown starts.
    pub fn stopping(&self) -> &CancellationToken {
        &self.stopping
    }

    /// Runs `work` as a task shutdown waits for, cancelled if it is still running at the drain limit.
    pub fn track(&self, work: impl Future<Output = ()> + Send + 'static) {
        let abandon = self.abandon.clone();
        // Boxed: an async block keeps a captured future and the copy it polls in separate slots
        // (rust-lang/rust#62958), which doubled each command's task to 15 KB (BENCHMARKS.md, memory).
        let work = Box::pin(work);
        self.tasks.spawn(async move {
            tokio::select! {
                () = work => {}
                () = abandon.cancelled() => tracing::warn!("cancelled at shutdown"),
            }
        });
    }

    /// Stops taking new work and waits (at most `limit`) for the tasks in flight to finish; those still
    /// running then are cancelled. Returns how many were cancelled.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.accepting.store(false, Ordering::SeqCst);
        self.stopping.cancel();
        self.tasks.close();
        if tokio::time::timeout(limit, self.tasks.wait()).await.is_ok() {
            return 0;
        }
        let unfinished = self.tasks.len();
        self.abandon.cancel();
        self.tasks.wait().await;
        unfinished
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_drain_waits_for_what_finishes_in_time_and_cancels_the_rest() {
        let lifecycle = Lifecycle::default();
        let finished = std::sync::Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        lifecycle.track(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            done.store(true, Ordering::SeqCst);
        });
        lifecycle.track(std::future::pending());
        assert!(lifecycle.accepting());
        assert_eq!(lifecycle.drain(Duration::from_secs(5)).await, 1, "the one still running at the limit");
        assert!(finished.load(Ordering::SeqCst), "the quick one finished");
        assert!(!lifecycle.accepting() && lifecycle.stopping().is_cancelled());
    }
}
