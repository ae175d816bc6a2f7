//! What the bot says back, the same for every entry point: the first response to an interaction (by REST or
//! in the HTTP answer), an ephemeral reply, the announcement (an edit of the deferred reply, or a channel
//! post when that fails), and a failure told privately after a defer.

use std::future::Future;
use std::time::Duration;

use serenity::all::{
    ChannelId, CommandInteraction, CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, Message, MessageId,
};

use serenity::builder::Builder as _;

use super::calls::discord_code;
use super::{Bot, FirstResponse, Unacknowledged};
use crate::discord::render::announcement::Announcement;
use crate::discord::render::text;
use crate::discord::transport::direct::MessageIds;

/// Whether the command's interaction token is still alive, by the time in its id (Discord's clock).
fn token_alive(command: &CommandInteraction) -> bool {
    crate::discord::on::command::issued_at(command)
        .is_some_and(|issued| time::OffsetDateTime::now_utc() - issued < crate::discord::INTERACTION_TOKEN_LIFETIME)
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
pub(in crate::discord) struct Posted {
    pub(in crate::discord) channel_id: ChannelId,
    pub(in crate::discord) message_id: MessageId,
}

impl From<&Message> for Posted {
    fn from(message: &Message) -> Self {
        Self { channel_id: message.channel_id, message_id: message.id }
    }
}

impl From<MessageIds> for Posted {
    fn from(message: MessageIds) -> Self {
        Self { channel_id: message.channel_id, message_id: message.id }
    }
}

impl Bot {
    /// Edits the deferred reply into the announcement. If that fails (an expired or broken interaction
    /// token), the bridge exists all the same, so it is posted as a plain channel message instead.
    pub(in crate::discord) async fn announce(
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
            self.calls.hot().edit_reply(http, &command.token, edit).await.map(Posted::from)
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
    pub(in crate::discord) async fn post_in_channel(
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

    /// Sends an interaction's first response the way the interaction came in: in the HTTP answer, or by
    /// REST with `by_rest` (the interaction's `create_response`; commands and clicks alike).
    pub(in crate::discord) async fn respond_first<Fut>(
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
    pub(in crate::discord) async fn reply_privately(
        &self,
        http: &Http,
        command: &CommandInteraction,
        first: FirstResponse,
        text: &str,
    ) {
        self.first_response_privately(first, text, |response| {
            self.calls.hot().first_response(http, command.id, &command.token, response)
        })
        .await;
    }

    /// An ephemeral first response to any interaction (a command, a click), sent as [`Bot::respond_first`]
    /// sends it.
    pub(in crate::discord) async fn first_response_privately<Fut>(
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
    pub(in crate::discord) async fn fail_privately(&self, http: &Http, command: &CommandInteraction, text: &str) {
        // Deleting first makes the follow-up a new message, so it can be ephemeral instead of replacing the
        // public placeholder.
        if let Err(error) = self.interaction(|| command.delete_response(http)).await {
            tracing::warn!(%error, "could not remove the deferred reply");
        }
        if let Err(error) = self.follow_up_privately(http, &command.token, text).await {
            tracing::warn!(%error, "could not tell the user what went wrong");
        }
    }

    /// An ephemeral follow-up to the interaction whose token is `token`, seen only by whoever sent it.
    pub(in crate::discord) async fn follow_up_privately(
        &self,
        http: &Http,
        token: &str,
        text: &str,
    ) -> serenity::Result<()> {
        let text = text::truncate(text, text::limits::CONTENT);
        let followup = || {
            let followup = CreateInteractionResponseFollowup::new()
                .content(text.clone())
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new());
            async move { followup.execute(http, (None, token)).await.map(drop) }
        };
        self.interaction(followup).await
    }
}
