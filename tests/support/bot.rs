//! Runs the real bot (real configuration loading, real serenity client, real Graph module) against the
//! Discord and Graph stand-ins, in this test's runtime.

use std::time::Duration;

use meetnow::graph::{GraphClient, RetryPolicy};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::discord::DiscordStandIn;
use super::graph::GraphStandIn;
use meetnow::discord::RunError;

pub struct RunningBot {
    pub discord: DiscordStandIn,
    pub graph: GraphStandIn,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RunError>>,
}

impl RunningBot {
    /// Starts both stand-ins and the bot with their variables plus `extra`, and waits until `/meetnow`
    /// is registered (the bot is connected and ready).
    pub async fn start(extra: &[(&'static str, &str)]) -> Self {
        let (discord, graph) = (DiscordStandIn::start().await, GraphStandIn::start().await);
        Self::start_with(discord, graph, extra).await
    }

    pub async fn start_with(discord: DiscordStandIn, graph: GraphStandIn, extra: &[(&'static str, &str)]) -> Self {
        Self::start_with_policy(discord, graph, extra, RetryPolicy::default()).await
    }

    /// Short Graph time limits: a 2 s budget, so a process standing by for another looks after 4 s.
    pub fn quick_policy() -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_secs(2),
            attempt_timeout: Duration::from_millis(1500),
            first_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        }
    }

    /// [`Self::start_with`] with the Graph client's time limits given.
    pub async fn start_with_policy(
        discord: DiscordStandIn,
        graph: GraphStandIn,
        extra: &[(&'static str, &str)],
        policy: RetryPolicy,
    ) -> Self {
        let mut vars = graph.env();
        vars.extend(discord.env());
        for (name, value) in extra {
            vars.retain(|(k, _)| k != name);
            if !value.is_empty() {
                vars.push((name, value.to_string()));
            }
        }
        let config = super::config(&vars);
        super::show_logs();
        let registrations_before = discord.registrations().len();
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let http = meetnow::http_client().expect("http client");
            let graph = GraphClient::with_policy(http.clone(), &config.graph, policy);
            meetnow::discord::run_with_graph(&config, http, graph, async {
                let _ = stop.await;
            })
            .await
        });
        discord
            .wait_for("/meetnow to be registered", |d| (d.registrations().len() > registrations_before).then_some(()))
            .await;
        Self { discord, graph, shutdown: Some(shutdown), task }
    }

    /// Asks the bot to shut down and waits for `run` to return.
    pub async fn stop(mut self) -> Result<(), RunError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.await.expect("bot task")
    }
}
