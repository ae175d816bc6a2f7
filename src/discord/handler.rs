//! What happens when someone types `/meetnow`: checks, defer and Graph together, announcement, pin.
//!
//! The functions take `&Http` and `&CommandInteraction` rather than serenity's `Context`, so they are the
//! same code the gateway runs and the code a test can call. Failures reach the invoker as an ephemeral
//! sentence; the channel never gets a half-made announcement or a placeholder link.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, Message, MessageId, RoleId,
};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tracing::Instrument as _;

use super::announce::{self, Announcement, Kind};
use super::command;
use crate::graph::GraphClient;
use crate::meeting::{MeetingKey, MeetingRequest, Origin};
use crate::metrics::Metrics;

/// The bot's state: what every interaction needs.
pub struct Bot {
    pub(crate) graph: GraphClient,
    allowed_roles: Vec<RoleId>,
    pin: bool,
    accepting: AtomicBool,
    /// How many commands are being answered; shutdown waits for zero.
    in_flight: watch::Sender<usize>,
    /// Permits for Discord REST calls in flight (see [`MAX_DISCORD_CALLS_IN_FLIGHT`]).
    discord_calls: Semaphore,
    pub(crate) metrics: Arc<Metrics>,
}

/// Discord REST calls in flight at once, for the same reason as `graph::MAX_REQUESTS_IN_FLIGHT`: a burst of
/// commands reuses pooled connections instead of opening one per call.
pub const MAX_DISCORD_CALLS_IN_FLIGHT: usize = 256;

/// How long to wait before repeating a call Discord answered with 429. serenity's error keeps neither the
/// `Retry-After` header nor the body's `retry_after`, so this is fixed: Discord's per-route windows are
/// about a second.
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(1000);

fn is_rate_limited(error: &serenity::Error) -> bool {
    matches!(error, serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(response))
        if response.status_code == serenity::all::StatusCode::TOO_MANY_REQUESTS)
}

/// Counts one command as in flight while it lives; shutdown waits until none are.
pub struct InFlight(Arc<Bot>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Where the announcement landed: all that is kept of Discord's answer (a whole `Message` is over 1 KB).
#[derive(Debug, Clone, Copy)]
struct Posted {
    channel_id: ChannelId,
    message_id: MessageId,
}

impl From<&Message> for Posted {
    fn from(message: &Message) -> Self {
        Self { channel_id: message.channel_id, message_id: message.id }
    }
}

impl Bot {
    pub fn new(graph: GraphClient, allowed_roles: &[u64], pin: bool) -> Self {
        Self {
            metrics: graph.metrics(),
            graph,
            allowed_roles: allowed_roles.iter().copied().map(RoleId::new).collect(),
            pin,
            accepting: AtomicBool::new(true),
            in_flight: watch::Sender::new(0),
            discord_calls: Semaphore::new(MAX_DISCORD_CALLS_IN_FLIGHT),
        }
    }

    /// Stops taking new commands and waits (at most `limit`) for those in flight to finish.
    /// Returns how many were still running when the wait ended.
    pub async fn drain(&self, limit: Duration) -> usize {
        self.accepting.store(false, Ordering::SeqCst);
        let mut count = self.in_flight.subscribe();
        let _ = tokio::time::timeout(limit, count.wait_for(|n| *n == 0)).await;
        let left = *count.borrow();
        left
    }

    /// Counts a command as in flight from now on. Taken before the command's task is spawned, so a shutdown
    /// that starts in between still waits for it.
    pub fn track(self: &Arc<Self>) -> InFlight {
        self.in_flight.send_modify(|n| *n += 1);
        InFlight(self.clone())
    }

    /// Answers one `/meetnow`; `_in_flight` is held until the answer is complete.
    pub async fn handle(&self, http: &Http, command: &CommandInteraction, _in_flight: InFlight) {
        let span = tracing::info_span!(
            "interaction",
            interaction_id = %command.id,
            guild_id = command.guild_id.map(|g| g.get()),
            channel_id = %command.channel_id,
            user_id = %command.user.id,
        );
        self.answer(http, command).instrument(span).await;
    }

    async fn answer(&self, http: &Http, command: &CommandInteraction) {
        let received = Instant::now();
        self.metrics.command_received();
        if !self.accepting.load(Ordering::SeqCst) {
            return self
                .reply_privately(http, command, "meetnow is restarting. Run /meetnow again in a few seconds.")
                .await;
        }
        let Some(guild_id) = command.guild_id else {
            return self
                .reply_privately(http, command, "/meetnow works in server channels, not in direct messages.")
                .await;
        };
        if !self.may_use(command) {
            tracing::info!("refused: member has none of the allowed roles");
            self.metrics.command_failed("refused");
            let refusal =
                "You need one of the roles this server allows to start a bridge with /meetnow. Ask a server admin.";
            return self.reply_privately(http, command, refusal).await;
        }
        let options = match command::options(command) {
            Ok(options) => options,
            Err(problem) => return self.reply_privately(http, command, &problem.to_string()).await,
        };

        let kind = if options.new { Kind::Separate } else { Kind::Standing };
        let channel_name = command.channel.as_ref().and_then(|c| c.name.as_deref());
        let fallback_subject = announce::default_subject(channel_name);
        let request = MeetingRequest {
            subject: options.subject.unwrap_or_else(|| fallback_subject.clone()),
            key: (kind == Kind::Standing).then(|| MeetingKey::for_channel(guild_id.get(), command.channel_id.get())),
        };

        // Acknowledge (Graph can take longer than Discord's three seconds) and ask Graph for the standing bridge
        // at the same time, so the link waits for the slower of the two round trips, not for their sum. If the
        // acknowledgement fails, that bridge is still the one the user's retry gets. A separate bridge is not
        // idempotent, so it is asked for only once the command is acknowledged: an expired command must not
        // leave a bridge nobody sees. The Graph call is boxed, like every call in `discord`: a command waiting
        // its turn holds a few KB, not the call's state.
        let ask_early = kind == Kind::Standing;
        let mut meeting_call = Box::pin(self.graph.meeting_now(&request));
        let acknowledge = self.discord(|| command.defer(http));
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
        if let Err(error) = acknowledged {
            // Most often 10062: the interaction expired before we got it. Nothing more can be said to the user;
            // returning drops the Graph call if it is still running.
            tracing::warn!(%error, "could not acknowledge the command; giving up on it");
            self.metrics.command_failed("acknowledgement");
            return;
        }
        let found = match found {
            Some(answer) => answer,
            None => meeting_call.await,
        };

        let (meeting, lobby) = match found {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(
                    %error, kind = error.kind(), graph_request_id = error.request_id(),
                    "could not get a meeting"
                );
                self.metrics.command_failed(error.kind());
                return self.fail_privately(http, command, &error.user_message()).await;
            }
        };

        // Show the link now; a new bridge's lobby settings are applied meanwhile.
        let announcement = announce::announcement(&meeting, kind, &fallback_subject);
        let apply_lobby = async {
            if let Some(lobby) = lobby {
                Box::pin(lobby.apply()).await;
            }
        };
        let (posted, ()) = tokio::join!(self.announce(http, command, announcement), apply_lobby);
        let Some(posted) = posted else {
            tracing::error!(meeting_id = %meeting.id, "could not post the announcement at all");
            self.metrics.command_failed("announcement");
            return;
        };

        tracing::info!(
            meeting_id = %meeting.id,
            origin = ?meeting.origin,
            graph_request_id = meeting.request_id.as_deref(),
            elapsed_ms = received.elapsed().as_millis() as u64,
            "bridge announced"
        );
        self.metrics.meeting_announced(meeting.origin == Origin::Created);
        if self.pin && meeting.origin == Origin::Created {
            self.pin(http, posted).await;
        }
    }

    /// Edits the deferred reply into the announcement. If that fails (an expired or broken interaction
    /// token), the bridge exists all the same, so it is posted as a plain channel message instead.
    async fn announce(&self, http: &Http, command: &CommandInteraction, announcement: Announcement) -> Option<Posted> {
        // The builders are made, and Discord's answer reduced to its ids, inside each call: both then live
        // only in the call's boxed future, not in every command's state (see `discord`).
        let announcement = &announcement;
        let edit = || async move {
            let mut edit = EditInteractionResponse::new()
                .embed(announcement.embed.clone())
                .allowed_mentions(CreateAllowedMentions::new());
            if let Some(row) = &announcement.buttons {
                edit = edit.components(vec![row.clone()]);
            }
            command.edit_response(http, edit).await.map(|message| Posted::from(&message))
        };
        match self.discord(edit).await {
            Ok(posted) => return Some(posted),
            Err(error) => {
                tracing::warn!(%error, "editing the deferred reply failed; posting the announcement in the channel")
            }
        }
        let send = || async move {
            let mut message =
                CreateMessage::new().embed(announcement.embed.clone()).allowed_mentions(CreateAllowedMentions::new());
            if let Some(row) = &announcement.buttons {
                message = message.components(vec![row.clone()]);
            }
            command.channel_id.send_message(http, message).await.map(|message| Posted::from(&message))
        };
        let posted = self.discord(send).await;
        let _ = self.discord(|| command.delete_response(http)).await;
        posted.map_err(|error| tracing::error!(%error, "posting the announcement in the channel failed")).ok()
    }

    fn may_use(&self, command: &CommandInteraction) -> bool {
        if self.allowed_roles.is_empty() {
            return true;
        }
        let roles = command.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
        roles.iter().any(|role| self.allowed_roles.contains(role))
    }

    /// Runs one Discord REST call within [`MAX_DISCORD_CALLS_IN_FLIGHT`], repeating it once after a 429.
    ///
    /// serenity's own rate limiter prevents 429s in a normal deployment, but it is off behind a proxy
    /// (`DISCORD_API_URL`), where a 429 can reach us. One retry after [`RATE_LIMIT_PAUSE`] still fits in
    /// Discord's 3 seconds for the acknowledgement; a retry storm would get the bot's IP banned.
    ///
    /// The call's future is boxed, so it takes memory only while it runs: serenity's request futures are
    /// kilobytes, and inlined they made every command's task 12 KB from the start, even while it waited its
    /// turn. Callers keep their own state small too (ids, not whole `Message`s).
    async fn discord<T, F, Fut>(&self, mut call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        let mut retried = false;
        loop {
            // The semaphore is never closed; if it were, going ahead without a permit is the safe failure.
            let slot = self.discord_calls.acquire().await.ok();
            let result = Box::pin(call()).await;
            drop(slot);
            match result {
                Err(error) if !retried && is_rate_limited(&error) => {
                    tracing::warn!(%error, "Discord rate-limited a call; retrying once");
                    retried = true;
                    tokio::time::sleep(RATE_LIMIT_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    async fn pin(&self, http: &Http, posted: Posted) {
        let reason = Some("meetnow: new incident bridge");
        if let Err(error) = self.discord(|| http.pin_message(posted.channel_id, posted.message_id, reason)).await {
            // Usually the bot lacks Manage Messages (or Pin Messages) here; the announcement stands regardless.
            tracing::warn!(%error, message_id = %posted.message_id, "could not pin the announcement");
        }
    }

    /// An ephemeral answer as the first response (before any defer).
    async fn reply_privately(&self, http: &Http, command: &CommandInteraction, text: &str) {
        let text = announce::truncate(text, announce::limits::CONTENT);
        let reply = || {
            let message = CreateInteractionResponseMessage::new()
                .content(text.clone())
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new());
            command.create_response(http, CreateInteractionResponse::Message(message))
        };
        if let Err(error) = self.discord(reply).await {
            tracing::warn!(%error, "could not answer the command");
        }
    }

    /// After a public defer: remove the "thinking…" reply and tell only the invoker what went wrong.
    async fn fail_privately(&self, http: &Http, command: &CommandInteraction, text: &str) {
        // Deleting first makes the follow-up a new message, so it can be ephemeral instead of replacing the
        // public placeholder.
        if let Err(error) = self.discord(|| command.delete_response(http)).await {
            tracing::warn!(%error, "could not remove the deferred reply");
        }
        let text = announce::truncate(text, announce::limits::CONTENT);
        let followup = || {
            let followup = CreateInteractionResponseFollowup::new()
                .content(text.clone())
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new());
            async move { command.create_followup(http, followup).await.map(drop) }
        };
        if let Err(error) = self.discord(followup).await {
            tracing::warn!(%error, "could not tell the user what went wrong");
        }
    }
}
