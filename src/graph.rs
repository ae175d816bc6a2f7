//! The only code that speaks HTTP to Microsoft: the client-credentials token, the few onlineMeeting calls,
//! Graph's error bodies turned into [`GraphError`], and retries that honour `Retry-After`.
//!
//! It knows nothing of Discord. Callers ask for a [`Meeting`] with a [`MeetingRequest`] and get back either
//! the meeting (and whether it was created or reused) or an error whose
//! [`user_message`](GraphError::user_message) says how to fix it.
//!
//! Facts this module relies on (Microsoft's Graph documentation, linked on each method):
//! - `POST /v1.0/users/{organizer}/onlineMeetings/createOrGet` answers 201 when it created the meeting and
//!   200 when the `externalId` already had one, so repeating it (retries, restarts, two bot processes)
//!   never makes a second meeting. It takes no lobby settings; a PATCH applies them whenever the meeting
//!   Graph returns has other ones (not only after a 201: see [`GraphClient::meeting_now`]).
//! - `POST /v1.0/users/{organizer}/onlineMeetings` makes a separate meeting and is *not* idempotent: it is
//!   retried only when the request can't have reached Graph (connection refused, 429, 503).
//! - Both need the application permission `OnlineMeetings.ReadWrite.All` and an application access policy.

mod attendance;
mod auth;
mod calls;
mod error;
mod retry;
mod subscriptions;
mod wire;

pub(crate) use auth::is_untrusted_certificate;
pub use calls::{
    is_not_found, Call, CallState, Invitation, InviteOperation, MeetingCoordinates, Person, ResultInfo,
    MAX_SUGGESTIONS, RING_ROLES,
};
pub(crate) use error::untrusted_certificate_message;
pub use error::{ApiError, GraphError, TokenError, ATTENDANCE_ROLE};
pub use retry::{RetryPolicy, MAX_RETRY_AFTER};
pub use subscriptions::{call_events_resource, Move, NewSubscription, Subscribed, Subscription};
pub use wire::MeetingShapeError;

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use time::OffsetDateTime;

use crate::config::GraphConfig;
use crate::meeting::{rfc3339, Meeting, MeetingRequest, Origin};
use crate::metrics::Metrics;
use crate::telemetry::Chain;
use auth::TokenCache;
use retry::Repeat;
use wire::{CreateBody, CreateOrGetBody, LobbyBypassSettings, LobbyBypassWire, LobbyPatchBody, OnlineMeetingWire};

/// The application permission meetnow needs.
pub const REQUIRED_ROLE: &str = "OnlineMeetings.ReadWrite.All";

/// Graph requests in flight at once. Over HTTP/1.1 each one holds a connection and its buffers, so a burst
/// of thousands of commands would otherwise open thousands of connections; queued requests reuse the
/// pooled ones instead. Well above what 200 simultaneous incidents need, and within Graph's limit for
/// cloud-communications resources (5,000 requests per 10 s per app).
pub const MAX_REQUESTS_IN_FLIGHT: usize = 256;

/// What the app's token says about it, for `meetnow check`.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    /// The app roles in the token, e.g. `OnlineMeetings.ReadWrite.All`.
    pub roles: Vec<String>,
    /// The tenant's id (a GUID), from the token.
    pub tenant_id: Option<String>,
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
    /// `GRAPH_ENDPOINT`, for the beta subscriptions.
    graph_endpoint: Url,
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

impl GraphClient {
    /// A client that uses `http` (share it with serenity: one connection pool, one TLS stack) and records
    /// into `metrics` (the caller's, shared with the bot and the metrics listener).
    pub fn new(http: reqwest::Client, config: &GraphConfig, metrics: Arc<Metrics>) -> Self {
        Self::with_policy(http, config, RetryPolicy::default(), metrics)
    }

    /// [`GraphClient::new`] with other time limits (tests use short ones).
    pub fn with_policy(
        http: reqwest::Client,
        config: &GraphConfig,
        policy: RetryPolicy,
        metrics: Arc<Metrics>,
    ) -> Self {
        let mut meetings_url = config.graph_endpoint.clone();
        if let Ok(mut segments) = meetings_url.path_segments_mut() {
            segments.pop_if_empty().extend(["v1.0", "users", &config.organizer_id, "onlineMeetings"]);
        }
        Self {
            inner: Arc::new(Inner {
                http: http.clone(),
                tokens: Arc::new(TokenCache::new(http, config, policy.attempt_timeout, metrics.clone())),
                policy,
                meetings_url,
                graph_endpoint: config.graph_endpoint.clone(),
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

    /// Keeps the token fresh, replacing it at three quarters of its lifetime, so no command waits for sign-in.
    /// Never ends: the caller runs it as a background task and drops it when done.
    pub fn token_refresh(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.inner.tokens.clone().refresh_ahead()
    }

    /// Signs in and reports what the token grants.
    ///
    /// # Errors
    /// [`GraphError::Token`] when sign-in fails.
    pub async fn token_info(&self) -> Result<TokenInfo, GraphError> {
        let token = self.inner.tokens.get().await?;
        Ok(TokenInfo { roles: token.roles(), tenant_id: token.tenant_id() })
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
        self.send(method, url, Some(body), repeat, |answer| {
            let origin = if answer.status == StatusCode::CREATED { Origin::Created } else { Origin::Reused };
            let (mut meeting, lobby) = OnlineMeetingWire::parse(&answer.body)?.into_meeting_and_lobby(origin)?;
            meeting.request_id = answer.request_id();
            Ok((meeting, lobby))
        })
        .await
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
        if let Err(error) = self.graph.send(Method::PATCH, url, Some(&body), Repeat::Safe, |_| Ok(())).await {
            tracing::warn!(error = %Chain(&error), meeting_id = %self.meeting_id, "could not apply lobby settings; the tenant's default lobby applies");
        }
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
        if let Ok(token) = serde_json::from_slice::<TokenResponse>(bytes) {
            // And the arithmetic the lifetime feeds, which parsing alone does not reach.
            let lifetime = super::auth::token_lifetime(token.expires_in.as_deref());
            let _ = super::auth::token_schedule(tokio::time::Instant::now(), lifetime);
        }
        let _ = serde_json::from_slice::<TokenErrorBody>(bytes);
    }

    /// A `Retry-After` header value, and the waits it leads to.
    pub fn retry_after(bytes: &[u8]) {
        if let Some(wait) = super::retry::retry_after(bytes) {
            let _ = tokio::time::Instant::now() + wait;
        }
    }
}
