//! Where Graph posts a ring's call notifications: `POST /graph/calls/{until}/{mac}` (the Azure Bot's calling
//! webhook is `/graph/calls`; each call's `callbackUri` is an address below it).
//!
//! Checked before anything is read, cheapest first, and answered at once (Graph, like Bot Framework, wants
//! an answer within seconds and retries otherwise):
//! - the address: `until` (Unix seconds) with its MAC under the notification certificate's key (the same
//!   derivation as live status's `clientState`), so only addresses the bot's processes made are taken: 404;
//! - `Authorization: Bearer {JWT}`: RS256 by a key from the calling service's OpenID configuration
//!   (`MEETNOW_CALLS_OPENID_CONFIGURATION`), not expired, audience the app's client id, issuer Graph
//!   (`https://graph.microsoft.com`, or `https://api.botframework.com` as older tokens say): 401, or 503 when
//!   the keys can't be read (Graph sends it again);
//! - the body: at most [`MAX_BODY_BYTES`], Graph's `commsNotifications`, at most [`MAX_NOTIFICATIONS`] read;
//!   one that is not is 400.
//!
//! Then 202, and each notification's call (from `resourceUrl`) goes to [`Ringer::heard_of`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use reqwest::Url;
use serde::Deserialize;

use super::{Ringer, CALLS_PATH};
use crate::graph::{CallState, InviteOperation};
use crate::live::notifications::{plain, AtMost};
use crate::live::tokens::{KeysAt, PublishedKeys, TokenRefusal};
use crate::server::Refusals;

/// Notifications read from one request: Graph sends one or a few per change.
pub const MAX_NOTIFICATIONS: usize = 50;
/// The largest call notification: a participants update of a big meeting is tens of KB.
pub const MAX_BODY_BYTES: usize = 128 * 1024;
/// Call notification requests being read at once.
pub const MAX_IN_FLIGHT: usize = 32;
/// Who issues the calling service's tokens: Graph's, and Bot Framework's in older tokens.
const ISSUERS: [&str; 2] = ["https://graph.microsoft.com", "https://api.botframework.com"];

/// What a call address's MAC covers.
pub(super) fn address(until: i64) -> String {
    format!("call/{until}")
}

/// Checks the tokens that come with call notifications.
pub struct CallTokens {
    pub(super) keys: PublishedKeys,
    client_id: String,
}

impl CallTokens {
    pub fn new(http: reqwest::Client, openid_configuration: Url, client_id: &str) -> Self {
        Self {
            keys: PublishedKeys::new(http, KeysAt::OpenIdConfiguration(openid_configuration)),
            client_id: client_id.to_owned(),
        }
    }

    /// Checks one `Authorization` header's token.
    ///
    /// # Errors
    /// The [`TokenRefusal`].
    pub async fn check(&self, authorization: Option<&str>) -> Result<(), TokenRefusal> {
        let token = authorization.and_then(|a| a.strip_prefix("Bearer ")).ok_or(TokenRefusal::Missing)?;
        self.keys.verify::<serde::de::IgnoredAny>(token, &self.client_id, &ISSUERS).await.map(drop)
    }
}

#[derive(Deserialize)]
struct Notifications {
    #[serde(default)]
    value: AtMost<Notification, MAX_NOTIFICATIONS>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(default)]
    change_type: Option<String>,
    #[serde(default)]
    resource_url: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    /// An object (a call, an operation) or an array (participants): only a call's `state` is read.
    #[serde(default)]
    resource_data: Option<serde_json::Value>,
}

/// The call a notification's resource is about: `/communications/calls/{id}` and anything below it (older
/// notifications say `/app/calls/{id}`).
fn call_id_of(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("/communications/calls/").or_else(|| resource.strip_prefix("/app/calls/"))?;
    let id = rest.split('/').next()?;
    let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(id)
}

/// The users a participants notification's `resourceData` (one participant, or a list) shows on the call;
/// those who have left (`removedState`) are not.
fn participants_of(data: &serde_json::Value) -> Vec<String> {
    let one = |p: &serde_json::Value| {
        let is_participant = p
            .get("@odata.type")
            .and_then(|t| t.as_str())
            .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.participant"));
        let left = p.get("removedState").is_some_and(|r| !r.is_null());
        let id = p.pointer("/info/identity/user/id").and_then(|id| id.as_str());
        id.filter(|id| is_participant && !left && id.len() <= 64).map(str::to_owned)
    };
    match data {
        serde_json::Value::Array(list) => list.iter().take(MAX_NOTIFICATIONS).filter_map(one).collect(),
        serde_json::Value::Object(_) if data.get("info").is_some() => one(data).into_iter().collect(),
        _ => Vec::new(),
    }
}

struct Served {
    ringer: Arc<Ringer>,
    refusals: Refusals,
}

pub fn router(ringer: Arc<Ringer>) -> Router {
    let served = Served { ringer, refusals: Refusals::default() };
    let routes =
        Router::new().route(&format!("{CALLS_PATH}/{{until}}/{{mac}}"), post(receive)).with_state(Arc::new(served));
    crate::server::route_limits(routes, MAX_BODY_BYTES, MAX_IN_FLIGHT)
}

impl Served {
    fn refuse(&self, reason: &'static str, status: StatusCode) -> Response {
        self.ringer.metrics.ring_notification_refused(reason);
        if let Some(suppressed) = self.refusals.note(reason) {
            tracing::warn!(reason, suppressed, "refused a call notification (first of a minute's, by reason)");
        }
        plain(status, format!("{reason}\n"))
    }
}

async fn receive(
    State(served): State<Arc<Served>>,
    Path((until, mac)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let until = (until.len() <= 12).then(|| until.parse::<i64>().ok()).flatten();
    let ours =
        until.filter(|&until| mac.len() <= 64 && served.ringer.certificates.is_client_state(&address(until), &mac));
    let Some(until) = ours else {
        return served.refuse("address", StatusCode::NOT_FOUND);
    };
    let authorization = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match served.ringer.tokens.check(authorization).await {
        Ok(()) => {}
        Err(refusal @ TokenRefusal::KeysUnavailable(_)) => {
            tracing::warn!(%refusal, "could not check a call notification");
            return served.refuse(refusal.reason(), StatusCode::SERVICE_UNAVAILABLE);
        }
        Err(refusal) => return served.refuse(refusal.reason(), StatusCode::UNAUTHORIZED),
    }
    let Ok(notifications) = serde_json::from_slice::<Notifications>(&body) else {
        return served.refuse("malformed", StatusCode::BAD_REQUEST);
    };
    served.ringer.metrics.ring_notification_received();
    for notification in notifications.value.0 {
        let resource = notification.resource_url.as_deref().or(notification.resource.as_deref());
        let Some(call_id) = resource.and_then(call_id_of) else { continue };
        let data = notification.resource_data.as_ref();
        let news = super::News {
            ended: notification.change_type.as_deref() == Some("deleted"),
            state: data.and_then(CallState::from_notification),
            operation: data.and_then(InviteOperation::from_notification),
            participants: data.map(participants_of).unwrap_or_default(),
        };
        served.ringer.heard_of(call_id, until, news);
    }
    plain(StatusCode::ACCEPTED, "accepted\n".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_names_its_call_by_resource() {
        assert_eq!(
            call_id_of("/communications/calls/4a1f0b00-1f00-4c1a-9d1e-7d4f6f1c2c3b"),
            Some("4a1f0b00-1f00-4c1a-9d1e-7d4f6f1c2c3b")
        );
        assert_eq!(call_id_of("/communications/calls/abc-1/operations/op-2"), Some("abc-1"));
        assert_eq!(call_id_of("/app/calls/abc-1/participants"), Some("abc-1"));
        for other in
            ["/communications/calls/", "/users/abc", "/communications/calls/a%2fb", "/communications/calls/../x"]
        {
            assert_eq!(call_id_of(other), None, "{other}");
        }
    }
}
