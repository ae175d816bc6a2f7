//! The app's Graph token (OAuth 2.0 client credentials), fetched once and shared.
//!
//! Callers read the cached token without waiting. When it is missing or near expiry, one sign-in starts and
//! every caller waits for its outcome, a failure included (50 simultaneous meetings cause one token request;
//! with Entra hanging, each waits once, within its own deadline, not once per caller before it). A failure
//! is handed out for [`FAILURE_MEMORY`] before Entra is asked again.
//! [`TokenCache::refresh_ahead`] keeps the token fresh in the background, so a command normally never
//! waits for sign-in. The secret and the token live in `SecretString`s and are never logged.
//!
//! Sign-in is whichever way [`Credential`] says: a client secret, a client assertion (signed with the
//! certificate, or the federated token file read afresh), or the host's managed identity.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::{Cause, TokenError};
use super::wire::{IdentityErrorBody, TokenErrorBody, TokenResponse};
use crate::config::GraphConfig;
use crate::credential::{self, Credential, ManagedIdentity};
use crate::http::{describe_transport_error, transport_kind, TooLong};
use crate::metrics::Metrics;
use crate::telemetry::Chain;

/// How long before expiry a token stops being handed out (a request must not start with a dying token).
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long a failed sign-in is the answer for everyone, so a dead Entra is not asked once per command.
pub(crate) const FAILURE_MEMORY: Duration = Duration::from_secs(2);

/// Token lifetimes (`expires_in`) are taken within these: Entra's are 60 to 90 minutes, and a server that
/// says 0 or 2^64 seconds must neither make the refresher spin nor overflow the clock.
pub(crate) const SHORTEST_LIFETIME: Duration = Duration::from_secs(60);
pub(crate) const LONGEST_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest token answer read: a token is a few KB, an error page not much more.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// The outcome of one sign-in, shared by everyone who waited for it.
type Outcome = Option<Result<Arc<CachedToken>, TokenError>>;

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
        self.claim("roles")
            .and_then(|r| r.as_array().cloned())
            .map(|roles| roles.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// The tenant's id (`tid` claim), a GUID even when `AZURE_TENANT_ID` is a domain.
    pub(crate) fn tenant_id(&self) -> Option<String> {
        self.claim("tid").and_then(|t| t.as_str().map(str::to_owned))
    }

    /// One claim of the token, when it is a readable JWT.
    fn claim(&self, name: &str) -> Option<serde_json::Value> {
        let claims = self
            .value
            .expose_secret()
            .split('.')
            .nth(1)
            .and_then(|payload| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()
            })
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok());
        claims.and_then(|mut c| c.get_mut(name).map(serde_json::Value::take))
    }
}

pub(crate) struct TokenCache {
    http: reqwest::Client,
    /// For a managed identity: a client that never uses `HTTPS_PROXY`/`HTTP_PROXY`, since the identity
    /// header and the token would cross the proxy (the endpoint is on this host or link-local anyway).
    /// `None` if it could not be built (the TLS backend failed), which makes every sign-in fail.
    identity_http: Option<reqwest::Client>,
    token_url: String,
    tenant_id: String,
    client_id: String,
    credential: Credential,
    scope: String,
    /// The Graph root, the `resource` a managed identity's token is asked for.
    resource: String,
    request_timeout: Duration,
    current: RwLock<Option<Arc<CachedToken>>>,
    /// The sign-in under way (its outcome is `None` until it ends): callers join it instead of starting one.
    pending: Mutex<Option<watch::Receiver<Outcome>>>,
    /// The last failed sign-in and until when it is the answer.
    failed: Mutex<Option<(Instant, TokenError)>>,
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
        let identity_http = match config.credential {
            Credential::ManagedIdentity(_) => crate::http::client_builder().no_proxy().build().ok(),
            _ => None,
        };
        Self {
            http,
            identity_http,
            token_url: format!("{authority}/{}/oauth2/v2.0/token", config.tenant_id),
            tenant_id: config.tenant_id.clone(),
            client_id: config.client_id.clone(),
            credential: config.credential.clone(),
            scope: format!("{graph}/.default"),
            resource: graph.to_owned(),
            request_timeout,
            current: RwLock::new(None),
            pending: Mutex::new(None),
            failed: Mutex::new(None),
            fetches: AtomicU64::new(0),
            metrics,
        }
    }

    /// A token that is good for at least a few more minutes.
    ///
    /// # Errors
    /// [`TokenError`] when Entra refuses or can't be reached (possibly a failure of the last
    /// [`FAILURE_MEMORY`], shared rather than asked again).
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Arc<CachedToken>, TokenError> {
        if let Some(token) = self.usable() {
            return Ok(token);
        }
        if let Some(error) = self.recent_failure() {
            return Err(error);
        }
        Self::outcome(self.join_or_start_sign_in()).await
    }

    /// Waits for a sign-in's outcome. The caller's own deadline bounds the wait (it drops this future); the
    /// sign-in itself goes on for the others.
    async fn outcome(mut sign_in: watch::Receiver<Outcome>) -> Result<Arc<CachedToken>, TokenError> {
        match sign_in.wait_for(Option::is_some).await.map(|outcome| outcome.clone()) {
            Ok(Some(outcome)) => outcome,
            // The sign-in's task ended without an outcome: only when the runtime is shutting down.
            _ => Err(TokenError::Unavailable { detail: "the sign-in was interrupted".into(), source: None }),
        }
    }

    /// The sign-in under way, or a new one. It runs in a task of its own, so it ends (within the request
    /// timeout) even when every caller waiting for it has given up.
    fn join_or_start_sign_in(self: &Arc<Self>) -> watch::Receiver<Outcome> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(under_way) = pending.as_ref().filter(|sign_in| sign_in.borrow().is_none()) {
            return under_way.clone();
        }
        let (done, outcome) = watch::channel(None);
        *pending = Some(outcome.clone());
        let cache = self.clone();
        tokio::spawn(async move {
            let fetched = cache.fetch().await;
            if let Err(error) = &fetched {
                let until = Instant::now() + FAILURE_MEMORY;
                *cache.failed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((until, error.clone()));
            }
            done.send_replace(Some(fetched));
        });
        outcome
    }

    fn recent_failure(&self) -> Option<TokenError> {
        let failed = self.failed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        failed.as_ref().filter(|(until, _)| *until > Instant::now()).map(|(_, error)| error.clone())
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
            if self.current().is_some_and(|t| t.refresh_at > Instant::now()) {
                continue;
            }
            match Self::outcome(self.join_or_start_sign_in()).await {
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(error = %Chain(&error), failures, "background token refresh failed");
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
        self.metrics.token_refreshed(fetched.as_ref().ok().map(|token| token.usable_until));
        fetched
    }

    async fn request_token(&self) -> Result<Arc<CachedToken>, TokenError> {
        let generation = self.fetches.fetch_add(1, Ordering::Relaxed) + 1;
        let started = Instant::now();
        let request = match &self.credential {
            Credential::ManagedIdentity(identity) => self.managed_identity_request(identity).ok_or_else(|| {
                let detail = "the HTTP client for the managed identity endpoint could not be set up".to_owned();
                TokenError::Credential { detail }
            })?,
            Credential::Secret(secret) => self.client_credentials(("client_secret", secret.expose_secret().clone())),
            Credential::Certificate(certificate) => {
                let assertion =
                    certificate.assertion(&self.token_url, &self.client_id).map_err(|e| TokenError::Credential {
                        detail: format!(
                            "the client assertion could not be signed with {} ({e})",
                            certificate.path.display()
                        ),
                    })?;
                self.client_credentials(("client_assertion", assertion))
            }
            Credential::FederatedToken(path) => {
                let token =
                    credential::read_federated_token(path).await.map_err(|detail| TokenError::Credential { detail })?;
                self.client_credentials(("client_assertion", token.expose_secret().clone()))
            }
        };
        let response = request.timeout(self.request_timeout).send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body = match crate::http::read_capped(response, MAX_TOKEN_RESPONSE_BYTES).await {
            Ok(body) => body,
            Err(TooLong::Transport(e)) => return Err(self.unreachable(e)),
            Err(TooLong::Over(cap)) => {
                return Err(TokenError::Malformed { detail: format!("the answer was longer than {cap} bytes") })
            }
        };

        // The instance metadata service answers 404, 410 and 429 while it is starting or busy (Microsoft
        // says to retry them), as any service answers 5xx.
        let retryable = matches!(status.as_u16(), 404 | 410 | 429)
            && matches!(self.credential, Credential::ManagedIdentity(ManagedIdentity::Imds { .. }));
        if status.is_server_error() || retryable {
            let answer = super::error::shorten(&first_line(&String::from_utf8_lossy(&body)), 200);
            let detail = format!("HTTP {status}: {answer}");
            return Err(TokenError::Unavailable { detail, source: None });
        }
        if !status.is_success() {
            return Err(self.refusal(status.as_u16(), &body));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| TokenError::Malformed {
            // serde's message names the field, never the token's value.
            detail: e.to_string(),
        })?;
        let lifetime = match (&parsed.expires_in, &parsed.expires_on) {
            (None, Some(expires_on)) => token_lifetime_until(expires_on, time::OffsetDateTime::now_utc()),
            (expires_in, _) => token_lifetime(expires_in.as_deref()),
        };
        let (usable_until, refresh_at) = token_schedule(started, lifetime);
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", parsed.access_token))
            .map_err(|_| TokenError::Malformed { detail: "the token can't be sent as a header".into() })?;
        authorization.set_sensitive(true);
        let token = Arc::new(CachedToken {
            authorization,
            value: SecretString::new(parsed.access_token),
            usable_until,
            refresh_at,
            generation,
        });
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(token.clone());
        tracing::debug!(lifetime_s = lifetime.as_secs(), way = self.credential.variable(), "graph token fetched");
        Ok(token)
    }

    /// Entra's client-credentials request, proving the app with `proof`: the secret, or a client assertion.
    fn client_credentials(&self, proof: (&'static str, String)) -> reqwest::RequestBuilder {
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        if proof.0 == "client_assertion" {
            form.push(("client_assertion_type", credential::JWT_BEARER.to_owned()));
        }
        form.push(proof);
        self.http.post(&self.token_url).form(&form)
    }

    /// `GET {endpoint}?resource=…` with the platform's header: App Service's `X-IDENTITY-HEADER`, or the
    /// instance metadata service's `Metadata: true`. The client id picks a user-assigned identity.
    /// `None` when the identity's own client could not be built.
    fn managed_identity_request(&self, identity: &ManagedIdentity) -> Option<reqwest::RequestBuilder> {
        let query = |version: &'static str| {
            [("api-version", version), ("resource", self.resource.as_str()), ("client_id", self.client_id.as_str())]
        };
        let http = self.identity_http.as_ref()?;
        Some(match identity {
            ManagedIdentity::AppService { endpoint, header } => {
                http.get(endpoint.clone()).query(&query("2019-08-01")).header("X-IDENTITY-HEADER", header.clone())
            }
            ManagedIdentity::Imds { endpoint } => {
                http.get(endpoint.clone()).query(&query("2018-02-01")).header("Metadata", "true")
            }
        })
    }

    /// A transport failure. For a managed identity, a refused connection means there is no such endpoint
    /// on this host: a setup problem with its own fix, not an outage.
    fn unreachable(&self, error: reqwest::Error) -> TokenError {
        if is_untrusted_certificate(&error) {
            let host = error.url().and_then(|u| u.host_str()).unwrap_or("the sign-in host").to_owned();
            return TokenError::UntrustedCertificate { host, source: Cause::new(error.without_url()) };
        }
        match &self.credential {
            Credential::ManagedIdentity(identity) if error.is_connect() => {
                let endpoint = match identity {
                    ManagedIdentity::AppService { endpoint, .. } | ManagedIdentity::Imds { endpoint } => endpoint,
                };
                TokenError::Credential {
                    detail: format!(
                        "no managed identity endpoint answers at {} ({}). MEETNOW_MANAGED_IDENTITY works only on \
                         an Azure host that has a managed identity; elsewhere use AZURE_CLIENT_CERTIFICATE_PATH",
                        endpoint.origin().ascii_serialization(),
                        describe_transport_error(&error),
                    ),
                }
            }
            _ => TokenError::Unavailable {
                detail: transport_kind(&error).to_owned(),
                source: Some(Cause::new(error.without_url())),
            },
        }
    }

    fn refusal(&self, status: u16, body: &[u8]) -> TokenError {
        if let Credential::ManagedIdentity(_) = self.credential {
            let parsed: IdentityErrorBody = serde_json::from_slice(body).unwrap_or_default();
            return TokenError::IdentityRefused { status, explanation: parsed.explanation().map(|d| first_line(&d)) };
        }
        let parsed: TokenErrorBody = serde_json::from_slice(body).unwrap_or_default();
        TokenError::Refused {
            status,
            aadsts: parsed.error_codes.first().and_then(serde_json::Value::as_u64),
            error: parsed.error,
            description: parsed.error_description.map(|d| first_line(&d)),
            trace_id: parsed.trace_id,
            correlation_id: parsed.correlation_id,
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            credential: self.credential.variable(),
        }
    }
}

/// A token's lifetime from `expires_on` (Unix seconds, as managed-identity endpoints send it), within the
/// same bounds as [`token_lifetime`].
pub(crate) fn token_lifetime_until(expires_on: &str, now: time::OffsetDateTime) -> Duration {
    let remaining = expires_on.trim().parse::<i64>().ok().map(|at| at.saturating_sub(now.unix_timestamp()));
    token_lifetime(remaining.map(|seconds| seconds.max(0).to_string()).as_deref())
}

/// A token's lifetime from `expires_in` (seconds, as a string or a number), within [`SHORTEST_LIFETIME`] and
/// [`LONGEST_LIFETIME`]; an hour when it is absent or unreadable.
pub(crate) fn token_lifetime(expires_in: Option<&str>) -> Duration {
    let seconds = expires_in.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(3600);
    Duration::from_secs(seconds).clamp(SHORTEST_LIFETIME, LONGEST_LIFETIME)
}

/// For a token fetched at `started`: until when to hand it out (a margin before expiry), and when the
/// background should replace it (three quarters of its lifetime, well before `get` would have to).
pub(crate) fn token_schedule(started: Instant, lifetime: Duration) -> (Instant, Instant) {
    let lifetime = lifetime.clamp(SHORTEST_LIFETIME, LONGEST_LIFETIME);
    let margin = EXPIRY_MARGIN.min(lifetime / 5);
    (started + (lifetime - margin), started + lifetime * 3 / 4)
}

/// Entra's descriptions carry trace ids and timestamps on later lines; the first line says what is wrong.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Whether the connection failed because the server's certificate is not one this host trusts (a company's
/// TLS-inspecting proxy, a private CA): a setup problem with its own fix, not an outage.
pub(crate) fn is_untrusted_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(cause) = source {
        // The rustls error sits inside an io::Error inside a box, and both skip it in `source()`; so the
        // type is tried where it can be reached, and rustls's own wording where it can't.
        let wrapped = cause.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref);
        let is_certificate = |e: &(dyn std::error::Error + 'static)| {
            matches!(e.downcast_ref::<rustls::Error>(), Some(rustls::Error::InvalidCertificate(_)))
        };
        if is_certificate(cause)
            || wrapped.is_some_and(|inner| is_certificate(inner))
            || cause.to_string().starts_with("invalid peer certificate")
        {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests;
