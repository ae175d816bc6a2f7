//! Availability: several processes on one bot token (Discord sends every command to each), and commands at
//! Discord's Interactions Endpoint URL behind a load balancer. What the channel sees must not depend on how
//! many processes run, which one answers, or which one dies.

use crate::support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::support::bot::{Options, RunningBot};
use crate::support::discord::{DiscordStandIn, InteractionRecord, Invocation, GUILD_ID};
use crate::support::graph::GraphStandIn;
use crate::support::interactions::{json_body, InteractionsClient};
use crate::support::process::{BotProcess, Launch};
use meetnow::graph::GraphClient;
use meetnow::graph::RetryPolicy;
use meetnow::meeting::{MeetingKey, MeetingRequest};

fn description(record: &InteractionRecord) -> String {
    let original = record.original.as_ref().expect("announced by an edit of the deferred reply");
    original["embeds"][0]["description"].as_str().unwrap_or_default().to_owned()
}

fn join_link(record: &InteractionRecord) -> String {
    let original = record.original.as_ref().expect("announced by an edit of the deferred reply");
    original["embeds"][0]["url"].as_str().expect("the title links the meeting").to_owned()
}

/// What every test here expects of the channel, whatever the number of processes: each command answered
/// with an announcement of its channel's one bridge, nothing else posted, nobody pinged, nothing Discord
/// would refuse, and each channel's bridge pinned exactly once, with the configured lobby.
async fn assert_one_answer_each(discord: &DiscordStandIn, graph: &GraphStandIn, tokens: &[String]) {
    let mut bridge_of_channel: HashMap<u64, String> = HashMap::new();
    for token in tokens {
        let record = discord.settled(token).await;
        assert!(record.ephemeral_text().is_none(), "no error for anyone: {:?}", record.ephemeral_text());
        assert!(record.followups.is_empty() && !record.original_deleted, "one message: {record:?}");
        let link = join_link(&record);
        assert_eq!(bridge_of_channel.entry(record.channel_id).or_insert_with(|| link.clone()), &link, "one bridge");
    }
    let channels: HashSet<u64> = bridge_of_channel.keys().copied().collect();
    assert_eq!(graph.meetings_created(), channels.len(), "one meeting per channel");
    graph
        .wait_for("every bridge's lobby settings", |g| {
            g.meetings_without_the_configured_lobby().is_empty().then_some(())
        })
        .await;
    discord
        .wait_for("a pin in every channel", |d| {
            let pinned: HashSet<u64> = d.pins().iter().map(|(channel, _)| *channel).collect();
            (pinned == channels).then_some(())
        })
        .await;
    assert!(discord.channel_messages().is_empty(), "no fallback posts");
    assert!(discord.violations().is_empty(), "{:?}", discord.violations());
    assert!(discord.pings().is_empty(), "{:?}", discord.pings());
}

/// Exactly one pin per channel (checked once every process is done).
fn assert_one_pin_per_channel(discord: &DiscordStandIn) {
    let mut per_channel: HashMap<u64, usize> = HashMap::new();
    for (channel, _) in discord.pins() {
        *per_channel.entry(channel).or_default() += 1;
    }
    assert!(per_channel.values().all(|&n| n == 1), "one pin per channel: {per_channel:?}");
}

/// The command was announced as a new bridge, with the channel's invariants; then the bot stops and the one
/// pin is checked once it is done.
async fn announced_as_new_then_stop(bot: RunningBot, token: String) {
    let record = bot.discord.settled(&token).await;
    assert!(description(&record).starts_with("New bridge"), "{}", description(&record));
    assert_one_answer_each(&bot.discord, &bot.graph, &[token]).await;
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_one_pin_per_channel(&discord);
}

fn channels(first: u64, count: u64) -> Vec<Invocation> {
    (0..count).map(|i| Invocation::in_channel(first + i)).collect()
}

// ---- Several processes over the gateway: each race decided on purpose ----

#[tokio::test]
async fn a_bridge_another_process_made_for_the_command_is_announced_as_new_pinned_and_given_its_lobby() {
    let bot = RunningBot::start(&[]).await;
    let invocation = Invocation::in_channel(7_000_000_000_000_000_001);
    let prepared = bot.discord.prepare(std::slice::from_ref(&invocation));
    // Another process got the command first and made the bridge (Graph answered it 201), then died before its
    // lobby PATCH. This process is answered 200.
    let other = GraphClient::new(
        meetnow::http::client().unwrap(),
        &support::config(&bot.graph.env()).graph,
        Default::default(),
    );
    let key = MeetingKey::for_channel(GUILD_ID, invocation.channel_id);
    let request = MeetingRequest { subject: "#inc-1 bridge".into(), key: Some(key) };
    let (_, lobby_not_applied) = other.meeting_now(&request).await.unwrap();
    drop(lobby_not_applied);
    assert_eq!(bot.graph.meetings_without_the_configured_lobby().len(), 1);

    let token = bot.discord.dispatch(prepared).await.remove(0);
    announced_as_new_then_stop(bot, token).await;
}

#[tokio::test]
async fn a_process_that_loses_the_race_applies_the_lobby_and_finishes_a_command_the_winner_dropped() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    let prepared = bot.discord.prepare(&[Invocation::in_channel(7_000_000_000_000_000_002)]);
    let token = prepared[0].0.clone();
    // Another process acknowledged the command and was killed before announcing it.
    bot.discord.acknowledge_as_another_process(&token);
    bot.discord.dispatch(prepared).await;

    // This process made the bridge (201) though it lost the acknowledgement: the lobby is still applied.
    bot.graph
        .wait_for("the lobby settings", |g| {
            (g.meetings_created() == 1 && g.meetings_without_the_configured_lobby().is_empty()).then_some(())
        })
        .await;
    // Once the winner should long have answered, the reply is still "thinking…": this process finishes it.
    let record = bot.discord.settled(&token).await;
    assert_eq!(record.errors, vec![40060], "its own defer was refused: another process had the command");
    announced_as_new_then_stop(bot, token).await;
}

#[tokio::test]
async fn two_processes_answer_each_command_once_and_the_loser_leaves_no_trace() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let a = RunningBot::start_with(discord.clone(), graph.clone(), &[]).await;
    let b = RunningBot::start_with(discord.clone(), graph.clone(), &[]).await;
    assert_eq!(discord.sessions(), 2);

    let tokens = discord.invoke_all(channels(7_100_000_000_000_000_000, 12)).await;
    assert_one_answer_each(&discord, &graph, &tokens).await;
    for token in &tokens {
        // Both processes had the command: one answered, Discord refused the other (whose defer may still be on
        // its way when the winner's announcement lands, on a busy machine).
        discord
            .wait_for("the loser's refused defer", |d| (!d.interaction(token).errors.is_empty()).then_some(()))
            .await;
        assert_eq!(discord.interaction(token).errors, vec![40060]);
        // The loser looks once, after its stand-by, finds the announcement and leaves it alone.
        discord.wait_for("the loser's look", |d| (d.interaction(token).original_reads == 1).then_some(())).await;
        assert_eq!(discord.interaction(token).edits, 1, "announced once");
    }
    a.stop().await.unwrap();
    b.stop().await.unwrap();
    assert_one_pin_per_channel(&discord);
    assert!(discord.unpins().is_empty(), "no pin to undo: only the winner pinned");
}

#[tokio::test]
async fn two_people_at_once_in_a_new_channel_get_one_bridge_and_one_pin() {
    let bot = RunningBot::start(&[]).await;
    let channel = 7_200_000_000_000_000_001;
    let mut second = Invocation::in_channel(channel);
    second.user_id = 700_000_000_000_000_777;
    let tokens = bot.discord.invoke_all(vec![Invocation::in_channel(channel), second]).await;
    assert_one_answer_each(&bot.discord, &bot.graph, &tokens).await;
    // Both commands came before the bridge existed, so both call it new: one of the two announcements is
    // pinned, and only once.
    let discord = bot.discord.clone();
    bot.stop().await.unwrap();
    assert_one_pin_per_channel(&discord);
    let kept = discord.pins()[0].1;
    let announcements: Vec<u64> = tokens.iter().filter_map(|t| discord.interaction(t).original_id).collect();
    assert!(announcements.contains(&kept), "{kept} is not one of {announcements:?}");
    assert!(discord.unpins().is_empty(), "nothing pinned twice and undone: {:?}", discord.unpins());
}

#[tokio::test]
async fn a_bridge_pinned_already_is_not_pinned_again() {
    let bot = RunningBot::start(&[]).await;
    let channel = 7_200_000_000_000_000_002;
    let mut second = Invocation::in_channel(channel);
    second.user_id = 700_000_000_000_000_778;
    // Both issued before the bridge exists (both call it new), delivered one after the other: the second
    // finds the first's pin and leaves it, with no pin to undo (each pin shows in the channel).
    let mut prepared = bot.discord.prepare(&[Invocation::in_channel(channel), second]);
    let later = prepared.split_off(1);
    let first = bot.discord.dispatch(prepared).await;
    bot.discord.wait_for("the first pin", |d| (d.pins().len() == 1).then_some(())).await;
    let second = bot.discord.dispatch(later).await;
    assert!(description(&bot.discord.settled(&second[0]).await).starts_with("New bridge"));
    let discord = bot.discord.clone();
    assert_one_answer_each(&bot.discord, &bot.graph, &[first[0].clone(), second[0].clone()]).await;
    bot.stop().await.unwrap();
    assert_eq!(discord.pins().len(), 1);
    assert!(discord.unpins().is_empty(), "{:?}", discord.unpins());
}

/// Starts `bot`'s shutdown while a slow command keeps it draining, and returns once its `/readyz` says so.
async fn start_draining(bot: RunningBot, discord: &DiscordStandIn, channel: u64) -> tokio::task::JoinHandle<()> {
    let readyz = bot.metrics_url("/readyz");
    let prepared = discord.prepare(&[Invocation::in_channel(channel)]);
    let slow = discord.dispatch_staggered(prepared, Duration::from_millis(150)).await.remove(0);
    discord.wait_for("the slow command acknowledged", |d| d.interaction(&slow).deferred().then_some(())).await;
    let stopping = tokio::spawn(async move { bot.stop().await.unwrap() });
    let not_ready = async {
        while !reqwest::get(&readyz).await.is_ok_and(|r| r.status() == 503) {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), not_ready).await.expect("/readyz turns 503 when shutdown starts");
    stopping
}

#[tokio::test]
async fn a_process_shutting_down_leaves_new_commands_to_a_running_one() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    // a connects first, so it gets every command 150 ms before b. Graph's real time limits: its answers take
    // 2.5 s here, to keep a draining.
    let real = |env| Options { env, policy: RetryPolicy::default(), ..Options::default() };
    let a = RunningBot::launch(discord.clone(), graph.clone(), real(&[("METRICS_ADDR", "127.0.0.1:0")])).await;
    let b = RunningBot::launch(discord.clone(), graph.clone(), real(&[])).await;
    graph.set_latency(Duration::from_millis(2500));
    let a_stopping = start_draining(a, &discord, 7_250_000_000_000_000_001).await;

    let prepared = discord.prepare(&[Invocation::in_channel(7_250_000_000_000_000_002)]);
    let token = discord.dispatch_staggered(prepared, Duration::from_millis(150)).await.remove(0);
    let record = discord.settled(&token).await;
    assert!(record.ephemeral_text().is_none(), "nobody is told 'restarting': {:?}", record.ephemeral_text());
    assert!(description(&record).starts_with("New bridge"));
    a_stopping.await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_process_shutting_down_alone_says_it_is_restarting_within_the_deadline() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let options =
        Options { env: &[("METRICS_ADDR", "127.0.0.1:0")], policy: RetryPolicy::default(), ..Options::default() };
    let bot = RunningBot::launch(discord.clone(), graph.clone(), options).await;
    graph.set_latency(Duration::from_millis(2500));
    let stopping = start_draining(bot, &discord, 7_260_000_000_000_000_001).await;

    let token = discord.invoke(Invocation::in_channel(7_260_000_000_000_000_002)).await;
    let record = discord.settled(&token).await;
    let text = record.ephemeral_text().expect("told privately, not left to time out");
    assert!(text.contains("restarting"), "{text}");
    assert!(record.acknowledged_after.unwrap() < support::discord::DEADLINE);
    stopping.await.unwrap();
}

// ---- Several real processes over the gateway, one of them killed ----

#[tokio::test]
async fn two_bot_processes_on_one_token_answer_every_command_once_and_survive_a_sigkill() {
    let (graph, discord, vars) = support::stand_ins().await;
    // Started one after the other, so the first gateway session is process a's.
    let a = BotProcess::start(&vars);
    discord.wait_for("process a connected", |d| (d.sessions() == 1).then_some(())).await;
    let b = BotProcess::start(&vars);
    discord.wait_for("both processes connected", |d| (d.sessions() == 2).then_some(())).await;

    let tokens = discord.invoke_all(channels(7_300_000_000_000_000_000, 20)).await;
    assert_one_answer_each(&discord, &graph, &tokens).await;
    assert!(tokens.iter().all(|t| discord.interaction(t).errors == [40060]), "both processes had every command");

    // Mid-burst, process a is killed after acknowledging every command (it gets each 150 ms before b) and
    // before announcing them (Discord answers 300 ms late). Process b, refused each acknowledgement, stands by,
    // finds the replies unanswered and finishes them.
    discord.set_latency(Duration::from_millis(300));
    let prepared = discord.prepare(&channels(7_300_000_000_000_000_100, 20));
    let burst = discord.dispatch_staggered(prepared, Duration::from_millis(150)).await;
    discord
        .wait_for("every command acknowledged", |d| burst.iter().all(|t| d.interaction(t).deferred()).then_some(()))
        .await;
    let killed_output = a.kill().await;
    discord.wait_for("the killed session gone", |d| (d.sessions() == 1).then_some(())).await;
    discord.set_latency(Duration::ZERO);
    let after = discord.invoke_all(channels(7_300_000_000_000_000_200, 5)).await;
    let all: Vec<String> = tokens.iter().chain(&burst).chain(&after).cloned().collect();
    assert_one_answer_each(&discord, &graph, &all).await;

    let taken_over = burst.iter().filter(|t| discord.interaction(t).taken_over).count();
    assert!(taken_over > 0, "the survivor finished what the killed process had acknowledged");
    let (status, output) = b.terminate().await;
    assert!(status.success(), "{output}");
    assert_one_pin_per_channel(&discord);
    assert!(!killed_output.contains("panicked") && !output.contains("panicked"), "{killed_output}\n{output}");
}

// ---- Discord's Interactions Endpoint URL ----

/// The variables of an endpoint-mode deployment: the stand-ins', plus the key and the address.
fn endpoint_vars(
    vars: &[(&'static str, String)],
    client: &InteractionsClient,
    addr: &str,
) -> Vec<(&'static str, String)> {
    let mut vars = vars.to_vec();
    vars.push(("DISCORD_PUBLIC_KEY", client.public_key()));
    vars.push(("MEETNOW_INTERACTIONS_ADDR", addr.to_owned()));
    vars
}

#[tokio::test]
async fn the_endpoint_answers_ping_and_refuses_what_discord_did_not_sign_changing_nothing() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let mut client = InteractionsClient::new(&discord);
    let key = client.public_key();
    let extra = [("DISCORD_PUBLIC_KEY", key.as_str()), ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0")];
    let bot = RunningBot::start_with(discord, graph, &extra).await;
    let addr = bot.interactions_addr.unwrap();
    let url = format!("http://{addr}/interactions");
    client.set_endpoints(vec![url.clone()]);

    let pong = client.post_signed(&url, InteractionsClient::ping_body()).await;
    assert_eq!((pong.status, json_body(&pong)), (200, serde_json::json!({"type": 1})));

    let (_, payload) = bot.discord.prepare(&[Invocation::in_channel(7_400_000_000_000_000_001)]).remove(0);
    let body = payload.to_string().into_bytes();
    let now = "1763870400".to_owned();
    let other_key = InteractionsClient::new(&bot.discord);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let cases = [
        ("no signature", body.clone(), None, 401),
        ("another key's signature", body.clone(), Some((other_key.sign(&now, &body), now.clone())), 401),
        ("a changed body", tampered, Some((client.sign(&now, &body), now.clone())), 401),
        ("a signature for another timestamp", body.clone(), Some((client.sign("1", &body), now.clone())), 401),
        ("a signature that is not hex", body.clone(), Some(("zz".repeat(64), now.clone())), 401),
    ];
    for (what, body, signature, status) in cases {
        assert_eq!(client.post(&url, body, signature).await.status, status, "{what}");
    }
    let malformed = b"{\"type\": 2, \"id\": ".to_vec();
    assert_eq!(client.post_signed(&url, malformed).await.status, 400, "signed but not JSON");
    let not_an_interaction = br#"{"type": 2}"#.to_vec();
    assert_eq!(client.post_signed(&url, not_an_interaction).await.status, 400, "signed JSON, not an interaction");
    let huge = vec![b' '; meetnow::server::Limits::default().max_body_bytes + 1];
    assert_eq!(client.post_signed(&url, huge).await.status, 413, "over the body limit");
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 405);
    assert_eq!(http.post(format!("http://{addr}/other")).send().await.unwrap().status(), 404);

    // Nothing reached the handler: no response to Discord, nothing asked of Graph.
    assert!(bot.discord.interactions().iter().all(|r| r.callbacks.is_empty() && r.errors.is_empty()));
    assert_eq!(bot.graph.meetings_created(), 0);
    assert!(bot.graph.requests().iter().all(|r| r.path.ends_with("/token")), "{:?}", bot.graph.requests());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_command_over_http_is_deferred_in_the_answer_and_announced_without_a_gateway() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let mut client = InteractionsClient::new(&discord);
    let key = client.public_key();
    let extra = [
        ("DISCORD_PUBLIC_KEY", key.as_str()),
        ("MEETNOW_INTERACTIONS_ADDR", "127.0.0.1:0"),
        ("METRICS_ADDR", "127.0.0.1:0"),
    ];
    let bot = RunningBot::start_with(discord, graph, &extra).await;
    client.set_endpoints(vec![format!("http://{}/interactions", bot.interactions_addr.unwrap())]);
    // Discord takes the HTTP answer (the defer) a moment after the bot has sent it: the bot's first edit,
    // sent right behind it, is refused as an unknown reply and must be repeated, not turned into a post.
    client.set_answer_delay(Duration::from_millis(300));

    let (token, _) = client.invoke(Invocation::in_channel(7_500_000_000_000_000_001)).await;
    let record = bot.discord.settled(&token).await;
    assert_eq!(record.edits, 1);
    assert_eq!(record.callbacks.len(), 1);
    assert_eq!(record.callbacks[0]["type"], 5, "the defer was the HTTP answer: {:?}", record.callbacks);
    assert!(description(&record).starts_with("New bridge"));
    let (second, _) = client.invoke(Invocation::in_channel(7_500_000_000_000_000_001)).await;
    assert!(description(&bot.discord.settled(&second).await).starts_with("This channel's standing bridge"));
    assert_one_answer_each(&bot.discord, &bot.graph, &[token, second]).await;

    // A refusal is the HTTP answer too.
    let (dm, _) =
        client.invoke(Invocation { guild_id: None, ..Invocation::in_channel(7_500_000_000_000_000_002) }).await;
    let text = bot.discord.settled(&dm).await.ephemeral_text().expect("told privately");
    assert!(text.contains("server channels"), "{text}");

    assert_eq!((bot.discord.identifies(), bot.discord.sessions()), (0, 0), "no gateway connection at all");
    let health = reqwest::get(bot.metrics_url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "healthy without a gateway: {}", health.text().await.unwrap());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn two_endpoint_processes_behind_a_round_robin_balancer_behave_like_one_and_drain_on_sigterm() {
    let (graph, discord, vars) = support::stand_ins().await;
    let mut client = InteractionsClient::new(&discord);
    let a = BotProcess::start(&endpoint_vars(&vars, &client, "127.0.0.1:0"));
    let b = BotProcess::start(&endpoint_vars(&vars, &client, "127.0.0.1:0"));
    let (addr_a, addr_b) = (a.bound("interactions").await.to_string(), b.bound("interactions").await.to_string());
    discord.wait_for("both processes registered /meetnow", |d| (d.registrations().len() == 2).then_some(())).await;
    client.set_endpoints(vec![format!("http://{addr_a}/interactions"), format!("http://{addr_b}/interactions")]);

    // Each channel's two commands go to different processes.
    let mut tokens = Vec::new();
    for round in 0..2 {
        for channel in 0..5 {
            let (token, endpoint) = client.invoke(Invocation::in_channel(7_600_000_000_000_000_000 + channel)).await;
            tokens.push(token);
            assert!(endpoint.contains(if (round * 5 + channel) % 2 == 0 { &addr_a } else { &addr_b }));
        }
    }
    assert_one_answer_each(&discord, &graph, &tokens).await;
    for token in &tokens[5..] {
        assert!(description(&discord.interaction(token)).starts_with("This channel's standing bridge"));
    }

    // SIGTERM while a command is being answered: the process finishes it before it exits.
    graph.set_latency(Duration::from_millis(1500));
    client.set_endpoints(vec![format!("http://{addr_a}/interactions")]);
    let (in_flight, _) = client.invoke(Invocation::in_channel(7_600_000_000_000_000_100)).await;
    let (status, output) = a.terminate().await;
    assert!(status.success(), "{output}");
    assert!(description(&discord.settled(&in_flight).await).starts_with("New bridge"), "finished before exiting");
    graph.set_latency(Duration::ZERO);
    let (status, output) = b.terminate().await;
    assert!(status.success(), "{output}");
    assert_one_pin_per_channel(&discord);
    assert_eq!(discord.identifies(), 0, "no gateway");
}

#[cfg(unix)]
#[tokio::test]
async fn the_binary_runs_unprivileged_in_a_read_only_directory_without_home() {
    use std::os::unix::fs::PermissionsExt as _;
    let (graph, discord, vars) = support::stand_ins().await;
    let mut client = InteractionsClient::new(&discord);

    // As root (CI, a container build): run as `nobody` from a copy every user can execute, in a directory it
    // can't write. As another user, that user, in a directory nobody can write.
    let root = unsafe { libc::geteuid() } == 0;
    let place = tempfile::tempdir().unwrap();
    let program = place.path().join("meetnow");
    std::fs::copy(env!("CARGO_BIN_EXE_meetnow"), &program).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let workdir = place.path().join("work");
    std::fs::create_dir(&workdir).unwrap();
    std::fs::set_permissions(&workdir, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(place.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let launch = Launch { uid: root.then_some(65_534), dir: Some(workdir.clone()), program: Some(program) };
    let vars = endpoint_vars(&vars, &client, "127.0.0.1:0");
    assert!(vars.iter().all(|(name, _)| *name != "HOME"), "no $HOME");
    let bot = BotProcess::launch(&vars, launch);
    let addr = bot.bound("interactions").await;
    discord.wait_for("/meetnow registered", |d| (!d.registrations().is_empty()).then_some(())).await;
    client.set_endpoints(vec![format!("http://{addr}/interactions")]);

    let (token, _) = client.invoke(Invocation::in_channel(7_700_000_000_000_000_001)).await;
    assert_one_answer_each(&discord, &graph, &[token]).await;
    let (status, output) = bot.terminate().await;
    assert!(status.success(), "{output}");
    assert_eq!(std::fs::read_dir(&workdir).unwrap().count(), 0, "wrote nothing to its working directory");
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
