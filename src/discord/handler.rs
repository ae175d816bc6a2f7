//! What happens when someone types `/meetnow`: checks, defer and Graph together, announcement, pin.
//!
//! One handler for every way a command arrives: over the gateway (the first response goes by REST) and
//! over Discord's interactions endpoint (it goes back in the HTTP answer); see [`FirstResponse`]. The
//! functions take `&Http` and `&CommandInteraction` rather than serenity's `Context`, so both paths, and
//! tests, run the same code. Failures reach the invoker as an ephemeral sentence; the channel never gets a
//! half-made announcement or a placeholder link.
//!
//! # Several processes on one token
//!
//! Over the gateway Discord sends every command to every process; the first to acknowledge it answers, and
//! Discord refuses the others (40060). Nothing here depends on which process that is, or on memory:
//! - the lobby settings converge from what Graph returns (see `GraphClient::meeting_now`), so a process that
//!   lost the race still finishes its Graph call and applies them;
//! - whether a bridge is new to the channel comes from Graph's `creationDateTime` against the command's own
//!   time, not from which process saw the 201 ([`is_new_to_the_channel`]);
//! - "pinned once" is checked against the channel's pins ([`Bot::pin_once`]);
//! - a process that lost the race stands by: if the reply is still "thinking…" once the winner should long
//!   have answered (it may have been killed), it finishes the announcement with the same bridge.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    CommandInteraction, ComponentInteraction, CreateEmbedFooter, CreateInteractionResponse, GuildChannel, Http, UserId,
};
use time::OffsetDateTime;
use tokio::sync::{oneshot, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use super::access::{Access, Asker};
use super::announce::{self, Kind};
use super::command;
use crate::graph::{GraphClient, LobbyUpdate};
use crate::l10n::Lang;
use crate::live::subscriptions::Ensure;
use crate::meeting::{Meeting, MeetingKey, MeetingRequest, Origin};
use crate::metrics::Metrics;

mod attendance;
mod auto;
mod calls;
mod live;
mod stand_by;

pub use auto::wants_a_bridge;
pub use live::LiveSink;

use calls::PinJob;
pub use calls::MAX_DISCORD_CALLS_IN_FLIGHT;

/// The bot's state: what every interaction needs.
pub struct Bot {
    pub(crate) graph: GraphClient,
    /// Who may use the bot: asked by every entry point.
    pub(crate) access: Access,
    pin: bool,
    /// The bot's own user id (from READY, or asked at start in HTTP mode): pins and stand-by look only at
    /// its own messages.
    own_id: std::sync::OnceLock<UserId>,
    accepting: AtomicBool,
    /// The commands being answered; shutdown closes it and waits for them.
    commands: TaskTracker,
    /// Cancelled when shutdown starts: ends the stand-by of commands another process answers.
    stopping: CancellationToken,
    /// Cancelled when the drain limit has passed: commands still running end there, with the process.
    abandon: CancellationToken,
    /// Permits for Discord REST calls in flight (see [`MAX_DISCORD_CALLS_IN_FLIGHT`]).
    discord_calls: Semaphore,
    /// The pins this process has made or is making (see [`Bot::pin_once`]).
    pin_work: calls::PinWork,
    /// `DISCORD_RATELIMIT=proxy`: a 429 reaches the handler straight from the proxy, and is counted here.
    rate_limits_by_proxy: bool,
    /// Live status, when `MEETNOW_PUBLIC_URL` is set.
    pub(crate) live: Option<Arc<crate::live::LiveStatus>>,
    /// `MEETNOW_LOCALE`: the language of everything posted in channels, whatever the server's.
    channel_locale: Option<Lang>,
    /// Servers' preferred languages, as read (for posts no interaction carries the language of).
    server_langs: std::sync::Mutex<std::collections::HashMap<u64, (Lang, Instant)>>,
    /// The bridges whose live status this process is updating.
    desks: live::Desks,
    pub(crate) metrics: Arc<Metrics>,
}

/// How long a server's preferred language is remembered: admins rarely change it.
const SERVER_LANG_MEMORY: Duration = Duration::from_secs(60 * 60);

/// How long a shutting-down process waits before telling a new command it is restarting: long enough for
/// another process on the same token to answer it first, well within Discord's three seconds.
const DRAINING_GRACE: Duration = Duration::from_millis(1500);

/// Milliseconds from the Unix epoch to Discord's (2015-01-01), for the time inside a snowflake.
const DISCORD_EPOCH_MS: i128 = 1_420_070_400_000;

/// The language of what only the invoker sees: their Discord client's (`locale`).
fn personal_lang(command: &CommandInteraction) -> Lang {
    Lang::or_english(Some(&command.locale))
}

/// When the command was issued: the time inside its snowflake id, Discord's own clock.
fn issued_at(command: &CommandInteraction) -> Option<OffsetDateTime> {
    let millis = i128::from(command.id.get() >> 22) + DISCORD_EPOCH_MS;
    OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()
}

/// Whether the bridge was made for this command rather than before it: Graph said it created it, or its
/// `creationDateTime` is no earlier than the command was issued. The second half matters when several
/// processes answer: the one that won the acknowledgement may have been told 200 by Graph because another
/// process's createOrGet, for the same command, made the bridge a moment before. That process received the
/// command after Discord issued it and then asked Graph, so the bridge is created a network round trip or two
/// after the command: Discord's and Microsoft's clocks (both NTP-synchronised) would have to be further apart
/// than that to call it old. A bridge made by an earlier command, even milliseconds earlier, is not new.
pub fn is_new_to_the_channel(meeting: &Meeting, issued: Option<OffsetDateTime>) -> bool {
    meeting.origin == Origin::Created
        || matches!((meeting.created_at, issued), (Some(created), Some(issued)) if created >= issued)
}

/// How the first response to an interaction reaches Discord: the one difference between the gateway and
/// the interactions endpoint, for everything after it is REST with the interaction token.
pub enum FirstResponse {
    /// `POST /interactions/{id}/{token}/callback`: commands that came over the gateway.
    Rest,
    /// The answer to Discord's own HTTP request (the interactions endpoint), handed to the waiting request.
    HttpAnswer(oneshot::Sender<CreateInteractionResponse>),
}

/// Why a command was not acknowledged by this process.
#[derive(Debug)]
enum Unacknowledged {
    /// Another process answered it first (40060): it is that process's to announce.
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

/// Applies a pending lobby update, if any (boxed: see [`Bot::discord`]).
async fn apply(lobby: Option<LobbyUpdate>) {
    if let Some(lobby) = lobby {
        Box::pin(lobby.apply()).await;
    }
}

impl Bot {
    pub fn new(graph: GraphClient, access: Access, pin: bool) -> Self {
        Self {
            metrics: graph.metrics(),
            graph,
            access,
            pin,
            own_id: std::sync::OnceLock::new(),
            accepting: AtomicBool::new(true),
            commands: TaskTracker::new(),
            stopping: CancellationToken::new(),
            abandon: CancellationToken::new(),
            discord_calls: Semaphore::new(MAX_DISCORD_CALLS_IN_FLIGHT),
            pin_work: calls::PinWork::default(),
            rate_limits_by_proxy: false,
            live: None,
            desks: live::Desks::default(),
            channel_locale: None,
            server_langs: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Posts every channel message in `lang`, whatever the server's language (`MEETNOW_LOCALE`).
    pub fn with_channel_locale(mut self, lang: Option<Lang>) -> Self {
        self.channel_locale = lang;
        self
    }

    /// The language of what the whole channel sees for `command`: `MEETNOW_LOCALE`, else the server's
    /// (`guild_locale`), else English.
    fn channel_lang(&self, command: &CommandInteraction) -> Lang {
        self.channel_locale.unwrap_or_else(|| Lang::or_english(command.guild_locale.as_deref()))
    }

    /// The language of a post no interaction asked for (a new channel's bridge, live status):
    /// `MEETNOW_LOCALE`, else the server's preferred locale (`GET /guilds/{id}`, remembered for an hour), else
    /// English.
    pub(crate) async fn server_lang(&self, http: &Http, guild: serenity::all::GuildId) -> Lang {
        if let Some(lang) = self.channel_locale {
            return lang;
        }
        let remembered = {
            let langs = self.server_langs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            langs.get(&guild.get()).filter(|(_, at)| at.elapsed() < SERVER_LANG_MEMORY).map(|(lang, _)| *lang)
        };
        if let Some(lang) = remembered {
            return lang;
        }
        let lang = match self.discord(|| async move { http.get_guild(guild).await.map(|g| g.preferred_locale) }).await {
            Ok(locale) => Lang::or_english(Some(&locale)),
            Err(error) => {
                tracing::debug!(%error, "could not read the server's preferred locale; posting in English");
                return Lang::En;
            }
        };
        let mut langs = self.server_langs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        langs.retain(|_, (_, at)| at.elapsed() < SERVER_LANG_MEMORY);
        langs.insert(guild.get(), (lang, Instant::now()));
        lang
    }

    /// Turns live status on.
    pub fn with_live_status(mut self, live: Option<Arc<crate::live::LiveStatus>>) -> Self {
        self.live = live;
        self
    }

    /// Says that a proxy keeps Discord's rate limits (`DISCORD_RATELIMIT=proxy`), so the 429s it passes on
    /// are counted here.
    pub fn with_rate_limits_by_proxy(mut self, by_proxy: bool) -> Self {
        self.rate_limits_by_proxy = by_proxy;
        self
    }

    /// Records the bot's own user id, once it is known.
    pub fn set_own_id(&self, id: UserId) {
        let _ = self.own_id.set(id);
    }

    /// Whether a message author is this bot. Unknown until READY (or start-up in HTTP mode): then nothing is.
    pub(crate) fn is_own(&self, author: UserId) -> bool {
        self.own_id.get() == Some(&author)
    }

    /// How long after a command a process that lost the acknowledgement race looks whether the winner
    /// announced it (see [`Bot::stand_by`]): the winner answers within Graph's budget plus an edit.
    fn take_over_after(&self) -> Duration {
        self.graph.retry_policy().budget + Duration::from_secs(2)
    }

    /// Stops taking new commands and waits (at most `limit`) for those in flight to finish; those still
    /// running then are cancelled, so none outlives the run. Returns how many were cancelled.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.accepting.store(false, Ordering::SeqCst);
        self.stopping.cancel();
        self.commands.close();
        if tokio::time::timeout(limit, self.commands.wait()).await.is_ok() {
            return 0;
        }
        let unfinished = self.commands.len();
        self.abandon.cancel();
        self.commands.wait().await;
        unfinished
    }

    /// Answers `command` in a task of its own, tracked for shutdown. serenity's dispatch task (or the HTTP
    /// request) then ends at once instead of living as long as the answer, which halves the memory each
    /// command in flight holds (measured in BENCHMARKS.md).
    ///
    /// The pin of a new bridge comes last, after the command itself is dropped: under a burst of new channels
    /// a command may wait a minute for its turn under Discord's global limit, and it then holds a few ids,
    /// not the whole interaction (at 2,000 new channels at once, 30 MB less at the peak: BENCHMARKS.md).
    pub fn spawn(self: &Arc<Self>, http: Arc<Http>, command: CommandInteraction, first: FirstResponse) {
        let bot = self.clone();
        self.track(async move {
            let pin = bot.answer_in_span(&http, &command, first).await;
            drop(command);
            if let Some(pin) = pin {
                bot.pin_once(&http, pin).await;
            }
        });
    }

    /// Announces a channel just created, in a task of its own, tracked like a command.
    pub fn spawn_new_channel(self: &Arc<Self>, http: Arc<Http>, channel: GuildChannel) {
        let bot = self.clone();
        self.track(async move { bot.announce_new_channel(&http, &channel).await });
    }

    /// Answers a click on **Attendance**, in a task of its own, tracked like a command.
    pub fn spawn_attendance(self: &Arc<Self>, http: Arc<Http>, click: ComponentInteraction, first: FirstResponse) {
        let bot = self.clone();
        self.track(async move { bot.answer_attendance(&http, &click, first).await });
    }

    /// Runs `work` as a task shutdown waits for, cancelled if it is still running at the drain limit.
    fn track(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let abandon = self.abandon.clone();
        // Boxed: an async block keeps a captured future and the copy it polls in separate slots
        // (rust-lang/rust#62958), which doubled each command's task to 15 KB (BENCHMARKS.md, memory).
        let work = Box::pin(work);
        self.commands.spawn(async move {
            tokio::select! {
                () = work => {}
                () = abandon.cancelled() => tracing::warn!("cancelled at shutdown"),
            }
        });
    }

    /// Answers one `/meetnow`, pin included.
    pub async fn handle(&self, http: &Http, command: &CommandInteraction, first: FirstResponse) {
        if let Some(pin) = self.answer_in_span(http, command, first).await {
            self.pin_once(http, pin).await;
        }
    }

    /// Answers one `/meetnow` in its span, and returns the pin it still needs.
    async fn answer_in_span(&self, http: &Http, command: &CommandInteraction, first: FirstResponse) -> Option<PinJob> {
        let span = tracing::info_span!(
            "interaction",
            interaction_id = %command.id,
            guild_id = command.guild_id.map(|g| g.get()),
            channel_id = %command.channel_id,
            user_id = %command.user.id,
        );
        self.answer(http, command, first).instrument(span).await
    }

    async fn answer(&self, http: &Http, command: &CommandInteraction, first: FirstResponse) -> Option<PinJob> {
        let received = Instant::now();
        self.metrics.command_received();
        if !self.accepting.load(Ordering::SeqCst) {
            // Another process on the same token may be up: give it the chance to answer first, so a rolling
            // restart shows nobody this note. Alone, this process still answers within Discord's deadline.
            tokio::time::sleep(DRAINING_GRACE).await;
            let note = personal_lang(command).text("restarting");
            self.reply_privately(http, command, first, &note).await;
            return None;
        }
        let roles = command.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
        let guild_id = match self.access.decide(command.guild_id, Asker::Member(roles)) {
            Ok(guild_id) => guild_id,
            Err(refusal) => {
                tracing::info!(reason = refusal.reason(), "refused a command");
                self.metrics.command_failed(refusal.reason());
                self.reply_privately(http, command, first, &refusal.sentence(personal_lang(command))).await;
                return None;
            }
        };
        let options = match command::options(command) {
            Ok(options) => options,
            Err(problem) => {
                self.reply_privately(http, command, first, &problem.sentence(personal_lang(command))).await;
                return None;
            }
        };

        let kind = if options.new { Kind::Separate } else { Kind::Standing };
        let channel_name = command.channel.as_ref().and_then(|c| c.name.as_deref());
        let fallback_subject = announce::default_subject(channel_name, self.channel_lang(command));
        let (guild, channel) = (guild_id.get(), command.channel_id.get());
        let key = match kind {
            Kind::Standing => MeetingKey::for_channel(guild, channel),
            Kind::Separate => MeetingKey::for_command(guild, channel, command.id.get()),
        };
        let request =
            MeetingRequest { subject: options.subject.unwrap_or_else(|| fallback_subject.clone()), key: Some(key) };

        // Acknowledge (Graph can take longer than Discord's three seconds) and ask Graph for the standing bridge
        // at the same time, so the link waits for the slower of the two round trips, not for their sum. If the
        // acknowledgement fails, that bridge is still the one the user's retry gets. A separate bridge is keyed
        // by the command, so the same command handled twice (a replay to another process) gets one meeting;
        // still, it is asked for only once the command is acknowledged: an expired command, or one another
        // process answers, must not leave a bridge nobody sees. The Graph call is boxed, like every call in
        // `discord`: a command waiting its turn holds a few KB, not the call's state.
        let ask_early = kind == Kind::Standing;
        let mut meeting_call = Box::pin(self.graph.meeting_now(&request));
        let defer = CreateInteractionResponse::Defer(Default::default());
        let acknowledge = self.respond_first(first, defer, |response| command.create_response(http, response));
        tokio::pin!(acknowledge);
        let mut found = None;
        let acknowledged = loop {
            tokio::select! {
                // The defer goes out first: it is the one with a deadline.
                biased;
                acknowledged = &mut acknowledge => break acknowledged,
                answer = &mut meeting_call, if ask_early && found.is_none() => found = Some(answer),
            }
        };
        let found = match acknowledged {
            Ok(()) => match found {
                Some(answer) => answer,
                None => meeting_call.await,
            },
            Err(refused) if ask_early => {
                // Not ours to announce, but the bridge's lobby settings must not depend on which process
                // answered: finish the Graph call and apply them, then stand by in case the winner dies.
                let found = match found {
                    Some(answer) => answer,
                    None => meeting_call.await,
                };
                return self.stand_by(http, command, refused, found, &fallback_subject).await;
            }
            Err(refused) => {
                self.not_acknowledged(&refused);
                return None;
            }
        };

        let (meeting, lobby) = match found {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(
                    %error, kind = error.kind(), graph_request_id = error.request_id(),
                    "could not get a meeting"
                );
                self.metrics.command_failed(error.kind());
                self.fail_privately(http, command, &error.user_message_in(personal_lang(command))).await;
                return None;
            }
        };
        self.announce_bridge(http, command, meeting, lobby, kind, &fallback_subject, received).await
    }

    /// Edits the reply to `command` into the announcement of `meeting` (new to the channel or not, by Graph's
    /// times), applying `lobby` meanwhile, and returns the pin a new bridge's announcement still needs. Both
    /// the process that acknowledged the command and one finishing it for a dead process come here.
    #[allow(clippy::too_many_arguments)] // each is one fact about this announcement
    async fn announce_bridge(
        &self,
        http: &Http,
        command: &CommandInteraction,
        mut meeting: Meeting,
        lobby: Option<LobbyUpdate>,
        kind: Kind,
        fallback_subject: &str,
        received: Instant,
    ) -> Option<PinJob> {
        let new_to_the_channel = is_new_to_the_channel(&meeting, issued_at(command));
        if new_to_the_channel {
            meeting.origin = Origin::Created;
        }
        // Show the link now; the lobby settings, if they still need applying, are applied meanwhile.
        let lang = self.channel_lang(command);
        let mut announcement = announce::announcement(&meeting, kind, fallback_subject, lang);
        if self.live.is_some() && self.pin && !new_to_the_channel {
            // The bridge's first announcement is pinned and keeps its live status; this one points there.
            announcement.embed = announcement.embed.footer(CreateEmbedFooter::new(super::live::pointer(lang)));
        }
        let (posted, ()) = tokio::join!(self.announce(http, command, announcement), apply(lobby));
        let Some(posted) = posted else {
            tracing::error!(meeting_id = %meeting.id, "could not post the announcement at all");
            self.metrics.command_failed("announcement");
            return None;
        };
        tracing::info!(
            meeting_id = %meeting.id,
            origin = ?meeting.origin,
            graph_request_id = meeting.request_id.as_deref(),
            elapsed_ms = received.elapsed().as_millis() as u64,
            "bridge announced"
        );
        self.metrics.meeting_announced(new_to_the_channel);
        // Someone typed it: a call is about to start, so Graph is asked whether the subscription still exists.
        self.watch_bridge(command.guild_id, command.channel_id, &meeting.join_url, Ensure::Typed);
        (self.pin && new_to_the_channel).then_some(PinJob { posted, join_url: meeting.join_url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn meeting(origin: Origin, created_at: Option<OffsetDateTime>) -> Meeting {
        Meeting {
            id: "m".into(),
            subject: None,
            join_url: "https://teams.microsoft.com/l/meetup-join/x".into(),
            starts_at: None,
            ends_at: None,
            created_at,
            external_id: None,
            dial_in: None,
            join_by_id: None,
            origin,
            request_id: None,
        }
    }

    #[test]
    fn a_bridge_is_new_when_created_for_the_command_whoever_created_it() {
        let issued = Some(datetime!(2026-11-23 03:00:00.000 UTC));
        let by_another_process = meeting(Origin::Reused, Some(datetime!(2026-11-23 03:00:00.180 UTC)));
        assert!(is_new_to_the_channel(&by_another_process, issued));
        let by_an_earlier_command = meeting(Origin::Reused, Some(datetime!(2026-11-23 02:59:59.990 UTC)));
        assert!(!is_new_to_the_channel(&by_an_earlier_command, issued));
        assert!(is_new_to_the_channel(&meeting(Origin::Created, None), issued));
        assert!(!is_new_to_the_channel(&meeting(Origin::Reused, None), issued));
    }
}
