//! Bridges without typing: a channel or thread whose name matches `MEETNOW_AUTO_CHANNELS` gets its standing
//! bridge posted when it is created, once, whatever the number of processes.

use std::collections::HashMap;

use crate::support::bot::RunningBot;
use crate::support::discord::{DiscordStandIn, Invocation, Route, INTENT_GUILDS};
use crate::support::graph::GraphStandIn;

const AUTO: (&str, &str) = ("MEETNOW_AUTO_CHANNELS", "inc-*,sev1-*");

/// The announcements posted in `channel` (channel messages, not replies to a command).
fn posted_in(discord: &DiscordStandIn, channel: u64) -> Vec<serde_json::Value> {
    discord.channel_messages().into_iter().filter(|m| m.channel_id == channel).map(|m| m.body).collect()
}

async fn announced(discord: &DiscordStandIn, channel: u64) -> serde_json::Value {
    discord.wait_for("the new channel's announcement", |d| posted_in(d, channel).pop()).await
}

#[tokio::test]
async fn a_new_incident_channel_gets_its_bridge_pinned_and_meetnow_there_returns_it() {
    let bot = RunningBot::start(&[AUTO]).await;
    assert_eq!(bot.discord.identified_intents(), vec![INTENT_GUILDS], "GUILDS, and only it");

    let channel = bot.discord.create_channel("inc-3001", 0, 0).await;
    let message = announced(&bot.discord, channel).await;
    let embed = &message["embeds"][0];
    assert_eq!(embed["title"], "\\#inc-3001 bridge");
    assert!(embed["description"].as_str().unwrap().starts_with("New bridge"), "{embed}");
    let link = embed["url"].as_str().unwrap().to_owned();
    let message_id: u64 = message["id"].as_str().unwrap().parse().unwrap();
    bot.discord.wait_for("the pin", |d| d.pins().contains(&(channel, message_id)).then_some(())).await;
    bot.graph.wait_for("the lobby", |g| g.meetings_without_the_configured_lobby().is_empty().then_some(())).await;

    // Later, someone types /meetnow there: the same bridge, not a second one.
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    let record = bot.discord.settled(&token).await;
    let original = record.original.unwrap();
    assert_eq!(original["embeds"][0]["url"], link.as_str());
    assert!(original["embeds"][0]["description"].as_str().unwrap().starts_with("This channel's standing bridge"));
    assert_eq!(bot.graph.meetings_created(), 1);
    assert_eq!(bot.discord.pins().len(), 1);
    assert!(bot.discord.violations().is_empty() && bot.discord.pings().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn only_new_text_announcement_and_thread_channels_whose_names_match_get_a_bridge() {
    let bot = RunningBot::start(&[AUTO]).await;
    // Not these: another name, a voice channel, a thread the bot was added to an hour after it was made.
    for (name, kind, age) in [("general", 0, 0), ("incident-review", 0, 0), ("inc-voice", 2, 0), ("inc-old", 11, 3600)]
    {
        bot.discord.create_channel(name, kind, age).await;
    }
    // These: an announcement channel (any case) and a thread just made.
    let news = bot.discord.create_channel("SEV1-payments", 5, 0).await;
    let thread = bot.discord.create_channel("inc-3002-followup", 11, 2).await;
    announced(&bot.discord, news).await;
    announced(&bot.discord, thread).await;
    let discord = bot.discord.clone();
    let graph = bot.graph.clone();
    bot.stop().await.unwrap();
    // Every event has been handled once the bot has stopped (its tasks end with it).
    assert_eq!(graph.meetings_created(), 2);
    let mut channels: Vec<u64> = discord.channel_messages().iter().map(|m| m.channel_id).collect();
    channels.sort_unstable();
    assert_eq!(channels, {
        let mut v = vec![news, thread];
        v.sort_unstable();
        v
    });
}

#[tokio::test]
async fn without_the_variable_the_bot_asks_for_no_intent() {
    let bot = RunningBot::start(&[]).await;
    assert_eq!(bot.discord.identified_intents(), vec![0]);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn with_two_processes_each_new_channel_is_announced_once() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let a = RunningBot::start_with(discord.clone(), graph.clone(), &[AUTO]).await;
    let b = RunningBot::start_with(discord.clone(), graph.clone(), &[AUTO]).await;
    let mut channels = Vec::new();
    for i in 0..10 {
        channels.push(discord.create_channel(&format!("inc-41{i:02}"), 0, 0).await);
    }
    for &channel in &channels {
        announced(&discord, channel).await;
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
    // Both processes asked Graph for each channel's bridge; the one answered 201 announced it.
    let asked = graph.requests().iter().filter(|r| r.path.ends_with("/createOrGet")).count();
    assert_eq!(asked, 20);
    let mut per_channel: HashMap<u64, usize> = HashMap::new();
    for message in discord.channel_messages() {
        *per_channel.entry(message.channel_id).or_default() += 1;
    }
    assert!(channels.iter().all(|c| per_channel.get(c) == Some(&1)), "{per_channel:?}");
    assert_eq!(discord.pins().len(), 10);
    assert!(graph.meetings_without_the_configured_lobby().is_empty());
}

#[tokio::test]
async fn a_channel_where_the_bot_may_not_post_gets_nothing_and_no_retry() {
    let bot = RunningBot::start(&[AUTO, ("METRICS_ADDR", "127.0.0.1:0")]).await;
    bot.discord.push_fault(
        Route::ChannelMessage,
        403,
        serde_json::json!({"code": 50013, "message": "Missing Permissions"}),
    );
    let locked = bot.discord.create_channel("inc-locked", 0, 0).await;
    crate::support::metrics_with(&bot.metrics_url("/metrics"), "meetnow_errors_total{kind=\"auto_announcement\"} 1")
        .await;
    // The post was refused once and not repeated (a repeat would have succeeded: the fault was used up).
    assert!(posted_in(&bot.discord, locked).is_empty());
    // And the bot goes on: the next channel gets its bridge.
    let open = bot.discord.create_channel("inc-open", 0, 0).await;
    announced(&bot.discord, open).await;
    assert!(posted_in(&bot.discord, locked).is_empty());
    bot.stop().await.unwrap();
}
