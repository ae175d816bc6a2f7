//! meetnow: one slash command gives an incident channel a Microsoft Teams bridge.
//!
//! Someone types `/meetnow` in a Discord channel; the bot defers within Discord's three seconds, asks
//! Microsoft Graph for the channel's standing meeting (`createOrGet`, keyed by guild and channel), and edits
//! the deferred reply into an announcement with the join link and dial-in details. `meetnow create` does the
//! same from a terminal when Discord is down.
//!
//! # Layout
//!
//! - [`app`]: start-up and shutdown of `meetnow run`: wires configuration, the HTTP stack, Graph, Discord,
//!   live status, the listeners and shutdown.
//! - [`config`]: every environment variable, validated once; secrets redacted.
//! - [`credential`]: the one way the app signs in (secret, certificate, federated token, managed identity).
//! - [`meeting`]: the domain (what was asked for, what came back) that the CLI and Discord both render.
//! - [`graph`]: the only code that talks to Microsoft: token cache, onlineMeeting calls, typed errors, retries.
//! - [`l10n`]: what the bot says in Discord, in the reader's language (Fluent files under `locales/`).
//! - [`live`]: live status: Graph's meeting call events, subscribed, verified, decrypted and merged.
//! - [`ring`]: ringing someone into a bridge: Graph's calls API from joining to hanging up, and the call
//!   notifications any process may receive.
//! - [`discord`]: the serenity client, `/meetnow` registration, the handler and the announcement.
//! - [`cli`]: `meetnow create` and `meetnow check`.
//! - [`metrics`]: Prometheus metrics, served at `/metrics`.
//! - [`health`]: whether the process can answer a command now, served at `/readyz`, `/healthz` and `/livez`.
//! - [`http`]: the one HTTP client (TLS, HTTP/2, warm connections, proxies) and its helpers.
//! - [`server`]: every listener (metrics and health, Discord's interactions endpoint, the rate limiter's
//!   loopback): axum routing, tower bounds, hyper-util connections.
//! - [`telemetry`]: tracing set-up.
//!
//! Dependencies point one way: `discord` and `cli` use `ring`, `live`, `graph` and `meeting`; `ring` and
//! `live` use `graph`; none of them knows anything of Discord.

pub mod app;
pub mod cli;
pub mod config;
pub mod credential;
pub mod discord;
pub mod graph;
pub mod health;
pub mod http;
pub mod l10n;
pub mod live;
pub mod meeting;
pub mod metrics;
pub mod ring;
pub mod server;
pub mod telemetry;
