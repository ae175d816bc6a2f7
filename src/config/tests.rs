//! The configuration's rules, variable by variable.

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
    assert_eq!(load(&vars).unwrap_err().variable, "MEETNOW_LISTEN_ADDR");
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
fn a_base_url_means_the_same_with_or_without_a_trailing_slash() {
    let endpoint = |value: &str| {
        let mut vars = valid();
        vars.insert("GRAPH_ENDPOINT", value.into());
        load(&vars).unwrap().graph.graph_endpoint
    };
    assert_eq!(endpoint("http://127.0.0.1:9000/"), endpoint("http://127.0.0.1:9000"));
    assert_eq!(endpoint("http://127.0.0.1:9000/graph/"), endpoint("http://127.0.0.1:9000/graph"));
    assert_eq!(endpoint("http://127.0.0.1:9000/graph/").path(), "/graph", "a prefix keeps no trailing slash");
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

#[test]
fn auto_channel_patterns_match_names_with_wildcards() {
    let mut vars = valid();
    vars.insert("MEETNOW_AUTO_CHANNELS", " inc-*, SEV1-*,*-outage ,".into());
    let patterns = load(&vars).unwrap().auto_channels;
    for name in ["inc-2041", "inc-", "Sev1-db", "payments-outage", "INC-7"] {
        assert!(patterns.matches(name), "{name}");
    }
    for name in ["general", "incident", "xinc-1", "sev2-db", "outage-payments"] {
        assert!(!patterns.matches(name), "{name}");
    }
    assert!(load(&valid()).unwrap().auto_channels.is_empty());
    for bad in ["*", "inc-*,**", "a\u{7}b"] {
        assert_eq!(error_for("MEETNOW_AUTO_CHANNELS", bad).variable, "MEETNOW_AUTO_CHANNELS", "{bad:?}");
    }
}

#[test]
fn auto_channels_need_the_gateway() {
    let mut vars = valid();
    vars.insert("MEETNOW_AUTO_CHANNELS", "inc-*".into());
    vars.insert("DISCORD_PUBLIC_KEY", "67c6bd767ca099e79efac9fcce4d2022a63bf7dea780e7f3d813f694c1597089".into());
    vars.insert("MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:8080".into());
    let err = load(&vars).unwrap_err();
    assert_eq!(err.variable, "MEETNOW_AUTO_CHANNELS");
    assert!(err.problem.contains("gateway"), "{err}");
}

#[test]
fn the_served_servers_default_to_the_registration_guild_and_can_be_listed() {
    assert_eq!(load(&valid()).unwrap().allowed_guild_ids, None, "no guild at all: every server, and a warning");
    let mut vars = valid();
    vars.insert("DISCORD_GUILD_ID", "1051234567890123456".into());
    assert_eq!(load(&vars).unwrap().allowed_guild_ids, Some(vec![1_051_234_567_890_123_456]));
    vars.insert("MEETNOW_ALLOWED_GUILD_IDS", "11, 22".into());
    assert_eq!(load(&vars).unwrap().allowed_guild_ids, Some(vec![11, 22]));
    for bad in ["abc", ",", "0"] {
        assert_eq!(error_for("MEETNOW_ALLOWED_GUILD_IDS", bad).variable, "MEETNOW_ALLOWED_GUILD_IDS", "{bad}");
    }
}

#[test]
fn the_shutdown_grace_is_whole_seconds_up_to_a_minute() {
    assert_eq!(load(&valid()).unwrap().shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
    let mut vars = valid();
    vars.insert("MEETNOW_SHUTDOWN_GRACE_SECONDS", "0".into());
    assert_eq!(load(&vars).unwrap().shutdown_grace, Duration::ZERO);
    for bad in ["61", "-1", "2s"] {
        assert_eq!(error_for("MEETNOW_SHUTDOWN_GRACE_SECONDS", bad).variable, "MEETNOW_SHUTDOWN_GRACE_SECONDS");
    }
}

#[test]
fn a_public_key_under_which_any_signature_verifies_is_refused() {
    let identity = format!("01{}", "00".repeat(31));
    for weak in ["00".repeat(32), identity] {
        let err = error_for_pair("DISCORD_PUBLIC_KEY", &weak, "MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:8080");
        assert_eq!(err.variable, "DISCORD_PUBLIC_KEY");
        assert!(err.problem.contains("small order") && err.problem.contains("Developer Portal"), "{err}");
    }
}

#[test]
fn a_managed_identity_endpoint_in_clear_text_must_stay_on_the_host() {
    let with = |pairs: &[(&'static str, &str)]| {
        let mut vars = valid();
        vars.remove("AZURE_CLIENT_SECRET");
        vars.insert("MEETNOW_MANAGED_IDENTITY", "true".into());
        for (k, v) in pairs {
            vars.insert(k, (*v).to_owned());
        }
        load(&vars)
    };
    assert!(with(&[("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"), ("IDENTITY_HEADER", "h")]).is_ok());
    assert!(with(&[("IDENTITY_ENDPOINT", "https://identity.example.com/token"), ("IDENTITY_HEADER", "h")]).is_ok());
    assert!(with(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254")]).is_ok());
    let err = with(&[("IDENTITY_ENDPOINT", "http://10.0.0.5:8081/msi/token"), ("IDENTITY_HEADER", "h")]).unwrap_err();
    assert_eq!(err.variable, "IDENTITY_ENDPOINT");
    assert!(err.problem.contains("clear text"), "{err}");
    let err = with(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://identity.internal")]).unwrap_err();
    assert_eq!(err.variable, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
}

#[test]
fn rate_limiting_is_the_bots_own_unless_a_proxy_at_discord_api_url_owns_it() {
    assert_eq!(load(&valid()).unwrap().discord.ratelimit, RateLimiting::Local);
    let mut vars = valid();
    vars.insert("DISCORD_API_URL", "http://127.0.0.1:3000".into());
    assert_eq!(load(&vars).unwrap().discord.ratelimit, RateLimiting::Local, "a URL alone keeps the limiter on");
    vars.insert("DISCORD_RATELIMIT", "proxy".into());
    assert_eq!(load(&vars).unwrap().discord.ratelimit, RateLimiting::Proxy);
    vars.remove("DISCORD_API_URL");
    let err = load(&vars).unwrap_err();
    assert_eq!(err.variable, "DISCORD_RATELIMIT");
    assert!(err.problem.contains("DISCORD_API_URL"), "{err}");
    assert_eq!(error_for("DISCORD_RATELIMIT", "off").variable, "DISCORD_RATELIMIT");
}

/// A PEM file with a self-signed certificate of `key_pem` (and the key, unless `with_key` is false).
fn certificate_file(key_pem: &str, with_key: bool) -> tempfile::NamedTempFile {
    let key = rcgen::KeyPair::from_pem(key_pem).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["meetnow".to_owned()]).unwrap();
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    let certificate = params.self_signed(&key).unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    let pem = if with_key { format!("{}{}", certificate.pem(), key.serialize_pem()) } else { certificate.pem() };
    std::fs::write(file.path(), pem).unwrap();
    file
}

const RSA_2048: &str = include_str!("../../tests/fixtures/other-rsa-key.pem");
const APP_RSA_2048: &str = include_str!("../../tests/fixtures/app-rsa-key.pem");

fn live(extra: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
    let mut vars = valid();
    vars.insert("MEETNOW_PUBLIC_URL", "https://meetnow.example.com/".into());
    vars.insert("MEETNOW_LISTEN_ADDR", "0.0.0.0:8080".into());
    for (name, value) in extra {
        if value.is_empty() {
            vars.remove(name);
        } else {
            vars.insert(name, (*value).to_owned());
        }
    }
    load(&vars)
}

#[test]
fn live_status_needs_a_public_https_url_a_listener_and_an_rsa_certificate_with_its_key() {
    let good = certificate_file(RSA_2048, true);
    let path = good.path().to_str().unwrap();
    let config = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path)]).unwrap();
    let on = config.live.expect("live status on");
    assert_eq!(on.public_url.as_str(), "https://meetnow.example.com/");
    assert_eq!(on.certificate.key_bits, 2048);
    assert_eq!(config.listen_addr, Some("0.0.0.0:8080".parse().unwrap()));
    assert!(config.discord.interactions.is_none(), "a listener for Graph alone is not HTTP mode");

    let no_listener =
        live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path), ("MEETNOW_LISTEN_ADDR", "")]).unwrap_err();
    assert_eq!(no_listener.variable, "MEETNOW_LISTEN_ADDR");
    assert!(no_listener.problem.contains("MEETNOW_PUBLIC_URL"), "{no_listener}");

    let no_certificate = live(&[]).unwrap_err();
    assert_eq!(no_certificate.variable, "MEETNOW_NOTIFICATION_CERTIFICATE_PATH");
    assert!(no_certificate.problem.contains("openssl req -x509 -newkey rsa:2048"), "{no_certificate}");

    let small = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/small-rsa-certificate.pem");
    let weak = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", small)]).unwrap_err();
    assert_eq!(weak.variable, "MEETNOW_NOTIFICATION_CERTIFICATE_PATH");
    assert!(weak.problem.contains("2048 to 4096 bits"), "{weak}");

    let large = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/large-rsa-certificate.pem");
    let too_large = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", large)]).unwrap_err();
    assert_eq!(too_large.variable, "MEETNOW_NOTIFICATION_CERTIFICATE_PATH");
    assert!(too_large.problem.contains("2048 to 4096 bits"), "{too_large}");

    let keyless = certificate_file(RSA_2048, false);
    let no_key = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", keyless.path().to_str().unwrap())]).unwrap_err();
    assert_eq!(no_key.variable, "MEETNOW_NOTIFICATION_CERTIFICATE_PATH");
    assert!(no_key.problem.contains("no private key"), "{no_key}");

    let missing = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", "/nonexistent/notifications.pem")]).unwrap_err();
    assert_eq!(missing.variable, "MEETNOW_NOTIFICATION_CERTIFICATE_PATH");

    let clear =
        live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path), ("MEETNOW_PUBLIC_URL", "http://meetnow.example.com")])
            .unwrap_err();
    assert_eq!(clear.variable, "MEETNOW_PUBLIC_URL");
    let local =
        live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path), ("MEETNOW_PUBLIC_URL", "http://127.0.0.1:8080")]);
    assert!(local.is_ok(), "http:// on loopback is for tests and a local tunnel");
    let with_query =
        live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path), ("MEETNOW_PUBLIC_URL", "https://x.example/?a=1")]);
    assert_eq!(with_query.unwrap_err().variable, "MEETNOW_PUBLIC_URL");

    let orphan = error_for("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path);
    assert!(orphan.problem.contains("MEETNOW_PUBLIC_URL"), "{orphan}");
}

#[test]
fn during_a_rotation_the_previous_certificate_is_read_too() {
    let (new, old) = (certificate_file(RSA_2048, true), certificate_file(APP_RSA_2048, true));
    let (new_path, old_path) = (new.path().to_str().unwrap(), old.path().to_str().unwrap());
    let config = live(&[
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", new_path),
        ("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH", old_path),
    ])
    .unwrap();
    let on = config.live.unwrap();
    assert_eq!(on.certificate.path, new.path());
    assert_eq!(on.previous_certificate.unwrap().path, old.path());

    let same = live(&[
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", new_path),
        ("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH", new_path),
    ])
    .unwrap_err();
    assert_eq!(same.variable, "MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH");
    assert!(same.problem.contains("same certificate"), "{same}");
    let missing = live(&[
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", new_path),
        ("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH", "/nonexistent/old.pem"),
    ])
    .unwrap_err();
    assert_eq!(missing.variable, "MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH");
    let orphan = error_for("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH", old_path);
    assert!(orphan.problem.contains("MEETNOW_PUBLIC_URL"), "{orphan}");
}

#[test]
fn the_sign_in_certificate_serves_for_notifications_and_the_former_listener_name_is_read() {
    let good = certificate_file(RSA_2048, true);
    let path = good.path().to_str().unwrap();
    let config = live(&[("AZURE_CLIENT_SECRET", ""), ("AZURE_CLIENT_CERTIFICATE_PATH", path)]).unwrap();
    assert_eq!(config.live.unwrap().certificate.path, good.path());

    let former = live(&[
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path),
        ("MEETNOW_LISTEN_ADDR", ""),
        ("MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:9000"),
    ])
    .unwrap();
    assert_eq!(former.listen_addr, Some("0.0.0.0:9000".parse().unwrap()));
    let both = live(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", path), ("MEETNOW_INTERACTIONS_ADDR", "0.0.0.0:9000")])
        .unwrap_err();
    assert_eq!(both.variable, "MEETNOW_LISTEN_ADDR");
    let nothing_to_serve = error_for("MEETNOW_LISTEN_ADDR", "0.0.0.0:8080");
    assert_eq!(nothing_to_serve.variable, "DISCORD_PUBLIC_KEY");
}

#[test]
fn meetnow_locale_is_a_language_meetnow_speaks() {
    let mut vars = valid();
    vars.insert("MEETNOW_LOCALE", "es-419".into());
    assert_eq!(load(&vars).unwrap().channel_locale, Some(crate::l10n::Lang::named("es")));
    assert_eq!(load(&valid()).unwrap().channel_locale, None);
    let refused = error_for("MEETNOW_LOCALE", "klingon");
    assert_eq!(refused.variable, "MEETNOW_LOCALE");
    assert!(refused.problem.contains("ru, zh-CN, es-ES, es-419"), "{refused}");
}

#[test]
fn values_are_quoted_as_written_with_what_is_invisible_shown() {
    assert_eq!(parse::Quoted("sev1").to_string(), "\"sev1\"");
    assert_eq!(parse::Quoted("it's \"x\"\n\u{200b}").to_string(), "\"it's \\\"x\\\"\\n\\u{200b}\"");
    let error = error_for("LOG_FORMAT", "js\u{200b}on");
    assert_eq!(error.to_string(), "LOG_FORMAT: \"js\\u{200b}on\" is not pretty or json");
}

#[test]
fn ringing_is_off_by_default_and_its_seconds_are_bounded() {
    assert!(load(&valid()).unwrap().ring.is_none(), "MEETNOW_RING defaults to false");
    // Live status itself needs a certificate file; the ring rules are checked on their own.
    let on = |seconds: Option<&str>| parse_ring(Some("true".into()), seconds.map(str::to_owned), None, true);
    let ring = on(None).unwrap().unwrap();
    assert_eq!(ring.answer_within, Duration::from_secs(60));
    assert_eq!(ring.openid_configuration.as_str(), CALLS_OPENID_CONFIGURATION);
    assert_eq!(on(Some("5")).unwrap().unwrap().answer_within, Duration::from_secs(5));
    for bad in ["4", "61", "sixty", "-1"] {
        assert_eq!(on(Some(bad)).unwrap_err().variable, "MEETNOW_RING_SECONDS", "{bad}");
    }
    let without_live = parse_ring(Some("true".into()), None, None, false).unwrap_err();
    assert_eq!(without_live.variable, "MEETNOW_RING");
    assert!(without_live.problem.contains("MEETNOW_PUBLIC_URL"), "{}", without_live.problem);
    assert_eq!(parse_ring(Some("false".into()), None, None, false).unwrap().map(|r| r.answer_within), None);
}
