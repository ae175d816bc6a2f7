//! Live status in the channel: the subscription asked for when a bridge is announced, and the call events
//! Graph sends folded into the announcement that keeps the bridge's live status.
//!
//! The announcement that keeps it is the bridge's pinned one (or, with no pin, its newest), found in the
//! channel and edited with the bot token, so edits go on after the interaction token has expired. Its state
//! is the one it carries (see `live::state`); no process holds the truth. Per bridge, one task in each
//! process ("desk"):
//! 1. collects the events that arrive within [`COALESCE`], so a busy roster is one edit, not a burst;
//! 2. reads the announcement, folds every event it holds into the state read, and edits only if that changed
//!    something (nothing is written when another process already wrote it);
//! 3. reads it again after each of [`VERIFY_AFTER`], and writes again if a concurrent edit by another
//!    process lost any of its events; then it lets them go.
//!
//! Two processes that edit at the same moment each find, on their next read, what the other wrote, and fold
//! their own events into it; since folding is order-free and idempotent, both end on the same state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::all::{
    ChannelId, CreateAllowedMentions, CreateEmbed, EditMessage, GetMessages, GuildId, Http, Message, MessageId,
};

use super::Bot;
use crate::discord::live as render;
use crate::live::{BridgeAddress, CallEvent, CallEventSink, LiveStatus};

/// How long a desk collects events before it edits.
pub const COALESCE: Duration = Duration::from_millis(1500);
/// When, after an edit, the announcement is read again to check nothing was lost.
pub const VERIFY_AFTER: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(8)];
/// Recent messages searched for the announcement when none is pinned.
const RECENT_MESSAGES: u8 = 50;
/// Events a desk holds at once, pending or held for verification: a roster of hundreds is a few hundred
/// events an hour.
const MAX_HELD: usize = 4096;

/// The desks of this process, one per bridge with events in hand.
#[derive(Default)]
pub(crate) struct Desks {
    desks: Mutex<HashMap<BridgeAddress, Arc<Desk>>>,
}

#[derive(Default)]
struct Desk {
    /// Events not yet folded in by this desk.
    pending: Mutex<Vec<CallEvent>>,
    wake: tokio::sync::Notify,
    /// The announcement found to keep the live status.
    carrier: Mutex<Option<MessageId>>,
}

/// Hands verified call events from `live` to the bot.
pub struct LiveSink {
    pub bot: Arc<Bot>,
    pub http: Arc<Http>,
}

impl CallEventSink for LiveSink {
    fn serves(&self, guild: u64) -> bool {
        guild != 0 && self.bot.access.server(Some(GuildId::new(guild))).is_ok()
    }

    fn call_events(&self, bridge: BridgeAddress, events: Vec<CallEvent>) {
        self.bot.call_events(self.http.clone(), bridge, events);
    }
}

impl Bot {
    /// Makes sure Graph sends this bridge's call events (in the background: the announcement never waits).
    pub(super) fn watch_bridge(&self, guild: Option<GuildId>, channel: ChannelId, join_url: &str) {
        let (Some(live), Some(guild)) = (self.live.clone(), guild) else { return };
        let bridge = BridgeAddress::new(guild.get(), channel.get(), join_url);
        let join_url = join_url.to_owned();
        self.track(async move { live.subscriptions.ensure(&bridge, &join_url).await });
    }

    /// Takes verified events for `bridge`: to its desk, started if it was not running.
    pub fn call_events(self: &Arc<Self>, http: Arc<Http>, bridge: BridgeAddress, events: Vec<CallEvent>) {
        let (desk, start) = {
            let mut desks = self.desks.desks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let start = !desks.contains_key(&bridge);
            let desk = desks.entry(bridge.clone()).or_default().clone();
            let mut pending = desk.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.extend(events);
            let excess = pending.len().saturating_sub(MAX_HELD);
            pending.drain(..excess);
            drop(pending);
            (desk, start)
        };
        desk.wake.notify_one();
        if start {
            let bot = self.clone();
            self.track(async move { bot.keep_current(&http, bridge, desk).await });
        }
    }

    /// The desk's loop (see the module docs); ends once its events are safely in the announcement and no
    /// more came.
    async fn keep_current(&self, http: &Http, bridge: BridgeAddress, desk: Arc<Desk>) {
        let Some(live) = self.live.clone() else { return };
        let mut held: Vec<CallEvent> = Vec::new();
        'collect: loop {
            tokio::select! {
                () = tokio::time::sleep(COALESCE) => {}
                () = self.stopping.cancelled() => {}
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
            self.fold_into_announcement(http, &live, &bridge, &desk, &held).await;
            for wait in VERIFY_AFTER {
                let stopping = self.stopping.is_cancelled();
                tokio::select! {
                    () = desk.wake.notified() => continue 'collect,
                    () = tokio::time::sleep(wait) => {}
                    // Shutting down: one last check now, not a wait the drain limit would cut short.
                    () = self.stopping.cancelled(), if !stopping => {}
                }
                self.fold_into_announcement(http, &live, &bridge, &desk, &held).await;
                if self.stopping.is_cancelled() {
                    break;
                }
            }
            let mut desks = self.desks.desks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if desk.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).is_empty() {
                desks.remove(&bridge);
                return;
            }
        }
    }

    /// One read, fold and (when something changed) edit of the announcement.
    async fn fold_into_announcement(
        &self,
        http: &Http,
        live: &LiveStatus,
        bridge: &BridgeAddress,
        desk: &Desk,
        held: &[CallEvent],
    ) {
        let channel = ChannelId::new(bridge.channel);
        let Some(message) = self.carrier(http, bridge, desk).await else {
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
        let carrier_url = state.encode(live.state_budget()).map(|encoded| live.carrier_url(&encoded));
        let mut embeds: Vec<CreateEmbed> = message
            .embeds
            .iter()
            .filter(|embed| !render::is_live_embed(embed))
            .cloned()
            .map(|mut embed| {
                // This one keeps the live status now: the pointer to "the pinned one" would send readers away.
                if embed.footer.as_ref().is_some_and(|footer| render::is_pointer(&footer.text)) {
                    embed.footer = None;
                }
                CreateEmbed::from(embed)
            })
            .take(9)
            .collect();
        let lang = self.server_lang(http, serenity::all::GuildId::new(bridge.guild)).await;
        embeds.extend(render::embed(&state, carrier_url, lang));
        let edit = || {
            let edit = EditMessage::new().embeds(embeds.clone()).allowed_mentions(CreateAllowedMentions::new());
            async move { channel.edit_message(http, message.id, edit).await.map(drop) }
        };
        match self.discord(edit).await {
            Ok(()) => {
                self.metrics.live_edit("edited");
                tracing::info!(channel_id = bridge.channel, live = state.is_live(), "live status updated");
            }
            Err(error) => {
                self.metrics.live_edit("failed");
                tracing::warn!(%error, "could not edit the announcement's live status");
                *desk.carrier.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
            }
        }
    }

    /// The announcement that keeps the bridge's live status, read now: the one this desk found before, or
    /// the bridge's pinned announcement (the oldest, if two), or its newest among the last messages.
    async fn carrier(&self, http: &Http, bridge: &BridgeAddress, desk: &Desk) -> Option<Message> {
        let channel = ChannelId::new(bridge.channel);
        let known = *desk.carrier.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(id) = known {
            match self.discord(|| http.get_message(channel, id)).await {
                Ok(message) => return Some(message),
                Err(error) => tracing::debug!(%error, "the live-status announcement could not be read; looking again"),
            }
        }
        let announces = |message: &Message| self.announces(message, |link| crate::live::tag_of(link) == bridge.tag);
        let pinned = self.discord(|| http.get_pins(channel)).await.ok().unwrap_or_default();
        let found = match pinned.into_iter().filter(announces).min_by_key(|m| m.id) {
            Some(message) => Some(message),
            None => {
                let recent = || channel.messages(http, GetMessages::new().limit(RECENT_MESSAGES));
                self.discord(recent).await.ok().unwrap_or_default().into_iter().filter(announces).max_by_key(|m| m.id)
            }
        };
        *desk.carrier.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = found.as_ref().map(|m| m.id);
        found
    }
}
