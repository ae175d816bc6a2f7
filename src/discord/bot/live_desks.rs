//! Live status in the channel: the subscription asked for when a bridge is announced, and the call events
//! Graph sends folded into the announcement that keeps the bridge's live status (its carrier).
//!
//! The carrier is found in the channel at every fold, so every process finds the same one: among the bridge's
//! pinned announcements that are not pointers (the bot's own, linking the bridge), the oldest of those
//! younger than [`REPOST_AFTER`] if there are any (an old carrier's successor, and duplicates of it resolved
//! as pins are: the older keeps its pin), else the oldest; with none pinned, the newest of the last
//! messages. It is edited with the bot token, so edits go on after the interaction token has expired. Its
//! state is the one it carries (see `live::state`); no process holds the truth. Per bridge, one task in each
//! process ("desk"):
//! 1. collects the events that arrive within [`COALESCE`], so a busy roster is one edit, not a burst;
//! 2. reads the carrier, folds every event it holds into the state read, and edits only if that changed
//!    something (nothing is written when another process already wrote it);
//! 3. reads it again after each of [`VERIFY_AFTER`], and writes again if a concurrent edit by another
//!    process lost any of its events; then it lets them go.
//!
//! Two processes that edit at the same moment each find, on their next read, what the other wrote, and fold
//! their own events into it; since folding is order-free and idempotent, both end on the same state.
//!
//! **Old carriers.** Discord takes only a few edits of a message older than an hour, then answers 429 with
//! code 30046 (`../shared/docs/discord.md`); a standing bridge's announcement is usually days old. So when a
//! call is live and the carrier is older than [`REPOST_AFTER`], or Discord refuses an edit with 30046, the
//! desk posts a fresh announcement carrying the state (the same embed and buttons: the join link never
//! disappears), pins it, unpins the old one and makes it a pointer to the pinned one. Any process that finds
//! a young carrier beside older pinned ones unpins those: one pinned announcement per bridge, whatever the
//! number of processes. A long call is re-posted about once an hour, and hits 30046 at most once per carrier.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::all::{
    ActionRow, ActionRowComponent, ChannelId, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed,
    CreateEmbedFooter, CreateMessage, EditMessage, Embed, GetMessages, GuildId, Http, Message, MessageId,
};

use super::Bot;
use crate::discord::render::live_embed as render;
use crate::live::bridge_subscriptions::Ensure;
use crate::live::{BridgeAddress, CallEvent, LiveStatus};

/// How long a desk collects events before it edits.
pub const COALESCE: Duration = Duration::from_millis(1500);
/// When, after an edit, the announcement is read again to check nothing was lost.
pub const VERIFY_AFTER: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(8)];
/// Recent messages searched for the announcement when none is pinned.
const RECENT_MESSAGES: u8 = 50;
/// Events a desk holds at once, pending or held for verification: a roster of hundreds is a few hundred
/// events an hour.
pub(in crate::discord) const MAX_HELD: usize = 4096;
/// A carrier at least this old is re-posted when a call is live, before Discord's hour is up: so its edit
/// budget is never needed mid-call, and the old one still has the one edit that makes it a pointer.
pub const REPOST_AFTER: Duration = Duration::from_secs(50 * 60);
/// Discord's answer to an edit of a message older than an hour past its budget.
const OLD_MESSAGE_EDITS: isize = 30046;

/// The desks of this process, one per bridge with events in hand.
#[derive(Default)]
pub(in crate::discord) struct Desks {
    pub(in crate::discord) desks: Mutex<HashMap<BridgeAddress, Arc<Desk>>>,
}

#[derive(Default)]
pub(in crate::discord) struct Desk {
    /// Events not yet folded in by this desk.
    pub(in crate::discord) pending: Mutex<Vec<CallEvent>>,
    pub(in crate::discord) wake: tokio::sync::Notify,
    /// The carrier this desk found last, read again by id for the verification rounds.
    carrier: Mutex<Option<MessageId>>,
    /// The announcement this desk posted last, when it could not pin it: still the carrier, though the
    /// channel's pins don't say so.
    reposted: Mutex<Option<MessageId>>,
}

/// How a fold finds the carrier: by looking at the channel (the first fold of a round, so every process
/// finds the same one), or by reading again the one this desk found (its verification reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Channel,
    Known,
}

impl Bot {
    /// Makes sure Graph sends this bridge's call events (in the background: the announcement never waits).
    pub(in crate::discord) fn watch_bridge(
        &self,
        guild: Option<GuildId>,
        channel: ChannelId,
        join_url: &str,
        why: Ensure,
    ) {
        let (Some(live), Some(guild)) = (self.live.clone(), guild) else { return };
        let bridge = BridgeAddress::new(guild.get(), channel.get(), join_url);
        let join_url = join_url.to_owned();
        self.lifecycle.track(async move { live.subscriptions.ensure(&bridge, &join_url, why).await });
    }

    /// The desk's loop (see the module docs); ends once its events are safely in the announcement and no
    /// more came.
    pub(in crate::discord) async fn keep_current(&self, http: &Http, bridge: BridgeAddress, desk: Arc<Desk>) {
        let Some(live) = self.live.clone() else { return };
        let mut held: Vec<CallEvent> = Vec::new();
        'collect: loop {
            tokio::select! {
                () = tokio::time::sleep(COALESCE) => {}
                () = self.lifecycle.stopping().cancelled() => {}
            }
            let fresh = std::mem::take(&mut *desk.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            for event in fresh {
                if !held.contains(&event) {
                    held.push(event);
                }
            }
            held.sort_by_key(|event| event.at);
            // A desk lives as long as events keep coming (a call of hours): the oldest, long since in the
            // announcement, go first.
            let excess = held.len().saturating_sub(MAX_HELD);
            held.drain(..excess);
            self.fold_into_announcement(http, &live, &bridge, &desk, &held, Look::Channel).await;
            for wait in VERIFY_AFTER {
                let stopping = self.lifecycle.stopping().is_cancelled();
                tokio::select! {
                    () = desk.wake.notified() => continue 'collect,
                    () = tokio::time::sleep(wait) => {}
                    // Shutting down: one last check now, not a wait the drain limit would cut short.
                    () = self.lifecycle.stopping().cancelled(), if !stopping => {}
                }
                self.fold_into_announcement(http, &live, &bridge, &desk, &held, Look::Known).await;
                if self.lifecycle.stopping().is_cancelled() {
                    break;
                }
            }
            let mut desks = self.desks.desks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if desk.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_empty() {
                desks.remove(&bridge);
                self.metrics.live_calls_in_hand(desks.len());
                return;
            }
        }
    }

    /// One read, fold and (when something changed) edit (or re-post) of the carrier.
    async fn fold_into_announcement(
        &self,
        http: &Http,
        live: &LiveStatus,
        bridge: &BridgeAddress,
        desk: &Desk,
        held: &[CallEvent],
        look: Look,
    ) {
        let channel = ChannelId::new(bridge.channel);
        let Some(message) = self.carrier(http, bridge, desk, look).await else {
            self.metrics.live_edit("no_announcement");
            return tracing::warn!(
                channel_id = bridge.channel,
                "no announcement of this bridge found in the channel (pinned, or among the last 50 messages); its \
                 live status is not shown"
            );
        };
        let read = render::carried_state(&message.embeds);
        let mut state = read.clone();
        for event in held {
            state.apply(event);
        }
        if state == read {
            self.metrics.live_edit("unchanged");
            return;
        }
        let lang = self.languages.server(&self.calls, http, GuildId::new(bridge.guild)).await;
        let carrier_url = state.encode(live.state_budget()).map(|encoded| live.carrier_url(&encoded));
        let mut embeds = announcement_embeds(&message.embeds, None);
        embeds.extend(render::embed(&state, carrier_url, lang));
        if state.is_live() && age(&message) >= REPOST_AFTER {
            return self.repost(http, bridge, desk, &message, embeds, lang).await;
        }
        let edit = || {
            let edit = EditMessage::new().embeds(embeds.clone()).allowed_mentions(CreateAllowedMentions::new());
            async move { channel.edit_message(http, message.id, edit).await.map(drop) }
        };
        match self.discord(edit).await {
            Ok(()) => {
                self.metrics.live_edit("edited");
                tracing::info!(channel_id = bridge.channel, live = state.is_live(), "live status updated");
            }
            Err(error) if super::calls::discord_code(&error) == Some(OLD_MESSAGE_EDITS) => {
                self.metrics.live_edit("refused_old");
                tracing::info!(
                    channel_id = bridge.channel,
                    "Discord takes no more edits of this old announcement; posting a fresh one"
                );
                self.repost(http, bridge, desk, &message, embeds, lang).await;
            }
            Err(error) => {
                self.metrics.live_edit("failed");
                tracing::warn!(%error, "could not edit the announcement's live status");
            }
        }
    }

    /// Posts a fresh carrier with `embeds` (the announcement and the state) and `old`'s buttons, pins it in
    /// place of `old`, and makes `old` a pointer to it (see the module docs). When another process did the
    /// same at the same moment, the older of the two fresh ones stays and the other is taken back.
    async fn repost(
        &self,
        http: &Http,
        bridge: &BridgeAddress,
        desk: &Desk,
        old: &Message,
        embeds: Vec<CreateEmbed>,
        lang: crate::l10n::Lang,
    ) {
        let channel = ChannelId::new(bridge.channel);
        let components = buttons_of(&old.components);
        let post = || {
            let mut message =
                CreateMessage::new().embeds(embeds.clone()).allowed_mentions(CreateAllowedMentions::new());
            if let Some(row) = &components {
                message = message.components(vec![row.clone()]);
            }
            async move { channel.send_message(http, message).await.map(|m| m.id) }
        };
        let fresh = match self.discord(post).await {
            Ok(id) => id,
            Err(error) => {
                self.metrics.live_edit("failed");
                return tracing::warn!(%error, "could not post a fresh announcement for the live status");
            }
        };
        self.metrics.live_edit("reposted");
        tracing::info!(channel_id = bridge.channel, old = %old.id, fresh = %fresh, "re-posted the bridge's announcement with its live status");
        let pinned = self.pins.enabled() && {
            let reason = Some("meetnow: the bridge's announcement, re-posted with its live status");
            match self.discord(|| http.pin_message(channel, fresh, reason)).await {
                Ok(()) => true,
                Err(error) => {
                    tracing::warn!(%error, "could not pin the re-posted announcement");
                    false
                }
            }
        };
        if !pinned {
            *desk.reposted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(fresh);
        }
        // Another process's fresh one, older than this one: it stays, this one goes.
        if pinned {
            let others = self.pinned_carriers(http, bridge).await;
            let rival = others.iter().find(|m| m.id > old.id && m.id < fresh && age(m) < REPOST_AFTER);
            if let Some(rival) = rival {
                tracing::info!(kept = %rival.id, "another process re-posted the announcement at the same moment; taking this one back");
                let _ = self.discord(|| http.unpin_message(channel, fresh, None)).await;
                let _ = self.discord(|| channel.delete_message(http, fresh)).await;
                return;
            }
        }
        self.supersede(http, bridge, old, lang).await;
    }

    /// Unpins `old` and makes it a pointer to the bridge's pinned announcement: the announcement without its
    /// live status, with the pointer footer. The edit may be refused (30046) when `old` used its budget; it
    /// is then only unpinned.
    async fn supersede(&self, http: &Http, bridge: &BridgeAddress, old: &Message, lang: crate::l10n::Lang) {
        let channel = ChannelId::new(bridge.channel);
        if old.pinned {
            let reason = Some("meetnow: a fresh announcement of this bridge is pinned");
            if let Err(error) = self.discord(|| http.unpin_message(channel, old.id, reason)).await {
                tracing::warn!(%error, message_id = %old.id, "could not unpin the bridge's previous announcement");
            }
        }
        let pointer = self.pins.enabled().then(|| render::pointer(lang));
        let embeds = announcement_embeds(&old.embeds, pointer);
        let edit = || {
            let edit = EditMessage::new().embeds(embeds.clone()).allowed_mentions(CreateAllowedMentions::new());
            async move { channel.edit_message(http, old.id, edit).await.map(drop) }
        };
        if let Err(error) = self.discord(edit).await {
            tracing::info!(%error, message_id = %old.id, "could not turn the previous announcement into a pointer; it is unpinned");
        }
    }

    /// The bridge's pinned announcements that may carry its live status (not pointers), oldest first. A read
    /// that fails is an empty list: the desk then looks among the recent messages.
    async fn pinned_carriers(&self, http: &Http, bridge: &BridgeAddress) -> Vec<Message> {
        let channel = ChannelId::new(bridge.channel);
        let pinned = self.discord(|| http.get_pins(channel)).await.ok().unwrap_or_default();
        let mut carriers: Vec<Message> = pinned.into_iter().filter(|m| self.carries(m, bridge)).collect();
        carriers.sort_by_key(|m| m.id);
        carriers
    }

    /// Whether `message` is this bot's announcement of `bridge` that is not a pointer.
    fn carries(&self, message: &Message, bridge: &BridgeAddress) -> bool {
        let pointer =
            message.embeds.first().and_then(|e| e.footer.as_ref()).is_some_and(|f| render::is_pointer(&f.text));
        !pointer && self.identity.announces(message, |link| crate::live::tag_of(link) == bridge.tag)
    }

    /// The carrier of the bridge's live status, read now (see the module docs for which one). Older pinned
    /// carriers beside a young one are unpinned on the way: it superseded them. With [`Look::Known`] the one
    /// this desk found before is read again, and kept if it still is a pinned carrier (another process may
    /// have re-posted meanwhile: then the channel is looked at).
    async fn carrier(&self, http: &Http, bridge: &BridgeAddress, desk: &Desk, look: Look) -> Option<Message> {
        let channel = ChannelId::new(bridge.channel);
        let reposted = *desk.reposted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let known = *desk.carrier.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let (Look::Known, Some(id)) = (look, known) {
            if let Ok(message) = self.discord(|| http.get_message(channel, id)).await {
                let still =
                    self.carries(&message, bridge) && (message.pinned || !self.pins.enabled() || reposted == Some(id));
                if still {
                    return Some(message);
                }
            }
        }
        let found = self.look_for_carrier(http, bridge, reposted).await;
        *desk.carrier.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = found.as_ref().map(|m| m.id);
        found
    }

    /// The carrier, as the channel shows it (see the module docs).
    async fn look_for_carrier(
        &self,
        http: &Http,
        bridge: &BridgeAddress,
        reposted: Option<MessageId>,
    ) -> Option<Message> {
        let channel = ChannelId::new(bridge.channel);
        let mut pinned = self.pinned_carriers(http, bridge).await;
        let young = pinned.iter().position(|m| age(m) < REPOST_AFTER);
        let found = match young {
            Some(index) => {
                let carrier = pinned.remove(index);
                // The others are older carriers it replaced, or a second pin of the same moment.
                for superseded in pinned {
                    tracing::info!(message_id = %superseded.id, kept = %carrier.id, "unpinning a superseded announcement of the bridge");
                    let _ = self.discord(|| http.unpin_message(channel, superseded.id, None)).await;
                }
                Some(carrier)
            }
            None if !pinned.is_empty() => Some(pinned.remove(0)),
            None => {
                let recent = || channel.messages(http, GetMessages::new().limit(RECENT_MESSAGES));
                let messages = self.discord(recent).await.ok().unwrap_or_default();
                messages.into_iter().filter(|m| self.carries(m, bridge)).max_by_key(|m| m.id)
            }
        };
        // This desk's own fresh carrier it could not pin: newer than what the channel shows, so it is the one.
        match (reposted, &found) {
            (Some(id), Some(message)) if id > message.id => self.discord(|| http.get_message(channel, id)).await.ok(),
            (Some(id), None) => self.discord(|| http.get_message(channel, id)).await.ok(),
            _ => found,
        }
    }
}

/// How old a message is, by its timestamp (Discord's clock).
fn age(message: &Message) -> Duration {
    let created = message.timestamp.unix_timestamp();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Duration::from_secs(u64::try_from(now.saturating_sub(created)).unwrap_or(0))
}

/// An announcement's embeds without its live-status part, its footer set to `footer` (none: the pointer it may
/// have had is dropped, since this one keeps the live status now).
fn announcement_embeds(embeds: &[Embed], footer: Option<String>) -> Vec<CreateEmbed> {
    embeds
        .iter()
        .filter(|embed| !render::is_live_embed(embed))
        .cloned()
        .enumerate()
        .map(|(index, mut embed)| {
            if embed.footer.as_ref().is_some_and(|f| render::is_pointer(&f.text)) {
                embed.footer = None;
            }
            let embed = CreateEmbed::from(embed);
            match (&footer, index) {
                (Some(text), 0) => embed.footer(CreateEmbedFooter::new(text)),
                _ => embed,
            }
        })
        .take(9)
        .collect()
}

/// The announcement's buttons (Join, Local numbers, Attendance), to carry over to a fresh one.
fn buttons_of(rows: &[ActionRow]) -> Option<CreateActionRow> {
    let buttons: Vec<CreateButton> = rows
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|component| match component {
            ActionRowComponent::Button(button) => Some(CreateButton::from(button.clone())),
            _ => None,
        })
        .take(5)
        .collect();
    (!buttons.is_empty()).then_some(CreateActionRow::Buttons(buttons))
}
