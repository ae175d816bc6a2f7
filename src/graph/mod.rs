//! The only code that speaks HTTP to Microsoft: the client-credentials token, the few onlineMeeting calls,
//! Graph's error bodies turned into [`GraphError`], and retries that honour `Retry-After`.
//!
//! It knows nothing of Discord. Callers ask for a [`Meeting`] with a [`MeetingRequest`] and get back either
//! the meeting (and whether it was created or reused) or an error whose
//! [`user_message`](GraphError::user_message) says how to fix it.
//!
//! Facts this module relies on (see `docs/graph.md`):
//! - `POST /v1.0/users/{organizer}/onlineMeetings/createOrGet` answers 201 when it created the meeting and
//!   200 when the `externalId` already had one, so repeating it (retries, restarts, two bot processes)
//!   never makes a second meeting. It takes no lobby settings; a PATCH applies them whenever the meeting
//!   Graph returns has other ones (not only after a 201: see [`GraphClient::meeting_now`]).
//! - `POST /v1.0/users/{organizer}/onlineMeetings` makes a separate meeting and is *not* idempotent: it is
//!   retried only when the request can't have reached Graph (connection refused, 429, 503).
//! - Both need the application permission `OnlineMeetings.ReadWrite.All` and an application access policy.

mod auth;
mod error;
mod wire;

pub use error::{ApiError, GraphError, TokenError};
pub use wire::MeetingShapeError;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng as _;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::config::GraphConfig;
use crate::meeting::{rfc3339, Meeting, MeetingRequest, Origin};
use crate::metrics::Metrics;
use auth::{describe_transport_error, TokenCache};
use wire::{
    CreateBody, CreateOrGetBody, ErrorEnvelope, LobbyBypassSettings, LobbyBypassWire, LobbyPatchBody, OnlineMeetingWire,
};

/// The application permission meetnow needs.
pub const REQUIRED_ROLE: &str = "OnlineMeetings.ReadWrite.All";

/// Graph requests in flight at once. Over HTTP/1.1 each one holds a connection and its buffers, so a burst
/// of thousands of commands would otherwise open thousands of connections; queued requests reuse the
/// pooled ones instead. Well above what 200 simultaneous incidents need, and within Graph's limit for
/// cloud-communications resources (5,000 requests per 10 s per app).
pub const MAX_REQUESTS_IN_FLIGHT: usize = 256;

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
    fn shortest_attempt(&self) -> Duration {
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

/// What the app's token says about it, for `meetnow check`.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The app roles in the token, e.g. `OnlineMeetings.ReadWrite.All`.
    pub roles: Vec<String>,
}

/// A cheap-to-clone handle on the Graph client; clones share the token cache and connections.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    tokens: Arc<TokenCache>,
    policy: RetryPolicy,
    /// `{GRAPH_ENDPOINT}/v1.0/users/{organizer}/onlineMeetings`
    meetings_url: Url,
    client_id: String,
    organizer_id: String,
    lobby: (&'static str, bool),
    duration: Duration,
    /// Permits for [`MAX_REQUESTS_IN_FLIGHT`].
    in_flight: tokio::sync::Semaphore,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("meetings_url", &self.inner.meetings_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

/// One HTTP answer, fully read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    client_request_id: String,
}

impl Answer {
    fn request_id(&self) -> Option<String> {
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

    /// `Retry-After` in seconds (Graph sends seconds; an HTTP date is treated as absent).
    fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?;
        value.trim().parse::<u64>().ok().map(Duration::from_secs)
    }
}

/// Whether repeating a request can create something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// createOrGet and PATCH: the same request twice has the effect of once.
    Safe,
    /// A plain POST: repeat only when it can't have reached Graph.
    OnlyIfNotDelivered,
}

impl GraphClient {
    /// A client that uses `http` (share it with serenity: one connection pool, one TLS stack).
    pub fn new(http: reqwest::Client, config: &GraphConfig) -> Self {
        Self::with_policy(http, config, RetryPolicy::default())
    }

    /// [`GraphClient::new`] with other time limits (tests use short ones).
    pub fn with_policy(http: reqwest::Client, config: &GraphConfig, policy: RetryPolicy) -> Self {
        let mut meetings_url = config.graph_endpoint.clone();
        if let Ok(mut segments) = meetings_url.path_segments_mut() {
            segments.pop_if_empty().extend(["v1.0", "users", &config.organizer_id, "onlineMeetings"]);
        }
        let metrics = Arc::new(Metrics::default());
        Self {
            inner: Arc::new(Inner {
                http: http.clone(),
                tokens: Arc::new(TokenCache::new(http, config, policy.attempt_timeout, metrics.clone())),
                policy,
                meetings_url,
                client_id: config.client_id.clone(),
                organizer_id: config.organizer_id.clone(),
                lobby: (config.lobby_bypass.as_graph_str(), config.dial_in_bypass),
                duration: config.duration,
                in_flight: tokio::sync::Semaphore::new(MAX_REQUESTS_IN_FLIGHT),
                metrics,
            }),
        }
    }

    /// Fetches a token now (if none is cached), so the first command doesn't wait for sign-in.
    ///
    /// # Errors
    /// [`GraphError::Token`] when sign-in fails.
    pub async fn sign_in(&self) -> Result<(), GraphError> {
        self.inner.tokens.get().await.map(drop).map_err(GraphError::from)
    }

    /// Keeps the token fresh in the background, replacing it at three quarters of its lifetime, so no command
    /// waits for sign-in. Runs until the returned task is aborted (or the runtime ends).
    pub fn spawn_token_refresh(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.inner.tokens.clone().refresh_ahead())
    }

    /// Signs in and reports what the token grants.
    ///
    /// # Errors
    /// [`GraphError::Token`] when sign-in fails.
    pub async fn token_info(&self) -> Result<TokenInfo, GraphError> {
        let token = self.inner.tokens.get().await?;
        Ok(TokenInfo { roles: token.roles() })
    }

    /// The time limits Graph calls keep to.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.policy
    }

    /// The metrics this client records into (the bot and the metrics listener share them).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.inner.metrics.clone()
    }

    /// The meeting `request` asks for: the standing meeting for its key (created on first use), or a new one,
    /// with the configured lobby settings applied.
    ///
    /// Endpoints: `POST /users/{organizer}/onlineMeetings/createOrGet` (then `PATCH .../{id}` when its lobby
    /// settings are not the configured ones), or `POST /users/{organizer}/onlineMeetings`. Permission:
    /// `OnlineMeetings.ReadWrite.All` (application) plus an application access policy.
    /// <https://learn.microsoft.com/graph/api/onlinemeeting-createorget>
    ///
    /// # Errors
    /// [`GraphError`] once retries within the policy's budget are exhausted or the error is not retryable.
    pub async fn meeting(&self, request: &MeetingRequest) -> Result<Meeting, GraphError> {
        let (meeting, lobby) = self.meeting_now(request).await?;
        if let Some(lobby) = lobby {
            lobby.apply().await;
        }
        Ok(meeting)
    }

    /// As [`GraphClient::meeting`], but returns as soon as the meeting exists. When a standing meeting's lobby
    /// is not what `MEETNOW_LOBBY_BYPASS` and `MEETNOW_DIALIN_BYPASS` ask for (createOrGet can't carry lobby
    /// settings, so a new one never is), that PATCH is returned as a [`LobbyUpdate`] for the caller to run
    /// while it shows the link: the link appears one Graph round trip sooner.
    ///
    /// The comparison is with what Graph returns, not with who created the meeting: a meeting another
    /// process created, or one whose creating call timed out and was answered 200 on retry, or one whose
    /// creator died before its PATCH, still converges to the configured lobby on the next request.
    ///
    /// # Errors
    /// As [`GraphClient::meeting`].
    pub async fn meeting_now(&self, request: &MeetingRequest) -> Result<(Meeting, Option<LobbyUpdate>), GraphError> {
        let start = OffsetDateTime::now_utc();
        let end = start + self.inner.duration;
        match &request.key {
            Some(key) => {
                let body = CreateOrGetBody {
                    external_id: key.external_id(),
                    subject: &request.subject,
                    start_date_time: rfc3339(start),
                    end_date_time: rfc3339(end),
                };
                let url = self.meetings_url(&["createOrGet"]);
                let (meeting, lobby_now) = self.send_for_meeting(Method::POST, url, &body, Repeat::Safe).await?;
                let settled = lobby_now.is_some_and(|lobby| lobby.matches(&self.lobby_settings()));
                let lobby = (!settled).then(|| LobbyUpdate { graph: self.clone(), meeting_id: meeting.id.clone() });
                Ok((meeting, lobby))
            }
            None => {
                let body = CreateBody {
                    subject: &request.subject,
                    start_date_time: rfc3339(start),
                    end_date_time: rfc3339(end),
                    lobby_bypass_settings: self.lobby_settings(),
                };
                let url = self.meetings_url(&[]);
                let (meeting, _) = self.send_for_meeting(Method::POST, url, &body, Repeat::OnlyIfNotDelivered).await?;
                Ok((meeting, None))
            }
        }
    }

    fn lobby_settings(&self) -> LobbyBypassSettings {
        LobbyBypassSettings { scope: self.inner.lobby.0, is_dial_in_bypass_enabled: self.inner.lobby.1 }
    }

    fn meetings_url(&self, extra: &[&str]) -> Url {
        let mut url = self.inner.meetings_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(extra);
        }
        url
    }

    async fn send_for_meeting(
        &self,
        method: Method,
        url: Url,
        body: &impl serde::Serialize,
        repeat: Repeat,
    ) -> Result<(Meeting, Option<LobbyBypassWire>), GraphError> {
        self.send(method, url, body, repeat, |answer| {
            let origin = if answer.status == StatusCode::CREATED { Origin::Created } else { Origin::Reused };
            let (mut meeting, lobby) = OnlineMeetingWire::parse(&answer.body)?.into_meeting_and_lobby(origin)?;
            meeting.request_id = answer.request_id();
            Ok((meeting, lobby))
        })
        .await
    }

    /// Sends one Graph request with retries. `read` turns a 2xx answer into the result; when it fails on a
    /// request that is safe to repeat (a truncated body, say), the request is repeated like a 503.
    async fn send<T>(
        &self,
        method: Method,
        url: Url,
        body: &impl serde::Serialize,
        repeat: Repeat,
        read: impl Fn(&Answer) -> Result<T, MeetingShapeError>,
    ) -> Result<T, GraphError> {
        let policy = self.inner.policy;
        let deadline = Instant::now() + policy.budget;
        let body = Bytes::from(
            serde_json::to_vec(body)
                .map_err(|e| GraphError::Unavailable { detail: format!("could not encode the request: {e}") })?,
        );
        let mut retries = 0u32;
        let mut token_renewed = false;

        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            // What to report if time runs out now, and how long Graph asked us to wait.
            let (failure, asked_wait): (GraphError, Option<Duration>) =
                match self.attempt(&method, &url, &body, remaining.min(policy.attempt_timeout)).await {
                    Err(Attempt::Token(TokenError::Unavailable { detail })) => {
                        (GraphError::Token(TokenError::Unavailable { detail }), None)
                    }
                    Err(Attempt::Token(other)) => return Err(other.into()),
                    Err(Attempt::Transport { detail, delivered }) => {
                        let failure = GraphError::Unavailable { detail };
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
                            (GraphError::Throttled { retry_after: wait, last: answer.api_error().to_string() }, wait)
                        } else if status == StatusCode::SERVICE_UNAVAILABLE
                            || (repeat == Repeat::Safe
                                && matches!(status, StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT))
                        {
                            let wait = answer.retry_after();
                            (GraphError::Unavailable { detail: answer.api_error().to_string() }, wait)
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

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: &Bytes,
        timeout: Duration,
    ) -> Result<(Answer, Arc<auth::CachedToken>), Attempt> {
        if timeout.is_zero() {
            return Err(Attempt::Transport { detail: "time budget used up".into(), delivered: false });
        }
        let token = self.inner.tokens.get().await.map_err(Attempt::Token)?;
        let client_request_id = new_request_id();
        // The semaphore is never closed; if it were, going ahead without a permit is the safe failure.
        let _slot = self.inner.in_flight.acquire().await.ok();
        let sent = Instant::now();
        let response = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, token.authorization.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("client-request-id", &client_request_id)
            .header("Prefer", "include-unknown-enum-members")
            .body(body.clone())
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                self.inner.metrics.graph_request(sent.elapsed(), None);
                Attempt::Transport {
                    // Connection errors happen before anything was sent; anything else may have reached Graph.
                    delivered: !e.is_connect(),
                    detail: describe_transport_error(&e),
                }
            })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Attempt::Transport { delivered: true, detail: describe_transport_error(&e) })?;
        self.inner.metrics.graph_request(sent.elapsed(), Some(status.as_u16()));
        Ok((Answer { status, headers, body, client_request_id }, token))
    }

    fn classify(&self, answer: &Answer) -> GraphError {
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
            status if status.is_server_error() => GraphError::Unavailable { detail: api.to_string() },
            _ => GraphError::Refused(api),
        }
    }
}

/// The lobby settings a new standing meeting still needs (`PATCH /users/{organizer}/onlineMeetings/{id}`).
#[must_use = "the lobby keeps the tenant's defaults unless the update is applied"]
pub struct LobbyUpdate {
    graph: GraphClient,
    meeting_id: String,
}

impl LobbyUpdate {
    /// Applies the configured lobby settings. A failure leaves the tenant's default lobby in place; the meeting
    /// itself is fine, so it is logged, not returned.
    pub async fn apply(self) {
        let body = LobbyPatchBody { lobby_bypass_settings: self.graph.lobby_settings() };
        let url = self.graph.meetings_url(&[&self.meeting_id]);
        if let Err(error) = self.graph.send(Method::PATCH, url, &body, Repeat::Safe, |_| Ok(())).await {
            tracing::warn!(%error, meeting_id = %self.meeting_id, "could not apply lobby settings; the tenant's default lobby applies");
        }
    }
}

/// Why one attempt produced no HTTP answer.
enum Attempt {
    Token(TokenError),
    /// `delivered`: the request may have reached Graph (timeout, reset), so a POST may have taken effect.
    Transport {
        detail: String,
        delivered: bool,
    },
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
    fn request_ids_are_fresh_uuids() {
        let (a, b) = (new_request_id(), new_request_id());
        assert_ne!(a, b);
        assert!(crate::config::is_guid(&a));
        assert_eq!(a.as_bytes()[14], b'4', "version 4");
    }
}

/// Entry points for the fuzz targets in `fuzz/` (see RELIABILITY.md): Graph's response parsers on arbitrary
/// bytes. Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use super::wire::{ErrorEnvelope, OnlineMeetingWire, TokenErrorBody, TokenResponse};
    use crate::meeting::{Meeting, Origin};

    /// A meeting response, as the client reads one.
    pub fn meeting(bytes: &[u8]) -> Option<Meeting> {
        OnlineMeetingWire::parse(bytes).and_then(|m| m.into_meeting(Origin::Created)).ok()
    }

    /// A Graph error body.
    pub fn error(bytes: &[u8]) {
        let _ = serde_json::from_slice::<ErrorEnvelope>(bytes);
    }

    /// A token endpoint response, success or failure.
    pub fn token(bytes: &[u8]) {
        let _ = serde_json::from_slice::<TokenResponse>(bytes);
        let _ = serde_json::from_slice::<TokenErrorBody>(bytes);
    }
}
