//! The network a company gives it: HTTPS stand-ins whose certificates come from a CA the bot must be told
//! to trust (`SSL_CERT_FILE`), HTTP/2 where offered, one warm connection per host, and a forward proxy.
//! The real binary, with a clean environment, as an operator runs it.

use crate::support;

use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::support::discord::Invocation;
use crate::support::graph::GraphStandIn;
use crate::support::net::{ConnectProxy, DelayRelay, TestCa, Transport};
use crate::support::process::{command, BotProcess};

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn trusting(vars: &[(&'static str, String)], ca_file: &std::path::Path) -> Vec<(&'static str, String)> {
    let mut vars = vars.to_vec();
    vars.push(("SSL_CERT_FILE", ca_file.display().to_string()));
    vars
}

#[tokio::test]
async fn a_company_ca_is_trusted_through_ssl_cert_file_and_http2_is_used() {
    let (graph, _discord, vars) = support::stand_ins_on(&Transport::tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = command(&["create", "--json"], &trusting(&vars, &TestCa::shared().write(dir.path())), None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(graph.connections.http2.load(Ordering::SeqCst) >= 1, "the server offered h2; the bot took it");
    assert_eq!(graph.connections.handshakes.load(Ordering::SeqCst), 1, "sign-in and Graph share one connection");

    let check = command(&["check"], &trusting(&vars, &TestCa::shared().write(dir.path())), None).await;
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
}

#[tokio::test]
async fn a_server_certificate_from_an_unknown_ca_is_reported_as_exactly_that() {
    let (graph, _discord, vars) = support::stand_ins_on(&Transport::tls()).await;
    let out = command(&["create"], &vars, None).await;
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("is not signed by a certificate authority this host trusts"), "{said}");
    assert!(said.contains("SSL_CERT_FILE") && !said.contains("not answering"), "{said}");
    assert!(said.contains("invalid peer certificate"), "the log keeps the TLS error itself: {said}");
    graph.connections.wait_for("the bot to break off the handshake", |c| c.refused.load(Ordering::SeqCst) >= 1).await;

    // Trusting another CA does not help, and `check` says the same for Discord.
    let dir = tempfile::tempdir().unwrap();
    let other = TestCa::untrusted().write(dir.path());
    let check = command(&["check"], &trusting(&vars, &other), None).await;
    let said = text(&check);
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(said.lines().filter(|l| l.starts_with("FAIL") && l.contains("SSL_CERT_FILE")).count() >= 2, "{said}");
}

#[tokio::test]
async fn an_ssl_cert_file_that_holds_no_certificate_exits_2() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("ca.pem");
    std::fs::write(&empty, "not a certificate").unwrap();
    for file in [empty, dir.path().join("missing.pem")] {
        let out = command(&["create"], &trusting(&graph.env(), &file), None).await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("SSL_CERT_FILE:"), "{}", text(&out));
    }
}

#[tokio::test]
async fn a_server_without_http2_gets_http1() {
    let (graph, _discord, vars) = support::stand_ins_on(&Transport::tls_http1()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = command(&["create"], &trusting(&vars, &TestCa::shared().write(dir.path())), None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(graph.connections.http2.load(Ordering::SeqCst), 0);
    assert!(graph.connections.handshakes.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn https_proxy_carries_sign_in_graph_and_discord_and_no_proxy_bypasses_it() {
    let (graph, discord, vars) = support::stand_ins_on(&Transport::tls()).await;
    let proxy = ConnectProxy::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut vars = trusting(&vars, &TestCa::shared().write(dir.path()));
    vars.push(("HTTPS_PROXY", proxy.url.clone()));

    let out = command(&["check"], &vars, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let targets = proxy.targets();
    let host = |url: &str| url.split_once("://").unwrap().1.to_owned();
    assert!(targets.contains(&host(&graph.url)), "sign-in and Graph went through the proxy: {targets:?}");
    assert!(targets.contains(&host(&discord.url)), "Discord REST went through the proxy: {targets:?}");

    vars.push(("NO_PROXY", "127.0.0.1".into()));
    let before = proxy.targets().len();
    let out = command(&["check"], &vars, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(proxy.targets().len(), before, "NO_PROXY hosts are reached directly");
}

#[tokio::test]
async fn the_running_bot_keeps_one_connection_per_host_over_tls() {
    let (graph, discord, vars) = support::stand_ins_on(&Transport::tls()).await;
    let dir = tempfile::tempdir().unwrap();
    let bot = BotProcess::start(&trusting(&vars, &TestCa::shared().write(dir.path())));
    discord.wait_for("the bot connected", |d| (d.sessions() == 1).then_some(())).await;

    let first = discord.invoke(Invocation::in_channel(7_900_000_000_000_000_001)).await;
    assert!(discord.settled(&first).await.original.is_some());
    let (graph_connections, discord_connections) =
        (graph.connections.handshakes.load(Ordering::SeqCst), discord.connections.handshakes.load(Ordering::SeqCst));
    for channel in 2..12 {
        let token = discord.invoke(Invocation::in_channel(7_900_000_000_000_000_000 + channel)).await;
        assert!(discord.settled(&token).await.original.is_some(), "channel {channel} got its bridge");
    }
    assert_eq!(graph.connections.handshakes.load(Ordering::SeqCst), graph_connections, "no new Graph connection");
    assert_eq!(discord.connections.handshakes.load(Ordering::SeqCst), discord_connections, "no new Discord connection");
    assert!(
        graph.connections.http2.load(Ordering::SeqCst) >= 1 && discord.connections.http2.load(Ordering::SeqCst) >= 1
    );
    let (status, output) = bot.terminate().await;
    assert!(status.success(), "{output}");
}

#[tokio::test]
async fn tls_across_a_long_link_still_takes_one_connection() {
    let graph = GraphStandIn::start_on(&Transport::tls()).await;
    let relay = DelayRelay::start(graph.addr(), Duration::from_millis(20)).await;
    graph.set_public_url(&relay.url(&graph.url));
    let dir = tempfile::tempdir().unwrap();
    let vars = trusting(&graph.env(), &TestCa::shared().write(dir.path()));
    let out = command(&["create", "--key", "inc-far", "--json"], &vars, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(graph.connections.handshakes.load(Ordering::SeqCst), 1, "sign-in and Graph over one HTTP/2 connection");
    assert_eq!(graph.connections.http2.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_managed_identity_token_never_goes_through_the_proxy() {
    let graph = GraphStandIn::start().await;
    let proxy = support::net::ConnectProxy::start().await;
    let mut vars: Vec<(&str, String)> = graph.env().into_iter().filter(|(k, _)| *k != "AZURE_CLIENT_SECRET").collect();
    vars.extend([
        ("MEETNOW_MANAGED_IDENTITY", "true".into()),
        ("IDENTITY_ENDPOINT", format!("{}/msi/token", graph.url)),
        ("IDENTITY_HEADER", support::graph::credentials::IDENTITY_HEADER.into()),
        ("HTTP_PROXY", proxy.url.clone()),
    ]);
    let out = command(&["create", "--json"], &vars, None).await;
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let targets = proxy.targets();
    assert!(targets.iter().any(|t| t.contains("/onlineMeetings")), "Graph itself goes through the proxy: {targets:?}");
    assert!(targets.iter().all(|t| !t.contains("/msi/")), "the identity request does not: {targets:?}");
}
