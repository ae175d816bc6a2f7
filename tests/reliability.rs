//! Faults and hostile input, through the real bot against the stand-ins: the bot keeps answering, never makes
//! a second bridge, never posts a wrong or placeholder link, and never lets text ping anyone.
//! RELIABILITY.md lists every case with what the user saw and what the stand-ins counted.

use crate::support;

use std::time::Duration;

use crate::support::bot::RunningBot;
use crate::support::discord::{DiscordStandIn, InteractionRecord, Invocation, Route};
use crate::support::graph::{Fault, GraphStandIn, TokenFault};

fn join_link(record: &InteractionRecord) -> Option<String> {
    let original = record.original.as_ref()?;
    original["components"][0]["components"][0]["url"].as_str().map(str::to_owned)
}

/// Runs `/meetnow` in `channel` and returns what the invoker ended up with.
async fn meetnow(bot: &RunningBot, channel: u64) -> InteractionRecord {
    let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
    bot.discord.settled(&token).await
}

/// The bot still serves another channel afterwards.
async fn still_serving(bot: &RunningBot, channel: u64) {
    let record = meetnow(bot, channel).await;
    assert!(join_link(&record).is_some(), "another channel still gets its bridge: {:?}", record.ephemeral_text());
}

fn assert_no_duplicates(graph: &GraphStandIn) {
    let requests = graph.requests();
    let mut created: Vec<_> =
        requests.iter().filter(|r| r.status == 201).filter_map(|r| r.body["externalId"].as_str()).collect();
    let total = created.len();
    created.sort_unstable();
    created.dedup();
    assert_eq!(created.len(), total, "a standing bridge was created twice");
}

#[tokio::test]
async fn transient_graph_faults_are_retried_and_the_bridge_announced_once() {
    let bot = RunningBot::start(&[]).await;
    let faults = [
        ("429 with Retry-After", Fault::Throttle(Some(1))),
        ("429 without Retry-After", Fault::Throttle(None)),
        ("503", Fault::Unavailable),
        ("504", Fault::GatewayTimeout),
        ("502 HTML page", Fault::BadGatewayHtml),
        ("truncated JSON", Fault::Truncated),
        ("malformed JSON", Fault::NotJson),
        ("connection reset mid-response", Fault::ResetMidBody),
        ("expired token", Fault::ExpireTokens),
    ];
    for (i, (name, fault)) in faults.into_iter().enumerate() {
        let channel = 6_000_000_000_000_000_000 + i as u64;
        let created_before = bot.graph.meetings_created();
        bot.graph.push_fault(fault);
        let record = meetnow(&bot, channel).await;
        let link =
            join_link(&record).unwrap_or_else(|| panic!("{name}: no announcement: {:?}", record.ephemeral_text()));
        assert!(link.starts_with("https://teams.microsoft.com/l/meetup-join/"), "{name}: {link}");
        assert_eq!(bot.graph.meetings_created(), created_before + 1, "{name}: exactly one meeting");
    }
    assert_no_duplicates(&bot.graph);
    assert!(bot.discord.channel_messages().is_empty() && bot.discord.pings().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_retried_without_a_second_bridge() {
    let bot = RunningBot::start(&[]).await;
    // Longer than the 6 s per-attempt timeout; the retry finds the meeting the slow request made.
    bot.graph.push_fault(Fault::Slow(Duration::from_secs(7)));
    let record = meetnow(&bot, 6_100_000_000_000_000_001).await;
    assert!(join_link(&record).is_some(), "{:?}", record.ephemeral_text());
    assert_eq!(bot.graph.meetings_created(), 1);
    // The retry was told 200, but the bridge was made for this command: it is new to the channel, so it is
    // announced as new, pinned, and given its lobby settings (which a 200 used to skip for good).
    assert!(embed_description(&record).starts_with("New bridge"), "{}", embed_description(&record));
    bot.discord.wait_for("the pin", |d| (d.pins().len() == 1).then_some(())).await;
    bot.graph
        .wait_for("the lobby settings", |g| g.meetings_without_the_configured_lobby().is_empty().then_some(()))
        .await;
    bot.stop().await.unwrap();
}

/// Whether the character at byte `at` is escaped: preceded by an odd run of backslashes. `\\[` is an escaped
/// backslash and a bare bracket, which Discord renders as a link's start.
fn is_escaped(text: &str, at: usize) -> bool {
    text[..at].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

#[test]
fn an_escaped_backslash_does_not_escape_what_follows() {
    assert!(is_escaped(r"\[", 1));
    assert!(!is_escaped(r"\\[", 2));
    assert!(is_escaped(r"\\\[", 3));
    assert!(!is_escaped("[", 0));
}

fn embed_description(record: &InteractionRecord) -> String {
    record.original.as_ref().unwrap()["embeds"][0]["description"].as_str().unwrap_or_default().to_owned()
}

/// A fault that lasts: the invoker is told what is wrong, nothing is posted, and the bot serves others after.
async fn lasting_fault(setup: impl FnOnce(&GraphStandIn), clear: impl FnOnce(&GraphStandIn), expected: &str) {
    let bot = RunningBot::start(&[]).await;
    setup(&bot.graph);
    let record = meetnow(&bot, 6_200_000_000_000_000_001).await;
    let text = record.ephemeral_text().unwrap_or_else(|| panic!("no message for the user: {record:?}"));
    assert!(text.contains(expected), "{text}");
    assert!(record.original.is_none() && record.original_deleted, "no half-made announcement");
    assert!(bot.discord.channel_messages().is_empty());
    clear(&bot.graph);
    still_serving(&bot, 6_200_000_000_000_000_002).await;
    assert_no_duplicates(&bot.graph);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_429_storm_beyond_the_budget_says_when_to_retry() {
    lasting_fault(|g| g.set_always(Some(Fault::Throttle(Some(60)))), |g| g.set_always(None), "Try again in 60 seconds")
        .await;
}

#[tokio::test]
async fn a_lasting_html_error_page_says_teams_is_not_answering() {
    lasting_fault(|g| g.set_always(Some(Fault::BadGatewayHtml)), |g| g.set_always(None), "not answering").await;
}

#[tokio::test]
async fn lasting_malformed_responses_post_no_link() {
    lasting_fault(|g| g.set_always(Some(Fault::NotJson)), |g| g.set_always(None), "no link was posted").await;
}

#[tokio::test]
async fn sign_in_down_is_reported_and_the_bot_recovers_when_it_returns() {
    // Down from the start: the start-up fetch fails too, and the bot still starts and answers.
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    graph.set_token_fault(Some(TokenFault::Down));
    let bot = RunningBot::start_with(discord, graph, &[]).await;
    let record = meetnow(&bot, 6_300_000_000_000_000_001).await;
    assert!(record.ephemeral_text().unwrap().contains("The Microsoft sign-in service (Entra ID) is not answering"));
    bot.graph.set_token_fault(None);
    still_serving(&bot, 6_300_000_000_000_000_002).await;
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn graph_refusing_connections_is_reported() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let bot = RunningBot::start(&[("GRAPH_ENDPOINT", &dead)]).await;
    let record = meetnow(&bot, 6_400_000_000_000_000_001).await;
    assert!(record.ephemeral_text().unwrap().contains("not answering"), "{:?}", record.ephemeral_text());
    assert!(record.original.is_none());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn discord_429s_are_retried_once() {
    let bot = RunningBot::start(&[]).await;
    let limited = serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.3, "global": false});
    bot.discord.push_fault(Route::Callback, 429, limited.clone());
    bot.discord.push_fault(Route::EditOriginal, 429, limited);
    let record = meetnow(&bot, 6_500_000_000_000_000_001).await;
    assert!(record.acknowledged_after.unwrap() < support::discord::DEADLINE, "the retried defer was in time");
    assert!(join_link(&record).is_some());
    assert!(bot.discord.channel_messages().is_empty(), "the retried edit worked; no fallback needed");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_gateway_drop_during_a_command_does_not_lose_it() {
    let bot = RunningBot::start(&[]).await;
    bot.graph.set_latency(Duration::from_millis(800));
    let token = bot.discord.invoke(Invocation::in_channel(6_600_000_000_000_000_001)).await;
    bot.discord.wait_for("the defer", |d| d.interaction(&token).deferred().then_some(())).await;
    bot.discord.drop_gateway();
    let record = bot.discord.settled(&token).await;
    assert!(join_link(&record).is_some(), "finished over REST while the gateway reconnected");
    bot.discord.wait_for("a new session", |d| d.connected().then_some(())).await;
    bot.graph.set_latency(Duration::ZERO);
    still_serving(&bot, 6_600_000_000_000_000_002).await;
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_crafted_6000_character_subject_is_refused_privately_and_creates_nothing() {
    let bot = RunningBot::start(&[]).await;
    // Discord enforces max_length 200; a crafted request can still carry 6,000 characters.
    let token =
        bot.discord.invoke(Invocation::in_channel(6_700_000_000_000_000_001).subject(&"@everyone ".repeat(600))).await;
    let record = bot.discord.settled(&token).await;
    assert!(record.ephemeral_text().unwrap().contains("at most: 200"));
    assert!(bot.graph.requests().is_empty());
    assert!(bot.discord.pings().is_empty());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn hostile_subjects_ping_nobody_fake_no_link_and_reach_graph_clean() {
    let bot = RunningBot::start(&[]).await;
    let subjects = [
        "@everyone @here <@123456789012345678> <@&123456789012345678>",
        "[Join the bridge](https://evil.example/teams) <https://evil.example>",
        "# Heading\n> quote\n- list",
        "zero\u{200B}width \u{202E}override\u{202C} and \u{0007}bell\u{0000}nul\ttab\r\nnewline",
        "**bold** __underline__ ~~strike~~ ||spoiler|| `code` ```block```",
        "<t:1:R> <:emoji:123> <#123456789012345678> https://evil.example",
    ];
    for (i, subject) in subjects.iter().enumerate() {
        let channel = 6_800_000_000_000_000_000 + i as u64;
        let token = bot.discord.invoke(Invocation::in_channel(channel).new_meeting().subject(subject)).await;
        let record = bot.discord.settled(&token).await;
        let original = record.original.as_ref().unwrap_or_else(|| panic!("{subject:?}: {:?}", record.ephemeral_text()));
        let title = original["embeds"][0]["title"].as_str().unwrap();
        assert!(
            !title.chars().any(|c| c.is_control()
                || ('\u{200B}'..='\u{200F}').contains(&c)
                || ('\u{202A}'..='\u{202E}').contains(&c)),
            "{title:?}"
        );
        for dangerous in ["[", "]", "<", ">", "@", "`", "*", "_", "~", "|", ":"] {
            for (at, _) in title.match_indices(dangerous) {
                assert!(is_escaped(title, at), "{dangerous:?} unescaped in {title:?}");
            }
        }
        // The only link in the message is Graph's join link (button and title URL).
        assert!(!original.to_string().contains("](https://evil"), "{original}");
        assert!(join_link(&record).unwrap().starts_with("https://teams.microsoft.com/"));
    }
    // Graph received the subjects cleaned of control and invisible characters, as valid JSON (schema-checked).
    for request in bot.graph.requests().iter().filter(|r| r.method == "POST") {
        let sent = request.body["subject"].as_str().unwrap();
        assert!(!sent.chars().any(|c| c.is_control() || c == '\u{200B}' || c == '\u{202E}'), "{sent:?}");
    }
    assert_eq!(bot.discord.pings(), Vec::<String>::new());
    assert_eq!(bot.discord.violations(), Vec::<String>::new());
    assert_eq!(bot.graph.violations(), Vec::<String>::new());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn channel_names_in_any_script_become_the_default_subject() {
    let bot = RunningBot::start(&[]).await;
    for (i, name) in ["инцидент-42", "障害対応", "حادثة-٤٢", "incident-🔥", "ｆｕｌｌｗｉｄｔｈ"].iter().enumerate()
    {
        let mut invocation = Invocation::in_channel(6_900_000_000_000_000_000 + i as u64);
        invocation.channel_name = name.to_string();
        let token = bot.discord.invoke(invocation).await;
        let record = bot.discord.settled(&token).await;
        let title = record.original.as_ref().unwrap()["embeds"][0]["title"].as_str().unwrap().to_owned();
        assert_eq!(title, format!("\\#{name} bridge"));
    }
    let subjects: Vec<_> =
        bot.graph.requests().iter().filter_map(|r| r.body["subject"].as_str().map(str::to_owned)).collect();
    assert!(subjects.contains(&"#障害対応 bridge".to_owned()), "{subjects:?}");
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_restarted_bot_returns_the_same_standing_bridge() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    let channel = 7_000_000_000_000_000_001;
    let first = RunningBot::start_with(discord.clone(), graph.clone(), &[]).await;
    let before = join_link(&meetnow(&first, channel).await).unwrap();
    first.stop().await.unwrap();

    let second = RunningBot::start_with(discord, graph, &[]).await;
    let after = meetnow(&second, channel).await;
    assert_eq!(join_link(&after).unwrap(), before);
    assert!(embed_description(&after).contains("standing bridge"));
    assert_eq!(second.graph.meetings_created(), 1);
    second.stop().await.unwrap();
}

#[tokio::test]
async fn graph_answers_past_the_cap_are_not_read_whole() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::Huge));
    let out = support::process::command(&["create"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("not answering"), "{said}");
}
