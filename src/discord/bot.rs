//! The bot: what every entry point shares, as parts it holds, each with its state (and its tests):
//! - [`Lifecycle`]: the tasks answering interactions, and shutdown (stop taking new ones, drain, cancel);
//! - [`DiscordCalls`]: Discord REST calls, bounded and repeated once after a 429;
//! - [`Languages`]: which language the channel, a server or a person reads;
//! - [`Pins`]: a bridge's announcement pinned once per channel, whatever the processes;
//! - [`Identity`]: the bot's own user id, which decides what messages are its own;
//! - the live desks (`live_desks`): the bridges whose live status this process is keeping current;
//! - the [`directory`]: what recent searches for `ring:` found, for autocomplete under a slow Graph.
//!
//! What happens when something arrives is one file per entry point, under [`super::on`] (a command, the
//! Attendance button, a channel or thread created, Graph's call events): over the gateway and over the
//! interactions endpoint alike, the only difference being how the first response goes ([`FirstResponse`]).

mod calls;
pub(super) mod directory;
mod languages;
mod lifecycle;
mod live_desks;
mod pins;
mod replies;
mod rings;

use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    CommandInteraction, ComponentInteraction, CreateInteractionResponse, GuildChannel, Http, Message, UserId,
};
use tokio::sync::oneshot;

use super::access::Access;
use super::transport::direct::PinnedMessage;
use super::transport::ratelimit::Limiter;
use crate::graph::GraphClient;
use crate::l10n::Lang;
use crate::metrics::Metrics;

pub use calls::{DiscordCalls, MAX_DISCORD_CALLS_IN_FLIGHT};
pub use languages::Languages;
pub use lifecycle::Lifecycle;
pub(super) use live_desks::MAX_HELD;
pub(super) use pins::PinJob;
pub use pins::Pins;
pub(super) use replies::Posted;
pub(super) use rings::RingJob;

/// The bot's state: what every interaction needs.
pub struct Bot {
    pub(in crate::discord) graph: GraphClient,
    /// Who may use the bot: asked by every entry point.
    pub(in crate::discord) access: Access,
    pub(in crate::discord) metrics: Arc<Metrics>,
    /// Live status, when `MEETNOW_PUBLIC_URL` is set.
    pub(crate) live: Option<Arc<crate::live::LiveStatus>>,
    pub(in crate::discord) lifecycle: Lifecycle,
    pub(in crate::discord) calls: DiscordCalls,
    pub(in crate::discord) languages: Languages,
    pub(in crate::discord) pins: Pins,
    pub(in crate::discord) identity: Identity,
    /// The bridges whose live status this process is updating.
    pub(in crate::discord) desks: live_desks::Desks,
    /// Ringing people into bridges, when `MEETNOW_RING` is on.
    pub(crate) ringer: Option<Arc<crate::ring::Ringer>>,
    pub(in crate::discord) directory: Arc<directory::Directory>,
}

/// What a command still needs once it is answered: the pin of a new bridge, the ring it asked for.
#[derive(Default)]
pub(in crate::discord) struct Then {
    pub(in crate::discord) pin: Option<PinJob>,
    pub(in crate::discord) ring: Option<RingJob>,
}

/// How the first response to an interaction reaches Discord: the one difference between the gateway and
/// the interactions endpoint, for everything after it is REST with the interaction token.
pub enum FirstResponse {
    /// `POST /interactions/{id}/{token}/callback`: commands that came over the gateway.
    Rest,
    /// The answer to Discord's own HTTP request (the interactions endpoint), handed to the waiting request.
    HttpAnswer(oneshot::Sender<CreateInteractionResponse>),
}

/// Why an interaction was not acknowledged by this process.
#[derive(Debug)]
pub(in crate::discord) enum Unacknowledged {
    /// Another process answered it first (40060): it is that process's to answer.
    AnsweredElsewhere,
    /// Expired (10062), Discord unreachable, or the HTTP request gone: nobody can answer it now.
    Failed(String),
}

impl std::fmt::Display for Unacknowledged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AnsweredElsewhere => f.write_str("another process acknowledged it first"),
            Self::Failed(detail) => f.write_str(detail),
        }
    }
}

/// The bot's own user id (from READY, or asked at start in HTTP mode): pins, stand-by and live status look
/// only at its own messages.
#[derive(Default)]
pub struct Identity(std::sync::OnceLock<UserId>);

impl Identity {
    /// Records the id, once it is known.
    pub fn set(&self, id: UserId) {
        let _ = self.0.set(id);
    }

    /// Whether a message author is this bot. Unknown until READY (or start-up in HTTP mode): then nothing is.
    pub fn is_own(&self, author: UserId) -> bool {
        self.0.get() == Some(&author)
    }

    /// Whether `message` is this bot's announcement of a bridge whose join link passes `wanted`: the link is
    /// its first embed's. Another bot's message, or a webhook's, could copy the embed (to block a pin, or to
    /// be edited into live status): only the bot's own count.
    pub fn announces(&self, message: &Message, wanted: impl Fn(&str) -> bool) -> bool {
        self.is_own(message.author.id) && message.embeds.first().and_then(|e| e.url.as_deref()).is_some_and(wanted)
    }

    /// [`Identity::announces`], for a pinned message as a pin check reads it.
    pub fn announces_pinned(&self, message: &PinnedMessage, wanted: impl Fn(&str) -> bool) -> bool {
        self.is_own(message.author.id) && message.first_embed_link().is_some_and(wanted)
    }
}

impl Bot {
    pub fn new(graph: GraphClient, access: Access, pin: bool) -> Self {
        let metrics = graph.metrics();
        Self {
            calls: DiscordCalls::new(metrics.clone()),
            metrics,
            graph,
            access,
            live: None,
            lifecycle: Lifecycle::default(),
            languages: Languages::default(),
            pins: Pins::new(pin),
            identity: Identity::default(),
            desks: live_desks::Desks::default(),
            ringer: None,
            directory: Arc::default(),
        }
    }

    /// Turns ringing on.
    pub fn with_ringer(mut self, ringer: Option<Arc<crate::ring::Ringer>>) -> Self {
        self.ringer = ringer;
        self
    }

    /// Posts every channel message in `lang`, whatever the server's language (`MEETNOW_LOCALE`).
    pub fn with_channel_locale(mut self, lang: Option<Lang>) -> Self {
        self.languages = Languages::fixed(lang);
        self
    }

    /// Turns live status on.
    pub fn with_live_status(mut self, live: Option<Arc<crate::live::LiveStatus>>) -> Self {
        self.live = live;
        self
    }

    /// Says that a proxy keeps Discord's rate limits (`DISCORD_RATELIMIT=proxy`), so the 429s it passes on
    /// are counted here.
    pub fn with_rate_limits_by_proxy(mut self, by_proxy: bool) -> Self {
        self.calls = self.calls.by_proxy(by_proxy);
        self
    }

    /// Sends the hot path's Discord calls to this process's own limiter in process (`DISCORD_RATELIMIT=local`),
    /// without the loopback hop serenity's calls take (see `transport::direct`).
    pub fn with_limiter(mut self, limiter: Option<Arc<Limiter>>) -> Self {
        self.calls = self.calls.with_limiter(limiter);
        self
    }

    /// Records the bot's own user id, once it is known.
    pub fn set_own_id(&self, id: UserId) {
        self.identity.set(id);
    }

    /// Stops taking new interactions and waits (at most `limit`) for those in flight to finish; those still
    /// running then are cancelled, so none outlives the run. Returns how many were cancelled.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.lifecycle.drain(limit).await
    }

    /// Answers `command` in a task of its own, tracked for shutdown (see `on::command`). serenity's dispatch
    /// task (or the HTTP request) then ends at once instead of living as long as the answer, which halves the
    /// memory each command in flight holds (measured in BENCHMARKS.md).
    ///
    /// The pin of a new bridge comes last, after the command itself is dropped: under a burst of new channels
    /// a command may wait a minute for its turn under Discord's global limit, and it then holds a few ids,
    /// not the whole interaction (at 2,000 new channels at once, 30 MB less at the peak: BENCHMARKS.md).
    pub fn spawn(self: &Arc<Self>, http: Arc<Http>, command: CommandInteraction, first: FirstResponse) {
        let bot = self.clone();
        self.lifecycle.track(async move {
            let then = bot.answer_in_span(&http, &command, first).await;
            drop(command);
            bot.finish(&http, then).await;
        });
    }

    /// Answers one `/meetnow`, pin and ring included, in the caller's task.
    pub async fn handle(&self, http: &Http, command: &CommandInteraction, first: FirstResponse) {
        let then = self.answer_in_span(http, command, first).await;
        self.finish(http, then).await;
    }

    /// The pin and the ring an answered command still needs, side by side: the ring does not wait for the pin.
    async fn finish(&self, http: &Http, then: Then) {
        let pin = async {
            if let Some(pin) = then.pin {
                self.pins.pin_once(&self.calls, &self.identity, http, pin).await;
            }
        };
        let ring = async {
            if let Some(ring) = then.ring {
                self.ring_in(http, ring).await;
            }
        };
        tokio::join!(pin, ring);
    }

    /// Answers an autocomplete of `ring:` (see `on::suggest`), in a task of its own, tracked like a command.
    pub fn spawn_suggestions(self: &Arc<Self>, http: Arc<Http>, interaction: CommandInteraction, first: FirstResponse) {
        let bot = self.clone();
        self.lifecycle.track(async move { bot.suggest(&http, &interaction, first).await });
    }

    /// Announces a channel just created (see `on::channel_created`), in a task of its own, tracked like a
    /// command.
    pub fn spawn_new_channel(self: &Arc<Self>, http: Arc<Http>, channel: GuildChannel) {
        let bot = self.clone();
        self.lifecycle.track(async move { bot.announce_new_channel(&http, &channel).await });
    }

    /// Answers a click on **Attendance** (see `on::button`), in a task of its own, tracked like a command.
    pub fn spawn_attendance(self: &Arc<Self>, http: Arc<Http>, click: ComponentInteraction, first: FirstResponse) {
        let bot = self.clone();
        self.lifecycle.track(async move { bot.answer_attendance(&http, &click, first).await });
    }

    /// One bot-token REST call (channel messages, pins, members), within the bound on calls in flight: see
    /// [`DiscordCalls::bot_token`].
    pub(in crate::discord) async fn discord<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = serenity::Result<T>>,
    {
        self.calls.bot_token(call).await
    }

    /// One call with an interaction token: see [`DiscordCalls::interaction`].
    pub(in crate::discord) async fn interaction<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = serenity::Result<T>>,
    {
        self.calls.interaction(call).await
    }
}
