//! What happens when someone types `/meetnow`: checks, defer and Graph together, announcement, pin.
//!
//! One handler for every way a command arrives: over the gateway (the first response goes by REST) and
//! over Discord's interactions endpoint (it goes back in the HTTP answer); see `FirstResponse`. The
//! functions take `&Http` and `&CommandInteraction` rather than serenity's `Context`, so both paths, and
//! tests, run the same code. Failures reach the invoker as an ephemeral sentence; the channel never gets a
//! half-made announcement or a placeholder link.
//!
//! # Several processes on one token
//!
//! Over the gateway Discord sends every command to every process; the first to acknowledge it answers, and
//! Discord refuses the others (40060). Nothing here depends on which process that is, or on memory:
//! - the lobby settings converge from what Graph returns (see `GraphClient::meeting_now`), so a process that
//!   lost the race still finishes its Graph call and applies them;
//! - whether a bridge is new to the channel comes from Graph's `creationDateTime` against the command's own
//!   time, not from which process saw the 201 ([`is_new_to_the_channel`]);
//! - "pinned once" is checked against the channel's pins (`Pins::pin_once`);
//! - a process that lost the race stands by: if the reply is still "thinking…" once the winner should long
//!   have answered (it may have been killed), it finishes the announcement with the same bridge.

use std::time::Duration;

use serenity::all::{CommandInteraction, CreateEmbedFooter, CreateInteractionResponse, Http};
use time::OffsetDateTime;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::discord::access::Asker;
use crate::discord::bot::{Bot, FirstResponse, Languages, PinJob, RingJob, Then};
use crate::discord::meetnow;
use crate::discord::render::announcement::{self, Kind};
use crate::discord::render::live_embed;
use crate::graph::LobbyUpdate;
use crate::l10n::Msg;
use crate::live::bridge_subscriptions::Ensure;
use crate::meeting::{Meeting, MeetingKey, MeetingRequest, Origin};
use crate::telemetry::Chain;

/// How long a shutting-down process waits before telling a new command it is restarting: long enough for
/// another process on the same token to answer it first, well within Discord's three seconds.
const DRAINING_GRACE: Duration = Duration::from_millis(1500);

/// Milliseconds from the Unix epoch to Discord's (2015-01-01), for the time inside a snowflake.
pub(in crate::discord) const DISCORD_EPOCH_MS: i128 = 1_420_070_400_000;

/// When the command was issued: the time inside its snowflake id, Discord's own clock.
pub(in crate::discord) fn issued_at(command: &CommandInteraction) -> Option<OffsetDateTime> {
    let millis = i128::from(command.id.get() >> 22) + DISCORD_EPOCH_MS;
    OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()
}

/// Whether the bridge was made for this command rather than before it: Graph said it created it, or its
/// `creationDateTime` is no earlier than the command was issued. The second half matters when several
/// processes answer: the one that won the acknowledgement may have been told 200 by Graph because another
/// process's createOrGet, for the same command, made the bridge a moment before. That process received the
/// command after Discord issued it and then asked Graph, so the bridge is created a network round trip or two
/// after the command: Discord's and Microsoft's clocks (both NTP-synchronised) would have to be further apart
/// than that to call it old. A bridge made by an earlier command, even milliseconds earlier, is not new.
pub fn is_new_to_the_channel(meeting: &Meeting, issued: Option<OffsetDateTime>) -> bool {
    meeting.origin == Origin::Created
        || matches!((meeting.created_at, issued), (Some(created), Some(issued)) if created >= issued)
}

/// Applies a pending lobby update, if any (boxed, like every call the bot makes).
pub(in crate::discord) async fn apply(lobby: Option<LobbyUpdate>) {
    if let Some(lobby) = lobby {
        Box::pin(lobby.apply()).await;
    }
}

impl Bot {
    /// How long after a command a process that lost the acknowledgement race looks whether the winner
    /// announced it (see [`Bot::stand_by`]): the winner answers within Graph's budget plus an edit.
    pub(in crate::discord) fn take_over_after(&self) -> Duration {
        self.graph.retry_policy().budget + Duration::from_secs(2)
    }

    /// Answers one `/meetnow` in its span, and returns what it still needs: the pin, the ring.
    pub(in crate::discord) async fn answer_in_span(
        &self,
        http: &Http,
        command: &CommandInteraction,
        first: FirstResponse,
    ) -> Then {
        let span = tracing::info_span!(
            "interaction",
            interaction_id = %command.id,
            guild_id = command.guild_id.map(|g| g.get()),
            channel_id = %command.channel_id,
            user_id = %command.user.id,
        );
        self.answer(http, command, first).instrument(span).await
    }

    async fn answer(&self, http: &Http, command: &CommandInteraction, first: FirstResponse) -> Then {
        let received = Instant::now();
        self.metrics.command_received();
        if !self.lifecycle.accepting() {
            // Another process on the same token may be up: give it the chance to answer first, so a rolling
            // restart shows nobody this note. Alone, this process still answers within Discord's deadline.
            tokio::time::sleep(DRAINING_GRACE).await;
            let note = Languages::personal(command).text(Msg::RESTARTING);
            self.reply_privately(http, command, first, &note).await;
            return Then::default();
        }
        let roles = command.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
        let guild_id = match self.access.decide(command.guild_id, Asker::Member(roles)) {
            Ok(guild_id) => guild_id,
            Err(refusal) => {
                tracing::info!(reason = refusal.reason(), "refused a command");
                self.metrics.command_failed(refusal.reason());
                self.reply_privately(http, command, first, &refusal.sentence(Languages::personal(command))).await;
                return Then::default();
            }
        };
        let options = match meetnow::options(command) {
            Ok(options) => options,
            Err(problem) => {
                self.reply_privately(http, command, first, &problem.sentence(Languages::personal(command))).await;
                return Then::default();
            }
        };

        if options.ring.is_some() && self.ringer.is_none() {
            self.metrics.ring_finished("refused");
            self.reply_privately(http, command, first, &Languages::personal(command).text(Msg::RING_OFF)).await;
            return Then::default();
        }

        let kind = if options.new { Kind::Separate } else { Kind::Standing };
        let channel_name = command.channel.as_ref().and_then(|c| c.name.as_deref());
        let fallback_subject = announcement::default_subject(channel_name, self.languages.channel(command));
        let (guild, channel) = (guild_id.get(), command.channel_id.get());
        let key = match kind {
            Kind::Standing => MeetingKey::for_channel(guild, channel),
            Kind::Separate => MeetingKey::for_command(guild, channel, command.id.get()),
        };
        let request =
            MeetingRequest { subject: options.subject.unwrap_or_else(|| fallback_subject.clone()), key: Some(key) };

        // Acknowledge (Graph can take longer than Discord's three seconds) and ask Graph for the standing bridge
        // at the same time, so the link waits for the slower of the two round trips, not for their sum. If the
        // acknowledgement fails, that bridge is still the one the user's retry gets. A separate bridge is keyed
        // by the command, so the same command handled twice (a replay to another process) gets one meeting;
        // still, it is asked for only once the command is acknowledged: an expired command, or one another
        // process answers, must not leave a bridge nobody sees. The Graph call is boxed, like every call in
        // `discord`: a command waiting its turn holds a few KB, not the call's state.
        let ask_early = kind == Kind::Standing;
        let mut meeting_call = Box::pin(self.graph.meeting_now(&request));
        let defer = CreateInteractionResponse::Defer(Default::default());
        let acknowledge = self.respond_first(first, defer, |response| {
            self.calls.hot().first_response(http, command.id, &command.token, response)
        });
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
        // The command is ours: who to ring is looked up while the bridge is found and announced.
        let lookup;
        let found = match acknowledged {
            Ok(()) => {
                lookup = options.ring.as_deref().map(|query| crate::discord::on::ring::look_up(&self.graph, query));
                match found {
                    Some(answer) => answer,
                    None => meeting_call.await,
                }
            }
            Err(refused) if ask_early => {
                // Not ours to announce, but the bridge's lobby settings must not depend on which process
                // answered: finish the Graph call and apply them, then stand by in case the winner dies.
                let found = match found {
                    Some(answer) => answer,
                    None => meeting_call.await,
                };
                let pin = self.stand_by(http, command, refused, found, &fallback_subject).await;
                return Then { pin, ring: None };
            }
            Err(refused) => {
                self.not_acknowledged(&refused);
                return Then::default();
            }
        };

        let (meeting, lobby) = match found {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(
                    error = %Chain(&error), kind = error.kind(), graph_request_id = error.request_id(),
                    "could not get a meeting"
                );
                self.metrics.command_failed(error.kind());
                self.fail_privately(http, command, &error.user_message_in(Languages::personal(command))).await;
                return Then::default();
            }
        };
        let join_url = meeting.join_url.clone();
        let Some(pin) = self.announce_bridge(http, command, meeting, lobby, kind, &fallback_subject, received).await
        else {
            return Then::default();
        };
        let ring = options
            .ring
            .zip(lookup)
            .map(|(query, lookup)| RingJob::new(command, query, lookup, join_url, self.languages.channel(command)));
        Then { pin, ring }
    }

    /// Edits the reply to `command` into the announcement of `meeting` (new to the channel or not, by Graph's
    /// times), applying `lobby` meanwhile, and returns the pin a new bridge's announcement still needs
    /// (`None` when nothing was posted; `Some(None)` when no pin is). Both the process that acknowledged the
    /// command and one finishing it for a dead process come here.
    #[allow(clippy::too_many_arguments)] // each is one fact about this announcement
    pub(in crate::discord) async fn announce_bridge(
        &self,
        http: &Http,
        command: &CommandInteraction,
        mut meeting: Meeting,
        lobby: Option<LobbyUpdate>,
        kind: Kind,
        fallback_subject: &str,
        received: Instant,
    ) -> Option<Option<PinJob>> {
        let created_here = meeting.origin == Origin::Created;
        let new_to_the_channel = is_new_to_the_channel(&meeting, issued_at(command));
        if new_to_the_channel {
            meeting.origin = Origin::Created;
        }
        // Show the link now; the lobby settings, if they still need applying, are applied meanwhile.
        let lang = self.languages.channel(command);
        let mut announcement = announcement::announcement(&meeting, kind, fallback_subject, lang);
        if self.live.is_some() && self.pins.enabled() && !new_to_the_channel {
            // The bridge's first announcement is pinned and keeps its live status; this one points there.
            announcement.embed = announcement.embed.footer(CreateEmbedFooter::new(live_embed::pointer(lang)));
        }
        let (posted, ()) = tokio::join!(self.announce(http, command, announcement), apply(lobby));
        let Some(posted) = posted else {
            tracing::error!(meeting_id = %meeting.id, "could not post the announcement at all");
            self.metrics.command_failed("announcement");
            return None;
        };
        tracing::info!(
            meeting_id = %meeting.id,
            origin = ?meeting.origin,
            graph_request_id = meeting.request_id.as_deref(),
            elapsed_ms = received.elapsed().as_millis() as u64,
            "bridge announced"
        );
        self.metrics.meeting_announced(new_to_the_channel);
        // Someone typed it: a call is about to start, so Graph is asked whether the subscription still exists.
        self.watch_bridge(command.guild_id, command.channel_id, &meeting.join_url, Ensure::Typed);
        Some((self.pins.enabled() && new_to_the_channel).then_some(PinJob {
            posted,
            join_url: meeting.join_url,
            created_here,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn meeting(origin: Origin, created_at: Option<OffsetDateTime>) -> Meeting {
        Meeting {
            id: "m".into(),
            subject: None,
            join_url: "https://teams.microsoft.com/l/meetup-join/x".into(),
            starts_at: None,
            ends_at: None,
            created_at,
            external_id: None,
            dial_in: None,
            join_by_id: None,
            origin,
            request_id: None,
        }
    }

    #[test]
    fn a_bridge_is_new_when_created_for_the_command_whoever_created_it() {
        let issued = Some(datetime!(2026-11-23 03:00:00.000 UTC));
        let by_another_process = meeting(Origin::Reused, Some(datetime!(2026-11-23 03:00:00.180 UTC)));
        assert!(is_new_to_the_channel(&by_another_process, issued));
        let by_an_earlier_command = meeting(Origin::Reused, Some(datetime!(2026-11-23 02:59:59.990 UTC)));
        assert!(!is_new_to_the_channel(&by_an_earlier_command, issued));
        assert!(is_new_to_the_channel(&meeting(Origin::Created, None), issued));
        assert!(!is_new_to_the_channel(&meeting(Origin::Reused, None), issued));
    }
}
