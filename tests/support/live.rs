//! What the live-status tests share: the notification certificates in files, a bot (in process, or several
//! real processes in HTTP mode) behind the balancer stand-in, and waiting on what the channel shows.

use std::time::Duration;

use super::balancer::Balancer;
use super::bot::RunningBot;
use super::discord::{DiscordStandIn, Invocation};
use super::graph::credentials::{AppCertificate, APP_KEY, OTHER_KEY};
use super::graph::subscriptions::{payload, payload_of, Forgery, Participant, PayloadShape, Where};
use super::graph::GraphStandIn;
#[cfg(test)]
use super::interactions::InteractionsClient;
use super::metrics_with;
#[cfg(test)]
use super::process::BotProcess;

/// A notification certificate in a file, as `MEETNOW_NOTIFICATION_CERTIFICATE_PATH` names it.
pub struct CertificateFile {
    pub file: tempfile::NamedTempFile,
    pub pem: String,
    /// The certificate alone, DER (to register it as a sign-in certificate too).
    pub der: Vec<u8>,
    /// Its `notAfter`, as it was made.
    pub not_after: time::OffsetDateTime,
}

impl CertificateFile {
    /// The one most tests use.
    pub fn notifications() -> Self {
        Self::of(OTHER_KEY)
    }

    /// Another one, for a rotation.
    pub fn replacement() -> Self {
        Self::of(APP_KEY)
    }

    fn of(key: &str) -> Self {
        let AppCertificate { pem, der, not_after } = AppCertificate::valid(key);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &pem).unwrap();
        Self { file, pem, der, not_after }
    }

    pub fn path(&self) -> String {
        self.file.path().display().to_string()
    }
}

/// Live status on, behind `balancer`, with `certificate`.
pub fn live_vars(balancer: &Balancer, certificate: &CertificateFile) -> Vec<(&'static str, String)> {
    vec![
        ("MEETNOW_PUBLIC_URL", balancer.url.clone()),
        ("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", certificate.path()),
        ("MEETNOW_LISTEN_ADDR", "127.0.0.1:0".into()),
    ]
}

/// One bot in gateway mode with live status, in this test's runtime, behind a balancer.
pub struct LiveBot {
    pub bot: RunningBot,
    pub balancer: Balancer,
    pub certificate: CertificateFile,
}

impl LiveBot {
    pub async fn start(extra: &[(&'static str, &str)]) -> Self {
        Self::start_with(DiscordStandIn::start().await, GraphStandIn::start().await, extra).await
    }

    /// [`LiveBot::start`] on stand-ins the test made (and set up) first.
    pub async fn start_with(discord: DiscordStandIn, graph: GraphStandIn, extra: &[(&'static str, &str)]) -> Self {
        Self::launch(discord, graph, super::bot::Options { env: extra, ..Default::default() }).await
    }

    /// [`LiveBot::start_with`] as `options` say (their `env` added to live status's).
    pub async fn launch(discord: DiscordStandIn, graph: GraphStandIn, options: super::bot::Options<'_>) -> Self {
        let extra = options.env;
        let balancer = Balancer::start().await;
        let certificate = CertificateFile::notifications();
        let vars = live_vars(&balancer, &certificate);
        let mut env: Vec<(&'static str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend_from_slice(extra);
        let bot = RunningBot::launch(discord, graph, super::bot::Options { env: &env, ..options }).await;
        balancer.add(bot.interactions_addr.expect("the listener"));
        Self { bot, balancer, certificate }
    }

    /// `/meetnow` in `channel`: the announcement's message id and the bridge's join link, once Graph has a
    /// subscription for it and the announcement is pinned.
    pub async fn announce(&self, channel: u64) -> (u64, String) {
        let (message, join, _) = self.announce_by_command(channel).await;
        (message, join)
    }

    /// As [`LiveBot::announce`], with the command's interaction token.
    pub async fn announce_by_command(&self, channel: u64) -> (u64, String, String) {
        let token = self.bot.discord.invoke(Invocation::in_channel(channel)).await;
        let record = self.bot.discord.settled(&token).await;
        let message = record.original_id.expect("announced");
        let join = record.original.as_ref().unwrap()["embeds"][0]["url"].as_str().unwrap().to_owned();
        subscribed(&self.bot.graph, &join).await;
        self.bot.discord.wait_for("the pin", |d| d.pins().contains(&(channel, message)).then_some(())).await;
        (message, join, token)
    }

    /// The bot's `/metrics` once it has `line`.
    pub async fn metric(&self, line: &str) -> String {
        metrics_with(&self.bot.metrics_url("/metrics"), line).await
    }
}

/// Several real `meetnow` processes in HTTP mode with live status, behind one balancer that takes both
/// Discord's interactions and Graph's notifications. (Integration tests only: examples have no binary path.)
#[cfg(test)]
pub struct LiveProcesses {
    pub graph: GraphStandIn,
    pub discord: DiscordStandIn,
    pub balancer: Balancer,
    pub client: InteractionsClient,
    pub processes: Vec<BotProcess>,
    /// Each process's `/metrics`, by index.
    pub metrics: Vec<String>,
    /// Each process's own `/interactions`, by index: the client sends commands to them in turn.
    pub endpoints: Vec<String>,
    vars: Vec<(&'static str, String)>,
}

#[cfg(test)]
impl LiveProcesses {
    /// `count` processes with `certificate` (and `extra`), on fresh stand-ins.
    pub async fn start(count: usize, certificate: &CertificateFile, extra: &[(&'static str, String)]) -> Self {
        let (graph, discord, vars) = super::stand_ins().await;
        let balancer = Balancer::start().await;
        let client = InteractionsClient::new(&discord);
        let mut vars = vars.clone();
        vars.extend(live_vars(&balancer, certificate));
        vars.push(("DISCORD_PUBLIC_KEY", client.public_key()));
        vars.push(("METRICS_ADDR", "127.0.0.1:0".into()));
        let mut all = Self {
            graph,
            discord,
            balancer,
            client,
            processes: Vec::new(),
            metrics: Vec::new(),
            endpoints: Vec::new(),
            vars,
        };
        for _ in 0..count {
            all.add(extra).await;
        }
        all
    }

    /// One more process, with the deployment's variables and `extra` (which replace them); its index.
    pub async fn add(&mut self, extra: &[(&'static str, String)]) -> usize {
        let mut vars = self.vars.clone();
        for (name, value) in extra {
            vars.retain(|(k, _)| k != name);
            if !value.is_empty() {
                vars.push((name, value.clone()));
            }
        }
        let process = BotProcess::start(&vars);
        let addr = process.bound("interactions").await;
        let metrics = process.bound("/metrics").await;
        self.balancer.add(addr);
        self.processes.push(process);
        self.metrics.push(format!("http://{metrics}/metrics"));
        self.endpoints.push(format!("http://{addr}/interactions"));
        self.client.set_endpoints(self.endpoints.clone());
        self.processes.len() - 1
    }

    /// `/meetnow` in `channel` (to the next process in turn): the announcement's id and the join link, once
    /// subscribed.
    pub async fn announce(&self, channel: u64) -> (u64, String) {
        let (token, _) = self.client.invoke(Invocation::in_channel(channel)).await;
        let record = self.discord.settled(&token).await;
        let message = record.original_id.expect("announced");
        let join = record.original.as_ref().unwrap()["embeds"][0]["url"].as_str().unwrap().to_owned();
        subscribed(&self.graph, &join).await;
        (message, join)
    }

    /// Process `index`'s `/metrics` once it has `line`.
    pub async fn metric(&self, index: usize, line: &str) -> String {
        metrics_with(&self.metrics[index], line).await
    }

    /// [`LiveProcesses::start`] with ringing on too (`GraphStandIn::ring_env`).
    pub async fn start_ringing(count: usize, certificate: &CertificateFile) -> Self {
        let mut all = Self::start(0, certificate, &[]).await;
        all.vars.extend(all.graph.ring_env());
        for _ in 0..count {
            all.add(&[]).await;
        }
        all
    }

    /// Kills process `index` with SIGKILL, as a crash or an OOM kill would, and takes it out of the turns.
    pub async fn kill_one(&mut self, index: usize) -> String {
        let process = self.processes.remove(index);
        self.metrics.remove(index);
        self.endpoints.remove(index);
        self.balancer.remove(index);
        self.client.set_endpoints(self.endpoints.clone());
        process.kill().await
    }

    /// Stops process `index` with SIGTERM (it must exit 0 without a panic) and takes it out of the turns.
    pub async fn stop_one(&mut self, index: usize) {
        let process = self.processes.remove(index);
        self.metrics.remove(index);
        self.endpoints.remove(index);
        self.balancer.remove(index);
        self.client.set_endpoints(self.endpoints.clone());
        let (status, output) = process.terminate().await;
        assert!(status.success(), "{output}");
        assert!(!output.contains("panicked"), "{output}");
    }

    /// Stops every process with SIGTERM; each must exit 0 without a panic.
    pub async fn stop(self) {
        for process in self.processes {
            let (status, output) = process.terminate().await;
            assert!(status.success(), "{output}");
            assert!(!output.contains("panicked"), "{output}");
        }
    }
}

pub async fn subscribed(graph: &GraphStandIn, join: &str) {
    graph
        .wait_for("the bridge's subscription", |g| g.subscriptions().iter().any(|s| s.join_url == join).then_some(()))
        .await;
}

/// Waits until the live status of `message` contains every one of `wanted`.
pub async fn shows(discord: &DiscordStandIn, message: u64, wanted: &[&str]) -> String {
    let what = format!("the live status to show {wanted:?}");
    discord
        .wait_for(&what, |d| d.live_status_of(message).filter(|status| wanted.iter().all(|w| status.contains(w))))
        .await
}

/// Waits until the channel's one pinned announcement's live status contains every one of `wanted`; its id.
pub async fn pinned_shows(discord: &DiscordStandIn, channel: u64, wanted: &[&str]) -> (u64, String) {
    let what = format!("the pinned announcement to show {wanted:?}");
    discord
        .wait_for(&what, |d| {
            let pinned: Vec<u64> = d.pins().iter().filter(|(c, _)| *c == channel).map(|(_, m)| *m).collect();
            let [message] = pinned[..] else { return None };
            let status = d.live_status_of(message)?;
            wanted.iter().all(|w| status.contains(w)).then_some((message, status))
        })
        .await
}

/// The call the tests play, in one payload shape.
pub struct Call<'a> {
    pub graph: &'a GraphStandIn,
    pub join: &'a str,
    pub shape: PayloadShape,
}

impl<'a> Call<'a> {
    /// The call on `join`, its events in the shape Graph's metadata gives them (what Graph sends).
    pub fn on(graph: &'a GraphStandIn, join: &'a str) -> Self {
        Self { graph, join, shape: PayloadShape::Schema }
    }

    pub async fn send(&self, kind: &str, at: &str, who: &[(&str, &str, Where)]) -> u16 {
        self.graph.deliver(self.join, &payload(self.shape, kind, at, who), Forgery::None).await
    }

    /// A roster update with participants in full (several devices, preferred names, other identity kinds).
    pub async fn roster(&self, at: &str, participants: &[Participant]) -> u16 {
        self.graph.deliver(self.join, &payload_of(self.shape, "roster", at, participants), Forgery::None).await
    }
}

/// Moves `tokio`'s clock on by `by` at once, then lets real time run again, so the HTTP the bot then does is
/// not timed out by the jump.
pub async fn advance(by: Duration) {
    tokio::time::pause();
    tokio::time::advance(by).await;
    tokio::time::resume();
    // Let the keeper's tick run.
    tokio::time::sleep(Duration::from_millis(300)).await;
}
