//! Bridges without typing: when a text channel, announcement channel or thread whose name matches
//! `MEETNOW_AUTO_CHANNELS` is created, its standing bridge is posted there, the same announcement `/meetnow`
//! gives, and pinned under `MEETNOW_PIN`. A later `/meetnow` there returns the same bridge.
//!
//! With several processes every one of them gets the event. Graph decides which one announces: createOrGet
//! answers 201 to exactly one of them (the others get 200 and only see to the lobby settings). A bridge
//! someone made by typing `/meetnow` before the event was handled is announced by that command, not twice.
//! Channels created while no process ran are not back-filled, and a rename never counts as a creation.

use serenity::all::{ChannelType, GuildChannel, Http, Timestamp};
use tracing::Instrument as _;

use super::command::apply;
use crate::discord::access::{Asker, Refusal};
use crate::discord::bot::{Bot, PinJob};
use crate::discord::render::announcement::{self, Kind};
use crate::live::bridge_subscriptions::Ensure;
use crate::meeting::{MeetingKey, MeetingRequest, Origin};
use crate::telemetry::Chain;

/// How old a thread may be when THREAD_CREATE arrives and still count as new: the same event comes when the
/// bot is added to an existing thread.
const NEW_THREAD_WINDOW_SECONDS: i64 = 60;

/// Whether a CHANNEL_CREATE or THREAD_CREATE is for a channel that should get a bridge of its own: a text,
/// announcement or thread channel (not voice, stage, forum or category) just created, whose name matches.
pub fn wants_a_bridge(channel: &GuildChannel, patterns: &crate::config::ChannelPatterns, now: Timestamp) -> bool {
    let new = match channel.kind {
        ChannelType::Text | ChannelType::News => true,
        ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread => channel
            .thread_metadata
            .and_then(|meta| meta.create_timestamp)
            .is_some_and(|created| now.unix_timestamp() - created.unix_timestamp() <= NEW_THREAD_WINDOW_SECONDS),
        _ => false,
    };
    new && patterns.matches(&channel.name)
}

impl Bot {
    /// Asks [`Access`](crate::discord::access::Access) about a new channel: its server must be served, and a
    /// thread's creator (anyone who may create threads) must have one of the allowed roles, looked up by REST
    /// (`GET /guilds/{guild}/members/{user}`: no privileged intent needed). A channel's creator needed Manage
    /// Channels, which is enough.
    async fn may_have_a_bridge(&self, http: &Http, channel: &GuildChannel) -> Result<(), Refusal> {
        let guild = self.access.server(Some(channel.guild_id))?;
        let is_thread =
            matches!(channel.kind, ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread);
        if !is_thread || !self.access.needs_a_role() {
            return self.access.decide(Some(guild), Asker::ChannelCreator).map(drop);
        }
        let Some(creator) = channel.owner_id else { return Err(Refusal::NoRole) };
        match self.discord(|| async move { http.get_member(guild, creator).await.map(|m| m.roles) }).await {
            Ok(roles) => self.access.decide(Some(guild), Asker::Member(&roles)).map(drop),
            Err(error) => {
                // Unknown roles are no roles: typing /meetnow there still works for whoever may.
                tracing::warn!(%error, user_id = %creator, "could not look up a new thread's creator");
                Err(Refusal::NoRole)
            }
        }
    }

    /// Posts the standing bridge of a channel just created (see the module docs).
    pub(crate) async fn announce_new_channel(&self, http: &Http, channel: &GuildChannel) {
        let span = tracing::info_span!("new_channel", guild_id = %channel.guild_id, channel_id = %channel.id);
        async {
            if let Err(refusal) = self.may_have_a_bridge(http, channel).await {
                return tracing::info!(reason = refusal.reason(), "not giving a new channel a bridge");
            }
            let lang = self.languages.server(&self.calls, http, channel.guild_id).await;
            let subject = announcement::default_subject(Some(&channel.name), lang);
            let key = MeetingKey::for_channel(channel.guild_id.get(), channel.id.get());
            let request = MeetingRequest { subject: subject.clone(), key: Some(key) };
            let (meeting, lobby) = match Box::pin(self.graph.meeting_now(&request)).await {
                Ok(found) => found,
                Err(error) => {
                    tracing::error!(error = %Chain(&error), kind = error.kind(), "could not get a bridge for a new channel");
                    return self.metrics.command_failed(error.kind());
                }
            };
            if meeting.origin != Origin::Created {
                // Another process made it and announces it, or someone typed /meetnow first.
                tracing::debug!("the new channel's bridge exists already; not announcing it again");
                return apply(lobby).await;
            }
            let announcement = announcement::announcement(&meeting, Kind::Standing, &subject, lang);
            let (posted, ()) = tokio::join!(self.post_in_channel(http, channel.id, &announcement), apply(lobby));
            match posted {
                Ok(posted) => {
                    tracing::info!(meeting_id = %meeting.id, origin = ?meeting.origin, automatic = true, "bridge announced");
                    self.metrics.meeting_announced(true);
                    self.watch_bridge(Some(channel.guild_id), channel.id, &meeting.join_url, Ensure::Announced);
                    if self.pins.enabled() {
                        let pin = PinJob { posted, join_url: meeting.join_url, created_here: true };
                        self.pins.pin_once(&self.calls, &self.identity, http, pin).await;
                    }
                }
                Err(error) => {
                    // Usually the bot may not post there (50001/50013). Once, not retried: the bridge exists, and
                    // /meetnow in the channel returns it.
                    tracing::warn!(%error, meeting_id = %meeting.id, "could not post the bridge in the new channel");
                    self.metrics.command_failed("auto_announcement");
                }
            }
        }
        .instrument(span)
        .await;
    }
}
