//! Runs the real bot (real configuration loading, real serenity client, real Graph module) against the
//! Discord and Graph stand-ins, in this test's runtime. Listeners are bound on port 0 by `Deps::bind` and
//! their addresses read back: no port is guessed.

use std::net::SocketAddr;
use std::time::Duration;

use meetnow::app::{Deps, RunError};
use meetnow::graph::RetryPolicy;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::discord::DiscordStandIn;
use super::graph::GraphStandIn;

pub struct RunningBot {
    pub discord: DiscordStandIn,
    pub graph: GraphStandIn,
    /// Where `/metrics` and the health paths are served, when `METRICS_ADDR` was given.
    pub metrics_addr: Option<SocketAddr>,
    /// Where `MEETNOW_LISTEN_ADDR` is served (`/interactions` in HTTP mode, Graph's notifications).
    pub interactions_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunError>>,
}

/// How to start the bot beyond the stand-ins' variables.
pub struct Options<'a> {
    /// Variables added or replaced (an empty value removes one). `METRICS_ADDR` and
    /// `MEETNOW_INTERACTIONS_ADDR` are best `127.0.0.1:0`.
    pub env: &'a [(&'static str, &'a str)],
    pub policy: RetryPolicy,
    pub drain_limit: Duration,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self { env: &[], policy: RunningBot::quick_policy(), drain_limit: meetnow::app::DRAIN_LIMIT }
    }
}

impl Options<'_> {
    /// Graph's real time limits (a 10 s budget, 6 s attempts), for tests about timing against them.
    pub fn real_limits() -> Self {
        Self { policy: RetryPolicy::default(), ..Self::default() }
    }
}

impl RunningBot {
    /// Starts both stand-ins and the bot with their variables plus `extra`, and waits until `/meetnow`
    /// is registered (the bot is connected and ready).
    pub async fn start(extra: &[(&'static str, &str)]) -> Self {
        let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
        Self::start_with(discord, graph, extra).await
    }

    pub async fn start_with(discord: DiscordStandIn, graph: GraphStandIn, extra: &[(&'static str, &str)]) -> Self {
        Self::launch(discord, graph, Options { env: extra, ..Options::default() }).await
    }

    /// Graph time limits for tests: a 3 s budget with 1 s attempts (so a process standing by for another
    /// looks after 5 s) instead of waiting out the real 10 s.
    pub fn quick_policy() -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(1),
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        }
    }

    /// Starts the bot as `options` say and waits until `/meetnow` is registered.
    pub async fn launch(discord: DiscordStandIn, graph: GraphStandIn, options: Options<'_>) -> Self {
        let mut vars = graph.env();
        vars.extend(discord.env());
        for (name, value) in options.env {
            vars.retain(|(k, _)| k != name);
            if !value.is_empty() {
                vars.push((name, value.to_string()));
            }
        }
        let config = super::config(&vars);
        super::show_logs();
        let registrations_before = discord.registrations().len();
        let http = meetnow::http::client().expect("http client");
        let mut deps = Deps::bind(&config, http, options.policy).await.expect("listeners bound");
        deps.drain_limit = options.drain_limit;
        let local = |listener: &Option<tokio::net::TcpListener>| listener.as_ref().map(|l| l.local_addr().unwrap());
        let (metrics_addr, interactions_addr) = (local(&deps.metrics_listener), local(&deps.listener));
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            meetnow::app::run(&config, deps, async {
                let _ = stop.await;
            })
            .await
        });
        discord
            .wait_for("/meetnow to be registered", |d| (d.registrations().len() > registrations_before).then_some(()))
            .await;
        Self { discord, graph, metrics_addr, interactions_addr, shutdown: Some(shutdown), task }
    }

    /// `http://{metrics_addr}{path}`.
    pub fn metrics_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.metrics_addr.expect("started with METRICS_ADDR"))
    }

    /// Asks the bot to shut down and waits for `run` to return.
    pub async fn stop(mut self) -> Result<(), RunError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.await.expect("bot task")
    }
}
