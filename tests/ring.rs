//! Ringing someone into the bridge (`/meetnow ring:`): the real bot against Graph's calls API and directory
//! as the stand-in plays them (joins, invitations, outcomes, signed call notifications), Discord's
//! autocomplete in both modes, several processes, a process killed mid-ring, strangers, and every setup
//! mistake.

use std::time::Duration;

use serde_json::Value;

use crate::support::discord::{DiscordStandIn, Invocation};
use crate::support::graph::calls::{Answers, Colleague};
use crate::support::graph::subscriptions::{Participant, Where};
use crate::support::graph::GraphStandIn;
use crate::support::live::{shows, Call, CertificateFile, LiveBot, LiveProcesses};

const ADA: &str = "4d1c7f00-0000-4000-8000-00000000ada0";
const BO: &str = "4d1c7f00-0000-4000-8000-0000000000b0";
const CY: &str = "4d1c7f00-0000-4000-8000-0000000000c0";
const DEE: &str = "4d1c7f00-0000-4000-8000-0000000000d0";

fn directory(graph: &GraphStandIn) {
    graph.allow_ringing();
    graph.add_colleague(Colleague::new(ADA, "Ada Lovelace", "ada", Answers::Joins(Duration::from_millis(300))));
    graph.add_colleague(Colleague::new(BO, "Bo Chen", "bo.chen", Answers::Declines(Duration::from_millis(300))));
    graph.add_colleague(Colleague::new(CY, "Cy Okafor", "cy", Answers::Never));
    graph.add_colleague(
        Colleague::new(DEE, "Dee @everyone Park", "dee", Answers::Joins(Duration::ZERO)).without_teams(),
    );
}

/// A bot in gateway mode with live status and ringing on, and the directory above.
async fn ringing_bot(extra: &[(&'static str, &str)]) -> LiveBot {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    directory(&graph);
    let ring = graph.ring_env();
    let mut env: Vec<(&'static str, &str)> = ring.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("METRICS_ADDR", "127.0.0.1:0"));
    env.extend_from_slice(extra);
    LiveBot::start_with(discord, graph, &env).await
}

/// The ring line of `person` in `channel` once its title says `wanted`.
async fn ring_line(discord: &DiscordStandIn, channel: u64, person: &str, wanted: &str) -> Value {
    let what = format!("the ring line to say {wanted:?}");
    discord
        .wait_for(&what, |d| {
            d.messages_in(channel).into_iter().find(|m| {
                m["embeds"][0]["url"].as_str().is_some_and(|url| url.ends_with(&format!("#meetnow-ring={person}")))
                    && m["embeds"][0]["title"].as_str().is_some_and(|t| t.contains(wanted))
            })
        })
        .await
}

#[tokio::test]
async fn a_colleague_who_joins_one_who_declines_one_who_never_answers_and_one_without_teams() {
    let live = ringing_bot(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let registered = discord.registrations().last().unwrap().1.clone();
    let ring = registered[0]["options"].as_array().unwrap().iter().find(|o| o["name"] == "ring").cloned().unwrap();
    assert_eq!((ring["autocomplete"].clone(), ring["type"].clone()), (Value::Bool(true), Value::from(3)), "{ring}");
    assert!(ring["description_localizations"]["de"].as_str().is_some_and(|d| d.contains("Bridge")), "{ring}");

    let cases = [
        (7200, ADA, "✅ Ada Lovelace joined the bridge"),
        (7201, BO, "Bo Chen declined the call"),
        (7202, CY, "No answer from Cy Okafor after 5 s"),
        (7203, DEE, r"Dee \@everyone Park can't be rung in Teams"),
    ];
    let mut tokens = Vec::new();
    for (channel, person, _) in cases {
        tokens.push(discord.invoke(Invocation::in_channel(channel).ring(person)).await);
    }
    for ((channel, person, outcome), token) in cases.into_iter().zip(&tokens) {
        let record = discord.settled(token).await;
        assert!(record.original.is_some(), "the bridge is announced as for /meetnow alone");
        let line = ring_line(discord, channel, person, outcome).await;
        println!("{channel}: {}", line["embeds"][0]["title"]);
        let join = record.original.as_ref().unwrap()["embeds"][0]["url"].as_str().unwrap().to_owned();
        assert_eq!(line["embeds"][0]["url"], format!("{join}#meetnow-ring={person}"), "the line links the bridge");
        let lines =
            discord.messages_in(channel).into_iter().filter(|m| m["embeds"][0]["url"] == line["embeds"][0]["url"]);
        assert_eq!(lines.count(), 1, "one line per ring, edited");
    }
    graph.wait_for("every call hung up", |g| (g.calls().len() == 4 && g.open_calls() == 0).then_some(())).await;
    let calls = graph.calls();
    for (_, person, _) in cases {
        let theirs: Vec<_> = calls.iter().filter(|c| c.invitations.iter().any(|i| i.person == person)).collect();
        let [call] = theirs[..] else { panic!("one call and one ring for {person}: {calls:#?}") };
        assert_eq!(call.invitations.len(), 1, "one ring each");
        let stayed = call.deleted.unwrap() - call.created;
        // Cy never answers: the bot waits its 5 s (MEETNOW_RING_SECONDS), then leaves.
        assert!(stayed < Duration::from_secs(8), "the bot left as soon as the invitation was settled: {stayed:?}");
        assert_eq!(call.participants.contains(&person.to_owned()), person == ADA, "only Ada joined");
    }
    assert!(graph.violations().is_empty(), "{:?}", graph.violations());
    assert!(discord.violations().is_empty(), "{:?}", discord.violations());
    assert!(discord.pings().is_empty(), "{:?}", discord.pings());
    assert!(
        graph.call_notifications_delivered().iter().all(|&status| status == 202),
        "{:?}",
        graph.call_notifications_delivered()
    );
    live.metric(r#"meetnow_rings_total{outcome="joined"} 1"#).await;
    live.metric(r#"meetnow_rings_total{outcome="no_answer"} 1"#).await;
}

#[tokio::test]
async fn the_bot_on_the_call_is_never_shown_and_a_call_only_it_was_on_never_happened() {
    let live = ringing_bot(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let (message, join) = live.announce(7210).await;
    let call = Call::on(graph, &join);
    // The bot joins to ring Cy, who never comes: Graph reports the call, with the bot (the app) on it.
    let bot = || Participant::user(crate::support::graph::CLIENT_ID, "meetnow", Where::Joined).kind("application");
    call.send("started", "2026-12-02T03:00:00Z", &[]).await;
    call.roster("2026-12-02T03:00:01Z", &[bot()]).await;
    let status = shows(discord, message, &["Call in progress", "Nobody is on the call"]).await;
    assert!(!status.contains("meetnow") && !status.contains("Teams app"), "the bot is nobody: {status}");
    call.roster(
        "2026-12-02T03:01:00Z",
        &[Participant::user(crate::support::graph::CLIENT_ID, "meetnow", Where::Left).kind("application")],
    )
    .await;
    call.send("ended", "2026-12-02T03:01:00Z", &[]).await;
    discord.wait_for("the live status gone", |d| d.live_status_of(message).is_none().then_some(())).await;
    let embeds = discord.message(message).unwrap()["embeds"].as_array().unwrap().len();
    assert_eq!(embeds, 1, "a call only the bot was on is not shown as a call that happened");

    // A real call, with Ada rung in: she shows, the bot still does not.
    call.send("started", "2026-12-02T04:00:00Z", &[]).await;
    call.roster("2026-12-02T04:00:01Z", &[bot(), Participant::user(ADA, "Ada Lovelace", Where::Joined)]).await;
    let status = shows(discord, message, &["Call in progress: 1 person", "Ada Lovelace"]).await;
    assert!(!status.contains("meetnow"), "{status}");
}

#[tokio::test]
async fn a_double_click_across_two_processes_rings_once() {
    let certificate = CertificateFile::notifications();
    let all = LiveProcesses::start_ringing(2, &certificate).await;
    directory(&all.graph);
    let (discord, graph) = (&all.discord, &all.graph);
    // The same member sends /meetnow ring:Cy twice at once (a double click); the load balancer gives one
    // command to each process.
    let click = || Invocation::in_channel(7220).ring(CY);
    let ((first, to_first), (second, to_second)) = tokio::join!(all.client.invoke(click()), all.client.invoke(click()));
    assert_ne!(to_first, to_second, "one command reached each process");
    let repeat = discord
        .wait_for("one of them told it was a repeat", |d| {
            [&first, &second].into_iter().find_map(|token| d.interaction(token).ephemeral_text())
        })
        .await;
    assert!(repeat.contains("Cy Okafor was rung on this bridge") && repeat.contains("Wait a minute"), "{repeat}");
    // Cy never answers: the one ring ends after the bot's 5 s.
    let line = ring_line(discord, 7220, CY, "No answer from Cy Okafor").await;
    graph.wait_for("the call hung up", |g| (g.open_calls() == 0 && !g.calls().is_empty()).then_some(())).await;
    assert_eq!(graph.rung(), [CY], "rung once");
    assert_eq!(graph.calls().len(), 1, "one call joined: the repeat yielded before joining");
    let lines: Vec<Value> = discord
        .messages_in(7220)
        .into_iter()
        .filter(|m| m["embeds"][0]["url"].as_str().is_some_and(|u| u.contains("#meetnow-ring=")))
        .collect();
    assert_eq!(lines, [line], "one line: the repeat's was taken back");
    assert!(discord.violations().is_empty() && graph.violations().is_empty());
    all.stop().await;
}

#[tokio::test]
async fn a_process_killed_mid_ring_leaves_no_call_behind() {
    let certificate = CertificateFile::notifications();
    let mut all = LiveProcesses::start_ringing(2, &certificate).await;
    directory(&all.graph);
    const EVE: &str = "4d1c7f00-0000-4000-8000-0000000000e0";
    // Teams stops ringing Eve after 2 s and says so to the call's callback: by then the process that rang her
    // is gone, and the other one hears of the call.
    all.graph.add_colleague(Colleague::new(
        EVE,
        "Eve Adeyemi",
        "eve",
        Answers::TeamsStopsRinging(Duration::from_secs(2)),
    ));
    let (_, endpoint) = all.client.invoke(Invocation::in_channel(7230).ring(EVE)).await;
    all.graph.wait_for("Eve's phone ringing", |g| (!g.rung().is_empty()).then_some(())).await;
    let ringing = all.endpoints.iter().position(|e| *e == endpoint).unwrap();
    let output = all.kill_one(ringing).await;
    assert!(output.contains("ringing someone into the bridge"), "it was mid-ring: {output}");
    assert_eq!(all.graph.open_calls(), 1, "the dead process's call is still up");
    // Its callback address says until when it may live (the 5 s wait plus 30 s): the survivor hangs it up
    // then, knowing nothing else of it.
    let started = all.graph.calls()[0].created;
    all.graph
        .wait_for_within(Duration::from_secs(60), "the call left behind hung up", |g| {
            (g.open_calls() == 0).then_some(())
        })
        .await;
    let lived = all.graph.calls()[0].deleted.unwrap() - started;
    assert!(lived <= Duration::from_secs(40), "never more than the wait plus 30 s (and the poll): {lived:?}");
    all.metric(0, "meetnow_ring_calls_left_behind_hung_up_total 1").await;
    assert!(all.graph.violations().is_empty(), "{:?}", all.graph.violations());
    all.stop().await;
}
