//! The domain: what a person asks for ([`MeetingRequest`]) and what they get ([`Meeting`]).
//!
//! Both the CLI and the Discord announcement render from these types; neither knows Graph's field names,
//! which stay in `graph::wire`. This module knows nothing of HTTP or serenity.

use serde::Serialize;
use time::OffsetDateTime;

/// The identity of a standing meeting: the same key always gives the same meeting (Graph's `externalId`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MeetingKey(String);

/// Why a `--key` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the key must be 1 to {max} printable characters without spaces", max = MeetingKey::MAX_LEN)]
pub struct InvalidKey;

impl MeetingKey {
    /// Leaves room for the `meetnow:` prefix inside Graph's limits on `externalId`.
    pub const MAX_LEN: usize = 100;

    /// The standing bridge of a Discord channel or thread. The same key a CLI user gets with
    /// `meetnow create --key discord:{guild}:{channel}`, so the terminal fallback reaches the channel's bridge.
    pub fn for_channel(guild_id: u64, channel_id: u64) -> Self {
        Self(format!("meetnow:discord:{guild_id}:{channel_id}"))
    }

    /// The separate meeting one `/meetnow new:true` asked for: keyed by the interaction, so the same command
    /// handled twice (a replay of Discord's signed request to another process, a retry) gets the same
    /// meeting, while every new command gets its own.
    pub fn for_command(guild_id: u64, channel_id: u64, interaction_id: u64) -> Self {
        Self(format!("meetnow:discord:{guild_id}:{channel_id}:new:{interaction_id}"))
    }

    /// A key chosen by a person, e.g. `inc-2041`.
    ///
    /// # Errors
    /// [`InvalidKey`] for an empty key, one that is too long, or one with spaces or control characters.
    pub fn named(key: &str) -> Result<Self, InvalidKey> {
        let fine = !key.is_empty()
            && key.chars().count() <= Self::MAX_LEN
            && key.chars().all(|c| !c.is_whitespace() && !c.is_control());
        fine.then(|| Self(format!("meetnow:{key}"))).ok_or(InvalidKey)
    }

    /// The value sent as Graph's `externalId`.
    pub fn external_id(&self) -> &str {
        &self.0
    }
}

/// What to create: a standing meeting for a key, or a separate one.
#[derive(Debug, Clone)]
pub struct MeetingRequest {
    pub subject: String,
    /// `Some`: the standing meeting for this key (created on first use). `None`: a new, separate meeting.
    pub key: Option<MeetingKey>,
}

/// Whether Graph made the meeting just now or returned the key's existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Created,
    Reused,
}

/// A Teams meeting as people see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meeting {
    /// Graph's meeting id (opaque; used for PATCH and in audit logs).
    pub id: String,
    pub subject: Option<String>,
    /// The join link; always an `https://` URL (checked when parsed).
    pub join_url: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub starts_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ends_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    pub external_id: Option<String>,
    /// `None` when the organizer has no Audio Conferencing licence.
    pub dial_in: Option<DialIn>,
    /// Joining by typing the meeting id and passcode in Teams.
    pub join_by_id: Option<JoinById>,
    pub origin: Origin,
    /// Graph's `request-id` for the call that returned the meeting, for audit logs; not part of the meeting.
    #[serde(skip)]
    pub request_id: Option<String>,
}

/// Phone access to a meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DialIn {
    pub toll_numbers: Vec<String>,
    pub toll_free_numbers: Vec<String>,
    /// The id a caller types after dialling in.
    pub conference_id: Option<String>,
    /// Microsoft's page with the local numbers of every country (`dialinUrl`).
    pub local_numbers_url: Option<String>,
}

/// Meeting id and passcode for "Join with a meeting ID" in Teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinById {
    pub meeting_id: String,
    pub passcode: Option<String>,
}

/// A time as RFC 3339 in UTC, the form Graph and `--json` use.
pub fn rfc3339(at: OffsetDateTime) -> String {
    // RFC 3339 can't express years outside 0..=9999; Graph never sends those.
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Why a meeting has no phone numbers, in words for the people reading the announcement.
pub const NO_DIAL_IN_REASON: &str =
    "No phone dial-in: the organizer has no Teams Audio Conferencing licence. Join with the link.";

impl DialIn {
    /// Every number with its kind, toll first.
    pub fn numbers(&self) -> impl Iterator<Item = (NumberKind, &str)> {
        let toll = self.toll_numbers.iter().map(|n| (NumberKind::Toll, n.as_str()));
        let free = self.toll_free_numbers.iter().map(|n| (NumberKind::TollFree, n.as_str()));
        toll.chain(free)
    }

    /// The one-tap string a phone dials straight into the meeting: `+12065550100,,123456789#`.
    /// `None` without a conference id or when the number has no digits.
    pub fn one_tap(&self, number: &str) -> Option<String> {
        let conference_id = self.conference_id.as_deref()?;
        let conference: String = conference_id.chars().filter(char::is_ascii_digit).collect();
        let mut dial: String = number.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        if conference.is_empty() || !dial.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        // Only a leading `+` means "international"; drop any other.
        let international = dial.starts_with('+');
        dial.retain(|c| c != '+');
        Some(format!("{}{dial},,{conference}#", if international { "+" } else { "" }))
    }
}

/// Toll or toll-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Toll,
    TollFree,
}

impl NumberKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Toll => "Toll",
            Self::TollFree => "Toll-free",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial_in(conference_id: Option<&str>) -> DialIn {
        DialIn {
            toll_numbers: vec!["+1 206-555-0100".into()],
            toll_free_numbers: vec!["+1 866-555-0199".into()],
            conference_id: conference_id.map(Into::into),
            local_numbers_url: None,
        }
    }

    #[test]
    fn one_tap_strips_formatting_and_appends_the_conference_id() {
        let d = dial_in(Some("123456789"));
        assert_eq!(d.one_tap("+1 206-555-0100").as_deref(), Some("+12065550100,,123456789#"));
        assert_eq!(d.one_tap("(425) 555-0100").as_deref(), Some("4255550100,,123456789#"));
        assert_eq!(d.one_tap("555-749-0000").as_deref(), Some("5557490000,,123456789#"));
    }

    #[test]
    fn one_tap_needs_a_conference_id_and_a_number() {
        assert_eq!(dial_in(None).one_tap("+1 206-555-0100"), None);
        assert_eq!(dial_in(Some("#")).one_tap("+1 206-555-0100"), None);
        assert_eq!(dial_in(Some("1")).one_tap("call us"), None);
    }

    #[test]
    fn numbers_list_toll_before_toll_free() {
        let kinds: Vec<_> = dial_in(Some("1")).numbers().map(|(k, _)| k).collect();
        assert_eq!(kinds, vec![NumberKind::Toll, NumberKind::TollFree]);
    }

    #[test]
    fn keys_are_namespaced_and_checked() {
        assert_eq!(MeetingKey::for_channel(1, 2).external_id(), "meetnow:discord:1:2");
        assert_eq!(MeetingKey::named("discord:1:2").unwrap(), MeetingKey::for_channel(1, 2));
        assert_eq!(MeetingKey::named("inc-2041").unwrap().external_id(), "meetnow:inc-2041");
        assert_eq!(MeetingKey::named(""), Err(InvalidKey));
        assert_eq!(MeetingKey::named("two words"), Err(InvalidKey));
        assert_eq!(MeetingKey::named(&"x".repeat(101)), Err(InvalidKey));
    }
}

/// One call on a bridge, from Graph's attendance report: when it ran and who was on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAttendance {
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Graph's count, which can exceed the attendees listed (it counts every join).
    pub participant_count: Option<u32>,
    /// In order of first join.
    pub attendees: Vec<Attendee>,
}

/// One person's time on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    /// As Teams shows it (`identity.displayName`), when it has one; raw: escape before showing.
    pub name: Option<String>,
    /// The e-mail address Graph reports. For the terminal (`meetnow attendance`) only: never shown in
    /// Discord, where anyone who can see an announcement can click **Attendance**.
    pub email: Option<String>,
    /// `Organizer`, `Presenter`, `Attendee` or `None`, as Graph says.
    pub role: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_join: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_leave: Option<OffsetDateTime>,
    pub total_seconds: u64,
}
