//! The public line a ring posts in the channel, edited as the ring goes: "Ringing Ada Lovelace…", then how it
//! ended.
//!
//! It is an embed whose title says it, linked to the bridge itself (clicking it joins the meeting the person is
//! rung into). The link carries, after `#`, which person was rung ([`marker`]): Teams ignores the fragment,
//! and every process can tell from the channel alone whether someone was rung on this bridge in the last
//! minute (see `on::ring`). The name is cleaned and escaped, and embeds never ping.

use serenity::all::{CreateEmbed, Embed};

use super::text::{clean_text, escape_markdown, limits, truncate};
use crate::l10n::{Lang, Msg};
use crate::ring::{Outcome, RingFailure};

/// What separates the join link from the person in [`marker`].
const MARKER: &str = "#meetnow-ring=";
/// How much of a name is shown.
const NAME_SHOWN: usize = 100;
const RINGING_BLUE: u32 = 0x0000_78D4;
const JOINED_GREEN: u32 = 0x002E_A043;
const NOT_JOINED_GREY: u32 = 0x0095_A5A6;
const FAILED_RED: u32 = 0x00D1_3438;

/// The line's link: the bridge's join link, and after [`MARKER`] the person's object id.
pub fn marker(join_url: &str, person_id: &str) -> String {
    format!("{join_url}{MARKER}{person_id}")
}

/// The marker of a ring line, if `embed` is one.
pub fn marker_of(embeds: &[Embed]) -> Option<&str> {
    embeds.first()?.url.as_deref().filter(|url| url.contains(MARKER))
}

/// Where the ring is.
pub enum Stage<'a> {
    Ringing,
    Ended(&'a Outcome),
}

/// The line for `name` at `stage`; `detail` replaces the line's second sentence (a failure's fix).
pub fn line(name: &str, marker: &str, stage: Stage<'_>, detail: Option<&str>, lang: Lang) -> CreateEmbed {
    let shown = escape_markdown(&truncate(&clean_text(name), NAME_SHOWN));
    let name = || [("name", shown.as_str().into())];
    let (title, description, colour) = match stage {
        Stage::Ringing => {
            (lang.format(Msg::RING_RINGING, &name()), Some(lang.text(Msg::RING_RINGING_DETAIL)), RINGING_BLUE)
        }
        Stage::Ended(Outcome::Joined) => (lang.format(Msg::RING_JOINED, &name()), None, JOINED_GREEN),
        Stage::Ended(Outcome::Declined) => (lang.format(Msg::RING_DECLINED, &name()), None, NOT_JOINED_GREY),
        Stage::Ended(Outcome::NoAnswer(waited)) => {
            let waited = lang.format(Msg::SECONDS, &[("seconds", waited.as_secs().into())]);
            let args = [("name", shown.as_str().into()), ("waited", waited.as_str().into())];
            (lang.format(Msg::RING_NO_ANSWER, &args), None, NOT_JOINED_GREY)
        }
        Stage::Ended(Outcome::Unreachable) => {
            (lang.format(Msg::RING_UNREACHABLE, &name()), Some(lang.text(Msg::RING_UNREACHABLE_DETAIL)), FAILED_RED)
        }
        Stage::Ended(Outcome::Failed(_)) => (lang.format(Msg::RING_FAILED, &name()), None, FAILED_RED),
    };
    let mut embed = CreateEmbed::new().title(truncate(&title, limits::EMBED_TITLE)).colour(colour);
    if marker.len() <= limits::EMBED_URL {
        embed = embed.url(marker);
    }
    if let Some(description) = detail.map(str::to_owned).or(description) {
        embed = embed.description(truncate(&description, limits::EMBED_DESCRIPTION));
    }
    embed
}

/// What a failed ring's line says under its title: the fix, in `lang`.
pub fn failure_detail(failure: &RingFailure, lang: Lang) -> String {
    match failure {
        RingFailure::Graph(error) if error.api().is_some_and(|api| api.status == 403) => {
            lang.text(Msg::RING_ERROR_FORBIDDEN)
        }
        RingFailure::Graph(error) => error.user_message_in(lang),
        RingFailure::BadLink | RingFailure::NotJoined(_) => lang.text(Msg::RING_ERROR_NOT_JOINED),
        RingFailure::Refused(info) => {
            let message = clean_text(info.message.as_deref().unwrap_or_default());
            let message = escape_markdown(&truncate(&message, 300));
            lang.format(Msg::RING_ERROR_REFUSED, &[("code", info.code.into()), ("message", message.as_str().into())])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn json(embed: CreateEmbed) -> serde_json::Value {
        serde_json::to_value(embed).unwrap()
    }

    #[test]
    fn the_line_names_the_person_inertly_and_links_the_bridge_with_its_marker() {
        let marker = marker("https://teams.microsoft.com/l/meetup-join/x", "0f0e-ada");
        let ringing = json(line("@everyone **Ada** <@1>", &marker, Stage::Ringing, None, Lang::ENGLISH));
        assert_eq!(ringing["title"], r"📞 Ringing \@everyone \*\*Ada\*\* \<\@1\>…");
        assert_eq!(ringing["url"], "https://teams.microsoft.com/l/meetup-join/x#meetnow-ring=0f0e-ada");
        let no_answer = Outcome::NoAnswer(Duration::from_secs(60));
        let ended = json(line("Ada Lovelace", &marker, Stage::Ended(&no_answer), None, Lang::ENGLISH));
        assert_eq!(ended["title"], "No answer from Ada Lovelace after 60 s");
        assert_eq!(ended["url"], ringing["url"], "the marker stays through every edit");
    }
}
