//! Only the people it serves: other servers and members without an allowed role get nothing but a private
//! sentence, and HTTP mode holds against what the internet can send (replays, stale signatures, weak keys,
//! slow clients), through rolling updates. Also what else reaches the edge: proxies, logs, pins.

use crate::support;

use std::collections::HashSet;
use std::time::Duration;

use crate::support::bot::RunningBot;
use crate::support::discord::{DiscordStandIn, Invocation, GUILD_ID};
use crate::support::graph::{Fault, GraphStandIn};
use crate::support::interactions::InteractionsClient;
use crate::support::process::{command, BotProcess};
use tokio::io::AsyncWriteExt as _;

const OTHER_GUILD: u64 = 810_000_000_000_000_001;
const MEMBER: u64 = 700_000_000_000_000_001;
const RESPONDER: u64 = 700_000_000_000_000_555;

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

fn createorgets(graph: &GraphStandIn) -> usize {
    graph.requests().iter().filter(|r| r.method == "POST" && r.path.contains("/onlineMeetings")).count()
}

#[tokio::test]
async fn another_server_gets_a_private_refusal_and_its_new_channels_are_ignored() {
    let bot = RunningBot::start(&[("MEETNOW_AUTO_CHANNELS", "inc-*")]).await;
    let stranger = Invocation { guild_id: Some(OTHER_GUILD), ..Invocation::in_channel(8_100_000_000_000_000_001) };
    for invocation in [stranger.clone(), stranger.new_meeting()] {
        let token = bot.discord.invoke(invocation).await;
        let record = bot.discord.settled(&token).await;
        let text = record.ephemeral_text().expect("told privately");
        assert!(text.contains("not set up for this server") && text.contains("MEETNOW_ALLOWED_GUILD_IDS"), "{text}");
        assert!(!record.deferred() && record.original.is_none(), "nothing public");
    }
    let theirs = bot.discord.create_channel_by(OTHER_GUILD, "inc-theirs", 0, 0, MEMBER).await;
    let ours = bot.discord.create_channel("inc-ours", 0, 0).await;
    bot.discord
        .wait_for("our new channel's bridge", |d| {
            d.channel_messages().iter().any(|m| m.channel_id == ours).then_some(())
        })
        .await;
    let graph = bot.graph.clone();
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert!(discord.channel_messages().iter().all(|m| m.channel_id != theirs), "nothing posted in the other server");
    assert_eq!(graph.meetings_created(), 1, "the other server cost no meeting");
    assert_eq!(createorgets(&graph), 1, "and no Graph call");
}

#[tokio::test]
async fn a_new_thread_gets_its_bridge_without_typing_only_when_its_creator_has_an_allowed_role() {
    let extra = [("MEETNOW_AUTO_CHANNELS", "inc-*"), ("MEETNOW_ALLOWED_ROLE_IDS", "555")];
    let bot = RunningBot::start(&extra).await;
    bot.discord.set_member_roles(RESPONDER, &[555]);
    let by_anyone = bot.discord.create_channel_by(GUILD_ID, "inc-thread-anyone", 11, 0, MEMBER).await;
    let by_responder = bot.discord.create_channel_by(GUILD_ID, "inc-thread-responder", 11, 0, RESPONDER).await;
    let channel = bot.discord.create_channel("inc-channel", 0, 0).await;
    bot.discord
        .wait_for("two bridges", |d| (d.channel_messages().len() >= 2 && d.member_lookups().len() == 2).then_some(()))
        .await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    let posted: HashSet<u64> = discord.channel_messages().iter().map(|m| m.channel_id).collect();
    assert_eq!(posted, HashSet::from([by_responder, channel]), "a channel needs Manage Channels; a thread, a role");
    assert!(!posted.contains(&by_anyone));
    let looked_up: HashSet<u64> = discord.member_lookups().into_iter().collect();
    assert_eq!(looked_up, HashSet::from([MEMBER, RESPONDER]), "thread creators are looked up by REST");
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
    assert_eq!(createorgets(&bot.graph), 0, "a stale command reaches nothing");

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
    assert!(started.elapsed() < Duration::from_secs(9), "took {:?}", started.elapsed());
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
    let unready = async {
        while !reqwest::get(&readyz).await.is_ok_and(|r| r.status() == 503) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(2), unready).await.expect("/readyz turns 503 at once");
    // The load balancer has not caught up yet: a command routed here now is still answered.
    let (token, _) = client.invoke(Invocation::in_channel(8_600_000_000_000_000_001)).await;
    assert!(discord.settled(&token).await.original.is_some(), "announced during the grace");
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn no_log_line_carries_an_interaction_token_even_at_info() {
    let (_graph, discord, vars) = support::stand_ins().await;
    let mut vars = vars.clone();
    vars.push(("RUST_LOG", "info".into()));
    let bot = BotProcess::start(&vars);
    discord.wait_for("the gateway session", |d| d.connected().then_some(())).await;
    bot.printed("registered /meetnow").await;
    // A 429 on the acknowledgement: the rate limiter logs it, and the route it logs holds the token.
    let limited = serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.2, "global": false});
    discord.push_fault(support::discord::Route::Callback, 429, limited);
    let token = discord.invoke(Invocation::in_channel(8_700_000_000_000_000_001)).await;
    discord.settled(&token).await;
    // After a gap in the sequence, serenity warns inside the span of the event that showed it.
    let prepared = discord.prepare(&[Invocation::in_channel(8_700_000_000_000_000_002)]).remove(0);
    let token2 = discord.dispatch_after_a_gap(prepared).await;
    discord.settled(&token2).await;
    let (_, output) = bot.terminate().await;
    for secret in [token.as_str(), token2.as_str(), support::discord::BOT_TOKEN] {
        assert!(!output.contains(secret), "{secret} appears in the log:\n{output}");
    }
    assert!(output.contains("bridge announced"), "the log itself is there: {output}");
    assert!(output.contains("Discord rate-limited a call"), "the 429 was logged: {output}");
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

#[tokio::test]
async fn only_the_bots_own_pinned_announcement_counts_as_pinned() {
    let bot = RunningBot::start(&[]).await;
    let channel = 8_800_000_000_000_000_001;
    // The meeting exists a second before Graph answers: long enough to plant a copy of its announcement.
    bot.graph.push_fault(Fault::Slow(Duration::from_secs(1)));
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    let join_url = bot.graph.wait_for("the meeting", |g| g.join_urls().into_iter().next()).await;
    bot.discord.pin_a_copy_by_another_bot(channel, &join_url);
    let record = bot.discord.settled(&token).await;
    let own = record.original_id.unwrap();
    bot.discord.wait_for("the announcement's own pin", |d| d.pins().contains(&(channel, own)).then_some(())).await;
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_process_standing_by_leaves_an_answer_the_other_process_gave_whatever_it_shows() {
    let bot = RunningBot::start(&[]).await;
    let prepared = bot.discord.prepare(&[Invocation::in_channel(8_900_000_000_000_000_001)]).remove(0);
    let token = prepared.0.clone();
    bot.discord.answer_as_another_process(&token, "Teams is throttling meeting requests right now.");
    bot.discord.dispatch(vec![prepared]).await;
    bot.discord.wait_for("the stand-by look", |d| (d.interaction(&token).original_reads > 0).then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    let record = discord.interaction(&token);
    assert_eq!(record.edits, 0, "not taken over");
    assert_eq!(record.original.unwrap()["content"], "Teams is throttling meeting requests right now.");
}

#[tokio::test]
async fn check_says_when_every_server_is_served_and_whether_anyone_can_add_the_bot() {
    let (_graph, discord, vars) = support::stand_ins().await;
    let everywhere: Vec<_> = vars.iter().filter(|(k, _)| *k != "DISCORD_GUILD_ID").cloned().collect();
    let said = |out: std::process::Output| String::from_utf8_lossy(&out.stdout).into_owned();
    discord.set_bot_public(true);
    let out = said(command(&["check"], &everywhere, None).await);
    let line = out.lines().find(|l| l.contains("servers")).unwrap_or_default().to_owned();
    assert!(line.starts_with("WARN") && line.contains("every server") && line.contains("public"), "{out}");
    assert!(line.contains("Public Bot: off") && line.contains("MEETNOW_ALLOWED_GUILD_IDS"), "{line}");
    discord.set_bot_public(false);
    let out = said(command(&["check"], &everywhere, None).await);
    assert!(out.lines().any(|l| l.starts_with("WARN") && l.contains("is private")), "{out}");
    let out = said(command(&["check"], &vars, None).await);
    let line = out.lines().find(|l| l.contains("servers")).unwrap_or_default().to_owned();
    assert!(line.starts_with("ok") && line.contains(&GUILD_ID.to_string()), "{out}");
}

#[tokio::test]
async fn graph_answers_past_the_cap_are_not_read_whole() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::Huge));
    let out = command(&["create"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not answering"), "{said}");
}
