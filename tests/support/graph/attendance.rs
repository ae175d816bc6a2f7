//! Graph's meeting list (filtered by join link) and attendance reports, as the stand-in serves them. Records
//! are built in Microsoft's documented shape and checked against the published `attendanceRecord` schema;
//! the reports need `OnlineMeetingArtifact.Read.All` in the app's roles (else Graph's 403); records come 100
//! a page with an absolute `@odata.nextLink`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{graph_error, render, uuid, AppState, GraphStandIn, Inner, Recorded, ORGANIZER};
use crate::support::schema;

/// The application permission the reports need.
pub const ATTENDANCE_ROLE: &str = "OnlineMeetingArtifact.Read.All";
const PAGE_SIZE: usize = 100;

/// Someone on a call: a display name, a role, and (join, leave) as seconds after the call started.
#[derive(Debug, Clone)]
pub struct Attended {
    pub name: String,
    pub role: &'static str,
    pub intervals: Vec<(i64, i64)>,
}

impl Attended {
    pub fn new(name: &str, role: &'static str, join: i64, leave: i64) -> Self {
        Self { name: name.to_owned(), role, intervals: vec![(join, leave)] }
    }
}

/// A call that has ended, with its records.
#[derive(Debug, Clone)]
pub(super) struct StoredReport {
    id: String,
    start: OffsetDateTime,
    end: OffsetDateTime,
    records: Vec<Value>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

impl GraphStandIn {
    /// The id of the meeting whose join link is `join_url`.
    pub fn meeting_id_of(&self, join_url: &str) -> Option<String> {
        let (base, audio, shape) = self.with(|s| (s.base_url.clone(), s.audio, s.shape));
        self.with(|s| {
            s.meetings.values().find(|m| render(m, audio, shape, &base)["joinWebUrl"] == join_url).map(|m| m.id.clone())
        })
    }

    /// The join links of every meeting the stand-in holds.
    pub fn join_urls(&self) -> Vec<String> {
        let (base, audio, shape) = self.with(|s| (s.base_url.clone(), s.audio, s.shape));
        self.with(|s| {
            s.meetings
                .values()
                .filter_map(|m| render(m, audio, shape, &base)["joinWebUrl"].as_str().map(str::to_owned))
                .collect()
        })
    }

    /// Where `@odata.nextLink` points, as a response crafted to draw the token elsewhere would.
    pub fn set_next_link(&self, next: NextLink) {
        self.with(|s| s.next_link = next);
    }

    /// While on, the meeting list ignores its `$filter` and answers every meeting, the wanted one last.
    pub fn set_list_ignores_filter(&self, on: bool) {
        self.with(|s| s.list_ignores_filter = on);
    }

    /// Records a call on `meeting_id` that started at `started` and ended an hour later, attended by
    /// `attendees` (listed in this order, whatever their join times).
    pub fn add_attendance_report(&self, meeting_id: &str, started: OffsetDateTime, attendees: &[Attended]) {
        let records: Vec<Value> = attendees
            .iter()
            .map(|a| {
                let intervals: Vec<Value> = a
                    .intervals
                    .iter()
                    .map(|&(join, leave)| {
                        json!({
                            "joinDateTime": rfc3339(started + time::Duration::seconds(join)),
                            "leaveDateTime": rfc3339(started + time::Duration::seconds(leave)),
                            "durationInSeconds": leave - join,
                        })
                    })
                    .collect();
                let total: i64 = a.intervals.iter().map(|(join, leave)| leave - join).sum();
                let record = json!({
                    "id": uuid(), "emailAddress": null, "role": a.role, "totalAttendanceInSeconds": total,
                    "identity": {"id": uuid(), "displayName": a.name},
                    "attendanceIntervals": intervals,
                });
                let problems = schema::graph_type("microsoft.graph.attendanceRecord").violations(&record);
                assert!(problems.is_empty(), "the stand-in must send what Graph documents: {problems:?}");
                record
            })
            .collect();
        let report = StoredReport { id: uuid(), start: started, end: started + time::Duration::hours(1), records };
        self.with(|s| s.reports.entry(meeting_id.to_owned()).or_default().push(report));
    }
}

/// Serves one GET the way Graph does for the app: the request recorded, the bearer token and the organizer
/// checked (else Graph's 401 or 404), then `answer` (with `artifacts`: the attendance permission checked too,
/// else Graph's 403). Waiters are woken once the state reflects it.
fn serve_get(
    app: &AppState,
    headers: &HeaderMap,
    path: String,
    organizer: &str,
    artifacts: bool,
    answer: impl FnOnce(&Inner) -> Response,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let client_request_id = header("client-request-id");
    let bearer = header("authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    let mut s = app.inner.lock().unwrap();
    let response = if !bearer.is_some_and(|t| s.tokens.contains(&t)) {
        let message = "Access token has expired or is not yet valid.";
        graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message, client_request_id.as_deref())
    } else if organizer != ORGANIZER {
        let message = "The requested user was not found.";
        graph_error(StatusCode::NOT_FOUND, "NotFound", message, client_request_id.as_deref())
    } else if artifacts && !may_read_artifacts(&s) {
        forbidden()
    } else {
        answer(&s)
    };
    s.requests.push(Recorded {
        method: "GET".into(),
        path,
        body: Value::Null,
        client_request_id,
        prefer: header("prefer"),
        status: response.status().as_u16(),
        interval: None,
        meeting_id: None,
    });
    drop(s);
    app.changed.notify_waiters();
    response
}

/// Where the attendance records' `@odata.nextLink` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextLink {
    /// The next page of the same list on Graph.
    Graph,
    /// Another host.
    OtherHost,
    /// Graph's host on another port.
    OtherPort,
    /// Graph itself, but another path (another user's mail, say).
    OtherPath,
}

/// `GET /users/{organizer}/onlineMeetings?$filter=JoinWebUrl eq '…'`.
pub(super) async fn list_meetings(
    State(app): State<AppState>,
    Path(organizer): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1.0/users/{organizer}/onlineMeetings");
    serve_get(&app, &headers, path, &organizer, false, |s| {
        let filter = query.get("$filter").cloned().unwrap_or_default();
        let wanted = filter
            .strip_prefix("JoinWebUrl eq '")
            .and_then(|rest| rest.strip_suffix('\''))
            .map(|url| url.replace("''", "'"));
        let Some(url) = wanted else {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Filter is required.", None);
        };
        let mut found: Vec<Value> = s
            .meetings
            .values()
            .map(|m| render(m, s.audio, s.shape, &s.base_url))
            .filter(|m| s.list_ignores_filter || m["joinWebUrl"] == url)
            .collect();
        found.sort_by_key(|m| m["joinWebUrl"] == url);
        axum::Json(json!({"value": found})).into_response()
    })
}

/// `GET /users/{organizer}/onlineMeetings/{meeting}/attendanceReports`.
pub(super) async fn reports(
    State(app): State<AppState>,
    Path((organizer, meeting)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1.0/users/{organizer}/onlineMeetings/{meeting}/attendanceReports");
    serve_get(&app, &headers, path, &organizer, true, |s| {
        if !s.meetings.contains_key(&meeting) {
            return graph_error(StatusCode::NOT_FOUND, "NotFound", "The online meeting was not found.", None);
        }
        let reports: Vec<Value> = s
            .reports
            .get(&meeting)
            .into_iter()
            .flatten()
            .map(|r| {
                json!({
                    "id": r.id, "totalParticipantCount": r.records.len(),
                    "meetingStartDateTime": rfc3339(r.start), "meetingEndDateTime": rfc3339(r.end),
                })
            })
            .collect();
        for report in &reports {
            let problems = schema::graph_type("microsoft.graph.meetingAttendanceReport").violations(report);
            assert!(problems.is_empty(), "the stand-in must send what Graph documents: {problems:?}");
        }
        axum::Json(json!({"value": reports})).into_response()
    })
}

/// `GET …/attendanceReports/{report}/attendanceRecords`, a page at a time.
pub(super) async fn records(
    State(app): State<AppState>,
    Path((organizer, meeting, report)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1.0/users/{organizer}/onlineMeetings/{meeting}/attendanceReports/{report}/attendanceRecords");
    serve_get(&app, &headers, path.clone(), &organizer, true, |s| {
        let Some(found) = s.reports.get(&meeting).and_then(|all| all.iter().find(|r| r.id == report)) else {
            return graph_error(StatusCode::NOT_FOUND, "NotFound", "The attendance report was not found.", None);
        };
        let skip: usize = query.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
        let page: Vec<Value> = found.records.iter().skip(skip).take(PAGE_SIZE).cloned().collect();
        let mut body = json!({"value": page});
        if skip + PAGE_SIZE < found.records.len() {
            let base = s.base_url.trim_end_matches('/');
            let (base, path) = match s.next_link {
                NextLink::Graph => (base.to_owned(), path.clone()),
                NextLink::OtherHost => ("http://127.0.0.2:9".to_owned(), path.clone()),
                NextLink::OtherPort => {
                    let port: u16 = base.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(80);
                    (
                        format!("{}:{}", base.rsplit_once(':').map_or(base, |(host, _)| host), port.wrapping_add(1)),
                        path.clone(),
                    )
                }
                NextLink::OtherPath => {
                    (base.to_owned(), "/v1.0/users/someone-else/mailFolders/inbox/messages".to_owned())
                }
            };
            body["@odata.nextLink"] = json!(format!("{base}{path}?$skiptoken={}", skip + PAGE_SIZE));
        }
        axum::Json(body).into_response()
    })
}

fn may_read_artifacts(s: &Inner) -> bool {
    s.roles.iter().any(|r| r == ATTENDANCE_ROLE)
}

/// Graph's answer without `OnlineMeetingArtifact.Read.All`.
fn forbidden() -> Response {
    graph_error(StatusCode::FORBIDDEN, "Forbidden", "Insufficient privileges to complete the operation.", None)
}
