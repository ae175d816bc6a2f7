//! A click on **Attendance**: a private "thinking…" at once (Graph may take longer than Discord's three
//! seconds), then the bridge's calls and who was on them, told only to whoever clicked.

use serenity::all::{
    ComponentInteraction, CreateAllowedMentions, CreateInteractionResponse, CreateInteractionResponseMessage,
    EditInteractionResponse, Http,
};
use tracing::Instrument as _;

use crate::discord::access::Asker;
use crate::discord::bot::{Bot, FirstResponse, Unacknowledged};
use crate::discord::render::{attendance_answer, text};
use crate::l10n::{Lang, Msg};
use crate::telemetry::Chain;

impl Bot {
    /// Answers one click, privately (see the module docs). Any error becomes the answer's sentence.
    pub(crate) async fn answer_attendance(&self, http: &Http, click: &ComponentInteraction, first: FirstResponse) {
        let span = tracing::info_span!("attendance", interaction_id = %click.id, channel_id = %click.channel_id, user_id = %click.user.id);
        async {
            // Private: in the clicker's language.
            let lang = Lang::or_english(Some(&click.locale));
            let roles = click.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
            if let Err(refusal) = self.access.decide(click.guild_id, Asker::Member(roles)) {
                tracing::info!(reason = refusal.reason(), "refused an attendance click");
                self.metrics.command_failed(refusal.reason());
                let by_rest = |response| self.calls.hot().first_response(http, click.id, &click.token, response);
                return self.first_response_privately(first, &refusal.sentence(lang), by_rest).await;
            }
            let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
            match self
                .respond_first(first, defer, |response| {
                    self.calls.hot().first_response(http, click.id, &click.token, response)
                })
                .await
            {
                Ok(()) => {}
                // Another process answers it.
                Err(Unacknowledged::AnsweredElsewhere) => return,
                Err(Unacknowledged::Failed(error)) => {
                    return tracing::warn!(%error, "could not acknowledge the click");
                }
            }
            let join_url = click.message.embeds.first().and_then(|embed| embed.url.clone());
            let report = match join_url {
                None => Err(lang.text(Msg::ATTENDANCE_NO_BRIDGE)),
                Some(join_url) => self.attendance_of(&join_url, lang).await,
            };
            let edit = match report {
                Ok(embed) => EditInteractionResponse::new().embed(embed),
                Err(sentence) => {
                    EditInteractionResponse::new().content(text::truncate(&sentence, text::limits::CONTENT))
                }
            };
            let edit = &edit.allowed_mentions(CreateAllowedMentions::new());
            if let Err(error) =
                self.interaction(|| async move { click.edit_response(http, edit.clone()).await.map(drop) }).await
            {
                tracing::warn!(%error, "could not show the attendance");
            }
        }
        .instrument(span)
        .await;
    }

    /// The answer for the bridge with this join link, or the sentence that says what went wrong.
    async fn attendance_of(&self, join_url: &str, lang: Lang) -> Result<serenity::all::CreateEmbed, String> {
        let calls = async {
            let id = Box::pin(self.graph.meeting_id_by_join_url(join_url)).await?;
            Box::pin(self.graph.attendance(&id)).await
        };
        match calls.await {
            Ok(calls) => {
                tracing::info!(calls = calls.len(), "attendance shown");
                Ok(attendance_answer::answer(&calls, lang))
            }
            Err(error) => {
                tracing::warn!(error = %Chain(&error), kind = error.kind(), graph_request_id = error.request_id(), "could not read the attendance");
                self.metrics.command_failed(error.kind());
                Err(error.user_message_in(lang))
            }
        }
    }
}
