//! The announcement: a [`Meeting`] rendered as a Discord embed with link buttons.
//!
//! Pure functions, no I/O. Everything that comes from people or from Graph is cleaned (with [`super::text`])
//! so it fits Discord's limits (titles 256, field values 1024, button URLs 512) and can't render as a link,
//! heading or mention. The join link Graph returned is the only link in the message.

use serenity::all::{CreateActionRow, CreateButton, CreateEmbed, Timestamp};

use super::text::{clean_text, code, escape_markdown, fit_lines, limits, truncate};
use crate::l10n::{Lang, Msg};
use crate::meeting::{Meeting, NumberKind, Origin};

/// Teams' brand purple, so the announcement is recognisable at a glance.
const TEAMS_PURPLE: u32 = 0x0062_64A7;

/// Whether the person asked for the channel's standing bridge or a separate meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Standing,
    Separate,
}

/// The embed and the buttons of an announcement.
pub struct Announcement {
    pub embed: CreateEmbed,
    pub buttons: Option<CreateActionRow>,
}

/// Renders `meeting` in `lang` (the channel's). `fallback_subject` is used when Graph returned none.
pub fn announcement(meeting: &Meeting, kind: Kind, fallback_subject: &str, lang: Lang) -> Announcement {
    let subject = meeting.subject.as_deref().map(clean_text).filter(|s| !s.is_empty());
    let title = truncate(&escape_markdown(subject.as_deref().unwrap_or(fallback_subject)), limits::EMBED_TITLE);

    let mut description = status_line(meeting, kind, lang);
    let join_fits_a_button = meeting.join_url.len() <= limits::BUTTON_URL;
    if !join_fits_a_button {
        description.push('\n');
        description.push_str(&lang.text(Msg::ANNOUNCE_CLICK_TITLE));
    }
    if meeting.dial_in.is_none() {
        description.push('\n');
        description.push_str(&lang.text(Msg::NO_DIAL_IN));
    }

    let mut embed = CreateEmbed::new()
        .title(title)
        .description(truncate(&description, limits::EMBED_DESCRIPTION))
        .colour(TEAMS_PURPLE);
    if meeting.join_url.len() <= limits::EMBED_URL {
        embed = embed.url(&meeting.join_url);
    }

    if let Some(dial_in) = &meeting.dial_in {
        let lines: Vec<String> = dial_in
            .numbers()
            .map(|(kind, number)| {
                let label = lang.text(match kind {
                    NumberKind::Toll => Msg::NUMBER_TOLL,
                    NumberKind::TollFree => Msg::NUMBER_TOLL_FREE,
                });
                let shown = code(number);
                match dial_in.one_tap(number) {
                    Some(tap) => lang.format(
                        Msg::DIAL_LINE_ONE_TAP,
                        &[
                            ("kind", label.as_str().into()),
                            ("number", shown.as_str().into()),
                            ("tap", code(&tap).as_str().into()),
                        ],
                    ),
                    None => lang
                        .format(Msg::DIAL_LINE, &[("kind", label.as_str().into()), ("number", shown.as_str().into())]),
                }
            })
            .collect();
        if !lines.is_empty() {
            let more = |count: usize| lang.format(Msg::DIAL_MORE, &[("count", count.into())]);
            embed = embed.field(lang.text(Msg::FIELD_DIAL_IN), fit_lines(&lines, limits::FIELD_VALUE, more), false);
        }
        if let Some(id) = &dial_in.conference_id {
            let value = truncate(&code(&format!("{id}#")), limits::FIELD_VALUE);
            embed = embed.field(lang.text(Msg::FIELD_CONFERENCE_ID), value, true);
        }
    }
    if let Some(by_id) = &meeting.join_by_id {
        let id = code(&by_id.meeting_id);
        let value = match &by_id.passcode {
            Some(passcode) => lang.format(
                Msg::JOIN_BY_ID_PASSCODE,
                &[("id", id.as_str().into()), ("passcode", code(passcode).as_str().into())],
            ),
            None => lang.format(Msg::JOIN_BY_ID, &[("id", id.as_str().into())]),
        };
        embed = embed.field(lang.text(Msg::FIELD_JOIN_BY_ID), truncate(&value, limits::FIELD_VALUE), true);
    }
    if let Some(created) = meeting.created_at.and_then(|t| Timestamp::from_unix_timestamp(t.unix_timestamp()).ok()) {
        embed = embed.timestamp(created);
    }

    let mut buttons = Vec::new();
    if join_fits_a_button {
        buttons.push(CreateButton::new_link(&meeting.join_url).label(truncate(&lang.text(Msg::BUTTON_JOIN), 80)));
    }
    if let Some(url) = meeting.dial_in.as_ref().and_then(|d| d.local_numbers_url.as_ref()) {
        if url.len() <= limits::BUTTON_URL {
            buttons.push(CreateButton::new_link(url).label(truncate(&lang.text(Msg::BUTTON_LOCAL_NUMBERS), 80)));
        }
    }
    buttons.push(super::attendance_answer::button(lang));
    Announcement { embed, buttons: Some(CreateActionRow::Buttons(buttons)) }
}

fn status_line(meeting: &Meeting, kind: Kind, lang: Lang) -> String {
    let since = meeting.created_at.or(meeting.starts_at).map(|t| format!("<t:{}:R>", t.unix_timestamp()));
    match (meeting.origin, kind, since) {
        (Origin::Created, Kind::Standing, _) => lang.text(Msg::ANNOUNCE_NEW_STANDING),
        (Origin::Created, Kind::Separate, _) => lang.text(Msg::ANNOUNCE_NEW_SEPARATE),
        (Origin::Reused, _, Some(since)) => {
            lang.format(Msg::ANNOUNCE_STANDING_CREATED, &[("since", since.as_str().into())])
        }
        (Origin::Reused, _, None) => lang.text(Msg::ANNOUNCE_STANDING),
    }
}

/// The default subject for a channel, in `lang`: `#inc-2041 bridge`.
pub fn default_subject(channel_name: Option<&str>, lang: Lang) -> String {
    match channel_name.map(clean_text).filter(|n| !n.is_empty()) {
        Some(name) => {
            truncate(&lang.format(Msg::DEFAULT_SUBJECT, &[("channel", name.as_str().into())]), limits::SUBJECT)
        }
        None => lang.text(Msg::DEFAULT_SUBJECT_UNNAMED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meeting::{DialIn, JoinById};
    use serde_json::Value;

    fn meeting(origin: Origin) -> Meeting {
        Meeting {
            id: "m1".into(),
            subject: Some("#inc-2041 bridge".into()),
            join_url: "https://teams.microsoft.com/l/meetup-join/abc".into(),
            starts_at: None,
            ends_at: None,
            created_at: Some(time::macros::datetime!(2025-11-22 09:00 UTC)),
            external_id: None,
            dial_in: Some(DialIn {
                toll_numbers: vec!["+1 206-555-0100".into()],
                toll_free_numbers: vec!["+1 866-555-0199".into()],
                conference_id: Some("123456789".into()),
                local_numbers_url: Some("https://dialin.teams.microsoft.com/x?id=123456789".into()),
            }),
            join_by_id: Some(JoinById { meeting_id: "250 123 456 789".into(), passcode: Some("aB3dE".into()) }),
            origin,
            request_id: None,
        }
    }

    fn json(a: &Announcement) -> (Value, Value) {
        (serde_json::to_value(&a.embed).unwrap(), serde_json::to_value(&a.buttons).unwrap())
    }

    #[test]
    fn full_meeting_has_numbers_one_tap_and_both_buttons() {
        let (embed, buttons) = json(&announcement(&meeting(Origin::Created), Kind::Standing, "x", Lang::ENGLISH));
        assert_eq!(embed["title"], "\\#inc-2041 bridge");
        let dial = embed["fields"][0]["value"].as_str().unwrap();
        assert!(dial.contains("Toll: `+1 206-555-0100` · one tap `+12065550100,,123456789#`"), "{dial}");
        assert!(dial.contains("Toll-free: `+1 866-555-0199` · one tap `+18665550199,,123456789#`"), "{dial}");
        assert_eq!(embed["fields"][1]["value"], "`123456789#`");
        assert!(embed["fields"][2]["value"].as_str().unwrap().contains("`aB3dE`"));
        assert_eq!(buttons["components"][0]["label"], "Join meeting");
        assert_eq!(buttons["components"][1]["label"], "Local numbers");
        assert!(embed["description"].as_str().unwrap().starts_with("New bridge"));
    }

    #[test]
    fn reused_bridge_says_since_when() {
        let (embed, _) = json(&announcement(&meeting(Origin::Reused), Kind::Standing, "x", Lang::ENGLISH));
        assert_eq!(embed["description"], "This channel's standing bridge, created <t:1763802000:R>.");
    }

    #[test]
    fn no_dial_in_says_why_and_keeps_the_join_button() {
        let mut m = meeting(Origin::Created);
        m.dial_in = None;
        let (embed, buttons) = json(&announcement(&m, Kind::Separate, "x", Lang::ENGLISH));
        assert!(embed["description"].as_str().unwrap().contains("Audio Conferencing licence"));
        let labels: Vec<&str> =
            buttons["components"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["Join meeting", "Attendance"], "no Local numbers without dial-in");
    }

    #[test]
    fn long_join_url_moves_from_button_to_title_link() {
        let mut m = meeting(Origin::Created);
        m.join_url = format!("https://teams.microsoft.com/l/{}", "a".repeat(600));
        let (embed, buttons) = json(&announcement(&m, Kind::Standing, "x", Lang::ENGLISH));
        assert_eq!(embed["url"], Value::String(m.join_url.clone()));
        assert_eq!(buttons["components"][0]["label"], "Local numbers");
    }

    #[test]
    fn hostile_subject_cannot_link_ping_or_overflow() {
        let mut m = meeting(Origin::Created);
        m.subject = Some(format!("[Join](https://evil.example) @everyone <@123>\u{202E}\n# big {}", "x".repeat(500)));
        let (embed, _) = json(&announcement(&m, Kind::Standing, "x", Lang::ENGLISH));
        let title = embed["title"].as_str().unwrap();
        assert!(title.chars().count() <= limits::EMBED_TITLE);
        assert!(title.starts_with("\\[Join\\](https\\://evil.example)"), "{title}");
        assert!(title.contains("\\@everyone \\<\\@123\\>"), "{title}");
        assert!(!title.contains('\u{202E}') && !title.contains('\n'));
    }

    #[test]
    fn many_numbers_stay_inside_a_field() {
        let mut m = meeting(Origin::Created);
        m.dial_in.as_mut().unwrap().toll_numbers = (0..100).map(|i| format!("+1 206-555-{i:04}")).collect();
        let (embed, _) = json(&announcement(&m, Kind::Standing, "x", Lang::ENGLISH));
        let dial = embed["fields"][0]["value"].as_str().unwrap();
        assert!(dial.chars().count() <= limits::FIELD_VALUE);
        assert!(dial.ends_with(r#"more on the "Local numbers" page"#), "{dial}");
    }

    #[test]
    fn default_subject_from_channel_name() {
        assert_eq!(default_subject(Some("inc-2041"), Lang::ENGLISH), "#inc-2041 bridge");
        assert_eq!(default_subject(Some("\u{200B}"), Lang::ENGLISH), "Incident bridge");
        assert_eq!(default_subject(None, Lang::ENGLISH), "Incident bridge");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::discord::render::text::is_invisible_format_char;
    use crate::meeting::{DialIn, JoinById};
    use proptest::prelude::*;

    fn text(max: usize) -> impl Strategy<Value = String> {
        let any_text = proptest::string::string_regex(&format!("\\PC{{0,{max}}}")).expect("valid regex");
        let markdown =
            proptest::string::string_regex(&format!("[@#*_`|~<>\\[\\]():\\\\\u{200B}\u{202E}\n\r\t a-z]{{0,{max}}}"))
                .expect("valid regex");
        prop_oneof![any_text, markdown]
    }

    fn meeting() -> impl Strategy<Value = Meeting> {
        (
            proptest::option::of(text(700)),
            "https://[a-z]{1,20}/[a-zA-Z0-9%]{0,700}",
            proptest::option::of((
                prop::collection::vec(text(60), 0..40),
                prop::collection::vec(text(60), 0..40),
                proptest::option::of(text(80)),
                proptest::option::of("https://[a-z]{1,10}/[a-z0-9]{0,600}"),
            )),
            proptest::option::of((text(300), proptest::option::of(text(300)))),
            any::<bool>(),
            proptest::option::of(0i64..4_000_000_000),
        )
            .prop_map(|(subject, join_url, dial_in, by_id, created, at)| Meeting {
                id: "m".into(),
                subject,
                join_url,
                starts_at: None,
                ends_at: None,
                created_at: at.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()),
                external_id: None,
                dial_in: dial_in.map(|(toll, free, conference_id, url)| DialIn {
                    toll_numbers: toll,
                    toll_free_numbers: free,
                    conference_id,
                    local_numbers_url: url,
                }),
                join_by_id: by_id.map(|(meeting_id, passcode)| JoinById { meeting_id, passcode }),
                origin: if created { Origin::Created } else { Origin::Reused },
                request_id: None,
            })
    }

    fn chars(v: &serde_json::Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_announcement_fits_discords_limits(
            meeting in meeting(),
            fallback in text(300),
            separate in any::<bool>(),
            lang in prop::sample::select(Lang::all().collect::<Vec<_>>()),
        ) {
            let kind = if separate { Kind::Separate } else { Kind::Standing };
            let fallback = default_subject(Some(&fallback), lang);
            let a = announcement(&meeting, kind, &fallback, lang);
            let embed = serde_json::to_value(&a.embed).unwrap();
            prop_assert!(chars(&embed["title"]) <= limits::EMBED_TITLE);
            prop_assert!(chars(&embed["description"]) <= limits::EMBED_DESCRIPTION);
            prop_assert!(chars(&embed["url"]) <= limits::EMBED_URL);
            let fields = embed["fields"].as_array().cloned().unwrap_or_default();
            prop_assert!(fields.len() <= 25);
            let mut total = chars(&embed["title"]) + chars(&embed["description"]);
            for field in &fields {
                prop_assert!(chars(&field["name"]) <= 256 && chars(&field["value"]) <= limits::FIELD_VALUE);
                prop_assert!(chars(&field["value"]) > 0);
                total += chars(&field["name"]) + chars(&field["value"]);
            }
            prop_assert!(total <= 6000);
            let title = embed["title"].as_str().unwrap_or_default();
            prop_assert!(!title.chars().any(|c| c.is_control() || is_invisible_format_char(c)));
            if let Some(row) = &a.buttons {
                let row = serde_json::to_value(row).unwrap();
                for button in row["components"].as_array().unwrap() {
                    prop_assert!(chars(&button["url"]) <= limits::BUTTON_URL && chars(&button["label"]) <= 80);
                }
            }
        }

        #[test]
        fn escaped_text_has_no_unescaped_markdown(raw in text(300)) {
            let escaped = escape_markdown(&clean_text(&raw));
            let mut chars = escaped.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    chars.next();
                    continue;
                }
                prop_assert!(!"*_~`|[]<>@:".contains(c), "unescaped {c:?} in {escaped:?}");
            }
        }
    }
}
