//! Signing in without a client secret: a certificate, a federated token file, a managed identity. The real
//! binary (real configuration loading) and the real bot, against the Entra stand-in, which checks every
//! assertion as Entra does.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::bot::{Options, RunningBot};
use crate::support::discord::{DiscordStandIn, Invocation};
use crate::support::graph::credentials::{
    AppCertificate, FederatedIssuer, APP_KEY, AUDIENCE, IDENTITY_HEADER, ISSUER, OTHER_KEY, SUBJECT,
};
use crate::support::graph::{GraphStandIn, CLIENT_SECRET};
use crate::support::process::command;

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The stand-in's variables without the client secret, plus `way`.
fn without_secret(graph: &GraphStandIn, way: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut vars: Vec<_> = graph.env().into_iter().filter(|(k, _)| *k != "AZURE_CLIENT_SECRET").collect();
    vars.extend(way.iter().cloned());
    vars
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn certificate_vars(graph: &GraphStandIn, path: &Path) -> Vec<(&'static str, String)> {
    without_secret(graph, &[("AZURE_CLIENT_CERTIFICATE_PATH", path.display().to_string())])
}

#[tokio::test]
async fn a_certificate_signs_in_with_a_fresh_assertion_each_time() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let certificate = AppCertificate::valid(APP_KEY);
    graph.register_certificate(&certificate.der);
    let vars = certificate_vars(&graph, &write(dir.path(), "app.pem", &certificate.pem));

    for _ in 0..2 {
        let out = command(&["create", "--key", "inc-7", "--json"], &vars, None).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let jtis = graph.assertion_ids();
    assert_eq!(jtis.len(), 2, "one verified assertion per sign-in");
    assert_ne!(jtis[0], jtis[1], "every assertion has its own jti");
    assert_eq!(graph.meetings_created(), 1);
}

#[tokio::test]
async fn slash_meetnow_works_with_a_certificate() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let certificate = AppCertificate::valid(APP_KEY);
    graph.register_certificate(&certificate.der);
    let path = write(dir.path(), "app.pem", &certificate.pem).display().to_string();
    let env = [("AZURE_CLIENT_SECRET", ""), ("AZURE_CLIENT_CERTIFICATE_PATH", path.as_str())];
    let bot =
        RunningBot::launch(DiscordStandIn::start().await, graph, Options { env: &env, ..Options::default() }).await;
    let token = bot.discord.invoke(Invocation::in_channel(4242)).await;
    let record = bot.discord.settled(&token).await;
    let join = record.original.as_ref().and_then(|m| m["components"][0]["components"][0]["url"].as_str());
    assert!(join.is_some_and(|url| url.starts_with("https://teams.microsoft.com/")), "{:?}", record.ephemeral_text());
    assert_eq!(bot.graph.assertion_ids().len(), 1);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused_with_where_to_upload_it() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    graph.register_certificate(&AppCertificate::valid(OTHER_KEY).der);
    let vars = certificate_vars(&graph, &write(dir.path(), "app.pem", AppCertificate::valid(APP_KEY).pem));
    let out = command(&["create"], &vars, None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("(AADSTS700027)") && text(&out).contains("Upload certificate"), "{}", text(&out));
    assert!(graph.assertion_ids().is_empty());
}

#[tokio::test]
async fn certificate_files_that_cannot_work_exit_2_with_what_to_do() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let good = AppCertificate::valid(APP_KEY);
    let cert_only = good.pem.split("-----BEGIN PRIVATE KEY-----").next().unwrap().to_owned();
    let other_key = rcgen::KeyPair::from_pem(OTHER_KEY).unwrap().serialize_pem();
    let ec = rcgen::KeyPair::generate().unwrap();
    let ec_certificate = rcgen::CertificateParams::new(vec!["meetnow".into()]).unwrap().self_signed(&ec).unwrap();
    let encrypted = format!(
        "{cert_only}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFLTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("app.pfx", good.der.clone(), "openssl pkcs12 -in app.pfx -out app.pem -nodes"),
        ("encrypted.pem", encrypted.into_bytes(), "encrypted private key"),
        ("mismatched.pem", format!("{cert_only}{other_key}").into_bytes(), "does not belong to the certificate"),
        ("expired.pem", AppCertificate::new(APP_KEY, -400, -1).pem.into_bytes(), "the certificate expired on"),
        ("future.pem", AppCertificate::new(APP_KEY, 3, 400).pem.into_bytes(), "is not valid before"),
        ("ec.pem", format!("{}{}", ec_certificate.pem(), ec.serialize_pem()).into_bytes(), "not RSA"),
        ("cert-only.pem", cert_only.clone().into_bytes(), "holds no private key"),
        ("key-only.pem", APP_KEY.as_bytes().to_vec(), "holds no certificate"),
        ("garbage.pem", b"hello".to_vec(), "is not a PEM file"),
    ];
    for (name, content, expected) in cases {
        let path = write(dir.path(), name, &content);
        for args in [&["create"][..], &["check"]] {
            let out = command(args, &certificate_vars(&graph, &path), None).await;
            let said = text(&out);
            assert_eq!(out.status.code(), Some(2), "{name}: {said}");
            assert!(said.contains("AZURE_CLIENT_CERTIFICATE_PATH:") && said.contains(expected), "{name}: {said}");
            for key in [APP_KEY, OTHER_KEY] {
                assert!(!said.contains(key.lines().nth(1).unwrap()), "{name}: no key material in messages");
            }
        }
    }
    let missing = command(&["create"], &certificate_vars(&graph, &dir.path().join("nowhere.pem")), None).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("can't be read"), "{}", text(&missing));
    assert_eq!(graph.token_requests(), 0, "nothing connects before the configuration is valid");
}

#[tokio::test]
async fn two_ways_of_signing_in_at_once_exit_2_naming_both() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "app.pem", AppCertificate::valid(APP_KEY).pem).display().to_string();
    let cases = [
        (
            vec![("AZURE_CLIENT_SECRET", CLIENT_SECRET.to_owned()), ("AZURE_CLIENT_CERTIFICATE_PATH", path.clone())],
            ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH"],
        ),
        (
            vec![("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token".into()), ("MEETNOW_MANAGED_IDENTITY", "true".into())],
            ["AZURE_FEDERATED_TOKEN_FILE", "MEETNOW_MANAGED_IDENTITY"],
        ),
    ];
    for (way, named) in cases {
        let out = command(&["create"], &without_secret(&graph, &way), None).await;
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(named.iter().all(|n| said.contains(n)) && said.contains("exactly one way"), "{said}");
        assert!(!said.contains(CLIENT_SECRET));
    }
    let none = command(&["create"], &without_secret(&graph, &[]), None).await;
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none).contains("AZURE_CLIENT_CERTIFICATE_PATH"), "{}", text(&none));
    // `MEETNOW_MANAGED_IDENTITY=false` is no way at all, so the secret alone is fine.
    let mut off = graph.env();
    off.push(("MEETNOW_MANAGED_IDENTITY", "false".into()));
    assert_eq!(command(&["create"], &off, None).await.status.code(), Some(0));
}

#[tokio::test]
async fn check_names_the_way_and_warns_before_the_certificate_expires() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (days, warned) in [(10, true), (90, false)] {
        let certificate = AppCertificate::new(APP_KEY, -1, days);
        graph.register_certificate(&certificate.der);
        let path = write(dir.path(), &format!("app-{days}.pem"), &certificate.pem);
        let out = command(&["check"], &certificate_vars(&graph, &path), None).await;
        let said = text(&out);
        assert_eq!(out.status.code(), Some(0), "a certificate that still works passes: {said}");
        assert!(said.contains(&format!("sign-in way        certificate {}", path.display())), "{said}");
        assert!(said.contains("SHA-1 thumbprint"), "{said}");
        assert_eq!(said.contains("WARN  certificate"), warned, "{said}");
        if warned {
            assert!(said.contains("expires in 10 days"), "{said}");
        }
    }
    let secret = command(&["check"], &graph.env(), None).await;
    assert!(text(&secret).contains("sign-in way        client secret (AZURE_CLIENT_SECRET)"), "{}", text(&secret));
}

#[tokio::test]
async fn a_federated_token_is_read_afresh_at_every_sign_in() {
    support::show_logs();
    let graph = GraphStandIn::start().await;
    let issuer = FederatedIssuer::new();
    graph.register_federated_issuer(&issuer);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "azure-identity-token", issuer.good_token());
    let vars = without_secret(&graph, &[("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string())]);
    let config = support::config(&vars);
    let metrics = std::sync::Arc::new(meetnow::metrics::Metrics::default());
    let client = meetnow::graph::GraphClient::new(meetnow::http::client().unwrap(), &config.graph, metrics);
    let key = meetnow::meeting::MeetingKey::named("fed-1").unwrap();
    let request = meetnow::meeting::MeetingRequest { subject: "Sev2".into(), key: Some(key) };
    client.meeting(&request).await.unwrap();
    let first = graph.token_requests();

    // Kubernetes rotates the file; the next sign-in (Graph refused the old token) must present the new one.
    std::fs::write(&file, issuer.token(ISSUER, "system:serviceaccount:other:meetnow", AUDIENCE, 3600)).unwrap();
    graph.push_fault(support::graph::Fault::ExpireTokens);
    let error = client.meeting(&request).await.unwrap_err();
    assert!(graph.token_requests() > first, "signed in again");
    assert!(error.user_message().contains("(AADSTS70021)"), "{}", error.user_message());
}

#[tokio::test]
async fn federated_tokens_entra_refuses_and_missing_files_say_what_to_fix() {
    let graph = GraphStandIn::start().await;
    let issuer = FederatedIssuer::new();
    graph.register_federated_issuer(&issuer);
    let stranger = FederatedIssuer::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("good", issuer.good_token(), None),
        (
            "wrong subject",
            issuer.token(ISSUER, "system:serviceaccount:default:default", AUDIENCE, 3600),
            Some("(AADSTS70021)"),
        ),
        (
            "wrong issuer",
            issuer.token("https://token.actions.githubusercontent.com", SUBJECT, AUDIENCE, 3600),
            Some("Federated credentials"),
        ),
        ("wrong audience", issuer.token(ISSUER, SUBJECT, "api://other", 3600), Some("(AADSTS70021)")),
        ("expired", issuer.token(ISSUER, SUBJECT, AUDIENCE, -600), Some("projected service account token")),
        ("another key", stranger.good_token(), Some("(AADSTS700027)")),
        ("empty", "\n".to_owned(), Some("is empty")),
        ("not a token", "hello".to_owned(), Some("(AADSTS50027)")),
    ];
    for (name, token, expected) in cases {
        let file = write(dir.path(), "token", &token);
        let vars = without_secret(&graph, &[("AZURE_FEDERATED_TOKEN_FILE", file.display().to_string())]);
        let out = command(&["create"], &vars, None).await;
        let said = text(&out);
        match expected {
            None => assert_eq!(out.status.code(), Some(0), "{name}: {said}"),
            Some(fix) => {
                assert_eq!(out.status.code(), Some(1), "{name}: {said}");
                assert!(said.contains(fix), "{name}: {said}");
                assert!(token.trim().is_empty() || !said.contains(token.trim()), "{name}: the token is never shown");
            }
        }
    }
    let vars = without_secret(&graph, &[("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token".into())]);
    let out = command(&["create"], &vars, None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("/nonexistent/token can't be read"), "{}", text(&out));
}

#[tokio::test]
async fn a_managed_identity_signs_in_on_app_service_and_on_a_vm() {
    let graph = GraphStandIn::start().await;
    let app_service = |header: &str| {
        without_secret(
            &graph,
            &[
                ("MEETNOW_MANAGED_IDENTITY", "true".into()),
                ("IDENTITY_ENDPOINT", format!("{}/msi/token", graph.url)),
                ("IDENTITY_HEADER", header.to_owned()),
            ],
        )
    };
    let out = command(&["create", "--json"], &app_service(IDENTITY_HEADER), None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = command(&["create"], &app_service("not a header\n"), None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("IDENTITY_HEADER: contains spaces"), "{}", text(&out));
    let out = command(&["create"], &app_service("wrong-header"), None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("managed identity endpoint refused") && text(&out).contains("HTTP 401"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("wrong-header"), "the header is a secret");

    let vm = without_secret(
        &graph,
        &[("MEETNOW_MANAGED_IDENTITY", "true".into()), ("AZURE_POD_IDENTITY_AUTHORITY_HOST", graph.url.clone())],
    );
    let out = command(&["check"], &vm, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("managed identity, from the instance metadata service"), "{}", text(&out));
    assert_eq!(graph.identity_tokens(), 2);

    // Off Azure there is no endpoint at all: that is a setup problem, said as one.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let off_azure = without_secret(
        &graph,
        &[
            ("MEETNOW_MANAGED_IDENTITY", "true".into()),
            ("AZURE_POD_IDENTITY_AUTHORITY_HOST", format!("http://{closed}")),
        ],
    );
    let out = command(&["create"], &off_azure, None).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no managed identity endpoint answers"), "{}", text(&out));
}
