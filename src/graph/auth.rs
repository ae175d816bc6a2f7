//! The app's Graph token (OAuth 2.0 client credentials), fetched once and shared.
//!
//! Callers read the cached token without waiting. When it is missing or near expiry, the first caller
//! fetches while the others wait on the same fetch (50 simultaneous meetings cause one token request).
//! [`TokenCache::refresh_ahead`] keeps the token fresh in the background, so a command normally never
//! waits for sign-in. The secret and the token live in `SecretString`s and are never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::error::TokenError;
use super::wire::{TokenErrorBody, TokenResponse};
use crate::config::GraphConfig;
use crate::metrics::Metrics;

/// How long before expiry a token stops being handed out (a request must not start with a dying token).
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A bearer token and when to stop using it.
pub(crate) struct CachedToken {
    pub(crate) value: SecretString,
    /// `Bearer {value}`, built once per token rather than per request; marked sensitive.
    pub(crate) authorization: HeaderValue,
    /// After this, `get` fetches a new token before answering.
    usable_until: Instant,
    /// When the background task should replace it (well before `usable_until`).
    refresh_at: Instant,
    generation: u64,
}

impl CachedToken {
    /// The app roles (`roles` claim) the token carries, e.g. `OnlineMeetings.ReadWrite.All`.
    /// Empty when the token is not a readable JWT.
    pub(crate) fn roles(&self) -> Vec<String> {
        let claims = self
            .value
            .expose_secret()
            .split('.')
            .nth(1)
            .and_then(|payload| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()
            })
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok());
        claims
            .as_ref()
            .and_then(|c| c.get("roles"))
            .and_then(|r| r.as_array())
            .map(|roles| roles.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

pub(crate) struct TokenCache {
    http: reqwest::Client,
    token_url: String,
    tenant_id: String,
    client_id: String,
    client_secret: SecretString,
    scope: String,
    request_timeout: Duration,
    current: RwLock<Option<Arc<CachedToken>>>,
    /// Held while fetching, so concurrent callers share one request.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    metrics: Arc<Metrics>,
}

impl TokenCache {
    pub(crate) fn new(
        http: reqwest::Client,
        config: &GraphConfig,
        request_timeout: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        let authority = config.authority_host.as_str().trim_end_matches('/');
        let graph = config.graph_endpoint.as_str().trim_end_matches('/');
        Self {
            http,
            token_url: format!("{authority}/{}/oauth2/v2.0/token", config.tenant_id),
            tenant_id: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            scope: format!("{graph}/.default"),
            request_timeout,
            current: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            metrics,
        }
    }

    /// A token that is good for at least a few more minutes.
    ///
    /// # Errors
    /// [`TokenError`] when Entra refuses or can't be reached.
    pub(crate) async fn get(&self) -> Result<Arc<CachedToken>, TokenError> {
        if let Some(token) = self.usable() {
            return Ok(token);
        }
        let _one_fetch_at_a_time = self.fetching.lock().await;
        // Whoever held the lock before us may have fetched already.
        if let Some(token) = self.usable() {
            return Ok(token);
        }
        self.fetch().await
    }

    /// Drops `rejected` (Graph answered 401 with it), unless a newer token replaced it already.
    pub(crate) fn invalidate(&self, rejected: &CachedToken) {
        let mut current = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.as_ref().is_some_and(|t| t.generation == rejected.generation) {
            *current = None;
        }
    }

    /// Runs forever, replacing the token before it gets close to expiry; failures are retried with backoff
    /// and the next command fetches for itself if the background could not.
    pub(crate) async fn refresh_ahead(self: Arc<Self>) {
        let mut failures = 0u32;
        loop {
            let next = self.current().map(|t| t.refresh_at);
            match next {
                Some(at) if at > Instant::now() => tokio::time::sleep_until(at).await,
                _ => {}
            }
            let _one_fetch_at_a_time = self.fetching.lock().await;
            if self.current().is_some_and(|t| t.refresh_at > Instant::now()) {
                continue;
            }
            match self.fetch().await {
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, failures, "background token refresh failed");
                    drop(_one_fetch_at_a_time);
                    tokio::time::sleep(Duration::from_secs(5 * u64::from(failures.min(12)))).await;
                }
            }
        }
    }

    fn current(&self) -> Option<Arc<CachedToken>> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn usable(&self) -> Option<Arc<CachedToken>> {
        self.current().filter(|t| t.usable_until > Instant::now())
    }

    async fn fetch(&self) -> Result<Arc<CachedToken>, TokenError> {
        let fetched = self.request_token().await;
        self.metrics.token_refreshed(fetched.is_ok());
        fetched
    }

    async fn request_token(&self) -> Result<Arc<CachedToken>, TokenError> {
        let generation = self.fetches.fetch_add(1, Ordering::Relaxed) + 1;
        let started = Instant::now();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret().as_str()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .timeout(self.request_timeout)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable { detail: describe_transport_error(&e) })?;
        let status = response.status();
        let body =
            response.bytes().await.map_err(|e| TokenError::Unavailable { detail: describe_transport_error(&e) })?;

        if status.is_server_error() {
            return Err(TokenError::Unavailable { detail: format!("HTTP {status}") });
        }
        if !status.is_success() {
            let parsed: TokenErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            return Err(TokenError::Refused {
                status: status.as_u16(),
                aadsts: parsed.error_codes.first().and_then(serde_json::Value::as_u64),
                error: parsed.error,
                description: parsed.error_description.map(|d| first_line(&d)),
                trace_id: parsed.trace_id,
                correlation_id: parsed.correlation_id,
                tenant_id: self.tenant_id.clone(),
                client_id: self.client_id.clone(),
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| TokenError::Malformed {
            // serde's message names the field, never the token's value.
            detail: e.to_string(),
        })?;
        let lifetime = parsed
            .expires_in
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(Duration::from_secs(3600), Duration::from_secs);
        let margin = EXPIRY_MARGIN.min(lifetime / 5);
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", parsed.access_token))
            .map_err(|_| TokenError::Malformed { detail: "the token can't be sent as a header".into() })?;
        authorization.set_sensitive(true);
        let token = Arc::new(CachedToken {
            authorization,
            value: SecretString::new(parsed.access_token),
            usable_until: started + lifetime - margin,
            // Refresh in the background at three quarters of the lifetime, well before `get` would have to.
            refresh_at: started + lifetime * 3 / 4,
            generation,
        });
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(token.clone());
        tracing::debug!(lifetime_s = lifetime.as_secs(), "graph token fetched");
        Ok(token)
    }
}

/// Entra's descriptions carry trace ids and timestamps on later lines; the first line says what is wrong.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// A transport error in words, without the URL's query (reqwest's Display can include the URL).
pub(crate) fn describe_transport_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "connection broke while reading the response"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut causes = Vec::new();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}
