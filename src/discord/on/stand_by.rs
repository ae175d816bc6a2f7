//! What a process does with a command it did not acknowledge: nothing visible, but the lobby settings of the
//! bridge it may have made, and, if the process that acknowledged it dies, the announcement (see the
//! module docs of `on::command`, "Several processes on one token").

use serenity::all::{CommandInteraction, Http, MessageFlags};
use time::OffsetDateTime;

use tokio::time::Instant;

use super::command::{apply, issued_at};
use crate::discord::bot::{Bot, PinJob, Unacknowledged};
use crate::discord::render::announcement::Kind;
use crate::graph::{GraphError, LobbyUpdate};
use crate::meeting::Meeting;
use crate::telemetry::Chain;

impl Bot {
    /// A command this process did not acknowledge and asked Graph nothing for.
    pub(in crate::discord) fn not_acknowledged(&self, refused: &Unacknowledged) {
        match refused {
            Unacknowledged::AnsweredElsewhere => tracing::debug!("another process answers this command"),
            Unacknowledged::Failed(error) => {
                // Most often 10062: the interaction expired before we got it. Nothing more can be said to the user.
                tracing::warn!(%error, "could not acknowledge the command; giving up on it");
                self.metrics.command_failed("acknowledgement");
            }
        }
    }

    /// After losing the acknowledgement of a standing bridge's command: apply the bridge's lobby settings,
    /// then, if another process answers it, look once after [`Bot::take_over_after`]. A reply still at
    /// "thinking…" then means that process died (a crash, a SIGKILL, a node lost); this one has the same
    /// bridge (createOrGet) and the interaction token, so it finishes the announcement. An answered or
    /// removed reply is left alone: the losing process leaves no trace.
    pub(in crate::discord) async fn stand_by(
        &self,
        http: &Http,
        command: &CommandInteraction,
        refused: Unacknowledged,
        found: Result<(Meeting, Option<LobbyUpdate>), GraphError>,
        fallback_subject: &str,
    ) -> Option<PinJob> {
        let meeting = match found {
            Ok((meeting, lobby)) => {
                // Now, not with the announcement: if the winner is alive, there will be none from here.
                apply(lobby).await;
                Some(meeting)
            }
            // The process that answers reports its own failure to the user.
            Err(error) => {
                tracing::debug!(error = %Chain(&error), "graph failed for a command this process did not acknowledge");
                None
            }
        };
        let (Unacknowledged::AnsweredElsewhere, Some(meeting)) = (&refused, meeting) else {
            self.not_acknowledged(&refused);
            return None;
        };
        tracing::debug!("another process answers this command; standing by");
        // Counted from when the command was issued, so a process that got it late does not look late too.
        let limit = self.take_over_after();
        let look_at = match issued_at(command) {
            Some(issued) => (issued + limit - OffsetDateTime::now_utc()).try_into().unwrap_or_default(),
            None => limit,
        };
        tokio::select! {
            () = tokio::time::sleep(look_at.min(limit)) => {}
            () = self.lifecycle.stopping().cancelled() => return None,
        }
        match self.interaction(|| http.get_original_interaction_response(&command.token)).await {
            // Only Discord's "thinking…" placeholder is unfinished: an edited reply, whatever it shows, is not.
            Ok(reply) if reply.flags.is_some_and(|flags| flags.contains(MessageFlags::LOADING)) => {}
            Ok(_) => {
                tracing::debug!("the other process answered the command");
                return None;
            }
            Err(error) => {
                tracing::debug!(%error, "the reply is gone; nothing to finish");
                return None;
            }
        }
        tracing::warn!(meeting_id = %meeting.id, "the process that acknowledged this command did not announce it; finishing it");
        // The lobby was applied above.
        self.announce_bridge(http, command, meeting, None, Kind::Standing, fallback_subject, Instant::now())
            .await
            .flatten()
    }
}
