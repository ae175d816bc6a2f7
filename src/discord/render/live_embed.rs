//! The live-status part of an announcement: a second embed showing the call's state, whose link carries
//! that state for the next process to merge into (see `live::state`).
//!
//! Pure functions, no I/O. Names come from Teams and are cleaned and escaped like everything else (see
//! [`super::text`]); times are Discord timestamps, so each reader sees them in their own time zone.

use serenity::all::{CreateEmbed, Embed};

use super::text::{clean_text, escape_markdown, limits, truncate};
use crate::l10n::{Lang, Msg};
use crate::live::state::{CallState, Presence, Shown, NAMES_SHOWN};

/// Green while the call runs, grey once it ended.
const LIVE_GREEN: u32 = 0x002D_7D46;
const ENDED_GREY: u32 = 0x0074_7F8D;

/// The longest name shown.
const NAME_SHOWN: usize = 40;

/// The footer of an announcement that is not the one keeping the live status, in `lang`.
pub fn pointer(lang: Lang) -> String {
    lang.text(Msg::LIVE_POINTER)
}

/// Whether `footer` is [`pointer`] in any language.
pub fn is_pointer(footer: &str) -> bool {
    Lang::all().any(|lang| footer == pointer(lang))
}

/// `<t:…:t>` and `<t:…:R>` of `at` (milliseconds).
fn stamps(at: i64) -> (String, String) {
    let seconds = at.div_euclid(1000);
    (format!("<t:{seconds}:t>"), format!("<t:{seconds}:R>"))
}

/// The embed for `state` in `lang`, linking `carrier_url` (which holds the state), or `None` before any call,
/// and after a call nobody joined: one only the bot was on (it rang someone who did not come) did not happen.
pub fn embed(state: &CallState, carrier_url: Option<String>, lang: Lang) -> Option<CreateEmbed> {
    if state.is_empty() || (!state.is_live() && state.joined_count() == 0) {
        return None;
    }
    let mut lines = Vec::new();
    let (title, colour) = if state.is_live() {
        if let Some(start) = state.started() {
            let (time, ago) = stamps(start);
            lines.push(lang.format(Msg::LIVE_STARTED, &[("time", time.as_str().into()), ("ago", ago.as_str().into())]));
        }
        let on_call = state.with_presence(Presence::OnCall);
        let lobby = state.with_presence(Presence::Lobby);
        lines.push(match on_call.len() {
            0 => lang.text(Msg::LIVE_NOBODY),
            n => {
                lang.format(Msg::LIVE_ON_CALL, &[("count", n.into()), ("names", names(&on_call, lang).as_str().into())])
            }
        });
        if !lobby.is_empty() {
            let shown = names(&lobby, lang);
            lines
                .push(lang.format(Msg::LIVE_LOBBY, &[("count", lobby.len().into()), ("names", shown.as_str().into())]));
        }
        let title = match on_call.len() {
            0 => lang.text(Msg::LIVE_TITLE_EMPTY),
            n => lang.format(Msg::LIVE_TITLE, &[("count", n.into())]),
        };
        (title, LIVE_GREEN)
    } else {
        if let Some(end) = state.ended() {
            let (time, ago) = stamps(end);
            let (time, ago) = (("time", time.as_str().into()), ("ago", ago.as_str().into()));
            lines.push(match state.started() {
                Some(start) => {
                    let lasted = duration(end - start, lang);
                    lang.format(Msg::ENDED_AT_AFTER, &[time, ago, ("duration", lasted.as_str().into())])
                }
                None => lang.format(Msg::ENDED_AT, &[time, ago]),
            });
        }
        lines.push(lang.format(Msg::ENDED_JOINED, &[("count", state.joined_count().into())]));
        lines.push(lang.text(Msg::ENDED_OPEN));
        (lang.text(Msg::ENDED_TITLE), ENDED_GREY)
    };
    let mut embed = CreateEmbed::new()
        .title(truncate(&title, limits::EMBED_TITLE))
        .description(truncate(&lines.join("\n"), limits::EMBED_DESCRIPTION))
        .colour(colour);
    if let Some(url) = carrier_url.filter(|url| url.len() <= limits::EMBED_URL) {
        embed = embed.url(url);
    }
    Some(embed)
}

/// Up to [`NAMES_SHOWN`] names, inert, joined as the language joins a list ("Ana, Bo", 「Ana、Bo」), then
/// "and N more" as the language says it.
fn names(people: &[Shown<'_>], lang: Lang) -> String {
    let shown: Vec<String> = people
        .iter()
        .take(NAMES_SHOWN)
        .map(|p| match p.name.map(clean_text).filter(|n| !n.is_empty()) {
            Some(name) => escape_markdown(&truncate(&name, NAME_SHOWN)),
            None => lang.text(Msg::NO_DISPLAY_NAME),
        })
        .collect();
    let listed = shown.join(&lang.text(Msg::LIST_SEPARATOR));
    match people.len().checked_sub(NAMES_SHOWN).filter(|&more| more > 0) {
        Some(more) => lang.format(Msg::LIVE_NAMES_MORE, &[("names", listed.as_str().into()), ("count", more.into())]),
        None => listed,
    }
}

/// `1 h 12 min`, `42 min`, `under a minute`.
fn duration(millis: i64, lang: Lang) -> String {
    let minutes = millis.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, 0) => lang.text(Msg::DURATION_UNDER_A_MINUTE),
        (0, m) => lang.format(Msg::DURATION_MINUTES, &[("minutes", m.into())]),
        (h, 0) => lang.format(Msg::DURATION_HOURS, &[("hours", h.into())]),
        (h, m) => lang.format(Msg::DURATION_HOURS_MINUTES, &[("hours", h.into()), ("minutes", m.into())]),
    }
}

/// Whether `embed` is a live-status part (its link carries a state).
pub fn is_live_embed(embed: &Embed) -> bool {
    embed.url.as_deref().is_some_and(crate::live::state::carries_state)
}

/// The state an announcement carries (empty when it carries none, or one that can't be read).
pub fn carried_state(embeds: &[Embed]) -> CallState {
    embeds.iter().filter_map(|e| e.url.as_deref()).find_map(CallState::decode).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::state::{CallEvent, Change, RosterChange};

    fn roster(at: i64, who: &[(&str, &str, Presence)]) -> CallEvent {
        let changes = who
            .iter()
            .map(|(key, name, presence)| RosterChange {
                person: key.to_string(),
                device: String::new(),
                name: Some(name.to_string()),
                presence: *presence,
                sequence: None,
            })
            .collect();
        CallEvent { at, change: Change::Roster(changes) }
    }

    fn json(embed: CreateEmbed) -> serde_json::Value {
        serde_json::to_value(embed).unwrap()
    }

    #[test]
    fn nothing_before_the_first_call() {
        assert!(embed(&CallState::default(), None, Lang::ENGLISH).is_none());
    }

    #[test]
    fn a_live_call_with_hostile_names_and_a_lobby() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 1_764_558_000_000, change: Change::Started });
        state.apply(&roster(
            1_764_558_001_000,
            &[
                ("a", "@everyone [x](https://e.x) <@1>", Presence::OnCall),
                ("b", "Bo\u{202E}\n# big", Presence::OnCall),
                ("c", "Cy", Presence::Lobby),
            ],
        ));
        let e =
            json(embed(&state, Some("https://bot.example/graph/live#meetnow-live-2.x".into()), Lang::ENGLISH).unwrap());
        assert_eq!(e["title"], "Call in progress: 2 people");
        let text = e["description"].as_str().unwrap();
        assert!(text.starts_with("Started at <t:1764558000:t> (<t:1764558000:R>)."), "{text}");
        assert!(text.contains("\\@everyone \\[x\\](https\\://e.x) \\<\\@1\\>"), "{text}");
        assert!(text.contains("Bo \\# big") || text.contains("Bo # big"), "{text}");
        assert!(!text.contains('\u{202E}'));
        assert!(text.contains("**In the lobby (1):** Cy"), "{text}");
    }

    #[test]
    fn many_people_end_in_and_n_more() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 0, change: Change::Started });
        let who: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), format!("Person {i}"))).collect();
        let refs: Vec<(&str, &str, Presence)> =
            who.iter().map(|(k, n)| (k.as_str(), n.as_str(), Presence::OnCall)).collect();
        state.apply(&roster(1_000, &refs));
        let e = json(embed(&state, None, Lang::ENGLISH).unwrap());
        assert!(e["description"].as_str().unwrap().contains("Person 0, Person 1, "));
        assert!(e["description"].as_str().unwrap().contains(", and 25 more"));
        // The list is joined, and the rest counted, as each language writes it.
        let chinese = json(embed(&state, None, Lang::named("zh-CN")).unwrap());
        let text = chinese["description"].as_str().unwrap();
        assert!(text.contains("Person 0、Person 1、") && text.ends_with("，另有 25 人"), "{text}");
        assert!(!text.contains(", "), "{text}");
        let russian = json(embed(&state, None, Lang::named("ru")).unwrap());
        assert!(russian["description"].as_str().unwrap().ends_with(" и ещё 25"), "{russian}");
    }

    #[test]
    fn an_ended_call_says_when_how_long_and_how_many() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 0, change: Change::Started });
        state.apply(&roster(1_000, &[("a", "Ana", Presence::OnCall), ("b", "Bo", Presence::OnCall)]));
        state.apply(&CallEvent { at: 72 * 60_000, change: Change::Ended });
        let e = json(embed(&state, None, Lang::ENGLISH).unwrap());
        assert_eq!(e["title"], "Call ended");
        let text = e["description"].as_str().unwrap();
        assert!(text.contains("Ended at <t:4320:t> (<t:4320:R>), after 1 h 12 min."), "{text}");
        assert!(text.contains("2 people joined."), "{text}");
    }
}
