//! Who was on a bridge: the meeting found by its join link, then Graph's attendance reports (one per call
//! that has ended) and their attendance records, followed across pages.
//!
//! Endpoints (application permissions; the application access policy covers both):
//! - `GET /users/{organizer}/onlineMeetings?$filter=JoinWebUrl eq '…'` (`OnlineMeetings.ReadWrite.All`),
//! - `GET /users/{organizer}/onlineMeetings/{id}/attendanceReports` and
//!   `…/attendanceReports/{reportId}/attendanceRecords` (`OnlineMeetingArtifact.Read.All`).
//!   <https://learn.microsoft.com/graph/api/meetingattendancereport-list>

use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::retry::Repeat;
use super::wire::{lenient_string, parse_time};
use super::{GraphClient, GraphError, MeetingShapeError};
use crate::meeting::{Attendee, CallAttendance};

/// Pages followed per list: 100 records a page is thousands of attendees, far beyond what anyone reads.
const MAX_PAGES: usize = 30;
/// Calls read per bridge, most recent kept: a standing bridge used for months has many.
const MAX_REPORTS: usize = 20;

#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct MeetingIdWire {
    #[serde(deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    join_web_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ReportWire {
    #[serde(deserialize_with = "lenient_string")]
    id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    meeting_start_date_time: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    meeting_end_date_time: Option<String>,
    total_participant_count: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RecordWire {
    #[serde(deserialize_with = "lenient_string")]
    email_address: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    role: Option<String>,
    identity: Option<IdentityWire>,
    total_attendance_in_seconds: Option<i64>,
    attendance_intervals: Option<Vec<IntervalWire>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct IdentityWire {
    #[serde(deserialize_with = "lenient_string")]
    display_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct IntervalWire {
    #[serde(deserialize_with = "lenient_string")]
    join_date_time: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    leave_date_time: Option<String>,
}

impl RecordWire {
    fn into_attendee(self) -> Attendee {
        let intervals = self.attendance_intervals.unwrap_or_default();
        let joins = intervals.iter().filter_map(|i| parse_time(i.join_date_time.as_deref()));
        let leaves = intervals.iter().filter_map(|i| parse_time(i.leave_date_time.as_deref()));
        let name = self.identity.and_then(|i| i.display_name).filter(|n| !n.trim().is_empty());
        Attendee {
            name,
            email: self.email_address.filter(|e| !e.trim().is_empty()),
            role: self.role,
            first_join: joins.min(),
            last_leave: leaves.max(),
            total_seconds: self.total_attendance_in_seconds.unwrap_or(0).clamp(0, i64::from(i32::MAX)) as u64,
        }
    }
}

/// `link` as a URL, if it is another page of the list at `first`: the same origin and path, any query.
fn same_list(first: &Url, link: &str) -> Option<Url> {
    let next = Url::parse(link).ok()?;
    let same = next.origin() == first.origin() && next.path() == first.path() && next.username().is_empty();
    if !same {
        tracing::warn!(next_link = %next.origin().ascii_serialization(), "not following a nextLink off the list it pages");
    }
    same.then_some(next)
}

impl GraphClient {
    /// The id of the organizer's meeting whose join link is `join_url`.
    ///
    /// # Errors
    /// [`GraphError::MeetingNotFound`] when no meeting of the organizer has it; others as for meetings.
    pub async fn meeting_id_by_join_url(&self, join_url: &str) -> Result<String, GraphError> {
        let mut url = self.meetings_url(&[]);
        // OData string literal: a quote is written twice.
        url.query_pairs_mut().append_pair("$filter", &format!("JoinWebUrl eq '{}'", join_url.replace('\'', "''")));
        let page: Page<MeetingIdWire> = self.get_json(url).await?;
        // Only a meeting that really has this join link: the link comes from a Discord message, and a filter
        // Graph ignored or misread must not give another meeting's attendance.
        page.value
            .into_iter()
            .find(|m| m.join_web_url.as_deref() == Some(join_url))
            .and_then(|m| m.id)
            .ok_or(GraphError::MeetingNotFound)
    }

    /// Every ended call on the meeting, oldest first (at most the last [`MAX_REPORTS`]), each with its
    /// attendees in order of first join. Empty before any call has ended: Teams makes a report a few minutes
    /// after a call ends.
    ///
    /// # Errors
    /// [`GraphError::AttendancePermissionMissing`] without `OnlineMeetingArtifact.Read.All`;
    /// [`GraphError::MeetingNotFound`] for an unknown meeting; others as for meetings.
    pub async fn attendance(&self, meeting_id: &str) -> Result<Vec<CallAttendance>, GraphError> {
        let artifacts = |error| match error {
            GraphError::Forbidden(api) => GraphError::AttendancePermissionMissing(api),
            GraphError::OrganizerNotFound { .. } => GraphError::MeetingNotFound,
            other => other,
        };
        let mut reports: Vec<ReportWire> =
            self.get_all(self.meetings_url(&[meeting_id, "attendanceReports"])).await.map_err(artifacts)?;
        reports.sort_by_key(|r| parse_time(r.meeting_start_date_time.as_deref()));
        let recent = reports.len().saturating_sub(MAX_REPORTS);
        let mut calls = Vec::new();
        for report in reports.into_iter().skip(recent) {
            let Some(id) = report.id.as_deref() else { continue };
            let url = self.meetings_url(&[meeting_id, "attendanceReports", id, "attendanceRecords"]);
            let records: Vec<RecordWire> = self.get_all(url).await.map_err(artifacts)?;
            let mut attendees: Vec<Attendee> = records.into_iter().map(RecordWire::into_attendee).collect();
            attendees.sort_by_key(|a| a.first_join);
            calls.push(CallAttendance {
                started_at: parse_time(report.meeting_start_date_time.as_deref()),
                ended_at: parse_time(report.meeting_end_date_time.as_deref()),
                participant_count: report.total_participant_count.and_then(|n| u32::try_from(n).ok()),
                attendees,
            });
        }
        Ok(calls)
    }

    /// Every item of a list, following `@odata.nextLink`, but only to the same list on Graph itself (same
    /// scheme, host and port, same path): the request carries the app's token, which must not go wherever
    /// a response says.
    async fn get_all<T: DeserializeOwned>(&self, first: Url) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(first.clone());
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let page: Page<T> = self.get_json(url).await?;
            items.extend(page.value);
            next = page.next_link.and_then(|link| same_list(&first, &link));
        }
        Ok(items)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T, GraphError> {
        let read = |answer: &super::retry::Answer| {
            serde_json::from_slice(&answer.body).map_err(|e| MeetingShapeError::NotJson(e.to_string()))
        };
        self.send(Method::GET, url, None::<&()>, Repeat::Safe, read).await
    }
}
