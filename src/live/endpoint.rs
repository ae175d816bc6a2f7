//! Where Graph posts: `POST /graph/notifications/{guild}/{channel}/{tag}`.
//!
//! - With `?validationToken=…` it is the validation handshake of a new subscription: the token goes back as
//!   `text/plain`, at once (Graph allows 10 s). It proves nothing about the caller and changes nothing.
//! - Otherwise it is a batch of notifications. In this order, before anything is decrypted: the address
//!   must parse and be a server the bot serves; each notification's `clientState` must be the one derived
//!   for this address; every validation token must pass ([`super::tokens`]). Then 202 at once, within Graph's
//!   3 s; decrypting (the HMAC over the data checked first), reading the events and updating Discord
//!   happen after. A refusal is 403 (or 503 when Microsoft's keys can't be read, so Graph sends it again),
//!   counted by reason, and changes nothing.
//!
//! Size and time bounds are the listener's ([`crate::server`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::crypto::EncryptedContent;
use super::{events, BridgeAddress, CallEventSink, LiveStatus, CARRIER_PATH, NOTIFICATIONS_PATH};

/// The longest validation token echoed: Graph's are opaque strings of a few hundred characters.
const MAX_VALIDATION_TOKEN: usize = 1024;
/// Notifications read from one batch: Graph batches per subscription, and ours report one meeting each.
const MAX_NOTIFICATIONS: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Batch {
    #[serde(default)]
    value: Vec<Notification>,
    #[serde(default)]
    validation_tokens: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(default)]
    client_state: Option<String>,
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    subscription_expiration_date_time: Option<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    encrypted_content: Option<EncryptedContent>,
}

struct Served {
    live: Arc<LiveStatus>,
    sink: Arc<dyn CallEventSink>,
}

/// The routes: notifications, and the page the live-status link opens.
pub fn router(live: Arc<LiveStatus>, sink: Arc<dyn CallEventSink>) -> Router {
    Router::new()
        .route(&format!("{NOTIFICATIONS_PATH}/{{guild}}/{{channel}}/{{tag}}"), post(receive))
        .route(CARRIER_PATH, get(carrier_page))
        .with_state(Arc::new(Served { live, sink }))
}

async fn carrier_page() -> Response {
    plain(StatusCode::OK, "meetnow: the live status of this Teams bridge is shown in Discord.\n".into())
}

async fn receive(
    State(served): State<Arc<Served>>,
    Path((guild, channel, tag)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(token) = validation_token(query.as_deref()) {
        return match token {
            Some(token) => plain(StatusCode::OK, token),
            None => plain(StatusCode::BAD_REQUEST, "unusable validationToken\n".into()),
        };
    }
    served.notifications(&guild, &channel, &tag, &body).await
}

/// `Some(token)` when the query is a validation handshake (`None` inside: one that can't be echoed).
fn validation_token(query: Option<&str>) -> Option<Option<String>> {
    let query = query?;
    let (_, token) = url::form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "validationToken")?;
    let printable = token.len() <= MAX_VALIDATION_TOKEN && token.chars().all(|c| !c.is_control());
    Some(printable.then(|| token.into_owned()))
}

impl Served {
    async fn notifications(&self, guild: &str, channel: &str, tag: &str, body: &[u8]) -> Response {
        let metrics = self.live.metrics().clone();
        metrics.live_notification_received();
        let refuse = |reason: &'static str, status: StatusCode| {
            tracing::warn!(reason, "refused a Graph notification");
            metrics.live_notification_refused(reason);
            plain(status, "refused\n".into())
        };
        let Some(bridge) = BridgeAddress::parse(guild, channel, tag) else {
            return refuse("address", StatusCode::NOT_FOUND);
        };
        if !self.sink.serves(bridge.guild) {
            return refuse("other_server", StatusCode::FORBIDDEN);
        }
        let Ok(batch) = serde_json::from_slice::<Batch>(body) else {
            return refuse("malformed", StatusCode::BAD_REQUEST);
        };
        let address = bridge.segments();
        let (ours, forged): (Vec<Notification>, Vec<Notification>) =
            batch.value.into_iter().take(MAX_NOTIFICATIONS).partition(|n| {
                n.client_state.as_deref().is_some_and(|state| self.live.certificate.is_client_state(&address, state))
            });
        for _ in &forged {
            metrics.live_notification_refused("client_state");
        }
        if ours.is_empty() {
            return refuse("client_state", StatusCode::FORBIDDEN);
        }
        if let Err(refusal) = self.live.tokens.check_all(&batch.validation_tokens).await {
            tracing::warn!(%refusal, "a Graph notification's validation token was not accepted");
            let status = match refusal {
                super::tokens::TokenRefusal::KeysUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::FORBIDDEN,
            };
            return refuse(refusal.reason(), status);
        }
        let live = self.live.clone();
        let sink = self.sink.clone();
        let span = tracing::info_span!("notification", guild_id = bridge.guild, channel_id = bridge.channel);
        tokio::spawn(tracing::Instrument::instrument(
            async move { open(&live, sink.as_ref(), bridge, ours).await },
            span,
        ));
        plain(StatusCode::ACCEPTED, "accepted\n".into())
    }
}

/// After the answer: decrypt, read, hand over.
async fn open(live: &LiveStatus, sink: &dyn CallEventSink, bridge: BridgeAddress, notifications: Vec<Notification>) {
    let metrics = live.metrics();
    let mut found = Vec::new();
    for notification in notifications {
        let Some(content) = &notification.encrypted_content else {
            metrics.live_notification_refused("no_content");
            continue;
        };
        let payload = match live.certificate.decrypt(content) {
            Ok(payload) => payload,
            Err(refusal) => {
                tracing::warn!(%refusal, "a Graph notification did not decrypt; ignored");
                metrics.live_notification_refused(refusal.reason());
                continue;
            }
        };
        match events::parse(&payload) {
            Ok(event) => found.push(event),
            Err(unreadable) => {
                tracing::warn!(%unreadable, "a call event meetnow can't read; ignored");
                metrics.live_notification_refused("unreadable");
                continue;
            }
        }
        let join_url = notification.resource.as_deref().and_then(join_url_of);
        let subscription = notification.subscription_id.clone().zip(
            notification
                .subscription_expiration_date_time
                .as_deref()
                .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()),
        );
        live.subscriptions.saw(&bridge, join_url, subscription).await;
    }
    if !found.is_empty() {
        sink.call_events(bridge, found);
    }
}

/// The join link inside a call-events resource, `…(joinWebUrl='{encoded}')…`.
fn join_url_of(resource: &str) -> Option<String> {
    let (_, rest) = resource.split_once("joinWebUrl='")?;
    let (encoded, _) = rest.split_once('\'')?;
    let decoded: String = url::form_urlencoded::parse(format!("u={encoded}").as_bytes()).next()?.1.into_owned();
    Some(decoded)
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_token_is_echoed_decoded_and_bounded() {
        assert_eq!(validation_token(Some("validationToken=a%20b%2Bc")), Some(Some("a b+c".into())));
        assert_eq!(validation_token(Some("other=1")), None);
        assert_eq!(validation_token(None), None);
        assert_eq!(validation_token(Some(&format!("validationToken={}", "x".repeat(2000)))), Some(None));
        assert_eq!(validation_token(Some("validationToken=a%0Ab")), Some(None));
    }

    #[test]
    fn the_join_link_comes_back_out_of_the_resource() {
        let join = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_X%40thread.v2/0?context=%7b%7d";
        let resource = crate::graph::call_events_resource(join);
        assert_eq!(join_url_of(&resource).as_deref(), Some(join));
    }
}
