//! The Discord side: the serenity gateway client or the interactions endpoint, `/meetnow` registration, the
//! handler and the announcement.
//!
//! Uses `graph` for meetings and never builds a Graph URL or reads Graph JSON. The serenity `Http` shares
//! the reqwest client with the Graph module (one connection pool, one TLS stack). Discord's rate limits are
//! kept by [`ratelimit`] (`DISCORD_RATELIMIT=local`, whatever `DISCORD_API_URL` is), or left to a proxy at
//! `DISCORD_API_URL` (`proxy`).

pub mod access;
pub mod announce;
pub mod attendance;
pub mod command;
pub mod endpoint;
mod handler;
pub mod live;
pub mod ratelimit;
pub mod signature;
pub mod text;

pub use command::bot_permissions;
pub use handler::{is_new_to_the_channel, Bot, FirstResponse, LiveSink};

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serenity::all::{
    ClientBuilder, Command, ConnectionStage, Context, CreateAllowedMentions, EventHandler, GatewayIntents,
    GuildChannel, GuildId, Http, HttpBuilder, Interaction, Ready, Timestamp,
};
use serenity::async_trait;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, InteractionsEndpoint, RateLimiting};
use crate::graph::{GraphClient, RetryPolicy};
use crate::metrics::{Metrics, Mode};
use crate::server::Limits;

/// How long an interaction token lives (edits, follow-ups), from when Discord issued the interaction.
pub const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How long shutdown waits for commands in flight, unless [`Deps::drain_limit`] says otherwise.
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
    #[error("MEETNOW_LISTEN_ADDR: could not listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("could not listen on loopback for Discord's rate limiter: {0}")]
    Limiter(std::io::Error),
}

/// Discord REST for a few calls (`meetnow check`): the given reqwest client, no mentions by default, and
/// `DISCORD_API_URL` (with serenity's limiter off, which would otherwise ignore it) when set.
pub fn http(config: &Config, client: reqwest::Client) -> Result<Http, ConfigError> {
    let token = config.discord_token()?;
    let mut builder =
        HttpBuilder::new(token.expose_secret()).client(client).default_allowed_mentions(CreateAllowedMentions::new());
    if let Some(api) = &config.discord.api_url {
        builder = builder.proxy(api.as_str().trim_end_matches('/')).ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

/// Discord REST as the running bot uses it. `local`: serenity sends every call to the [`ratelimit`] forwarder
/// at `forwarder` (loopback), over a client of its own whose timeout allows for waiting its turn under a
/// burst; the forwarder sends it on with `client`. `proxy`: straight to the proxy at `DISCORD_API_URL`.
fn rest(
    config: &Config,
    client: reqwest::Client,
    forwarder: Option<(std::net::SocketAddr, &secrecy::SecretString)>,
) -> Result<Http, ConfigError> {
    let Some((forwarder, secret)) = forwarder else { return http(config, client) };
    let token = config.discord_token()?;
    let mut secret_header = reqwest::header::HeaderValue::from_str(secret.expose_secret()).map_err(|e| {
        ConfigError { variable: "DISCORD_RATELIMIT", problem: format!("could not set up the HTTP client: {e}") }
    })?;
    secret_header.set_sensitive(true);
    let headers = reqwest::header::HeaderMap::from_iter([(
        reqwest::header::HeaderName::from_static(ratelimit::SECRET_HEADER),
        secret_header,
    )]);
    // HTTP/2 with prior knowledge: the forwarder speaks nothing else (see `ratelimit::Limiter::serve`). Idle
    // connections are closed before the forwarder's own idle timeout would.
    let loopback = crate::http_client_builder()
        .no_proxy()
        .http2_prior_knowledge()
        .default_headers(headers)
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(600))
        .build()
        .map_err(|e| ConfigError {
            variable: "DISCORD_RATELIMIT",
            problem: format!("could not set up the HTTP client: {e}"),
        })?;
    Ok(HttpBuilder::new(token.expose_secret())
        .client(loopback)
        .default_allowed_mentions(CreateAllowedMentions::new())
        .proxy(format!("http://{forwarder}"))
        .ratelimiter_disabled(true)
        .build())
}

/// What [`run`] needs from its caller, made once: the HTTP client, the Graph client (with its time limits and
/// the metrics everything records into), the listeners already bound, and how long shutdown waits for commands. Nothing below `run`
/// creates its own, so a test can give short time limits and listeners on port 0.
pub struct Deps {
    /// The one reqwest client (Discord REST and Graph).
    pub http: reqwest::Client,
    /// Records into the metrics the bot, `/metrics` and `/healthz` share (`GraphClient::metrics`).
    pub graph: GraphClient,
    /// Bound to `METRICS_ADDR`, when set.
    pub metrics_listener: Option<TcpListener>,
    /// Bound to `MEETNOW_LISTEN_ADDR` (Discord's interactions in HTTP mode, Graph's notifications with live
    /// status), when set.
    pub listener: Option<TcpListener>,
    /// How long shutdown waits for commands in flight before cancelling them.
    pub drain_limit: Duration,
}

impl Deps {
    /// What `config` asks for, with Graph held to `policy`: the listeners are bound now, so a taken port
    /// fails before anything connects.
    ///
    /// # Errors
    /// [`RunError::Metrics`] or [`RunError::Listen`] when an address can't be bound.
    pub async fn bind(config: &Config, http: reqwest::Client, policy: RetryPolicy) -> Result<Self, RunError> {
        let metrics = Arc::new(Metrics::default());
        let graph = GraphClient::with_policy(http.clone(), &config.graph, policy, metrics.clone());
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|source| RunError::Metrics { addr, source })?),
            None => None,
        };
        let listener = match config.listen_addr {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|source| RunError::Listen { addr, source })?),
            None => None,
        };
        Ok(Self { http, graph, metrics_listener, listener, drain_limit: DRAIN_LIMIT })
    }
}

/// Runs the bot until `shutdown` completes, then stops taking commands, lets those in flight finish
/// (at most `deps.drain_limit`, then they are cancelled) and closes the gateway or the interactions endpoint.
/// Every task it started has ended when it returns.
///
/// Commands arrive over the gateway, or, with `DISCORD_PUBLIC_KEY` and `MEETNOW_LISTEN_ADDR` (and
/// `deps.listener`), at Discord's Interactions Endpoint URL; both hand them to the same [`Bot`]. With
/// `MEETNOW_PUBLIC_URL`, Graph's call events arrive at the same listener, in either mode.
///
/// # Errors
/// [`RunError`] when the configuration lacks a Discord token or a listener, or Discord refuses the bot (e.g.
/// a bad token).
pub async fn run(
    config: &Config,
    deps: Deps,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let Deps { http: client, graph, metrics_listener, listener, drain_limit } = deps;
    let metrics = graph.metrics();
    // Background work that belongs to this run: aborted when the set is dropped, however `run` ends.
    let mut background = JoinSet::new();
    let stop_listeners = CancellationToken::new();
    let secret = ratelimit::Limiter::new_secret();
    let forwarder = match config.discord.ratelimit {
        RateLimiting::Local => {
            let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await.map_err(RunError::Limiter)?;
            let addr = listener.local_addr().map_err(RunError::Limiter)?;
            tracing::info!(bound = %addr, "Discord's rate limiter listens on loopback, for this process alone");
            let upstream = config.discord.api_url.as_ref().map_or("https://discord.com", |url| url.as_str());
            let limiter = Arc::new(ratelimit::Limiter::new(secret.clone(), client.clone(), upstream, metrics.clone()));
            background.spawn(limiter.serve(listener, stop_listeners.clone()));
            Some((addr, &secret))
        }
        RateLimiting::Proxy => None,
    };
    let http = rest(config, client.clone(), forwarder)?;
    tracing::info!(way = %config.graph.credential.describe(), "signing in to Microsoft");
    if let Some(warning) = config.graph.credential.expiry_warning(time::OffsetDateTime::now_utc()) {
        tracing::warn!(%warning, "the client certificate expires soon");
    }
    // Sign in now, so the first /meetnow doesn't wait for a token; a failure here is reported but not
    // fatal: the user who runs /meetnow gets the fix, and the background refresh keeps trying.
    if let Err(error) = graph.sign_in().await {
        tracing::error!(%error, fix = %error.user_message(), "graph sign-in failed at start-up");
    }
    if let Some(listener) = metrics_listener {
        if let Ok(bound) = listener.local_addr() {
            tracing::info!(%bound, "serving /metrics, /healthz, /livez and /readyz");
        }
        let router = metrics.clone().router();
        background.spawn(crate::server::serve(
            listener,
            router,
            stop_listeners.clone(),
            drain_limit,
            Limits::default(),
        ));
    }
    background.spawn(graph.token_refresh());
    let access = access::Access::new(config.allowed_guild_ids.as_deref(), &config.allowed_role_ids);
    if access.serves_every_server() {
        tracing::warn!(
            "serving every Discord server the bot is in: anyone who adds it to a server can make meetings; \
             set MEETNOW_ALLOWED_GUILD_IDS (or DISCORD_GUILD_ID) to the servers it is for"
        );
    }
    let live = config
        .live
        .as_ref()
        .map(|live| Arc::new(crate::live::LiveStatus::new(live, &config.graph, graph.clone(), client.clone())));
    if let (Some(live), crate::credential::Credential::Certificate(signing)) = (&config.live, &config.graph.credential)
    {
        if signing.sha256_thumbprint == live.certificates.current.sha256_thumbprint {
            tracing::warn!(warning = crate::live::crypto::SHARED_KEY_WARNING, "one key for sign-in and notifications");
        }
    }
    if let Some(live) = &live {
        tracing::info!(
            notifications = %format!("{}/{{guild}}/{{channel}}/{{bridge}}", live.notifications_base()),
            "live status on (Graph's meeting call events, beta)"
        );
        background.spawn(live.background());
    }
    let by_proxy = config.discord.ratelimit == RateLimiting::Proxy;
    let bot = Arc::new(
        Bot::new(graph, access, config.pin)
            .with_rate_limits_by_proxy(by_proxy)
            .with_live_status(live)
            .with_channel_locale(config.channel_locale),
    );
    let guild_id = config.discord.guild_id.map(GuildId::new);
    let stopping = Stopping { bot: bot.clone(), metrics: metrics.clone(), drain_limit };
    let ran = match (config.discord.interactions, listener) {
        (Some(endpoint), Some(listener)) => {
            let serving = Serving { listener, grace: config.shutdown_grace };
            run_endpoint(endpoint, serving, http, bot, guild_id, &metrics, stopping, shutdown).await
        }
        (Some(endpoint), None) => Err(RunError::Listen {
            addr: endpoint.addr,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no listener was bound for it"),
        }),
        (None, listener) => {
            let events = Events { bot, guild_id, auto_channels: config.auto_channels.clone() };
            let inbound = listener.map(|listener| Inbound { listener, stop: stop_listeners.clone(), drain_limit });
            run_gateway(http, events, inbound, &metrics, &mut background, stopping, shutdown).await
        }
    };
    stop_listeners.cancel();
    background.shutdown().await;
    tracing::info!("stopped");
    ran
}

/// What shutdown needs: stop taking commands, and let those in flight finish within the limit.
struct Stopping {
    bot: Arc<Bot>,
    metrics: Arc<Metrics>,
    drain_limit: Duration,
}

impl Stopping {
    async fn drain(self) {
        self.metrics.set_mode(Mode::Stopping);
        tracing::info!("shutting down: finishing commands in flight");
        let cancelled = self.bot.drain(self.drain_limit).await;
        if cancelled > 0 {
            tracing::warn!(cancelled, "shutdown limit reached; the commands still running were cancelled");
        }
    }
}

/// The inbound listener in gateway mode, where only Graph's notifications arrive.
struct Inbound {
    listener: TcpListener,
    stop: CancellationToken,
    drain_limit: Duration,
}

/// Commands over the gateway websocket (and, with live status, Graph's notifications at the listener).
async fn run_gateway(
    http: Http,
    events: Events,
    inbound: Option<Inbound>,
    metrics: &Arc<Metrics>,
    background: &mut JoinSet<()>,
    stopping: Stopping,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    metrics.set_mode(Mode::Gateway);
    let stop = CancellationToken::new();
    let stop_asked = stop.clone();
    background.spawn(async move {
        shutdown.await;
        stop_asked.cancel();
    });
    if !wait_for_session_starts(&http, metrics, &stop).await {
        stopping.drain().await;
        return Ok(());
    }
    // Slash commands need no gateway intents; new channels need GUILDS (not privileged), asked only when used.
    let intents = if events.auto_channels.is_empty() { GatewayIntents::empty() } else { GatewayIntents::GUILDS };
    let bot = events.bot.clone();
    let mut client = ClientBuilder::new_with_http(http, intents).event_handler(events).await?;
    if let (Some(inbound), Some(live)) = (inbound, bot.live.clone()) {
        if let Ok(bound) = inbound.listener.local_addr() {
            tracing::info!(%bound, "serving Graph's notifications at /graph/notifications");
        }
        let router = live.router(Arc::new(LiveSink { bot, http: client.http.clone() }));
        background.spawn(crate::server::serve(
            inbound.listener,
            router,
            inbound.stop,
            inbound.drain_limit,
            Limits::default(),
        ));
    }
    let shard_manager = client.shard_manager.clone();
    background.spawn(watch_gateway(shard_manager.clone(), metrics.clone()));
    background.spawn(async move {
        stop.cancelled().await;
        stopping.drain().await;
        shard_manager.shutdown_all().await;
    });
    client.start().await?;
    Ok(())
}

/// The gateway session starts kept in reserve: at most this share of the day's (1,000 for most bots; past
/// it Discord resets the bot's token), and at least [`SESSION_START_RESERVE_MIN`].
const SESSION_START_RESERVE_SHARE: u64 = 20;
const SESSION_START_RESERVE_MIN: u64 = 5;

/// Before connecting: if `GET /gateway/bot` says too few session starts are left today (a process restarting
/// in a loop uses one each time), waits for the count to reset instead of spending the rest, saying so in the
/// log, in `/readyz` and in `meetnow_gateway_session_starts_remaining`. Returns `false` when `stop` came first.
async fn wait_for_session_starts(http: &Http, metrics: &Metrics, stop: &CancellationToken) -> bool {
    let limit = match http.get_bot_gateway().await {
        Ok(gateway) => gateway.session_start_limit,
        Err(error) => {
            // serenity asks again when it connects, and reports what is wrong then.
            tracing::warn!(%error, "could not read the gateway's session start limit");
            return true;
        }
    };
    let reserve = (limit.total / SESSION_START_RESERVE_SHARE).max(SESSION_START_RESERVE_MIN);
    if limit.remaining > reserve {
        metrics.session_starts(limit.remaining, None);
        return true;
    }
    let wait = Duration::from_millis(limit.reset_after);
    tracing::error!(
        remaining = limit.remaining,
        total = limit.total,
        reserve,
        reset_after_s = wait.as_secs(),
        "too few gateway session starts left today (is the process restarting in a loop?); waiting for the \
         count to reset before connecting, so Discord does not reset the bot token"
    );
    metrics.session_starts(limit.remaining, Some(tokio::time::Instant::now() + wait));
    let waited = tokio::select! {
        () = tokio::time::sleep(wait) => true,
        () = stop.cancelled() => false,
    };
    metrics.session_starts(limit.remaining, None);
    waited
}

/// The interactions listener and how long it keeps serving after SIGTERM.
struct Serving {
    listener: TcpListener,
    grace: Duration,
}

/// Commands at Discord's Interactions Endpoint URL: no gateway connection at all, so any number of these
/// processes can run behind a load balancer. `/meetnow` is registered by REST at start instead of on READY.
///
/// On shutdown: not ready first (`/readyz` 503), while the listener keeps serving for `serving.grace`, so the
/// load balancer stops routing here before anything is refused; then it stops accepting, and the commands
/// and connections still open get the drain limit to finish.
#[allow(clippy::too_many_arguments)] // each is one thing the endpoint needs; a struct would only rename them
async fn run_endpoint(
    config: InteractionsEndpoint,
    serving: Serving,
    http: Http,
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
    metrics: &Metrics,
    stopping: Stopping,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let http = Arc::new(http);
    // Proves the token (a wrong one is fatal, as on the gateway) and gives the id webhook routes need.
    let application = http.get_current_application_info().await?;
    http.set_application_id(application.id);
    bot.set_own_id(http.get_current_user().await?.id);
    register(&http, guild_id).await;
    let live_router =
        bot.live.clone().map(|live| live.router(Arc::new(LiveSink { bot: bot.clone(), http: http.clone() })));
    let endpoint = endpoint::Endpoint::new(config.public_key, bot, http).map_err(|weakness| {
        RunError::Config(ConfigError {
            variable: "DISCORD_PUBLIC_KEY",
            problem: format!(
                "is not a usable Ed25519 public key ({weakness}); copy it again from the Developer Portal \
                 (your application → General Information → Public Key)"
            ),
        })
    })?;
    let Serving { listener, grace } = serving;
    if let Ok(bound) = listener.local_addr() {
        tracing::info!(%bound, "serving Discord's interactions endpoint at /interactions");
    }
    metrics.set_mode(Mode::Endpoint);
    let stop = CancellationToken::new();
    let mut router = Arc::new(endpoint).router();
    if let Some(live) = live_router {
        tracing::info!("serving Graph's notifications at /graph/notifications");
        router = router.merge(live);
    }
    let serving =
        tokio::spawn(crate::server::serve(listener, router, stop.clone(), stopping.drain_limit, Limits::default()));
    shutdown.await;
    metrics.set_mode(Mode::Stopping);
    tracing::info!(grace_seconds = grace.as_secs(), "shutting down: not ready, still serving during the grace period");
    tokio::time::sleep(grace).await;
    // New connections wait unanswered from here on; requests already being answered get their first response.
    stop.cancel();
    stopping.drain().await;
    let _ = serving.await;
    Ok(())
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

/// The one source of the gateway state for `/healthz` and the metrics: the shard runners' connection stage,
/// read twice a second. serenity's events can't serve, since none fires when a resume fails and the shard is
/// restarted.
async fn watch_gateway(shards: Arc<serenity::gateway::ShardManager>, metrics: Arc<Metrics>) {
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
    auto_channels: crate::config::ChannelPatterns,
}

impl Events {
    fn new_channel(&self, ctx: Context, channel: GuildChannel) {
        if handler::wants_a_bridge(&channel, &self.auto_channels, Timestamp::now()) {
            self.bot.spawn_new_channel(ctx.http.clone(), channel);
        }
    }
}

#[async_trait]
impl EventHandler for Events {
    /// Fires at start and after every reconnect; the bulk overwrite is idempotent.
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.bot.set_own_id(ready.user.id);
        register(&ctx.http, self.guild_id).await;
    }

    /// A channel was created: its bridge, if its name matches `MEETNOW_AUTO_CHANNELS`.
    async fn channel_create(&self, ctx: Context, channel: GuildChannel) {
        self.new_channel(ctx, channel);
    }

    /// A thread was created (or the bot was added to one: [`handler::wants_a_bridge`] tells them apart).
    async fn thread_create(&self, ctx: Context, thread: GuildChannel) {
        self.new_channel(ctx, thread);
    }

    /// Hands the command to a task of its own and returns (see [`Bot::spawn`]).
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) if command.data.name == command::NAME => {
                self.bot.spawn(ctx.http.clone(), command, FirstResponse::Rest);
            }
            Interaction::Component(click) if click.data.custom_id == attendance::BUTTON_ID => {
                self.bot.spawn_attendance(ctx.http.clone(), click, FirstResponse::Rest);
            }
            _ => {}
        }
    }
}
