//! The live-status part of an announcement: a second embed showing the call's state, whose link carries
//! that state for the next process to merge into (see `live::state`).
//!
//! Pure functions, no I/O. Names come from Teams and are cleaned and escaped like everything else (see
//! [`super::text`]); times are Discord timestamps, so each reader sees them in their own time zone.

use serenity::all::{CreateEmbed, Embed};

use super::text::{clean_text, escape_markdown, limits, truncate};
use crate::live::state::{CallState, Presence, NAMES_SHOWN};

/// Green while the call runs, grey once it ended.
const LIVE_GREEN: u32 = 0x002D_7D46;
const ENDED_GREY: u32 = 0x0074_7F8D;

/// The longest name shown.
const NAME_SHOWN: usize = 40;

/// The footer of an announcement that is not the one keeping the live status.
pub const POINTER: &str = "Live status of this bridge: on its pinned announcement.";

/// The embed for `state`, linking `carrier_url` (which holds the state), or `None` before any call.
pub fn embed(state: &CallState, carrier_url: Option<String>) -> Option<CreateEmbed> {
    if state.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    let (title, colour) = if state.is_live() {
        if let Some(start) = state.started() {
            lines.push(format!("Started <t:{0}:t>, <t:{0}:R>.", start.div_euclid(1000)));
        }
        let on_call = state.with_presence(Presence::OnCall);
        let lobby = state.with_presence(Presence::Lobby);
        lines.push(match on_call.len() {
            0 => "Nobody is on the call right now.".to_owned(),
            1 => format!("**1 on the call:** {}", names(&on_call)),
            n => format!("**{n} on the call:** {}", names(&on_call)),
        });
        if !lobby.is_empty() {
            lines.push(format!("**Waiting in the lobby ({}):** {}", lobby.len(), names(&lobby)));
        }
        let title = match on_call.len() {
            1 => "Call in progress: 1 person".to_owned(),
            n => format!("Call in progress: {n} people"),
        };
        (title, LIVE_GREEN)
    } else {
        let mut ended = String::new();
        if let Some(end) = state.ended() {
            ended.push_str(&format!("Ended <t:{0}:t>, <t:{0}:R>", end.div_euclid(1000)));
            if let Some(start) = state.started() {
                ended.push_str(&format!(", after {}", duration(end - start)));
            }
            ended.push('.');
            lines.push(ended);
        }
        lines.push(match state.joined_count() {
            0 => "Nobody joined.".to_owned(),
            1 => "1 person joined.".to_owned(),
            n => format!("{n} people joined."),
        });
        lines.push("The bridge stays open: Join meeting starts the next call.".to_owned());
        ("Call ended".to_owned(), ENDED_GREY)
    };
    let mut embed = CreateEmbed::new()
        .title(title)
        .description(truncate(&lines.join("\n"), limits::EMBED_DESCRIPTION))
        .colour(colour);
    if let Some(url) = carrier_url.filter(|url| url.len() <= limits::EMBED_URL) {
        embed = embed.url(url);
    }
    Some(embed)
}

/// Up to [`NAMES_SHOWN`] names, inert, then "and N more".
fn names(people: &[&crate::live::state::Person]) -> String {
    let mut shown: Vec<String> = people
        .iter()
        .take(NAMES_SHOWN)
        .map(|p| match p.name.as_deref().map(clean_text).filter(|n| !n.is_empty()) {
            Some(name) => escape_markdown(&truncate(&name, NAME_SHOWN)),
            None => "(no display name)".to_owned(),
        })
        .collect();
    if people.len() > NAMES_SHOWN {
        shown.push(format!("and {} more", people.len() - NAMES_SHOWN));
    }
    shown.join(", ")
}

/// `1 h 12 min`, `42 min`, `under a minute`.
fn duration(millis: i64) -> String {
    let minutes = millis.max(0) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "under a minute".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Whether `embed` is a live-status part (its link carries a state).
pub fn is_live_embed(embed: &Embed) -> bool {
    embed.url.as_deref().is_some_and(|url| url.contains(crate::live::state::MARKER))
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
                key: key.to_string(),
                name: Some(name.to_string()),
                presence: *presence,
            })
            .collect();
        CallEvent { at, change: Change::Roster(changes) }
    }

    fn json(embed: CreateEmbed) -> serde_json::Value {
        serde_json::to_value(embed).unwrap()
    }

    #[test]
    fn nothing_before_the_first_call() {
        assert!(embed(&CallState::default(), None).is_none());
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
        let e = json(embed(&state, Some("https://bot.example/graph/live#meetnow-live-1.x".into())).unwrap());
        assert_eq!(e["title"], "Call in progress: 2 people");
        let text = e["description"].as_str().unwrap();
        assert!(text.starts_with("Started <t:1764558000:t>, <t:1764558000:R>."), "{text}");
        assert!(text.contains("\\@everyone \\[x\\](https\\://e.x) \\<\\@1\\>"), "{text}");
        assert!(text.contains("Bo \\# big") || text.contains("Bo # big"), "{text}");
        assert!(!text.contains('\u{202E}'));
        assert!(text.contains("**Waiting in the lobby (1):** Cy"), "{text}");
    }

    #[test]
    fn many_people_end_in_and_n_more() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 0, change: Change::Started });
        let who: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), format!("Person {i}"))).collect();
        let refs: Vec<(&str, &str, Presence)> =
            who.iter().map(|(k, n)| (k.as_str(), n.as_str(), Presence::OnCall)).collect();
        state.apply(&roster(1_000, &refs));
        let e = json(embed(&state, None).unwrap());
        assert!(e["description"].as_str().unwrap().contains(", and 25 more"));
    }

    #[test]
    fn an_ended_call_says_when_how_long_and_how_many() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 0, change: Change::Started });
        state.apply(&roster(1_000, &[("a", "Ana", Presence::OnCall), ("b", "Bo", Presence::OnCall)]));
        state.apply(&CallEvent { at: 72 * 60_000, change: Change::Ended });
        let e = json(embed(&state, None).unwrap());
        assert_eq!(e["title"], "Call ended");
        let text = e["description"].as_str().unwrap();
        assert!(text.contains("Ended <t:4320:t>, <t:4320:R>, after 1 h 12 min."), "{text}");
        assert!(text.contains("2 people joined."), "{text}");
    }
}
