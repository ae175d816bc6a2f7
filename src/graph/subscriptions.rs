//! Change-notification subscriptions for meeting call events (beta).
//!
//! Endpoints (application permission `OnlineMeetings.ReadWrite.All`, or `.Read.All`):
//! - `POST /beta/subscriptions` for `/communications/onlineMeetings(joinWebUrl='…')/meetingCallEvents`. Graph
//!   first checks the notification URL (the validation handshake), then answers 201. It allows one
//!   subscription per app per meeting: a second create fails with 403 Forbidden, which Microsoft documents
//!   for any subscription limit reached ("Supported resources", quota notes), or 409 (the emergency-call
//!   sibling's documented answer): both are [`Subscribed::Exists`], for the caller to look for it;
//! - `GET /beta/subscriptions`: the app's subscriptions (without their `clientState`), to adopt the one
//!   another process made; `GET /beta/subscriptions/{id}`: one, with its `clientState`;
//! - `PATCH /beta/subscriptions/{id}` with `expirationDateTime`: renew (at most 4,230 minutes ahead); with
//!   `encryptionCertificate` and `encryptionCertificateId` too, move it to a new certificate as part of the
//!   renewal ("Set up change notifications that include resource data", *Rotating keys*); 404 when it is
//!   gone;
//! - `DELETE /beta/subscriptions/{id}`: when one can't be moved, it is replaced.
//!
//! <https://learn.microsoft.com/graph/changenotifications-for-onlinemeeting>

use reqwest::{Method, StatusCode, Url};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::retry::Repeat;
use super::wire::parse_time;
use super::{GraphClient, GraphError, MeetingShapeError};
use crate::meeting::rfc3339;

/// What a new subscription says.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub join_url: &'a str,
    pub notification_url: &'a str,
    pub client_state: &'a str,
    /// Base64 DER.
    pub certificate: &'a str,
    pub certificate_id: &'a str,
    pub expires: OffsetDateTime,
}

/// A subscription as Graph reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub resource: String,
    pub notification_url: String,
    pub expires: Option<OffsetDateTime>,
    /// `encryptionCertificateId`: which certificate Graph encrypts to.
    pub certificate_id: Option<String>,
    /// Only in the answer for one subscription (`GET /subscriptions/{id}`); lists leave it out.
    pub client_state: Option<String>,
}

/// What asking for a subscription came to.
#[derive(Debug)]
pub enum Subscribed {
    Created(Subscription),
    /// Graph refused a second one for this meeting (403 or 409): one may exist (another process's, or ours
    /// from before a restart). The refusal is kept: when none exists, it is the answer.
    Exists(GraphError),
}

/// A move of a subscription to another certificate, with its renewal.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    /// Base64 DER.
    pub certificate: &'a str,
    pub certificate_id: &'a str,
    /// The `clientState` derived from the new certificate.
    pub client_state: &'a str,
    pub expires: OffsetDateTime,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    change_type: &'static str,
    notification_url: &'a str,
    resource: String,
    include_resource_data: bool,
    encryption_certificate: &'a str,
    encryption_certificate_id: &'a str,
    expiration_date_time: String,
    client_state: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RenewBody<'a> {
    expiration_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_certificate: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_certificate_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_state: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SubscriptionWire {
    id: Option<String>,
    resource: Option<String>,
    notification_url: Option<String>,
    expiration_date_time: Option<String>,
    encryption_certificate_id: Option<String>,
    client_state: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListWire {
    value: Vec<SubscriptionWire>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// Pages of the subscription list followed: 100 a page.
const MAX_PAGES: usize = 20;

impl SubscriptionWire {
    fn into_subscription(self) -> Option<Subscription> {
        Some(Subscription {
            id: self.id.filter(|id| !id.is_empty() && id.len() <= 128)?,
            resource: self.resource.unwrap_or_default(),
            notification_url: self.notification_url.unwrap_or_default(),
            expires: parse_time(self.expiration_date_time.as_deref()),
            certificate_id: self.encryption_certificate_id.filter(|id| id.len() <= 128),
            client_state: self.client_state.filter(|state| state.len() <= 255),
        })
    }
}

/// The subscription resource for a meeting's call events: the join link URL-encoded inside the quotes (so
/// its `%3a` becomes `%253a`).
pub fn call_events_resource(join_url: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(join_url.as_bytes()).collect();
    format!("/communications/onlineMeetings(joinWebUrl='{encoded}')/meetingCallEvents")
}

impl GraphClient {
    fn beta_subscriptions(&self, id: Option<&str>) -> Url {
        let mut url = self.inner.graph_endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["beta", "subscriptions"]);
            if let Some(id) = id {
                segments.push(id);
            }
        }
        url
    }

    /// Asks Graph to send this meeting's call events (see the module docs).
    ///
    /// # Errors
    /// [`GraphError`] as for any call; a refusal of the handshake is [`GraphError::Refused`] with status 400.
    pub async fn subscribe(&self, new: &NewSubscription<'_>) -> Result<Subscribed, GraphError> {
        let body = CreateBody {
            change_type: "updated",
            notification_url: new.notification_url,
            resource: call_events_resource(new.join_url),
            include_resource_data: true,
            encryption_certificate: new.certificate,
            encryption_certificate_id: new.certificate_id,
            expiration_date_time: rfc3339(new.expires),
            client_state: new.client_state,
        };
        let url = self.beta_subscriptions(None);
        // A repeat after a lost answer meets the one-per-meeting rule: `Exists`, then adopted.
        let created = self.send(Method::POST, url, Some(&body), Repeat::Safe, |answer| read_one(&answer.body)).await;
        let limit_reached = |error: &GraphError| {
            error.api().is_some_and(|api| {
                [StatusCode::FORBIDDEN, StatusCode::CONFLICT].map(|s| s.as_u16()).contains(&api.status)
            })
        };
        match created {
            Ok(subscription) => Ok(Subscribed::Created(subscription)),
            Err(error) if limit_reached(&error) => Ok(Subscribed::Exists(error)),
            Err(error) => Err(error),
        }
    }

    /// One subscription, with its `clientState`; `None` when Graph no longer has it.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn subscription(&self, id: &str) -> Result<Option<Subscription>, GraphError> {
        let url = self.beta_subscriptions(Some(id));
        match self.send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| read_one(&answer.body)).await {
            Ok(subscription) => Ok(Some(subscription)),
            Err(error) if is_gone(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Moves a subscription to another certificate and `clientState` as it renews it. `Ok(false)` when Graph
    /// no longer has it.
    ///
    /// # Errors
    /// [`GraphError`] as for any call (a 400 when Graph does not take one of the properties).
    pub async fn move_subscription(&self, id: &str, to: &Move<'_>) -> Result<bool, GraphError> {
        let body = RenewBody {
            expiration_date_time: rfc3339(to.expires),
            encryption_certificate: Some(to.certificate),
            encryption_certificate_id: Some(to.certificate_id),
            client_state: Some(to.client_state),
        };
        self.patch_subscription(id, &body).await
    }

    /// Deletes a subscription. `Ok(false)` when Graph had no such subscription.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn delete_subscription(&self, id: &str) -> Result<bool, GraphError> {
        let url = self.beta_subscriptions(Some(id));
        match self.send(Method::DELETE, url, None::<&()>, Repeat::Safe, |_| Ok(())).await {
            Ok(()) => Ok(true),
            Err(error) if is_gone(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The app's subscriptions to this meeting's call events.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn subscriptions_for(&self, join_url: &str) -> Result<Vec<Subscription>, GraphError> {
        let wanted = call_events_resource(join_url);
        let mut url = self.beta_subscriptions(None);
        let first = url.clone();
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: ListWire = self
                .send(Method::GET, url, None::<&()>, Repeat::Safe, |answer| {
                    serde_json::from_slice(&answer.body).map_err(|e| MeetingShapeError::NotJson(e.to_string()))
                })
                .await?;
            found.extend(
                page.value
                    .into_iter()
                    .filter_map(SubscriptionWire::into_subscription)
                    .filter(|s| same_resource(&s.resource, &wanted)),
            );
            match page.next_link.and_then(|link| Url::parse(&link).ok()) {
                Some(next) if next.origin() == first.origin() && next.path() == first.path() => url = next,
                _ => break,
            }
        }
        Ok(found)
    }

    /// Moves a subscription's expiry to `expires`. `Ok(false)` when Graph no longer has it.
    ///
    /// # Errors
    /// [`GraphError`] as for any call.
    pub async fn renew_subscription(&self, id: &str, expires: OffsetDateTime) -> Result<bool, GraphError> {
        let body = RenewBody {
            expiration_date_time: rfc3339(expires),
            encryption_certificate: None,
            encryption_certificate_id: None,
            client_state: None,
        };
        self.patch_subscription(id, &body).await
    }

    async fn patch_subscription(&self, id: &str, body: &RenewBody<'_>) -> Result<bool, GraphError> {
        let url = self.beta_subscriptions(Some(id));
        match self.send(Method::PATCH, url, Some(body), Repeat::Safe, |_| Ok(())).await {
            Ok(()) => Ok(true),
            Err(error) if is_gone(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }
}

fn is_gone(error: &GraphError) -> bool {
    error.api().is_some_and(|api| api.status == StatusCode::NOT_FOUND.as_u16())
}

fn read_one(body: &[u8]) -> Result<Subscription, MeetingShapeError> {
    let wire: SubscriptionWire = serde_json::from_slice(body).map_err(|e| MeetingShapeError::NotJson(e.to_string()))?;
    wire.into_subscription().ok_or(MeetingShapeError::MissingId)
}

/// Graph may echo the resource with or without the leading slash, and its case may differ.
fn same_resource(given: &str, wanted: &str) -> bool {
    given.trim_start_matches('/').eq_ignore_ascii_case(wanted.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_join_link_is_encoded_once_more_inside_the_resource() {
        let resource = call_events_resource("https://teams.microsoft.com/l/meetup-join/19%3ameeting_X%40thread.v2/0");
        assert_eq!(
            resource,
            "/communications/onlineMeetings(joinWebUrl='https%3A%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2F19%253ameeting_X%2540thread.v2%2F0')/meetingCallEvents"
        );
        assert!(same_resource(&resource[1..], &resource.to_uppercase()));
    }
}
