//! Live status: Graph's meeting call events, delivered encrypted to the bot behind a load balancer, shown
//! on the bridge's pinned announcement; against the real bot, the real binary and the stand-ins' real
//! protocols (subscriptions with the handshake, RSA-OAEP/AES/HMAC, validation tokens signed by the Entra
//! stand-in's published key).

use std::time::Duration;

use crate::support::balancer::Balancer;
use crate::support::discord::Invocation;
use crate::support::graph::subscriptions::{payload, Forgery, PayloadShape, Where};
use crate::support::live::{advance, live_vars, shows, subscribed, Call, CertificateFile, LiveBot, LiveProcesses};

#[tokio::test]
async fn a_call_in_each_payload_shape_shows_live_on_the_pinned_announcement_then_how_it_ended() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let shapes = [
        (7100, PayloadShape::Schema),
        (7101, PayloadShape::Newest),
        (7102, PayloadShape::Sample),
        (7103, PayloadShape::Earlier),
    ];
    for (channel, shape) in shapes {
        let (message, join, token) = live.announce_by_command(channel).await;
        assert!(discord.live_status_of(message).is_none(), "before any call, nothing extra");
        let call = Call { graph, join: &join, shape };
        assert_eq!(call.send("started", "2026-12-01T03:00:00Z", &[]).await, 202);
        shows(discord, message, &["Call in progress", "Started at <t:1796094000:t>", "Nobody is on the call"]).await;
        let has_lobby = matches!(shape, PayloadShape::Schema | PayloadShape::Newest);
        let lobby = if has_lobby { Where::Lobby } else { Where::Joined };
        call.send(
            "roster",
            "2026-12-01T03:00:10Z",
            &[("u-ana", "Ana Lima", Where::Joined), ("u-bo", "Bo Chen", lobby)],
        )
        .await;
        call.send("roster", "2026-12-01T03:00:20Z", &[("u-cy", "Cy Okafor", Where::Joined)]).await;
        if has_lobby {
            let status =
                shows(discord, message, &["In the lobby (1):** Bo Chen", "On the call (2):** Ana Lima, Cy Okafor"])
                    .await;
            assert!(!status.contains("On the call (3)"), "someone waiting in the lobby is not on the call: {status}");
            call.send("roster", "2026-12-01T03:00:30Z", &[("u-bo", "Bo Chen", Where::Joined)]).await;
        }
        shows(discord, message, &["Call in progress: 3 people", "Ana Lima", "Bo Chen", "Cy Okafor"]).await;
        call.send("roster", "2026-12-01T03:20:00Z", &[("u-bo", "Bo Chen", Where::Left)]).await;
        let status = shows(discord, message, &["On the call (2):** Ana Lima, Cy Okafor"]).await;
        assert!(!status.contains("Bo Chen"), "{status}");
        call.send("ended", "2026-12-01T03:42:00Z", &[]).await;
        let status =
            shows(discord, message, &["Call ended", "Ended at <t:1796096520:t>", "after 42 min", "3 people joined"])
                .await;
        println!("{shape:?}: {status}");

        // The bridge stays usable: the buttons are still there, and the embed is still the announcement.
        let now = discord.message(message).unwrap();
        let labels: Vec<&str> =
            now["components"][0]["components"].as_array().unwrap().iter().filter_map(|b| b["label"].as_str()).collect();
        assert_eq!(labels, ["Join meeting", "Local numbers", "Attendance"], "{now:#}");
        assert_eq!(now["embeds"][0]["url"], join.as_str());
        // Never by the interaction token (it dies after 15 minutes; a call can last hours): one edit, the
        // announcement itself.
        assert_eq!(discord.interaction(&token).edits, 1);
    }
    // Every edit went by the bot token to the channel (it works when the interaction token has expired), and
    // each was a valid body that pings nobody.
    let announcements: Vec<u64> = discord.pins().iter().map(|(_, m)| *m).collect();
    assert!(!discord.message_edits().is_empty());
    assert!(discord.message_edits().iter().all(|(m, _, _)| announcements.contains(m)), "only the pinned announcements");
    assert!(discord.violations().is_empty(), "{:?}", discord.violations());
    assert!(graph.violations().is_empty(), "what the stand-in sent is Microsoft's types: {:?}", graph.violations());
    assert!(discord.pings().is_empty(), "{:?}", discord.pings());
    assert_eq!(graph.subscriptions().len(), 4, "one subscription per bridge");
    let metrics = reqwest::get(format!("http://{}/metrics", live.bot.interactions_addr.unwrap())).await.unwrap();
    assert_eq!(metrics.status(), 404, "metrics are not on the public listener");
}

#[tokio::test]
async fn a_busy_roster_is_one_edit_not_a_burst_and_the_last_state_is_kept() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7201).await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    shows(discord, message, &["Call in progress"]).await;
    let edits_before = discord.message_edits().len();
    // Forty people join within a moment, each their own notification, half of them at once.
    let names: Vec<(String, String)> = (0..40).map(|i| (format!("u-{i}"), format!("Person {i:02}"))).collect();
    let sends = names.iter().enumerate().map(|(i, (id, name))| {
        let at = format!("2026-12-01T03:01:{i:02}Z");
        let call = &call;
        async move { call.send("roster", &at, &[(id.as_str(), name.as_str(), Where::Joined)]).await }
    });
    let statuses = futures_util::future::join_all(sends).await;
    assert!(statuses.iter().all(|&s| s == 202), "{statuses:?}");
    let status = shows(discord, message, &["Call in progress: 40 people", "and 25 more"]).await;
    assert!(status.contains("Person 00") && status.contains("Person 14"), "{status}");
    let edits = discord.message_edits().len() - edits_before;
    println!("40 roster notifications → {edits} edits");
    assert!(edits <= 4, "coalesced: {edits} edits for 40 notifications");
    assert_eq!(discord.rate_limited_total(), 0);
}

/// Forgeries get the same answer as the real thing, 202 at once (Microsoft: answer before validating), and
/// are dropped after it: nothing changes, and each reason is counted.
#[tokio::test]
async fn forged_and_altered_notifications_are_answered_then_dropped_and_counted() {
    let live = LiveBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7301).await;
    let started = payload(PayloadShape::Schema, "started", "2026-12-01T03:00:00Z", &[]);
    for forgery in [
        Forgery::WrongClientState,
        Forgery::TokenByOtherKey,
        Forgery::TokenForOtherApp,
        Forgery::TokenNotFromGraph,
        Forgery::ExpiredToken,
        Forgery::NoToken,
        Forgery::AlteredData,
        Forgery::OtherResource,
    ] {
        assert_eq!(graph.deliver(&join, &started, forgery).await, 202, "{forgery:?}");
    }
    // Another server's id in a real address, and a body that is not a batch: the same 202, nothing read. A
    // made-up address is not found.
    let client = reqwest::Client::new();
    let subscription = graph.subscriptions().remove(0);
    let other_server = subscription
        .notification_url
        .replace("/graph/notifications/800000000000000001/", "/graph/notifications/800000000000000002/");
    assert_eq!(client.post(other_server).body("{}").send().await.unwrap().status(), 202);
    assert_eq!(client.post(&subscription.notification_url).body("{not json").send().await.unwrap().status(), 202);
    let bogus = format!("{}/graph/notifications/1/2/not-a-tag", live.balancer.url);
    assert_eq!(client.post(bogus).body("{}").send().await.unwrap().status(), 404);

    let reasons = [
        "client_state",
        "token_signature",
        "token_claims",
        "token_expired",
        "token_missing",
        "data_signature",
        "resource",
        "other_server",
        "malformed",
        "address",
    ];
    let metrics = crate::support::poll(&live.bot.metrics_url("/metrics"), "every reason", |answer| {
        reasons.iter().all(|reason| answer.body.contains(&format!("reason=\"{reason}\"")))
    })
    .await
    .body;
    assert!(metrics.contains("meetnow_live_notifications_refused_total{reason=\"token_claims\"} 2"), "{metrics}");
    assert!(discord.live_status_of(message).is_none(), "nothing changed");
    assert!(discord.message_edits().is_empty(), "no edit at all");

    // The genuine one still goes through.
    assert_eq!(graph.deliver(&join, &started, Forgery::None).await, 202);
    shows(discord, message, &["Call in progress"]).await;
}

#[tokio::test]
async fn a_notification_that_arrives_before_the_create_has_returned_is_taken() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    graph.deliver_during_next_create(payload(PayloadShape::Schema, "started", "2026-12-01T03:00:00Z", &[]));
    let (message, _join) = live.announce(7401).await;
    shows(discord, message, &["Call in progress"]).await;
    let (creates, _, handshakes) = graph.subscription_counts();
    assert_eq!((creates, handshakes), (1, vec![true]));
}

#[tokio::test]
async fn hostile_display_names_are_shown_inert() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7501).await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    let hostile = "@everyone [x](https://e.v) <@&1> **b**\u{202E}\n# big";
    call.send(
        "roster",
        "2026-12-01T03:00:05Z",
        &[("u-evil", hostile, Where::Joined), ("u-long", &"W".repeat(300), Where::Joined)],
    )
    .await;
    let status = shows(discord, message, &["On the call (2)"]).await;
    assert!(status.contains("\\@everyone \\[x\\](https\\://e.v) \\<\\@&1\\> \\*\\*b\\*\\*"), "{status}");
    assert!(!status.contains('\u{202E}') && !status.contains("\n# big"), "{status}");
    assert!(!status.contains(&"W".repeat(41)), "names are cut short: {status}");
    assert!(discord.pings().is_empty() && discord.violations().is_empty());
}

/// Days of subscription life on a paused clock: the keeper renews every 12 hours (ahead of expiry), makes a
/// new one when Graph has none (deleted, or expired while nobody renewed), and lets an unused bridge's lapse.
#[tokio::test]
async fn subscriptions_are_renewed_before_they_lapse_and_made_again_when_gone() {
    let live = LiveBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let graph = &live.bot.graph;
    let (_, join) = live.announce(7601).await;
    // The bot has read Graph's answer (not only Graph made it), so its clock for the renewal has started.
    live.metric("meetnow_live_subscriptions_total{outcome=\"created\"} 1").await;
    let first = graph.subscriptions().remove(0);
    let (hour, day) = (Duration::from_secs(60 * 60), Duration::from_secs(24 * 60 * 60));

    // Eleven hours on: nothing due yet. Twelve and a half (the 12-hour recheck, less this process's jitter of
    // up to 30 minutes): renewed, the same subscription.
    advance(hour * 11).await;
    assert_eq!(graph.subscription_counts().1, 0, "renewed too early");
    advance(hour * 3 / 2).await;
    graph.wait_for("the renewal", |g| (g.subscription_counts().1 == 1).then_some(())).await;
    assert_eq!(graph.subscriptions().remove(0).id, first.id, "renewed, not replaced");

    // Someone types /meetnow there again: with plenty of time left, Graph is asked for nothing, and the bridge
    // counts as in use from now.
    let creates = graph.subscription_counts().0;
    let token = live.bot.discord.invoke(Invocation::in_channel(7601)).await;
    live.bot.discord.settled(&token).await;
    assert_eq!(graph.subscription_counts().0, creates);

    // Graph loses it (an admin deleted it): the next renewal, within 12 hours, gets 404 and makes a new one.
    graph.delete_subscription(&join);
    advance(hour * 25 / 2).await;
    graph
        .wait_for("a new subscription", |g| {
            g.subscriptions().iter().any(|s| s.join_url == join && s.id != first.id).then_some(())
        })
        .await;
    assert_eq!(graph.subscription_counts().0, 2, "one create at the announcement, one after the loss");

    // Unused for longer than a subscription lives: let lapse, and nothing more is asked.
    advance(day * 4).await;
    let after_lapse = graph.subscription_counts();
    advance(day * 4).await;
    assert_eq!(graph.subscription_counts(), after_lapse, "a bridge nobody used is let lapse");
}

/// Two real processes in HTTP mode behind one balancer: each announces the bridge once (one subscription,
/// the second adopted, not fought over), and the call's notifications are split between them, some at the
/// same moment and out of order. The channel ends in the right state.
#[tokio::test]
async fn a_whole_call_through_two_processes_converges_on_the_right_state() {
    let certificate = CertificateFile::notifications();
    let live = LiveProcesses::start(2, &certificate, &[]).await;
    let (graph, discord, balancer, client) = (&live.graph, &live.discord, &live.balancer, &live.client);
    let channel = 7701;
    // The first /meetnow reaches process 0, the second process 1: both ensure the subscription.
    let (first, _) = client.invoke(Invocation::in_channel(channel)).await;
    let record = discord.settled(&first).await;
    let message = record.original_id.unwrap();
    let join = record.original.as_ref().unwrap()["embeds"][0]["url"].as_str().unwrap().to_owned();
    subscribed(graph, &join).await;
    let (second, _) = client.invoke(Invocation::in_channel(channel)).await;
    discord.settled(&second).await;
    discord.wait_for("the pin", |d| d.pins().contains(&(channel, message)).then_some(())).await;
    graph.wait_for("both processes asked", |g| (g.subscription_counts().0 == 2).then_some(())).await;
    assert_eq!(graph.subscriptions().len(), 1, "one subscription for the bridge, whoever asked");
    // Graph refuses the second create with 403 (a subscription limit reached): the second process looks, and
    // adopts the first one's, so it too renews it.
    let metrics = live.metric(1, "meetnow_live_subscriptions_total{outcome=\"adopted\"} 1").await;
    assert!(!metrics.contains("outcome=\"failed\""), "{metrics}");

    let call = Call::on(graph, &join);
    balancer.route_next(&[0]);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    // Three join and one leaves, split between the processes, all at once, the leave sent first.
    balancer.route_next(&[1, 0, 1, 0]);
    let (a, b, c, d) = tokio::join!(
        call.send("roster", "2026-12-01T03:30:00Z", &[("u-bo", "Bo Chen", Where::Left)]),
        call.send("roster", "2026-12-01T03:00:10Z", &[("u-ana", "Ana Lima", Where::Joined)]),
        call.send("roster", "2026-12-01T03:00:11Z", &[("u-bo", "Bo Chen", Where::Joined)]),
        call.send("roster", "2026-12-01T03:00:12Z", &[("u-cy", "Cy Okafor", Where::Joined)]),
    );
    assert_eq!([a, b, c, d], [202; 4]);
    let status = shows(discord, message, &["On the call (2):** Ana Lima, Cy Okafor"]).await;
    assert!(!status.contains("Bo Chen"), "the leave (sent first, dated last) wins: {status}");
    // The end reaches process 1. Then a late join from before the end reaches process 0, which reads the
    // announcement as it was just before process 1's edit landed (its read and process 1's write crossed), so
    // its edit drops the end: only process 1 reading again afterwards, and folding the end back in, puts it
    // right. The late join must not bring the call back to life either way.
    balancer.route_next(&[1]);
    call.send("ended", "2026-12-01T03:45:00Z", &[]).await;
    shows(discord, message, &["Call ended", "3 people joined"]).await;
    discord.serve_stale_reads(1);
    balancer.route_next(&[0]);
    call.send("roster", "2026-12-01T03:44:59Z", &[("u-dee", "Dee Park", Where::Joined)]).await;
    discord
        .wait_for("the crossed edit", |d| {
            d.message_edits()
                .iter()
                .any(|(_, m, _)| m["embeds"][1]["title"] == "Call in progress: 3 people")
                .then_some(())
        })
        .await;
    let status = shows(discord, message, &["Call ended", "after 45 min", "4 people joined"]).await;
    // Both processes have read their edits back and let the call go: the state has settled, and stays.
    for process in 0..2 {
        live.metric(process, "meetnow_live_calls_in_hand 0").await;
    }
    let settled = discord.live_status_of(message).unwrap();
    assert_eq!(settled, status, "the state stays as converged");
    assert!(!settled.contains("Call in progress"), "the late event did not bring the call back");
    let routed: Vec<usize> =
        balancer.routed().iter().filter(|(_, p)| p.starts_with("/graph/notifications")).map(|(b, _)| *b).collect();
    assert!(routed.contains(&0) && routed.contains(&1), "both processes took notifications: {routed:?}");
    assert!(discord.violations().is_empty(), "{:?}", discord.violations());
    live.stop().await;
}

/// `meetnow check` reports the live-status setup: the URL, the certificate and its expiry, and whether the
/// public URL answers Graph's handshake (a bot running behind it does; nothing there is a warning, not a
/// failure, since check may run before the bot).
#[tokio::test]
async fn check_reports_the_live_status_setup() {
    let live = LiveBot::start(&[]).await;
    let mut vars = live.bot.graph.env();
    vars.extend(live_vars(&live.balancer, &live.certificate));
    let out = crate::support::process::command(&["check"], &vars, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok    live status        on (Graph's meeting call events, a beta API)"), "{stdout}");
    let expires = live.certificate.not_after.date();
    let expiry = format!("expires {}-{:02}-{:02}", expires.year(), u8::from(expires.month()), expires.day());
    assert!(stdout.contains("ok    notification cert") && stdout.contains(&expiry), "{stdout}");
    assert!(stdout.contains("RSA 2048 bits, within Graph's 2048 to 4096"), "the size rule: {stdout}");
    assert!(stdout.contains("ok    public url") && stdout.contains("answers Graph's validation handshake"), "{stdout}");

    // Nothing behind the URL: said, with the fix, and not a failure.
    let nobody = Balancer::start().await;
    let mut vars = live.bot.graph.env();
    vars.extend(live_vars(&nobody, &live.certificate));
    let out = crate::support::process::command(&["check"], &vars, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("WARN  public url") && stdout.contains("HTTP 502"), "{stdout}");

    // Without live status, check says what it would give.
    let out = crate::support::process::command(&["check"], &live.bot.graph.env(), None).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("--    live status        optional, missing"));
}

/// `AZURE_TENANT_ID` may be the tenant's domain; validation tokens name its GUID as issuer, which the bot then
/// takes from its own token's `tid`.
#[tokio::test]
async fn a_tenant_named_by_its_domain_still_accepts_graphs_tokens() {
    let live = LiveBot::start(&[("AZURE_TENANT_ID", crate::support::graph::TENANT_DOMAIN)]).await;
    let (message, join) = live.announce(7801).await;
    let started = payload(PayloadShape::Schema, "started", "2026-12-01T03:00:00Z", &[]);
    assert_eq!(live.bot.graph.deliver(&join, &started, Forgery::None).await, 202);
    shows(&live.bot.discord, message, &["Call in progress"]).await;
}

/// The live status is edited into the announcement in the server's language, like the announcement itself.
#[tokio::test]
async fn the_live_status_is_in_the_servers_language() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    discord.set_preferred_locale(crate::support::discord::GUILD_ID, "ru");
    let token = discord.invoke(Invocation::in_channel(7901).locales("en-US", "ru")).await;
    let record = discord.settled(&token).await;
    let message = record.original_id.unwrap();
    let join = record.original.as_ref().unwrap()["embeds"][0]["url"].as_str().unwrap().to_owned();
    subscribed(graph, &join).await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    call.send(
        "roster",
        "2026-12-01T03:00:10Z",
        &[("u-ana", "Ana Lima", Where::Joined), ("u-bo", "Bo Chen", Where::Lobby)],
    )
    .await;
    shows(
        discord,
        message,
        &["Идёт звонок: 1 участник", "**На звонке (1):** Ana Lima", "В зале ожидания (1):** Bo Chen"],
    )
    .await;
    call.send("ended", "2026-12-01T04:12:00Z", &[]).await;
    shows(discord, message, &["Звонок завершён", "длился 1 ч 12 мин", "Присоединился 1 человек."]).await;
}
