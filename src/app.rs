//! Start-up and shutdown of `meetnow run`: the one place that wires the configuration, the HTTP stack,
//! Graph, Discord, live status, the listeners and shutdown, the way mini-redis's `server::run` is the whole
//! server. Feature modules never start the process; they are handed what they need.
//!
//! [`Deps`] is what a caller makes once and passes in (the HTTP client, the Graph client and its metrics,
//! listeners already bound, the drain limit), so tests give short time limits and listeners on port 0.
//! [`run`] returns when the shutdown future completes and everything it started has ended.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::GuildId;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, InteractionsEndpoint, RateLimiting};
use crate::discord::{self, Bot, LiveSink};
use crate::graph::{GraphClient, RetryPolicy};
use crate::health::Mode;
use crate::live::LiveStatus;
use crate::metrics::Metrics;
use crate::server::Limits;
use crate::telemetry::Chain;

/// How long shutdown waits for commands in flight, unless [`Deps::drain_limit`] says otherwise.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Why the bot stopped other than by a clean shutdown.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Discord refused to start the bot")]
    Discord(#[from] serenity::Error),
    #[error("METRICS_ADDR: could not listen on {addr}")]
    Metrics { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("MEETNOW_LISTEN_ADDR: could not listen on {addr}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("could not listen on loopback for Discord's rate limiter")]
    Limiter(#[source] std::io::Error),
}

/// What [`run`] needs from its caller, made once: the HTTP client, the Graph client (with its time limits and
/// the metrics everything records into), the listeners already bound, and how long shutdown waits for
/// commands. Nothing below `run` creates its own.
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

/// Runs the bot until `shutdown` completes, then stops taking commands, lets those in flight finish (at most
/// `deps.drain_limit`, then they are cancelled) and closes the gateway or the interactions endpoint. Every
/// task it started has ended when it returns.
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

    // Discord REST, within Discord's rate limits: the forwarder on loopback, or a proxy that keeps them.
    let (http, limiter) = match config.discord.ratelimit {
        RateLimiting::Local => {
            let forwarder = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await.map_err(RunError::Limiter)?;
            let (http, limiter) = discord::rest::limited(config, client.clone(), &forwarder, metrics.clone())?;
            background.spawn(limiter.clone().serve(forwarder, stop_listeners.clone()));
            (http, Some(limiter))
        }
        RateLimiting::Proxy => (discord::rest::http(config, client.clone())?, None),
    };

    sign_in(config, &graph).await;
    if let Some(listener) = metrics_listener {
        if let Ok(bound) = listener.local_addr() {
            tracing::info!(%bound, "serving /metrics, /healthz, /livez and /readyz");
        }
        let router = metrics.clone().router().merge(metrics.health().router());
        let serving = crate::server::serve(listener, router, stop_listeners.clone(), drain_limit, Limits::default());
        background.spawn(serving);
    }
    background.spawn(graph.token_refresh());

    let access = discord::access::Access::new(config.allowed_guild_ids.as_deref(), &config.allowed_role_ids);
    if access.serves_every_server() {
        tracing::warn!(
            "serving every Discord server the bot is in: anyone who adds it to a server can make meetings; \
             set MEETNOW_ALLOWED_GUILD_IDS (or DISCORD_GUILD_ID) to the servers it is for"
        );
    }
    let live = start_live_status(config, &graph, &client, &mut background);
    let ringer = start_ringing(config, live.as_deref(), &graph, &client, &mut background);
    let by_proxy = config.discord.ratelimit == RateLimiting::Proxy;
    let bot = Arc::new(
        Bot::new(graph, access, config.pin)
            .with_rate_limits_by_proxy(by_proxy)
            .with_limiter(limiter)
            .with_live_status(live)
            .with_ringer(ringer)
            .with_channel_locale(config.channel_locale),
    );
    let guild_id = config.discord.guild_id.map(GuildId::new);
    let stopping = Stopping { bot: bot.clone(), metrics: metrics.clone(), drain_limit };
    let ran = match (config.discord.interactions, listener) {
        (Some(endpoint), Some(listener)) => {
            let serving = Serving { listener, grace: config.shutdown_grace, drain_limit };
            serve_endpoint(endpoint, serving, http, bot, guild_id, &metrics, stopping, shutdown).await
        }
        (Some(endpoint), None) => Err(RunError::Listen {
            addr: endpoint.addr,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no listener was bound for it"),
        }),
        (None, listener) => {
            let events = discord::gateway::Events::new(bot.clone(), guild_id, config.auto_channels.clone());
            let inbound = listener.map(|listener| Inbound { listener, stop: stop_listeners.clone(), drain_limit });
            serve_gateway(http, events, inbound, &metrics, &mut background, stopping, shutdown).await
        }
    };
    stop_listeners.cancel();
    background.shutdown().await;
    tracing::info!("stopped");
    ran
}

/// Signs in now, so the first `/meetnow` doesn't wait for a token. A failure is reported but not fatal: the
/// user who runs `/meetnow` gets the fix, and the background refresh keeps trying.
async fn sign_in(config: &Config, graph: &GraphClient) {
    tracing::info!(way = %config.graph.credential.describe(), "signing in to Microsoft");
    if let Some(warning) = config.graph.credential.expiry_warning(time::OffsetDateTime::now_utc()) {
        tracing::warn!(%warning, "the client certificate expires soon");
    }
    if let Err(error) = graph.sign_in().await {
        tracing::error!(error = %Chain(&error), fix = %error.user_message(), "graph sign-in failed at start-up");
    }
}

/// Live status, when `MEETNOW_PUBLIC_URL` turns it on, with its background work (the subscriptions' keeper,
/// Microsoft's signing keys) started.
fn start_live_status(
    config: &Config,
    graph: &GraphClient,
    client: &reqwest::Client,
    background: &mut JoinSet<()>,
) -> Option<Arc<LiveStatus>> {
    let live_config = config.live.as_ref()?;
    if let crate::credential::Credential::Certificate(signing) = &config.graph.credential {
        if signing.sha256_thumbprint == live_config.certificate.sha256_thumbprint {
            tracing::warn!(warning = crate::live::crypto::SHARED_KEY_WARNING, "one key for sign-in and notifications");
        }
    }
    let live = Arc::new(LiveStatus::new(live_config, &config.graph, graph.clone(), client.clone()));
    tracing::info!(
        notifications = %format!("{}/{{guild}}/{{channel}}/{{bridge}}", live.notifications_base()),
        "live status on (Graph's meeting call events, beta)"
    );
    background.spawn(live.background());
    Some(live)
}

/// Ringing, when `MEETNOW_RING` turns it on (configuration makes sure live status is on too), with the
/// calling service's signing keys kept at hand in the background.
fn start_ringing(
    config: &Config,
    live: Option<&LiveStatus>,
    graph: &GraphClient,
    client: &reqwest::Client,
    background: &mut JoinSet<()>,
) -> Option<Arc<crate::ring::Ringer>> {
    let (ring, live) = (config.ring.as_ref()?, live?);
    let ringer = Arc::new(crate::ring::Ringer::new(
        ring,
        live.certificates.clone(),
        live.public_url().clone(),
        graph.clone(),
        client.clone(),
        &config.graph.client_id,
    ));
    tracing::info!(
        calling_webhook = %ringer.webhook(),
        answer_within_seconds = ring.answer_within.as_secs(),
        "ringing on (Graph's calls API; the Azure Bot's calling webhook must be this URL)"
    );
    background.spawn(ringer.background());
    Some(ringer)
}

/// Everything Graph posts to the listener: live status's notifications and, with ringing on, the calls'.
fn graph_routes(bot: Arc<Bot>, http: Arc<serenity::all::Http>) -> Option<axum::Router> {
    let live = bot.live.clone()?;
    let ringer = bot.ringer.clone();
    let mut router = live.router(Arc::new(LiveSink { bot, http }));
    if let Some(ringer) = ringer {
        router = router.merge(ringer.router());
    }
    Some(router)
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
async fn serve_gateway(
    http: serenity::all::Http,
    events: discord::gateway::Events,
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
    if !discord::gateway::wait_for_session_starts(&http, metrics, &stop).await {
        stopping.drain().await;
        return Ok(());
    }
    let bot = events.bot();
    let mut gateway = discord::gateway::Gateway::connect(http, events).await?;
    if let (Some(inbound), Some(router)) = (inbound, graph_routes(bot, gateway.http())) {
        if let Ok(bound) = inbound.listener.local_addr() {
            tracing::info!(%bound, "serving Graph's notifications at /graph/notifications");
        }
        let serving =
            crate::server::serve(inbound.listener, router, inbound.stop, inbound.drain_limit, Limits::default());
        background.spawn(serving);
    }
    background.spawn(discord::gateway::watch(gateway.shards(), metrics.clone()));
    let shards = gateway.shards();
    background.spawn(async move {
        stop.cancelled().await;
        stopping.drain().await;
        shards.shutdown_all().await;
    });
    gateway.run().await?;
    Ok(())
}

/// The interactions listener, how long it keeps serving after SIGTERM, and the drain limit.
struct Serving {
    listener: TcpListener,
    grace: Duration,
    drain_limit: Duration,
}

/// Commands at Discord's Interactions Endpoint URL: no gateway connection at all, so any number of these
/// processes can run behind a load balancer. `/meetnow` is registered by REST at start instead of on READY.
///
/// On shutdown: not ready first (`/readyz` 503), while the listener keeps serving for `serving.grace`, so the
/// load balancer stops routing here before anything is refused; then it stops accepting, and the commands
/// and connections still open get the drain limit to finish.
#[allow(clippy::too_many_arguments)] // each is one thing the endpoint needs; a struct would only rename them
async fn serve_endpoint(
    config: InteractionsEndpoint,
    serving: Serving,
    http: serenity::all::Http,
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
    metrics: &Metrics,
    stopping: Stopping,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let http = Arc::new(http);
    discord::endpoint::prepare(&http, &bot, guild_id).await?;
    let endpoint =
        discord::endpoint::Endpoint::new(config.public_key, bot.clone(), http.clone()).map_err(|weakness| {
            RunError::Config(ConfigError {
                variable: "DISCORD_PUBLIC_KEY",
                problem: format!(
                    "is not a usable Ed25519 public key ({weakness}); copy it again from the Developer Portal \
                 (your application → General Information → Public Key)"
                ),
            })
        })?;
    let mut router = Arc::new(endpoint).router();
    if let Some(graph_routes) = graph_routes(bot, http) {
        tracing::info!("serving Graph's notifications at /graph/notifications");
        router = router.merge(graph_routes);
    }
    let Serving { listener, grace, drain_limit } = serving;
    if let Ok(bound) = listener.local_addr() {
        tracing::info!(%bound, "serving Discord's interactions endpoint at /interactions");
    }
    metrics.set_mode(Mode::Endpoint);
    let stop = CancellationToken::new();
    let serving = tokio::spawn(crate::server::serve(listener, router, stop.clone(), drain_limit, Limits::default()));
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
