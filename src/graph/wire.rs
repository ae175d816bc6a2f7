//! Graph's JSON, both ways: the bodies we send and the tolerant reading of what comes back.
//!
//! Responses are read leniently: either generation of field names (`joinWebUrl`/`joinUrl`,
//! `tollNumbers[]`/`tollNumber`, `conferenceId`/`participantPasscode`), `null` anywhere, and unknown fields
//! ignored. Only a meeting without an id or without an `https://` join link is refused, because posting it
//! would put a wrong link in front of people.

use serde::{Deserialize, Deserializer, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::meeting::{DialIn, JoinById, Meeting, Origin};

/// Body of `POST /users/{id}/onlineMeetings/createOrGet`. Graph accepts no lobby settings here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrGetBody<'a> {
    pub external_id: &'a str,
    pub subject: &'a str,
    pub start_date_time: String,
    pub end_date_time: String,
}

/// Body of `POST /users/{id}/onlineMeetings` (a separate meeting).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody<'a> {
    pub subject: &'a str,
    pub start_date_time: String,
    pub end_date_time: String,
    pub lobby_bypass_settings: LobbyBypassSettings,
}

/// Body of `PATCH /users/{id}/onlineMeetings/{meetingId}` after createOrGet made a new meeting.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LobbyPatchBody {
    pub lobby_bypass_settings: LobbyBypassSettings,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LobbyBypassSettings {
    pub scope: &'static str,
    pub is_dial_in_bypass_enabled: bool,
}

/// An onlineMeeting as any Graph generation returns it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OnlineMeetingWire {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subject: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub join_web_url: Option<String>,
    /// The seeds' 2018 beta name for the join link.
    #[serde(deserialize_with = "lenient_string")]
    pub join_url: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub start_date_time: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub end_date_time: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub creation_date_time: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub external_id: Option<String>,
    #[serde(deserialize_with = "lenient_object")]
    pub audio_conferencing: Option<AudioConferencingWire>,
    #[serde(deserialize_with = "lenient_object")]
    pub join_meeting_id_settings: Option<JoinMeetingIdSettingsWire>,
    #[serde(deserialize_with = "lenient_object")]
    pub lobby_bypass_settings: Option<LobbyBypassWire>,
}

/// `lobbyBypassSettings` as Graph returns it: compared with the configured settings, so a meeting whose
/// lobby was never set (or was changed) gets them, whoever created it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LobbyBypassWire {
    #[serde(deserialize_with = "lenient_string")]
    pub scope: Option<String>,
    pub is_dial_in_bypass_enabled: Option<bool>,
}

impl LobbyBypassWire {
    /// Whether these are the settings `wanted` asks for. Unknown or missing fields count as different: a
    /// PATCH that changes nothing is harmless, a lobby left open is not.
    pub fn matches(&self, wanted: &LobbyBypassSettings) -> bool {
        self.scope.as_deref().is_some_and(|scope| scope.eq_ignore_ascii_case(wanted.scope))
            && self.is_dial_in_bypass_enabled == Some(wanted.is_dial_in_bypass_enabled)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AudioConferencingWire {
    #[serde(deserialize_with = "lenient_strings")]
    pub toll_numbers: Vec<String>,
    #[serde(deserialize_with = "lenient_strings")]
    pub toll_free_numbers: Vec<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub toll_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub toll_free_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub conference_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub participant_passcode: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub dialin_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JoinMeetingIdSettingsWire {
    #[serde(deserialize_with = "lenient_string")]
    pub join_meeting_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub passcode: Option<String>,
}

/// What is wrong with a meeting Graph returned, when it can't be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingShapeError {
    #[error("the response is not JSON: {0}")]
    NotJson(String),
    #[error("the meeting has no id")]
    MissingId,
    #[error("the meeting has no join link")]
    MissingJoinUrl,
    #[error("the join link is not an https:// URL")]
    BadJoinUrl,
}

impl OnlineMeetingWire {
    /// Parses a response body.
    ///
    /// # Errors
    /// [`MeetingShapeError::NotJson`] when the body is not a JSON object.
    pub fn parse(body: &[u8]) -> Result<Self, MeetingShapeError> {
        serde_json::from_slice(body).map_err(|e| MeetingShapeError::NotJson(e.to_string()))
    }

    /// The meeting as people see it.
    ///
    /// # Errors
    /// A meeting without an id or an `https://` join link: showing it would post a broken link.
    pub fn into_meeting(self, origin: Origin) -> Result<Meeting, MeetingShapeError> {
        self.into_meeting_and_lobby(origin).map(|(meeting, _)| meeting)
    }

    /// [`Self::into_meeting`], and the lobby settings the meeting has now (when Graph said).
    ///
    /// # Errors
    /// As [`Self::into_meeting`].
    pub fn into_meeting_and_lobby(
        self,
        origin: Origin,
    ) -> Result<(Meeting, Option<LobbyBypassWire>), MeetingShapeError> {
        let id = self.id.ok_or(MeetingShapeError::MissingId)?;
        let join_url = self.join_web_url.or(self.join_url).ok_or(MeetingShapeError::MissingJoinUrl)?;
        if !is_https_url(&join_url) {
            return Err(MeetingShapeError::BadJoinUrl);
        }
        let meeting = Meeting {
            id,
            subject: self.subject,
            join_url,
            starts_at: parse_time(self.start_date_time.as_deref()),
            ends_at: parse_time(self.end_date_time.as_deref()),
            created_at: parse_time(self.creation_date_time.as_deref()),
            external_id: self.external_id,
            dial_in: self.audio_conferencing.and_then(AudioConferencingWire::into_dial_in),
            join_by_id: self
                .join_meeting_id_settings
                .and_then(|s| Some(JoinById { meeting_id: s.join_meeting_id?, passcode: s.passcode })),
            origin,
            request_id: None,
        };
        Ok((meeting, self.lobby_bypass_settings))
    }
}

impl AudioConferencingWire {
    fn into_dial_in(self) -> Option<DialIn> {
        // The singular fields are deprecated copies of the arrays' first items: add them only when new.
        let merge = |mut list: Vec<String>, single: Option<String>| {
            if let Some(single) = single {
                if !list.contains(&single) {
                    list.insert(0, single);
                }
            }
            list
        };
        let dial_in = DialIn {
            toll_numbers: merge(self.toll_numbers, self.toll_number),
            toll_free_numbers: merge(self.toll_free_numbers, self.toll_free_number),
            conference_id: self.conference_id.or(self.participant_passcode),
            local_numbers_url: self.dialin_url.filter(|u| is_https_url(u)),
        };
        let has_numbers = !dial_in.toll_numbers.is_empty() || !dial_in.toll_free_numbers.is_empty();
        (has_numbers || dial_in.local_numbers_url.is_some()).then_some(dial_in)
    }
}

fn is_https_url(candidate: &str) -> bool {
    reqwest::Url::parse(candidate).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

pub(super) fn parse_time(value: Option<&str>) -> Option<OffsetDateTime> {
    value.and_then(|v| OffsetDateTime::parse(v, &Rfc3339).ok())
}

/// A string, a number read as its decimal text, or `None` for anything else (null, objects, arrays).
/// Empty strings count as absent.
pub(super) fn lenient_string<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(de)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_strings<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(de)? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// An object of type `T`, or `None` when the value is null or not such an object.
fn lenient_object<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(de)?;
    Ok(value.is_object().then(|| serde_json::from_value(value).ok()).flatten())
}

/// Graph's error body: `{"error":{"code","message","innerError":{"request-id","client-request-id"}}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorEnvelope {
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    #[serde(deserialize_with = "lenient_string")]
    pub code: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub message: Option<String>,
    #[serde(rename = "innerError", alias = "innererror", deserialize_with = "lenient_object")]
    pub inner_error: Option<InnerErrorBody>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InnerErrorBody {
    #[serde(rename = "request-id", deserialize_with = "lenient_string")]
    pub request_id: Option<String>,
    #[serde(rename = "client-request-id", deserialize_with = "lenient_string")]
    pub client_request_id: Option<String>,
}

/// A successful token response.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Seconds; some endpoints send it as a string.
    #[serde(deserialize_with = "lenient_string", default)]
    pub expires_in: Option<String>,
    /// Unix seconds: what managed-identity endpoints send, App Service's instead of `expires_in`.
    #[serde(deserialize_with = "lenient_string", default)]
    pub expires_on: Option<String>,
}

/// A managed-identity endpoint's refusal, in whichever of its shapes: the instance metadata service's
/// `{"error","error_description"}`, App Service's `{"statusCode","message"}` or `{"error":{"code","message"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IdentityErrorBody {
    pub error: serde_json::Value,
    #[serde(deserialize_with = "lenient_string")]
    pub error_description: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub message: Option<String>,
}

impl IdentityErrorBody {
    /// The endpoint's explanation, whichever field it put it in.
    pub fn explanation(&self) -> Option<String> {
        let nested = self.error.get("message").and_then(serde_json::Value::as_str).map(str::to_owned);
        self.error_description.clone().or_else(|| self.message.clone()).or(nested)
    }
}

/// A failed token response: `{"error","error_description","error_codes":[7000215],"trace_id","correlation_id"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenErrorBody {
    #[serde(deserialize_with = "lenient_string")]
    pub error: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub error_description: Option<String>,
    pub error_codes: Vec<serde_json::Value>,
    #[serde(deserialize_with = "lenient_string")]
    pub trace_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub correlation_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_shape_error_says_what_is_missing() {
        for (problem, reads) in [
            (
                MeetingShapeError::NotJson("expected value at line 1".into()),
                "the response is not JSON: expected value at line 1",
            ),
            (MeetingShapeError::MissingId, "the meeting has no id"),
            (MeetingShapeError::MissingJoinUrl, "the meeting has no join link"),
            (MeetingShapeError::BadJoinUrl, "the join link is not an https:// URL"),
        ] {
            assert_eq!(problem.to_string(), reads);
        }
    }

    fn meeting(value: serde_json::Value) -> Result<Meeting, MeetingShapeError> {
        OnlineMeetingWire::parse(value.to_string().as_bytes())?.into_meeting(Origin::Created)
    }

    #[test]
    fn v1_meeting_with_full_dial_in() {
        let m = meeting(json!({
            "id": "MSo1", "subject": "Sev1", "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x",
            "startDateTime": "2026-11-22T18:00:00.1234567Z", "creationDateTime": "2026-11-22T17:59:59Z",
            "audioConferencing": {
                "conferenceId": "123456789", "tollNumber": "+12065550100", "tollNumbers": ["+12065550100", "+442075550100"],
                "tollFreeNumber": null, "tollFreeNumbers": ["+18665550199"],
                "dialinUrl": "https://dialin.teams.microsoft.com/abc?id=123456789"
            },
            "joinMeetingIdSettings": {"joinMeetingId": "25012345678901", "passcode": "aB3dE", "isPasscodeRequired": true},
            "someFieldFrom2030": {"nested": [1, 2]}
        }))
        .unwrap();
        let d = m.dial_in.unwrap();
        assert_eq!(d.toll_numbers, vec!["+12065550100", "+442075550100"], "singular copy is not added twice");
        assert_eq!(d.toll_free_numbers, vec!["+18665550199"]);
        assert_eq!(d.conference_id.as_deref(), Some("123456789"));
        assert_eq!(m.join_by_id.unwrap().passcode.as_deref(), Some("aB3dE"));
        assert_eq!(m.starts_at.unwrap().nanosecond(), 123_456_700);
    }

    #[test]
    fn no_audio_conferencing_means_no_dial_in() {
        for ac in [json!(null), json!({}), json!({"tollNumbers": [], "tollFreeNumbers": null})] {
            let m = meeting(json!({"id": "1", "joinWebUrl": "https://t/x", "audioConferencing": ac})).unwrap();
            assert_eq!(m.dial_in, None);
        }
        let m = meeting(json!({"id": "1", "joinWebUrl": "https://t/x"})).unwrap();
        assert_eq!(m.dial_in, None);
    }

    #[test]
    fn a_meeting_without_a_safe_link_is_refused() {
        assert_eq!(meeting(json!({"joinWebUrl": "https://t/x"})), Err(MeetingShapeError::MissingId));
        assert_eq!(meeting(json!({"id": "1"})), Err(MeetingShapeError::MissingJoinUrl));
        assert_eq!(
            meeting(json!({"id": "1", "joinWebUrl": "javascript:alert(1)"})),
            Err(MeetingShapeError::BadJoinUrl)
        );
        assert_eq!(meeting(json!({"id": "1", "joinWebUrl": "http://t/x"})), Err(MeetingShapeError::BadJoinUrl));
        assert!(matches!(OnlineMeetingWire::parse(b"<html>502</html>"), Err(MeetingShapeError::NotJson(_))));
    }

    #[test]
    fn wrong_types_are_tolerated_not_fatal() {
        let m = meeting(json!({
            "id": 42, "joinWebUrl": "https://t/x", "subject": ["?"],
            "audioConferencing": {"tollNumbers": "oops", "tollNumber": "+1", "conferenceId": 77},
            "joinMeetingIdSettings": "weird"
        }))
        .unwrap();
        assert_eq!(m.id, "42");
        assert_eq!(m.subject, None);
        let d = m.dial_in.unwrap();
        assert_eq!(d.toll_numbers, vec!["+1"]);
        assert_eq!(d.conference_id.as_deref(), Some("77"));
        assert_eq!(m.join_by_id, None);
    }

    #[test]
    fn error_body_fields_become_data() {
        let body: ErrorEnvelope = serde_json::from_value(json!({"error": {
            "code": "General", "message": "No application access policy found for this app.",
            "innerError": {"request-id": "r-1", "client-request-id": "c-1", "date": "2026-11-22T18:00:00"}
        }}))
        .unwrap();
        let e = body.error.unwrap();
        assert_eq!(e.code.as_deref(), Some("General"));
        assert_eq!(e.inner_error.unwrap().request_id.as_deref(), Some("r-1"));
    }

    #[test]
    fn request_bodies_use_graph_names() {
        let body = serde_json::to_value(CreateBody {
            subject: "s",
            start_date_time: "a".into(),
            end_date_time: "b".into(),
            lobby_bypass_settings: LobbyBypassSettings { scope: "organization", is_dial_in_bypass_enabled: true },
        })
        .unwrap();
        assert_eq!(body["lobbyBypassSettings"]["isDialInBypassEnabled"], json!(true));
        assert_eq!(body["startDateTime"], json!("a"));
    }
}

#[cfg(test)]
mod properties;
