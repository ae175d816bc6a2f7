//! Discord REST calls as the bot makes them: bot-token calls within a bound on calls in flight, calls with
//! an interaction token within a bound of their own (Discord keeps them outside its global limit, so they
//! never wait behind pins), each repeated once after a 429 that is a rate limit, never after one with an
//! error code of its own (30046). With the bot's own limiter, the hot path's calls go to it in process.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::HttpError;
use tokio::sync::Semaphore;

use crate::discord::transport::direct::HotPath;
use crate::discord::transport::ratelimit::Limiter;
use crate::metrics::Metrics;

/// Bot-token Discord REST calls (pins, channel posts, member lookups) in flight at once. Discord lets through
/// 50 a second, so more in flight would only wait inside the rate limiter, each holding its request and its
/// stream: at 2,000 new channels at once, 256 in flight made the peak 101 MB. Calls with an interaction token
/// are not bounded here (see [`DiscordCalls::interaction`]).
pub const MAX_DISCORD_CALLS_IN_FLIGHT: usize = 64;

/// Calls with an interaction token in flight at once. Not a rate limit (Discord keeps these outside its global
/// limit): a bound on what waits where. A server takes a few hundred streams on one HTTP/2 connection at once
/// (200 for hyper's default, 256 for Cloudflare's); past that, each request would wait inside the HTTP client
/// with its whole state (headers, body, the client's futures: several KB), where here it waits as a small
/// future. At 2,000 commands at once that is most of the requests in flight.
pub const MAX_INTERACTION_CALLS_IN_FLIGHT: usize = 256;

/// Bot-token calls that may come late (reading a channel's pins back after pinning) in flight at once: they
/// wait behind every other bot-token call for a place under the global limit, so they have slots of their
/// own rather than holding the others'.
const MAX_LATE_CALLS_IN_FLIGHT: usize = 8;

/// How long to wait before repeating a call Discord answered with 429. serenity's error keeps neither the
/// `Retry-After` header nor the body's `retry_after`, so this is fixed: Discord's per-route windows are
/// about a second.
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(1000);

/// A 429 that is a rate limit to wait out. A 429 with an error code of its own (30046: no more edits of a
/// message older than an hour) is a refusal for the caller to act on; repeating it only counts toward
/// Discord's invalid-request limit. (serenity reads a rate limit's body, which has no code, as -1.)
pub(in crate::discord) fn is_rate_limited(error: &serenity::Error) -> bool {
    matches!(error, serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
        if response.status_code == serenity::all::StatusCode::TOO_MANY_REQUESTS && response.error.code <= 0)
}

/// Discord's error code in an unsuccessful REST answer.
pub(in crate::discord) fn discord_code(error: &serenity::Error) -> Option<isize> {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => Some(response.error.code),
        _ => None,
    }
}

/// How the bot calls Discord.
pub struct DiscordCalls {
    /// Permits for [`MAX_DISCORD_CALLS_IN_FLIGHT`].
    slots: Semaphore,
    /// Permits for [`MAX_LATE_CALLS_IN_FLIGHT`].
    late_slots: Semaphore,
    /// Permits for [`MAX_INTERACTION_CALLS_IN_FLIGHT`].
    interaction_slots: Semaphore,
    /// The hot path's calls: in process with the bot's own limiter, through serenity otherwise.
    hot: HotPath,
    /// `DISCORD_RATELIMIT=proxy`: a 429 reaches here straight from the proxy, and is counted here.
    rate_limits_by_proxy: bool,
    metrics: Arc<Metrics>,
}

impl DiscordCalls {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            slots: Semaphore::new(MAX_DISCORD_CALLS_IN_FLIGHT),
            late_slots: Semaphore::new(MAX_LATE_CALLS_IN_FLIGHT),
            interaction_slots: Semaphore::new(MAX_INTERACTION_CALLS_IN_FLIGHT),
            hot: HotPath::default(),
            rate_limits_by_proxy: false,
            metrics,
        }
    }

    /// Sends the hot path's calls to this process's limiter directly (`DISCORD_RATELIMIT=local`).
    pub fn with_limiter(self, limiter: Option<Arc<Limiter>>) -> Self {
        Self { hot: HotPath::new(limiter), ..self }
    }

    /// The hot path's calls (the first response, the edit of the reply, the pins), to run within
    /// [`DiscordCalls::interaction`] or [`DiscordCalls::bot_token`].
    pub fn hot(&self) -> &HotPath {
        &self.hot
    }

    /// Says whether a proxy keeps Discord's rate limits (`DISCORD_RATELIMIT=proxy`).
    pub fn by_proxy(self, by_proxy: bool) -> Self {
        Self { rate_limits_by_proxy: by_proxy, ..self }
    }

    /// Runs one bot-token REST call (channel messages, pins, members) within [`MAX_DISCORD_CALLS_IN_FLIGHT`].
    pub async fn bot_token<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(Some(&self.slots), call).await
    }

    /// Runs one bot-token call that may come late, after every other bot-token call waiting (see
    /// [`Priority::AfterTheRest`]), within [`MAX_LATE_CALLS_IN_FLIGHT`].
    pub async fn late_bot_token<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(Some(&self.late_slots), call).await
    }

    /// Runs one call with an interaction token (the first response, edits of the reply, follow-ups): outside
    /// the bound on bot-token calls, as Discord keeps them outside its global limit, so an acknowledgement
    /// or an announcement never waits behind a burst of pins; within [`MAX_INTERACTION_CALLS_IN_FLIGHT`] of
    /// their own.
    pub async fn interaction<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(Some(&self.interaction_slots), call).await
    }

    /// Runs one Discord REST call, within `slots` if given, repeating it once after a 429.
    ///
    /// With `DISCORD_RATELIMIT=local` the rate limiter (`discord::transport::ratelimit`) waits out 429s itself
    /// and a 429 reaches here only after its repeats; behind a proxy (`proxy`) one can reach us at once. One
    /// retry after [`RATE_LIMIT_PAUSE`] still fits in Discord's 3 seconds for the acknowledgement; a retry
    /// storm would get the bot's IP banned.
    ///
    /// The call's future is boxed, so it takes memory only while it runs: serenity's request futures are
    /// kilobytes, and inlined they made every command's task 12 KB from the start, even while it waited its
    /// turn. Callers keep their own state small too (ids, not whole `Message`s).
    async fn rest<T, F, Fut>(&self, slots: Option<&Semaphore>, mut call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        let mut retried = false;
        loop {
            // The semaphore is never closed; if it were, going ahead without a permit is the safe failure.
            let slot = match slots {
                Some(slots) => slots.acquire().await.ok(),
                None => None,
            };
            let result = Box::pin(call()).await;
            drop(slot);
            match result {
                Err(error) if !retried && is_rate_limited(&error) => {
                    if self.rate_limits_by_proxy {
                        self.metrics.discord_rate_limited("user");
                    }
                    tracing::warn!(%error, "Discord rate-limited a call; retrying once");
                    retried = true;
                    tokio::time::sleep(RATE_LIMIT_PAUSE).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An unsuccessful answer as serenity reads it from Discord.
    async fn answered(status: u16, body: serde_json::Value) -> serenity::Error {
        let response = axum::http::Response::builder().status(status).body(body.to_string()).unwrap_or_default();
        let response = serenity::http::ErrorResponse::from_response(response.into(), reqwest::Method::PATCH).await;
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
    }

    fn rate_limit() -> serde_json::Value {
        serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.4, "global": false})
    }

    fn calls() -> DiscordCalls {
        DiscordCalls::new(Arc::new(Metrics::default()))
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_is_waited_out_and_tried_once_more_and_no_more() {
        let made = AtomicUsize::new(0);
        let first_limited = calls()
            .interaction(|| async {
                match made.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(answered(429, rate_limit()).await),
                    _ => Ok("edited"),
                }
            })
            .await;
        assert_eq!((first_limited.ok(), made.swap(0, Ordering::SeqCst)), (Some("edited"), 2));

        let always_limited: serenity::Result<()> = calls()
            .bot_token(|| async {
                made.fetch_add(1, Ordering::SeqCst);
                Err(answered(429, rate_limit()).await)
            })
            .await;
        assert!(always_limited.as_ref().is_err_and(is_rate_limited));
        assert_eq!(made.swap(0, Ordering::SeqCst), 2, "one retry, not a storm");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_with_a_code_of_its_own_is_a_refusal_not_repeated() {
        let made = AtomicUsize::new(0);
        let old_message = serde_json::json!({"code": 30046, "message": "Maximum number of edits to messages older than 1 hour reached. Try again later"});
        let refused: serenity::Result<()> = calls()
            .interaction(|| async {
                made.fetch_add(1, Ordering::SeqCst);
                Err(answered(429, old_message.clone()).await)
            })
            .await;
        let error = refused.unwrap_err();
        assert!(!is_rate_limited(&error));
        assert_eq!(discord_code(&error), Some(30046));
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    /// Which of the two bounds a call is under.
    #[derive(Clone, Copy)]
    enum Kind {
        BotToken,
        Interaction,
    }

    /// Calls of one kind, `bound + 8` of them, each held until `gate` opens; with what is in flight now and
    /// the most that ever was.
    struct Held {
        calls: Arc<DiscordCalls>,
        gate: Arc<tokio::sync::Semaphore>,
        in_flight: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
        tasks: tokio::task::JoinSet<serenity::Result<()>>,
    }

    async fn hold(kind: Kind, bound: usize) -> Held {
        let calls = Arc::new(calls());
        let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..bound + 8 {
            let (calls, in_flight, most, gate) = (calls.clone(), in_flight.clone(), most.clone(), gate.clone());
            tasks.spawn(async move {
                let call = || async {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let _pass = gate.acquire().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                };
                match kind {
                    Kind::BotToken => calls.bot_token(call).await,
                    Kind::Interaction => calls.interaction(call).await,
                }
            });
        }
        while in_flight.load(Ordering::SeqCst) < bound {
            tokio::task::yield_now().await;
        }
        Held { calls, gate, in_flight, most, tasks }
    }

    impl Held {
        /// Lets every call finish, and checks that no more than `bound` were ever in flight.
        async fn release(mut self, bound: usize) {
            self.gate.add_permits(bound + 8);
            while let Some(done) = self.tasks.join_next().await {
                assert!(done.is_ok_and(|call| call.is_ok()));
            }
            assert_eq!((self.most.load(Ordering::SeqCst), self.in_flight.load(Ordering::SeqCst)), (bound, 0));
        }
    }

    #[tokio::test]
    async fn bot_token_calls_wait_for_a_slot_and_interaction_calls_never_wait_for_one() {
        let held = hold(Kind::BotToken, MAX_DISCORD_CALLS_IN_FLIGHT).await;
        // Every slot is taken: an acknowledgement still goes at once, without waiting for any.
        let acknowledged =
            futures_util::FutureExt::now_or_never(held.calls.interaction(|| async { Ok("acknowledged") }));
        assert_eq!(acknowledged.and_then(Result::ok), Some("acknowledged"), "an interaction call waited for a slot");
        let pin = futures_util::FutureExt::now_or_never(held.calls.bot_token(|| async { Ok("pinned") }));
        assert!(pin.is_none(), "a bot-token call went ahead with every slot taken");
        held.release(MAX_DISCORD_CALLS_IN_FLIGHT).await;
    }

    #[tokio::test]
    async fn interaction_calls_have_a_bound_of_their_own() {
        let held = hold(Kind::Interaction, MAX_INTERACTION_CALLS_IN_FLIGHT).await;
        // Every interaction slot is taken: a pin still goes, and the next acknowledgement waits its turn.
        let pin = futures_util::FutureExt::now_or_never(held.calls.bot_token(|| async { Ok("pinned") }));
        assert_eq!(pin.and_then(Result::ok), Some("pinned"), "a bot-token call waited for an interaction slot");
        let next = futures_util::FutureExt::now_or_never(held.calls.interaction(|| async { Ok("acknowledged") }));
        assert!(next.is_none(), "an interaction call went ahead with every interaction slot taken");
        held.release(MAX_INTERACTION_CALLS_IN_FLIGHT).await;
    }
}
