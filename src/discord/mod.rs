//! The Discord side: the serenity gateway client or the interactions endpoint, `/meetnow` registration, the
//! handler and the announcement.
//!
//! Uses `graph` for meetings and never builds a Graph URL or reads Graph JSON. The serenity `Http` shares
//! the reqwest client with the Graph module (one connection pool, one TLS stack). With `DISCORD_API_URL` set,
//! REST goes there and serenity's own rate limiter is off: serenity ignores a proxy while its limiter is on,
//! and a proxy such as twilight-http-proxy owns rate limiting anyway.

pub mod announce;
pub mod command;
pub mod endpoint;
mod handler;

pub use handler::{is_new_to_the_channel, Bot, FirstResponse};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serenity::all::{
    ClientBuilder, Command, ConnectionStage, Context, CreateAllowedMentions, EventHandler, GatewayIntents, GuildId,
    Http, HttpBuilder, Interaction, Ready,
};
use serenity::async_trait;

use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, InteractionsEndpoint};
use crate::graph::GraphClient;
use crate::metrics::Mode;

/// How long shutdown waits for commands in flight.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Why the bot stopped other than by a clean shutdown.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Discord refused to start the bot: {0}")]
    Discord(#[from] serenity::Error),
    #[error("METRICS_ADDR: could not listen on {addr}: {source}")]
    Metrics { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("MEETNOW_INTERACTIONS_ADDR: could not listen on {addr}: {source}")]
    Interactions { addr: std::net::SocketAddr, source: std::io::Error },
}

/// Discord REST as the bot uses it: the given reqwest client, no mentions by default, and
/// `DISCORD_API_URL` (with the rate limiter off) when set.
pub fn http(config: &Config, client: reqwest::Client) -> Result<Http, ConfigError> {
    let token = config.discord_token()?;
    let mut builder =
        HttpBuilder::new(token.expose_secret()).client(client).default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(api) = &config.discord.api_url {
        builder = builder.proxy(api.as_str().trim_end_matches('/')).ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

/// Runs the bot until `shutdown` completes, then stops taking commands, lets those in flight finish
/// (at most [`DRAIN_LIMIT`]) and closes the gateway or the interactions endpoint.
///
/// Commands arrive over the gateway, or, with `DISCORD_PUBLIC_KEY` and `MEETNOW_INTERACTIONS_ADDR`, at
/// Discord's Interactions Endpoint URL; both hand them to the same [`Bot`].
///
/// # Errors
/// [`RunError`] when the configuration lacks a Discord token, a listener can't be bound, or Discord refuses
/// the bot (e.g. a bad token).
pub async fn run(
    config: &Config,
    client: reqwest::Client,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let graph = GraphClient::new(client.clone(), &config.graph);
    run_with_graph(config, client, graph, shutdown).await
}

/// [`run`] with a Graph client made by the caller (benchmarks read its counters).
///
/// # Errors
/// As [`run`].
pub async fn run_with_graph(
    config: &Config,
    client: reqwest::Client,
    graph: GraphClient,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let http = http(config, client)?;
    // Sign in now, so the first /meetnow doesn't wait for a token; a failure here is reported but not
    // fatal: the user who runs /meetnow gets the fix, and the background refresh keeps trying.
    if let Err(error) = graph.sign_in().await {
        tracing::error!(%error, fix = %error.user_message(), "graph sign-in failed at start-up");
    }
    // Background work that belongs to this run: stopped when it ends, however it ends.
    let mut background = Background(Vec::new());
    if let Some(addr) = config.metrics_addr {
        let listener =
            crate::metrics::start(addr, graph.metrics()).await.map_err(|source| RunError::Metrics { addr, source })?;
        background.0.push(listener);
    }
    background.0.push(graph.spawn_token_refresh());
    let metrics = graph.metrics();
    let bot = Arc::new(Bot::new(graph, &config.allowed_role_ids, config.pin));
    let guild_id = config.discord.guild_id.map(GuildId::new);
    match config.discord.interactions {
        Some(endpoint) => run_endpoint(endpoint, http, bot, guild_id, metrics, shutdown).await,
        None => run_gateway(http, bot, guild_id, metrics, &mut background, shutdown).await,
    }
}

/// Commands over the gateway websocket.
async fn run_gateway(
    http: Http,
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
    metrics: Arc<crate::metrics::Metrics>,
    background: &mut Background,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    metrics.set_mode(Mode::Gateway);
    let events = Events { bot: bot.clone(), guild_id };
    // Slash commands need no gateway intents.
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty()).event_handler(events).await?;
    let shard_manager = client.shard_manager.clone();
    background.0.push(tokio::spawn(watch_gateway(shard_manager.clone(), metrics.clone())));
    background.0.push(tokio::spawn(async move {
        shutdown.await;
        drain(&bot, &metrics).await;
        shard_manager.shutdown_all().await;
    }));
    client.start().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Commands at Discord's Interactions Endpoint URL: no gateway connection at all, so any number of these
/// processes can run behind a load balancer. `/meetnow` is registered by REST at start instead of on READY.
async fn run_endpoint(
    config: InteractionsEndpoint,
    http: Http,
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
    metrics: Arc<crate::metrics::Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let bind_error = |source| RunError::Interactions { addr: config.addr, source };
    // Bound first: a taken port fails before anything talks to Discord, and once /meetnow is registered
    // the endpoint is already accepting (requests wait in the backlog until it is served).
    let listener = tokio::net::TcpListener::bind(config.addr).await.map_err(bind_error)?;
    let http = Arc::new(http);
    // Proves the token (a wrong one is fatal, as on the gateway) and gives the id webhook routes need.
    let application = http.get_current_application_info().await?;
    http.set_application_id(application.id);
    register(&http, guild_id).await;
    let endpoint = endpoint::Endpoint::new(config.public_key, bot.clone(), http).map_err(|error| {
        RunError::Config(ConfigError {
            variable: "DISCORD_PUBLIC_KEY",
            problem: format!(
                "is not a valid Ed25519 public key ({error}); copy it again from the Developer Portal \
                 (your application → General Information → Public Key)"
            ),
        })
    })?;
    let bound = listener.local_addr().map_err(bind_error)?;
    tracing::info!(%bound, "serving Discord's interactions endpoint at /interactions");
    metrics.set_mode(Mode::Endpoint);
    let stop = CancellationToken::new();
    let serving = tokio::spawn(endpoint::serve(listener, Arc::new(endpoint), stop.clone()));
    shutdown.await;
    // New connections are refused from here on; requests already being answered get their first response.
    stop.cancel();
    drain(&bot, &metrics).await;
    let _ = serving.await;
    tracing::info!("stopped");
    Ok(())
}

/// Stops taking commands and lets those in flight finish, at most [`DRAIN_LIMIT`].
async fn drain(bot: &Bot, metrics: &crate::metrics::Metrics) {
    metrics.set_mode(Mode::Stopping);
    tracing::info!("shutting down: finishing commands in flight");
    let unfinished = bot.drain(DRAIN_LIMIT).await;
    if unfinished > 0 {
        tracing::warn!(unfinished, "shutdown limit reached with commands still running");
    }
}

/// Registers `/meetnow` in the guild, or globally: a bulk overwrite, so repeating it is harmless.
async fn register(http: &Http, guild_id: Option<GuildId>) {
    let registered = match guild_id {
        Some(guild) => guild.set_commands(http, vec![command::register()]).await.map(|_| ()),
        None => Command::set_global_commands(http, vec![command::register()]).await.map(|_| ()),
    };
    match registered {
        Ok(()) => tracing::info!(guild_id = guild_id.map(|g| g.get()), "registered /meetnow"),
        Err(error) => tracing::error!(%error, "could not register /meetnow"),
    }
}

/// Tasks aborted on drop.
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// The one source of the gateway state for `/healthz` and the metrics: the shard runners' connection stage,
/// read twice a second. serenity's events can't serve, since none fires when a resume fails and the shard is
/// restarted.
async fn watch_gateway(shards: Arc<serenity::gateway::ShardManager>, metrics: Arc<crate::metrics::Metrics>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let runners = shards.runners.lock().await;
        let connected = !runners.is_empty() && runners.values().all(|r| r.stage == ConnectionStage::Connected);
        drop(runners);
        metrics.gateway(connected);
    }
}

struct Events {
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
}

#[async_trait]
impl EventHandler for Events {
    /// Fires at start and after every reconnect; the bulk overwrite is idempotent.
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        register(&ctx.http, self.guild_id).await;
    }

    /// Hands the command to a task of its own and returns: serenity's dispatch task (with the whole event and
    /// context) ends at once instead of living as long as the answer, which halves the memory each command
    /// in flight holds (measured in BENCHMARKS.md).
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        if let Interaction::Command(command) = interaction {
            if command.data.name == command::NAME {
                let (bot, http, in_flight) = (self.bot.clone(), ctx.http.clone(), self.bot.track());
                tokio::spawn(async move { bot.handle(&http, &command, FirstResponse::Rest, in_flight).await });
            }
        }
    }
}
