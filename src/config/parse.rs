//! Each variable's parser: what a valid value looks like, and the sentence a wrong one gets (naming the
//! variable, never echoing a secret). The ways of signing in are [`sign_in`]'s; the inbound listener, HTTP
//! mode and live status, which need one another, are [`listeners`]'.

mod listeners;
mod sign_in;

pub use listeners::check_public_key;
pub(super) use listeners::{parse_interactions, parse_listen, parse_live, parse_ring};
pub(super) use sign_in::parse_credential;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;

use super::{ChannelPatterns, ConfigError, LobbyBypass, LogFormat, RateLimiting};

pub(super) fn require(get: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    get(name).ok_or_else(|| ConfigError::new(name, format!("is not set; {}", what_it_is(name))))
}

/// A value as the messages quote it: in double quotes, with quotes, backslashes and control characters
/// escaped, so a stray newline or an invisible character in a variable shows.
pub(super) struct Quoted<'a, T: AsRef<str> + ?Sized>(pub &'a T);

impl<T: AsRef<str> + ?Sized> std::fmt::Display for Quoted<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_char('"')?;
        for c in self.0.as_ref().chars() {
            match c {
                '\'' => f.write_char(c)?,
                _ => write!(f, "{}", c.escape_debug())?,
            }
        }
        f.write_char('"')
    }
}

/// What a required variable holds and where to find it, for the "is not set" message.
pub(super) fn what_it_is(name: &str) -> &'static str {
    match name {
        "AZURE_TENANT_ID" => "set it to your Entra tenant id (a GUID) or domain, e.g. contoso.onmicrosoft.com",
        "AZURE_CLIENT_ID" => "set it to the app registration's Application (client) ID, a GUID",
        "AZURE_CLIENT_SECRET" => {
            "set it to the client secret's Value (Certificates & secrets → New client secret), not its Secret ID"
        }
        "AZURE_CLIENT_CERTIFICATE_PATH" => "set it to the PEM file holding the app's certificate and private key",
        "AZURE_FEDERATED_TOKEN_FILE" => "set it to the file holding the federated token",
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

pub(super) fn parse_discord_token(token: String) -> Result<SecretString, ConfigError> {
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

pub(super) fn parse_snowflake(variable: &'static str, value: &str) -> Result<u64, ConfigError> {
    match value.parse::<u64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ConfigError::new(
            variable,
            format!("{value} is not a Discord id; it must be a number such as 1051234567890123456 (Developer Mode → right-click → Copy ID)", value = Quoted(&value)),
        )),
    }
}

pub(super) fn parse_base_url(variable: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| {
        ConfigError::new(
            variable,
            format!("{value} is not a URL ({e}); it must look like https://host", value = Quoted(&value)),
        )
    })?;
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        return Err(ConfigError::new(
            variable,
            format!("{value} must be a base URL without query or fragment", value = Quoted(&value)),
        ));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err(ConfigError::new(
                variable,
                format!(
                "{value} uses http:// for a host that is not loopback; use https:// so no secret crosses a network \
                     in clear text (http:// is accepted only for 127.0.0.0/8, [::1] and localhost)",
                value = Quoted(&value)
            ),
            ))
        }
        other => {
            return Err(ConfigError::new(
                variable,
                format!("{value} has scheme {other}; use https://", value = Quoted(&value), other = Quoted(&other)),
            ))
        }
    }
    // One form whether the value ends in a slash or not: a path prefix (`https://proxy/graph/`) loses its
    // trailing slash; a root URL keeps the `/` every URL has. Callers append path segments to either.
    let trimmed = url.as_str().trim_end_matches('/').to_owned();
    Url::parse(&trimmed)
        .map_err(|e| ConfigError::new(variable, format!("{value} is not a URL ({e})", value = Quoted(&value))))
}

pub(super) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The link-local address of Azure's instance metadata service.
pub(super) fn is_metadata_host(url: &Url) -> bool {
    url.host() == Some(url::Host::Ipv4(std::net::Ipv4Addr::new(169, 254, 169, 254)))
}

pub(super) fn parse_tenant(value: String) -> Result<String, ConfigError> {
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
                "{value} is neither a tenant id (GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47) nor a domain \
                 (like contoso.onmicrosoft.com); find it in Entra admin center → Overview → Tenant ID",
                value = Quoted(&value)
            ),
        ))
    }
}

pub(super) fn parse_client_id(value: String) -> Result<String, ConfigError> {
    if is_guid(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new(
            "AZURE_CLIENT_ID",
            format!(
                "{value} is not a GUID; copy the Application (client) ID from the app registration's Overview page, \
                 e.g. 11111111-2222-3333-4444-555555555555",
                value = Quoted(&value)
            ),
        ))
    }
}

pub(super) fn parse_organizer(value: String) -> Result<String, ConfigError> {
    if is_guid(&value) {
        return Ok(value);
    }
    let hint = if value.contains('@') {
        format!(
            "{value} is an e-mail address, but Graph needs the user's Entra object id (a GUID)",
            value = Quoted(&value)
        )
    } else {
        format!("{value} is not an Entra object id (a GUID)", value = Quoted(&value))
    };
    Err(ConfigError::new(
        "MEETNOW_ORGANIZER_ID",
        format!(
            "{hint}; find it in Entra admin center → Users → the organizer → Object ID, or run \
             `az ad user show --id alice@contoso.com --query id -o tsv`"
        ),
    ))
}

pub(super) fn parse_lobby(value: &str) -> Result<LobbyBypass, ConfigError> {
    LobbyBypass::ALL.into_iter().find(|scope| scope.as_graph_str().eq_ignore_ascii_case(value)).ok_or_else(|| {
        let valid: Vec<_> = LobbyBypass::ALL.iter().map(|s| s.as_graph_str()).collect();
        ConfigError::new(
            "MEETNOW_LOBBY_BYPASS",
            format!("{value} is not one of: {}", valid.join(", "), value = Quoted(&value)),
        )
    })
}

pub(super) fn parse_bool(variable: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            variable,
            format!("{value} is not a boolean; use true or false", value = Quoted(&value)),
        )),
    }
}

pub(super) fn parse_duration(value: &str) -> Result<Duration, ConfigError> {
    match value.parse::<u64>() {
        Ok(minutes @ 1..=1440) => Ok(Duration::from_secs(minutes * 60)),
        _ => Err(ConfigError::new(
            "MEETNOW_DURATION_MINUTES",
            format!("{value} is not a whole number of minutes from 1 to 1440 (one day)", value = Quoted(&value)),
        )),
    }
}

pub(super) fn parse_role_ids(value: &str) -> Result<Vec<u64>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_snowflake("MEETNOW_ALLOWED_ROLE_IDS", item))
        .collect()
}

pub(super) fn parse_guild_ids(value: &str) -> Result<Vec<u64>, ConfigError> {
    let ids = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_snowflake("MEETNOW_ALLOWED_GUILD_IDS", item))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(ConfigError::new(
            "MEETNOW_ALLOWED_GUILD_IDS",
            format!(
                "{value} names no server; list server ids separated by commas, e.g. 1051234567890123456",
                value = Quoted(&value)
            ),
        ));
    }
    Ok(ids)
}

pub(super) fn parse_shutdown_grace(value: &str) -> Result<Duration, ConfigError> {
    match value.parse::<u64>() {
        Ok(seconds @ 0..=60) => Ok(Duration::from_secs(seconds)),
        _ => Err(ConfigError::new(
            "MEETNOW_SHUTDOWN_GRACE_SECONDS",
            format!("{value} is not a whole number of seconds from 0 to 60, e.g. 5", value = Quoted(&value)),
        )),
    }
}

pub(super) fn parse_ratelimit(value: &str) -> Result<RateLimiting, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "local" => Ok(RateLimiting::Local),
        "proxy" => Ok(RateLimiting::Proxy),
        _ => Err(ConfigError::new(
            "DISCORD_RATELIMIT",
            format!(
                "{value} is not local or proxy; local (the default) keeps Discord's rate limits in the bot, proxy \
                 leaves them to a proxy at DISCORD_API_URL",
                value = Quoted(&value)
            ),
        )),
    }
}

pub(super) fn parse_log_format(value: &str) -> Result<LogFormat, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err(ConfigError::new("LOG_FORMAT", format!("{value} is not pretty or json", value = Quoted(&value)))),
    }
}

pub(super) fn parse_metrics_addr(value: &str) -> Result<std::net::SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        ConfigError::new(
            "METRICS_ADDR",
            format!(
                "{value} is not an address and port; use e.g. 127.0.0.1:9464 (or 0.0.0.0:9464 for every interface)",
                value = Quoted(&value)
            ),
        )
    })
}

/// `MEETNOW_LOCALE`: a Discord locale code meetnow speaks.
pub(super) fn parse_locale(value: &str) -> Result<crate::l10n::Lang, ConfigError> {
    crate::l10n::Lang::from_discord(value).ok_or_else(|| {
        let spoken: Vec<&str> =
            crate::l10n::Lang::all().flat_map(|lang| lang.discord_codes().iter().copied()).collect();
        ConfigError::new(
            "MEETNOW_LOCALE",
            format!(
                "{value} is not a language meetnow speaks; use one of {} (Discord's locale codes), or leave it \
                 empty to post in each server's language",
                spoken.join(", "),
                value = Quoted(&value)
            ),
        )
    })
}

pub(super) fn parse_log_filter(value: String) -> Result<String, ConfigError> {
    tracing_subscriber::EnvFilter::try_new(&value).map(|_| value.clone()).map_err(|e| {
        ConfigError::new(
            "RUST_LOG",
            format!("{value} is not a tracing filter ({e}); e.g. info,meetnow=debug", value = Quoted(&value)),
        )
    })
}

pub(super) fn parse_auto_channels(value: &str) -> Result<ChannelPatterns, ConfigError> {
    let mut patterns = Vec::new();
    for pattern in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // A lone `*` would give every new channel and thread a Teams meeting: surely not what anyone wants.
        let literal = pattern.chars().filter(|&c| c != '*').count();
        if literal == 0 || pattern.chars().any(|c| c.is_control() || c == ',') || pattern.chars().count() > 100 {
            return Err(ConfigError::new(
                "MEETNOW_AUTO_CHANNELS",
                format!(
                    "{pattern} is not a channel name pattern; use names with * wildcards, e.g. inc-*,sev1-* \
                     (a pattern must contain more than *)",
                    pattern = Quoted(&pattern)
                ),
            ));
        }
        patterns.push(pattern.to_lowercase());
    }
    Ok(ChannelPatterns(patterns))
}

/// `SSL_CERT_FILE` must name a readable PEM file with at least one certificate; otherwise the TLS stack would
/// silently trust nothing extra, and every HTTPS call through the company's proxy would fail later.
pub(super) fn check_ca_file(value: &str) -> Result<(), ConfigError> {
    use rustls_pki_types::pem::PemObject as _;
    let bytes = std::fs::read(value).map_err(|e| {
        ConfigError::new(
            "SSL_CERT_FILE",
            format!("{value} can't be read ({e}); point it at your CA's certificate (PEM)"),
        )
    })?;
    let certificates = rustls_pki_types::CertificateDer::pem_slice_iter(&bytes).filter(Result::is_ok).count();
    if certificates == 0 {
        return Err(ConfigError::new(
            "SSL_CERT_FILE",
            format!(
                "{value} holds no PEM certificate (-----BEGIN CERTIFICATE-----); a DER file converts with \
                 `openssl x509 -inform der -in ca.cer -out ca.pem`"
            ),
        ));
    }
    Ok(())
}
