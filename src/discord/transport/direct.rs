//! The hot path's Discord calls, sent in process when this process keeps Discord's limits: an interaction's
//! first response, the edit of its reply, and a new bridge's pin with the reads around it (through serenity,
//! to a proxy that keeps the limits, with `DISCORD_RATELIMIT=proxy`). serenity still builds each request (its routes, its
//! headers, its bodies); the [`Limiter`] sends it within Discord's limits as it sends the forwarder's, but
//! without the loopback hop every other serenity call takes, which at 2,000 commands at once cost a third
//! of the bot's CPU and held every request twice (BENCHMARKS.md, "Lighter with the limits on").
//!
//! Answers are read into what the bot keeps (ids, and what a pin check needs), not into serenity's whole
//! `Message`; a failure becomes the same `serenity::Error` serenity would have returned, so the callers'
//! handling of Discord's codes (10015, 30046, 40060, 429) is the same on either path.

use std::sync::Arc;

use axum::body::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateInteractionResponse, EditInteractionResponse, Http, HttpError,
    InteractionId, MessageId, UserId,
};
use serenity::builder::Builder as _;
use serenity::http::{ErrorResponse, LightMethod, Request, Route};

use super::ratelimit::{Limiter, Priority, Via};

/// Where a message landed: all that is read of Discord's answer to a post or an edit.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct MessageIds {
    pub id: MessageId,
    pub channel_id: ChannelId,
}

/// What a pin check reads of a pinned message: who wrote it and the link of its first embed.
#[derive(Debug, Clone, Deserialize)]
pub struct PinnedMessage {
    pub id: MessageId,
    pub author: Author,
    #[serde(default)]
    pub embeds: Vec<EmbedLink>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Author {
    pub id: UserId,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmbedLink {
    pub url: Option<String>,
}

impl PinnedMessage {
    /// The link of the first embed, which is where an announcement carries its bridge's join link.
    pub fn first_embed_link(&self) -> Option<&str> {
        self.embeds.first().and_then(|embed| embed.url.as_deref())
    }
}

/// The hot path's calls: to the limiter in process when this process keeps the limits, through serenity (and
/// a proxy that keeps them) otherwise. One request each; callers run them within `DiscordCalls`' bounds.
#[derive(Clone, Default)]
pub struct HotPath {
    /// `DISCORD_RATELIMIT=local`: this process's limiter.
    limiter: Option<Arc<Limiter>>,
}

impl HotPath {
    pub fn new(limiter: Option<Arc<Limiter>>) -> Self {
        Self { limiter }
    }

    /// An interaction's first response (`POST /interactions/{id}/{token}/callback`).
    pub async fn first_response(
        &self,
        http: &Http,
        interaction: InteractionId,
        token: &str,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        let Some(limiter) = &self.limiter else {
            return response.execute(http, (interaction, token)).await;
        };
        // As serenity does with its default: the bot pings nobody, so a response with a message says so.
        let response = match response {
            CreateInteractionResponse::Message(message) => {
                CreateInteractionResponse::Message(message.allowed_mentions(CreateAllowedMentions::new()))
            }
            CreateInteractionResponse::Defer(message) => {
                CreateInteractionResponse::Defer(message.allowed_mentions(CreateAllowedMentions::new()))
            }
            other => other,
        };
        let route = Route::InteractionResponse { interaction_id: interaction, token };
        let request = Request::new(route, LightMethod::Post).body(Some(serde_json::to_vec(&response)?));
        send(limiter, http, request, Priority::InOrder).await.map(drop)
    }

    /// Edits an interaction's original reply (`PATCH /webhooks/{application}/{token}/messages/@original`);
    /// Discord's answer is read as far as where the message is.
    pub async fn edit_reply(
        &self,
        http: &Http,
        token: &str,
        edit: EditInteractionResponse,
    ) -> serenity::Result<MessageIds> {
        let Some(limiter) = &self.limiter else {
            let message = edit.execute(http, token).await?;
            return Ok(MessageIds { id: message.id, channel_id: message.channel_id });
        };
        let application_id = http.application_id().ok_or(HttpError::ApplicationIdMissing)?;
        let route = Route::WebhookOriginalInteractionResponse { application_id, token };
        let request = Request::new(route, LightMethod::Patch).body(Some(serde_json::to_vec(&edit)?));
        let body = send(limiter, http, request, Priority::InOrder).await?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// A channel's pinned messages (`GET /channels/{id}/pins`), as far as a pin check reads them.
    pub async fn pins(
        &self,
        http: &Http,
        channel: ChannelId,
        priority: Priority,
    ) -> serenity::Result<Vec<PinnedMessage>> {
        let Some(limiter) = &self.limiter else {
            let pinned = http.get_pins(channel).await?.into_iter().map(|message| PinnedMessage {
                id: message.id,
                author: Author { id: message.author.id },
                embeds: message.embeds.into_iter().map(|embed| EmbedLink { url: embed.url }).collect(),
            });
            return Ok(pinned.collect());
        };
        let request = Request::new(Route::ChannelPins { channel_id: channel }, LightMethod::Get);
        let body = send(limiter, http, request, priority).await?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// Pins (`PUT`) or unpins (`DELETE`) a message, with `reason` in the audit log.
    pub async fn set_pinned(
        &self,
        http: &Http,
        channel: ChannelId,
        message: MessageId,
        pinned: bool,
        reason: &'static str,
    ) -> serenity::Result<()> {
        let Some(limiter) = &self.limiter else {
            return match pinned {
                true => http.pin_message(channel, message, Some(reason)).await,
                false => http.unpin_message(channel, message, Some(reason)).await,
            };
        };
        let method = if pinned { LightMethod::Put } else { LightMethod::Delete };
        let route = Route::ChannelPin { channel_id: channel, message_id: message };
        let mut headers = HeaderMap::new();
        // Discord reads the reason URL-encoded; the bot's reasons are fixed ASCII, valid as they are.
        headers.insert("X-Audit-Log-Reason", HeaderValue::from_static(reason));
        let request = Request::new(route, method).headers(Some(headers));
        send(limiter, http, request, Priority::InOrder).await.map(drop)
    }
}

/// Builds `request` as serenity would (its route, user agent and token), sends it through the limiter,
/// and returns the answer's body, or the error serenity would have made of the answer.
async fn send(limiter: &Limiter, http: &Http, request: Request<'_>, priority: Priority) -> serenity::Result<Bytes> {
    let method = request.method_ref().reqwest_method();
    let (client, upstream) = limiter.upstream();
    let request = request.build(client, http.token(), Some(upstream))?.build().map_err(HttpError::Request)?;
    let answer = limiter.call(request, priority, Via::InProcess).await;
    if answer.status.is_success() {
        return Ok(answer.body);
    }
    let mut response = axum::http::Response::new(answer.body);
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    let error = ErrorResponse::from_response(reqwest::Response::from(response), method).await;
    Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(error)))
}
