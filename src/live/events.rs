//! Graph's meeting call events, decrypted, read into [`CallEvent`]s.
//!
//! What Graph sends has changed over time, and its documents disagree, so all of these are read
//! (`../shared/docs/graph.md`):
//! - the event type is `callEventType` in Graph's metadata and every SDK generated from it
//!   (`callEvent.callEventType`), and `eventType` in the notification page's examples: either is read;
//! - `callEventType` is an evolvable enum, and `rosterUpdated` comes after its `unknownFutureValue` sentinel,
//!   so a caller that did not send `Prefer: include-unknown-enum-members` gets `unknownFutureValue` instead;
//!   an event of that (or any unknown) type that carries participants is a roster update;
//! - participants in `participants@delta` (or `participants`), each with `isInLobby` and, when gone,
//!   `removedState`; or, in Microsoft's sample and the earlier docs, `activeParticipants@delta` / `@joined`
//!   and `@remove` / `@exited`, PascalCase inside.
//!
//! A participant is one device of one person: its `id` is per participant in the call, its identity says who
//! it is. The name shown is `preferredDisplayName` (what Teams shows), else the identity's `displayName`,
//! cut to [`NAME_KEPT`] here; a phone caller, or a name that is a phone number, shows as "Phone caller".
//! Who and which device are kept only as [`Keys`]: keyed hashes, so nothing in the announcement decodes to a
//! number or an address.
//!
//! Keys are matched without regard to case. What can't be read (an unknown event type with no roster, an
//! identity of a kind not listed in [`IDENTITY_KINDS`]) is logged and skipped; nothing here panics on any
//! input.

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::state::{CallEvent, Change, Millis, Presence, RosterChange, NAME_KEPT};

/// The identity kinds of Graph's `communicationsIdentitySet` a participant can be, and the name shown when
/// Teams gives none. A phone caller is never shown by number; neither is an asserted identity (a phone
/// number presented for a call queue or a PSTN caller).
pub const IDENTITY_KINDS: [(&str, &str); 10] = [
    ("user", "Teams user"),
    ("guest", "Guest"),
    ("phone", "Phone caller"),
    ("assertedIdentity", "Phone caller"),
    ("onPremises", "Teams user"),
    ("azureCommunicationServicesUser", "Guest"),
    ("acsUser", "Guest"),
    ("applicationInstance", "Teams app"),
    ("application", "Teams app"),
    ("encrypted", "Teams user"),
];

/// The kinds whose display name is never shown: it is, or may be, a number.
const NUMBER_KINDS: [&str; 2] = ["phone", "assertedIdentity"];

/// What turns Graph's ids into the short keys the announcement carries: an HMAC under a key only the bot's
/// processes hold (derived from the notification certificate's private key), so every process computes the
/// same keys and nobody who reads the channel can test a guess (a phone number, an e-mail address) against
/// one.
#[derive(Clone)]
pub struct Keys {
    key: [u8; 32],
    /// The bot's own application id: its participant (when it rings someone in) is not one of the people.
    own_app: Option<String>,
}

impl Keys {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key, own_app: None }
    }

    /// These keys, skipping the participant that is the application `client_id` itself.
    pub fn without_app(mut self, client_id: &str) -> Self {
        self.own_app = Some(client_id.to_ascii_lowercase());
        self
    }

    fn is_own_app(&self, kind: &str, id: Option<&str>) -> bool {
        matches!(kind, "application" | "applicationInstance")
            && self.own_app.as_deref().is_some_and(|own| id.is_some_and(|id| id.eq_ignore_ascii_case(own)))
    }

    fn mac(&self, domain: &[u8], value: &str, bytes: usize) -> String {
        // HMAC takes keys of any length; 32 bytes can't be refused.
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(domain);
        mac.update(value.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..bytes])
    }

    /// A person: 48 bits of the HMAC of `kind:id`.
    fn person(&self, kind: &str, id: &str) -> String {
        self.mac(b"meetnow person v2\0", &format!("{kind}:{id}"), 6)
    }

    /// One of a person's devices: 16 bits of the HMAC of the participant id (it need only differ from the
    /// person's other devices).
    fn device(&self, participant: &str) -> String {
        self.mac(b"meetnow device v2\0", participant, 2)
    }
}

/// Why a payload was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("no callEventType or eventType")]
    NoEventType,
    #[error("event type \"{}\" without a roster", .0.escape_debug())]
    UnknownEventType(String),
    #[error("no readable eventDateTime")]
    NoTime,
}

/// The lists a roster event may carry, and where their entries are (`None`: the entry says it itself).
const ROSTER_LISTS: [(&str, Option<Presence>); 6] = [
    ("participants@delta", None),
    ("participants", None),
    ("activeParticipants@delta", Some(Presence::OnCall)),
    ("activeParticipants@joined", Some(Presence::OnCall)),
    ("activeParticipants@remove", Some(Presence::Left)),
    ("activeParticipants@exited", Some(Presence::Left)),
];

/// Participants read from one event: a roster of hundreds is far below.
const MAX_PARTICIPANTS: usize = 2000;

/// The event in a decrypted payload, its people keyed with `keys`.
///
/// # Errors
/// [`Unreadable`] when it is not one of the shapes above.
pub fn parse(payload: &[u8], keys: &Keys) -> Result<CallEvent, Unreadable> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| Unreadable::NotJson(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| Unreadable::NotJson("not an object".into()))?;
    let event_type = get(object, "callEventType")
        .or_else(|| get(object, "eventType"))
        .and_then(Value::as_str)
        .ok_or(Unreadable::NoEventType)?;
    let at = get(object, "eventDateTime").and_then(Value::as_str).and_then(parse_time).ok_or(Unreadable::NoTime)?;
    let kind = event_type.trim().trim_start_matches("Microsoft.Communication.").to_ascii_lowercase();
    let change = match kind.as_str() {
        "callstarted" => Change::Started,
        "callended" => Change::Ended,
        "rosterupdated" | "callrosterupdate" | "callrosterupdated" => Change::Roster(roster(object, keys)),
        // `unknownFutureValue` (or a type added later) with participants: a roster update Graph named by its
        // sentinel, because the caller did not ask for the enum's newer members.
        _ if carries_roster(object) => Change::Roster(roster(object, keys)),
        _ => return Err(Unreadable::UnknownEventType(event_type.chars().take(64).collect())),
    };
    Ok(CallEvent { at, change })
}

fn carries_roster(object: &Map<String, Value>) -> bool {
    ROSTER_LISTS.iter().any(|(list, _)| get(object, list).is_some_and(Value::is_array))
}

/// The roster changes of a roster event, from whichever lists it carries.
fn roster(object: &Map<String, Value>, keys: &Keys) -> Vec<RosterChange> {
    let mut changes = Vec::new();
    for (list, presence) in ROSTER_LISTS {
        let Some(entries) = get(object, list).and_then(Value::as_array) else { continue };
        for entry in entries.iter().filter_map(Value::as_object) {
            if changes.len() >= MAX_PARTICIPANTS {
                return changes;
            }
            if let Some(change) = participant(entry, presence, keys) {
                changes.push(change);
            }
        }
    }
    changes
}

/// One participant: who (their identity, keyed), which device, their name, and where they are. `listed_as`
/// is what the list says (`None`: the entry says it itself, as in `participants@delta`).
fn participant(entry: &Map<String, Value>, listed_as: Option<Presence>, keys: &Keys) -> Option<RosterChange> {
    let identity = get(entry, "info")
        .and_then(Value::as_object)
        .and_then(|info| get(info, "identity"))
        .or_else(|| get(entry, "identity"))
        .and_then(Value::as_object);
    let Some(identity) = identity else {
        tracing::debug!("a roster entry without an identity; skipped");
        return None;
    };
    let Some((kind, who)) = IDENTITY_KINDS
        .iter()
        .find_map(|(kind, _)| get(identity, kind).and_then(Value::as_object).map(|who| (*kind, who)))
    else {
        let kinds: Vec<&str> = identity.keys().map(|k| k.as_str()).take(4).collect();
        tracing::info!(?kinds, "a participant of an identity kind meetnow does not know; skipped");
        return None;
    };
    let participant_id = get(entry, "id").and_then(Value::as_str).filter(|id| !id.is_empty());
    let identity_id = get(who, "id").and_then(Value::as_str).filter(|id| !id.is_empty());
    if keys.is_own_app(kind, identity_id) {
        // The bot itself, on the call to ring someone in: never shown, never counted.
        return None;
    }
    let person = keys.person(kind, identity_id.or(participant_id)?);
    let device = participant_id.map(|id| keys.device(id)).unwrap_or_default();
    let fallback = IDENTITY_KINDS.iter().find(|(k, _)| *k == kind).map_or("Teams user", |(_, shown)| shown);
    let name = if NUMBER_KINDS.contains(&kind) {
        fallback.to_owned()
    } else {
        let given = |object: &Map<String, Value>, key: &str| {
            get(object, key).and_then(Value::as_str).map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
        };
        match given(entry, "preferredDisplayName").or_else(|| given(who, "displayName")) {
            Some(name) if looks_like_a_number(&name) => "Phone caller".to_owned(),
            Some(name) => name,
            None => fallback.to_owned(),
        }
    };
    let presence = listed_as.unwrap_or_else(|| {
        let removed = get(entry, "removedState").is_some_and(|state| !state.is_null());
        let in_lobby = get(entry, "isInLobby").and_then(Value::as_bool).unwrap_or(false);
        if removed {
            Presence::Left
        } else if in_lobby {
            Presence::Lobby
        } else {
            Presence::OnCall
        }
    });
    let sequence = get(entry, "rosterSequenceNumber").and_then(|n| n.as_i64().or_else(|| n.as_str()?.parse().ok()));
    Some(RosterChange { person, device, name: Some(name.chars().take(NAME_KEPT).collect()), presence, sequence })
}

/// Whether a display name is a phone number (Teams shows a dial-in caller's number as their name): six or
/// more digits, and nothing but digits and the characters numbers are written with.
fn looks_like_a_number(name: &str) -> bool {
    let digits = name.chars().filter(char::is_ascii_digit).count();
    digits >= 6 && name.chars().all(|c| c.is_ascii_digit() || " +-().#*/".contains(c) || c == '\u{a0}')
}

/// A key of `object`, matched without regard to case.
fn get<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// RFC 3339 with Graph's seven fractional digits, to milliseconds.
fn parse_time(text: &str) -> Option<Millis> {
    let at = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new([7; 32])
    }

    #[test]
    fn every_unreadable_payload_says_why_and_quotes_what_it_was_sent() {
        for (unreadable, reads) in [
            (Unreadable::NotJson("EOF at 1:1".into()), "not JSON: EOF at 1:1"),
            (Unreadable::NoEventType, "no callEventType or eventType"),
            (Unreadable::UnknownEventType("held\n".into()), "event type \"held\\n\" without a roster"),
            (Unreadable::NoTime, "no readable eventDateTime"),
        ] {
            assert_eq!(unreadable.to_string(), reads);
        }
    }

    fn roster_of(payload: &[u8]) -> Vec<RosterChange> {
        match parse(payload, &keys()).unwrap().change {
            Change::Roster(changes) => changes,
            other => panic!("a roster event, not {other:?}"),
        }
    }

    #[test]
    fn the_newest_shape() {
        let payload = br##"{"@odata.type":"#microsoft.graph.callEvent","eventType":"rosterUpdated","eventDateTime":"2026-12-01T03:00:05.1234567Z",
            "participants@delta":[
              {"id":"p1","info":{"identity":{"user":{"id":"u1","displayName":"Ana","tenantId":"t"}}},"isInLobby":false},
              {"id":"p2","info":{"identity":{"guest":{"id":"g2","displayName":"Bo"}}},"isInLobby":true},
              {"id":"p3","info":{"identity":{"user":{"id":"u3","displayName":"Cy"}}},"removedState":{"reason":"Participant has left the meeting call."}},
              {"id":"p4","info":{"identity":{"spaceship":{"id":"s4"}}}},
              {"id":"p5","info":{"identity":{"phone":{"id":"+12065550100","displayName":"+1 206 555 0100"}}}}
            ]}"##;
        let event = parse(payload, &keys()).unwrap();
        assert_eq!(event.at, 1_796_094_005_123);
        let Change::Roster(changes) = event.change else { panic!("a roster event") };
        let seen: Vec<(Option<&str>, Presence)> = changes.iter().map(|c| (c.name.as_deref(), c.presence)).collect();
        assert_eq!(
            seen,
            [
                (Some("Ana"), Presence::OnCall),
                (Some("Bo"), Presence::Lobby),
                (Some("Cy"), Presence::Left),
                (Some("Phone caller"), Presence::OnCall)
            ]
        );
        assert!(!changes[0].person.contains("u1"));
    }

    #[test]
    fn the_schemas_call_event_type_and_its_unknown_future_value_with_a_roster() {
        let payload = br##"{"@odata.type":"#microsoft.graph.callEvent","id":"e1","callEventType":"unknownFutureValue","eventDateTime":"2026-12-01T03:00:05Z",
            "participants@delta":[
              {"id":"p-laptop","rosterSequenceNumber":4,"preferredDisplayName":"Ada (incident lead)","info":{"identity":{"user":{"id":"u1","displayName":"Ada Lovelace"}}}},
              {"id":"p-phone","rosterSequenceNumber":5,"info":{"identity":{"user":{"id":"u1","displayName":"Ada Lovelace"}}}},
              {"id":"p-onprem","info":{"identity":{"onPremises":{"id":"op1","displayName":"Grace H"}}}},
              {"id":"p-asserted","info":{"identity":{"assertedIdentity":{"id":"+4930123456","displayName":"+49 30 123456"}}}}
            ]}"##;
        let changes = roster_of(payload);
        let names: Vec<&str> = changes.iter().filter_map(|c| c.name.as_deref()).collect();
        assert_eq!(names, ["Ada (incident lead)", "Ada Lovelace", "Grace H", "Phone caller"]);
        assert_eq!(changes[0].person, changes[1].person, "one person");
        assert_ne!(changes[0].device, changes[1].device, "two devices");
        assert_eq!((changes[0].sequence, changes[1].sequence), (Some(4), Some(5)));
        let started = br#"{"callEventType":"callStarted","eventDateTime":"2026-12-01T03:00:00Z"}"#;
        assert_eq!(parse(started, &keys()).unwrap().change, Change::Started);
        let unknown = br#"{"callEventType":"unknownFutureValue","eventDateTime":"2026-12-01T03:00:00Z"}"#;
        assert!(matches!(parse(unknown, &keys()), Err(Unreadable::UnknownEventType(_))), "no roster: not guessed");
    }

    #[test]
    fn keys_are_keyed_so_a_number_cannot_be_tested_against_them() {
        let payload = br#"{"callEventType":"rosterUpdated","eventDateTime":"2026-12-01T03:00:05Z",
            "participants@delta":[{"id":"p5","info":{"identity":{"phone":{"id":"+12065550100"}}}}]}"#;
        let under_ours = roster_of(payload).remove(0).person;
        let other = match parse(payload, &Keys::new([8; 32])).unwrap().change {
            Change::Roster(mut changes) => changes.remove(0).person,
            _ => unreachable!(),
        };
        assert_ne!(under_ours, other, "another key gives another value: the key is what makes it");
        let unkeyed = {
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(b"phone:+12065550100");
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
        };
        assert_ne!(under_ours, unkeyed);
    }

    #[test]
    fn names_are_cut_when_read_and_numbers_are_never_names() {
        let long = "W".repeat(5000);
        let payload = format!(
            r#"{{"callEventType":"rosterUpdated","eventDateTime":"2026-12-01T03:00:05Z","participants@delta":[
              {{"id":"p1","info":{{"identity":{{"user":{{"id":"u1","displayName":"{long}"}}}}}}}},
              {{"id":"p2","info":{{"identity":{{"guest":{{"id":"g2","displayName":"+1 (206) 555-0100"}}}}}}}},
              {{"id":"p3","info":{{"identity":{{"guest":{{"id":"g3","displayName":"Room 101"}}}}}}}}]}}"#
        );
        let changes = roster_of(payload.as_bytes());
        assert_eq!(changes[0].name.as_ref().unwrap().chars().count(), NAME_KEPT);
        assert_eq!(changes[1].name.as_deref(), Some("Phone caller"));
        assert_eq!(changes[2].name.as_deref(), Some("Room 101"));
    }

    #[test]
    fn the_samples_shape_and_the_earlier_docs_shape() {
        let sample =
            br#"{"EventType":"Microsoft.Communication.CallRosterUpdate","EventDateTime":"2026-12-01T03:00:05Z",
            "activeParticipants@delta":[{"Id":"p1","Identity":{"User":{"Id":"u1","DisplayName":"Ana"}}}],
            "activeParticipants@remove":[{"Id":"p2","Identity":{"User":{"Id":"u2","DisplayName":"Bo"}}}]}"#;
        let changes = roster_of(sample);
        assert_eq!(changes.iter().map(|c| c.presence).collect::<Vec<_>>(), [Presence::OnCall, Presence::Left]);
        let earlier = br#"{"eventType":"Microsoft.Communication.CallRosterUpdate","eventDateTime":"2026-12-01T03:00:05Z","state":"active",
            "activeParticipants@joined":[{"identity":{"user":{"id":"u1","displayName":"Ana"}}}],
            "activeParticipants@exited":[{"identity":{"user":{"id":"u2","displayName":"Bo"}}}]}"#;
        assert_eq!(roster_of(earlier).len(), 2);
        let started = br#"{"eventType":"Microsoft.Communication.CallStarted","eventDateTime":"2026-12-01T03:00:00Z","state":"active"}"#;
        assert_eq!(parse(started, &keys()).unwrap().change, Change::Started);
        assert_eq!(
            parse(br#"{"eventType":"callEnded","eventDateTime":"2026-12-01T04:00:00Z"}"#, &keys()).unwrap().change,
            Change::Ended
        );
    }

    #[test]
    fn what_it_cannot_read_is_an_error_not_a_panic() {
        assert!(matches!(parse(b"[]", &keys()), Err(Unreadable::NotJson(_))));
        assert_eq!(parse(br#"{"eventDateTime":"2026-12-01T04:00:00Z"}"#, &keys()), Err(Unreadable::NoEventType));
        assert!(matches!(
            parse(br#"{"eventType":"callPaused","eventDateTime":"2026-12-01T04:00:00Z"}"#, &keys()),
            Err(Unreadable::UnknownEventType(_))
        ));
        assert_eq!(
            parse(br#"{"eventType":"callEnded","eventDateTime":"yesterday"}"#, &keys()),
            Err(Unreadable::NoTime)
        );
        let odd = br#"{"eventType":"rosterUpdated","eventDateTime":"2026-12-01T04:00:00Z","participants@delta":[1,null,{"info":7},{"info":{"identity":{"user":"x"}}}]}"#;
        assert_eq!(parse(odd, &keys()).unwrap().change, Change::Roster(vec![]));
    }
}
