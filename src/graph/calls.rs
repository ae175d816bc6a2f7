//! Graph's calls API (v1.0), for ringing someone into a bridge, and the directory they are found in.
//!
//! Endpoints, and the application permission each needs (the app must also be an Azure Bot with Teams calling
//! enabled, or Graph refuses every call):
//! - `POST /communications/calls` (`Calls.JoinGroupCall.All`): joins the bridge's meeting with service-hosted
//!   media (no media stack here), from the coordinates in its join link ([`MeetingCoordinates`]). The answer
//!   is 201 with the call, `establishing`; Graph posts its notifications to `callbackUri`. Not idempotent:
//!   repeated only when the request can't have reached Graph.
//! - `GET /communications/calls/{id}`: its `state` (`establishing`, `established`, …, `terminated`).
//! - `POST /communications/calls/{id}/participants/invite` (`Calls.InitiateGroupCall.All`): rings one person;
//!   the answer is an `inviteParticipantsOperation`, `GET /communications/calls/{id}/operations/{op}` its
//!   progress (`running`, then `completed` when they joined or `failed` with a `resultInfo`).
//! - `DELETE /communications/calls/{id}`: hangs up (the bot leaves; the meeting goes on). 404: already gone.
//! - `GET /users?$search=…` with `ConsistencyLevel: eventual`, `GET /users/{id or userPrincipalName}` and
//!   `GET /users?$filter=mail eq '…'` (`User.ReadBasic.All`): the people who can be rung.
//!
//! <https://learn.microsoft.com/graph/api/application-post-calls>,
//! <https://learn.microsoft.com/graph/api/participant-invite>, <https://learn.microsoft.com/graph/api/call-delete>,
//! <https://learn.microsoft.com/graph/search-query-parameter>

use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};

use super::retry::Repeat;
use super::{GraphClient, GraphError, MeetingShapeError};

/// The application permissions ringing needs.
pub const RING_ROLES: [&str; 3] = ["Calls.JoinGroupCall.All", "Calls.InitiateGroupCall.All", "User.ReadBasic.All"];

/// The most people a directory search returns: Discord shows at most 25 choices.
pub const MAX_SUGGESTIONS: usize = 25;

/// Where a meeting is, as the calls API takes it: the chat thread and message from the join link's path, the
/// organizer and tenant from its `context`. (The `call` resource page shows a join link split this way.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingCoordinates {
    /// `19:meeting_…@thread.v2`.
    pub thread_id: String,
    /// `0` for a meeting's own thread.
    pub message_id: String,
    pub organizer_id: String,
    pub tenant_id: String,
}

impl MeetingCoordinates {
    /// Reads `https://teams.microsoft.com/l/meetup-join/{thread}/{message}?context={"Tid":…,"Oid":…}`;
    /// `None` for a link of another shape.
    pub fn from_join_url(join_url: &str) -> Option<Self> {
        let url = Url::parse(join_url).ok()?;
        let mut segments = url.path_segments()?.skip_while(|s| *s != "meetup-join").skip(1);
        let decode = |s: &str| percent_decode(s).filter(|s| !s.is_empty() && s.len() <= 256);
        let thread_id = decode(segments.next()?)?;
        let message_id = decode(segments.next()?)?;
        let context = url.query_pairs().find(|(k, _)| k == "context").map(|(_, v)| v.into_owned())?;
        #[derive(Deserialize)]
        struct Context {
            #[serde(rename = "Tid")]
            tid: String,
            #[serde(rename = "Oid")]
            oid: String,
        }
        let context: Context = serde_json::from_str(&context).ok()?;
        let id_ok =
            |s: &str| !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        (thread_id.starts_with("19:") && id_ok(&context.tid) && id_ok(&context.oid)).then_some(Self {
            thread_id,
            message_id,
            organizer_id: context.oid,
            tenant_id: context.tid,
        })
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes: Vec<u8> =
        url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

/// A call's state, as far as a ring cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Establishing,
    Established,
    /// `terminating` or `terminated`: the call is over (it may have been refused after its 201).
    Ended,
    /// Anything else (`hold`, `transferring`, an unknown future value): wait.
    Other,
}

impl CallState {
    fn from_wire(state: Option<&str>) -> Self {
        match state {
            Some("establishing") => Self::Establishing,
            Some("established") => Self::Established,
            Some("terminating" | "terminated") => Self::Ended,
            _ => Self::Other,
        }
    }
}

/// A call the bot is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: String,
    pub state: CallState,
    /// Why it ended, when it did (`resultInfo`).
    pub result: Option<ResultInfo>,
}

/// Graph's `resultInfo`: how an operation or a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default)]
pub struct ResultInfo {
    pub code: i64,
    pub subcode: i64,
    pub message: Option<String>,
}

/// Where an invitation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitation {
    /// `notStarted` or `running`: still ringing.
    Ringing,
    /// `completed`: they joined.
    Joined,
    /// `failed`, with why.
    Failed(ResultInfo),
}

/// One invitation (`inviteParticipantsOperation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteOperation {
    pub id: String,
    pub status: Invitation,
}

/// Someone in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The Entra object id.
    pub id: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
}

impl Person {
    /// The address shown beside the name: their mail, else their sign-in name.
    pub fn address(&self) -> Option<&str> {
        self.mail.as_deref().or(self.user_principal_name.as_deref())
    }
}

#[derive(Serialize)]
struct ODataType {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JoinBody<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    callback_uri: &'a str,
    requested_modalities: [&'static str; 1],
    media_config: ODataType,
    chat_info: ChatInfo<'a>,
    meeting_info: OrganizerMeetingInfo<'a>,
    tenant_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatInfo<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    thread_id: &'a str,
    message_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrganizerMeetingInfo<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    organizer: IdentitySet<'a>,
    allow_conversation_without_host: bool,
}

#[derive(Serialize)]
struct IdentitySet<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    user: Identity<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<&'a str>,
}

fn user_identity<'a>(id: &'a str, tenant_id: Option<&'a str>) -> IdentitySet<'a> {
    IdentitySet {
        odata_type: "#microsoft.graph.identitySet",
        user: Identity { odata_type: "#microsoft.graph.identity", id, tenant_id },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InviteBody<'a> {
    participants: [Invitee<'a>; 1],
    client_context: &'a str,
}

#[derive(Serialize)]
struct Invitee<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    identity: IdentitySet<'a>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct CallWire {
    id: Option<String>,
    state: Option<String>,
    result_info: Option<ResultInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OperationWire {
    id: Option<String>,
    status: Option<String>,
    result_info: Option<ResultInfo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct UserWire {
    id: Option<String>,
    display_name: Option<String>,
    mail: Option<String>,
    user_principal_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UsersWire {
    value: Vec<UserWire>,
}

/// Graph's ids are GUIDs or opaque strings of a few dozen characters; anything longer is not one.
fn bounded_id(id: Option<String>) -> Option<String> {
    id.filter(|id| !id.is_empty() && id.len() <= 256 && !id.contains(['/', '?', '#']))
}

fn shape(problem: impl Into<String>) -> MeetingShapeError {
    MeetingShapeError::NotJson(problem.into())
}

impl UserWire {
    fn into_person(self) -> Option<Person> {
        let id = bounded_id(self.id)?;
        let short = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty() && s.len() <= 256);
        let mail = short(self.mail);
        let user_principal_name = short(self.user_principal_name);
        let display_name = short(self.display_name).or_else(|| mail.clone()).unwrap_or_else(|| id.clone());
        Some(Person { id, display_name, mail, user_principal_name })
    }
}

fn read_call(body: &[u8]) -> Result<Call, MeetingShapeError> {
    let wire: CallWire = serde_json::from_slice(body).map_err(|e| shape(format!("not a call: {e}")))?;
    let id = bounded_id(wire.id).ok_or_else(|| shape("a call without an id"))?;
    Ok(Call { id, state: CallState::from_wire(wire.state.as_deref()), result: wire.result_info })
}

fn read_operation(body: &[u8]) -> Result<InviteOperation, MeetingShapeError> {
    let wire: OperationWire = serde_json::from_slice(body).map_err(|e| shape(format!("not an operation: {e}")))?;
    wire.into_operation()
}

impl OperationWire {
    fn into_operation(self) -> Result<InviteOperation, MeetingShapeError> {
        let wire = self;
        let id = bounded_id(wire.id).ok_or_else(|| shape("an operation without an id"))?;
        // Graph's metadata spells the members `NotStarted`, `Running`, `Completed`, `Failed`; its pages show them
        // in camel case (`completed`). Either is read.
        let status = match wire.status.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("completed") => Invitation::Joined,
            Some("failed") => Invitation::Failed(wire.result_info.unwrap_or_default()),
            _ => Invitation::Ringing,
        };
        Ok(InviteOperation { id, status })
    }
}

impl InviteOperation {
    /// The operation a call notification's `resourceData` carries, when it is one.
    pub fn from_notification(data: &serde_json::Value) -> Option<Self> {
        let odata = data.get("@odata.type").and_then(serde_json::Value::as_str)?;
        if !odata.eq_ignore_ascii_case("#microsoft.graph.inviteParticipantsOperation") {
            return None;
        }
        OperationWire::deserialize(data).ok()?.into_operation().ok()
    }
}

impl CallState {
    /// The state a call notification's `resourceData` carries, when it is a call.
    pub fn from_notification(data: &serde_json::Value) -> Option<Self> {
        let odata = data.get("@odata.type").and_then(serde_json::Value::as_str)?;
        odata
            .eq_ignore_ascii_case("#microsoft.graph.call")
            .then(|| Self::from_wire(data.get("state").and_then(serde_json::Value::as_str)))
    }
}

/// Whether a Graph error says the thing asked about does not exist (404).
pub fn is_not_found(error: &GraphError) -> bool {
    error.api().is_some_and(|api| api.status == 404)
}

impl GraphClient {
    fn v1(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.graph_endpoint.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1.0").extend(segments);
        }
        url
    }

    /// Joins the meeting at `meeting` with service-hosted media; Graph posts the call's notifications to
    /// `callback_uri`.
    ///
    /// # Errors
    /// [`GraphError`]: 403 when the app lacks `Calls.JoinGroupCall.All` or calling is not enabled on its bot
    /// registration.
    pub async fn join_meeting(&self, meeting: &MeetingCoordinates, callback_uri: &str) -> Result<Call, GraphError> {
        let body = JoinBody {
            odata_type: "#microsoft.graph.call",
            callback_uri,
            requested_modalities: ["audio"],
            media_config: ODataType { odata_type: "#microsoft.graph.serviceHostedMediaConfig" },
            chat_info: ChatInfo {
                odata_type: "#microsoft.graph.chatInfo",
                thread_id: &meeting.thread_id,
                message_id: &meeting.message_id,
            },
            meeting_info: OrganizerMeetingInfo {
                odata_type: "#microsoft.graph.organizerMeetingInfo",
                organizer: user_identity(&meeting.organizer_id, Some(&meeting.tenant_id)),
                allow_conversation_without_host: true,
            },
            tenant_id: &meeting.tenant_id,
        };
        let url = self.v1(&["communications", "calls"]);
        self.send(Method::POST, url, Some(&body), Repeat::OnlyIfNotDelivered, |answer| read_call(&answer.body)).await
    }

    /// The call `call_id` as it is now; `None` once Graph no longer has it.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn call(&self, call_id: &str) -> Result<Option<Call>, GraphError> {
        let url = self.v1(&["communications", "calls", call_id]);
        match self.send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| read_call(&answer.body)).await {
            Ok(call) => Ok(Some(call)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Rings `person_id` into the call. `client_context` comes back on the operation.
    ///
    /// # Errors
    /// [`GraphError`]: 403 without `Calls.InitiateGroupCall.All`; 404 when the person can't be found.
    pub async fn invite(
        &self,
        call_id: &str,
        person_id: &str,
        tenant_id: &str,
        client_context: &str,
    ) -> Result<InviteOperation, GraphError> {
        let body = InviteBody {
            participants: [Invitee {
                odata_type: "#microsoft.graph.invitationParticipantInfo",
                identity: user_identity(person_id, Some(tenant_id)),
            }],
            client_context,
        };
        let url = self.v1(&["communications", "calls", call_id, "participants", "invite"]);
        // Not repeated once it may have reached Graph: a second invitation would ring twice.
        self.send(Method::POST, url, Some(&body), Repeat::OnlyIfNotDelivered, |answer| read_operation(&answer.body))
            .await
    }

    /// Where the invitation `operation_id` is now.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn operation(&self, call_id: &str, operation_id: &str) -> Result<InviteOperation, GraphError> {
        let url = self.v1(&["communications", "calls", call_id, "operations", operation_id]);
        self.send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| read_operation(&answer.body)).await
    }

    /// Hangs up: the bot leaves the call. A call Graph no longer has is hung up already.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn hang_up(&self, call_id: &str) -> Result<(), GraphError> {
        let url = self.v1(&["communications", "calls", call_id]);
        match self.send(Method::DELETE, url, None::<&()>, Repeat::Safe, |_| Ok(())).await {
            Err(error) if !is_not_found(&error) => Err(error),
            _ => Ok(()),
        }
    }

    /// People whose name, mail or sign-in name starts with a word of `query` (Graph's `$search` tokenises):
    /// at most [`MAX_SUGGESTIONS`], users only.
    ///
    /// # Errors
    /// [`GraphError`]: 403 without `User.ReadBasic.All`.
    pub async fn search_people(&self, query: &str) -> Result<Vec<Person>, GraphError> {
        // `$search` takes "property:term" clauses in double quotes; a quote or backslash in the term would
        // end it early, so they go (nobody's name needs them to be found).
        let term: String = query.chars().filter(|c| !matches!(c, '"' | '\\')).collect();
        let term = term.trim();
        if term.is_empty() {
            return Ok(Vec::new());
        }
        let mut url = self.v1(&["users"]);
        url.query_pairs_mut()
            .append_pair(
                "$search",
                &format!("\"displayName:{term}\" OR \"mail:{term}\" OR \"userPrincipalName:{term}\""),
            )
            .append_pair("$select", "id,displayName,mail,userPrincipalName")
            .append_pair("$top", &MAX_SUGGESTIONS.to_string());
        let headers = [("ConsistencyLevel", "eventual")];
        self.send_with_headers(Method::GET, url, None::<&()>, &headers, Repeat::Safe, |answer| {
            let users: UsersWire =
                serde_json::from_slice(&answer.body).map_err(|e| shape(format!("not a list of users: {e}")))?;
            Ok(users.value.into_iter().filter_map(UserWire::into_person).take(MAX_SUGGESTIONS).collect())
        })
        .await
    }

    /// The person `key` names: an object id or a user principal name (`GET /users/{key}`), else a mail
    /// address (`$filter=mail eq '…'`). `None` when nobody is.
    ///
    /// # Errors
    /// [`GraphError`]: 403 without `User.ReadBasic.All`.
    pub async fn person(&self, key: &str) -> Result<Option<Person>, GraphError> {
        let read_one = |body: &[u8]| -> Result<Option<Person>, MeetingShapeError> {
            let user: UserWire = serde_json::from_slice(body).map_err(|e| shape(format!("not a user: {e}")))?;
            Ok(user.into_person())
        };
        let mut url = self.v1(&["users", key]);
        url.query_pairs_mut().append_pair("$select", "id,displayName,mail,userPrincipalName");
        match self.send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| read_one(&answer.body)).await {
            Ok(Some(person)) => return Ok(Some(person)),
            Ok(None) => return Ok(None),
            Err(error) if is_not_found(&error) && key.contains('@') => {}
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(error),
        }
        // Not a sign-in name: perhaps a mail address that differs from it. A quote in an OData string is doubled.
        let mut url = self.v1(&["users"]);
        url.query_pairs_mut()
            .append_pair("$filter", &format!("mail eq '{}'", key.replace('\'', "''")))
            .append_pair("$select", "id,displayName,mail,userPrincipalName")
            .append_pair("$top", "2");
        self.send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| {
            let users: UsersWire =
                serde_json::from_slice(&answer.body).map_err(|e| shape(format!("not a list of users: {e}")))?;
            let mut people: Vec<Person> = users.value.into_iter().filter_map(UserWire::into_person).collect();
            // Two people with one address is no answer.
            Ok((people.len() == 1).then(|| people.remove(0)))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_join_link_splits_into_the_meeting_coordinates() {
        let link = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3NDI3ZTgxNDQz%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22550fae72-d251-43ec-868c-373732c2704f%22%7d";
        assert_eq!(
            MeetingCoordinates::from_join_url(link),
            Some(MeetingCoordinates {
                thread_id: "19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3NDI3ZTgxNDQz@thread.v2".into(),
                message_id: "0".into(),
                organizer_id: "550fae72-d251-43ec-868c-373732c2704f".into(),
                tenant_id: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
            })
        );
        for other in [
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%22Tid%22%3a%22a%2fb%22%2c%22Oid%22%3a%22c%22%7d",
            "https://teams.microsoft.com/meet/1234567890?p=abc",
            "not a link",
        ] {
            assert_eq!(MeetingCoordinates::from_join_url(other), None, "{other}");
        }
    }

    #[test]
    fn an_operation_reads_as_ringing_joined_or_failed_with_why() {
        let read = |body: &str| read_operation(body.as_bytes()).map(|op| op.status);
        assert_eq!(read(r#"{"id":"op","status":"running"}"#), Ok(Invitation::Ringing));
        assert_eq!(read(r#"{"id":"op","status":"completed"}"#), Ok(Invitation::Joined));
        assert_eq!(read(r#"{"id":"op","status":"Completed"}"#), Ok(Invitation::Joined), "as the metadata spells it");
        let declined =
            read(r#"{"id":"op","status":"failed","resultInfo":{"code":603,"subcode":0,"message":"Declined"}}"#);
        assert_eq!(
            declined,
            Ok(Invitation::Failed(ResultInfo { code: 603, subcode: 0, message: Some("Declined".into()) }))
        );
        assert!(read(r#"{"status":"running"}"#).is_err(), "an operation must have an id");
        assert!(read(r#"{"id":"../../users","status":"running"}"#).is_err(), "an id is not a path");
    }
}
