//! Graph's call events, verified and decrypted by `live`, arriving at the bot: each goes to its bridge's
//! desk (`bot::live_desks`), which folds them into the announcement that keeps the bridge's live status.

use std::sync::Arc;

use serenity::all::{GuildId, Http};

use crate::discord::bot::Bot;
use crate::live::{BridgeAddress, CallEvent, CallEventSink};

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
    /// Takes verified events for `bridge`: to its desk, started if it was not running.
    pub fn call_events(self: &Arc<Self>, http: Arc<Http>, bridge: BridgeAddress, events: Vec<CallEvent>) {
        let (desk, start) = {
            let mut desks = self.desks.desks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let start = !desks.contains_key(&bridge);
            let desk = desks.entry(bridge.clone()).or_default().clone();
            let mut pending = desk.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pending.extend(events);
            let excess = pending.len().saturating_sub(crate::discord::bot::MAX_HELD);
            pending.drain(..excess);
            drop(pending);
            self.metrics.live_calls_in_hand(desks.len());
            (desk, start)
        };
        desk.wake.notify_one();
        if start {
            let bot = self.clone();
            self.lifecycle.track(async move { bot.keep_current(&http, bridge, desk).await });
        }
    }
}
