//! The Graph stand-in's calls API (v1.0) and directory, for ringing, as Microsoft's pages describe them:
//!
//! - `POST /communications/calls` checks the body against Microsoft's `call` type (service-hosted media, a
//!   `chatInfo` and `organizerMeetingInfo` naming a meeting that exists, a `callbackUri` that is `https://` or
//!   loopback), needs `Calls.JoinGroupCall.All` and calling enabled on the app's bot registration (else 403),
//!   and answers 201 with the call `establishing`; a moment later the call is `established` and Graph posts
//!   that to the callback.
//! - `POST …/participants/invite` needs `Calls.InitiateGroupCall.All` and an established call, refuses a second
//!   invitation of someone still being rung (409), and answers 200 with an `inviteParticipantsOperation`
//!   (`Running`: Graph's metadata spells `operationStatus` members in Pascal case, its pages in camel case;
//!   the schema's spelling is sent) and its `Location`. The person's phone rings then (recorded); what they do is theirs
//!   ([`Answers`]): the operation then completes (they joined, a participant is added) or fails with a
//!   `resultInfo` (603 declined, 408 when Teams stops ringing, 404 with no Teams account), posted to the
//!   callback as Graph does.
//! - `GET` of the call, its operation, its participants; `DELETE` hangs up (Graph posts the call's end).
//! - Every notification carries `Authorization: Bearer` with a JWT signed RS256 by the key published at
//!   `{url}/calls/keys` (via the OpenID configuration at `{url}/calls/.well-known/OpenIdConfiguration`),
//!   issuer `https://graph.microsoft.com`, audience the app; every one sent is checked against Microsoft's
//!   `commsNotifications` and the types of its resource data.
//! - `GET /users` with `$search` needs `ConsistencyLevel: eventual` (else Graph's 400) and `User.ReadBasic.All`;
//!   `GET /users/{id or userPrincipalName}`, and `$filter=mail eq '…'`. Directory answers can be slowed.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::subscriptions::{rsa_key, ENTRA_KEY};
use super::{graph_error, AppState, GraphStandIn, CLIENT_ID, ORGANIZER, TENANT};
use crate::support::schema;

/// The key id the calling service's notifications are signed under.
pub const CALLS_KID: &str = "stand-in-calls-key-1";
/// The permissions ringing needs.
pub const RING_ROLES: [&str; 3] = ["Calls.JoinGroupCall.All", "Calls.InitiateGroupCall.All", "User.ReadBasic.All"];

/// What a person does when Teams rings them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// Picks up after this long and joins the bridge.
    Joins(Duration),
    /// Declines after this long.
    Declines(Duration),
    /// Never picks up; Teams itself stops ringing after this long (408).
    TeamsStopsRinging(Duration),
    /// Never picks up, and Teams keeps ringing until the bot gives up.
    Never,
}

/// Someone in the directory.
#[derive(Debug, Clone)]
pub struct Colleague {
    pub id: String,
    pub name: String,
    pub mail: String,
    pub upn: String,
    pub answers: Answers,
    /// `false`: no Teams account to ring (no licence).
    pub has_teams: bool,
}

impl Colleague {
    /// `name`, whose mail and sign-in name are `{login}@contoso.com`, with object id `id`.
    pub fn new(id: &str, name: &str, login: &str, answers: Answers) -> Self {
        let mail = format!("{login}@contoso.com");
        Self { id: id.into(), name: name.into(), upn: mail.clone(), mail, answers, has_teams: true }
    }

    pub fn without_teams(mut self) -> Self {
        self.has_teams = false;
        self
    }

    fn json(&self) -> Value {
        json!({"id": self.id, "displayName": self.name, "mail": self.mail, "userPrincipalName": self.upn})
    }
}

/// One invitation: who, when their phone rang, and how it stands.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub person: String,
    pub operation: String,
    pub rung_at: Instant,
    pub status: &'static str,
    pub result: Option<(i64, &'static str)>,
}

/// One call of the bot's.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub id: String,
    pub callback: String,
    pub body: Value,
    pub created: Instant,
    pub state: &'static str,
    pub deleted: Option<Instant>,
    pub invitations: Vec<Invitation>,
    /// Object ids of those who joined through an invitation.
    pub participants: Vec<String>,
}

#[derive(Default)]
pub struct Calls {
    pub calls: Vec<StoredCall>,
    directory: Vec<Colleague>,
    directory_latency: Duration,
    calling_disabled: bool,
    /// The next invitation is answered 429 with this `Retry-After`.
    throttle_next_invite: Option<u64>,
    serial: u64,
    /// Status of every notification posted to a callback.
    pub delivered: Vec<u16>,
    pub searches: u32,
}

fn bearer_ok(app: &AppState, headers: &HeaderMap) -> bool {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|a| a.strip_prefix("Bearer "));
    token.is_some_and(|t| app.inner.lock().unwrap().tokens.contains(t))
}

fn has_role(app: &AppState, role: &str) -> bool {
    app.inner.lock().unwrap().roles.iter().any(|r| r == role)
}

fn unauthorized() -> Response {
    graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty or invalid.", None)
}

fn forbidden_calls() -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "7504",
        "Insufficient enterprise tenant permissions, cannot access this API.",
        None,
    )
}

fn record(app: &AppState, method: &str, path: String, body: Value, status: u16) {
    let mut s = app.inner.lock().unwrap();
    s.requests.push(super::Recorded {
        method: method.into(),
        path,
        body,
        client_request_id: None,
        prefer: None,
        status,
        interval: None,
        meeting_id: None,
    });
    drop(s);
    app.changed.notify_waiters();
}

/// The stand-in's latency (`GraphStandIn::set_latency`), as every Graph request has it.
async fn delay(app: &AppState) {
    let latency = app.inner.lock().unwrap().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

fn call_json(call: &StoredCall) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.call",
        "id": call.id, "state": call.state, "direction": "outgoing", "callbackUri": call.callback,
        "requestedModalities": ["audio"], "tenantId": TENANT,
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        "chatInfo": call.body["chatInfo"], "meetingInfo": call.body["meetingInfo"],
        "myParticipantId": format!("{}-bot", call.id),
    })
}

fn operation_json(invitation: &Invitation) -> Value {
    let mut operation = json!({
        "@odata.type": "#microsoft.graph.inviteParticipantsOperation",
        "id": invitation.operation, "status": invitation.status, "clientContext": "meetnow ring",
        "participants": [{
            "@odata.type": "#microsoft.graph.invitationParticipantInfo",
            "identity": {"@odata.type": "#microsoft.graph.identitySet", "user": {"@odata.type": "#microsoft.graph.identity", "id": invitation.person}},
        }],
    });
    if let Some((code, message)) = invitation.result {
        operation["resultInfo"] =
            json!({"@odata.type": "#microsoft.graph.resultInfo", "code": code, "subcode": 0, "message": message});
    }
    operation
}

/// The meeting serial a `19:meeting_{serial}@thread.v2` names.
fn meeting_serial(thread: &str) -> Option<u64> {
    thread.strip_prefix("19:meeting_")?.strip_suffix("@thread.v2")?.parse().ok()
}

/// A token as the calling service signs one (`kid`, `aud` and `iss` as given).
pub fn call_token(kid: &str, audience: &str, issuer: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims =
        json!({"aud": audience, "iss": issuer, "iat": now - 60, "nbf": now - 60, "exp": now + 3600, "tid": TENANT});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = jsonwebtoken::EncodingKey::from_rsa_der(rsa_key(ENTRA_KEY).to_pkcs1_der().unwrap().as_bytes());
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

impl GraphStandIn {
    fn with_calls<T>(&self, f: impl FnOnce(&mut Calls) -> T) -> T {
        f(&mut self.inner.lock().unwrap().calls)
    }

    /// What a deployment sets to ring (waiting 5 s for an answer, so a test is not a minute long), the
    /// signing keys of call notifications published here.
    pub fn ring_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MEETNOW_RING", "true".into()),
            ("MEETNOW_RING_SECONDS", "5".into()),
            ("MEETNOW_CALLS_OPENID_CONFIGURATION", format!("{}/calls/.well-known/OpenIdConfiguration", self.url)),
        ]
    }

    /// Grants the app what ringing needs, on top of creating meetings.
    pub fn allow_ringing(&self) {
        let mut roles = vec![super::ROLE];
        roles.extend(RING_ROLES);
        self.set_roles(&roles);
    }

    /// Adds someone to the directory.
    pub fn add_colleague(&self, colleague: Colleague) {
        self.with_calls(|c| c.directory.push(colleague));
    }
    /// Directory answers take this long.
    pub fn set_directory_latency(&self, latency: Duration) {
        self.with_calls(|c| c.directory_latency = latency);
    }
    /// Graph throttles the next invitation: 429 with `Retry-After: seconds`.
    pub fn throttle_next_invite(&self, seconds: u64) {
        self.with_calls(|c| c.throttle_next_invite = Some(seconds));
    }
    /// The app's bot registration has Teams calling off: every call is refused with 403.
    pub fn disable_calling(&self) {
        self.with_calls(|c| c.calling_disabled = true);
    }
    pub fn calls(&self) -> Vec<StoredCall> {
        self.with_calls(|c| c.calls.clone())
    }
    /// Calls the bot is still on.
    pub fn open_calls(&self) -> usize {
        self.with_calls(|c| c.calls.iter().filter(|call| call.deleted.is_none()).count())
    }
    /// Every invitation, in order: whose phone rang.
    pub fn rung(&self) -> Vec<String> {
        self.with_calls(|c| c.calls.iter().flat_map(|call| call.invitations.iter().map(|i| i.person.clone())).collect())
    }
    pub fn directory_searches(&self) -> u32 {
        self.with_calls(|c| c.searches)
    }
    /// Statuses the bot answered call notifications with.
    pub fn call_notifications_delivered(&self) -> Vec<u16> {
        self.with_calls(|c| c.delivered.clone())
    }
}

async fn notify(app: AppState, call_id: String, resource_url: String, change: &str, data: Value) {
    let callback = {
        let s = app.inner.lock().unwrap();
        match s.calls.calls.iter().find(|c| c.id == call_id) {
            Some(call) => call.callback.clone(),
            None => return,
        }
    };
    let body = json!({"value": [{
        "@odata.type": "#microsoft.graph.commsNotification",
        "changeType": change, "resourceUrl": resource_url, "resourceData": data,
    }]});
    let mut violations =
        schema::calls_type("#/x-csdl-derived-schemas/microsoft.graph.commsNotifications").violations(&body);
    let first = if data.is_array() { &data[0] } else { &data };
    let data_type = match first["@odata.type"].as_str() {
        Some("#microsoft.graph.call") => Some("#/components/schemas/microsoft.graph.call"),
        Some("#microsoft.graph.inviteParticipantsOperation") => {
            Some("#/components/schemas/microsoft.graph.inviteParticipantsOperation")
        }
        Some("#microsoft.graph.participant") => Some("#/components/schemas/microsoft.graph.participant"),
        _ => None,
    };
    if let Some(reference) = data_type {
        let each = data.as_array().cloned().unwrap_or_else(|| vec![data.clone()]);
        for one in &each {
            violations.extend(schema::calls_type(reference).violations(one));
        }
    }
    let token = call_token(CALLS_KID, CLIENT_ID, "https://graph.microsoft.com");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
    let status = match client.post(&callback).bearer_auth(token).json(&body).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    let mut s = app.inner.lock().unwrap();
    s.violations.extend(violations.into_iter().map(|v| format!("commsNotification: {v}")));
    s.calls.delivered.push(status);
    drop(s);
    app.changed.notify_waiters();
}

pub(super) async fn openid_configuration(State(app): State<AppState>) -> Response {
    let base = app.inner.lock().unwrap().base_url.clone();
    axum::Json(json!({
        "issuer": "https://graph.microsoft.com",
        "jwks_uri": format!("{base}/calls/keys"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

pub(super) async fn keys() -> Response {
    let key = rsa_key(ENTRA_KEY);
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    axum::Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": CALLS_KID, "alg": "RS256",
        "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()),
    }]}))
    .into_response()
}

pub(super) async fn create_call(State(app): State<AppState>, headers: HeaderMap, raw: Bytes) -> Response {
    delay(&app).await;
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let answer = create_call_answer(&app, &headers, &body);
    record(&app, "POST", "/v1.0/communications/calls".into(), body, answer.status().as_u16());
    answer
}

fn create_call_answer(app: &AppState, headers: &HeaderMap, body: &Value) -> Response {
    if !bearer_ok(app, headers) {
        return unauthorized();
    }
    let violations = schema::calls_type("#/components/schemas/microsoft.graph.call").violations(body);
    if !violations.is_empty() {
        let message = format!("Invalid request body: {}", violations.join("; "));
        app.inner.lock().unwrap().violations.extend(violations);
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, None);
    }
    if !has_role(app, "Calls.JoinGroupCall.All") || app.inner.lock().unwrap().calls.calling_disabled {
        return forbidden_calls();
    }
    let callback = body["callbackUri"].as_str().unwrap_or_default().to_owned();
    let callback_ok = callback.starts_with("https://") || callback.starts_with("http://127.0.0.1");
    let service_hosted = body["mediaConfig"]["@odata.type"] == "#microsoft.graph.serviceHostedMediaConfig";
    let organizer = &body["meetingInfo"]["organizer"]["user"]["id"];
    let meeting_info_ok =
        body["meetingInfo"]["@odata.type"] == "#microsoft.graph.organizerMeetingInfo" && organizer == ORGANIZER;
    let serial = body["chatInfo"]["threadId"].as_str().and_then(meeting_serial);
    let mut s = app.inner.lock().unwrap();
    let meeting_exists = serial.is_some_and(|serial| s.meetings.values().any(|m| m.serial == serial));
    if !(callback_ok
        && service_hosted
        && meeting_info_ok
        && body["tenantId"] == TENANT
        && body["chatInfo"]["messageId"] == "0")
    {
        let problem = format!("not a service-hosted join of a meeting: {body}");
        s.violations.push(problem.clone());
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &problem, None);
    }
    if !meeting_exists {
        return graph_error(StatusCode::NOT_FOUND, "8522", "Meeting not found.", None);
    }
    s.calls.serial += 1;
    let id = format!("{:08x}-1f00-4c1a-9d1e-{:012x}", 0x4a1f_0000 + s.calls.serial, s.calls.serial);
    let call = StoredCall {
        id: id.clone(),
        callback,
        body: body.clone(),
        created: Instant::now(),
        state: "establishing",
        deleted: None,
        invitations: Vec::new(),
        participants: Vec::new(),
    };
    let answer = call_json(&call);
    s.calls.calls.push(call);
    drop(s);
    let app = app.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let data = {
            let mut s = app.inner.lock().unwrap();
            let Some(call) = s.calls.calls.iter_mut().find(|c| c.id == id && c.deleted.is_none()) else { return };
            call.state = "established";
            call_json(call)
        };
        notify(app, id.clone(), format!("/communications/calls/{id}"), "updated", data).await;
    });
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

pub(super) async fn get_call(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    delay(&app).await;
    record(&app, "GET", format!("/v1.0/communications/calls/{id}"), Value::Null, 200);
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let s = app.inner.lock().unwrap();
    match s.calls.calls.iter().find(|c| c.id == id && c.deleted.is_none()) {
        Some(call) => axum::Json(call_json(call)).into_response(),
        None => graph_error(StatusCode::NOT_FOUND, "8507", "Call not found.", None),
    }
}

pub(super) async fn delete_call(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    delay(&app).await;
    let answer = {
        if !bearer_ok(&app, &headers) {
            unauthorized()
        } else {
            let mut s = app.inner.lock().unwrap();
            match s.calls.calls.iter_mut().find(|c| c.id == id && c.deleted.is_none()) {
                Some(call) => {
                    call.deleted = Some(Instant::now());
                    call.state = "terminated";
                    StatusCode::NO_CONTENT.into_response()
                }
                None => graph_error(StatusCode::NOT_FOUND, "8507", "Call not found.", None),
            }
        }
    };
    record(&app, "DELETE", format!("/v1.0/communications/calls/{id}"), Value::Null, answer.status().as_u16());
    if answer.status() == StatusCode::NO_CONTENT {
        let data = app.inner.lock().unwrap().calls.calls.iter().find(|c| c.id == id).map(call_json);
        if let Some(data) = data {
            tokio::spawn(notify(app.clone(), id.clone(), format!("/communications/calls/{id}"), "deleted", data));
        }
    }
    answer
}

pub(super) async fn invite(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    delay(&app).await;
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let answer = invite_answer(&app, &id, &headers, &body);
    record(
        &app,
        "POST",
        format!("/v1.0/communications/calls/{id}/participants/invite"),
        body,
        answer.status().as_u16(),
    );
    answer
}

fn invite_answer(app: &AppState, id: &str, headers: &HeaderMap, body: &Value) -> Response {
    if !bearer_ok(app, headers) {
        return unauthorized();
    }
    let violations =
        schema::calls_type("/communications/calls/{call-id}/participants/microsoft.graph.invite").violations(body);
    let people: Vec<&str> = body["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["identity"]["user"]["id"].as_str())
        .collect();
    if !violations.is_empty()
        || people.len() != 1
        || body["participants"][0]["@odata.type"] != "#microsoft.graph.invitationParticipantInfo"
    {
        let message = format!("Invalid request body: {}", violations.join("; "));
        app.inner.lock().unwrap().violations.push(message.clone());
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, None);
    }
    if !has_role(app, "Calls.InitiateGroupCall.All") {
        return forbidden_calls();
    }
    if let Some(seconds) = app.inner.lock().unwrap().calls.throttle_next_invite.take() {
        let mut response = graph_error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.", None);
        response.headers_mut().insert("retry-after", seconds.to_string().parse().unwrap());
        return response;
    }
    let person = people[0].to_owned();
    let mut s = app.inner.lock().unwrap();
    let Some(colleague) = s.calls.directory.iter().find(|c| c.id == person).cloned() else {
        return graph_error(StatusCode::NOT_FOUND, "8521", "The participant could not be found.", None);
    };
    let Some(call) = s.calls.calls.iter_mut().find(|c| c.id == id && c.deleted.is_none()) else {
        return graph_error(StatusCode::NOT_FOUND, "8507", "Call not found.", None);
    };
    if call.state != "established" {
        return graph_error(StatusCode::BAD_REQUEST, "8508", "Call is not established.", None);
    }
    if call.invitations.iter().any(|i| i.person == person && i.status == "Running") {
        return graph_error(StatusCode::CONFLICT, "Conflict", "The participant is already being invited.", None);
    }
    let operation = format!("op-{}-{}", call.invitations.len() + 1, &call.id[..8]);
    let invitation = Invitation {
        person: person.clone(),
        operation: operation.clone(),
        rung_at: Instant::now(),
        status: "Running",
        result: None,
    };
    let answer = operation_json(&invitation);
    call.invitations.push(invitation);
    drop(s);
    let (after, status, result) = match (colleague.has_teams, colleague.answers) {
        (false, _) => (Some(Duration::from_millis(200)), "Failed", Some((404, "The user has no Teams account."))),
        (true, Answers::Joins(after)) => (Some(after), "Completed", Some((200, "The participant joined."))),
        (true, Answers::Declines(after)) => (Some(after), "Failed", Some((603, "The call was declined."))),
        (true, Answers::TeamsStopsRinging(after)) => (Some(after), "Failed", Some((408, "The call was not answered."))),
        (true, Answers::Never) => (None, "Running", None),
    };
    if let Some(after) = after {
        let (app, id) = (app.clone(), id.to_owned());
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let data = {
                let mut s = app.inner.lock().unwrap();
                let Some(call) = s.calls.calls.iter_mut().find(|c| c.id == id && c.deleted.is_none()) else { return };
                let Some(invitation) = call.invitations.iter_mut().find(|i| i.operation == operation) else { return };
                invitation.status = status;
                invitation.result = result;
                let data = operation_json(invitation);
                if status == "Completed" {
                    call.participants.push(person.clone());
                }
                data
            };
            if status == "Completed" {
                // As "Invite participants" shows it: the call's roster, the bot included, as an array of
                // participants at `/participants`.
                let participant = |id: String, kind: &str, who: &str| {
                    json!({
                        "@odata.type": "#microsoft.graph.participant", "id": id, "isInLobby": false, "isMuted": false,
                        "info": {"@odata.type": "#microsoft.graph.participantInfo", "identity": {"@odata.type": "#microsoft.graph.identitySet", kind: {"@odata.type": "#microsoft.graph.identity", "id": who}}},
                    })
                };
                let roster = json!([
                    participant(format!("{id}-bot"), "application", CLIENT_ID),
                    participant(format!("p-{person}"), "user", &person),
                ]);
                notify(app.clone(), id.clone(), format!("/communications/calls/{id}/participants"), "updated", roster)
                    .await;
            }
            notify(app, id.clone(), format!("/communications/calls/{id}/operations/{operation}"), "updated", data)
                .await;
        });
    }
    let location = format!("/v1.0/communications/calls/{id}/operations/{}", answer["id"].as_str().unwrap_or_default());
    (StatusCode::OK, [("location", location)], axum::Json(answer)).into_response()
}

pub(super) async fn get_operation(
    State(app): State<AppState>,
    Path((id, operation)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    record(&app, "GET", format!("/v1.0/communications/calls/{id}/operations/{operation}"), Value::Null, 200);
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let s = app.inner.lock().unwrap();
    let found =
        s.calls.calls.iter().find(|c| c.id == id).and_then(|c| c.invitations.iter().find(|i| i.operation == operation));
    match found {
        Some(invitation) => axum::Json(operation_json(invitation)).into_response(),
        None => graph_error(StatusCode::NOT_FOUND, "8507", "Operation not found.", None),
    }
}

pub(super) async fn list_participants(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let s = app.inner.lock().unwrap();
    let Some(call) = s.calls.calls.iter().find(|c| c.id == id && c.deleted.is_none()) else {
        return graph_error(StatusCode::NOT_FOUND, "8507", "Call not found.", None);
    };
    let value: Vec<Value> = call
        .participants
        .iter()
        .map(|p| json!({"id": format!("p-{p}"), "info": {"identity": {"user": {"id": p}}}, "isInLobby": false}))
        .collect();
    axum::Json(json!({"value": value})).into_response()
}

fn directory_allowed(app: &AppState) -> bool {
    ["User.ReadBasic.All", "User.Read.All", "Directory.Read.All"].iter().any(|role| has_role(app, role))
}

fn insufficient_privileges() -> Response {
    graph_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        None,
    )
}

/// Graph's `$search` on users: each word of a term starts a word of the property (its tokens split at
/// spaces, dots, `@`, dashes and underscores), case-insensitively; clauses are OR-ed.
fn search_matches(colleague: &Colleague, search: &str) -> bool {
    let clauses = search.split('"').skip(1).step_by(2).filter_map(|clause| clause.split_once(':'));
    clauses.into_iter().any(|(property, term)| {
        let value = match property {
            "displayName" => &colleague.name,
            "mail" => &colleague.mail,
            "userPrincipalName" => &colleague.upn,
            _ => return false,
        }
        .to_lowercase();
        let tokens: Vec<&str> =
            value.split(|c: char| c.is_whitespace() || matches!(c, '.' | '@' | '-' | '_')).collect();
        term.to_lowercase()
            .split_whitespace()
            .all(|word| value.starts_with(word) || tokens.iter().any(|t| t.starts_with(word)))
    })
}

pub(super) async fn list_users(State(app): State<AppState>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let latency = app.inner.lock().unwrap().calls.directory_latency;
    tokio::time::sleep(latency).await;
    delay(&app).await;
    record(
        &app,
        "GET",
        format!("/v1.0/users?{}", pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")),
        Value::Null,
        200,
    );
    if !directory_allowed(&app) {
        return insufficient_privileges();
    }
    let mut s = app.inner.lock().unwrap();
    let found: Vec<Value> = if let Some(search) = get("$search") {
        let eventual = headers.get("consistencylevel").and_then(|v| v.to_str().ok()) == Some("eventual");
        if !eventual {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                None,
            );
        }
        s.calls.searches += 1;
        s.calls.directory.iter().filter(|c| search_matches(c, &search)).take(25).map(Colleague::json).collect()
    } else if let Some(filter) = get("$filter") {
        let wanted = filter.strip_prefix("mail eq '").and_then(|f| f.strip_suffix('\'')).map(|m| m.replace("''", "'"));
        let Some(wanted) = wanted else {
            return graph_error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", "Unsupported filter.", None);
        };
        s.calls.directory.iter().filter(|c| c.mail.eq_ignore_ascii_case(&wanted)).map(Colleague::json).collect()
    } else {
        s.calls.directory.iter().take(100).map(Colleague::json).collect()
    };
    axum::Json(json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": found}))
        .into_response()
}

pub(super) async fn get_user(State(app): State<AppState>, Path(key): Path<String>, headers: HeaderMap) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let latency = app.inner.lock().unwrap().calls.directory_latency;
    tokio::time::sleep(latency).await;
    delay(&app).await;
    record(&app, "GET", format!("/v1.0/users/{key}"), Value::Null, 200);
    if !directory_allowed(&app) {
        return insufficient_privileges();
    }
    let s = app.inner.lock().unwrap();
    match s.calls.directory.iter().find(|c| c.id == key || c.upn.eq_ignore_ascii_case(&key)) {
        Some(colleague) => axum::Json(colleague.json()).into_response(),
        None => graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
            None,
        ),
    }
}
