//! `/meetnow ring:X`, after the bridge is announced: who X is, one public line saying they are being rung,
//! the ring itself (`crate::ring`), and the line edited into how it ended.
//!
//! Never twice by accident, with no shared state: the line is posted first, then the channel's latest
//! messages are read. A line of the bot's own for the same person on the same bridge, older than this one
//! by less than a minute (Discord's clock, in the snowflakes), means this ring is a repeat (a double click,
//! a second process, a retry): its line is deleted and the invoker told privately. Of two rings posted at
//! once, the one Discord numbered first rings; the other sees it and yields. Every edit is a channel edit
//! with the bot token, so outcomes after the interaction token's 15 minutes still land.
//!
//! Refusals reach only the invoker, as a follow-up to their command (seconds after it, well within the
//! token's life).

use serenity::all::{ChannelId, CreateAllowedMentions, CreateMessage, EditMessage, GetMessages, Http, MessageId};
use tracing::Instrument as _;

use crate::discord::bot::{Bot, RingJob};
use crate::discord::meetnow::inert_query;
use crate::discord::render::ring_line::{self, Stage};
use crate::discord::render::text;
use crate::graph::{GraphClient, GraphError, Person};
use crate::l10n::Msg;
use crate::ring::Outcome;
use crate::telemetry::Chain;

/// How long after a ring the same person can't be rung on the same bridge again.
const REPEAT_WINDOW_MS: u64 = 60_000;
/// How many of the channel's latest messages are read for an earlier ring: a minute of an incident channel.
const RECENT_MESSAGES: u8 = 50;

/// Whether `text` is an Entra object id (a GUID).
fn is_object_id(text: &str) -> bool {
    crate::config::parse::is_guid(text)
}

/// When a snowflake was made, in milliseconds of Discord's epoch.
fn made_at(id: MessageId) -> u64 {
    id.get() >> 22
}

/// Starts looking up the person `query` names, in a task of its own: an object id (a suggestion picked), an
/// e-mail address or user principal name, or else a name the directory finds exactly one person for.
pub(in crate::discord) fn look_up(
    graph: &GraphClient,
    query: &str,
) -> tokio::task::JoinHandle<Result<Option<Person>, GraphError>> {
    let (graph, query) = (graph.clone(), query.to_owned());
    tokio::spawn(async move {
        if is_object_id(&query) || query.contains('@') {
            return graph.person(&query).await;
        }
        let mut found = graph.search_people(&query).await?;
        Ok((found.len() == 1).then(|| found.remove(0)))
    })
}

impl Bot {
    /// Rings as `job` says (see the module docs), in a span of its own.
    pub(in crate::discord) async fn ring_in(&self, http: &Http, mut job: RingJob) {
        let span = tracing::info_span!("ring", channel_id = %job.channel_id);
        self.ring_in_span(http, &mut job).instrument(span).await;
    }

    async fn ring_in_span(&self, http: &Http, job: &mut RingJob) {
        let Some(ringer) = self.ringer.clone() else { return };
        let found = match (&mut job.lookup).await {
            Ok(found) => found,
            Err(stopped) => Err(GraphError::unavailable(format!("the lookup stopped: {stopped}"))),
        };
        let job = &*job;
        let person = match found {
            Ok(Some(person)) => person,
            Ok(None) => {
                self.metrics.ring_finished("not_found");
                let sentence =
                    job.personal.format(Msg::RING_NOT_FOUND, &[("query", inert_query(&job.query).as_str().into())]);
                return self.tell_invoker(http, job, &sentence).await;
            }
            Err(error) => {
                tracing::warn!(error = %Chain(&error), kind = error.kind(), "could not look the person up");
                self.metrics.ring_finished("failed");
                let sentence = if error.api().is_some_and(|api| api.status == 403) {
                    job.personal.text(Msg::RING_DIRECTORY_FORBIDDEN)
                } else {
                    error.user_message_in(job.personal)
                };
                return self.tell_invoker(http, job, &sentence).await;
            }
        };
        let Some(slot) = ringer.slot() else {
            self.metrics.ring_finished("busy");
            return self.tell_invoker(http, job, &job.personal.text(Msg::RING_BUSY)).await;
        };
        let marker = ring_line::marker(&job.join_url, &person.id);
        let ringing = ring_line::line(&person.display_name, &marker, Stage::Ringing, None, job.lang);
        let channel = job.channel_id;
        let send = || {
            let message = CreateMessage::new().embed(ringing.clone()).allowed_mentions(CreateAllowedMentions::new());
            async move { channel.send_message(http, message).await.map(|m| m.id) }
        };
        let line = match self.discord(send).await {
            Ok(id) => id,
            Err(error) => {
                // Without its line a ring could not be told from a repeat, nor its outcome shown.
                tracing::warn!(%error, "could not post the ring's line; not ringing");
                self.metrics.ring_finished("failed");
                return self.tell_invoker(http, job, &job.personal.text(Msg::RING_ERROR_NOT_JOINED)).await;
            }
        };
        if let Some(earlier) = self.earlier_ring(http, channel, line, &marker).await {
            let _ = self.discord(|| channel.delete_message(http, line)).await;
            self.metrics.ring_finished("repeat");
            let seconds = (i128::from(made_at(earlier)) + super::command::DISCORD_EPOCH_MS) / 1000;
            let ago = format!("<t:{seconds}:R>");
            let name = text::escape_markdown(&text::truncate(&text::clean_text(&person.display_name), 100));
            let args = [("name", name.as_str().into()), ("ago", ago.as_str().into())];
            return self.tell_invoker(http, job, &job.personal.format(Msg::RING_REPEAT, &args)).await;
        }
        tracing::info!("ringing someone into the bridge");
        let outcome = ringer.ring(&job.join_url, &person, &slot).await;
        drop(slot);
        tracing::info!(outcome = outcome.label(), "ring ended");
        let detail = match &outcome {
            Outcome::Failed(failure) => {
                tracing::warn!(error = %Chain(failure), "the ring failed");
                Some(ring_line::failure_detail(failure, job.lang))
            }
            _ => None,
        };
        let ended = ring_line::line(&person.display_name, &marker, Stage::Ended(&outcome), detail.as_deref(), job.lang);
        let edit = || {
            let edit = EditMessage::new().embed(ended.clone()).allowed_mentions(CreateAllowedMentions::new());
            async move { channel.edit_message(http, line, edit).await.map(drop) }
        };
        if let Err(error) = self.discord(edit).await {
            tracing::warn!(%error, "could not show how the ring ended");
        }
    }

    /// The bot's own line for the same ring (`marker`) posted less than a minute before `line`, if any.
    async fn earlier_ring(&self, http: &Http, channel: ChannelId, line: MessageId, marker: &str) -> Option<MessageId> {
        let read = || async move { channel.messages(http, GetMessages::new().limit(RECENT_MESSAGES)).await };
        let recent = match self.discord(read).await {
            Ok(recent) => recent,
            Err(error) => {
                // Unknown either way: ringing is what was asked for.
                tracing::warn!(%error, "could not read the channel for an earlier ring; ringing");
                return None;
            }
        };
        recent
            .iter()
            .filter(|m| m.id < line && made_at(line).saturating_sub(made_at(m.id)) < REPEAT_WINDOW_MS)
            .filter(|m| self.identity.is_own(m.author.id) && ring_line::marker_of(&m.embeds) == Some(marker))
            .map(|m| m.id)
            .min()
    }

    /// An ephemeral follow-up to the command that asked for the ring.
    async fn tell_invoker(&self, http: &Http, job: &RingJob, sentence: &str) {
        if let Err(error) = self.follow_up_privately(http, &job.token, sentence).await {
            tracing::warn!(%error, "could not tell the invoker about the ring");
        }
    }
}
