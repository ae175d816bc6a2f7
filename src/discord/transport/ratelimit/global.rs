//! The global limit, kept ahead of Discord: at most [`super::GLOBAL_PER_SECOND`] bot-token requests in any
//! second, each holding its place from when it leaves until a second after its answer, served in order (work
//! that may come late after the rest); and the pause after a global 429.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::{Priority, GLOBAL_PER_SECOND};

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
    /// [`Priority::InOrder`] requests waiting for a place, and a wake-up when that number falls.
    in_order_waiting: AtomicUsize,
    in_order_changed: tokio::sync::Notify,
}

/// An [`Priority::InOrder`] request waiting for its place, counted while it waits.
struct Waiting<'a>(&'a Global);

impl<'a> Waiting<'a> {
    fn new(global: &'a Global) -> Self {
        global.in_order_waiting.fetch_add(1, Ordering::SeqCst);
        global.in_order_changed.notify_waiters();
        Self(global)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.in_order_waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.in_order_changed.notify_waiters();
    }
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
    /// [`GLOBAL_PER_SECOND`] places in use. Waiters are served in order, those [`Priority::AfterTheRest`]
    /// only once no [`Priority::InOrder`] request is waiting.
    pub(super) async fn admit(&self, priority: Priority) -> GlobalPlace<'_> {
        match priority {
            Priority::InOrder => {
                let _waiting = Waiting::new(self);
                let _turn = self.order.lock().await;
                loop {
                    if let Some(place) = self.place(false).await {
                        return place;
                    }
                }
            }
            Priority::AfterTheRest => loop {
                loop {
                    let changed = self.in_order_changed.notified();
                    if self.in_order_waiting.load(Ordering::SeqCst) == 0 {
                        break;
                    }
                    changed.await;
                }
                let _turn = self.order.lock().await;
                if let Some(place) = self.place(true).await {
                    return place;
                }
                // A request in order came while this one waited for a place: it goes first.
            },
        }
    }

    /// Waits, with the turn held, until a place is free (after any global pause) and takes it; with
    /// `yields`, gives up (`None`) as soon as a [`Priority::InOrder`] request is waiting.
    async fn place(&self, yields: bool) -> Option<GlobalPlace<'_>> {
        let paused = *self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        loop {
            let freed = self.freed.notified();
            let changed = self.in_order_changed.notified();
            if yields && self.in_order_waiting.load(Ordering::SeqCst) > 0 {
                return None;
            }
            let next_free = {
                let mut places = self.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let now = Instant::now();
                while places.answered.front().is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1)) {
                    places.answered.pop_front();
                }
                if places.in_flight + places.answered.len() < GLOBAL_PER_SECOND {
                    places.in_flight += 1;
                    return Some(GlobalPlace(self));
                }
                places.answered.front().map(|&at| at + Duration::from_secs(1))
            };
            let newcomer = async {
                if yields {
                    changed.await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            match next_free {
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = freed => {}
                    () = newcomer => {}
                },
                None => tokio::select! {
                    () = freed => {}
                    () = newcomer => {}
                },
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
    async fn work_that_may_come_late_waits_for_every_request_in_order() {
        let global = std::sync::Arc::new(Global::default());
        // The window is full: everything below waits for places to come free.
        let full: Vec<_> =
            futures_util::future::join_all((0..GLOBAL_PER_SECOND).map(|_| global.admit(Priority::InOrder))).await;
        drop(full);
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut waiting = tokio::task::JoinSet::new();
        let wait = |priority: Priority, label: &'static str| {
            let (global, order) = (global.clone(), order.clone());
            async move {
                drop(global.admit(priority).await);
                order.lock().unwrap().push(label);
            }
        };
        waiting.spawn(wait(Priority::AfterTheRest, "read-back"));
        tokio::task::yield_now().await;
        for _ in 0..GLOBAL_PER_SECOND * 2 {
            waiting.spawn(wait(Priority::InOrder, "pin"));
        }
        while waiting.join_next().await.is_some() {}
        let order = order.lock().unwrap();
        assert_eq!(order.len(), GLOBAL_PER_SECOND * 2 + 1);
        assert_eq!(order.last(), Some(&"read-back"), "a read-back went before a pin that was waiting");
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_window_lets_through_the_limit_a_second() {
        let global = Global::default();
        let start = Instant::now();
        for _ in 0..GLOBAL_PER_SECOND * 3 {
            drop(global.admit(Priority::InOrder).await);
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2100), "{took:?}");
        global.pause_until(Instant::now() + Duration::from_secs(5));
        let paused = Instant::now();
        drop(global.admit(Priority::InOrder).await);
        assert!(paused.elapsed() >= Duration::from_secs(5));
    }
}
