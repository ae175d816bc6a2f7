//! `ring:` being typed: Discord's autocomplete (an interaction of type 4), answered with up to 25 people from
//! the directory (type 8), within Discord's three seconds whatever Graph does.
//!
//! - Only for someone who may use the bot (allowed servers and roles, as everywhere) and only with ringing
//!   on: anyone else gets no choices, and the directory is not asked.
//! - Graph gets [`SUGGEST_WITHIN`]; past it the answer is what the bot already knows for those words
//!   (`bot::directory`), and the search goes on in the background, for the next keystroke.
//! - A choice reads `Display Name (mail)`; its value is the person's object id, which the command then looks
//!   up (anything else typed is read as an e-mail address or sign-in name).

use std::time::Duration;

use serenity::all::{
    AutocompleteChoice, CommandInteraction, CreateAutocompleteResponse, CreateInteractionResponse, Http,
};

use crate::discord::access::Asker;
use crate::discord::bot::directory::words_of;
use crate::discord::bot::{Bot, FirstResponse, Unacknowledged};
use crate::discord::render::text::{clean_text, truncate};
use crate::graph::Person;
use crate::telemetry::Chain;

/// How long Graph has before the answer goes with what is known: Discord allows three seconds, from its
/// side, for the whole round trip.
pub const SUGGEST_WITHIN: Duration = Duration::from_millis(1500);
/// The longest query searched: Discord allows 100 characters in a choice, and nobody's name needs more.
const QUERY_MAX: usize = 100;
/// Discord's limits on a choice's name and value.
const CHOICE_MAX: usize = 100;

fn choice(person: &Person) -> Option<AutocompleteChoice> {
    if person.id.len() > CHOICE_MAX {
        return None;
    }
    let name = clean_text(&person.display_name);
    let label = match person.address() {
        Some(address) => format!("{name} ({})", clean_text(address)),
        None => name,
    };
    Some(AutocompleteChoice::new(truncate(&label, CHOICE_MAX), person.id.clone()))
}

impl Bot {
    /// Answers one autocomplete of `/meetnow` (see the module docs).
    pub(crate) async fn suggest(&self, http: &Http, interaction: &CommandInteraction, first: FirstResponse) {
        let people = self.suggestions_for(interaction).await;
        let choices: Vec<AutocompleteChoice> = people.iter().filter_map(choice).collect();
        let response = CreateInteractionResponse::Autocomplete(CreateAutocompleteResponse::new().set_choices(choices));
        let sent = self
            .respond_first(first, response, |response| {
                self.calls.hot().first_response(http, interaction.id, &interaction.token, response)
            })
            .await;
        match sent {
            Ok(()) | Err(Unacknowledged::AnsweredElsewhere) => {}
            Err(Unacknowledged::Failed(error)) => tracing::debug!(%error, "could not answer an autocomplete"),
        }
    }

    async fn suggestions_for(&self, interaction: &CommandInteraction) -> Vec<Person> {
        let roles = interaction.member.as_ref().map(|m| m.roles.as_slice()).unwrap_or_default();
        if self.ringer.is_none() || self.access.decide(interaction.guild_id, Asker::Member(roles)).is_err() {
            self.metrics.suggestions("refused");
            return Vec::new();
        }
        let Some(typed) = interaction.data.autocomplete().filter(|option| option.name == "ring").map(|o| o.value)
        else {
            return Vec::new();
        };
        let words = words_of(&truncate(&clean_text(typed), QUERY_MAX));
        if words.is_empty() {
            self.metrics.suggestions("none");
            return Vec::new();
        }
        let graph = self.graph.clone();
        let query = words.clone();
        let mut search = Box::pin(async move { graph.search_people(&query).await });
        match tokio::time::timeout(SUGGEST_WITHIN, &mut search).await {
            Ok(Ok(people)) => {
                self.directory.remember(&words, people.clone());
                self.metrics.suggestions("directory");
                return people;
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %Chain(&error), kind = error.kind(), "could not search the directory");
            }
            Err(_) if self.directory.start(&words) => {
                // Slow: answer with what is known, and let the search finish for the next keystroke.
                let directory = self.directory.clone();
                let words = words.clone();
                tokio::spawn(async move {
                    if let Ok(people) = search.await {
                        directory.remember(&words, people);
                    }
                    directory.done(&words);
                });
            }
            Err(_) => {}
        }
        let known = self.directory.known(&words);
        self.metrics.suggestions(if known.is_empty() { "none" } else { "known" });
        known
    }
}
