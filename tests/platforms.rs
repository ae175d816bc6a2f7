//! Live status as the real platforms behave, read from what Microsoft and Discord publish rather than from
//! what the stand-ins used to agree with: call events named as Graph's metadata names them, people on
//! several devices, a duplicate subscription answered 403, a notification certificate replaced while
//! bridges are in use, a typed `/meetnow` making sure the subscription exists, and Discord refusing edits
//! of messages older than an hour (30046).

use std::time::Duration;

use crate::support::discord::Invocation;
use crate::support::graph::subscriptions::{Forgery, Participant, Where};
use crate::support::live::{pinned_shows, shows, Call, CertificateFile, LiveBot, LiveProcesses};

/// A person on a laptop and a phone is one person, on the call until both have left; the name shown is the
/// one Teams shows (`preferredDisplayName`); on-premises users and asserted identities are read, the latter
/// never by number; deltas stamped alike are ordered by their sequence numbers. All of it as Graph's
/// metadata names it, roster updates arriving as `unknownFutureValue`.
#[tokio::test]
async fn people_are_people_not_devices_with_the_names_teams_shows() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7801).await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    let ada = || Participant::user("u-ada", "Ada Lovelace", Where::Joined).preferred("Ada (incident lead)");
    call.roster("2026-12-01T03:00:10Z", &[ada().on("p-ada-laptop")]).await;
    call.roster(
        "2026-12-01T03:00:20Z",
        &[
            ada().on("p-ada-phone"),
            Participant::user("op-grace", "Grace Hopper", Where::Joined).kind("onPremises"),
            Participant::user("+4930123456", "+49 30 123456", Where::Joined).kind("assertedIdentity").on("p-pstn"),
        ],
    )
    .await;
    let status = shows(discord, message, &["Call in progress: 3 people", "Ada (incident lead)", "Grace Hopper"]).await;
    assert!(status.contains("Phone caller"), "an asserted identity is a phone number: {status}");
    assert!(!status.contains("Ada Lovelace"), "the name Teams shows wins: {status}");

    // Ada puts the phone down: she is still on the laptop.
    let mut phone_leaves = ada().on("p-ada-phone");
    phone_leaves.place = Where::Left;
    call.roster("2026-12-01T03:05:00Z", &[phone_leaves]).await;
    // Grace drops and rejoins within the same second: the sequence numbers say the rejoin came last.
    let grace = |place| Participant::user("op-grace", "Grace Hopper", place).kind("onPremises");
    call.roster("2026-12-01T03:06:00Z", &[grace(Where::Joined).sequence(12)]).await;
    call.roster("2026-12-01T03:06:00Z", &[grace(Where::Left).sequence(11)]).await;
    // A change that moves nobody, so the ones before it have surely been folded in.
    call.send("roster", "2026-12-01T03:07:00Z", &[("u-cy", "Cy Okafor", Where::Lobby)]).await;
    let status = shows(discord, message, &["lobby (1)", "Cy Okafor"]).await;
    assert!(status.contains("Call in progress: 3 people"), "one leave of two devices is not a leave: {status}");
    assert!(status.contains("Ada (incident lead)") && status.contains("Grace Hopper"), "{status}");

    let mut laptop_leaves = ada().on("p-ada-laptop");
    laptop_leaves.place = Where::Left;
    call.roster("2026-12-01T03:10:00Z", &[laptop_leaves]).await;
    let status = shows(discord, message, &["Call in progress: 2 people"]).await;
    assert!(!status.contains("Ada"), "both devices gone: {status}");

    let everything = serde_json::to_string(&discord.message(message).unwrap()).unwrap();
    assert!(!everything.contains("30123456") && !everything.contains("u-ada"), "no number, no id: {everything}");
    assert!(graph.violations().is_empty(), "{:?}", graph.violations());
}

/// The stand-in's call events are checked against Microsoft's types, so it can't drift again: one that breaks
/// them is recorded.
#[tokio::test]
async fn the_stand_ins_call_events_are_checked_against_microsofts_types() {
    let live = LiveBot::start(&[]).await;
    let (_, join) = live.announce(7802).await;
    let wrong = serde_json::json!({"callEventType": "callPaused", "eventDateTime": "2026-12-01T03:00:00Z",
        "participants@delta": [{"id": "p1", "isInLobby": "no"}]});
    assert_eq!(live.bot.graph.deliver(&join, &wrong, Forgery::None).await, 202);
    let violations = live.bot.graph.violations();
    assert!(violations.iter().any(|v| v.starts_with("callEvent:")), "{violations:?}");
    assert!(violations.iter().any(|v| v.starts_with("participant:")), "{violations:?}");
}

/// When someone types `/meetnow`, a call is about to start: the bot asks Graph whether the bridge's
/// subscription still exists and makes it again if not, instead of learning it at the next renewal.
#[tokio::test]
async fn a_typed_meetnow_makes_sure_the_subscription_still_exists() {
    let live = LiveBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7803).await;
    // The bot has read Graph's answer (not only Graph made it).
    live.metric("meetnow_live_subscriptions_total{outcome=\"created\"} 1").await;
    let first = graph.subscriptions().remove(0);
    graph.delete_subscription(&join);
    // Past the minute within which forty people typing it at once ask Graph once.
    crate::support::live::advance(Duration::from_secs(61)).await;
    let token = discord.invoke(Invocation::in_channel(7803)).await;
    discord.settled(&token).await;
    graph
        .wait_for("the subscription made again", |g| {
            g.subscriptions().iter().any(|s| s.join_url == join && s.id != first.id).then_some(())
        })
        .await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    shows(discord, message, &["Call in progress"]).await;
}

/// The operator replaces the notification certificate while bridges are in use. Processes with the new
/// certificate and the previous one read notifications Graph still encrypts to the old one; a bridge in use
/// has its subscription moved to the new certificate and client state (Microsoft's "Rotating keys": a PATCH),
/// or, when Graph keeps the old client state, replaced; once the previous certificate is gone, every bridge
/// still shows its calls.
#[tokio::test]
async fn a_new_notification_certificate_moves_the_subscriptions_of_bridges_in_use() {
    let (old, new) = (CertificateFile::notifications(), CertificateFile::replacement());
    let mut live = LiveProcesses::start(1, &old, &[]).await;
    let (kept, replaced) = (7811, 7812);
    let (kept_message, kept_join) = live.announce(kept).await;
    let (replaced_message, replaced_join) = live.announce(replaced).await;
    let old_id = live.graph.subscriptions()[0].certificate_id.clone();

    // The rotation: two processes with the new certificate and the previous one take over.
    let rotating = [
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", new.path()),
        ("MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH", old.path()),
    ];
    live.add(&rotating).await;
    live.add(&rotating).await;
    live.stop_one(0).await;
    let (graph, discord) = (live.graph.clone(), live.discord.clone());
    let call = Call::on(&graph, &kept_join);
    // Graph still encrypts to the old certificate: read with the previous one.
    assert_eq!(call.send("started", "2026-12-01T03:00:00Z", &[]).await, 202);
    shows(&discord, kept_message, &["Call in progress"]).await;

    // Typed again, the bridge's subscription is moved: certificate and client state, one PATCH.
    live.client.invoke(Invocation::in_channel(kept)).await;
    let new_id = graph
        .wait_for("the move", |g| {
            g.subscriptions().into_iter().find(|s| s.join_url == kept_join && s.certificate_id != old_id)
        })
        .await
        .certificate_id;
    assert_eq!(graph.subscription_moves_and_deletes(), (1, 0));
    call.send("roster", "2026-12-01T03:00:10Z", &[("u-ana", "Ana Lima", Where::Joined)]).await;
    shows(&discord, kept_message, &["Ana Lima"]).await;

    // Graph takes the certificate but keeps the old client state: the bot reads it back, and replaces the
    // subscription instead.
    graph.patches_keep_client_state(true);
    let before = graph.subscriptions().into_iter().find(|s| s.join_url == replaced_join).unwrap().id;
    live.client.invoke(Invocation::in_channel(replaced)).await;
    graph
        .wait_for("the replacement", |g| {
            g.subscriptions()
                .iter()
                .any(|s| s.join_url == replaced_join && s.certificate_id == new_id && s.id != before)
                .then_some(())
        })
        .await;
    assert_eq!(graph.subscription_moves_and_deletes(), (2, 1), "moved, found wanting, deleted, made anew");

    // The rotation is over: a process with the new certificate alone reads both bridges' calls.
    live.add(&[("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", new.path())]).await;
    live.stop_one(0).await;
    live.stop_one(0).await;
    call.send("roster", "2026-12-01T03:00:20Z", &[("u-bo", "Bo Chen", Where::Joined)]).await;
    shows(&discord, kept_message, &["Ana Lima", "Bo Chen"]).await;
    let other = Call::on(&graph, &replaced_join);
    other.send("started", "2026-12-01T04:00:00Z", &[]).await;
    shows(&discord, replaced_message, &["Call in progress"]).await;
    assert!(graph.violations().is_empty(), "{:?}", graph.violations());
    live.stop().await;
}

/// A standing bridge's announcement is days old, and Discord takes only a few edits of a message older than
/// an hour (30046). When a call starts on it, a fresh announcement carrying the call is posted and pinned in
/// its place, whichever of two processes gets the events; a long call gets a fresh one about every hour, and
/// an edit Discord refuses anyway is posted fresh too. One pinned announcement per bridge throughout; the
/// Join button and the link never go.
#[tokio::test]
async fn an_old_announcement_is_replaced_by_a_fresh_one_that_carries_the_call() {
    let certificate = CertificateFile::notifications();
    let live = LiveProcesses::start(2, &certificate, &[]).await;
    let (graph, discord, balancer) = (&live.graph, &live.discord, &live.balancer);
    let channel = 7821;
    let (original, join) = live.announce(channel).await;
    discord.wait_for("the pin", |d| d.pins().contains(&(channel, original)).then_some(())).await;
    discord.age_messages(Duration::from_secs(3 * 24 * 3600));

    // The call starts; its first events reach both processes at the same moment.
    let call = Call::on(graph, &join);
    balancer.route_next(&[0, 1]);
    let (a, b) = tokio::join!(
        call.send("started", "2026-12-01T03:00:00Z", &[]),
        call.send("roster", "2026-12-01T03:00:05Z", &[("u-ana", "Ana Lima", Where::Joined)]),
    );
    assert_eq!((a, b), (202, 202));
    let (fresh, _) = pinned_shows(discord, channel, &["Call in progress", "Ana Lima"]).await;
    assert_ne!(fresh, original, "a fresh announcement carries the call");
    // The old one is unpinned, then made a pointer to the pinned one.
    let old = discord
        .wait_for("the old announcement to point to the pinned one", |d| {
            d.message(original)
                .filter(|m| m["embeds"][0]["footer"]["text"].as_str().is_some_and(|f| f.contains("pinned")))
        })
        .await;
    assert!(discord.live_status_of(original).is_none(), "the old one no longer shows a live status: {old:#}");

    // An hour into the call the fresh one is old too: the next change gets another.
    discord.age_messages(Duration::from_secs(55 * 60));
    balancer.route_next(&[1]);
    call.send("roster", "2026-12-01T03:55:00Z", &[("u-bo", "Bo Chen", Where::Joined)]).await;
    let (second, _) = pinned_shows(discord, channel, &["Ana Lima", "Bo Chen"]).await;
    assert_ne!(second, fresh);

    // The call ends two hours later, and Discord takes no more edits of old messages: refused (30046), the
    // end is posted fresh.
    discord.age_messages(Duration::from_secs(2 * 3600));
    discord.set_old_message_edit_budget(0);
    balancer.route_next(&[0]);
    call.send("ended", "2026-12-01T05:00:00Z", &[]).await;
    let (last, status) = pinned_shows(discord, channel, &["Call ended", "2 people joined"]).await;
    assert_ne!(last, second);
    assert!(status.contains("after 2 h"), "{status}");

    let refusals = discord.old_message_refusals();
    assert!(
        (1..=3).contains(&refusals),
        "a handful of 30046 answers for the whole call, not a retry storm: {refusals}"
    );
    // Every announcement of the bridge still has its buttons and the join link; exactly one is pinned.
    for message in discord.messages_in(channel) {
        assert_eq!(message["embeds"][0]["url"], join.as_str(), "{message:#}");
        let labels: Vec<&str> = message["components"][0]["components"]
            .as_array()
            .map(|buttons| buttons.iter().filter_map(|b| b["label"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(labels, ["Join meeting", "Local numbers", "Attendance"], "{message:#}");
    }
    assert_eq!(discord.pins().iter().filter(|(c, _)| *c == channel).count(), 1, "{:?}", discord.pins());
    assert!(discord.violations().is_empty() && discord.pings().is_empty(), "{:?}", discord.violations());
    // Each process keeps its own count of a bucket (README, "Discord's rate limits"), so two re-posting at
    // once can draw a 429 on the pins, waited out; never more than a few.
    assert!(discord.rate_limited_total() <= 2, "{}", discord.rate_limited_total());
    live.stop().await;
}
