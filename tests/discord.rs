//! `/meetnow` end to end: the real bot (real serenity client, real Graph module, real configuration) against
//! the local Discord and Graph stand-ins. Every test also checks that nothing the bot sent broke Discord's
//! or Graph's schema and that nothing would have pinged anyone.

use std::time::Duration;

use crate::support::bot::{Options, RunningBot};
use crate::support::discord::{DiscordStandIn, InteractionRecord, Invocation, Route, APP_ID, DEADLINE, GUILD_ID};
use crate::support::graph::{Audio, Fault, GraphStandIn, Shape, CLIENT_ID, ORGANIZER};
use serde_json::Value;

const CHANNEL: u64 = 4_000_000_000_000_002_041;
const OTHER_CHANNEL: u64 = 4_000_000_000_000_002_042;

fn embed(record: &InteractionRecord) -> &Value {
    &record.original.as_ref().expect("the deferred reply was edited into the announcement")["embeds"][0]
}

/// The announcement's link buttons, as (label, url); the Attendance button links nowhere (tests/attendance.rs).
fn buttons(record: &InteractionRecord) -> Vec<(String, String)> {
    let original = record.original.as_ref().unwrap();
    let row = original["components"][0]["components"].as_array().cloned().unwrap_or_default();
    row.iter().filter_map(|b| Some((b["label"].as_str()?.to_owned(), b["url"].as_str()?.to_owned()))).collect()
}

fn field<'a>(record: &'a InteractionRecord, name: &str) -> Option<&'a str> {
    embed(record)["fields"].as_array()?.iter().find(|f| f["name"] == name).and_then(|f| f["value"].as_str())
}

/// What every test must leave true: valid bodies, no pings, every message with `allowed_mentions.parse = []`.
fn assert_clean(bot: &RunningBot) {
    assert_eq!(bot.discord.violations(), Vec::<String>::new(), "Discord bodies");
    assert_eq!(bot.graph.violations(), Vec::<String>::new(), "Graph bodies");
    assert_eq!(bot.discord.pings(), Vec::<String>::new(), "pings");
    assert_eq!(bot.discord.interaction_errors(), Vec::<u64>::new(), "Discord refused a response (10062, 40060, ...)");
    for (kind, body) in bot.discord.message_bodies() {
        assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]), "{kind} without allowed_mentions: {body}");
    }
}

#[tokio::test]
async fn registers_the_command_in_the_guild_with_its_options() {
    let bot = RunningBot::start(&[]).await;
    let (path, body) = bot.discord.registrations().pop().unwrap();
    assert_eq!(path, format!("/applications/{APP_ID}/guilds/{GUILD_ID}/commands"));
    let command = &body[0];
    assert_eq!(command["name"], "meetnow");
    assert_eq!(command["default_member_permissions"], "2048", "members who can send messages");
    assert_eq!(command["contexts"], serde_json::json!([0]), "guild only");
    let options = command["options"].as_array().unwrap();
    assert_eq!((options[0]["name"].as_str(), options[0]["type"].as_u64()), (Some("subject"), Some(3)));
    assert_eq!(options[0]["max_length"], 200);
    assert_eq!((options[1]["name"].as_str(), options[1]["type"].as_u64()), (Some("new"), Some(5)));
    assert!(options.iter().all(|o| o["required"] != true));
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn registers_globally_without_a_guild_id() {
    let bot = RunningBot::start(&[("DISCORD_GUILD_ID", "")]).await;
    let (path, _) = bot.discord.registrations().pop().unwrap();
    assert_eq!(path, format!("/applications/{APP_ID}/commands"));
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn announces_a_new_bridge_with_every_dial_in_detail_and_pins_it() {
    let bot = RunningBot::start(&[]).await;
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;

    assert!(record.deferred());
    assert!(record.acknowledged_after.unwrap() < DEADLINE);
    let embed = embed(&record);
    assert_eq!(embed["title"], "\\#inc-2041 bridge", "default subject from the channel name");
    assert_eq!(embed["description"], "New bridge: this channel's standing Teams meeting.");
    let dial = field(&record, "Dial in").unwrap();
    assert!(dial.contains("Toll: `+1 206-555-0100` · one tap `+12065550100,,100000001#`"), "{dial}");
    assert!(dial.contains("Toll-free: `+1 866-555-0199` · one tap `+18665550199,,100000001#`"), "{dial}");
    assert_eq!(field(&record, "Conference ID"), Some("`100000001#`"));
    assert_eq!(field(&record, "Join by ID"), Some("Meeting ID `2501000000001` · passcode `aB3dE9`"));

    let buttons = buttons(&record);
    assert_eq!(buttons[0].0, "Join meeting");
    assert!(buttons[0].1.starts_with("https://teams.microsoft.com/l/meetup-join/19%3ameeting_00000001"));
    assert_eq!(buttons[1].0, "Local numbers");
    assert!(buttons[1].1.starts_with("https://dialin.teams.microsoft.com/"));

    let message_id: u64 = record.original.as_ref().unwrap()["id"].as_str().unwrap().parse().unwrap();
    bot.discord.wait_for("the pin", |d| d.pins().contains(&(CHANNEL, message_id)).then_some(())).await;
    assert_eq!(bot.graph.meetings_created(), 1);
    // The lobby PATCH runs while the announcement is posted; the pin comes after both.
    let patch = bot.graph.requests().into_iter().find(|r| r.method == "PATCH").expect("lobby settings applied");
    assert_eq!(patch.body["lobbyBypassSettings"]["scope"], "organization");
    let create = &bot.graph.requests()[0];
    assert_eq!(create.body["externalId"], format!("meetnow:discord:{GUILD_ID}:{CHANNEL}"));
    assert_eq!(create.body["subject"], "#inc-2041 bridge");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_command_is_acknowledged_before_graph_answers() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::launch(discord, graph, Options::real_limits()).await;
    // Graph does not answer until the command is acknowledged: acknowledging after Graph would never happen.
    bot.graph.hold_meetings();
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.wait_for("the acknowledgement", |d| d.interaction(&token).acknowledged_after).await;
    assert!(bot.discord.interaction(&token).announced_after.is_none(), "nothing announced before Graph answered");
    bot.graph.wait_for("the meeting asked for", |g| (!g.requests().is_empty()).then_some(())).await;
    bot.graph.release_meetings();
    let record = bot.discord.settled(&token).await;
    assert!(record.errors.is_empty(), "no 10062: acknowledged in time, {:?}", record.errors);
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_meetnow_in_the_channel_returns_the_standing_bridge() {
    let bot = RunningBot::start(&[]).await;
    let first = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let first = bot.discord.settled(&first).await;
    let mut someone_else = Invocation::in_channel(CHANNEL).subject("ignored for an existing bridge");
    someone_else.user_id = 700_000_000_000_000_999;
    let second = bot.discord.invoke(someone_else).await;
    let second = bot.discord.settled(&second).await;

    assert_eq!(buttons(&first)[0], buttons(&second)[0], "same join link");
    let description = embed(&second)["description"].as_str().unwrap();
    assert!(description.starts_with("This channel's standing bridge, created <t:"), "{description}");
    assert!(description.ends_with(":R>."));
    assert_eq!(embed(&second)["title"], "\\#inc-2041 bridge", "the bridge keeps its subject");
    assert_eq!(bot.graph.meetings_created(), 1);
    bot.discord.wait_for("the new bridge's pin", |d| (d.pins().len() == 1).then_some(())).await;
    assert_clean(&bot);
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_eq!(discord.pins().len(), 1, "only the new bridge is pinned");
}

#[tokio::test]
async fn another_channel_gets_its_own_bridge_and_new_true_a_separate_one() {
    let bot = RunningBot::start(&[]).await;
    let a = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let a = bot.discord.settled(&a).await;
    let b = bot.discord.invoke(Invocation::in_channel(OTHER_CHANNEL)).await;
    let b = bot.discord.settled(&b).await;
    let c_token = bot.discord.invoke(Invocation::in_channel(CHANNEL).new_meeting().subject("Sev1 war room")).await;
    let c = bot.discord.settled(&c_token).await;

    let links: std::collections::HashSet<_> = [&a, &b, &c].iter().map(|r| buttons(r)[0].1.clone()).collect();
    assert_eq!(links.len(), 3);
    assert_eq!(embed(&c)["title"], "Sev1 war room");
    assert_eq!(embed(&c)["description"], "New separate Teams meeting.");
    assert_eq!(bot.graph.meetings_created(), 3);
    // Keyed by the command, so the same command handled twice gets one meeting (RELIABILITY: a replay).
    let external_ids: Vec<String> = bot
        .graph
        .requests()
        .into_iter()
        .filter_map(|r| r.body.get("externalId").and_then(|id| id.as_str()).map(str::to_owned))
        .collect();
    let interaction = bot.discord.interaction(&c_token).id;
    assert!(external_ids.iter().any(|id| id.ends_with(&format!(":new:{interaction}"))), "{external_ids:?}");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn without_audio_conferencing_it_says_why_and_still_links_the_meeting() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_audio(Audio::Null);
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    let description = embed(&record)["description"].as_str().unwrap();
    assert!(description.contains("no Teams Audio Conferencing licence"), "{description}");
    assert_eq!(field(&record, "Dial in"), None);
    assert_eq!(buttons(&record).iter().map(|b| b.0.as_str()).collect::<Vec<_>>(), ["Join meeting"]);
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_seeds_legacy_response_shape_renders_like_v1() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_shape(Shape::Beta2018);
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    let dial = field(&record, "Dial in").unwrap();
    assert!(dial.contains("Toll: `+12525634478` · one tap `+12525634478,,2425999#`"), "{dial}");
    assert!(dial.contains("Toll-free: `+18666390588` · one tap `+18666390588,,2425999#`"), "{dial}");
    assert_eq!(field(&record, "Conference ID"), Some("`2425999#`"));
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn mentions_in_the_subject_ping_nobody() {
    let bot = RunningBot::start(&[]).await;
    let subject = "@everyone @here <@700000000000000001> <@&42> [Join](https://evil.example)";
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL).new_meeting().subject(subject)).await;
    let record = bot.discord.settled(&token).await;
    let title = embed(&record)["title"].as_str().unwrap();
    assert!(title.starts_with("\\@everyone \\@here \\<\\@700000000000000001\\> \\<\\@&42\\> \\[Join\\]"), "{title}");
    assert_eq!(bot.graph.requests()[0].body["subject"], subject, "Teams gets the subject as typed");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn members_without_an_allowed_role_are_refused_privately_and_nothing_is_created() {
    let bot = RunningBot::start(&[("MEETNOW_ALLOWED_ROLE_IDS", "42, 43")]).await;
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let refused = bot.discord.settled(&token).await;
    assert!(refused.ephemeral_text().unwrap().contains("You need one of the roles"));
    assert!(!refused.deferred() && refused.original.is_none());
    assert!(bot.graph.requests().is_empty(), "no meeting for a refused member");

    let mut allowed = Invocation::in_channel(CHANNEL);
    allowed.roles = vec![7, 43];
    let token = bot.discord.invoke(allowed).await;
    let record = bot.discord.settled(&token).await;
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn outside_a_server_the_command_is_refused_privately() {
    let bot = RunningBot::start(&[]).await;
    let mut dm = Invocation::in_channel(CHANNEL);
    dm.guild_id = None;
    let token = bot.discord.invoke(dm).await;
    let record = bot.discord.settled(&token).await;
    assert!(record.ephemeral_text().unwrap().contains("server channels"));
    assert!(bot.graph.requests().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_missing_access_policy_reaches_the_user_privately_and_leaves_no_placeholder() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_always(Some(Fault::AccessPolicy));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    let text = record.ephemeral_text().unwrap();
    assert!(
        text.contains(&format!("New-CsApplicationAccessPolicy -Identity MeetNow -AppIds \"{CLIENT_ID}\"")),
        "{text}"
    );
    assert!(text.contains(&format!("-Identity \"{ORGANIZER}\"")));
    assert!(text.contains("30 minutes"));
    assert!(record.original_deleted, "the public 'thinking…' reply is removed");
    assert!(record.original.is_none(), "no half-made announcement");
    assert!(bot.discord.channel_messages().is_empty());
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn graph_throttling_is_waited_out_and_the_bridge_announced() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.push_fault(Fault::Throttle(Some(1)));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert_eq!(bot.graph.meetings_created(), 1);
    assert_eq!(bot.graph.requests().iter().filter(|r| r.method == "POST").count(), 2);
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn after_the_gateway_drops_the_bot_reconnects_and_answers() {
    let bot = RunningBot::start(&[]).await;
    let sessions = bot.discord.identifies() + bot.discord.resumes();
    bot.discord.drop_gateway();
    bot.discord
        .wait_for("a new gateway session", |d| (d.connected() && d.identifies() + d.resumes() > sessions).then_some(()))
        .await;
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn heartbeats_are_acknowledged_and_the_session_stays_up() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    discord.set_heartbeat_interval(Duration::from_millis(100));
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    bot.discord.wait_for("three heartbeats", |d| (d.heartbeats() >= 3).then_some(())).await;
    assert_eq!((bot.discord.identifies(), bot.discord.resumes()), (1, 0), "no reconnect: every heartbeat was acked");
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    assert_eq!(buttons(&bot.discord.settled(&token).await)[0].0, "Join meeting");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_a_command_in_flight_finish() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::launch(discord, graph, Options::real_limits()).await;
    bot.graph.set_latency(Duration::from_millis(1500));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.wait_for("the defer", |d| d.interaction(&token).deferred().then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.expect("clean shutdown");
    let record = discord.interaction(&token);
    assert_eq!(buttons(&record)[0].0, "Join meeting", "answered before the bot exited");
}

#[tokio::test]
async fn a_command_still_running_at_the_drain_limit_ends_with_the_run() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let options = Options { drain_limit: Duration::from_millis(300), ..Options::default() };
    let bot = RunningBot::launch(discord, graph, options).await;
    bot.graph.set_latency(Duration::from_millis(800));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.wait_for("the defer", |d| d.interaction(&token).deferred().then_some(())).await;
    let discord = bot.discord.clone();
    bot.stop().await.expect("clean shutdown");
    // Graph answers 800 ms after it was asked (within the attempt timeout); a command left running after `run`
    // returned would then edit its reply (it did, before tasks were tracked and cancelled).
    let edit = discord.wait_for("a late edit", |d| (d.interaction(&token).edits > 0).then_some(()));
    let late_edit = tokio::time::timeout(Duration::from_secs(4), edit).await;
    assert!(late_edit.is_err(), "nothing happens after the run ended");
}

#[tokio::test]
async fn a_failed_edit_falls_back_to_a_channel_message() {
    let bot = RunningBot::start(&[]).await;
    // The interaction token expired (15 minutes) or was revoked: the edit can never succeed.
    bot.discord.push_fault(
        Route::EditOriginal,
        401,
        serde_json::json!({"code": 50027, "message": "Invalid Webhook Token"}),
    );
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.settled(&token).await;
    let posted = bot.discord.channel_messages();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].channel_id, CHANNEL);
    assert_eq!(posted[0].body["components"][0]["components"][0]["label"], "Join meeting");
    assert_clean(&bot);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_pin_the_bot_may_not_make_is_logged_and_the_announcement_stands() {
    let bot = RunningBot::start(&[]).await;
    bot.discord.set_pin_forbidden(true);
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.settled(&token).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    let record = discord.interaction(&token);
    assert_eq!(buttons(&record)[0].0, "Join meeting");
    assert!(discord.pins().is_empty());
    assert!(!record.original_deleted, "the announcement stands");
}

#[tokio::test]
async fn pinning_can_be_turned_off() {
    let bot = RunningBot::start(&[("MEETNOW_PIN", "false")]).await;
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.settled(&token).await;
    // Shutdown waits for the command to finish, pin included, so afterwards the count is final.
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert!(discord.pins().is_empty());
}

#[tokio::test]
async fn an_acknowledgement_after_discords_deadline_is_not_retried_and_a_separate_bridge_is_not_made() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    bot.discord.set_latency(DEADLINE + Duration::from_millis(500));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL).new_meeting()).await;
    bot.discord
        .wait_for("the late acknowledgement", |d| (!d.interaction(&token).errors.is_empty()).then_some(()))
        .await;
    bot.discord.set_latency(Duration::ZERO);
    // Another command shows the bot is still serving, and that the late one was dropped, not retried.
    let next = bot.discord.invoke(Invocation::in_channel(OTHER_CHANNEL)).await;
    bot.discord.settled(&next).await;
    assert_eq!(bot.discord.interaction(&token).errors, [10062]);
    assert_eq!(bot.graph.meetings_created(), 1, "only the second command made a meeting");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn the_standing_bridge_is_asked_for_while_the_acknowledgement_is_on_its_way() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    bot.discord.set_latency(Duration::from_millis(500));
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    let create = bot.graph.requests().into_iter().find(|r| r.status == 201).expect("the bridge was created");
    // The callback's service includes Discord's 500 ms; the createOrGet arrived during it.
    let (_, callback_answered) = record.service[0];
    let (graph_started, _) = create.interval.expect("served");
    assert!(graph_started < callback_answered, "Graph was asked only after the acknowledgement was answered");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_standing_bridge_made_for_an_expired_command_is_the_one_the_retry_gets() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    bot.discord.set_latency(DEADLINE + Duration::from_millis(500));
    let late = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    bot.discord.wait_for("the late acknowledgement", |d| (!d.interaction(&late).errors.is_empty()).then_some(())).await;
    // Graph was asked while the acknowledgement travelled (3.5 s against Graph's few milliseconds), so the
    // channel's bridge exists before the user retries.
    assert_eq!(bot.graph.meetings_created(), 1, "the expired command's standing bridge was made meanwhile");
    bot.discord.set_latency(Duration::ZERO);
    let retry = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&retry).await;
    assert_eq!(bot.discord.interaction(&late).errors, [10062], "the late acknowledgement was not retried");
    assert!(record.original.is_some(), "the retry was announced");
    assert_eq!(bot.graph.meetings_created(), 1, "the retry reused that bridge");
    // Made for a command that expired, answered 200 to the retry: the lobby settings are still applied.
    bot.graph
        .wait_for("the lobby settings", |g| g.meetings_without_the_configured_lobby().is_empty().then_some(()))
        .await;
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_fallback_that_fails_leaves_the_announcement_an_edit_made() {
    let bot = RunningBot::start(&[]).await;
    // The edit lands but its answer is lost (a reset, a 502 from a proxy); then posting in the channel fails.
    bot.discord.lose_next_edit_answer();
    bot.discord.push_fault(
        Route::ChannelMessage,
        500,
        serde_json::json!({"code": 0, "message": "500: Internal Server Error"}),
    );
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let record = bot.discord.settled(&token).await;
    assert_eq!(buttons(&record)[0].0, "Join meeting", "the announcement the edit made is there");
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert!(!discord.interaction(&token).original_deleted, "the only announcement was not removed");
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
