//! The inbound listener (`MEETNOW_LISTEN_ADDR`) and what it serves: Discord's interactions (HTTP mode,
//! `DISCORD_PUBLIC_KEY`, a key checked to be usable) and Graph's notifications (live status,
//! `MEETNOW_PUBLIC_URL` and the notification certificates). Each needs the listener, and the listener needs
//! one of them.

use super::{parse_base_url, Quoted};
use crate::config::{ConfigError, InteractionsEndpoint, LiveConfig};
use crate::credential::Credential;

/// `MEETNOW_LISTEN_ADDR`, or its former name `MEETNOW_INTERACTIONS_ADDR`, with the name that was used.
pub(in crate::config) fn parse_listen(
    listen: Option<String>,
    former: Option<String>,
) -> Result<Option<(std::net::SocketAddr, &'static str)>, ConfigError> {
    let (variable, value) = match (listen, former) {
        (None, None) => return Ok(None),
        (Some(listen), Some(former)) if listen != former => {
            return Err(ConfigError::new(
                "MEETNOW_LISTEN_ADDR",
                format!(
                    "is {listen} but its former name MEETNOW_INTERACTIONS_ADDR is {former}; there is one inbound \
                     listener now: keep MEETNOW_LISTEN_ADDR and remove MEETNOW_INTERACTIONS_ADDR",
                    listen = Quoted(&listen),
                    former = Quoted(&former)
                ),
            ))
        }
        (Some(listen), _) => ("MEETNOW_LISTEN_ADDR", listen),
        (None, Some(former)) => ("MEETNOW_INTERACTIONS_ADDR", former),
    };
    let addr = value.parse().map_err(|_| {
        ConfigError::new(
            variable,
            format!(
                "{value} is not an address and port; use e.g. 0.0.0.0:8080 (or 127.0.0.1:8080 behind a proxy)",
                value = Quoted(&value)
            ),
        )
    })?;
    Ok(Some((addr, variable)))
}

pub(in crate::config) fn parse_interactions(
    public_key: Option<String>,
    listen: Option<(std::net::SocketAddr, &'static str)>,
    live_status: bool,
) -> Result<Option<InteractionsEndpoint>, ConfigError> {
    let (public_key, addr) = match (public_key, listen) {
        (None, None) => return Ok(None),
        (Some(key), Some((addr, _))) => (key, addr),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "MEETNOW_LISTEN_ADDR",
                "is not set, but DISCORD_PUBLIC_KEY is; set both to serve Discord's Interactions Endpoint URL \
                 (e.g. MEETNOW_LISTEN_ADDR=0.0.0.0:8080), or neither to take commands over the gateway",
            ))
        }
        (None, Some(_)) if live_status => return Ok(None),
        (None, Some((_, variable))) => {
            return Err(ConfigError::new(
                "DISCORD_PUBLIC_KEY",
                format!(
                    "is not set, but {variable} is, and nothing else needs a listener; copy the Public Key from the \
                     Developer Portal (your application → General Information) to take commands over HTTP, set \
                     MEETNOW_PUBLIC_URL for live status, or unset {variable} to use the gateway alone"
                ),
            ))
        }
    };
    let key = parse_hex_key(&public_key).ok_or_else(|| {
        ConfigError::new(
            "DISCORD_PUBLIC_KEY",
            format!(
                "{public_key} is not a public key; it is 64 hexadecimal characters, from the Developer Portal \
                 (your application → General Information → Public Key)",
                public_key = Quoted(&public_key)
            ),
        )
    })?;
    if let Err(weakness) = check_public_key(&key) {
        return Err(ConfigError::new(
            "DISCORD_PUBLIC_KEY",
            format!(
                "is not a usable Ed25519 public key: {weakness}, so it would accept signatures nobody made; copy the \
                 Public Key again from the Developer Portal (your application → General Information → Public Key)"
            ),
        ));
    }
    Ok(Some(InteractionsEndpoint { public_key: key, addr }))
}

/// Live status: on when `MEETNOW_PUBLIC_URL` is set, which then needs a listener and a certificate
/// (`MEETNOW_NOTIFICATION_CERTIFICATE_PATH`, or the sign-in certificate), and during a certificate rotation
/// takes the one being replaced (`MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH`).
pub(in crate::config) fn parse_live(
    public_url: Option<String>,
    certificate_path: Option<String>,
    previous_path: Option<String>,
    listen: Option<(std::net::SocketAddr, &'static str)>,
    credential: &Credential,
) -> Result<Option<LiveConfig>, ConfigError> {
    const VARIABLE: &str = "MEETNOW_NOTIFICATION_CERTIFICATE_PATH";
    const PREVIOUS: &str = "MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH";
    let Some(public_url) = public_url else {
        if let Some(variable) = [(VARIABLE, &certificate_path), (PREVIOUS, &previous_path)]
            .into_iter()
            .find_map(|(variable, value)| value.is_some().then_some(variable))
        {
            return Err(ConfigError::new(
                variable,
                "is set, but MEETNOW_PUBLIC_URL is not; live status needs both (the URL at which Graph reaches this \
                 bot, e.g. https://meetnow.example.com), or unset it",
            ));
        }
        return Ok(None);
    };
    let url = parse_base_url("MEETNOW_PUBLIC_URL", &public_url)?;
    if listen.is_none() {
        return Err(ConfigError::new(
            "MEETNOW_LISTEN_ADDR",
            "is not set, but MEETNOW_PUBLIC_URL is; live status needs an inbound listener for Graph's \
             notifications: set MEETNOW_LISTEN_ADDR (e.g. 0.0.0.0:8080) and route MEETNOW_PUBLIC_URL to it",
        ));
    }
    let path =
        match (certificate_path, credential) {
            (Some(path), _) => std::path::PathBuf::from(path),
            (None, Credential::Certificate(signing)) => signing.path.clone(),
            (None, _) => return Err(ConfigError::new(
                VARIABLE,
                "is not set, and the app does not sign in with a certificate; live status needs one, because Graph \
                 encrypts call events with it. Make one (`openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj \
                 /CN=meetnow-notifications -keyout key.pem -out cert.pem && cat cert.pem key.pem > \
                 notifications.pem`; it needs no upload anywhere) and point this variable at it on every process",
            )),
        };
    let load = |variable: &'static str, path: &std::path::Path| {
        crate::credential::EncryptionCertificate::load(path, variable)
            .map(std::sync::Arc::new)
            .map_err(|problem| ConfigError::new(variable, problem))
    };
    let current = load(VARIABLE, &path)?;
    let previous = match previous_path {
        Some(previous) => {
            let previous = load(PREVIOUS, std::path::Path::new(&previous))?;
            if previous.sha256_thumbprint == current.sha256_thumbprint {
                return Err(ConfigError::new(
                    PREVIOUS,
                    format!(
                        "holds the same certificate as {VARIABLE}; during a rotation it is the one being replaced: \
                         point {VARIABLE} at the new certificate, or unset {PREVIOUS}"
                    ),
                ));
            }
            Some(previous)
        }
        None => None,
    };
    Ok(Some(LiveConfig { public_url: url, certificate: current, previous_certificate: previous }))
}

/// The longest and shortest wait for an answer a ring takes (`MEETNOW_RING_SECONDS`): the bot leaves every
/// call at most 90 s after joining it (the wait plus 30 s), and Teams itself stops ringing after about a minute.
pub const RING_SECONDS: std::ops::RangeInclusive<u64> = 5..=60;

/// Ringing: on when `MEETNOW_RING` is true, which needs live status (`MEETNOW_PUBLIC_URL` and the listener:
/// Graph posts call notifications below that URL, and the certificate keys the call addresses).
pub(in crate::config) fn parse_ring(
    ring: Option<String>,
    seconds: Option<String>,
    openid_configuration: Option<String>,
    live: bool,
) -> Result<Option<crate::config::RingConfig>, ConfigError> {
    let on = ring.map_or(Ok(false), |v| super::parse_bool("MEETNOW_RING", &v))?;
    if !on {
        if let Some(variable) =
            [("MEETNOW_RING_SECONDS", &seconds), ("MEETNOW_CALLS_OPENID_CONFIGURATION", &openid_configuration)]
                .into_iter()
                .find_map(|(variable, value)| value.is_some().then_some(variable))
        {
            return Err(ConfigError::new(
                variable,
                "is set, but MEETNOW_RING is not true; set MEETNOW_RING=true to ring people into the bridge, or unset it",
            ));
        }
        return Ok(None);
    }
    if !live {
        return Err(ConfigError::new(
            "MEETNOW_RING",
            "is true, but MEETNOW_PUBLIC_URL is not set; ringing needs live status's public URL and listener,              because Graph posts the call's notifications below it (MEETNOW_PUBLIC_URL, MEETNOW_LISTEN_ADDR and the              notification certificate: README, Live status), or set MEETNOW_RING=false",
        ));
    }
    let answer_within = match seconds {
        None => std::time::Duration::from_secs(*RING_SECONDS.end()),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if RING_SECONDS.contains(&n) => std::time::Duration::from_secs(n),
            _ => {
                return Err(ConfigError::new(
                    "MEETNOW_RING_SECONDS",
                    format!(
                        "must be a whole number of seconds from {} to {} (how long a ring waits for an answer), not {}",
                        RING_SECONDS.start(),
                        RING_SECONDS.end(),
                        Quoted(&text)
                    ),
                ))
            }
        },
    };
    let openid_configuration = super::parse_base_url(
        "MEETNOW_CALLS_OPENID_CONFIGURATION",
        openid_configuration.as_deref().unwrap_or(crate::config::CALLS_OPENID_CONFIGURATION),
    )?;
    Ok(Some(crate::config::RingConfig { answer_within, openid_configuration }))
}

/// Why a key can't be used to verify Discord's signatures: serenity's verifier would take any key that
/// decodes to a curve point, and under a small-order one any signature verifies.
pub fn check_public_key(bytes: &[u8; 32]) -> Result<ed25519_dalek::VerifyingKey, &'static str> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| "it is not a point on the Ed25519 curve")?;
    let point = key.to_edwards();
    if point.compress().to_bytes() != *bytes {
        return Err("it is not the canonical encoding of its point");
    }
    if point.is_small_order() {
        return Err("it is a point of small order");
    }
    if !point.is_torsion_free() {
        return Err("it is not of full order (it has a small-order component)");
    }
    Ok(key)
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
