//! Discord REST as meetnow makes it: serenity's `Http` on the shared reqwest client, no mentions by default,
//! and `DISCORD_API_URL` when set. For the running bot with `DISCORD_RATELIMIT=local`, serenity's calls go
//! through this process's rate-limit forwarder on loopback ([`super::ratelimit`]), which keeps Discord's
//! limits whatever the upstream is; the hot path's reach the same limiter in process ([`super::direct`]).

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serenity::all::{CreateAllowedMentions, Http, HttpBuilder};
use tokio::net::TcpListener;

use super::ratelimit::{Limiter, SECRET_HEADER};
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;

/// Discord REST for a few calls (`meetnow check`), or behind a proxy that keeps the rate limits: the given
/// reqwest client, and `DISCORD_API_URL` (with serenity's limiter off, which would otherwise ignore it) when
/// set.
///
/// # Errors
/// [`ConfigError`] naming `DISCORD_TOKEN` when it is not set.
pub fn http(config: &Config, client: reqwest::Client) -> Result<Http, ConfigError> {
    let token = config.discord_token()?;
    let mut builder =
        HttpBuilder::new(token.expose_secret()).client(client).default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(api) = &config.discord.api_url {
        builder = builder.proxy(api.as_str().trim_end_matches('/')).ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

/// Discord REST within Discord's rate limits (`DISCORD_RATELIMIT=local`): serenity sends every call to the
/// forwarder that `forwarder` is bound for, with this process's secret, over a client of its own whose timeout
/// allows for waiting its turn under a burst; the returned [`Limiter`] (to be served on `forwarder`) sends
/// it on to Discord or `DISCORD_API_URL` with `client`.
///
/// # Errors
/// [`ConfigError`] naming `DISCORD_TOKEN` when it is not set, or when the client can't be made.
pub fn limited(
    config: &Config,
    client: reqwest::Client,
    forwarder: &TcpListener,
    metrics: Arc<Metrics>,
) -> Result<(Http, Arc<Limiter>), ConfigError> {
    let token = config.discord_token()?;
    let setup = |e: &dyn std::fmt::Display| ConfigError {
        variable: "DISCORD_RATELIMIT",
        problem: format!("could not set up the rate limiter's client: {e}"),
    };
    let addr = forwarder.local_addr().map_err(|e| setup(&e))?;
    tracing::info!(bound = %addr, "Discord's rate limiter listens on loopback, for this process alone");
    let secret = Limiter::new_secret();
    let mut secret_header = reqwest::header::HeaderValue::from_str(secret.expose_secret()).map_err(|e| setup(&e))?;
    secret_header.set_sensitive(true);
    let headers = reqwest::header::HeaderMap::from_iter([(
        reqwest::header::HeaderName::from_static(SECRET_HEADER),
        secret_header,
    )]);
    // HTTP/2 with prior knowledge: the forwarder speaks nothing else (see `Limiter::serve`). Idle connections
    // are closed before the forwarder's own idle timeout would.
    let loopback = crate::http::client_builder()
        .no_proxy()
        .http2_prior_knowledge()
        .default_headers(headers)
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| setup(&e))?;
    let upstream = config.discord.api_url.as_ref().map_or("https://discord.com", |url| url.as_str());
    let limiter = Arc::new(Limiter::new(secret, client, upstream, metrics));
    let http = HttpBuilder::new(token.expose_secret())
        .client(loopback)
        .default_allowed_mentions(CreateAllowedMentions::new())
        .proxy(format!("http://{addr}"))
        .ratelimiter_disabled(true)
        .build();
    Ok((http, limiter))
}
