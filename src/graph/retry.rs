//! How one Graph request is sent: a deadline for everything (sign-in, a free slot, every attempt and every
//! wait), retries that honour `Retry-After`, a fresh token after a 401, and Graph's answer turned into a
//! value or a [`GraphError`].
//!
//! Whether a request may be repeated depends on what it does ([`Repeat`]): createOrGet and PATCH always,
//! a plain POST only when it can't have reached Graph. Everything a server sends that feeds arithmetic
//! (`Retry-After`) is clamped first, so no answer can make the bot panic or wait for days.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng as _;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use super::auth;
use super::wire::ErrorEnvelope;
use super::{ApiError, GraphClient, GraphError, MeetingShapeError, TokenError};
use crate::http::{read_capped, transport_kind, TooLong};

/// The longest `Retry-After` taken as given; a longer one (or a nonsense one) is read as this. Far beyond any
/// budget, so the request is reported as throttled at once, with a wait a person can act on.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// The longest Graph answer read: a meeting is a few KB and a page of 100 attendance records well under 1 MB.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// How long Graph calls may take, all retries included.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Everything (token, retries, waits) must end within this; a person is waiting.
    pub budget: Duration,
    /// One HTTP attempt may take at most this long.
    pub attempt_timeout: Duration,
    /// First backoff without `Retry-After`; doubles each attempt, with jitter.
    pub first_backoff: Duration,
    /// Backoffs never exceed this.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(10),
            attempt_timeout: Duration::from_secs(6),
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// The least time worth giving an attempt: Graph answers createOrGet in a few hundred milliseconds.
    pub(super) fn shortest_attempt(&self) -> Duration {
        self.attempt_timeout.min(Duration::from_millis(500))
    }

    /// The wait before retry number `retry` (1-based) when Graph gave no `Retry-After`:
    /// exponential, capped, with "equal jitter" (half fixed, half random) so retries of many commands spread out.
    fn backoff(&self, retry: u32) -> Duration {
        let exponential = self.first_backoff.saturating_mul(1 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(rand::thread_rng().gen::<f64>())
    }
}

/// One HTTP answer, fully read.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    headers: HeaderMap,
    pub(super) body: Bytes,
    client_request_id: String,
}

impl Answer {
    pub(super) fn request_id(&self) -> Option<String> {
        self.headers.get("request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    fn api_error(&self) -> ApiError {
        let body = serde_json::from_slice::<ErrorEnvelope>(&self.body).ok().and_then(|e| e.error);
        let (code, message, inner) = body.map_or((None, None, None), |b| (b.code, b.message, b.inner_error));
        ApiError {
            status: self.status.as_u16(),
            code,
            message,
            request_id: self.request_id().or_else(|| inner.and_then(|i| i.request_id)),
            client_request_id: self.client_request_id.clone(),
        }
    }

    /// `Retry-After` in seconds (Graph sends seconds; an HTTP date is treated as absent), at most
    /// [`MAX_RETRY_AFTER`].
    fn retry_after(&self) -> Option<Duration> {
        retry_after(self.headers.get(RETRY_AFTER)?.as_bytes())
    }
}

/// Whether repeating a request can create something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// createOrGet and PATCH: the same request twice has the effect of once.
    Safe,
    /// A plain POST: repeat only when it can't have reached Graph.
    OnlyIfNotDelivered,
}

/// A `Retry-After` header's value as a wait: whole seconds, clamped to [`MAX_RETRY_AFTER`]. `None` for
/// anything else (an HTTP date, garbage), which then means "back off as usual".
pub fn retry_after(value: &[u8]) -> Option<Duration> {
    let seconds = std::str::from_utf8(value).ok()?.trim();
    if seconds.is_empty() || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // All digits: too many of them for a u64 is simply "very long".
    let seconds = seconds.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

impl GraphClient {
    /// Sends one Graph request with retries. `read` turns a 2xx answer into the result; when it fails on a
    /// request that is safe to repeat (a truncated body, say), the request is repeated like a 503.
    pub(super) async fn send<T>(
        &self,
        method: Method,
        url: Url,
        body: Option<&impl serde::Serialize>,
        repeat: Repeat,
        read: impl Fn(&Answer) -> Result<T, MeetingShapeError>,
    ) -> Result<T, GraphError> {
        self.send_with_headers(method, url, body, &[], repeat, read).await
    }

    /// [`GraphClient::send`] with request headers of its own (the directory's `ConsistencyLevel`).
    pub(super) async fn send_with_headers<T>(
        &self,
        method: Method,
        url: Url,
        body: Option<&impl serde::Serialize>,
        headers: &[(&'static str, &'static str)],
        repeat: Repeat,
        read: impl Fn(&Answer) -> Result<T, MeetingShapeError>,
    ) -> Result<T, GraphError> {
        let policy = self.inner.policy;
        let deadline = Instant::now() + policy.budget;
        let body = body
            .map(|body| serde_json::to_vec(body).map(Bytes::from))
            .transpose()
            .map_err(|e| GraphError::unavailable(format!("could not encode the request: {e}")))?;
        let mut retries = 0u32;
        let mut token_renewed = false;

        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            // What to report if time runs out now, and how long Graph asked us to wait.
            let (failure, asked_wait): (GraphError, Option<Duration>) = match self
                .attempt(&method, &url, &body, headers, deadline, remaining.min(policy.attempt_timeout))
                .await
            {
                Err(Attempt::Token(unavailable @ TokenError::Unavailable { .. })) => {
                    (GraphError::Token(unavailable), None)
                }
                Err(Attempt::Token(other)) => return Err(other.into()),
                // Trust does not change by asking again: the fix is the host's CA store.
                Err(Attempt::Untrusted { host, source }) => {
                    return Err(GraphError::UntrustedCertificate { host, source })
                }
                Err(Attempt::Transport { detail, delivered, source }) => {
                    let failure = GraphError::Unavailable { detail, api: None, source };
                    if delivered && repeat == Repeat::OnlyIfNotDelivered {
                        return Err(failure);
                    }
                    (failure, None)
                }
                Ok((answer, token)) => {
                    let status = answer.status;
                    tracing::debug!(
                        %method, status = status.as_u16(), request_id = answer.request_id().as_deref(),
                        client_request_id = %answer.client_request_id, "graph answered"
                    );
                    if status.is_success() {
                        match read(&answer) {
                            Ok(value) => return Ok(value),
                            Err(problem) => {
                                let failure = GraphError::UnexpectedResponse {
                                    status: status.as_u16(),
                                    request_id: answer.request_id(),
                                    problem,
                                };
                                if repeat == Repeat::OnlyIfNotDelivered {
                                    return Err(failure);
                                }
                                (failure, None)
                            }
                        }
                    } else if status == StatusCode::UNAUTHORIZED && !token_renewed {
                        // The token may have been revoked or rotated: one fresh token, one more try.
                        self.inner.tokens.invalidate(&token);
                        token_renewed = true;
                        continue;
                    } else if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = answer.retry_after();
                        (GraphError::Throttled { retry_after: wait, last: answer.api_error() }, wait)
                    } else if status == StatusCode::SERVICE_UNAVAILABLE
                        || (repeat == Repeat::Safe
                            && matches!(status, StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT))
                    {
                        let wait = answer.retry_after();
                        let api = answer.api_error();
                        (GraphError::Unavailable { detail: api.to_string(), api: Some(api), source: None }, wait)
                    } else {
                        return Err(self.classify(&answer));
                    }
                }
            };

            retries += 1;
            let wait = asked_wait.unwrap_or_else(|| policy.backoff(retries));
            // A retry needs time to succeed; one squeezed into the end of the budget would only time out and
            // replace the failure we know (throttled, unreadable, ...) with a less accurate "not answering".
            if Instant::now() + wait + policy.shortest_attempt() > deadline {
                tracing::debug!(retries, kind = failure.kind(), "graph retry budget exhausted");
                return Err(failure);
            }
            tracing::debug!(
                retries,
                wait_ms = wait.as_millis() as u64,
                kind = failure.kind(),
                "retrying graph request"
            );
            self.inner.metrics.graph_retry();
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: a token, a slot among the requests in flight, the request. Waiting for the first two counts
    /// against `deadline` like everything else: with Entra hanging or a thousand requests queued, the command
    /// still ends within its budget.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: &Option<Bytes>,
        headers: &[(&'static str, &'static str)],
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(Answer, Arc<auth::CachedToken>), Attempt> {
        if timeout.is_zero() {
            return Err(Attempt::Transport { detail: "time budget used up".into(), delivered: false, source: None });
        }
        let token = match tokio::time::timeout_at(deadline, self.inner.tokens.get()).await {
            Ok(token) => token.map_err(Attempt::Token)?,
            Err(_) => {
                let detail = "Microsoft sign-in did not answer within the time limit".to_owned();
                return Err(Attempt::Token(TokenError::Unavailable { detail, source: None }));
            }
        };
        let client_request_id = new_request_id();
        let Ok(slot) = tokio::time::timeout_at(deadline, self.inner.in_flight.acquire()).await else {
            let detail = "every connection to Graph stayed busy until the time limit".to_owned();
            return Err(Attempt::Transport { detail, delivered: false, source: None });
        };
        // The semaphore is never closed; if it were, going ahead without a permit is the safe failure.
        let _slot = slot.ok();
        let timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
        let sent = Instant::now();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, token.authorization.clone())
            .header("client-request-id", &client_request_id)
            .header("Prefer", "include-unknown-enum-members")
            .timeout(timeout);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        let response = request.send().await.map_err(|e| {
            self.inner.metrics.graph_request(sent.elapsed(), None);
            if auth::is_untrusted_certificate(&e) {
                let host = e.url().and_then(|u| u.host_str()).unwrap_or("Graph").to_owned();
                return Attempt::Untrusted { host, source: super::error::Cause::new(e.without_url()) };
            }
            // Connection errors happen before anything was sent; anything else may have reached Graph.
            Attempt::transport(e.is_connect(), e)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = match read_capped(response, MAX_RESPONSE_BYTES).await {
            Ok(body) => body,
            Err(TooLong::Transport(e)) => return Err(Attempt::transport(false, e)),
            Err(TooLong::Over(cap)) => {
                let detail = format!("Graph's answer was longer than {cap} bytes");
                return Err(Attempt::Transport { detail, delivered: true, source: None });
            }
        };
        self.inner.metrics.graph_request(sent.elapsed(), Some(status.as_u16()));
        Ok((Answer { status, headers, body, client_request_id }, token))
    }

    pub(super) fn classify(&self, answer: &Answer) -> GraphError {
        let api = answer.api_error();
        let message = api.message.as_deref().unwrap_or_default().to_ascii_lowercase();
        match answer.status {
            StatusCode::FORBIDDEN if message.contains("application access policy") => GraphError::AccessPolicyMissing {
                client_id: self.inner.client_id.clone(),
                organizer_id: self.inner.organizer_id.clone(),
                api,
            },
            StatusCode::FORBIDDEN => GraphError::Forbidden(api),
            StatusCode::NOT_FOUND => {
                GraphError::OrganizerNotFound { organizer_id: self.inner.organizer_id.clone(), api }
            }
            StatusCode::UNAUTHORIZED => GraphError::Unauthorized(api),
            status if status.is_server_error() => {
                GraphError::Unavailable { detail: api.to_string(), api: Some(api), source: None }
            }
            _ => GraphError::Refused(api),
        }
    }
}

/// Why one attempt produced no HTTP answer.
pub(super) enum Attempt {
    Token(TokenError),
    /// The TLS handshake failed on a certificate this host does not trust.
    Untrusted {
        host: String,
        source: super::error::Cause,
    },
    /// `delivered`: the request may have reached Graph (timeout, reset), so a POST may have taken effect.
    Transport {
        detail: String,
        delivered: bool,
        source: Option<super::error::Cause>,
    },
}

impl Attempt {
    /// A transport error, kept whole (without its URL) under a summary; `before_sending`: it can't have
    /// reached Graph.
    fn transport(before_sending: bool, error: reqwest::Error) -> Self {
        Self::Transport {
            detail: transport_kind(&error).to_owned(),
            delivered: !before_sending,
            source: Some(super::error::Cause::new(error.without_url())),
        }
    }
}

/// A random (version 4) UUID for `client-request-id`.
fn new_request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = RetryPolicy::default();
        for retry in 1..20 {
            let wait = policy.backoff(retry);
            let ceiling = policy.first_backoff.saturating_mul(1 << (retry - 1).min(16)).min(policy.max_backoff);
            assert!(
                wait >= ceiling / 2 && wait <= ceiling,
                "retry {retry}: {wait:?} outside [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
        let samples: std::collections::HashSet<_> = (0..20).map(|_| policy.backoff(5)).collect();
        assert!(samples.len() > 1, "jitter spreads retries");
    }

    #[test]
    fn retry_after_is_whole_seconds_clamped_to_an_hour() {
        assert_eq!(retry_after(b"7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(b" 0 "), Some(Duration::ZERO));
        assert_eq!(retry_after(b"18446744073709551615"), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after(b"99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        for garbage in [&b""[..], b"-1", b"1.5", b"Wed, 21 Oct 2015 07:28:00 GMT", b"\xff"] {
            assert_eq!(retry_after(garbage), None);
        }
    }

    proptest::proptest! {
        /// Whatever a server sends, the wait it leads to can be added to now and to a deadline.
        #[test]
        fn any_retry_after_gives_a_wait_that_fits(value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), digits in "[0-9]{1,40}") {
            for value in [value, digits.into_bytes()] {
                if let Some(wait) = retry_after(&value) {
                    proptest::prop_assert!(wait <= MAX_RETRY_AFTER);
                    let _ = Instant::now() + wait + RetryPolicy::default().shortest_attempt();
                }
            }
        }
    }

    #[test]
    fn request_ids_are_fresh_uuids() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert!(crate::config::parse::is_guid(&a));
        assert_eq!(a.as_bytes()[14], b'4', "version 4");
    }
}
