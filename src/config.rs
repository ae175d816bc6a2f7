//! Configuration: every environment variable in README.md's Configuration tables, read once, validated, typed.
//!
//! [`Config::from_lookup`] takes any `Fn(&str) -> Option<String>`, so tests build configurations without
//! touching the process environment; [`Config::from_env`] is that with `std::env::var`. A problem becomes a
//! [`ConfigError`] that names the variable, says what is wrong and what a valid value looks like, and never
//! contains a secret's value. Secrets are [`SecretString`]s, whose `Debug` prints `[REDACTED]`.
//!
//! This module knows nothing of HTTP, serenity, Graph or the features that read it; it only decides what the
//! settings are (plain values, and what `credential` reads from files).

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use crate::credential::Credential;

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault, e.g. `MEETNOW_ORGANIZER_ID`.
    pub variable: &'static str,
    /// What is wrong and what a valid value looks like. Never contains a secret.
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self { variable, problem: problem.into() }
    }
}

/// Everything meetnow reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub discord: DiscordConfig,
    pub graph: GraphConfig,
    /// Pin the announcement of a new bridge (`MEETNOW_PIN`).
    pub pin: bool,
    /// Members need one of these roles to use `/meetnow` and **Attendance**, and a new thread's creator needs
    /// one for it to get a bridge without typing; empty means anyone Discord lets in.
    pub allowed_role_ids: Vec<u64>,
    /// `MEETNOW_ALLOWED_GUILD_IDS` (default `DISCORD_GUILD_ID`): the servers the bot serves; `None`: every
    /// server it is in.
    pub allowed_guild_ids: Option<Vec<u64>>,
    /// `MEETNOW_SHUTDOWN_GRACE_SECONDS`: in HTTP mode, how long after SIGTERM the listener keeps serving while
    /// `/readyz` says "not ready", so the load balancer stops routing here before connections are refused.
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
    /// The `tracing` filter (`RUST_LOG`), already checked to parse.
    pub log_filter: String,
    /// `METRICS_ADDR`: where to serve `/metrics` and `/healthz`; `None`: no listener.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `MEETNOW_AUTO_CHANNELS`: channels and threads whose names match get their bridge when created.
    pub auto_channels: ChannelPatterns,
    /// `MEETNOW_LISTEN_ADDR` (formerly `MEETNOW_INTERACTIONS_ADDR`): the one inbound listener, for Discord's
    /// interactions (HTTP mode) and Graph's notifications (live status).
    pub listen_addr: Option<std::net::SocketAddr>,
    /// `MEETNOW_PUBLIC_URL` and the notification certificate: live status, when on.
    pub live: Option<LiveConfig>,
    /// `MEETNOW_LOCALE`: the one language of everything posted in channels; `None`: each server's.
    pub channel_locale: Option<crate::l10n::Lang>,
    /// `MEETNOW_RING`: ringing people into the bridge, when on (it needs live status's URL and listener).
    pub ring: Option<RingConfig>,
}

/// Where the calling service publishes the keys that sign its notifications (Microsoft's samples read it):
/// `MEETNOW_CALLS_OPENID_CONFIGURATION`'s default.
pub const CALLS_OPENID_CONFIGURATION: &str = "https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration";

/// Ringing's settings (`MEETNOW_RING`, `MEETNOW_RING_SECONDS`, `MEETNOW_CALLS_OPENID_CONFIGURATION`).
#[derive(Debug, Clone)]
pub struct RingConfig {
    /// How long a ring waits for the person to answer before it says "no answer" and hangs up.
    pub answer_within: Duration,
    /// Where the keys that sign Graph's call notifications are published.
    pub openid_configuration: Url,
}

/// Live status's settings (`MEETNOW_PUBLIC_URL`, `MEETNOW_NOTIFICATION_CERTIFICATE_PATH`,
/// `MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH`).
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Where Graph reaches this bot from the internet, without a trailing slash.
    pub public_url: Url,
    /// The certificate Graph encrypts call events with, and its key.
    pub certificate: std::sync::Arc<crate::credential::EncryptionCertificate>,
    /// During a rotation, the certificate being replaced.
    pub previous_certificate: Option<std::sync::Arc<crate::credential::EncryptionCertificate>>,
}

/// Channel name patterns with `*` wildcards (`inc-*,sev1-*`), matched without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelPatterns(Vec<String>);

impl ChannelPatterns {
    /// Whether any pattern matches `name`.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.0.iter().any(|pattern| glob_matches(pattern, &name))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `*` matches any run of characters (none included); everything else matches itself.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Settings for the Discord side.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `DISCORD_TOKEN`: needed by `run` and `check`, not by `create`; see [`Config::discord_token`].
    pub token: Option<SecretString>,
    /// `DISCORD_GUILD_ID`: register `/meetnow` in this guild only.
    pub guild_id: Option<u64>,
    /// `DISCORD_API_URL`: send REST calls here instead of `https://discord.com`.
    pub api_url: Option<Url>,
    /// `DISCORD_RATELIMIT`: who keeps Discord's rate limits.
    pub ratelimit: RateLimiting,
    /// `DISCORD_PUBLIC_KEY` and `MEETNOW_LISTEN_ADDR`: receive commands at Discord's Interactions
    /// Endpoint URL instead of over the gateway.
    pub interactions: Option<InteractionsEndpoint>,
}

/// Who keeps Discord's rate limits (`DISCORD_RATELIMIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimiting {
    /// The bot itself, whatever `DISCORD_API_URL` is (the default).
    Local,
    /// A proxy at `DISCORD_API_URL` (twilight-http-proxy and the like): the bot sends without waiting.
    Proxy,
}

/// Where and how to serve Discord's Interactions Endpoint URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InteractionsEndpoint {
    /// The application's Ed25519 public key (Developer Portal → General Information → Public Key). Public,
    /// not a secret: it only verifies Discord's signatures.
    pub public_key: [u8; 32],
    /// The address `POST /interactions` is served on.
    pub addr: std::net::SocketAddr,
}

/// Settings for Microsoft Graph and the meetings it makes.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `AZURE_TENANT_ID`: a GUID or a domain such as `contoso.onmicrosoft.com`.
    pub tenant_id: String,
    /// `AZURE_CLIENT_ID`: the app registration's application (client) id.
    pub client_id: String,
    /// How the app signs in: `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
    /// `AZURE_FEDERATED_TOKEN_FILE` or `MEETNOW_MANAGED_IDENTITY`, exactly one.
    pub credential: Credential,
    /// `AZURE_AUTHORITY_HOST`. With or without a trailing slash it is the same URL (see `parse_base_url`).
    pub authority_host: Url,
    /// `GRAPH_ENDPOINT`. With or without a trailing slash it is the same URL (see `parse_base_url`).
    pub graph_endpoint: Url,
    /// `MEETNOW_ORGANIZER_ID`: the organizer's Entra object id (GUID).
    pub organizer_id: String,
    /// `MEETNOW_LOBBY_BYPASS`.
    pub lobby_bypass: LobbyBypass,
    /// `MEETNOW_DIALIN_BYPASS`.
    pub dial_in_bypass: bool,
    /// `MEETNOW_DURATION_MINUTES`, as a duration.
    pub duration: Duration,
}

/// Who skips the Teams lobby (Graph's `lobbyBypassScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LobbyBypass {
    Organizer,
    Organization,
    OrganizationAndFederated,
    Everyone,
    Invited,
    OrganizationExcludingGuests,
}

impl LobbyBypass {
    const ALL: [LobbyBypass; 6] = [
        Self::Organizer,
        Self::Organization,
        Self::OrganizationAndFederated,
        Self::Everyone,
        Self::Invited,
        Self::OrganizationExcludingGuests,
    ];

    /// The value Graph expects in `lobbyBypassSettings.scope`.
    pub fn as_graph_str(self) -> &'static str {
        match self {
            Self::Organizer => "organizer",
            Self::Organization => "organization",
            Self::OrganizationAndFederated => "organizationAndFederated",
            Self::Everyone => "everyone",
            Self::Invited => "invited",
            Self::OrganizationExcludingGuests => "organizationExcludingGuests",
        }
    }
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Config {
    /// Reads the configuration from the process environment (after `.env`, if the caller loaded it).
    ///
    /// # Errors
    /// The first invalid or missing variable, as a [`ConfigError`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value or `None`.
    /// An empty value counts as unset, as it does in most `.env` files.
    ///
    /// # Errors
    /// The first invalid or missing variable, as a [`ConfigError`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let discord = DiscordConfig {
            token: get("DISCORD_TOKEN").map(parse_discord_token).transpose()?,
            guild_id: get("DISCORD_GUILD_ID").map(|v| parse_snowflake("DISCORD_GUILD_ID", &v)).transpose()?,
            api_url: get("DISCORD_API_URL").map(|v| parse_base_url("DISCORD_API_URL", &v)).transpose()?,
            ratelimit: get("DISCORD_RATELIMIT").map_or(Ok(RateLimiting::Local), |v| parse_ratelimit(&v))?,
            interactions: None,
        };
        let listen = parse_listen(get("MEETNOW_LISTEN_ADDR"), get("MEETNOW_INTERACTIONS_ADDR"))?;
        let public_url = get("MEETNOW_PUBLIC_URL");
        let mut discord = discord;
        discord.interactions = parse_interactions(get("DISCORD_PUBLIC_KEY"), listen, public_url.is_some())?;

        let graph = GraphConfig {
            tenant_id: parse_tenant(require(&get, "AZURE_TENANT_ID")?)?,
            client_id: parse_client_id(require(&get, "AZURE_CLIENT_ID")?)?,
            credential: parse_credential(&get)?,
            authority_host: parse_base_url(
                "AZURE_AUTHORITY_HOST",
                &get("AZURE_AUTHORITY_HOST").unwrap_or_else(|| "https://login.microsoftonline.com".into()),
            )?,
            graph_endpoint: parse_base_url(
                "GRAPH_ENDPOINT",
                &get("GRAPH_ENDPOINT").unwrap_or_else(|| "https://graph.microsoft.com".into()),
            )?,
            organizer_id: parse_organizer(require(&get, "MEETNOW_ORGANIZER_ID")?)?,
            lobby_bypass: get("MEETNOW_LOBBY_BYPASS").map_or(Ok(LobbyBypass::Organization), |v| parse_lobby(&v))?,
            dial_in_bypass: get("MEETNOW_DIALIN_BYPASS")
                .map_or(Ok(true), |v| parse_bool("MEETNOW_DIALIN_BYPASS", &v))?,
            duration: get("MEETNOW_DURATION_MINUTES")
                .map_or(Ok(Duration::from_secs(60 * 60)), |v| parse_duration(&v))?,
        };

        if discord.ratelimit == RateLimiting::Proxy && discord.api_url.is_none() {
            return Err(ConfigError::new(
                "DISCORD_RATELIMIT",
                "is proxy, but DISCORD_API_URL is not set: proxy means a proxy at DISCORD_API_URL keeps Discord's rate \
                 limits. Set DISCORD_API_URL to the proxy, or DISCORD_RATELIMIT=local (the default)",
            ));
        }
        let auto_channels =
            get("MEETNOW_AUTO_CHANNELS").map_or(Ok(ChannelPatterns::default()), |v| parse_auto_channels(&v))?;
        if discord.interactions.is_some() && !auto_channels.is_empty() {
            return Err(ConfigError::new(
                "MEETNOW_AUTO_CHANNELS",
                "needs the gateway (Discord announces new channels only there), and DISCORD_PUBLIC_KEY with \
                 MEETNOW_LISTEN_ADDR turns it off; leave MEETNOW_AUTO_CHANNELS empty in HTTP mode, or run one gateway-mode process for it",
            ));
        }
        // The TLS stack reads `SSL_CERT_FILE` itself and skips what it can't use; checking it here turns a
        // wrong file into exit 2 instead of every HTTPS call failing later.
        if let Some(file) = get("SSL_CERT_FILE") {
            check_ca_file(&file)?;
        }
        let allowed_guild_ids = match get("MEETNOW_ALLOWED_GUILD_IDS") {
            Some(value) => Some(parse_guild_ids(&value)?),
            None => discord.guild_id.map(|guild| vec![guild]),
        };
        let live = parse_live(
            public_url,
            get("MEETNOW_NOTIFICATION_CERTIFICATE_PATH"),
            get("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH"),
            listen,
            &graph.credential,
        )?;
        let ring = parse_ring(
            get("MEETNOW_RING"),
            get("MEETNOW_RING_SECONDS"),
            get("MEETNOW_CALLS_OPENID_CONFIGURATION"),
            live.is_some(),
        )?;
        Ok(Self {
            discord,
            pin: get("MEETNOW_PIN").map_or(Ok(true), |v| parse_bool("MEETNOW_PIN", &v))?,
            allowed_role_ids: get("MEETNOW_ALLOWED_ROLE_IDS").map_or(Ok(Vec::new()), |v| parse_role_ids(&v))?,
            allowed_guild_ids,
            shutdown_grace: get("MEETNOW_SHUTDOWN_GRACE_SECONDS")
                .map_or(Ok(DEFAULT_SHUTDOWN_GRACE), |v| parse_shutdown_grace(&v))?,
            log_format: get("LOG_FORMAT").map_or(Ok(LogFormat::Pretty), |v| parse_log_format(&v))?,
            log_filter: parse_log_filter(get("RUST_LOG").unwrap_or_else(|| "info,serenity=warn".into()))?,
            metrics_addr: get("METRICS_ADDR").map(|v| parse_metrics_addr(&v)).transpose()?,
            auto_channels,
            listen_addr: listen.map(|(addr, _)| addr),
            channel_locale: get("MEETNOW_LOCALE").map(|v| parse_locale(&v)).transpose()?,
            live,
            ring,
            graph,
        })
    }

    /// The Discord bot token, which `run` and `check` need and `create` does not.
    ///
    /// # Errors
    /// A [`ConfigError`] naming `DISCORD_TOKEN` when it is not set.
    pub fn discord_token(&self) -> Result<&SecretString, ConfigError> {
        self.discord.token.as_ref().ok_or_else(|| {
            ConfigError::new(
                "DISCORD_TOKEN",
                "is not set; `meetnow run` and `meetnow check` need the bot token \
                 (Discord Developer Portal → your application → Bot → Reset Token)",
            )
        })
    }
}

/// How long the listener keeps serving after SIGTERM by default: Kubernetes removes an endpoint from its
/// Services and load balancers a few seconds after it marks the pod terminating.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl fmt::Display for LobbyBypass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_graph_str())
    }
}

pub(crate) mod parse;

pub use parse::check_public_key;
use parse::*;

#[cfg(test)]
mod tests;
