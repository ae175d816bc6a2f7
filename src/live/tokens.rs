//! Graph's validation tokens: the proof that a notification with resource data comes from Microsoft Graph
//! for this app.
//!
//! Each token is an RS256 JWT that must be signed by a key Microsoft publishes at
//! `{AZURE_AUTHORITY_HOST}/common/discovery/v2.0/keys`, be within its lifetime, be for this app (`aud` =
//! `AZURE_CLIENT_ID`), be issued by this tenant's authority, and be obtained by Microsoft Graph Change
//! Tracking (`azp` in v2 tokens, `appid` in v1). The keys are read at start and every twelve hours
//! ([`TokenChecker::keep_keys`]), so no notification waits for them, and read again when a token names a key
//! not among them (Microsoft rolls its keys), at most once a minute, so a stream of tokens naming made-up
//! keys can't make the bot hammer Entra. The tenant's id, which issuers name, is found once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Url;
use tokio::time::Instant;

use crate::http::{read_capped, TooLong};

/// Microsoft Graph Change Tracking, the application that obtains every validation token.
pub const CHANGE_TRACKING_APP_ID: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// How long the published keys are used before being read again.
const KEYS_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// How often [`TokenChecker::keep_keys`] reads them, well inside their lifetime; and after a failure.
const KEYS_REFRESH: Duration = Duration::from_secs(12 * 60 * 60);
const KEYS_REFRESH_RETRY: Duration = Duration::from_secs(60);
/// The least time between two reads of the keys for an unknown key id.
const KEYS_REREAD_GAP: Duration = Duration::from_secs(60);
/// How long reading the keys may take: a notification must be answered within Graph's 3 s.
const KEYS_TIMEOUT: Duration = Duration::from_secs(2);
/// The published key set is a few KB.
const MAX_KEYS_BYTES: usize = 256 * 1024;
/// Clock difference allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 60;

/// Why the tokens of a notification were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("no validation token")]
    Missing,
    #[error("a validation token is not a JWT signed with RS256 by a known key: {0}")]
    Signature(String),
    #[error("a validation token has expired or is not yet valid")]
    Expired,
    #[error("a validation token is not for this app, tenant or Graph's change tracking: {0}")]
    Claims(String),
    /// The keys could not be read: nothing is known either way, so Graph should send it again later.
    #[error("Microsoft's signing keys could not be read: {0}")]
    KeysUnavailable(String),
}

impl TokenRefusal {
    /// The metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Signature(_) => "token_signature",
            Self::Expired => "token_expired",
            Self::Claims(_) => "token_claims",
            Self::KeysUnavailable(_) => "keys_unavailable",
        }
    }
}

#[derive(serde::Deserialize)]
struct Claims {
    azp: Option<String>,
    appid: Option<String>,
}

/// Where a set of signing keys is published.
#[derive(Debug, Clone)]
pub enum KeysAt {
    /// A JWK set at this URL (Entra's `{authority}/common/discovery/v2.0/keys`).
    Jwks(Url),
    /// An OpenID configuration whose `jwks_uri` names the set (the calling service's).
    OpenIdConfiguration(Url),
}

/// Keys a service publishes, read at start and every twelve hours by [`PublishedKeys::keep`], and read again
/// when a token names a key not among them, at most once a minute (see the module docs).
pub struct PublishedKeys {
    http: reqwest::Client,
    at: KeysAt,
    keys: tokio::sync::Mutex<Option<(JwkSet, Instant)>>,
    last_read: Mutex<Option<Instant>>,
}

impl PublishedKeys {
    pub fn new(http: reqwest::Client, at: KeysAt) -> Self {
        Self { http, at, keys: tokio::sync::Mutex::new(None), last_read: Mutex::new(None) }
    }

    /// Reads the keys now and every [`KEYS_REFRESH`], a minute after a failure, forever.
    pub async fn keep(&self) {
        loop {
            let wait = match self.refresh().await {
                Ok(()) => KEYS_REFRESH,
                Err(refusal) => {
                    tracing::warn!(%refusal, "could not read the keys notifications are checked against; trying again in a minute");
                    KEYS_REFRESH_RETRY
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads the keys once.
    ///
    /// # Errors
    /// [`TokenRefusal::KeysUnavailable`].
    pub async fn refresh(&self) -> Result<(), TokenRefusal> {
        let set = self.read_keys().await?;
        *self.keys.lock().await = Some((set, Instant::now()));
        Ok(())
    }

    /// The published key `kid`, reading the keys when they are old or (at most once a minute) when `kid` is
    /// not among them.
    ///
    /// # Errors
    /// [`TokenRefusal::Signature`] for a key not published; [`TokenRefusal::KeysUnavailable`].
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, TokenRefusal> {
        let mut keys = self.keys.lock().await;
        let fresh = keys.as_ref().is_some_and(|(_, read)| read.elapsed() < KEYS_LIFETIME);
        let known = keys.as_ref().and_then(|(set, _)| set.find(kid).cloned());
        let may_reread =
            self.last_read.lock().map(|last| last.is_none_or(|at| at.elapsed() >= KEYS_REREAD_GAP)).unwrap_or(true);
        let jwk = match known {
            Some(jwk) if fresh => jwk,
            _ if !may_reread => match known {
                Some(jwk) => jwk,
                None => return Err(TokenRefusal::Signature("a key Microsoft does not publish".into())),
            },
            _ => {
                let set = self.read_keys().await?;
                let found = set.find(kid).cloned();
                *keys = Some((set, Instant::now()));
                found.ok_or_else(|| TokenRefusal::Signature("a key Microsoft does not publish".into()))?
            }
        };
        DecodingKey::from_jwk(&jwk).map_err(|e| TokenRefusal::Signature(e.to_string()))
    }

    /// The claims of `token` once it passes: RS256 by a published key, within its lifetime (a minute's leeway),
    /// for `audience`, from one of `issuers`.
    ///
    /// # Errors
    /// The [`TokenRefusal`].
    pub async fn verify<C: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
        issuers: &[impl ToString],
    ) -> Result<C, TokenRefusal> {
        if token.len() > 16 * 1024 {
            return Err(TokenRefusal::Signature("too long".into()));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenRefusal::Signature(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenRefusal::Signature("signed with another algorithm".into()));
        }
        let kid = header.kid.ok_or_else(|| TokenRefusal::Signature("no key id".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(issuers);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        jsonwebtoken::decode::<C>(token, &key, &validation).map(|data| data.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => TokenRefusal::Expired,
                ErrorKind::InvalidAudience => TokenRefusal::Claims("audience".into()),
                ErrorKind::InvalidIssuer => TokenRefusal::Claims("issuer".into()),
                ErrorKind::MissingRequiredClaim(claim) => TokenRefusal::Claims(format!("no {claim}")),
                _ => TokenRefusal::Signature(e.to_string()),
            }
        })
    }

    async fn read_keys(&self) -> Result<JwkSet, TokenRefusal> {
        if let Ok(mut last) = self.last_read.lock() {
            *last = Some(Instant::now());
        }
        let keys_url = match &self.at {
            KeysAt::Jwks(url) => url.clone(),
            KeysAt::OpenIdConfiguration(url) => {
                #[derive(serde::Deserialize)]
                struct Configuration {
                    jwks_uri: Url,
                }
                let body = self.read(url).await?;
                let configuration: Configuration = serde_json::from_slice(&body)
                    .map_err(|e| TokenRefusal::KeysUnavailable(format!("not an OpenID configuration: {e}")))?;
                if configuration.jwks_uri.scheme() != url.scheme() {
                    return Err(TokenRefusal::KeysUnavailable("the configuration names keys at another scheme".into()));
                }
                configuration.jwks_uri
            }
        };
        let body = self.read(&keys_url).await?;
        serde_json::from_slice(&body).map_err(|e| TokenRefusal::KeysUnavailable(format!("not a key set: {e}")))
    }

    async fn read(&self, url: &Url) -> Result<axum::body::Bytes, TokenRefusal> {
        let unavailable = |detail: String| TokenRefusal::KeysUnavailable(detail);
        let response = self
            .http
            .get(url.clone())
            .timeout(KEYS_TIMEOUT)
            .send()
            .await
            .map_err(|e| unavailable(crate::http::describe_transport_error(&e)))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("HTTP {}", response.status().as_u16())));
        }
        read_capped(response, MAX_KEYS_BYTES).await.map_err(|e| match e {
            TooLong::Transport(e) => unavailable(crate::http::describe_transport_error(&e)),
            TooLong::Over(cap) => unavailable(format!("longer than {cap} bytes")),
        })
    }
}

/// Checks validation tokens against the authority's published keys.
pub struct TokenChecker {
    keys: PublishedKeys,
    client_id: String,
    authority: String,
    /// `AZURE_TENANT_ID`: a GUID, or a domain, when the GUID comes from the app's own token.
    tenant: String,
    graph: crate::graph::GraphClient,
    /// The tenant's GUID, once known.
    tenant_guid: std::sync::OnceLock<String>,
}

impl TokenChecker {
    /// For the app `client_id` in `tenant_id`, signing in at `authority` (`AZURE_AUTHORITY_HOST`); `graph` gives
    /// the tenant's GUID when `tenant_id` is a domain (issuers name the GUID).
    pub fn new(
        http: reqwest::Client,
        authority: &Url,
        tenant_id: &str,
        client_id: &str,
        graph: crate::graph::GraphClient,
    ) -> Self {
        let base = authority.as_str().trim_end_matches('/');
        let keys_url = Url::parse(&format!("{base}/common/discovery/v2.0/keys")).unwrap_or_else(|_| authority.clone());
        Self {
            keys: PublishedKeys::new(http, KeysAt::Jwks(keys_url)),
            client_id: client_id.to_owned(),
            authority: base.to_owned(),
            tenant: tenant_id.to_owned(),
            graph,
            tenant_guid: std::sync::OnceLock::new(),
        }
    }

    /// Reads Microsoft's keys (and finds the tenant's id) now and every [`KEYS_REFRESH`], a minute after a
    /// failure, forever: the caller runs it in the background.
    pub async fn keep_keys(self: Arc<Self>) {
        loop {
            let tenant = self.tenant_guid().await;
            let keys = self.keys.refresh().await;
            let wait = match (tenant, keys) {
                (Ok(_), Ok(())) => KEYS_REFRESH,
                (Err(refusal), _) | (_, Err(refusal)) => {
                    tracing::warn!(%refusal, "could not read what Graph's validation tokens are checked against; trying again in a minute");
                    KEYS_REFRESH_RETRY
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Checks every token; all must pass, and there must be at least one.
    ///
    /// # Errors
    /// The first [`TokenRefusal`].
    pub async fn check_all(&self, tokens: &[String]) -> Result<(), TokenRefusal> {
        if tokens.is_empty() {
            return Err(TokenRefusal::Missing);
        }
        for token in tokens.iter().take(8) {
            self.check(token).await?;
        }
        Ok(())
    }

    async fn check(&self, token: &str) -> Result<(), TokenRefusal> {
        let tenant = self.tenant_guid().await?;
        let issuers = [format!("{}/{tenant}/v2.0", self.authority), format!("https://sts.windows.net/{tenant}/")];
        let claims: Claims = self.keys.verify(token, &self.client_id, &issuers).await?;
        let caller = claims.azp.or(claims.appid);
        if caller.as_deref() != Some(CHANGE_TRACKING_APP_ID) {
            return Err(TokenRefusal::Claims("not obtained by Microsoft Graph Change Tracking".into()));
        }
        Ok(())
    }

    /// The tenant's GUID: `AZURE_TENANT_ID` itself, or, when that is a domain, the `tid` of the app's token.
    async fn tenant_guid(&self) -> Result<String, TokenRefusal> {
        if let Some(known) = self.tenant_guid.get() {
            return Ok(known.clone());
        }
        let guid = if crate::config::parse::is_guid(&self.tenant) {
            self.tenant.to_ascii_lowercase()
        } else {
            let info = self.graph.token_info().await.map_err(|e| TokenRefusal::KeysUnavailable(e.to_string()))?;
            info.tenant_id.ok_or_else(|| TokenRefusal::KeysUnavailable("the app's token names no tenant".into()))?
        };
        Ok(self.tenant_guid.get_or_init(|| guid).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_as_a_sentence_with_its_own_label() {
        let detail = || "kid abc unknown".to_owned();
        for (refusal, reads, label) in [
            (TokenRefusal::Missing, "no validation token", "token_missing"),
            (
                TokenRefusal::Signature(detail()),
                "a validation token is not a JWT signed with RS256 by a known key: kid abc unknown",
                "token_signature",
            ),
            (TokenRefusal::Expired, "a validation token has expired or is not yet valid", "token_expired"),
            (
                TokenRefusal::Claims(detail()),
                "a validation token is not for this app, tenant or Graph's change tracking: kid abc unknown",
                "token_claims",
            ),
            (
                TokenRefusal::KeysUnavailable(detail()),
                "Microsoft's signing keys could not be read: kid abc unknown",
                "keys_unavailable",
            ),
        ] {
            assert_eq!((refusal.to_string().as_str(), refusal.reason()), (reads, label));
        }
    }
}
