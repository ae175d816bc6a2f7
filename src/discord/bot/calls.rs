//! Discord REST calls as the bot makes them: bot-token calls within a bound on calls in flight, calls with
//! an interaction token outside it (Discord keeps them outside its global limit), each repeated once after a
//! 429 that is a rate limit, never after one with an error code of its own (30046).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::HttpError;
use tokio::sync::Semaphore;

use crate::metrics::Metrics;

/// Bot-token Discord REST calls (pins, channel posts, member lookups) in flight at once. Discord lets through
/// 50 a second, so more in flight would only wait inside the rate limiter, each holding its request and its
/// stream: at 2,000 new channels at once, 256 in flight made the peak 101 MB. Calls with an interaction token
/// are not bounded here (see [`DiscordCalls::interaction`]).
pub const MAX_DISCORD_CALLS_IN_FLIGHT: usize = 64;

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
    /// `DISCORD_RATELIMIT=proxy`: a 429 reaches here straight from the proxy, and is counted here.
    rate_limits_by_proxy: bool,
    metrics: Arc<Metrics>,
}

impl DiscordCalls {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { slots: Semaphore::new(MAX_DISCORD_CALLS_IN_FLIGHT), rate_limits_by_proxy: false, metrics }
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

    /// Runs one call with an interaction token (the first response, edits of the reply, follow-ups): outside
    /// the bound on bot-token calls, as Discord keeps them outside its global limit, so an acknowledgement
    /// or an announcement never waits behind a burst of pins.
    pub async fn interaction<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(None, call).await
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
