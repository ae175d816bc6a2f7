//! HTTP mode against what the internet can send: stale signatures and replays, expired tokens, weak keys,
//! slow clients, and stop signals in the middle of it (rolling updates).

use std::time::Duration;

use crate::support;
use crate::support::bot::RunningBot;
use crate::support::discord::{DiscordStandIn, Invocation};
use crate::support::graph::GraphStandIn;
use crate::support::interactions::InteractionsClient;
use crate::support::process::{command, BotProcess};
use tokio::io::AsyncWriteExt as _;

/// A bot in HTTP mode (plus `extra`) and a client that signs as Discord does, pointed at it.
async fn endpoint_bot(extra: &[(&'static str, &str)]) -> (RunningBot, InteractionsClient) {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let mut client = InteractionsClient::new(&discord);
    let key = client.public_key();
    let mut vars = vec![("DISCORD_PUBLIC_KEY", key.as_str()), ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0")];
    vars.extend_from_slice(extra);
    let bot = RunningBot::start_with(discord, graph, &vars).await;
    client.set_endpoints(vec![format!("http://{}/interactions", bot.interactions_addr.unwrap())]);
    (bot, client)
}

#[tokio::test]
async fn stale_or_future_signatures_and_replays_change_nothing() {
    let (bot, client) = endpoint_bot(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let url = format!("http://{}/interactions", bot.interactions_addr.unwrap());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (_, payload) = bot.discord.prepare(&[Invocation::in_channel(8_200_000_000_000_000_001)]).remove(0);
    let body = payload.to_string().into_bytes();
    for (what, at) in [("ten minutes ago", now - 600), ("ten minutes ahead", now + 600), ("301 s ago", now - 301)] {
        let timestamp = at.to_string();
        let signed = Some((client.sign(&timestamp, &body), timestamp));
        assert_eq!(client.post(&url, body.clone(), signed).await.status, 401, "{what}: validly signed, but stale");
    }
    assert_eq!(support::graph::meeting_posts(&bot.graph), 0, "a stale command reaches nothing");

    // The same signed request twice, within the window: handled once, even for a separate bridge.
    let prepared = bot.discord.prepare(&[Invocation::in_channel(8_200_000_000_000_000_002).new_meeting()]).remove(0);
    let body = prepared.1.to_string().into_bytes();
    let timestamp = now.to_string();
    let signature = client.sign(&timestamp, &body);
    let first = client.post(&url, body.clone(), Some((signature.clone(), timestamp.clone()))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = client.post(&url, body, Some((signature, timestamp))).await;
    assert_eq!(again.status, 409, "a replay is not handled again: {}", again.body);
    bot.graph.wait_for("the one meeting", |g| (g.meetings_created() == 1).then_some(())).await;
    let metrics = reqwest::get(bot.metrics_url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"meetnow_http_refused_total{reason="stale_timestamp"} 3"#), "{metrics}");
    assert!(metrics.contains(r#"meetnow_http_refused_total{reason="replayed"} 1"#), "{metrics}");
    let graph = bot.graph.clone();
    bot.stop().await.unwrap();
    assert_eq!(graph.meetings_created(), 1, "one meeting, not two");
}

#[tokio::test]
async fn a_command_whose_token_has_expired_is_never_posted_in_the_channel() {
    let (bot, client) = endpoint_bot(&[]).await;
    // Signed now (as a replay inside the window could be), but issued 20 minutes ago: its token is dead.
    let channel = 8_300_000_000_000_000_001;
    let prepared = bot.discord.prepare_issued(&[Invocation::in_channel(channel)], Duration::from_secs(20 * 60));
    let (token, _) = client.deliver(prepared.into_iter().next().unwrap()).await;
    bot.discord.wait_for("the refused edit", |d| d.interaction(&token).errors.contains(&50027).then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert!(discord.channel_messages().is_empty(), "no fallback post: {:?}", discord.channel_messages());
}

#[tokio::test]
async fn a_weak_public_key_is_a_configuration_error() {
    let (_graph, _discord, vars) = support::stand_ins().await;
    let identity = format!("01{}", "00".repeat(31));
    for (what, key) in [("all zeros", "00".repeat(32)), ("the identity point", identity)] {
        let mut vars = vars.clone();
        vars.push(("DISCORD_PUBLIC_KEY", key));
        vars.push(("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0".into()));
        let out = command(&["run"], &vars, None).await;
        let said = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {said}");
        assert!(said.contains("DISCORD_PUBLIC_KEY") && said.contains("small order"), "{what}: {said}");
    }
}

/// Opens a connection that sends its headers and the start of a body, then nothing more.
async fn slow_client(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head =
        "POST /interactions HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn commands_are_answered_with_a_hundred_slow_clients_connected_and_sigterm_still_exits_at_once() {
    let (_graph, discord, vars) = support::stand_ins().await;
    let mut client = InteractionsClient::new(&discord);
    let mut vars = vars.clone();
    vars.extend([
        ("DISCORD_PUBLIC_KEY", client.public_key()),
        ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0".into()),
        ("MEETNOW_SHUTDOWN_GRACE_SECONDS", "1".into()),
    ]);
    let bot = BotProcess::start(&vars);
    let addr = bot.bound("interactions").await;
    client.set_endpoints(vec![format!("http://{addr}/interactions")]);
    let mut slow = Vec::new();
    for _ in 0..120 {
        slow.push(slow_client(addr).await);
    }
    let mut tokens = Vec::new();
    for channel in 0..5 {
        // `deliver` checks the 200, and the stand-in the 3 s deadline.
        let (token, _) = client.invoke(Invocation::in_channel(8_400_000_000_000_000_000 + channel)).await;
        tokens.push(token);
    }
    for token in &tokens {
        let record = discord.settled(token).await;
        assert!(record.acknowledged_after.is_some_and(|after| after < support::discord::DEADLINE), "{record:?}");
        assert!(record.original.is_some(), "announced");
    }
    // Clients keep connecting during shutdown; SIGTERM still ends it within the grace and the drain limit.
    for _ in 0..20 {
        slow.push(slow_client(addr).await);
    }
    let started = std::time::Instant::now();
    bot.signal_terminate();
    let (status, output) = bot.exited_within(Duration::from_secs(10)).await;
    assert!(status.success(), "{output}");
    eprintln!("SIGTERM with {} slow clients connected: exit 0 after {:?}", slow.len(), started.elapsed());
    drop(slow);
}

#[tokio::test]
async fn a_second_sigterm_exits_at_once() {
    let (graph, discord, vars) = support::stand_ins().await;
    let mut client = InteractionsClient::new(&discord);
    let mut vars = vars.clone();
    vars.extend([("DISCORD_PUBLIC_KEY", client.public_key()), ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0".into())]);
    let bot = BotProcess::start(&vars);
    client.set_endpoints(vec![format!("http://{}/interactions", bot.bound("interactions").await)]);
    // A command Graph takes long over keeps the first SIGTERM draining.
    graph.set_latency(Duration::from_secs(30));
    client.invoke(Invocation::in_channel(8_500_000_000_000_000_001)).await;
    bot.signal_terminate();
    bot.printed("shutting down").await;
    bot.signal_terminate();
    let (status, output) = bot.exited_within(Duration::from_secs(3)).await;
    assert_eq!(status.code(), Some(130), "{output}");
    assert!(output.contains("a second stop signal"), "{output}");
}

#[tokio::test]
async fn after_sigterm_the_endpoint_is_unready_first_and_keeps_answering_through_the_grace() {
    let (bot, client) = endpoint_bot(&[("METRICS_ADDR", "127.0.0.1:0"), ("MEETNOW_SHUTDOWN_GRACE_SECONDS", "3")]).await;
    let readyz = bot.metrics_url("/readyz");
    assert_eq!(reqwest::get(&readyz).await.unwrap().status(), 200);
    let discord = bot.discord.clone();
    let stopping = tokio::spawn(bot.stop());
    crate::support::poll(&readyz, "503 at once", |answer| answer.status == 503).await;
    // The load balancer has not caught up yet: a command routed here now is still answered.
    let (token, _) = client.invoke(Invocation::in_channel(8_600_000_000_000_000_001)).await;
    assert!(discord.settled(&token).await.original.is_some(), "announced during the grace");
    stopping.await.unwrap().unwrap();
}
