//! Graph's meeting call events, decrypted, read into [`CallEvent`]s.
//!
//! Three shapes have been documented or shipped over time (`../shared/docs/graph.md`), and all are read:
//! - the newest docs: `eventType` `callStarted` / `callEnded` / `rosterUpdated`, `participants@delta` whose
//!   entries have `isInLobby` and, when they left, `removedState`;
//! - Microsoft's sample: `Microsoft.Communication.CallStarted` / `CallEnded` / `CallRosterUpdate`, joins in
//!   `activeParticipants@delta` and leaves in `activeParticipants@remove`, PascalCase inside;
//! - earlier docs: as the sample, with `activeParticipants@joined` / `activeParticipants@exited`.
//!
//! Keys are matched without regard to case, so `Identity.User.DisplayName` and `identity.user.displayName`
//! read alike. What can't be read (an unknown event type, an identity of a kind not listed in
//! [`IDENTITY_KINDS`]) is logged and skipped; nothing here panics on any input.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::Digest as _;

use super::state::{CallEvent, Change, Millis, Presence, RosterChange};

/// The identity kinds of Graph's `identitySet` a participant can be, and the name shown when Teams gives
/// none. A phone caller is never shown by number.
pub const IDENTITY_KINDS: [(&str, &str); 8] = [
    ("user", "Teams user"),
    ("guest", "Guest"),
    ("phone", "Phone caller"),
    ("azureCommunicationServicesUser", "Guest"),
    ("acsUser", "Guest"),
    ("applicationInstance", "Teams app"),
    ("application", "Teams app"),
    ("encrypted", "Teams user"),
];

/// Why a payload was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("no eventType")]
    NoEventType,
    #[error("unknown eventType {0:?}")]
    UnknownEventType(String),
    #[error("no readable eventDateTime")]
    NoTime,
}

/// The event in a decrypted payload.
///
/// # Errors
/// [`Unreadable`] when it is not one of the shapes above.
pub fn parse(payload: &[u8]) -> Result<CallEvent, Unreadable> {
    let value: Value = serde_json::from_slice(payload).map_err(|e| Unreadable::NotJson(e.to_string()))?;
    let object = value.as_object().ok_or_else(|| Unreadable::NotJson("not an object".into()))?;
    let event_type = get(object, "eventType").and_then(Value::as_str).ok_or(Unreadable::NoEventType)?;
    let at = get(object, "eventDateTime").and_then(Value::as_str).and_then(parse_time).ok_or(Unreadable::NoTime)?;
    let kind = event_type.trim().trim_start_matches("Microsoft.Communication.").to_ascii_lowercase();
    let change = match kind.as_str() {
        "callstarted" => Change::Started,
        "callended" => Change::Ended,
        "rosterupdated" | "callrosterupdate" | "callrosterupdated" => Change::Roster(roster(object)),
        _ => return Err(Unreadable::UnknownEventType(event_type.chars().take(64).collect())),
    };
    Ok(CallEvent { at, change })
}

/// The roster changes of a roster event, from whichever lists it carries.
fn roster(object: &Map<String, Value>) -> Vec<RosterChange> {
    let lists: [(&str, Option<Presence>); 5] = [
        ("participants@delta", None),
        ("activeParticipants@delta", Some(Presence::OnCall)),
        ("activeParticipants@joined", Some(Presence::OnCall)),
        ("activeParticipants@remove", Some(Presence::Left)),
        ("activeParticipants@exited", Some(Presence::Left)),
    ];
    let mut changes = Vec::new();
    for (list, presence) in lists {
        let Some(entries) = get(object, list).and_then(Value::as_array) else { continue };
        for entry in entries.iter().filter_map(Value::as_object) {
            if let Some(change) = participant(entry, presence) {
                changes.push(change);
            }
        }
    }
    changes
}

/// One participant: who (their identity, hashed), their name, and where they are. `listed_as` is what the
/// list says (`None`: the entry says it itself, as in `participants@delta`).
fn participant(entry: &Map<String, Value>, listed_as: Option<Presence>) -> Option<RosterChange> {
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
    let id = get(who, "id")
        .and_then(Value::as_str)
        .or_else(|| get(entry, "id").and_then(Value::as_str))
        .filter(|id| !id.is_empty())?;
    let fallback = IDENTITY_KINDS.iter().find(|(k, _)| *k == kind).map(|(_, shown)| *shown);
    let name = if kind == "phone" {
        fallback.map(str::to_owned)
    } else {
        get(who, "displayName")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .map(str::to_owned)
            .or(fallback.map(str::to_owned))
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
    Some(RosterChange { key: key_of(kind, id), name, presence })
}

/// A short stable key for an identity: the announcement carries this, never the id.
fn key_of(kind: &str, id: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{kind}:{id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
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
        let event = parse(payload).unwrap();
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
        assert!(!changes[0].key.contains("u1"));
    }

    #[test]
    fn the_samples_shape_and_the_earlier_docs_shape() {
        let sample =
            br#"{"EventType":"Microsoft.Communication.CallRosterUpdate","EventDateTime":"2026-12-01T03:00:05Z",
            "activeParticipants@delta":[{"Id":"p1","Identity":{"User":{"Id":"u1","DisplayName":"Ana"}}}],
            "activeParticipants@remove":[{"Id":"p2","Identity":{"User":{"Id":"u2","DisplayName":"Bo"}}}]}"#;
        let Change::Roster(changes) = parse(sample).unwrap().change else { panic!() };
        assert_eq!(changes.iter().map(|c| c.presence).collect::<Vec<_>>(), [Presence::OnCall, Presence::Left]);
        let earlier = br#"{"eventType":"Microsoft.Communication.CallRosterUpdate","eventDateTime":"2026-12-01T03:00:05Z","state":"active",
            "activeParticipants@joined":[{"identity":{"user":{"id":"u1","displayName":"Ana"}}}],
            "activeParticipants@exited":[{"identity":{"user":{"id":"u2","displayName":"Bo"}}}]}"#;
        let Change::Roster(changes) = parse(earlier).unwrap().change else { panic!() };
        assert_eq!(changes.len(), 2);
        let started = br#"{"eventType":"Microsoft.Communication.CallStarted","eventDateTime":"2026-12-01T03:00:00Z","state":"active"}"#;
        assert_eq!(parse(started).unwrap().change, Change::Started);
        assert_eq!(
            parse(br#"{"eventType":"callEnded","eventDateTime":"2026-12-01T04:00:00Z"}"#).unwrap().change,
            Change::Ended
        );
    }

    #[test]
    fn what_it_cannot_read_is_an_error_not_a_panic() {
        assert!(matches!(parse(b"[]"), Err(Unreadable::NotJson(_))));
        assert_eq!(parse(br#"{"eventDateTime":"2026-12-01T04:00:00Z"}"#), Err(Unreadable::NoEventType));
        assert!(matches!(
            parse(br#"{"eventType":"callPaused","eventDateTime":"2026-12-01T04:00:00Z"}"#),
            Err(Unreadable::UnknownEventType(_))
        ));
        assert_eq!(parse(br#"{"eventType":"callEnded","eventDateTime":"yesterday"}"#), Err(Unreadable::NoTime));
        let odd = br#"{"eventType":"rosterUpdated","eventDateTime":"2026-12-01T04:00:00Z","participants@delta":[1,null,{"info":7},{"info":{"identity":{"user":"x"}}}]}"#;
        assert_eq!(parse(odd).unwrap().change, Change::Roster(vec![]));
    }
}
