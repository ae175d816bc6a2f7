//! Where Graph posts: `POST /graph/notifications/{guild}/{channel}/{tag}`.
//!
//! - With `?validationToken=…` it is the validation handshake of a new subscription: the token goes back as
//!   `text/plain`, at once (Graph allows 10 s). It proves nothing about the caller and changes nothing.
//! - Otherwise it is a batch of notifications, answered `202 Accepted` within milliseconds whatever is
//!   decided later, as Microsoft asks ("Receive change notifications through webhooks": answer before
//!   validating; answers slower than about 2.9 s count as slow, and an endpoint with many slow answers is
//!   throttled, then dropped). Before the answer only what costs nothing is done: the address must parse
//!   (404 otherwise), and the batch is read entry by entry, keeping at most [`MAX_NOTIFICATIONS`] and
//!   skipping the rest without building them, so no body costs more memory than its size. A server the bot
//!   does not serve and a malformed body get the same 202 as a good one.
//! - After the answer, bounded ([`MAX_BATCHES_CHECKED`] batches at once, decryptions on the blocking pool
//!   [`Decryptions`] at a time): each notification's `clientState` must be the one derived for this address
//!   (under either certificate during a rotation), its `resource` must name this bridge's meeting, and every
//!   validation token must pass ([`super::tokens`]); then the HMAC over the data is checked, the data
//!   decrypted and the events read. A notification that fails is dropped and counted by reason, never acted
//!   on; refusals are logged at most once a minute per reason, so attack traffic does not grow the log.
//!
//! Size and time bounds are the listener's ([`crate::server`]), plus this route's own body limit and
//! requests in flight ([`router`]).

use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use tokio::sync::Semaphore;

use super::crypto::EncryptedContent;
use super::{events, BridgeAddress, CallEventSink, LiveStatus, CARRIER_PATH, NOTIFICATIONS_PATH};
use crate::server::Refusals;

/// The longest validation token echoed: Graph's are opaque strings of a few hundred characters.
const MAX_VALIDATION_TOKEN: usize = 1024;
/// Notifications read from one batch: Graph batches per subscription, and ours report one meeting each.
pub const MAX_NOTIFICATIONS: usize = 100;
/// Validation tokens read from one batch: one per app and tenant the batch is for, so one or two.
const MAX_VALIDATION_TOKENS: usize = 8;
/// Batches being checked and opened at once, after their answer; past it a batch is answered 503 and Graph
/// sends it again later.
pub const MAX_BATCHES_CHECKED: usize = 64;
/// The largest notification request: a batch of call events with a roster of hundreds is tens of KB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Notification requests being read at once (the listener's bound is for every route): with
/// [`MAX_BODY_BYTES`], at most 8 MiB of bodies in memory, well inside the 128 MiB the manifests give a pod.
pub const MAX_IN_FLIGHT: usize = 32;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Batch {
    #[serde(default)]
    value: AtMost<Notification, MAX_NOTIFICATIONS>,
    #[serde(default)]
    validation_tokens: AtMost<String, MAX_VALIDATION_TOKENS>,
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

/// The first `N` elements of a JSON array; the rest are read past without being built.
pub(crate) struct AtMost<T, const N: usize>(pub(crate) Vec<T>);

impl<T, const N: usize> Default for AtMost<T, N> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for AtMost<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for Elements<T, N> {
            type Value = AtMost<T, N>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < N {
                    match seq.next_element::<T>()? {
                        Some(element) => kept.push(element),
                        None => return Ok(AtMost(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AtMost(kept))
            }
        }
        deserializer.deserialize_seq(Elements(PhantomData))
    }
}

/// How many RSA decryptions run at once: one per core, on the blocking pool, so the async workers (and
/// with them every other request) never wait behind big-integer arithmetic.
pub struct Decryptions(pub(super) Semaphore);

impl Default for Decryptions {
    fn default() -> Self {
        Self(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
    }
}

struct Served {
    live: Arc<LiveStatus>,
    sink: Arc<dyn CallEventSink>,
    /// Permits for [`MAX_BATCHES_CHECKED`].
    checking: Arc<Semaphore>,
    refusals: Refusals,
}

/// The routes: notifications (with their own body limit and bound on requests in flight), and the page the
/// live-status link opens.
pub fn router(live: Arc<LiveStatus>, sink: Arc<dyn CallEventSink>) -> Router {
    let served =
        Served { live, sink, checking: Arc::new(Semaphore::new(MAX_BATCHES_CHECKED)), refusals: Refusals::default() };
    let notifications = Router::new()
        .route(&format!("{NOTIFICATIONS_PATH}/{{guild}}/{{channel}}/{{tag}}"), post(receive))
        .with_state(Arc::new(served));
    let notifications = crate::server::route_limits(notifications, MAX_BODY_BYTES, MAX_IN_FLIGHT);
    Router::new().route(CARRIER_PATH, get(carrier_page)).merge(notifications)
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
    served.take(&guild, &channel, &tag, &body)
}

/// `Some(token)` when the query is a validation handshake (`None` inside: one that can't be echoed).
fn validation_token(query: Option<&str>) -> Option<Option<String>> {
    let query = query?;
    let (_, token) = url::form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "validationToken")?;
    let printable = token.len() <= MAX_VALIDATION_TOKEN && token.chars().all(|c| !c.is_control());
    Some(printable.then(|| token.into_owned()))
}

impl Served {
    /// Drops what fails at `reason`: counted, and logged at most once a minute for each reason.
    fn refuse(&self, reason: &'static str, count: usize) {
        let metrics = self.live.metrics();
        for _ in 0..count {
            metrics.live_notification_refused(reason);
        }
        if let Some(suppressed) = self.refusals.note(reason) {
            tracing::warn!(reason, suppressed, "dropped Graph notifications (first of a minute's, by reason)");
        }
    }

    /// Answers a batch at once; checking and opening it comes after (see the module docs).
    fn take(self: &Arc<Self>, guild: &str, channel: &str, tag: &str, body: &[u8]) -> Response {
        let accepted = || plain(StatusCode::ACCEPTED, "accepted\n".into());
        self.live.metrics().live_notification_received();
        let Some(bridge) = BridgeAddress::parse(guild, channel, tag) else {
            self.refuse("address", 1);
            return plain(StatusCode::NOT_FOUND, "not a notification address\n".into());
        };
        if !self.sink.serves(bridge.guild) {
            self.refuse("other_server", 1);
            return accepted();
        }
        let Ok(batch) = serde_json::from_slice::<Batch>(body) else {
            self.refuse("malformed", 1);
            return accepted();
        };
        let Ok(permit) = self.checking.clone().try_acquire_owned() else {
            // Not taken, so not accepted: Graph sends it again later.
            self.refuse("overloaded", 1);
            return plain(StatusCode::SERVICE_UNAVAILABLE, "busy\n".into());
        };
        let served = self.clone();
        let span = tracing::info_span!("notification", guild_id = bridge.guild, channel_id = bridge.channel);
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                served.check_and_open(bridge, batch).await;
                drop(permit);
            },
            span,
        ));
        accepted()
    }

    /// After the answer: check, decrypt, read, hand over.
    async fn check_and_open(&self, bridge: BridgeAddress, batch: Batch) {
        let Batch { value: AtMost(notifications), validation_tokens: AtMost(tokens) } = batch;
        let certificates = &self.live.certificates;
        let address = bridge.segments();
        let (ours, forged): (Vec<Notification>, Vec<Notification>) = notifications.into_iter().partition(|n| {
            n.client_state.as_deref().is_some_and(|state| certificates.is_client_state(&address, state))
        });
        if !forged.is_empty() {
            self.refuse("client_state", forged.len());
        }
        let (ours, elsewhere): (Vec<Notification>, Vec<Notification>) =
            ours.into_iter().partition(|n| names_this_bridge(n.resource.as_deref(), &bridge));
        if !elsewhere.is_empty() {
            self.refuse("resource", elsewhere.len());
        }
        if ours.is_empty() {
            return;
        }
        if let Err(refusal) = self.live.tokens.check_all(&tokens).await {
            tracing::debug!(%refusal, "a Graph notification's validation token was not accepted");
            return self.refuse(refusal.reason(), ours.len());
        }
        let keys = certificates.keys().without_app(self.live.client_id());
        let mut found = Vec::new();
        for notification in ours {
            let Some(content) = notification.encrypted_content else {
                self.refuse("no_content", 1);
                continue;
            };
            let certificate_id = content.encryption_certificate_id.clone();
            let payload = match self.live.decrypt(content).await {
                Ok(payload) => payload,
                Err(refusal) => {
                    self.refuse(refusal.reason(), 1);
                    continue;
                }
            };
            match events::parse(&payload, &keys) {
                Ok(event) => found.push(event),
                Err(unreadable) => {
                    tracing::warn!(%unreadable, "a call event meetnow can't read; ignored");
                    self.refuse("unreadable", 1);
                    continue;
                }
            }
            let join_url = notification.resource.as_deref().and_then(join_url_of);
            let expires = notification
                .subscription_expiration_date_time
                .as_deref()
                .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
            let subscription = notification.subscription_id.zip(expires);
            self.live.subscriptions.saw(&bridge, join_url, subscription, certificate_id).await;
        }
        if !found.is_empty() {
            self.sink.call_events(bridge, found);
        }
    }
}

/// Whether a notification's `resource` is about the bridge its address names: when it names a meeting by its
/// join link (as the subscription's resource does), that link must be the bridge's.
fn names_this_bridge(resource: Option<&str>, bridge: &BridgeAddress) -> bool {
    match resource.and_then(join_url_of) {
        Some(join_url) => super::tag_of(&join_url) == bridge.tag,
        // Another form of the resource (Graph has not documented one for these): the client state, bound to
        // this address, and the validation tokens decide.
        None => true,
    }
}

/// The join link inside a call-events resource, `…(joinWebUrl='{encoded}')…`.
fn join_url_of(resource: &str) -> Option<String> {
    let (_, rest) = resource.split_once("joinWebUrl='")?;
    let (encoded, _) = rest.split_once('\'')?;
    let decoded: String = url::form_urlencoded::parse(format!("u={encoded}").as_bytes()).next()?.1.into_owned();
    Some(decoded)
}

pub(crate) fn plain(status: StatusCode, text: String) -> Response {
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
        let bridge = BridgeAddress::new(1, 2, join);
        assert!(names_this_bridge(Some(&resource), &bridge));
        let other = crate::graph::call_events_resource("https://teams.microsoft.com/l/meetup-join/other");
        assert!(!names_this_bridge(Some(&other), &bridge), "another meeting's notification");
    }

    #[test]
    fn a_batch_keeps_its_first_hundred_entries_and_skips_the_rest_unbuilt() {
        let body = format!("{{\"value\":[{}{{}}],\"validationTokens\":[\"a\",\"b\"]}}", "{},".repeat(87_000));
        let batch: Batch = serde_json::from_str(&body).unwrap();
        assert_eq!(batch.value.0.len(), MAX_NOTIFICATIONS);
        assert_eq!(batch.value.0.capacity().min(4 * MAX_NOTIFICATIONS), batch.value.0.capacity(), "never grown past");
        assert_eq!(batch.validation_tokens.0, ["a", "b"]);
        let tokens = format!("{{\"value\":[],\"validationTokens\":[{}\"x\"]}}", "\"t\",".repeat(500));
        assert_eq!(serde_json::from_str::<Batch>(&tokens).unwrap().validation_tokens.0.len(), MAX_VALIDATION_TOKENS);
        assert!(serde_json::from_str::<Batch>("{\"value\":7}").is_err());
    }
}
