//! The Discord REST calls the handler makes, each through [`Bot::discord`]: within the bound on calls in
//! flight, repeated once after a 429. The first response (by REST or in the HTTP answer), the announcement
//! (an edit of the deferred reply, or a channel post when that fails), pins, and private replies.

use std::future::Future;
use std::time::Duration;

use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, HttpError, Message, MessageId,
};

use super::super::announce::Announcement;
use super::super::text;
use super::{Bot, FirstResponse, Unacknowledged};
use crate::meeting::Meeting;

/// Discord REST calls in flight at once, for the same reason as `graph::MAX_REQUESTS_IN_FLIGHT`: a burst of
/// commands reuses pooled connections instead of opening one per call.
pub const MAX_DISCORD_CALLS_IN_FLIGHT: usize = 256;

/// How long to wait before repeating a call Discord answered with 429. serenity's error keeps neither the
/// `Retry-After` header nor the body's `retry_after`, so this is fixed: Discord's per-route windows are
/// about a second.
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(1000);

fn is_rate_limited(error: &serenity::Error) -> bool {
    matches!(error, serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
        if response.status_code == serenity::all::StatusCode::TOO_MANY_REQUESTS)
}

/// Discord's error code in an unsuccessful REST answer.
fn discord_code(error: &serenity::Error) -> Option<isize> {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => Some(response.error.code),
        _ => None,
    }
}

/// How long an interaction token lives.
const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Whether the command's interaction token is still alive, by the time in its id (Discord's clock).
fn token_alive(command: &CommandInteraction) -> bool {
    super::issued_at(command)
        .is_some_and(|issued| time::OffsetDateTime::now_utc() - issued < INTERACTION_TOKEN_LIFETIME)
}

/// Discord's 40060, "Interaction has already been acknowledged": another process answered this command.
fn is_already_acknowledged(error: &serenity::Error) -> bool {
    discord_code(error) == Some(40060)
}

/// How often, and how far apart, an edit of the deferred reply is repeated while Discord does not know the
/// reply yet (10015, "Unknown Webhook"). A defer sent in the answer to Discord's HTTP request is taken by
/// Discord when that answer arrives, which can be after an edit sent right behind it over REST.
const UNKNOWN_REPLY_RETRIES: u32 = 4;
const UNKNOWN_REPLY_PAUSE: Duration = Duration::from_millis(150);

/// Where the announcement landed: all that is kept of Discord's answer (a whole `Message` is over 1 KB).
#[derive(Debug, Clone, Copy)]
pub(super) struct Posted {
    channel_id: ChannelId,
    message_id: MessageId,
}

impl From<&Message> for Posted {
    fn from(message: &Message) -> Self {
        Self { channel_id: message.channel_id, message_id: message.id }
    }
}

impl Bot {
    /// Edits the deferred reply into the announcement. If that fails (an expired or broken interaction
    /// token), the bridge exists all the same, so it is posted as a plain channel message instead.
    pub(super) async fn announce(
        &self,
        http: &Http,
        command: &CommandInteraction,
        announcement: Announcement,
    ) -> Option<Posted> {
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
        let mut unknown = 0;
        loop {
            match self.discord(edit).await {
                Ok(posted) => return Some(posted),
                Err(error) if discord_code(&error) == Some(10015) && unknown < UNKNOWN_REPLY_RETRIES => {
                    unknown += 1;
                    tracing::debug!(%error, "Discord does not know the deferred reply yet; editing again shortly");
                    tokio::time::sleep(UNKNOWN_REPLY_PAUSE).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "editing the deferred reply failed; posting the announcement in the channel");
                    break;
                }
            }
        }
        if !token_alive(command) {
            // Discord would not have delivered it so late: a replayed or forged-by-delay command. Posting it in
            // the channel would let such a request speak in any channel the bot may write to.
            tracing::warn!("the command's interaction token has expired; not posting its announcement in the channel");
            return None;
        }
        match self.post_in_channel(http, command.channel_id, announcement).await {
            Ok(posted) => {
                // Only now is the "thinking…" reply redundant. Removed before the channel post succeeded, it could
                // take the only announcement with it: the edit may have landed and only its answer been lost.
                let _ = self.discord(|| command.delete_response(http)).await;
                Some(posted)
            }
            Err(error) => {
                tracing::error!(%error, "posting the announcement in the channel failed");
                None
            }
        }
    }

    /// Posts `announcement` as a plain message in `channel`.
    pub(super) async fn post_in_channel(
        &self,
        http: &Http,
        channel: ChannelId,
        announcement: &Announcement,
    ) -> serenity::Result<Posted> {
        let send = || async move {
            let mut message =
                CreateMessage::new().embed(announcement.embed.clone()).allowed_mentions(CreateAllowedMentions::new());
            if let Some(row) = &announcement.buttons {
                message = message.components(vec![row.clone()]);
            }
            channel.send_message(http, message).await.map(|message| Posted::from(&message))
        };
        self.discord(send).await
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
    pub(super) async fn discord<T, F, Fut>(&self, mut call: F) -> serenity::Result<T>
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

    /// Pins the announcement of a new bridge unless an announcement of it is pinned in the channel already:
    /// two people typing `/meetnow` in a new channel at once, or a process finishing another's command, must
    /// not leave two pins. Checked before pinning, and again after, for two pins made at the same moment: then
    /// the older announcement keeps its pin and the newer one is unpinned, which every process decides alike.
    pub(super) async fn pin_once(&self, http: &Http, posted: Posted, meeting: &Meeting) {
        match self.pinned_announcements(http, posted.channel_id, meeting).await {
            Ok(pinned) if pinned.iter().any(|&id| id != posted.message_id) => {
                return tracing::debug!("this bridge's announcement is pinned already");
            }
            Ok(_) => {}
            // Reading pins needs View Channel and Read Message History; pinning may still work.
            Err(error) => tracing::debug!(%error, "could not read the channel's pins"),
        }
        let reason = Some("meetnow: new incident bridge");
        if let Err(error) = self.discord(|| http.pin_message(posted.channel_id, posted.message_id, reason)).await {
            // Usually the bot lacks Manage Messages (or Pin Messages) here; the announcement stands regardless.
            return tracing::warn!(%error, message_id = %posted.message_id, "could not pin the announcement");
        }
        let Ok(pinned) = self.pinned_announcements(http, posted.channel_id, meeting).await else { return };
        if pinned.iter().any(|&id| id < posted.message_id) {
            let reason = Some("meetnow: this bridge is pinned already");
            if let Err(error) = self.discord(|| http.unpin_message(posted.channel_id, posted.message_id, reason)).await
            {
                tracing::warn!(%error, message_id = %posted.message_id, "could not unpin a second pin of the bridge");
            }
        }
    }

    /// The ids of the pinned messages in `channel` that announce `meeting`: this bot's own messages whose
    /// embed links its join URL (another bot's, or a webhook's, could copy the embed to block the pin).
    async fn pinned_announcements(
        &self,
        http: &Http,
        channel: ChannelId,
        meeting: &Meeting,
    ) -> serenity::Result<Vec<MessageId>> {
        let join_url = meeting.join_url.as_str();
        let read = || async move {
            let pins = http.get_pins(channel).await?;
            Ok(pins
                .iter()
                .filter(|m| self.is_own(m.author.id) && m.embeds.iter().any(|e| e.url.as_deref() == Some(join_url)))
                .map(|m| m.id)
                .collect())
        };
        self.discord(read).await
    }

    /// Sends an interaction's first response the way the interaction came in: in the HTTP answer, or by
    /// REST with `by_rest` (the interaction's `create_response`; commands and clicks alike).
    pub(super) async fn respond_first<Fut>(
        &self,
        first: FirstResponse,
        response: CreateInteractionResponse,
        by_rest: impl Fn(CreateInteractionResponse) -> Fut,
    ) -> Result<(), Unacknowledged>
    where
        Fut: Future<Output = serenity::Result<()>>,
    {
        match first {
            FirstResponse::Rest => {
                let sent = self.discord(|| by_rest(response.clone())).await;
                sent.map_err(|error| {
                    if is_already_acknowledged(&error) {
                        Unacknowledged::AnsweredElsewhere
                    } else {
                        Unacknowledged::Failed(error.to_string())
                    }
                })
            }
            FirstResponse::HttpAnswer(answer) => answer
                .send(response)
                .map_err(|_| Unacknowledged::Failed("Discord's request for the response was gone".into())),
        }
    }

    /// An ephemeral answer to a command as the first response (before any defer).
    pub(super) async fn reply_privately(
        &self,
        http: &Http,
        command: &CommandInteraction,
        first: FirstResponse,
        text: &str,
    ) {
        self.first_response_privately(first, text, |response| command.create_response(http, response)).await;
    }

    /// An ephemeral first response to any interaction (a command, a click), sent as [`Bot::respond_first`]
    /// sends it.
    pub(super) async fn first_response_privately<Fut>(
        &self,
        first: FirstResponse,
        text: &str,
        by_rest: impl Fn(CreateInteractionResponse) -> Fut,
    ) where
        Fut: Future<Output = serenity::Result<()>>,
    {
        let text = text::truncate(text, text::limits::CONTENT);
        let message = CreateInteractionResponseMessage::new()
            .content(text)
            .ephemeral(true)
            .allowed_mentions(CreateAllowedMentions::new());
        let reply = CreateInteractionResponse::Message(message);
        match self.respond_first(first, reply, by_rest).await {
            Ok(()) => {}
            // Another process said the same.
            Err(Unacknowledged::AnsweredElsewhere) => {}
            Err(Unacknowledged::Failed(error)) => tracing::warn!(%error, "could not answer the command"),
        }
    }

    /// After a public defer: remove the "thinking…" reply and tell only the invoker what went wrong.
    pub(super) async fn fail_privately(&self, http: &Http, command: &CommandInteraction, text: &str) {
        // Deleting first makes the follow-up a new message, so it can be ephemeral instead of replacing the
        // public placeholder.
        if let Err(error) = self.discord(|| command.delete_response(http)).await {
            tracing::warn!(%error, "could not remove the deferred reply");
        }
        let text = text::truncate(text, text::limits::CONTENT);
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
