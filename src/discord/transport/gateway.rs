//! The gateway: serenity's client connected to Discord's websocket, the events meetnow takes from it
//! (`/meetnow` and its button, new channels and threads, READY), `/meetnow`'s registration, the session start
//! limit checked before connecting, and the connection's state for readiness. Every event goes to the one
//! [`Bot`]; nothing here decides what a command does.

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ClientBuilder, Command, ConnectionStage, Context, EventHandler, GatewayIntents, GuildChannel, GuildId, Http,
    Interaction, Ready, Timestamp,
};
use serenity::async_trait;
use tokio_util::sync::CancellationToken;

use crate::discord::bot::{Bot, FirstResponse};
use crate::discord::meetnow as command;
use crate::discord::on::channel_created::wants_a_bridge;
use crate::discord::render::attendance_answer as attendance;
use crate::metrics::Metrics;

/// A serenity client connected to the gateway, not yet running.
pub struct Gateway {
    client: serenity::Client,
}

impl Gateway {
    /// The client for `events`, over `http`. Slash commands need no gateway intents; new channels need
    /// `GUILDS` (not privileged), asked only when `MEETNOW_AUTO_CHANNELS` is used.
    ///
    /// # Errors
    /// When serenity can't build the client.
    pub async fn connect(http: Http, events: Events) -> Result<Self, serenity::Error> {
        let intents = if events.auto_channels.is_empty() { GatewayIntents::empty() } else { GatewayIntents::GUILDS };
        let client = ClientBuilder::new_with_http(http, intents).event_handler(events).await?;
        Ok(Self { client })
    }

    /// The client's REST handle (what the rest of the run sends with).
    pub fn http(&self) -> Arc<Http> {
        self.client.http.clone()
    }

    /// The shards, to watch and to shut down.
    pub fn shards(&self) -> Arc<serenity::gateway::ShardManager> {
        self.client.shard_manager.clone()
    }

    /// Runs until the shards are shut down.
    ///
    /// # Errors
    /// When Discord refuses the bot (a bad token).
    pub async fn run(&mut self) -> Result<(), serenity::Error> {
        self.client.start().await
    }
}

/// The gateway session starts kept in reserve: at most this share of the day's (1,000 for most bots; past
/// it Discord resets the bot's token), and at least [`SESSION_START_RESERVE_MIN`].
const SESSION_START_RESERVE_SHARE: u64 = 20;
const SESSION_START_RESERVE_MIN: u64 = 5;

/// Before connecting: if `GET /gateway/bot` says too few session starts are left today (a process restarting
/// in a loop uses one each time), waits for the count to reset instead of spending the rest, saying so in the
/// log, in `/readyz` and in `meetnow_gateway_session_starts_remaining`. Returns `false` when `stop` came first.
pub async fn wait_for_session_starts(http: &Http, metrics: &Metrics, stop: &CancellationToken) -> bool {
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

/// Registers `/meetnow` in the guild, or globally: a bulk overwrite, so repeating it is harmless.
pub async fn register(http: &Http, guild_id: Option<GuildId>, ring: bool) {
    let registered = match guild_id {
        Some(guild) => guild.set_commands(http, vec![command::register(ring)]).await.map(|_| ()),
        None => Command::set_global_commands(http, vec![command::register(ring)]).await.map(|_| ()),
    };
    match registered {
        Ok(()) => tracing::info!(guild_id = guild_id.map(|g| g.get()), "registered /meetnow"),
        Err(error) => tracing::error!(%error, "could not register /meetnow"),
    }
}

/// The one source of the gateway state for `/healthz` and the metrics: the shard runners' connection stage,
/// read twice a second. serenity's events can't serve, since none fires when a resume fails and the shard is
/// restarted.
pub async fn watch(shards: Arc<serenity::gateway::ShardManager>, metrics: Arc<Metrics>) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let runners = shards.runners.lock().await;
        let connected = !runners.is_empty() && runners.values().all(|r| r.stage == ConnectionStage::Connected);
        drop(runners);
        metrics.gateway(connected);
    }
}

/// What the gateway's events go to: the bot, the guild `/meetnow` is registered in (or none: globally), and
/// the channel names that get a bridge when created.
pub struct Events {
    bot: Arc<Bot>,
    guild_id: Option<GuildId>,
    auto_channels: crate::config::ChannelPatterns,
}

impl Events {
    pub fn new(bot: Arc<Bot>, guild_id: Option<GuildId>, auto_channels: crate::config::ChannelPatterns) -> Self {
        Self { bot, guild_id, auto_channels }
    }

    /// The bot the events go to.
    pub fn bot(&self) -> Arc<Bot> {
        self.bot.clone()
    }

    fn new_channel(&self, ctx: Context, channel: GuildChannel) {
        if wants_a_bridge(&channel, &self.auto_channels, Timestamp::now()) {
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
        register(&ctx.http, self.guild_id, self.bot.ringer.is_some()).await;
    }

    /// A channel was created: its bridge, if its name matches `MEETNOW_AUTO_CHANNELS`.
    async fn channel_create(&self, ctx: Context, channel: GuildChannel) {
        self.new_channel(ctx, channel);
    }

    /// A thread was created (or the bot was added to one: [`wants_a_bridge`] tells them apart).
    async fn thread_create(&self, ctx: Context, thread: GuildChannel) {
        self.new_channel(ctx, thread);
    }

    /// Hands the command to a task of its own and returns (see [`Bot::spawn`]).
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) if command.data.name == command::NAME => {
                self.bot.spawn(ctx.http.clone(), command, FirstResponse::Rest);
            }
            Interaction::Autocomplete(typing) if typing.data.name == command::NAME => {
                self.bot.spawn_suggestions(ctx.http.clone(), typing, FirstResponse::Rest);
            }
            Interaction::Component(click) if click.data.custom_id == attendance::BUTTON_ID => {
                self.bot.spawn_attendance(ctx.http.clone(), click, FirstResponse::Rest);
            }
            _ => {}
        }
    }
}
