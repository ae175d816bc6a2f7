//! Within Discord's limits: the bot's own rate limiting on, as in production, against a Discord stand-in that
//! limits like Discord (buckets announced in headers, the global 50/s, 429s counted). The first minute of an
//! incident: everyone types `/meetnow` in the new channel at once, or many incidents open at once.

use std::collections::HashSet;
use std::time::Duration;

use crate::support;
use support::bot::RunningBot;
use support::discord::{DiscordStandIn, Invocation, Route, DEADLINE};
use support::graph::{Fault, GraphStandIn};

fn pins_in(discord: &DiscordStandIn, channel: u64) -> usize {
    discord.pins().iter().filter(|(c, _)| *c == channel).count()
}

fn pin_calls(discord: &DiscordStandIn, channel: u64) -> usize {
    let prefix = format!("/api/v10/channels/{channel}/pins");
    discord.rest_calls().iter().filter(|path| path.contains(&prefix)).count()
}

/// Waits until every command is settled and returns the join links they announced.
async fn announced(discord: &DiscordStandIn, tokens: &[String]) -> Vec<String> {
    let mut links = Vec::new();
    for token in tokens {
        let record = discord.settled(token).await;
        assert!(
            record.acknowledged_after.is_some_and(|after| after < DEADLINE),
            "acknowledged within Discord's 3 s: {:?}",
            record.acknowledged_after
        );
        let original = record.original.expect("announced by editing the reply");
        links.push(original["embeds"][0]["url"].as_str().unwrap().to_owned());
    }
    links
}

#[tokio::test]
async fn forty_people_at_once_in_a_new_channel_get_one_bridge_and_one_pin() {
    let bot = RunningBot::start(&[]).await;
    let channel = 9_300_000_000_000_000_001;
    let tokens = bot.discord.invoke_all((0..40).map(|_| Invocation::in_channel(channel)).collect()).await;
    let links = announced(&bot.discord, &tokens).await;
    assert_eq!(links.iter().collect::<HashSet<_>>().len(), 1, "one bridge for everyone");
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_eq!(pins_in(&discord, channel), 1, "exactly one pinned announcement");
    assert!(discord.unpins().is_empty(), "nothing pinned twice and undone");
    assert!(
        pin_calls(&discord, channel) <= 4,
        "the channel's pin work done once: {} calls",
        pin_calls(&discord, channel)
    );
    assert!(discord.rate_limited_total() <= 3, "429s: {}", discord.rate_limited_total());
}

#[tokio::test]
async fn forty_new_channels_at_once_are_all_answered_and_each_pinned_once() {
    let bot = RunningBot::start(&[]).await;
    let channels: Vec<u64> = (0..40).map(|n| 9_310_000_000_000_000_000 + n).collect();
    let started = std::time::Instant::now();
    let tokens = bot.discord.invoke_all(channels.iter().map(|&c| Invocation::in_channel(c)).collect()).await;
    announced(&bot.discord, &tokens).await;
    let discord = bot.discord.clone();
    discord
        .wait_within(Duration::from_secs(20), "every channel pinned", |d| {
            channels.iter().all(|&c| pins_in(d, c) == 1).then_some(())
        })
        .await;
    let settled = started.elapsed();
    bot.stop().await.unwrap();
    assert!(channels.iter().all(|&c| pins_in(&discord, c) == 1));
    let (user, global) = (discord.rate_limited("user"), discord.rate_limited("global"));
    assert!(user + global <= 3, "429s: {user} on buckets, {global} global");
    // 40 channels' pin work is 120 bot-token calls: under the global 50/s that is about 2.4 s.
    eprintln!("40 channels pinned within {settled:?}");
}

#[tokio::test]
async fn a_global_429_storm_does_not_delay_acknowledgements() {
    let bot = RunningBot::start(&[]).await;
    // Global 429s on the pins: every bot-token call must then wait 4 s, but interaction callbacks are exempt.
    let global = serde_json::json!({"message": "You are being rate limited.", "retry_after": 4.0, "global": true});
    for _ in 0..6 {
        bot.discord.push_fault(Route::Pin, 429, global.clone());
    }
    let channels: Vec<u64> = (0..10).map(|n| 9_320_000_000_000_000_000 + n).collect();
    let first = bot.discord.invoke_all(channels.iter().map(|&c| Invocation::in_channel(c)).collect()).await;
    announced(&bot.discord, &first).await;
    bot.discord.wait_for("a global 429", |d| (d.rate_limited("global") > 0).then_some(())).await;
    // While every bot-token call waits out the global pause, more commands arrive: each is acknowledged
    // within Discord's 3 s (`announced` checks it), which a 4 s pause on them would break.
    let others: Vec<u64> = (10..20).map(|n| 9_320_000_000_000_000_000 + n).collect();
    let second = bot.discord.invoke_all(others.iter().map(|&c| Invocation::in_channel(c)).collect()).await;
    announced(&bot.discord, &second).await;
    bot.stop().await.unwrap();
}

/// Reads of a channel's pins (`GET .../pins`).
fn pin_reads(discord: &DiscordStandIn, channel: u64) -> usize {
    let read = format!("GET /api/v10/channels/{channel}/pins");
    discord.rest_calls().iter().filter(|call| call.split('?').next() == Some(read.as_str())).count()
}

#[tokio::test]
async fn a_read_of_the_pins_that_fails_is_tried_again_and_never_taken_for_no_pin() {
    let bot = RunningBot::start(&[]).await;
    let failed = || serde_json::json!({"code": 0, "message": "500: Internal Server Error"});
    // Graph made the bridge but its 201 was lost on the way; the retry's 200 can't tell whether another
    // process's command announced the bridge meanwhile, so the pins are read before pinning.
    // Twice failing: the third read answers, and the bridge is pinned once.
    let channel = 9_330_000_000_000_000_001;
    bot.graph.push_fault(Fault::ResetMidBody);
    for _ in 0..2 {
        bot.discord.push_fault(Route::PinsRead, 500, failed());
    }
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    bot.discord.settled(&token).await;
    bot.discord.wait_for("the pin", |d| (pins_in(d, channel) == 1).then_some(())).await;
    // Every read failing: not knowing is not "not pinned", so nothing is pinned blind.
    let blind = 9_330_000_000_000_000_002;
    bot.graph.push_fault(Fault::ResetMidBody);
    for _ in 0..20 {
        bot.discord.push_fault(Route::PinsRead, 500, failed());
    }
    let token = bot.discord.invoke(Invocation::in_channel(blind)).await;
    assert!(bot.discord.settled(&token).await.original.is_some(), "announced all the same");
    bot.discord.wait_for("three reads", |d| (pin_calls(d, blind) >= 3).then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_eq!(pins_in(&discord, blind), 0, "no pin made without knowing");
    assert_eq!(pins_in(&discord, channel), 1);
}

#[tokio::test]
async fn a_bridge_graph_made_for_this_command_is_pinned_with_one_call_and_no_read() {
    let bot = RunningBot::start(&[]).await;
    let channel = 9_330_000_000_000_000_003;
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    bot.discord.settled(&token).await;
    // Graph's 201 says the bridge is this command's own: the answer tells all a read of the pins would.
    bot.discord.wait_for("the pin", |d| (pins_in(d, channel) == 1).then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_eq!((pins_in(&discord, channel), pin_reads(&discord, channel)), (1, 0), "{:?}", discord.rest_calls());
}

#[tokio::test]
async fn a_process_restarting_in_a_loop_waits_for_the_session_start_limit_instead_of_spending_it() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    discord.set_session_starts(3, 2_500);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let started = std::time::Instant::now();
    let discord_in = discord.clone();
    let starting = tokio::spawn(async move {
        let bot = RunningBot::start_with(discord_in, graph, &[("METRICS_ADDR", "127.0.0.1:0")]).await;
        let _ = tx.send(());
        bot
    });
    // While it waits: no IDENTIFY, and no readiness.
    discord
        .wait_for("the start limit read", |d| d.rest_calls().iter().any(|c| c.ends_with("/gateway/bot")).then_some(()))
        .await;
    assert_eq!(discord.identifies(), 0, "no session started with 3 of 1,000 left");
    tokio::time::timeout(Duration::from_secs(10), rx).await.expect("connected after the reset").unwrap();
    let bot = starting.await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(2_400),
        "connected only after the reset: {:?}",
        started.elapsed()
    );
    assert_eq!(discord.identifies(), 1);
    let metrics = reqwest::get(bot.metrics_url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("meetnow_gateway_session_starts_remaining 3"), "{metrics}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn with_a_proxy_owning_the_limits_the_bot_sends_straight_to_it() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    // The proxy in front keeps Discord's limits: the stand-in behind it sees a bot that does not wait.
    discord.set_rate_limits(false);
    let bot =
        RunningBot::start_with(discord, graph, &[("DISCORD_RATELIMIT", "proxy"), ("METRICS_ADDR", "127.0.0.1:0")])
            .await;
    let limited = serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.2, "global": false});
    bot.discord.push_fault(Route::EditOriginal, 429, limited);
    let token = bot.discord.invoke(Invocation::in_channel(9_340_000_000_000_000_001)).await;
    assert!(bot.discord.settled(&token).await.original.is_some(), "the edit repeated once after the 429");
    let metrics = reqwest::get(bot.metrics_url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"meetnow_discord_ratelimited_total{scope="user"} 1"#), "{metrics}");
    bot.stop().await.unwrap();
}

/// A counter's value in a `/metrics` body, 0 when absent.
fn counter(metrics: &str, name: &str) -> u64 {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0)
}

#[tokio::test]
async fn a_commands_own_calls_reach_the_limiter_in_process_not_over_loopback() {
    let bot = RunningBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let url = bot.metrics_url("/metrics");
    let forwarded = |metrics: &str| counter(metrics, "meetnow_discord_calls_total{via=\"forwarder\"}");
    let before = support::poll(&url, "the metrics", |answer| answer.status == 200).await.body;
    let channel = 9_330_000_000_000_000_004;
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    bot.discord.settled(&token).await;
    bot.discord.wait_for("the pin", |d| (pins_in(d, channel) == 1).then_some(())).await;
    // The acknowledgement, the edit and the pin: in process, none of them over the loopback forwarder that
    // serenity's other calls (the registration, at start-up) take.
    let after = support::metrics_with(&url, "meetnow_discord_calls_total{via=\"in_process\"} 3").await;
    assert!(forwarded(&before) > 0, "the registration went through the forwarder: {before}");
    assert_eq!(forwarded(&after), forwarded(&before), "a command's call went over loopback: {after}");
    bot.stop().await.unwrap();
}
