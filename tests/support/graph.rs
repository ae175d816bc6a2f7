//! A local stand-in for Microsoft Entra (client-credentials tokens) and Graph's onlineMeeting endpoints.
//!
//! It behaves like the real services where meetnow depends on it: tokens are issued only for the right
//! tenant, client id, secret and scope (else the real AADSTS error bodies); every Graph call needs a valid
//! `Authorization: Bearer`; createOrGet is keyed by (organizer, externalId) and answers 201 then 200; every
//! request body is validated against Microsoft's schema (a violation is a 400 and is recorded); and faults
//! can be queued: throttling with `Retry-After`, 5xx, HTML error pages, expired tokens, the missing access
//! policy, slow and broken responses.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use serde_json::{json, Value};

use super::net::{Connections, Transport};
use super::schema;

pub mod attendance;
pub mod calls;
pub mod credentials;
pub mod subscriptions;

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// The tenant's domain, which `AZURE_TENANT_ID` may name instead of its GUID.
pub const TENANT_DOMAIN: &str = "contoso-stand-in.onmicrosoft.com";
pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_SECRET: &str = "Xy8Q~stand-in-secret-value.Abc123";
pub const ORGANIZER: &str = "0f0e0d0c-0b0a-4908-8706-050403020100";
pub const ROLE: &str = "OnlineMeetings.ReadWrite.All";

/// A fault for the next request that creates or finds a meeting (createOrGet or POST), in queue order;
/// [`GraphStandIn::set_always`] applies one to every meeting request, PATCH included.
#[derive(Debug, Clone)]
pub enum Fault {
    /// 429 with `Retry-After: n` (or without the header).
    Throttle(Option<u64>),
    /// 503 Service Unavailable.
    Unavailable,
    /// 504 Gateway Timeout.
    GatewayTimeout,
    /// 502 with an HTML page, as a proxy in front of Graph sends.
    BadGatewayHtml,
    /// 401 InvalidAuthenticationToken; every token issued so far stops working.
    ExpireTokens,
    /// 403 "No application access policy found for this app." (code `General`, as real responses have).
    AccessPolicy,
    /// 403 with an empty message (consent missing, unlicensed organizer).
    ForbiddenEmpty,
    /// Do the work (a meeting may be created), then answer only after this long.
    Slow(Duration),
    /// Do the work, then answer with the first half of the JSON body.
    Truncated,
    /// Do the work, then answer 200 with a body that is not JSON.
    NotJson,
    /// Do the work, then answer 200 with a body of 8 MB (no meeting is that large).
    Huge,
    /// Do the work, send the headers and half the body, then break the connection.
    ResetMidBody,
}

/// How `audioConferencing` comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audio {
    /// Toll and toll-free numbers, conference id, dial-in page.
    Full,
    /// `"audioConferencing": null`: no Audio Conferencing licence.
    Null,
}

/// Which generation of field names responses use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Today's v1.0 onlineMeeting.
    V1,
    /// The 2018 beta `meetNow` response from the seeds (`joinUrl`, `participantPasscode`, singular numbers).
    Beta2018,
    /// The 2020 beta createOrGet response from the seeds (`joinWebUrl`, `conferenceId`, one singular `tollNumber`).
    Beta2020,
}

/// Sign-in faults.
#[derive(Debug, Clone, Copy)]
pub enum TokenFault {
    /// Answer every token request with this AADSTS error.
    Aadsts(u64),
    /// Answer every token request with 503.
    Down,
    /// Take every token request and never answer it (a black-holed or hung Entra).
    Hang,
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub client_request_id: Option<String>,
    pub prefer: Option<String>,
    /// The status answered.
    pub status: u16,
    /// When it arrived and when it was answered (latency and faults included).
    pub interval: Option<(Instant, Instant)>,
    /// The meeting it created, read or changed, if any.
    pub meeting_id: Option<String>,
}

#[derive(Debug, Clone)]
struct StoredMeeting {
    id: String,
    serial: u64,
    subject: Option<String>,
    external_id: Option<String>,
    start: Value,
    end: Value,
    created: String,
    lobby: Option<Value>,
}

struct Inner {
    base_url: String,
    tokens: HashSet<String>,
    token_requests: u64,
    token_fault: Option<TokenFault>,
    roles: Vec<String>,
    expires_in: u64,
    meetings: HashMap<String, StoredMeeting>,
    by_external_id: HashMap<String, String>,
    requests: Vec<Recorded>,
    faults: VecDeque<Fault>,
    always: Option<Fault>,
    audio: Audio,
    shape: Shape,
    latency: Duration,
    /// True while meeting answers wait for [`GraphStandIn::release_meetings`].
    held: Arc<tokio::sync::watch::Sender<bool>>,
    violations: Vec<String>,
    serial: u64,
    validate: bool,
    /// Attendance reports by meeting id (calls that have ended).
    reports: HashMap<String, Vec<attendance::StoredReport>>,
    /// `@odata.nextLink` points at another host (a response trying to draw the token elsewhere).
    next_link: attendance::NextLink,
    /// The meeting list answers every meeting, whatever the filter asks, the wanted one last.
    list_ignores_filter: bool,
    credentials: credentials::Registered,
    /// Change-notification subscriptions and what was delivered (`subscriptions.rs`).
    subscriptions: subscriptions::Subscriptions,
    /// The calls API and the directory (`calls.rs`).
    calls: calls::Calls,
}

/// The running stand-in. Dropping it leaves the server running until the test's runtime ends.
#[derive(Clone)]
pub struct GraphStandIn {
    /// `http://127.0.0.1:PORT`: both the authority host and the Graph endpoint.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<tokio::sync::Notify>,
    /// TCP connections and TLS handshakes it took.
    pub connections: Arc<Connections>,
}

#[derive(Clone)]
struct AppState {
    inner: Arc<Mutex<Inner>>,
    /// Notified after every request is answered, for [`GraphStandIn::wait_for`].
    changed: Arc<tokio::sync::Notify>,
}

impl GraphStandIn {
    pub async fn start() -> Self {
        Self::start_on(&Transport::Plain).await
    }

    /// Served over `transport` (e.g. HTTPS from the test CA, with HTTP/2).
    pub async fn start_on(transport: &Transport) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{}://{}", transport.scheme(), listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            base_url: url.clone(),
            tokens: HashSet::new(),
            token_requests: 0,
            token_fault: None,
            roles: vec![ROLE.to_owned()],
            expires_in: 3599,
            meetings: HashMap::new(),
            by_external_id: HashMap::new(),
            requests: Vec::new(),
            faults: VecDeque::new(),
            always: None,
            audio: Audio::Full,
            shape: Shape::V1,
            latency: Duration::ZERO,
            held: Arc::new(tokio::sync::watch::channel(false).0),
            violations: Vec::new(),
            serial: 0,
            validate: true,
            reports: HashMap::new(),
            next_link: attendance::NextLink::Graph,
            list_ignores_filter: false,
            credentials: credentials::Registered::default(),
            subscriptions: subscriptions::Subscriptions::default(),
            calls: calls::Calls::default(),
        }));
        let changed = Arc::new(tokio::sync::Notify::new());
        let state = AppState { inner: inner.clone(), changed: changed.clone() };
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/msi/token", get(credentials::app_service_token))
            .route("/metadata/identity/oauth2/token", get(credentials::imds_token))
            .route("/v1.0/users/{organizer}/onlineMeetings", post(create_meeting).get(attendance::list_meetings))
            .route("/v1.0/users/{organizer}/onlineMeetings/{meeting}/attendanceReports", get(attendance::reports))
            .route(
                "/v1.0/users/{organizer}/onlineMeetings/{meeting}/attendanceReports/{report}/attendanceRecords",
                get(attendance::records),
            )
            .route("/v1.0/users/{organizer}/onlineMeetings/{action}", post(create_or_get).patch(patch_meeting))
            .route("/beta/subscriptions", post(subscriptions::create).get(subscriptions::list))
            .route(
                "/beta/subscriptions/{id}",
                get(subscriptions::get_one).patch(subscriptions::renew).delete(subscriptions::delete),
            )
            .route("/v1.0/subscriptions", post(subscriptions::not_in_v1))
            .route("/common/discovery/v2.0/keys", get(subscriptions::keys))
            .route("/v1.0/communications/calls", post(calls::create_call))
            .route("/v1.0/communications/calls/{id}", get(calls::get_call).delete(calls::delete_call))
            .route("/v1.0/communications/calls/{id}/participants/invite", post(calls::invite))
            .route("/v1.0/communications/calls/{id}/participants", get(calls::list_participants))
            .route("/v1.0/communications/calls/{id}/operations/{operation}", get(calls::get_operation))
            .route("/v1.0/users", get(calls::list_users))
            .route("/v1.0/users/{key}", get(calls::get_user))
            .route("/calls/.well-known/OpenIdConfiguration", get(calls::openid_configuration))
            .route("/calls/keys", get(calls::keys))
            .with_state(state);
        let connections = super::net::serve(listener, app, transport);
        Self { url, inner, changed, connections }
    }

    /// Waits until `check` returns `Some`, re-checking after every request the stand-in answers. Panics after 30 s.
    pub async fn wait_for<T>(&self, what: &str, check: impl Fn(&GraphStandIn) -> Option<T>) -> T {
        super::wait_until(&self.changed, Duration::from_secs(30), what, || check(self)).await
    }

    /// [`GraphStandIn::wait_for`] with another limit.
    pub async fn wait_for_within<T>(
        &self,
        limit: Duration,
        what: &str,
        check: impl Fn(&GraphStandIn) -> Option<T>,
    ) -> T {
        super::wait_until(&self.changed, limit, what, || check(self)).await
    }

    /// The variables a real deployment would set, pointing at this stand-in (at its public URL, when a relay
    /// stands in front of it).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let url = self.with(|s| s.base_url.clone());
        vec![
            ("AZURE_TENANT_ID", TENANT.into()),
            ("AZURE_CLIENT_ID", CLIENT_ID.into()),
            ("AZURE_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("AZURE_AUTHORITY_HOST", url.clone()),
            ("GRAPH_ENDPOINT", url),
            ("MEETNOW_ORGANIZER_ID", ORGANIZER.into()),
        ]
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap())
    }

    pub fn push_fault(&self, fault: Fault) {
        self.with(|s| s.faults.push_back(fault));
    }
    /// Every meeting request gets this fault until cleared.
    pub fn set_always(&self, fault: Option<Fault>) {
        self.with(|s| s.always = fault);
    }
    pub fn set_audio(&self, audio: Audio) {
        self.with(|s| s.audio = audio);
    }
    pub fn set_shape(&self, shape: Shape) {
        self.with(|s| s.shape = shape);
    }
    /// Its own address (where a relay in front of it forwards to).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url.split_once("://").unwrap().1.parse().unwrap()
    }

    /// The URL clients reach it at, when that is not its own (a relay in front of it): token audiences and
    /// scopes are checked against it, and [`GraphStandIn::env`] points there.
    pub fn set_public_url(&self, url: &str) {
        self.with(|s| s.base_url = url.to_owned());
    }
    /// The `expires_in` tokens are issued with (Entra's is 3599).
    pub fn set_expires_in(&self, seconds: u64) {
        self.with(|s| s.expires_in = seconds);
    }
    pub fn set_token_fault(&self, fault: Option<TokenFault>) {
        self.with(|s| s.token_fault = fault);
    }
    pub fn set_roles(&self, roles: &[&str]) {
        self.with(|s| s.roles = roles.iter().map(|r| r.to_string()).collect());
    }
    /// Schema checks on (the default, for tests) or off (benchmarks measure the bot, not the checks).
    pub fn set_validation(&self, on: bool) {
        self.with(|s| s.validate = on);
    }
    /// Added to every meeting request (not to token requests).
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// Meeting answers wait from now until [`GraphStandIn::release_meetings`]: what the bot does before Graph
    /// answers can be seen as it happens.
    pub fn hold_meetings(&self) {
        self.with(|s| s.held.send_replace(true));
    }

    /// Lets the held meeting answers (and every later one) go.
    pub fn release_meetings(&self) {
        self.with(|s| s.held.send_replace(false));
    }

    /// Meetings created so far (createOrGet 201s plus POSTs).
    pub fn meetings_created(&self) -> usize {
        self.with(|s| s.meetings.len())
    }
    pub fn token_requests(&self) -> u64 {
        self.with(|s| s.token_requests)
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.with(|s| s.requests.clone())
    }
    /// Schema violations in request bodies; every test expects none.
    pub fn violations(&self) -> Vec<String> {
        self.with(|s| s.violations.clone())
    }
    /// The lobby settings a meeting has now.
    pub fn lobby_of(&self, meeting_id: &str) -> Option<Value> {
        self.with(|s| s.meetings.get(meeting_id).and_then(|m| m.lobby.clone()))
    }

    /// Meetings whose lobby is not the one a deployment with the default `MEETNOW_LOBBY_BYPASS` and
    /// `MEETNOW_DIALIN_BYPASS` asks for (never set, so the tenant's default, or set otherwise).
    pub fn meetings_without_the_configured_lobby(&self) -> Vec<String> {
        let configured = json!({"scope": "organization", "isDialInBypassEnabled": true});
        self.with(|s| {
            s.meetings.values().filter(|m| m.lobby.as_ref() != Some(&configured)).map(|m| m.id.clone()).collect()
        })
    }
}

fn graph_error(status: StatusCode, code: &str, message: &str, client_request_id: Option<&str>) -> Response {
    let request_id = uuid();
    let body = json!({"error": {
        "code": code, "message": message,
        "innerError": {"date": "2026-11-22T18:00:00", "request-id": request_id, "client-request-id": client_request_id}
    }});
    (status, [("request-id", request_id.as_str()), ("content-type", "application/json")], body.to_string())
        .into_response()
}

fn token_error(status: StatusCode, error: &str, code: u64, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description}\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-11-22 18:00:00Z"),
        "error_codes": [code], "timestamp": "2026-11-22 18:00:00Z",
        "trace_id": "00000000-0000-0000-0000-000000000000", "correlation_id": "11111111-1111-1111-1111-111111111111",
    });
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn token(
    State(app): State<AppState>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (fault, base, expires_in) = {
        let mut s = app.inner.lock().unwrap();
        s.token_requests += 1;
        (s.token_fault, s.base_url.clone(), s.expires_in)
    };
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let token_url = format!("{base}/{tenant}/oauth2/v2.0/token");
    let refused = match fault {
        Some(TokenFault::Down) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "<html>Service Unavailable</html>").into_response()
        }
        Some(TokenFault::Hang) => return std::future::pending().await,
        Some(TokenFault::Aadsts(code)) => Some(code),
        None if tenant != TENANT && tenant != TENANT_DOMAIN => Some(90_002),
        None if field("client_id") != CLIENT_ID => Some(700_016),
        None if form.get("client_secret").is_some_and(|secret| secret != CLIENT_SECRET) => Some(7_000_215),
        None if !scope_is_valid(field("scope"), &base) || field("grant_type") != "client_credentials" => Some(70_011),
        None => credentials::refusal(&mut app.inner.lock().unwrap().credentials, &form, &token_url),
    };
    if let Some(code) = refused {
        let (status, error, text) = credentials::describe(code).unwrap_or(match code {
            7_000_215 => (StatusCode::UNAUTHORIZED, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."),
            7_000_222 => (StatusCode::UNAUTHORIZED, "invalid_client", "The provided client secret keys for app are expired."),
            700_016 => (StatusCode::BAD_REQUEST, "unauthorized_client", "Application was not found in the directory."),
            90_002 => (StatusCode::BAD_REQUEST, "invalid_request", "Tenant not found."),
            900_023 => (StatusCode::BAD_REQUEST, "invalid_request", "Specified tenant identifier is neither a valid DNS name, nor a valid external domain."),
            _ => (StatusCode::BAD_REQUEST, "invalid_scope", "The provided value for the input parameter 'scope' is not valid."),
        });
        return token_error(status, error, code, text);
    }
    let access_token = issue_token(&app);
    let body = json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": access_token});
    (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
}

/// A new access token Graph will accept, carrying the app roles set now.
fn issue_token(app: &AppState) -> String {
    let mut s = app.inner.lock().unwrap();
    let claims =
        json!({"aud": s.base_url, "tid": TENANT, "appid": CLIENT_ID, "roles": s.roles, "exp": 4_000_000_000u64});
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let access_token =
        format!("{}.{}.stand-in-signature-{}", b64(&json!({"typ": "JWT", "alg": "RS256"})), b64(&claims), uuid());
    s.tokens.insert(access_token.clone());
    access_token
}

/// What every meeting request shares: record it, check the token and the body, take the next fault.
/// `Err` is the response to send instead of doing the work.
#[allow(clippy::result_large_err)] // one response per request in a test server; boxing buys nothing
fn admit(
    app: &AppState,
    method: &Method,
    path: String,
    organizer: &str,
    headers: &HeaderMap,
    raw: &Bytes,
    schema: &schema::RequestSchema,
) -> Result<(Value, Option<Fault>, Duration), Response> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let client_request_id = header("client-request-id");
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let mut s = app.inner.lock().unwrap();
    s.requests.push(Recorded {
        method: method.to_string(),
        path,
        body: body.clone(),
        client_request_id: client_request_id.clone(),
        prefer: header("prefer"),
        status: 0,
        interval: None,
        meeting_id: None,
    });
    let crid = client_request_id.as_deref();
    let bearer = header("authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    if !bearer.is_some_and(|t| s.tokens.contains(&t)) {
        return Err(graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
            crid,
        ));
    }
    if organizer != ORGANIZER {
        return Err(graph_error(StatusCode::NOT_FOUND, "NotFound", "The requested user was not found.", crid));
    }
    let violations = match (&body, s.validate) {
        (Value::Null, _) => vec!["body is not JSON".to_owned()],
        (_, true) => schema.violations(&body),
        (_, false) => Vec::new(),
    };
    if !violations.is_empty() {
        let message = format!("Invalid request body: {}", violations.join("; "));
        s.violations.extend(violations);
        return Err(graph_error(StatusCode::BAD_REQUEST, "BadRequest", &message, crid));
    }
    // Queued faults hit the requests that create or find meetings; a lobby PATCH still running from an earlier
    // command must not take one meant for the next command. Lasting faults hit every request.
    let queued = if *method == Method::POST { s.faults.pop_front() } else { None };
    let fault = queued.or_else(|| s.always.clone());
    let latency = s.latency;
    let early = match &fault {
        Some(Fault::Throttle(after)) => {
            let mut response =
                graph_error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.", crid);
            if let Some(after) = after {
                response.headers_mut().insert("retry-after", after.to_string().parse().unwrap());
            }
            Some(response)
        }
        Some(Fault::Unavailable) => {
            Some(graph_error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service unavailable.", crid))
        }
        Some(Fault::GatewayTimeout) => {
            Some(graph_error(StatusCode::GATEWAY_TIMEOUT, "GatewayTimeout", "Gateway timeout.", crid))
        }
        Some(Fault::BadGatewayHtml) => Some(
            (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
                .into_response(),
        ),
        Some(Fault::ExpireTokens) => {
            s.tokens.clear();
            Some(graph_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
                crid,
            ))
        }
        Some(Fault::AccessPolicy) => Some(graph_error(
            StatusCode::FORBIDDEN,
            "General",
            "No application access policy found for this app.",
            crid,
        )),
        Some(Fault::ForbiddenEmpty) => Some(graph_error(StatusCode::FORBIDDEN, "Forbidden", "", crid)),
        _ => None,
    };
    match early {
        Some(response) => Err(response),
        None => Ok((body, fault, latency)),
    }
}

/// Notes how a request ended (status, time served, meeting) on its record, found by its client-request-id.
fn finish(
    app: &AppState,
    headers: &HeaderMap,
    started: Instant,
    meeting_id: Option<&str>,
    response: Response,
) -> Response {
    let crid = headers.get("client-request-id").and_then(|v| v.to_str().ok());
    // Waiters re-check when this returns; the state below is updated by then.
    let _notify = NotifyOnDrop(&app.changed);
    {
        let mut s = app.inner.lock().unwrap();
        if let Some(record) = s.requests.iter_mut().rev().find(|r| r.client_request_id.as_deref() == crid) {
            record.status = response.status().as_u16();
            record.interval = Some((started, Instant::now()));
            record.meeting_id = meeting_id.map(str::to_owned);
        }
    }
    response
}

/// Sends `meeting` as the response, applying a late fault (slow, truncated, not JSON).
async fn answer(
    app: &AppState,
    status: StatusCode,
    meeting: StoredMeeting,
    fault: Option<Fault>,
    latency: Duration,
) -> Response {
    let (audio, shape, base, mut held) = {
        let s = app.inner.lock().unwrap();
        (s.audio, s.shape, s.base_url.clone(), s.held.subscribe())
    };
    let _ = held.wait_for(|held| !held).await;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut body = render(&meeting, audio, shape, &base).to_string();
    match fault {
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Truncated) => body.truncate(body.len() / 2),
        Some(Fault::NotJson) => body = "<html>OK</html>".into(),
        Some(Fault::Huge) => body = format!("{{\"padding\":\"{}\"}}", "x".repeat(8 * 1024 * 1024)),
        Some(Fault::ResetMidBody) => {
            let half = Bytes::from(body[..body.len() / 2].to_owned());
            let broken: [Result<Bytes, std::io::Error>; 2] =
                [Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by the stand-in"))];
            let stream = futures_util::stream::iter(broken);
            return (status, [("content-type", "application/json")], axum::body::Body::from_stream(stream))
                .into_response();
        }
        _ => {}
    }
    (status, [("request-id", uuid().as_str()), ("content-type", "application/json")], body).into_response()
}

async fn create_or_get(
    State(app): State<AppState>,
    Path((organizer, action)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let started = Instant::now();
    if action != "createOrGet" && action != "microsoft.graph.createOrGet" {
        return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Unsupported action.", None);
    }
    let path = format!("/v1.0/users/{organizer}/onlineMeetings/{action}");
    let (body, fault, latency) =
        match admit(&app, &Method::POST, path, &organizer, &headers, &raw, &schema::graph_create_or_get()) {
            Ok(admitted) => admitted,
            Err(response) => return finish(&app, &headers, started, None, response),
        };
    let external_id = body["externalId"].as_str().unwrap_or_default().to_owned();
    let (status, meeting) = {
        let mut s = app.inner.lock().unwrap();
        match s.by_external_id.get(&external_id).and_then(|id| s.meetings.get(id)).cloned() {
            Some(existing) => (StatusCode::OK, existing),
            None => {
                let meeting = new_meeting(&mut s, &body, Some(external_id.clone()));
                s.by_external_id.insert(external_id, meeting.id.clone());
                (StatusCode::CREATED, meeting)
            }
        }
    };
    let id = meeting.id.clone();
    let response = answer(&app, status, meeting, fault, latency).await;
    finish(&app, &headers, started, Some(&id), response)
}

async fn create_meeting(
    State(app): State<AppState>,
    Path(organizer): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let started = Instant::now();
    let path = format!("/v1.0/users/{organizer}/onlineMeetings");
    let (body, fault, latency) =
        match admit(&app, &Method::POST, path, &organizer, &headers, &raw, &schema::graph_online_meeting()) {
            Ok(admitted) => admitted,
            Err(response) => return finish(&app, &headers, started, None, response),
        };
    let meeting = new_meeting(&mut app.inner.lock().unwrap(), &body, None);
    let id = meeting.id.clone();
    let response = answer(&app, StatusCode::CREATED, meeting, fault, latency).await;
    finish(&app, &headers, started, Some(&id), response)
}

async fn patch_meeting(
    State(app): State<AppState>,
    Path((organizer, meeting_id)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let started = Instant::now();
    let path = format!("/v1.0/users/{organizer}/onlineMeetings/{meeting_id}");
    let (body, fault, latency) =
        match admit(&app, &Method::PATCH, path, &organizer, &headers, &raw, &schema::graph_online_meeting()) {
            Ok(admitted) => admitted,
            Err(response) => return finish(&app, &headers, started, None, response),
        };
    let updated = {
        let mut s = app.inner.lock().unwrap();
        s.meetings.get_mut(&meeting_id).map(|m| {
            if let Some(lobby) = body.get("lobbyBypassSettings") {
                m.lobby = Some(lobby.clone());
            }
            m.clone()
        })
    };
    let response = match updated {
        Some(meeting) => answer(&app, StatusCode::OK, meeting, fault, latency).await,
        None => graph_error(StatusCode::NOT_FOUND, "NotFound", "The meeting was not found.", None),
    };
    finish(&app, &headers, started, Some(&meeting_id), response)
}

fn new_meeting(s: &mut Inner, body: &Value, external_id: Option<String>) -> StoredMeeting {
    s.serial += 1;
    let serial = s.serial;
    let meeting = StoredMeeting {
        id: format!("MSo{ORGANIZER}_19:meeting_{serial:08}@thread.v2"),
        serial,
        subject: body["subject"].as_str().map(str::to_owned),
        external_id,
        start: body["startDateTime"].clone(),
        end: body["endDateTime"].clone(),
        created: time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap(),
        lobby: body.get("lobbyBypassSettings").cloned(),
    };
    s.meetings.insert(meeting.id.clone(), meeting.clone());
    meeting
}

/// The join link of the meeting with this serial number.
fn join_url(serial: u64) -> String {
    format!(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{serial:08}%40thread.v2/0?context=%7b%22Tid%22%3a%22{TENANT}%22%2c%22Oid%22%3a%22{ORGANIZER}%22%7d"
    )
}

/// The meeting as Graph returns it.
fn render(m: &StoredMeeting, audio: Audio, shape: Shape, base: &str) -> Value {
    let conference_id = format!("{:09}", 100_000_000 + m.serial);
    let join = join_url(m.serial);
    let dialin_url =
        format!("https://dialin.teams.microsoft.com/8bf6e654-57eb-4b85-aeaf-36c84429b2fe?id={conference_id}");
    let seed = match shape {
        Shape::V1 => None,
        Shape::Beta2018 => Some((include_str!("../fixtures/graph-meeting-beta-2018-meetnow.json"), "joinUrl")),
        Shape::Beta2020 => Some((include_str!("../fixtures/graph-meeting-beta-2020-createorget.json"), "joinWebUrl")),
    };
    if let Some((fixture, join_field)) = seed {
        // The seed's own field names and dial-in; only what identifies this meeting is replaced.
        let mut seeded: Value = serde_json::from_str(fixture).unwrap();
        seeded["id"] = json!(m.id);
        seeded["subject"] = json!(m.subject);
        seeded[join_field] = json!(join);
        seeded["creationDateTime"] = json!(m.created);
        if m.external_id.is_some() {
            seeded["externalId"] = json!(m.external_id);
        }
        if audio == Audio::Null {
            seeded["audioConferencing"] = Value::Null;
        }
        return seeded;
    }
    let audio_conferencing = match audio {
        Audio::Full => json!({
            "conferenceId": conference_id,
            "tollNumber": "+1 206-555-0100",
            "tollFreeNumber": "+1 866-555-0199",
            "tollNumbers": ["+1 206-555-0100", "+44 20 7555 0100"],
            "tollFreeNumbers": ["+1 866-555-0199"],
            "dialinUrl": dialin_url,
        }),
        Audio::Null => Value::Null,
    };
    json!({
        "@odata.context": format!("{base}/v1.0/$metadata#users('{ORGANIZER}')/onlineMeetings/$entity"),
        "id": m.id,
        "creationDateTime": m.created,
        "startDateTime": m.start,
        "endDateTime": m.end,
        "joinUrl": null,
        "joinWebUrl": join,
        "meetingCode": format!("2501{:09}", m.serial),
        "subject": m.subject,
        "externalId": m.external_id,
        "isBroadcast": false,
        "autoAdmittedUsers": "everyoneInCompany",
        "outerMeetingAutoAdmittedUsers": null,
        "capabilities": [],
        "videoTeleconferenceId": null,
        "isEntryExitAnnounced": true,
        "allowedPresenters": "everyone",
        "allowMeetingChat": "enabled",
        "allowTeamworkReactions": true,
        "recordAutomatically": false,
        "lobbyBypassSettings": m.lobby.clone().unwrap_or(json!({"scope": "organization", "isDialInBypassEnabled": false})),
        "audioConferencing": audio_conferencing,
        "chatInfo": {"threadId": format!("19:meeting_{:08}@thread.v2", m.serial), "messageId": "0", "replyChainMessageId": null},
        "joinMeetingIdSettings": {"isPasscodeRequired": true, "joinMeetingId": format!("2501{:09}", m.serial), "passcode": "aB3dE9"},
        "participants": {
            "organizer": {"upn": "oncall@contoso.com", "role": "presenter", "identity": {"user": {"id": ORGANIZER, "displayName": null, "tenantId": TENANT, "identityProvider": "AAD"}}},
            "attendees": []
        },
        "joinInformation": {"content": "data:text/html,%3cdiv%3eJoin%3c%2fdiv%3e", "contentType": "html"},
    })
}

/// `{resource}/.default` for this stand-in or another loopback Graph (a test may point Graph elsewhere).
fn scope_is_valid(scope: &str, base: &str) -> bool {
    scope
        .strip_suffix("/.default")
        .is_some_and(|resource| resource == base || resource.starts_with("http://127.0.0.1:"))
}

fn uuid() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}

/// Notifies waiters when dropped, i.e. after the surrounding function has updated the state.
struct NotifyOnDrop<'a>(&'a tokio::sync::Notify);

impl Drop for NotifyOnDrop<'_> {
    fn drop(&mut self) {
        self.0.notify_waiters();
    }
}

/// The meeting POSTs (createOrGet and create) `graph` was sent.
pub fn meeting_posts(graph: &GraphStandIn) -> usize {
    graph.requests().iter().filter(|r| r.method == "POST" && r.path.contains("/onlineMeetings")).count()
}
