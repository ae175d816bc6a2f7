//! The answer to the **Attendance** button: each ended call on the bridge, with who was on it, when they
//! joined and left and for how long, as Discord timestamps (each reader sees their own time zone). Pure.
//!
//! Names come from people: they are cleaned and escaped (no ping, link or markdown), and long lists are cut
//! within Discord's limits with a count of the rest.

use serenity::all::{CreateButton, CreateEmbed};
use time::OffsetDateTime;

use super::text::{clean_text, escape_markdown, limits, truncate};
use crate::l10n::{Lang, Msg};
use crate::meeting::{Attendee, CallAttendance};

/// The button's `custom_id`: the bridge is the one the clicked message announces (its embed's join link).
pub const BUTTON_ID: &str = "meetnow:attendance";

/// The longest name shown.
const NAME_MAX: usize = 64;

/// The button under every announcement, labelled in the channel's `lang`.
pub fn button(lang: Lang) -> CreateButton {
    CreateButton::new(BUTTON_ID)
        .label(truncate(&lang.text(Msg::BUTTON_ATTENDANCE), 80))
        .style(serenity::all::ButtonStyle::Secondary)
}

/// The ephemeral answer in `lang` (the clicker's): one section per call, oldest first, each within its share
/// of the embed.
pub fn answer(calls: &[CallAttendance], lang: Lang) -> CreateEmbed {
    let embed = CreateEmbed::new().title(lang.text(Msg::ATTENDANCE_TITLE)).colour(0x0062_64A7);
    if calls.is_empty() {
        return embed.description(lang.text(Msg::ATTENDANCE_NONE));
    }
    let share = (limits::EMBED_DESCRIPTION / calls.len()).max(200);
    let mut text = String::new();
    for (n, call) in calls.iter().enumerate() {
        let section = section(n + 1, call, share.min(limits::EMBED_DESCRIPTION - text.chars().count()), lang);
        if section.is_empty() {
            break;
        }
        text.push_str(&section);
    }
    embed.description(truncate(text.trim_end(), limits::EMBED_DESCRIPTION))
}

/// One call: a heading and a line per attendee, within `room` characters, the rest counted.
fn section(number: usize, call: &CallAttendance, room: usize, lang: Lang) -> String {
    let (start, end) = (stamp(call.started_at, 'f'), stamp(call.ended_at, 't'));
    let times = [("number", number.into()), ("start", start.as_str().into()), ("end", end.as_str().into())];
    let heading = match call.participant_count {
        Some(count) => {
            let [number, start, end] = times;
            lang.format(Msg::ATTENDANCE_CALL_JOINED, &[number, start, end, ("count", u64::from(count).into())])
        }
        None => lang.format(Msg::ATTENDANCE_CALL, &times),
    } + "\n";
    if heading.chars().count() > room {
        return String::new();
    }
    let mut out = heading;
    for (shown, attendee) in call.attendees.iter().enumerate() {
        let line = format!("{}\n", attendee_line(attendee, lang));
        let left = call.attendees.len() - shown;
        let more = format!("{}\n", lang.format(Msg::ATTENDANCE_MORE, &[("count", left.into())]));
        let needed = out.chars().count() + line.chars().count() + if left > 1 { more.chars().count() } else { 0 };
        if needed > room {
            out.push_str(&more);
            return out + "\n";
        }
        out.push_str(&line);
    }
    out + "\n"
}

fn attendee_line(attendee: &Attendee, lang: Lang) -> String {
    // Never the e-mail address (see `Attendee::email`). An attendee Teams gives no display name (a dial-in
    // caller, say) is said to have none.
    let name = match attendee.name.as_deref().map(clean_text).filter(|n| !n.is_empty()) {
        Some(name) => escape_markdown(&truncate(&name, NAME_MAX)),
        None => lang.text(Msg::NO_DISPLAY_NAME),
    };
    let role = attendee
        .role
        .as_deref()
        .map(clean_text)
        .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("none"))
        .map(|r| format!(" ({})", role_in(&r, lang)))
        .unwrap_or_default();
    format!(
        "{name}{role} · {} – {} · {}",
        stamp(attendee.first_join, 't'),
        stamp(attendee.last_leave, 't'),
        duration_in(attendee.total_seconds, lang)
    )
}

/// Graph's meeting roles in `lang`; one it has not documented, as Graph wrote it (escaped).
fn role_in(role: &str, lang: Lang) -> String {
    let id = match role.to_ascii_lowercase().as_str() {
        "organizer" => Msg::ROLE_ORGANIZER,
        "presenter" => Msg::ROLE_PRESENTER,
        "attendee" => Msg::ROLE_ATTENDEE,
        "producer" => Msg::ROLE_PRODUCER,
        "coorganizer" => Msg::ROLE_COORGANIZER,
        _ => return escape_markdown(&truncate(role, 20)),
    };
    lang.text(id)
}

/// A Discord timestamp (`<t:…:f>` date and time, `<t:…:t>` time), which each reader sees in their time zone.
fn stamp(at: Option<OffsetDateTime>, style: char) -> String {
    at.map_or_else(|| "?".to_owned(), |t| format!("<t:{}:{style}>", t.unix_timestamp()))
}

/// `1 h 05 min`, `42 min`, `35 s` (the terminal's).
pub fn duration(seconds: u64) -> String {
    duration_in(seconds, Lang::ENGLISH)
}

/// [`duration`] in `lang`.
pub fn duration_in(seconds: u64, lang: Lang) -> String {
    match seconds {
        0..=59 => lang.format(Msg::SECONDS, &[("seconds", seconds.into())]),
        60..=3599 => lang.format(Msg::DURATION_MINUTES, &[("minutes", (seconds / 60).into())]),
        _ => lang.format(
            Msg::HOURS_MINUTES_PADDED,
            &[("hours", (seconds / 3600).into()), ("minutes", format!("{:02}", seconds % 3600 / 60).as_str().into())],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn attendee(name: &str, minute: u8, seconds: u64) -> Attendee {
        Attendee {
            name: Some(name.into()),
            email: Some("someone@contoso.com".into()),
            role: Some("Attendee".into()),
            first_join: Some(datetime!(2026-11-23 03:00 UTC) + time::Duration::minutes(minute.into())),
            last_leave: Some(datetime!(2026-11-23 04:00 UTC)),
            total_seconds: seconds,
        }
    }

    fn call(attendees: Vec<Attendee>) -> CallAttendance {
        CallAttendance {
            started_at: Some(datetime!(2026-11-23 03:00 UTC)),
            ended_at: Some(datetime!(2026-11-23 04:00 UTC)),
            participant_count: Some(attendees.len() as u32),
            attendees,
        }
    }

    fn description(embed: CreateEmbed) -> String {
        serde_json::to_value(embed).unwrap()["description"].as_str().unwrap().to_owned()
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(35), "35 s");
        assert_eq!(duration(42 * 60 + 5), "42 min");
        assert_eq!(duration(3600 + 5 * 60), "1 h 05 min");
    }

    #[test]
    fn a_call_lists_each_attendee_with_timestamps_and_time() {
        let text = description(answer(&[call(vec![attendee("Alice Example", 2, 3480)])], Lang::ENGLISH));
        let (start, end) =
            (datetime!(2026-11-23 03:00 UTC).unix_timestamp(), datetime!(2026-11-23 04:00 UTC).unix_timestamp());
        assert!(text.starts_with(&format!("**Call 1** · <t:{start}:f> – <t:{end}:t> · joined: 1\n")), "{text}");
        let line = format!("Alice Example (Attendee) · <t:{}:t> – <t:{end}:t> · 58 min", start + 120);
        assert!(text.contains(&line), "{text}");
    }

    #[test]
    fn hundreds_of_attendees_are_cut_within_the_limit_with_a_count() {
        let many: Vec<Attendee> = (0..600).map(|i| attendee(&format!("Person {i:03}"), (i % 60) as u8, 600)).collect();
        let text = description(answer(&[call(many.clone()), call(many)], Lang::ENGLISH));
        assert!(text.chars().count() <= limits::EMBED_DESCRIPTION);
        assert_eq!(text.matches("**Call").count(), 2, "both calls shown");
        assert!(text.contains(" more\n"), "the rest is counted");
    }

    #[test]
    fn hostile_names_cannot_ping_link_or_format() {
        let text = description(answer(
            &[call(vec![attendee("@everyone [x](https://evil) **bold** <@123>", 1, 60)])],
            Lang::ENGLISH,
        ));
        assert!(text.contains(r"\@everyone \[x\](https\://evil) \*\*bold\*\* \<\@123\>"), "{text}");
    }

    #[test]
    fn an_attendee_without_a_display_name_is_not_shown_by_e_mail() {
        let mut caller = attendee("", 1, 60);
        caller.name = None;
        let text = description(answer(&[call(vec![caller, attendee("  ", 2, 60)])], Lang::ENGLISH));
        assert_eq!(text.matches("(no display name)").count(), 2, "{text}");
        assert!(!text.contains('@') && !text.contains("contoso"), "{text}");
    }

    #[test]
    fn before_any_call_ended_it_says_so() {
        assert_eq!(description(answer(&[], Lang::ENGLISH)), Lang::ENGLISH.text(Msg::ATTENDANCE_NONE));
    }
}
