//! Only the people it serves: other servers and members without an allowed role get nothing but a private
//! sentence, new channels of other servers are ignored, and `check` says who can add the bot.

use std::collections::HashSet;

use crate::support;
use crate::support::bot::RunningBot;
use crate::support::discord::{Invocation, GUILD_ID};
use crate::support::process::command;

const OTHER_GUILD: u64 = 810_000_000_000_000_001;
const MEMBER: u64 = 700_000_000_000_000_001;
const RESPONDER: u64 = 700_000_000_000_000_555;

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
    assert_eq!(support::graph::meeting_posts(&graph), 1, "and no Graph call");
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
