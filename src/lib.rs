//! meetnow: one slash command gives an incident channel a Microsoft Teams bridge.
//!
//! Someone types `/meetnow` in a Discord channel; the bot defers within Discord's three seconds, asks
//! Microsoft Graph for the channel's standing meeting (`createOrGet`, keyed by guild and channel), and edits
//! the deferred reply into an announcement with the join link and dial-in details. `meetnow create` does the
//! same from a terminal when Discord is down.
//!
//! # Layout
//!
//! - [`config`]: every environment variable, validated once; secrets redacted.
//! - [`credential`]: the one way the app signs in (secret, certificate, federated token, managed identity).
//! - [`meeting`]: the domain (what was asked for, what came back) that the CLI and Discord both render.
//! - [`graph`]: the only code that talks to Microsoft: token cache, onlineMeeting calls, typed errors, retries.
//! - [`l10n`]: what the bot says in Discord, in the reader's language (Fluent files under `locales/`).
//! - [`live`]: live status: Graph's meeting call events, subscribed, verified, decrypted and merged.
//! - [`discord`]: the serenity client, `/meetnow` registration, the handler and the announcement.
//! - [`cli`]: `meetnow create` and `meetnow check`.
//! - [`metrics`]: Prometheus metrics and health, served at `/metrics`, `/healthz`, `/livez` and `/readyz`.
//! - `http`: the shared HTTP stack's helpers (answers read up to a cap, transport errors in words).
//! - [`server`]: every listener (metrics and health, Discord's interactions endpoint, the rate limiter's
//!   loopback): axum routing, tower bounds, hyper-util connections.
//! - [`telemetry`]: tracing set-up.
//!
//! Dependencies point one way: `discord` and `cli` use `live`, `graph` and `meeting`; `live` uses `graph`;
//! neither knows anything of Discord.

pub mod cli;
pub mod config;
pub mod credential;
pub mod discord;
pub mod graph;
pub(crate) mod http;
pub mod l10n;
pub mod live;
pub mod meeting;
pub mod metrics;
pub mod server;
pub mod telemetry;

use std::time::Duration;

/// The one HTTP client, shared by Discord REST and Graph: one connection pool, one TLS stack (rustls).
/// Graph calls set their own, shorter per-request timeouts on top of these.
///
/// - Trust: the public roots, plus the system's store (or the file `SSL_CERT_FILE` names, as OpenSSL reads it),
///   so a company's TLS-inspecting proxy works once its CA is installed or named.
/// - HTTP/2 where the server offers it (ALPN), else HTTP/1.1: one connection per host carries every command.
/// - Warm connections: an idle connection is kept (not dropped after 90 s), HTTP/2 pings it every 30 s and TCP
///   keep-alives every 30 s, so NATs and proxies see traffic and a dead one is found before a command needs it.
/// - Proxies: `HTTPS_PROXY` / `NO_PROXY` from the environment (reqwest's default).
///
/// # Errors
/// When the TLS backend can't be initialised.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    http_client_builder().build()
}

/// [`http_client`]'s settings, for a client that needs one more (the managed identity's, which must not
/// use a proxy).
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("meetnow/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(None)
        // After a burst of HTTP/1.1 requests, enough to stay warm without holding hundreds of sockets.
        .pool_max_idle_per_host(16)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .http2_keep_alive_timeout(Duration::from_secs(10))
        .http2_keep_alive_while_idle(true)
}
