//! A new bridge's announcement pinned once per channel, whatever the number of commands and processes: in
//! this process the work is done once per channel and bridge (forty commands in a new channel make one pin's
//! worth of calls, not forty). Across processes Graph's answer decides: the command its createOrGet answered
//! 201 made the bridge, and pins it with one call, no read. A command that only infers from the times that
//! the bridge is new (it was made after the command was issued: another command made it, or this one's 201
//! was lost) checks the channel's pins before pinning and again after, and yields to any other pin of the
//! bridge. Its read-back comes after every other bot-token call waiting, so a burst of new channels costs one
//! call a pin.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ChannelId, Http, MessageId};
use tokio::time::Instant;

use super::calls::{discord_code, DiscordCalls};
use super::{Identity, Posted};
use crate::discord::transport::ratelimit::Priority;

/// Whether announcements of new bridges are pinned (`MEETNOW_PIN`), and the pin work done so far.
pub struct Pins {
    enabled: bool,
    work: PinWork,
}

impl Pins {
    pub fn new(enabled: bool) -> Self {
        Self { enabled, work: PinWork::default() }
    }

    /// Whether new bridges are pinned (`MEETNOW_PIN`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    /// Pins the announcement of a new bridge, once per bridge: two people typing `/meetnow` in a new channel
    /// at once, or a process finishing another's command, must not leave two pins. In this process the work is
    /// done once per channel and bridge (forty commands in a new channel make one pin, not forty). Across
    /// processes, the command whose request Graph answered 201 pins at once; any other that calls the bridge
    /// new (it was made after the command was issued) pins only if the channel's pins show no announcement of
    /// it, and unpins its own if one shows up when it reads them back.
    pub(in crate::discord) async fn pin_once(
        &self,
        calls: &DiscordCalls,
        identity: &Identity,
        http: &Http,
        job: PinJob,
    ) {
        let PinJob { posted, join_url, created_here } = job;
        let Some(_turn) = self.work.first_turn(posted.channel_id, &join_url).await else {
            return tracing::debug!("this process has pinned this bridge's announcement already");
        };
        let (channel, message) = (posted.channel_id, posted.message_id);
        // Graph answered this command's own request with 201: the bridge is this command's, no other command
        // is its creator, so no other process pins it as its creator; the answer tells all a read would. A
        // command that only infers from the times that the bridge is new (another command made it, or this
        // one's 201 was lost on the way) pins only if nobody has, and yields to any other pin seen afterwards.
        if !created_here {
            match self.pinned_announcements(calls, identity, http, channel, &join_url, Priority::InOrder).await {
                Ok(pinned) if pinned.iter().any(|&id| id != message) => {
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
        }
        let reason = "meetnow: new incident bridge";
        if let Err(error) = calls.bot_token(|| calls.hot().set_pinned(http, channel, message, true, reason)).await {
            // Usually the bot lacks Manage Messages (or Pin Messages) here; the announcement stands regardless.
            return tracing::warn!(%error, message_id = %message, "could not pin the announcement");
        }
        if created_here {
            return;
        }
        // The read-back waits behind every other bot-token call: the pin is on screen already, and under a
        // burst of new channels the other channels' pins must not wait for it.
        let pinned = match self
            .pinned_announcements(calls, identity, http, channel, &join_url, Priority::AfterTheRest)
            .await
        {
            Ok(pinned) => pinned,
            Err(PinsUnread::Forbidden) => return,
            Err(PinsUnread::Failed(error)) => {
                return tracing::warn!(%error, "could not read the pins back; a second pin made at the same moment stays");
            }
        };
        if pinned.iter().any(|&id| id != message) {
            let reason = "meetnow: this bridge is pinned already";
            if let Err(error) = calls.bot_token(|| calls.hot().set_pinned(http, channel, message, false, reason)).await
            {
                tracing::warn!(%error, message_id = %message, "could not unpin a second pin of the bridge");
            }
        }
    }

    /// The ids of the pinned messages in `channel` that announce `meeting`: this bot's own messages whose
    /// embed links its join URL (another bot's, or a webhook's, could copy the embed to block the pin). A read
    /// that fails is tried again, twice; then it is [`PinsUnread::Failed`], never an empty list.
    async fn pinned_announcements(
        &self,
        calls: &DiscordCalls,
        identity: &Identity,
        http: &Http,
        channel: ChannelId,
        join_url: &str,
        priority: Priority,
    ) -> Result<Vec<MessageId>, PinsUnread> {
        let read = || async move {
            let pins = calls.hot().pins(http, channel, priority).await?;
            Ok(pins.iter().filter(|m| identity.announces_pinned(m, |link| link == join_url)).map(|m| m.id).collect())
        };
        let mut attempt = 1;
        loop {
            let result = match priority {
                Priority::InOrder => calls.bot_token(read).await,
                Priority::AfterTheRest => calls.late_bot_token(read).await,
            };
            match result {
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
}

/// What pinning a new bridge's announcement needs: where it is, and the bridge's join link. All a command
/// keeps while it waits its turn to pin.
pub(in crate::discord) struct PinJob {
    pub(in crate::discord) posted: Posted,
    pub(in crate::discord) join_url: String,
    /// Graph answered this process's request with 201: the bridge is this command's own.
    pub(in crate::discord) created_here: bool,
}

/// Reads of a channel's pins before giving up, and the pause between them.
const PIN_READ_ATTEMPTS: u32 = 3;
const PIN_READ_PAUSE: Duration = Duration::from_millis(500);

/// Why the pins could not be read.
enum PinsUnread {
    /// The bot may not read them (50001, 50013): pinning may still work.
    Forbidden,
    /// Anything else, after retries: nothing is known.
    Failed(String),
}

/// The pin work this process has done or is doing, per channel and bridge, for [`PIN_MEMORY`].
#[derive(Default)]
struct PinWork {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_turn_per_channel_and_bridge_and_the_rest_wait_for_it() {
        let work = std::sync::Arc::new(PinWork::default());
        let (channel, other) = (ChannelId::new(1), ChannelId::new(2));
        let turn = work.first_turn(channel, "https://teams/a").await.expect("the first turn");
        let waiting = tokio::spawn({
            let work = work.clone();
            async move { work.first_turn(channel, "https://teams/a").await.is_none() }
        });
        assert!(work.first_turn(other, "https://teams/a").await.is_some(), "another channel has its own");
        assert!(work.first_turn(channel, "https://teams/b").await.is_some(), "another bridge has its own");
        drop(turn);
        assert!(waiting.await.unwrap(), "a later command waited for the work and was told it is done");
    }
}
