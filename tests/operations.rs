//! What operators rely on: `/metrics`, `/healthz` (and `/readyz`, `/livez`) scraped after real commands, JSON logs, and `check`
//! in each failure mode.

use crate::support;

use crate::support::bot::RunningBot;
use crate::support::discord::{DiscordStandIn, Invocation};
use crate::support::graph::{Fault, GraphStandIn};

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// [`crate::support::poll`], as (status, body).
async fn poll(url: &str, what: &str, want: impl Fn(u16, &str) -> bool) -> (u16, String) {
    let answer = crate::support::poll(url, what, |answer| want(answer.status, &answer.body)).await;
    (answer.status, answer.body)
}

fn value(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{metrics}"))
}

#[tokio::test]
async fn metrics_count_real_commands_and_health_is_ok_when_connected() {
    let bot = RunningBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let addr = bot.metrics_addr.unwrap();
    let base = format!("http://{addr}");
    poll(&format!("{base}/healthz"), "health", |s, _| s == 200).await;

    for channel in [1, 1, 2] {
        let token = bot.discord.invoke(Invocation::in_channel(9_000_000_000_000_000_000 + channel)).await;
        bot.discord.settled(&token).await;
    }
    bot.graph.set_always(Some(Fault::AccessPolicy));
    let failed = bot.discord.invoke(Invocation::in_channel(9_000_000_000_000_000_003)).await;
    bot.discord.settled(&failed).await;
    bot.graph.push_fault(Fault::Throttle(Some(1)));
    bot.graph.set_always(None);
    let throttled = bot.discord.invoke(Invocation::in_channel(9_000_000_000_000_000_004)).await;
    bot.discord.settled(&throttled).await;

    let (status, metrics) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(value(&metrics, "meetnow_commands_total"), 5.0);
    assert_eq!(value(&metrics, "meetnow_meetings_total{origin=\"created\"}"), 3.0);
    assert_eq!(value(&metrics, "meetnow_meetings_total{origin=\"reused\"}"), 1.0);
    assert_eq!(value(&metrics, "meetnow_errors_total{kind=\"access_policy_missing\"}"), 1.0);
    assert_eq!(value(&metrics, "meetnow_graph_throttled_total"), 1.0);
    assert!(value(&metrics, "meetnow_graph_retries_total") >= 1.0, "{metrics}");
    assert!(value(&metrics, "meetnow_graph_request_duration_seconds_count") >= 6.0);
    assert_eq!(value(&metrics, "meetnow_token_refreshes_total{result=\"ok\"}"), 1.0);
    assert_eq!(value(&metrics, "meetnow_gateway_connected"), 1.0);
    assert_eq!(value(&metrics, "meetnow_gateway_reconnects_total"), 0.0);
    let (status, body) = get(&format!("{base}/healthz")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    assert_eq!(get(&format!("{base}/nothing")).await.0, 404);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn health_turns_503_while_the_gateway_is_down_and_back_after_reconnecting() {
    let bot = RunningBot::start(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let addr = bot.metrics_addr.unwrap();
    let health = format!("http://{addr}/healthz");
    poll(&health, "health", |s, _| s == 200).await;

    bot.discord.set_refuse_gateway(true);
    bot.discord.drop_gateway();
    let (_, body) = poll(&health, "503", |s, _| s == 503).await;
    let reason: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reason["status"], "unavailable");
    assert_eq!(reason["reasons"][0], "the Discord gateway is not connected");
    // Not ready, but alive: a restart would not bring the gateway back sooner.
    assert_eq!(get(&format!("http://{addr}/readyz")).await.0, 503);
    assert_eq!(get(&format!("http://{addr}/livez")).await, (200, r#"{"status":"ok"}"#.to_owned()));

    bot.discord.set_refuse_gateway(false);
    poll(&health, "200 again", |s, _| s == 200).await;
    let (_, metrics) = get(&format!("http://{addr}/metrics")).await;
    assert_eq!(value(&metrics, "meetnow_gateway_reconnects_total"), 1.0);
    let token = bot.discord.invoke(Invocation::in_channel(9_100_000_000_000_000_001)).await;
    assert!(bot.discord.settled(&token).await.original.is_some());
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn health_reports_a_failed_token_refresh() {
    let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
    graph.set_token_fault(Some(support::graph::TokenFault::Aadsts(7_000_222)));
    let bot = RunningBot::start_with(discord, graph, &[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let addr = bot.metrics_addr.unwrap();
    let (status, body) = poll(&format!("http://{addr}/healthz"), "503", |s, _| s == 503).await;
    assert_eq!(status, 503);
    assert!(body.contains("no usable Microsoft Graph token: the last token refresh failed"), "{body}");
    let (_, metrics) = get(&format!("http://{addr}/metrics")).await;
    assert!(value(&metrics, "meetnow_token_refreshes_total{result=\"error\"}") >= 1.0);
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_metrics_address_in_use_stops_the_bot_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (_graph, _discord, mut vars) = support::stand_ins().await;
    vars.push(("METRICS_ADDR", addr.clone()));
    let config = support::config(&vars);
    let error =
        meetnow::app::Deps::bind(&config, meetnow::http::client().unwrap(), Default::default()).await.err().unwrap();
    assert!(error.to_string().starts_with(&format!("METRICS_ADDR: could not listen on {addr}")), "{error}");
}

#[cfg(unix)]
#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_interaction_fields() {
    let (_graph, discord, mut vars) = support::stand_ins().await;
    vars.extend([("LOG_FORMAT", "json".to_owned()), ("RUST_LOG", "info".to_owned())]);
    let bot = support::process::BotProcess::start(&vars);
    discord.wait_for("registration", |d| (!d.registrations().is_empty()).then_some(())).await;
    let token = discord.invoke(Invocation::in_channel(9_200_000_000_000_000_001)).await;
    discord.settled(&token).await;
    let (_, logs) = bot.terminate().await;

    let lines: Vec<serde_json::Value> =
        logs.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert!(lines.len() > 3);
    let audit = lines.iter().find(|l| l["fields"]["message"] == "bridge announced").expect("an audit line");
    assert_eq!(audit["level"], "INFO");
    assert!(audit["fields"]["meeting_id"].as_str().unwrap().contains("meeting_"));
    assert_eq!(audit["fields"]["origin"], "Created");
    assert!(audit["fields"]["elapsed_ms"].is_u64());
    assert!(audit["fields"]["graph_request_id"].is_string());
    let span = &audit["span"];
    assert_eq!(span["name"], "interaction");
    assert_eq!(span["channel_id"], "9200000000000000001");
    for field in ["interaction_id", "guild_id", "user_id"] {
        assert!(!span[field].is_null(), "span field {field}: {audit}");
    }
}

#[tokio::test]
async fn no_log_line_carries_an_interaction_token_even_at_info() {
    let (_graph, discord, vars) = support::stand_ins().await;
    let mut vars = vars.clone();
    vars.push(("RUST_LOG", "info".into()));
    let bot = support::process::BotProcess::start(&vars);
    discord.wait_for("the gateway session", |d| d.connected().then_some(())).await;
    bot.printed("registered /meetnow").await;
    // A 429 on the acknowledgement: the rate limiter logs it, and the route it logs holds the token.
    let limited = serde_json::json!({"message": "You are being rate limited.", "retry_after": 0.2, "global": false});
    discord.push_fault(support::discord::Route::Callback, 429, limited);
    let token = discord.invoke(Invocation::in_channel(8_700_000_000_000_000_001)).await;
    discord.settled(&token).await;
    // After a gap in the sequence, serenity warns inside the span of the event that showed it.
    let prepared = discord.prepare(&[Invocation::in_channel(8_700_000_000_000_000_002)]).remove(0);
    let token2 = discord.dispatch_after_a_gap(prepared).await;
    discord.settled(&token2).await;
    let (_, output) = bot.terminate().await;
    for secret in [token.as_str(), token2.as_str(), support::discord::BOT_TOKEN] {
        assert!(!output.contains(secret), "{secret} appears in the log:\n{output}");
    }
    assert!(output.contains("bridge announced"), "the log itself is there: {output}");
    assert!(output.contains("Discord rate-limited a call"), "the 429 was logged: {output}");
}
