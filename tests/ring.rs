//! Ringing someone into the bridge (`/meetnow ring:`): the real bot against Graph's calls API and directory
//! as the stand-in plays them (joins, invitations, outcomes, signed call notifications), Discord's
//! autocomplete in both modes, several processes, a process killed mid-ring, strangers, and every setup
//! mistake.

use std::time::Duration;

use serde_json::Value;

use crate::support::bot::{Options, RunningBot};
use crate::support::discord::{DiscordStandIn, Invocation, GUILD_ID};
use crate::support::graph::calls::{call_token, CALLS_KID};
use crate::support::graph::calls::{Answers, Colleague};
use crate::support::graph::subscriptions::{Participant, Where};
use crate::support::graph::GraphStandIn;
use crate::support::graph::CLIENT_ID;
use crate::support::interactions::InteractionsClient;
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
    ringing_bot_on(DiscordStandIn::start().await, GraphStandIn::start().await, extra).await
}

/// [`ringing_bot`] on stand-ins the test made.
async fn ringing_bot_on(discord: DiscordStandIn, graph: GraphStandIn, extra: &[(&'static str, &str)]) -> LiveBot {
    directory(&graph);
    let ring = graph.ring_env();
    let mut env: Vec<(&'static str, &str)> = ring.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("METRICS_ADDR", "127.0.0.1:0"));
    env.extend_from_slice(extra);
    // Graph's real time limits (6 s an attempt): a slow directory's search may finish after its answer.
    LiveBot::launch(discord, graph, Options { env: &env, ..Options::real_limits() }).await
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
        if person == ADA || person == BO {
            // Answered within a second: Graph's notifications said everything, so nothing was asked again.
            let reads = graph.requests().into_iter().filter(|r| r.method == "GET" && r.path.contains(&call.id)).count();
            assert_eq!(reads, 0, "{person}: the call's state and the invitation's outcome came by notification");
        }
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

#[tokio::test]
async fn a_stranger_or_a_member_without_an_allowed_role_rings_nobody_and_sees_nobody() {
    const ON_CALL: u64 = 960_000_000_000_000_001;
    let on_call = ON_CALL.to_string();
    let live = ringing_bot(&[("MEETNOW_ALLOWED_ROLE_IDS", &on_call)]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let mut stranger = Invocation::in_channel(7240).roles(&[ON_CALL]);
    stranger.guild_id = Some(GUILD_ID + 1);
    let role_less = Invocation::in_channel(7241);
    for (who, refusal) in [(stranger, "not set up for this server"), (role_less, "You need one of the roles")] {
        let suggestions = discord.autocomplete(who.clone(), "ad").await;
        assert_eq!(discord.choices(&suggestions).await, [], "nothing suggested");
        let token = discord.invoke(who.ring(ADA)).await;
        let text = discord.settled(&token).await.ephemeral_text().unwrap_or_default();
        assert!(text.contains(refusal), "{text}");
    }
    assert_eq!(graph.directory_searches(), 0, "the directory is not asked for a stranger");
    assert!(graph.calls().is_empty() && graph.rung().is_empty(), "nobody rung");

    // The same, by a member with the role: Ada is suggested, and typing her e-mail rings her as well.
    let member = Invocation::in_channel(7242).roles(&[ON_CALL]);
    let suggestions = discord.autocomplete(member.clone(), "ad").await;
    assert_eq!(discord.choices(&suggestions).await, [("Ada Lovelace (ada@contoso.com)".to_owned(), ADA.to_owned())]);
    discord.invoke(member.ring("ada@contoso.com")).await;
    ring_line(discord, 7242, ADA, "Ada Lovelace joined").await;
    assert_eq!(graph.rung(), [ADA]);
    live.metric(r#"meetnow_ring_suggestions_total{outcome="refused"} 2"#).await;
}

#[tokio::test]
async fn autocomplete_answers_within_three_seconds_under_a_slow_directory_over_the_gateway_and_http() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let mut client = InteractionsClient::new(&discord);
    let key = client.public_key();
    let live = ringing_bot_on(discord, graph, &[("DISCORD_PUBLIC_KEY", &key)]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    client.set_endpoints(vec![format!("http://{}/interactions", live.bot.interactions_addr.unwrap())]);
    graph.add_colleague(Colleague::new(
        "4d1c7f00-0000-4000-8000-0000000000f0",
        "Grace Hopper",
        "grace",
        Answers::Never,
    ));
    let member = || Invocation::in_channel(7250);
    let over_http = |typed: &str| client.deliver(discord.prepare_autocomplete(member(), typed));

    let (fast, _) = over_http("a").await;
    let names = |choices: Vec<(String, String)>| choices.into_iter().map(|(name, _)| name).collect::<Vec<_>>();
    assert_eq!(names(discord.choices(&fast).await), ["Ada Lovelace (ada@contoso.com)"]);
    // The directory takes 5 s from now on: each answer still comes within Discord's 3 s (the stand-in refuses a
    // later one with 10062), with what the bot knows.
    graph.set_directory_latency(Duration::from_secs(5));
    let (slow, _) = over_http("ada lo").await;
    assert_eq!(names(discord.choices(&slow).await), ["Ada Lovelace (ada@contoso.com)"], "known from \"a\"");
    let (grace, _) = over_http("grace").await;
    assert_eq!(discord.choices(&grace).await, [], "nobody known yet for \"grace\"");
    // The search for "grace" went on; once it has answered, the next keystroke knows her.
    graph.wait_for("the slow search to finish", |g| (g.directory_searches() >= 3).then_some(())).await;
    let (again, _) = over_http("grace").await;
    assert_eq!(names(discord.choices(&again).await), ["Grace Hopper (grace@contoso.com)"]);
    for token in [&fast, &slow, &grace, &again] {
        let after = discord.interaction(token).acknowledged_after.unwrap();
        assert!(after < Duration::from_secs(3), "{after:?}");
    }

    // Over the gateway, the same: the answer by REST within the 3 s, from what is known.
    let gateway = ringing_bot(&[]).await;
    let (discord_g, graph_g) = (&gateway.bot.discord, &gateway.bot.graph);
    graph_g.set_directory_latency(Duration::from_secs(5));
    let first = discord_g.autocomplete(member(), "a").await;
    assert_eq!(discord_g.choices(&first).await, [], "nothing known yet");
    graph_g.wait_for("the slow search to finish", |g| (g.directory_searches() >= 1).then_some(())).await;
    let next = discord_g.autocomplete(member(), "ad").await;
    assert_eq!(names(discord_g.choices(&next).await), ["Ada Lovelace (ada@contoso.com)"], "from the search for \"a\"");
    for token in [&first, &next] {
        assert!(discord_g.interaction(token).acknowledged_after.unwrap() < Duration::from_secs(3));
    }
    assert!(discord_g.violations().is_empty(), "{:?}", discord_g.violations());
    assert!(
        discord.violations().is_empty(),
        "every answer is Discord's type 8 with valid choices: {:?}",
        discord.violations()
    );
    let searches: Vec<String> =
        graph.requests().into_iter().filter(|r| r.path.starts_with("/v1.0/users?")).map(|r| r.path).collect();
    assert!(searches.iter().all(|p| p.contains("$search=\"displayName:") && p.contains("$top=25")), "{searches:?}");
}

#[tokio::test]
async fn with_ringing_off_the_option_is_not_offered_and_a_crafted_ring_rings_nobody() {
    let bot = RunningBot::start(&[]).await;
    let registered = bot.discord.registrations().last().unwrap().1.clone();
    let options: Vec<&str> =
        registered[0]["options"].as_array().unwrap().iter().filter_map(|o| o["name"].as_str()).collect();
    assert_eq!(options, ["subject", "new"], "no ring: without MEETNOW_RING");
    bot.graph.allow_ringing();
    bot.graph.add_colleague(Colleague::new(ADA, "Ada Lovelace", "ada", Answers::Joins(Duration::ZERO)));
    let token = bot.discord.invoke(Invocation::in_channel(7260).ring(ADA)).await;
    let text = bot.discord.settled(&token).await.ephemeral_text().unwrap_or_default();
    assert!(text.contains("Ringing is not turned on") && text.contains("MEETNOW_RING=true"), "{text}");
    assert!(bot.graph.calls().is_empty() && bot.graph.meetings_created() == 0, "nothing made, nobody rung");
}

#[tokio::test]
async fn every_ringing_mistake_at_run_time_is_one_sentence_with_its_fix() {
    let live = ringing_bot(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    // Nobody by that name or address.
    let token = discord.invoke(Invocation::in_channel(7270).ring("nobody@contoso.com")).await;
    let text = discord.wait_for("the answer", |d| d.interaction(&token).ephemeral_text()).await;
    assert!(text.contains("Nobody in your organisation's directory matches `nobody@contoso.com`"), "{text}");

    // The Azure Bot registration without Teams calling: Graph refuses the call.
    graph.disable_calling();
    discord.invoke(Invocation::in_channel(7271).ring(ADA)).await;
    let line = ring_line(discord, 7271, ADA, "Could not ring Ada Lovelace").await;
    let fix = line["embeds"][0]["description"].as_str().unwrap();
    assert!(
        fix.contains("Calls.JoinGroupCall.All") && fix.contains("calling enabled") && fix.contains("meetnow check"),
        "{fix}"
    );

    // Graph throttles the invitation: it is sent again after the Retry-After, once.
    let fresh = ringing_bot(&[]).await;
    fresh.bot.graph.throttle_next_invite(1);
    fresh.bot.discord.invoke(Invocation::in_channel(7273).ring(ADA)).await;
    ring_line(&fresh.bot.discord, 7273, ADA, "Ada Lovelace joined").await;
    let invites: Vec<_> =
        fresh.bot.graph.requests().into_iter().filter(|r| r.path.ends_with("/participants/invite")).collect();
    assert_eq!(invites.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200], "once refused, once rung");
    assert_eq!(fresh.bot.graph.rung(), [ADA]);

    // No permission to read the directory.
    graph.set_roles(&[crate::support::graph::ROLE, "Calls.JoinGroupCall.All", "Calls.InitiateGroupCall.All"]);
    let token = discord.invoke(Invocation::in_channel(7272).ring(ADA)).await;
    let text = discord.wait_for("the answer", |d| d.interaction(&token).ephemeral_text()).await;
    assert!(text.contains("User.ReadBasic.All") && text.contains("admin consent"), "{text}");
    assert!(graph.rung().is_empty(), "nobody rung");
    assert!(discord.pings().is_empty() && discord.violations().is_empty());
}

#[tokio::test]
async fn call_notifications_are_checked_before_anything_is_read() {
    let live = ringing_bot(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    discord.invoke(Invocation::in_channel(7280).ring(ADA)).await;
    ring_line(discord, 7280, ADA, "joined").await;
    let callback = graph.calls()[0].callback.clone();
    let call = graph.calls()[0].id.clone();
    assert!(callback.starts_with(&format!("{}/graph/calls/", live.balancer.url)), "{callback}");
    let body = serde_json::json!({"value": [{"changeType": "updated", "resourceUrl": format!("/communications/calls/{call}"), "resourceData": {"state": "established"}}]});
    let client = reqwest::Client::new();
    let post = |url: String, token: Option<String>, body: Vec<u8>| {
        let mut request = client.post(url).header("content-type", "application/json").body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let good = || Some(call_token(CALLS_KID, CLIENT_ID, "https://graph.microsoft.com"));
    let json = || body.to_string().into_bytes();
    let (until, mac) = callback.rsplit_once('/').unwrap();
    let forged_mac = format!("{until}/{}", mac.chars().rev().collect::<String>());
    let later = format!("{}/{}", until.rsplit_once('/').unwrap().0, 4_000_000_000u64);
    for (what, url, token, body, status) in [
        ("no token", callback.clone(), None, json(), 401),
        (
            "a key nobody publishes",
            callback.clone(),
            Some(call_token("made-up", CLIENT_ID, "https://graph.microsoft.com")),
            json(),
            401,
        ),
        (
            "for another app",
            callback.clone(),
            Some(call_token(CALLS_KID, "99999999-2222-3333-4444-555555555555", "https://graph.microsoft.com")),
            json(),
            401,
        ),
        (
            "from another issuer",
            callback.clone(),
            Some(call_token(CALLS_KID, CLIENT_ID, "https://evil.example.com")),
            json(),
            401,
        ),
        ("an address the bot never gave", forged_mac, good(), json(), 404),
        ("a later deadline on a real MAC", format!("{later}/{mac}"), good(), json(), 404),
        ("not JSON", callback.clone(), good(), b"{{{".to_vec(), 400),
        ("Graph's own", callback.clone(), good(), json(), 202),
    ] {
        assert_eq!(post(url, token, body).await, status, "{what}");
    }
    let metrics = live.metric(r#"meetnow_ring_notifications_refused_total{reason="address"} 2"#).await;
    for line in [
        r#"reason="token_missing"} 1"#,
        r#"reason="token_signature"} 1"#,
        r#"reason="token_claims"} 2"#,
        r#"reason="malformed"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }
    assert_eq!(graph.open_calls(), 0, "nothing forged changed anything");
}

#[tokio::test]
async fn every_ringing_setup_mistake_exits_2_or_is_a_check_line_with_its_fix() {
    use crate::support::process::command as meetnow;
    let graph = GraphStandIn::start().await;
    let certificate = CertificateFile::notifications();
    let live = [
        ("MEETNOW_PUBLIC_URL", "https://meetnow.example.com".to_owned()),
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", certificate.path()),
        ("MEETNOW_LISTEN_ADDR", "127.0.0.1:0".to_owned()),
    ];
    let on = ("MEETNOW_RING", "true".to_owned());
    /// With live status set up, the variables, what stderr says.
    type Case = (bool, Vec<(&'static str, String)>, &'static str);
    let cases: [Case; 5] = [
        (false, vec![on.clone()], "MEETNOW_RING: is true, but MEETNOW_PUBLIC_URL is not set"),
        (true, vec![("MEETNOW_RING", "perhaps".into())], "MEETNOW_RING:"),
        (
            true,
            vec![on.clone(), ("MEETNOW_RING_SECONDS", "90".into())],
            "MEETNOW_RING_SECONDS: must be a whole number of seconds from 5 to 60",
        ),
        (
            true,
            vec![("MEETNOW_RING_SECONDS", "30".into())],
            "MEETNOW_RING_SECONDS: is set, but MEETNOW_RING is not true",
        ),
        (
            true,
            vec![on.clone(), ("MEETNOW_CALLS_OPENID_CONFIGURATION", "http://keys.example.com".into())],
            "MEETNOW_CALLS_OPENID_CONFIGURATION",
        ),
    ];
    for (with_live, extra, expected) in cases {
        let mut vars = graph.env();
        vars.push(("DISCORD_TOKEN", "discord.token.value".into()));
        if with_live {
            vars.extend(live.iter().cloned());
        }
        vars.extend(extra);
        for command in [&["check"][..], &["run"]] {
            let out = meetnow(command, &vars, None).await;
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
            assert!(stderr.contains(expected), "{command:?}: {stderr}");
        }
    }

    // Azure's part: the permissions in the token, and what no API shows, with where to set it.
    let mut vars = graph.env();
    vars.extend(live.iter().cloned());
    vars.push(on);
    let out = meetnow(&["check"], &vars, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("FAIL  ring permissions   the token lacks Calls.JoinGroupCall.All, Calls.InitiateGroupCall.All, User.ReadBasic.All"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Enable calling, Webhook (for calling) = https://meetnow.example.com/graph/calls"),
        "{stdout}"
    );
    graph.allow_ringing();
    let out = meetnow(&["check"], &vars, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("ok    ring permissions"), "{stdout}");
}
