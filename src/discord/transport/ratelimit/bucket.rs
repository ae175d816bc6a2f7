//! One rate-limit bucket (a route and its major parameter): what Discord's `X-RateLimit-*` headers last said
//! of it, and the order requests wait in. A bucket not yet described lets one request through and holds
//! the rest until that answer has told it the numbers.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// One bucket: `gate` orders the requests that wait on it; `state` is what Discord last said.
#[derive(Default)]
pub(super) struct Bucket {
    gate: tokio::sync::Mutex<()>,
    state: Mutex<BucketState>,
}

#[derive(Default, Clone, Copy)]
struct BucketState {
    /// Discord has described this bucket (or said it has no limit).
    known: bool,
    remaining: u32,
    limit: u32,
    reset_at: Option<Instant>,
}

/// Holds a bucket's gate while the first request on a bucket Discord has not described yet is answered.
pub(super) struct Probe<'a>(#[allow(dead_code)] Option<tokio::sync::MutexGuard<'a, ()>>);

impl Bucket {
    /// Waits until a request may go on this bucket.
    pub(super) async fn admit(&self) -> Probe<'_> {
        let gate = self.gate.lock().await;
        loop {
            let now = Instant::now();
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.reset_at.is_some_and(|reset| now >= reset) {
                    state.remaining = state.limit;
                    state.reset_at = None;
                }
                if !state.known {
                    // Hold the gate until the answer describes the bucket: the first burst goes out one at first.
                    return Probe(Some(gate));
                }
                if state.remaining > 0 {
                    state.remaining -= 1;
                    return Probe(None);
                }
                match state.reset_at {
                    Some(reset) => reset,
                    // Used up with no reset known: ask once, and learn.
                    None => return Probe(Some(gate)),
                }
            };
            tokio::time::sleep_until(wait).await;
        }
    }

    /// What Discord's answer says about the bucket. An answer without the headers means no limit.
    pub(super) fn learn(&self, headers: &reqwest::header::HeaderMap) {
        // `NaN`, `inf` and negative numbers parse as f64; none of them is a count or a time Discord would send,
        // and `Duration::from_secs_f64` panics on them: such a header is no header.
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (Some(limit), Some(remaining), Some(reset_after)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"), number("x-ratelimit-reset-after"))
        else {
            if !state.known {
                *state = BucketState { known: true, remaining: u32::MAX, limit: u32::MAX, reset_at: None };
            }
            return;
        };
        let reset_at = Instant::now() + Duration::from_secs_f64(reset_after.clamp(0.0, 3600.0));
        let remaining = remaining.clamp(0.0, f64::from(u32::MAX)) as u32;
        // Answers to requests sent at once come back in any order: within one window, the lowest count wins.
        let same_window = state
            .reset_at
            .is_some_and(|current| current.max(reset_at) - current.min(reset_at) < Duration::from_millis(500));
        state.remaining = if state.known && same_window { state.remaining.min(remaining) } else { remaining };
        state.limit = limit.clamp(1.0, f64::from(u32::MAX)) as u32;
        state.reset_at = Some(reset_at);
        state.known = true;
    }

    /// After a 429: nothing more on this bucket until `until`.
    pub(super) fn exhaust_until(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The 429's `retry_after` is the truth now, whatever the bucket's headers said before.
        state.remaining = 0;
        state.reset_at = Some(until);
        state.known = true;
    }

    /// Whether nothing waits on the bucket and its window has passed: it can be forgotten.
    pub(super) fn idle(&self, now: Instant) -> bool {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.reset_at.is_none_or(|reset| reset <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_headers_are_ignored_not_a_panic() {
        let bucket = Bucket::default();
        for (limit, remaining, reset_after) in
            [("5", "4", "NaN"), ("5", "NaN", "1"), ("inf", "4", "1"), ("5", "4", "-inf"), ("5", "-3", "1e400")]
        {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-ratelimit-limit", limit.parse().unwrap());
            headers.insert("x-ratelimit-remaining", remaining.parse().unwrap());
            headers.insert("x-ratelimit-reset-after", reset_after.parse().unwrap());
            bucket.learn(&headers);
        }
        let state = *bucket.state.lock().unwrap();
        assert!(state.known && state.reset_at.is_none(), "taken as a bucket without limits");
        let refusal = super::super::route::RateLimited::read(
            &reqwest::header::HeaderMap::new(),
            br#"{"message":"Maximum number of edits to messages older than 1 hour reached. Try again later.","code":30046,"retry_after":20}"#,
        );
        assert!(refusal.refusal, "30046 is the caller's to act on, not a window to wait out");
        assert!(
            !super::super::route::RateLimited::read(
                &reqwest::header::HeaderMap::new(),
                br#"{"retry_after":1,"code":0}"#
            )
            .refusal
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_waits_for_its_reset_once_used_up_and_probes_when_unknown() {
        let bucket = Bucket::default();
        let probe = bucket.admit().await;
        assert!(probe.0.is_some(), "the first request on an unknown bucket is a probe");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-limit", "2".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "1".parse().unwrap());
        headers.insert("x-ratelimit-reset-after", "2.000".parse().unwrap());
        bucket.learn(&headers);
        drop(probe);
        let start = Instant::now();
        assert!(bucket.admit().await.0.is_none());
        assert!(start.elapsed() < Duration::from_millis(10), "one left: at once");
        bucket.admit().await;
        assert!(start.elapsed() >= Duration::from_secs(2), "used up: after the reset");
    }
}
