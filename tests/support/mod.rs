//! Local stand-ins for the services meetnow talks to, and helpers to run the real bot and binary against them.
//! Each test file includes this module (`mod support;`) and uses the parts it needs.
#![allow(dead_code)]

pub mod balancer;
pub mod bot;
pub mod discord;
pub mod graph;
pub mod interactions;
pub mod live;
pub mod net;
// Integration tests only: examples have no `CARGO_BIN_EXE_meetnow`.
#[cfg(test)]
pub mod process;
pub mod schema;

use std::collections::HashMap;
use std::time::Duration;

use meetnow::config::Config;

/// Both stand-ins, and the variables of a deployment pointed at them.
pub async fn stand_ins() -> (graph::GraphStandIn, discord::DiscordStandIn, Vec<(&'static str, String)>) {
    stand_ins_on(&net::Transport::Plain).await
}

/// Both stand-ins served over `transport` (HTTPS from the test CA, say), and the variables pointed at them.
pub async fn stand_ins_on(
    transport: &net::Transport,
) -> (graph::GraphStandIn, discord::DiscordStandIn, Vec<(&'static str, String)>) {
    let (graph, discord) =
        (graph::GraphStandIn::start_on(transport).await, discord::DiscordStandIn::start_on(transport).await);
    let mut vars = graph.env();
    vars.extend(discord.env());
    (graph, discord, vars)
}

/// A configuration loaded the way the binary loads it, from these variables only.
pub fn config(vars: &[(&'static str, String)]) -> Config {
    let vars: HashMap<&str, String> = vars.iter().cloned().collect();
    Config::from_lookup(|name| vars.get(name).cloned()).expect("stand-in configuration is valid")
}

/// Shows the bot's logs in a failing test's output (filtered by `RUST_LOG`, default `warn`).
pub fn show_logs() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

/// Waits until `check` returns `Some`, re-checking whenever `changed` is notified. Panics after `limit`.
pub async fn wait_until<T>(
    changed: &tokio::sync::Notify,
    limit: Duration,
    what: &str,
    check: impl Fn() -> Option<T>,
) -> T {
    let wait = async {
        loop {
            // Registered before the check, so a change between the check and the await is not missed.
            let notified = changed.notified();
            if let Some(found) = check() {
                return found;
            }
            notified.await;
        }
    };
    tokio::time::timeout(limit, wait).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// What a listener answered: its status (0 when nothing answered) and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Asks `url` until `want` holds for its answer, and returns that answer: the one poller of the tests, for
/// what has no event to wait on (`/metrics`, `/healthz`, `/readyz` of a process). Asks every 50 ms; panics
/// after 30 s with the last answer.
pub async fn poll(url: &str, what: &str, want: impl Fn(&Answer) -> bool) -> Answer {
    let mut last = Answer { status: 0, body: String::new() };
    let asking = async {
        loop {
            last = match reqwest::get(url).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    Answer { status, body: response.text().await.unwrap_or_default() }
                }
                Err(error) => Answer { status: 0, body: error.to_string() },
            };
            if want(&last) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), asking).await.is_err() {
        panic!("{url} never showed {what}; last: {} {}", last.status, last.body);
    }
    last
}

/// The metrics at `url` once one of their lines is `line`.
pub async fn metrics_with(url: &str, line: &str) -> String {
    poll(url, line, |answer| answer.body.lines().any(|l| l == line)).await.body
}
