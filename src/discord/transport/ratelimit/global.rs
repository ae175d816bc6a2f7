//! The global limit, kept ahead of Discord: at most [`super::GLOBAL_PER_SECOND`] bot-token requests in any
//! second, each holding its place from when it leaves until a second after its answer, served in order; and
//! the pause after a global 429.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::GLOBAL_PER_SECOND;

/// The global window. A request holds its place from when it leaves until one second after its answer:
/// Discord counts it on arrival, somewhere in between, so the places in use are always at least Discord's
/// count. (Counted from when requests leave, the first burst over new connections arrives bunched and is
/// answered 429.) And a pause after a global 429.
#[derive(Default)]
pub(super) struct Global {
    /// Served in order: a request waiting for a place holds this.
    order: tokio::sync::Mutex<()>,
    places: Mutex<Places>,
    freed: tokio::sync::Notify,
    paused_until: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Places {
    in_flight: usize,
    /// When each request answered in the last second was answered.
    answered: std::collections::VecDeque<Instant>,
}

/// A place in the global window, given back (for one more second) when dropped.
pub(super) struct GlobalPlace<'a>(&'a Global);

impl Drop for GlobalPlace<'_> {
    fn drop(&mut self) {
        let mut places = self.0.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        places.in_flight = places.in_flight.saturating_sub(1);
        places.answered.push_back(Instant::now());
        drop(places);
        self.0.freed.notify_waiters();
    }
}

impl Global {
    /// Waits until a bot-token request may go: after any global pause, and with fewer than
    /// [`GLOBAL_PER_SECOND`] places in use. Waiters are served in order.
    pub(super) async fn admit(&self) -> GlobalPlace<'_> {
        let _turn = self.order.lock().await;
        let paused = *self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        loop {
            let freed = self.freed.notified();
            let next_free = {
                let mut places = self.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let now = Instant::now();
                while places.answered.front().is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1)) {
                    places.answered.pop_front();
                }
                if places.in_flight + places.answered.len() < GLOBAL_PER_SECOND {
                    places.in_flight += 1;
                    return GlobalPlace(self);
                }
                places.answered.front().map(|&at| at + Duration::from_secs(1))
            };
            match next_free {
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = freed => {}
                },
                None => freed.await,
            }
        }
    }

    pub(super) fn pause_until(&self, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *paused = Some(paused.map_or(until, |current| current.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_global_window_lets_through_the_limit_a_second() {
        let global = Global::default();
        let start = Instant::now();
        for _ in 0..GLOBAL_PER_SECOND * 3 {
            drop(global.admit().await);
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2100), "{took:?}");
        global.pause_until(Instant::now() + Duration::from_secs(5));
        let paused = Instant::now();
        drop(global.admit().await);
        assert!(paused.elapsed() >= Duration::from_secs(5));
    }
}
