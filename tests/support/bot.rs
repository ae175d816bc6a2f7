//! Runs the real bot (real configuration loading, real serenity client, real Graph module) against the
//! Discord and Graph stand-ins, in this test's runtime.

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
            meetnow::discord::run(&config, http, async {
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
