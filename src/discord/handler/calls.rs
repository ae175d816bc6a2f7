//! The Discord REST calls the handler makes, each through [`Bot::discord`]: within the bound on calls in
//! flight, repeated once after a 429. The first response (by REST or in the HTTP answer), the announcement
//! (an edit of the deferred reply, or a channel post when that fails), pins, and private replies.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, HttpError, Message, MessageId,
};

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::super::announce::Announcement;
use super::super::text;
use super::{Bot, FirstResponse, Unacknowledged};

/// Bot-token Discord REST calls (pins, channel posts, member lookups) in flight at once. Discord lets through
/// 50 a second, so more in flight would only wait inside the rate limiter, each holding its request and its
/// stream: at 2,000 new channels at once, 256 in flight made the peak 101 MB. Calls with an interaction token
/// are not bounded here (see `Bot::interaction`).
pub const MAX_DISCORD_CALLS_IN_FLIGHT: usize = 64;

/// How long to wait before repeating a call Discord answered with 429. serenity's error keeps neither the
/// `Retry-After` header nor the body's `retry_after`, so this is fixed: Discord's per-route windows are
/// about a second.
const RATE_LIMIT_PAUSE: Duration = Duration::from_millis(1000);

/// A 429 that is a rate limit to wait out. A 429 with an error code of its own (30046: no more edits of a
/// message older than an hour) is a refusal for the caller to act on; repeating it only counts toward
/// Discord's invalid-request limit.
fn is_rate_limited(error: &serenity::Error) -> bool {
    matches!(error, serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
        if response.status_code == serenity::all::StatusCode::TOO_MANY_REQUESTS && response.error.code <= 0)
}

/// Discord's error code in an unsuccessful REST answer.
pub(super) fn discord_code(error: &serenity::Error) -> Option<isize> {
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) => Some(response.error.code),
        _ => None,
    }
}

/// What pinning a new bridge's announcement needs: where it is, and the bridge's join link. All a command
/// keeps while it waits its turn to pin.
pub(super) struct PinJob {
    pub(super) posted: Posted,
    pub(super) join_url: String,
}

/// Reads of a channel's pins before giving up, and the pause between them.
const PIN_READ_ATTEMPTS: u32 = 3;
const PIN_READ_PAUSE: Duration = Duration::from_millis(500);

/// Why the pins could not be read.
pub(super) enum PinsUnread {
    /// The bot may not read them (50001, 50013): pinning may still work.
    Forbidden,
    /// Anything else, after retries: nothing is known.
    Failed(String),
}

/// The pin work this process has done or is doing, per channel and bridge, for [`PIN_MEMORY`].
#[derive(Default)]
pub(super) struct PinWork {
    turns: std::sync::Mutex<HashMap<(ChannelId, String), (Instant, PinTurn)>>,
}

/// Whether a channel's pin work for a bridge is done; held while it is being done.
type PinTurn = Arc<tokio::sync::Mutex<bool>>;

/// How long this process remembers having pinned a channel's bridge: a burst is over long before.
const PIN_MEMORY: Duration = Duration::from_secs(10 * 60);

impl PinWork {
    /// The turn to do a channel's pin work for this bridge, if nobody in this process has done it: callers
    /// that come while it is being done wait for it, then get `None`.
    async fn first_turn(&self, channel: ChannelId, join_url: &str) -> Option<tokio::sync::OwnedMutexGuard<bool>> {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            turns.retain(|_, (since, _)| since.elapsed() < PIN_MEMORY);
            let entry = turns.entry((channel, join_url.to_owned())).or_insert_with(|| (Instant::now(), Arc::default()));
            entry.1.clone()
        };
        let mut done = turn.lock_owned().await;
        if *done {
            return None;
        }
        *done = true;
        Some(done)
    }
}

/// Whether the command's interaction token is still alive, by the time in its id (Discord's clock).
fn token_alive(command: &CommandInteraction) -> bool {
    super::issued_at(command)
        .is_some_and(|issued| time::OffsetDateTime::now_utc() - issued < super::super::INTERACTION_TOKEN_LIFETIME)
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
            match self.interaction(edit).await {
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
                let _ = self.interaction(|| command.delete_response(http)).await;
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

    /// Runs one bot-token REST call (channel messages, pins, members) within [`MAX_DISCORD_CALLS_IN_FLIGHT`]:
    /// see [`Bot::rest`].
    pub(super) async fn discord<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(Some(&self.discord_calls), call).await
    }

    /// Runs one call with an interaction token (the first response, edits of the reply, follow-ups): outside
    /// the bound on bot-token calls, as Discord keeps them outside its global limit, so an acknowledgement
    /// or an announcement never waits behind a burst of pins.
    pub(super) async fn interaction<T, F, Fut>(&self, call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        self.rest(None, call).await
    }

    /// Runs one Discord REST call, within `slots` if given, repeating it once after a 429.
    ///
    /// With `DISCORD_RATELIMIT=local` the rate limiter (`discord::ratelimit`) waits out 429s itself and a 429
    /// reaches here only after its repeats; behind a proxy (`proxy`) one can reach us at once. One retry after
    /// [`RATE_LIMIT_PAUSE`] still fits in Discord's 3 seconds for the acknowledgement; a retry storm would get
    /// the bot's IP banned.
    ///
    /// The call's future is boxed, so it takes memory only while it runs: serenity's request futures are
    /// kilobytes, and inlined they made every command's task 12 KB from the start, even while it waited its
    /// turn. Callers keep their own state small too (ids, not whole `Message`s).
    async fn rest<T, F, Fut>(&self, slots: Option<&Semaphore>, mut call: F) -> serenity::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = serenity::Result<T>>,
    {
        let mut retried = false;
        loop {
            // The semaphore is never closed; if it were, going ahead without a permit is the safe failure.
            let slot = match slots {
                Some(slots) => slots.acquire().await.ok(),
                None => None,
            };
            let result = Box::pin(call()).await;
            drop(slot);
            match result {
                Err(error) if !retried && is_rate_limited(&error) => {
                    if self.rate_limits_by_proxy {
                        self.metrics.discord_rate_limited("user");
                    }
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
    /// not leave two pins. In this process the work is done once per channel and bridge (forty commands in a
    /// new channel make one pin's worth of calls, not forty); across processes it is checked against the
    /// channel's pins before pinning, and again after, for two pins made at the same moment: then the older
    /// announcement keeps its pin and the newer one is unpinned, which every process decides alike.
    pub(super) async fn pin_once(&self, http: &Http, job: PinJob) {
        let PinJob { posted, join_url } = job;
        let Some(_turn) = self.pin_work.first_turn(posted.channel_id, &join_url).await else {
            return tracing::debug!("this process has pinned this bridge's announcement already");
        };
        match self.pinned_announcements(http, posted.channel_id, &join_url).await {
            Ok(pinned) if pinned.iter().any(|&id| id != posted.message_id) => {
                return tracing::debug!("this bridge's announcement is pinned already");
            }
            Ok(_) => {}
            // Reading pins needs View Channel and Read Message History; pinning may still work.
            Err(PinsUnread::Forbidden) => tracing::debug!("may not read the channel's pins; pinning unchecked"),
            // Not knowing is not "not pinned": pinning blind is how a burst left five pins.
            Err(PinsUnread::Failed(error)) => {
                return tracing::warn!(%error, "could not read the channel's pins; not pinning rather than pin twice");
            }
        }
        let reason = Some("meetnow: new incident bridge");
        if let Err(error) = self.discord(|| http.pin_message(posted.channel_id, posted.message_id, reason)).await {
            // Usually the bot lacks Manage Messages (or Pin Messages) here; the announcement stands regardless.
            return tracing::warn!(%error, message_id = %posted.message_id, "could not pin the announcement");
        }
        let pinned = match self.pinned_announcements(http, posted.channel_id, &join_url).await {
            Ok(pinned) => pinned,
            Err(PinsUnread::Forbidden) => return,
            Err(PinsUnread::Failed(error)) => {
                return tracing::warn!(%error, "could not read the pins back; a second pin made at the same moment stays");
            }
        };
        if pinned.iter().any(|&id| id < posted.message_id) {
            let reason = Some("meetnow: this bridge is pinned already");
            if let Err(error) = self.discord(|| http.unpin_message(posted.channel_id, posted.message_id, reason)).await
            {
                tracing::warn!(%error, message_id = %posted.message_id, "could not unpin a second pin of the bridge");
            }
        }
    }

    /// Whether `message` is this bot's announcement of a bridge whose join link passes `wanted`: the link is
    /// its first embed's. Another bot's message, or a webhook's, could copy the embed (to block a pin, or to
    /// be edited into live status): only the bot's own count.
    pub(super) fn announces(&self, message: &Message, wanted: impl Fn(&str) -> bool) -> bool {
        self.is_own(message.author.id) && message.embeds.first().and_then(|e| e.url.as_deref()).is_some_and(wanted)
    }

    /// The ids of the pinned messages in `channel` that announce `meeting`: this bot's own messages whose
    /// embed links its join URL (another bot's, or a webhook's, could copy the embed to block the pin). A read
    /// that fails is tried again, twice; then it is [`PinsUnread::Failed`], never an empty list.
    async fn pinned_announcements(
        &self,
        http: &Http,
        channel: ChannelId,
        join_url: &str,
    ) -> Result<Vec<MessageId>, PinsUnread> {
        let read = || async move {
            let pins = http.get_pins(channel).await?;
            Ok(pins.iter().filter(|m| self.announces(m, |link| link == join_url)).map(|m| m.id).collect())
        };
        let mut attempt = 1;
        loop {
            match self.discord(read).await {
                Ok(pinned) => return Ok(pinned),
                Err(error) if matches!(discord_code(&error), Some(50_001 | 50_013)) => {
                    return Err(PinsUnread::Forbidden)
                }
                Err(error) if attempt >= PIN_READ_ATTEMPTS => return Err(PinsUnread::Failed(error.to_string())),
                Err(error) => {
                    tracing::debug!(%error, attempt, "reading the channel's pins failed; reading again");
                    attempt += 1;
                    tokio::time::sleep(PIN_READ_PAUSE).await;
                }
            }
        }
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
                let sent = self.interaction(|| by_rest(response.clone())).await;
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
        if let Err(error) = self.interaction(|| command.delete_response(http)).await {
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
        if let Err(error) = self.interaction(followup).await {
            tracing::warn!(%error, "could not tell the user what went wrong");
        }
    }
}
