//! Configuration: every environment variable of `docs/interface.md`, read once, validated, typed.
//!
//! [`Config::from_lookup`] takes any `Fn(&str) -> Option<String>`, so tests build configurations without
//! touching the process environment; [`Config::from_env`] is that with `std::env::var`. A problem becomes a
//! [`ConfigError`] that names the variable, says what is wrong and what a valid value looks like, and never
//! contains a secret's value. Secrets are [`SecretString`]s, whose `Debug` prints `[REDACTED]`.
//!
//! This module knows nothing of HTTP, serenity or Graph; it only decides what the settings are.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

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
    /// Members need one of these roles to use `/meetnow`; empty means anyone Discord lets in.
    pub allowed_role_ids: Vec<u64>,
    pub log_format: LogFormat,
    /// The `tracing` filter (`RUST_LOG`), already checked to parse.
    pub log_filter: String,
    /// `METRICS_ADDR`: where to serve `/metrics` and `/healthz`; `None`: no listener.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// Settings for the Discord side.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// `DISCORD_TOKEN`: needed by `run` and `check`, not by `create`; see [`Config::discord_token`].
    pub token: Option<SecretString>,
    /// `DISCORD_GUILD_ID`: register `/meetnow` in this guild only.
    pub guild_id: Option<u64>,
    /// `DISCORD_API_URL`: send REST calls here instead of `https://discord.com` (rate limiter off).
    pub api_url: Option<Url>,
    /// `DISCORD_PUBLIC_KEY` and `MEETNOW_INTERACTIONS_ADDR`: receive commands at Discord's Interactions
    /// Endpoint URL instead of over the gateway.
    pub interactions: Option<InteractionsEndpoint>,
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
    /// `AZURE_CLIENT_SECRET`: the secret's *value*.
    pub client_secret: SecretString,
    /// `AZURE_AUTHORITY_HOST`, without a trailing slash.
    pub authority_host: Url,
    /// `GRAPH_ENDPOINT`, without a trailing slash.
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
            interactions: parse_interactions(get("DISCORD_PUBLIC_KEY"), get("MEETNOW_INTERACTIONS_ADDR"))?,
        };

        let graph = GraphConfig {
            tenant_id: parse_tenant(require(&get, "AZURE_TENANT_ID")?)?,
            client_id: parse_client_id(require(&get, "AZURE_CLIENT_ID")?)?,
            client_secret: parse_client_secret(require(&get, "AZURE_CLIENT_SECRET")?)?,
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

        Ok(Self {
            discord,
            graph,
            pin: get("MEETNOW_PIN").map_or(Ok(true), |v| parse_bool("MEETNOW_PIN", &v))?,
            allowed_role_ids: get("MEETNOW_ALLOWED_ROLE_IDS").map_or(Ok(Vec::new()), |v| parse_role_ids(&v))?,
            log_format: get("LOG_FORMAT").map_or(Ok(LogFormat::Pretty), |v| parse_log_format(&v))?,
            log_filter: parse_log_filter(get("RUST_LOG").unwrap_or_else(|| "info,serenity=warn".into()))?,
            metrics_addr: get("METRICS_ADDR").map(|v| parse_metrics_addr(&v)).transpose()?,
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

impl fmt::Display for LobbyBypass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_graph_str())
    }
}

fn require(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    get(name).ok_or_else(|| ConfigError::new(name, format!("is not set; {}", what_it_is(name))))
}

/// What a required variable holds and where to find it, for the "is not set" message.
fn what_it_is(name: &str) -> &'static str {
    match name {
        "AZURE_TENANT_ID" => "set it to your Entra tenant id (a GUID) or domain, e.g. contoso.onmicrosoft.com",
        "AZURE_CLIENT_ID" => "set it to the app registration's Application (client) ID, a GUID",
        "AZURE_CLIENT_SECRET" => {
            "set it to the client secret's Value (Certificates & secrets → New client secret), not its Secret ID"
        }
        "MEETNOW_ORGANIZER_ID" => "set it to the Entra object id (a GUID) of the user who organizes the meetings",
        _ => "it is required",
    }
}

/// True for the canonical 8-4-4-4-12 hexadecimal form Entra shows.
pub(crate) fn is_guid(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn parse_discord_token(token: String) -> Result<SecretString, ConfigError> {
    // serenity adds the `Bot ` prefix itself; a pasted prefix would double it.
    let token = token.strip_prefix("Bot ").unwrap_or(&token).trim().to_owned();
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            "DISCORD_TOKEN",
            "contains spaces or control characters; paste only the token from the Developer Portal's Bot page",
        ));
    }
    Ok(SecretString::new(token))
}

fn parse_snowflake(variable: &'static str, value: &str) -> Result<u64, ConfigError> {
    match value.parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ConfigError::new(
            variable,
            format!("{value:?} is not a Discord id; it must be a number such as 1051234567890123456 (Developer Mode → right-click → Copy ID)"),
        )),
    }
}

fn parse_base_url(variable: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| {
        ConfigError::new(variable, format!("{value:?} is not a URL ({e}); it must look like https://host"))
    })?;
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        return Err(ConfigError::new(variable, format!("{value:?} must be a base URL without query or fragment")));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                variable,
                format!(
                "{value:?} uses http:// for a host that is not loopback; use https:// so no secret crosses a network \
                     in clear text (http:// is accepted only for 127.0.0.0/8, [::1] and localhost)"
            ),
            ))
        }
        other => return Err(ConfigError::new(variable, format!("{value:?} has scheme {other:?}; use https://"))),
    }
    // Keep the URL without a trailing slash so paths join as `{base}/v1.0/...`.
    let trimmed = url.as_str().trim_end_matches('/').to_owned();
    Url::parse(&trimmed).map_err(|e| ConfigError::new(variable, format!("{value:?} is not a URL ({e})")))
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn parse_tenant(value: String) -> Result<String, ConfigError> {
    let is_domain = value.contains('.')
        && value
            .split('.')
            .all(|label| !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if is_guid(&value) || is_domain {
        Ok(value)
    } else {
        Err(ConfigError::new(
            "AZURE_TENANT_ID",
            format!(
                "{value:?} is neither a tenant id (GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain \
                 (like contoso.onmicrosoft.com); find it in Entra admin center → Overview → Tenant ID"
            ),
        ))
    }
}

fn parse_client_id(value: String) -> Result<String, ConfigError> {
    if is_guid(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new(
            "AZURE_CLIENT_ID",
            format!(
                "{value:?} is not a GUID; copy the Application (client) ID from the app registration's Overview page, \
                 e.g. 11111111-2222-3333-4444-555555555555"
            ),
        ))
    }
}

fn parse_client_secret(value: String) -> Result<SecretString, ConfigError> {
    // The portal shows a secret's Value once and its Secret ID forever; the ID is a GUID and a
    // classic paste mistake. A secret value is never in that form. (The value is not echoed.)
    if is_guid(&value) {
        return Err(ConfigError::new(
            "AZURE_CLIENT_SECRET",
            "looks like the secret's Secret ID (a GUID), not its Value; in Certificates & secrets create a new \
             client secret and copy the Value column right away (it is shown only once)",
        ));
    }
    Ok(SecretString::new(value))
}

fn parse_organizer(value: String) -> Result<String, ConfigError> {
    if is_guid(&value) {
        return Ok(value);
    }
    let hint = if value.contains('@') {
        format!("{value:?} is an e-mail address, but Graph needs the user's Entra object id (a GUID)")
    } else {
        format!("{value:?} is not an Entra object id (a GUID)")
    };
    Err(ConfigError::new(
        "MEETNOW_ORGANIZER_ID",
        format!(
            "{hint}; find it in Entra admin center → Users → the organizer → Object ID, or run \
             `az ad user show --id alice@contoso.com --query id -o tsv`"
        ),
    ))
}

fn parse_lobby(value: &str) -> Result<LobbyBypass, ConfigError> {
    LobbyBypass::ALL.into_iter().find(|scope| scope.as_graph_str().eq_ignore_ascii_case(value)).ok_or_else(|| {
        let valid: Vec<_> = LobbyBypass::ALL.iter().map(|s| s.as_graph_str()).collect();
        ConfigError::new("MEETNOW_LOBBY_BYPASS", format!("{value:?} is not one of: {}", valid.join(", ")))
    })
}

fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(variable, format!("{value:?} is not a boolean; use true or false"))),
    }
}

fn parse_duration(value: &str) -> Result<Duration, ConfigError> {
    match value.parse::<u64>() {
        Ok(minutes @ 1..=1440) => Ok(Duration::from_secs(minutes * 60)),
        _ => Err(ConfigError::new(
            "MEETNOW_DURATION_MINUTES",
            format!("{value:?} is not a whole number of minutes from 1 to 1440 (one day)"),
        )),
    }
}

fn parse_role_ids(value: &str) -> Result<Vec<u64>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_snowflake("MEETNOW_ALLOWED_ROLE_IDS", item))
        .collect()
}

fn parse_log_format(value: &str) -> Result<LogFormat, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(ConfigError::new("LOG_FORMAT", format!("{value:?} is not pretty or json"))),
    }
}

fn parse_metrics_addr(value: &str) -> Result<std::net::SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        ConfigError::new(
            "METRICS_ADDR",
            format!(
                "{value:?} is not an address and port; use e.g. 127.0.0.1:9464 (or 0.0.0.0:9464 for every interface)"
            ),
        )
    })
}

fn parse_interactions(
    public_key: Option<String>,
    addr: Option<String>,
) -> Result<Option<InteractionsEndpoint>, ConfigError> {
    let (public_key, addr) = match (public_key, addr) {
        (None, None) => return Ok(None),
        (Some(key), Some(addr)) => (key, addr),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "MEETNOW_INTERACTIONS_ADDR",
                "is not set, but DISCORD_PUBLIC_KEY is; set both to serve Discord's Interactions Endpoint URL \
                 (e.g. MEETNOW_INTERACTIONS_ADDR=0.0.0.0:8080), or neither to take commands over the gateway",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "DISCORD_PUBLIC_KEY",
                "is not set, but MEETNOW_INTERACTIONS_ADDR is; copy the Public Key from the Developer Portal \
                 (your application → General Information), or unset MEETNOW_INTERACTIONS_ADDR to use the gateway",
            ))
        }
    };
    let key = parse_hex_key(&public_key).ok_or_else(|| {
        ConfigError::new(
            "DISCORD_PUBLIC_KEY",
            format!(
                "{public_key:?} is not a public key; it is 64 hexadecimal characters, from the Developer Portal \
                 (your application → General Information → Public Key)"
            ),
        )
    })?;
    let addr = addr.parse().map_err(|_| {
        ConfigError::new(
            "MEETNOW_INTERACTIONS_ADDR",
            format!("{addr:?} is not an address and port; use e.g. 0.0.0.0:8080 (or 127.0.0.1:8080 behind a proxy)"),
        )
    })?;
    Ok(Some(InteractionsEndpoint { public_key: key, addr }))
}

fn parse_hex_key(value: &str) -> Option<[u8; 32]> {
    if value.len() != 64 || !value.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (byte, pair) in key.iter_mut().zip(value.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

fn parse_log_filter(value: String) -> Result<String, ConfigError> {
    tracing_subscriber::EnvFilter::try_new(&value).map(|_| value.clone()).map_err(|e| {
        ConfigError::new("RUST_LOG", format!("{value:?} is not a tracing filter ({e}); e.g. info,meetnow=debug"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    const ORGANIZER: &str = "0f0e0d0c-0b0a-0908-0706-050403020100";

    fn valid() -> HashMap<&'static str, String> {
        HashMap::from([
            ("AZURE_TENANT_ID", "contoso.onmicrosoft.com".to_owned()),
            ("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555".to_owned()),
            ("AZURE_CLIENT_SECRET", "s3cr3t~value.with~tilde".to_owned()),
            ("MEETNOW_ORGANIZER_ID", ORGANIZER.to_owned()),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| vars.get(k).cloned())
    }

    fn error_for(name: &'static str, value: &str) -> ConfigError {
        let mut vars = valid();
        vars.insert(name, value.to_owned());
        load(&vars).expect_err("value must be refused")
    }

    #[test]
    fn defaults_follow_the_interface() {
        let cfg = load(&valid()).unwrap();
        assert_eq!(cfg.graph.authority_host.as_str(), "https://login.microsoftonline.com/");
        assert_eq!(cfg.graph.graph_endpoint.host_str(), Some("graph.microsoft.com"));
        assert_eq!(cfg.graph.lobby_bypass, LobbyBypass::Organization);
        assert!(cfg.graph.dial_in_bypass);
        assert_eq!(cfg.graph.duration, Duration::from_secs(3600));
        assert!(cfg.pin);
        assert!(cfg.allowed_role_ids.is_empty());
        assert_eq!(cfg.log_format, LogFormat::Pretty);
        assert!(cfg.discord.token.is_none() && cfg.discord.api_url.is_none() && cfg.discord.guild_id.is_none());
    }

    #[test]
    fn the_interactions_endpoint_needs_both_variables_and_a_real_key() {
        let key = "67c6bd767ca099e79efac9fcce4d2022a63bf7dea780e7f3d813f694c1597089";
        let mut vars = valid();
        vars.insert("DISCORD_PUBLIC_KEY", key.into());
        assert_eq!(load(&vars).unwrap_err().variable, "MEETNOW_INTERACTIONS_ADDR");
        vars.insert("MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:8080".into());
        let endpoint = load(&vars).unwrap().discord.interactions.unwrap();
        assert_eq!(endpoint.public_key[..2], [0x67, 0xc6]);
        assert_eq!(endpoint.addr.port(), 8080);
        vars.remove("DISCORD_PUBLIC_KEY");
        assert_eq!(load(&vars).unwrap_err().variable, "DISCORD_PUBLIC_KEY");
        for bad in [&key[1..], "zz".repeat(32).as_str(), "é".repeat(32).as_str()] {
            let err = error_for_pair("DISCORD_PUBLIC_KEY", bad, "MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:8080");
            assert_eq!(err.variable, "DISCORD_PUBLIC_KEY", "{bad}");
            assert!(err.problem.contains("64 hexadecimal"), "{err}");
        }
        let err = error_for_pair("DISCORD_PUBLIC_KEY", key, "MEETNOW_INTERACTIONS_ADDR", "8080");
        assert_eq!(err.variable, "MEETNOW_INTERACTIONS_ADDR");
        assert!(load(&valid()).unwrap().discord.interactions.is_none());
    }

    fn error_for_pair(a: &'static str, a_value: &str, b: &'static str, b_value: &str) -> ConfigError {
        let mut vars = valid();
        vars.insert(a, a_value.to_owned());
        vars.insert(b, b_value.to_owned());
        load(&vars).expect_err("values must be refused")
    }

    #[test]
    fn every_required_variable_is_named_when_missing() {
        for name in ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "MEETNOW_ORGANIZER_ID"] {
            let mut vars = valid();
            vars.remove(name);
            let err = load(&vars).unwrap_err();
            assert_eq!(err.variable, name);
            assert!(err.problem.starts_with("is not set"), "{err}");
            // An empty value in .env is the same as unset.
            vars.insert(name, "  ".into());
            assert_eq!(load(&vars).unwrap_err().variable, name);
        }
    }

    #[test]
    fn organizer_email_is_refused_with_the_fix() {
        let err = error_for("MEETNOW_ORGANIZER_ID", "alice@contoso.com");
        assert_eq!(err.variable, "MEETNOW_ORGANIZER_ID");
        assert!(err.problem.contains("e-mail address"), "{err}");
        assert!(err.problem.contains("Object ID"), "{err}");
        assert_eq!(error_for("MEETNOW_ORGANIZER_ID", "not-a-guid").variable, "MEETNOW_ORGANIZER_ID");
    }

    #[test]
    fn lobby_scope_is_an_enum_read_case_insensitively() {
        let mut vars = valid();
        vars.insert("MEETNOW_LOBBY_BYPASS", "OrganizationAndFederated".into());
        assert_eq!(load(&vars).unwrap().graph.lobby_bypass, LobbyBypass::OrganizationAndFederated);
        let err = error_for("MEETNOW_LOBBY_BYPASS", "anyone");
        assert!(err.problem.contains("organizationExcludingGuests"), "lists the valid values: {err}");
    }

    #[test]
    fn duration_is_bounded() {
        for bad in ["0", "1441", "-5", "1h", "60.5"] {
            assert_eq!(error_for("MEETNOW_DURATION_MINUTES", bad).variable, "MEETNOW_DURATION_MINUTES", "{bad}");
        }
        let mut vars = valid();
        vars.insert("MEETNOW_DURATION_MINUTES", "1440".into());
        assert_eq!(load(&vars).unwrap().graph.duration, Duration::from_secs(86_400));
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80", "https://graph.microsoft.us"] {
            let mut vars = valid();
            vars.insert("GRAPH_ENDPOINT", ok.into());
            assert!(load(&vars).is_ok(), "{ok}");
        }
        for bad in ["http://graph.microsoft.com", "http://10.0.0.5", "ftp://x", "graph.microsoft.com"] {
            assert_eq!(error_for("GRAPH_ENDPOINT", bad).variable, "GRAPH_ENDPOINT", "{bad}");
        }
        assert_eq!(error_for("AZURE_AUTHORITY_HOST", "http://login.example").variable, "AZURE_AUTHORITY_HOST");
        assert_eq!(error_for("DISCORD_API_URL", "http://discord.example").variable, "DISCORD_API_URL");
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        let mut vars = valid();
        vars.insert("GRAPH_ENDPOINT", "http://127.0.0.1:9000/".into());
        let cfg = load(&vars).unwrap();
        assert_eq!(cfg.graph.graph_endpoint.as_str().trim_end_matches('/'), "http://127.0.0.1:9000");
    }

    #[test]
    fn secret_id_pasted_instead_of_value_is_caught_without_echoing_it() {
        let id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
        let err = error_for("AZURE_CLIENT_SECRET", id);
        assert!(err.problem.contains("Secret ID"), "{err}");
        assert!(!err.to_string().contains(id));
    }

    #[test]
    fn role_ids_bools_and_log_format() {
        let mut vars = valid();
        vars.insert("MEETNOW_ALLOWED_ROLE_IDS", " 123, 456 ,".into());
        vars.insert("MEETNOW_PIN", "off".into());
        vars.insert("MEETNOW_DIALIN_BYPASS", "0".into());
        vars.insert("LOG_FORMAT", "json".into());
        let cfg = load(&vars).unwrap();
        assert_eq!(cfg.allowed_role_ids, vec![123, 456]);
        assert!(!cfg.pin && !cfg.graph.dial_in_bypass);
        assert_eq!(cfg.log_format, LogFormat::Json);
        assert_eq!(error_for("MEETNOW_ALLOWED_ROLE_IDS", "123,admins").variable, "MEETNOW_ALLOWED_ROLE_IDS");
        assert_eq!(error_for("MEETNOW_PIN", "maybe").variable, "MEETNOW_PIN");
        assert_eq!(error_for("LOG_FORMAT", "xml").variable, "LOG_FORMAT");
        assert_eq!(error_for("DISCORD_GUILD_ID", "my-server").variable, "DISCORD_GUILD_ID");
        assert_eq!(error_for("AZURE_TENANT_ID", "not a tenant").variable, "AZURE_TENANT_ID");
        assert_eq!(error_for("AZURE_CLIENT_ID", "meetnow-app").variable, "AZURE_CLIENT_ID");
        assert_eq!(error_for("RUST_LOG", "info,[").variable, "RUST_LOG");
        assert_eq!(error_for("METRICS_ADDR", "localhost").variable, "METRICS_ADDR");
        let mut vars = valid();
        vars.insert("METRICS_ADDR", "127.0.0.1:9464".into());
        assert_eq!(load(&vars).unwrap().metrics_addr.unwrap().port(), 9464);
    }

    #[test]
    fn discord_token_is_needed_only_when_asked_for() {
        let cfg = load(&valid()).unwrap();
        assert_eq!(cfg.discord_token().unwrap_err().variable, "DISCORD_TOKEN");
        let mut vars = valid();
        vars.insert("DISCORD_TOKEN", "Bot abc.def.ghi".into());
        let cfg = load(&vars).unwrap();
        assert_eq!(cfg.discord_token().unwrap().expose_secret(), "abc.def.ghi");
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let mut vars = valid();
        vars.insert("DISCORD_TOKEN", "discord-token-value".into());
        let shown = format!("{:?}", load(&vars).unwrap());
        assert!(!shown.contains("discord-token-value"), "{shown}");
        assert!(!shown.contains("s3cr3t~value"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}
