//! Who was on the call: the **Attendance** button under every announcement, and `meetnow attendance` for the
//! postmortem, from Graph's attendance reports (the stand-in's are checked against Microsoft's schema).

use crate::support;

use crate::support::bot::RunningBot;
use crate::support::discord::{InteractionRecord, Invocation};
use crate::support::graph::attendance::{Attended, NextLink, ATTENDANCE_ROLE};
use crate::support::graph::ROLE;
use serde_json::Value;
use time::macros::datetime;

const CHANNEL: u64 = 1_400_000_000_000_002_077;

/// A bot whose token carries the attendance permission (or not), and the announcement of `CHANNEL`'s bridge.
async fn announced(with_permission: bool) -> (RunningBot, Value) {
    let bot = RunningBot::start(&[]).await;
    let roles: &[&str] = if with_permission { &[ROLE, ATTENDANCE_ROLE] } else { &[ROLE] };
    bot.graph.set_roles(roles);
    let token = bot.discord.invoke(Invocation::in_channel(CHANNEL)).await;
    let message = bot.discord.settled(&token).await.original.expect("announced");
    (bot, message)
}

fn join_url(message: &Value) -> String {
    message["embeds"][0]["url"].as_str().unwrap().to_owned()
}

async fn click(bot: &RunningBot, message: &Value) -> InteractionRecord {
    let mut someone = Invocation::in_channel(CHANNEL);
    someone.user_id = 700_000_000_000_000_321;
    let token = bot.discord.click(message, "meetnow:attendance", someone).await;
    bot.discord.wait_for("the attendance answer", |d| d.interaction(&token).original.is_some().then_some(())).await;
    bot.discord.interaction(&token)
}

/// The answer's text (embed description, or content for a sentence), and whether only the clicker saw it.
fn answer(record: &InteractionRecord) -> (String, bool) {
    let original = record.original.as_ref().unwrap();
    let text = original["embeds"][0]["description"].as_str().or(original["content"].as_str()).unwrap_or_default();
    let ephemeral = record.callbacks[0]["type"] == 5 && record.callbacks[0]["data"]["flags"].as_u64() == Some(64);
    (text.to_owned(), ephemeral)
}

#[tokio::test]
async fn every_announcement_has_the_attendance_button() {
    let (bot, message) = announced(true).await;
    let buttons = message["components"][0]["components"].as_array().unwrap();
    let attendance = buttons.iter().find(|b| b["label"] == "Attendance").expect("an Attendance button");
    assert_eq!(attendance["custom_id"], "meetnow:attendance");
    assert!(attendance["url"].is_null(), "it answers in Discord, it links nowhere");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_click_shows_each_call_and_who_was_on_it_only_to_whoever_clicked() {
    let (bot, message) = announced(true).await;
    let meeting = bot.graph.meeting_id_of(&join_url(&message)).unwrap();
    let start = datetime!(2026-11-23 03:00 UTC);
    bot.graph.add_attendance_report(
        &meeting,
        start,
        &[
            Attended::new("Bob Late", "Attendee", 900, 2700),
            Attended::new("Olga Organizer", "Organizer", 0, 3600),
            Attended::new("@everyone <@123> [x](https://evil) **Mallory**", "Presenter", 300, 600),
        ],
    );
    bot.graph.add_attendance_report(
        &meeting,
        start + time::Duration::hours(5),
        &[Attended::new("Dana", "Attendee", 60, 120)],
    );

    let record = click(&bot, &message).await;
    let (text, ephemeral) = answer(&record);
    assert!(ephemeral, "only whoever clicked sees it");
    let call_one = text.find("**Call 1**").expect("the first call");
    let call_two = text.find("**Call 2**").expect("the second call");
    let (olga, mallory, bob) =
        (text.find("Olga Organizer").unwrap(), text.find("Mallory").unwrap(), text.find("Bob Late").unwrap());
    assert!(
        call_one < olga && olga < mallory && mallory < bob && bob < call_two,
        "calls in order, people by first join:\n{text}"
    );
    assert!(text.contains(&format!("<t:{}:f>", start.unix_timestamp())), "the call's start as a Discord timestamp");
    assert!(text.contains("Olga Organizer (Organizer) · <t:"), "{text}");
    assert!(text.contains("· 1 h 00 min"), "{text}");
    assert!(text.contains(r"\@everyone \<\@123\> \[x\](https\://evil) \*\*Mallory\*\*"), "escaped: {text}");
    assert!(bot.discord.pings().is_empty() && bot.discord.violations().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn before_any_call_has_ended_it_says_so() {
    let (bot, message) = announced(true).await;
    let (text, ephemeral) = answer(&click(&bot, &message).await);
    assert!(ephemeral);
    assert!(text.starts_with("No call on this bridge has ended yet"), "{text}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn without_the_permission_the_answer_names_it_and_how_to_grant_it() {
    let (bot, message) = announced(false).await;
    let (text, ephemeral) = answer(&click(&bot, &message).await);
    assert!(ephemeral);
    assert!(text.contains("OnlineMeetingArtifact.Read.All") && text.contains("Grant admin consent"), "{text}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn hundreds_of_attendees_are_read_page_by_page_and_cut_within_discords_limits() {
    let (bot, message) = announced(true).await;
    let meeting = bot.graph.meeting_id_of(&join_url(&message)).unwrap();
    let many: Vec<Attended> = (0..350).map(|i| Attended::new(&format!("Person {i:03}"), "Attendee", i, 3000)).collect();
    bot.graph.add_attendance_report(&meeting, datetime!(2026-11-23 03:00 UTC), &many);
    let (text, _) = answer(&click(&bot, &message).await);
    let pages = bot.graph.requests().iter().filter(|r| r.path.ends_with("/attendanceRecords")).count();
    assert_eq!(pages, 4, "350 records, 100 a page");
    assert!(text.chars().count() <= 4096, "{} characters", text.chars().count());
    assert!(text.contains("Person 000") && text.contains(" more"), "the first ones shown, the rest counted");
    assert!(bot.discord.violations().is_empty(), "{:?}", bot.discord.violations());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_next_link_off_the_list_is_not_followed() {
    let (bot, message) = announced(true).await;
    let meeting = bot.graph.meeting_id_of(&join_url(&message)).unwrap();
    let many: Vec<Attended> = (0..150).map(|i| Attended::new(&format!("Person {i:03}"), "Attendee", i, 3000)).collect();
    bot.graph.add_attendance_report(&meeting, datetime!(2026-11-23 03:00 UTC), &many);
    let pages =
        |bot: &RunningBot| bot.graph.requests().iter().filter(|r| r.path.contains("/attendanceRecords")).count();
    for next in [NextLink::OtherHost, NextLink::OtherPort, NextLink::OtherPath] {
        bot.graph.set_next_link(next);
        let before = pages(&bot);
        let (text, _) = answer(&click(&bot, &message).await);
        assert_eq!(pages(&bot) - before, 1, "{next:?}: the app's token goes to the same list on Graph only");
        assert!(text.contains("Person 000"), "the first page is still shown: {text}");
        assert!(bot.graph.requests().iter().all(|r| !r.path.contains("mailFolders")), "{next:?}");
    }
    bot.graph.set_next_link(NextLink::Graph);
    let before = pages(&bot);
    answer(&click(&bot, &message).await);
    assert_eq!(pages(&bot) - before, 2, "the next page of the list itself is followed");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn attendance_is_read_for_the_meeting_with_that_join_link_only() {
    let (bot, message) = announced(true).await;
    // Another channel's bridge, with a call on it.
    let other = bot.discord.invoke(Invocation::in_channel(CHANNEL + 1)).await;
    let other = bot.discord.settled(&other).await.original.unwrap();
    let other_meeting = bot.graph.meeting_id_of(&join_url(&other)).unwrap();
    let attendee = Attended::new("Mallory Otherchannel", "Attendee", 0, 60);
    bot.graph.add_attendance_report(&other_meeting, datetime!(2026-11-23 03:00 UTC), &[attendee]);
    bot.graph.set_list_ignores_filter(true);
    let (text, _) = answer(&click(&bot, &message).await);
    assert!(!text.contains("Mallory"), "another bridge's attendance is never shown: {text}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_click_arriving_at_the_interactions_endpoint_is_answered_the_same_way() {
    let (discord, graph) =
        (support::discord::DiscordStandIn::start().await, support::graph::GraphStandIn::start().await);
    graph.set_roles(&[ROLE, ATTENDANCE_ROLE]);
    let mut client = support::interactions::InteractionsClient::new(&discord);
    let key = client.public_key();
    let extra = [("DISCORD_PUBLIC_KEY", key.as_str()), ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0")];
    let bot = RunningBot::start_with(discord, graph, &extra).await;
    client.set_endpoints(vec![format!("http://{}/interactions", bot.interactions_addr.unwrap())]);
    let (command, _) = client.invoke(Invocation::in_channel(CHANNEL)).await;
    let message = bot.discord.settled(&command).await.original.unwrap();
    let meeting = bot.graph.meeting_id_of(&join_url(&message)).unwrap();
    bot.graph.add_attendance_report(
        &meeting,
        datetime!(2026-11-23 03:00 UTC),
        &[Attended::new("Olga", "Organizer", 0, 60)],
    );

    let (token, _) = client
        .deliver(bot.discord.prepare_click(&message, "meetnow:attendance", Invocation::in_channel(CHANNEL)))
        .await;
    bot.discord.wait_for("the attendance answer", |d| d.interaction(&token).original.is_some().then_some(())).await;
    let (text, ephemeral) = answer(&bot.discord.interaction(&token));
    assert!(ephemeral && text.contains("Olga (Organizer)"), "{text}");
    bot.stop().await.unwrap();
}

#[cfg(unix)]
mod terminal {
    use super::*;
    use std::process::Output;

    async fn meetnow(args: &[&str], vars: &[(&'static str, String)]) -> Output {
        support::process::command(args, vars, None).await
    }

    #[tokio::test]
    async fn meetnow_attendance_prints_the_report_for_the_postmortem() {
        let (graph, _discord, vars) = support::stand_ins().await;
        graph.set_roles(&[ROLE, ATTENDANCE_ROLE]);
        let created = meetnow(&["create", "--key", "inc-2077", "--json"], &vars).await;
        let meeting: Value = serde_json::from_slice(&created.stdout).unwrap();
        let id = graph.meeting_id_of(meeting["joinUrl"].as_str().unwrap()).unwrap();
        let attendees = [Attended::new("Second", "Attendee", 120, 600), Attended::new("First", "Organizer", 0, 600)];
        graph.add_attendance_report(&id, datetime!(2026-11-23 03:00 UTC), &attendees);

        let json = meetnow(&["attendance", "--key", "inc-2077", "--json"], &vars).await;
        assert!(json.status.success(), "{}", String::from_utf8_lossy(&json.stderr));
        let report: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(report["calls"][0]["attendees"][0]["name"], "First");
        assert_eq!(report["calls"][0]["attendees"][1]["totalSeconds"], 480);
        let text = meetnow(&["attendance", "--key", "inc-2077"], &vars).await;
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.starts_with("Call 1: 2026-11-23T03:00:00Z to 2026-11-23T04:00:00Z"), "{text}");

        graph.set_roles(&[ROLE]);
        let refused = meetnow(&["attendance", "--key", "inc-2077"], &vars).await;
        assert_eq!(refused.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("OnlineMeetingArtifact.Read.All"));
    }

    #[tokio::test]
    async fn check_lists_the_attendance_permission_as_optional() {
        let (graph, _discord, vars) = support::stand_ins().await;
        let line = |out: &Output| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find(|l| l.contains("attendance"))
                .unwrap_or_default()
                .to_owned()
        };
        let missing = meetnow(&["check"], &vars).await;
        assert!(line(&missing).contains("optional, missing: OnlineMeetingArtifact.Read.All"), "{}", line(&missing));
        assert!(missing.status.success(), "an optional permission does not fail the check");
        graph.set_roles(&[ROLE, ATTENDANCE_ROLE]);
        let present = meetnow(&["check"], &vars).await;
        assert!(line(&present).starts_with("ok"), "{}", line(&present));
    }
}

#[tokio::test]
async fn a_click_without_an_allowed_role_or_from_another_server_is_refused_privately_and_graph_is_not_asked() {
    let bot = RunningBot::start(&[("MEETNOW_ALLOWED_ROLE_IDS", "555")]).await;
    bot.graph.set_roles(&[ROLE, ATTENDANCE_ROLE]);
    let mut responder = Invocation::in_channel(CHANNEL);
    responder.roles = vec![555];
    let token = bot.discord.invoke(responder.clone()).await;
    let message = bot.discord.settled(&token).await.original.expect("announced");
    let asked_before = bot.graph.requests().len();

    let mut bystander = Invocation::in_channel(CHANNEL);
    bystander.user_id = 700_000_000_000_000_999;
    let mut stranger = responder.clone();
    stranger.guild_id = Some(810_000_000_000_000_001);
    for (who, says) in [(bystander, "roles"), (stranger, "not set up for this server")] {
        let token = bot.discord.click(&message, "meetnow:attendance", who).await;
        let record = bot.discord.settled(&token).await;
        let text = record.ephemeral_text().expect("a private answer");
        assert!(text.contains(says), "{text}");
        assert!(record.original.is_none(), "nothing else is shown");
    }
    assert_eq!(bot.graph.requests().len(), asked_before, "Graph is not asked for a refused click");

    let token = bot.discord.click(&message, "meetnow:attendance", responder).await;
    bot.discord.wait_for("the attendance answer", |d| d.interaction(&token).original.is_some().then_some(())).await;
    assert!(bot.graph.requests().len() > asked_before, "a member with the role is answered");
    bot.stop().await.unwrap();
}
