//! One subscription per bridge, kept alive while the bridge is in use.
//!
//! - When a bridge is announced, [`Subscriptions::ensure`] makes sure Graph sends its call events: nothing to
//!   do when this process knows a subscription with time left; otherwise create one. Graph allows one per app
//!   per meeting, so when several processes announce the same bridge one create succeeds and the others are
//!   refused; they read the app's subscriptions and adopt that one. Nobody deletes, so nobody fights.
//! - [`Subscriptions::keep`] renews every 12 hours, and in any case ahead of expiry (with a per-process
//!   jitter, so processes rarely renew the same one twice), every subscription whose bridge was announced or
//!   had call events within a subscription's lifetime; a renewal Graph answers 404 (expired, deleted) makes a
//!   new one; a failure is tried again in a few minutes. A bridge unused for a lifetime is let lapse.
//! - A notification for a subscription this process does not know (it started after the announcement)
//!   makes the bridge known here too ([`Subscriptions::saw`]), so any process can keep it alive.
//!
//! All timing is `tokio::time`, so tests drive days of it on a paused clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng as _;
use reqwest::Url;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::{notification_url, BridgeAddress, NotificationCertificate};
use crate::graph::{GraphClient, GraphError, NewSubscription, Subscribed, Subscription};

/// How far ahead a subscription is made or renewed: Graph's limit for these is 4,230 minutes; one minute
/// less allows for clocks.
pub const LIFETIME: Duration = Duration::from_secs(4229 * 60);
/// Renewed this long before it lapses, plus up to [`RENEW_JITTER`].
pub const RENEW_AHEAD: Duration = Duration::from_secs(6 * 60 * 60);
/// Renewed at least this often (less up to [`RENEW_JITTER`]) while in use: a renewal answered 404 is how a
/// deleted subscription is noticed, since Graph sends no `subscriptionRemoved` lifecycle notification for
/// this resource (only for Outlook and chat messages).
pub const RECHECK_EVERY: Duration = Duration::from_secs(12 * 60 * 60);
const RENEW_JITTER: Duration = Duration::from_secs(30 * 60);
/// `ensure` does nothing when the known subscription has at least this long left.
const ENOUGH_LEFT: Duration = Duration::from_secs(60 * 60);
/// A failed create or renewal is tried again after this.
pub const RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often the keeper looks.
pub const KEEPER_TICK: Duration = Duration::from_secs(60);

/// What this process knows of one bridge's subscription.
struct Known {
    bridge: BridgeAddress,
    join_url: String,
    /// Graph's id, once made or adopted.
    id: Option<String>,
    expires_at: Instant,
    renew_at: Instant,
    /// Announced or notified last at.
    used_at: Instant,
}

/// The subscriptions of this process's bridges.
pub struct Subscriptions {
    graph: GraphClient,
    certificate: Arc<NotificationCertificate>,
    public_url: Url,
    known: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Known>>>>>,
}

impl Subscriptions {
    pub fn new(graph: GraphClient, certificate: Arc<NotificationCertificate>, public_url: Url) -> Self {
        Self { graph, certificate, public_url, known: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, tag: &str) -> Arc<tokio::sync::Mutex<Option<Known>>> {
        let mut known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        known.entry(tag.to_owned()).or_default().clone()
    }

    /// Makes sure Graph sends the call events of the bridge at `bridge` (see the module docs). Failures are
    /// logged and counted; the keeper tries again.
    pub async fn ensure(&self, bridge: &BridgeAddress, join_url: &str) {
        let slot = self.slot(&bridge.tag);
        let mut known = slot.lock().await;
        let now = Instant::now();
        if let Some(entry) = known.as_mut() {
            entry.used_at = now;
            if entry.id.is_some() && entry.expires_at.saturating_duration_since(now) >= ENOUGH_LEFT {
                return;
            }
        }
        let entry = known.get_or_insert_with(|| Known {
            bridge: bridge.clone(),
            join_url: join_url.to_owned(),
            id: None,
            expires_at: now,
            renew_at: now,
            used_at: now,
        });
        self.establish(entry).await;
    }

    /// A verified notification for `bridge` arrived: the bridge is in use. `join_url` and `subscription` come
    /// from the notification (its resource and subscription id), for a process that did not know it.
    pub async fn saw(
        &self,
        bridge: &BridgeAddress,
        join_url: Option<String>,
        subscription: Option<(String, OffsetDateTime)>,
    ) {
        let slot = self.slot(&bridge.tag);
        let mut known = slot.lock().await;
        let now = Instant::now();
        match known.as_mut() {
            Some(entry) => entry.used_at = now,
            None => {
                let Some(join_url) = join_url.filter(|url| super::tag_of(url) == bridge.tag) else { return };
                let (id, expires_at) = match subscription {
                    Some((id, expires)) => (Some(id), instant_of(expires)),
                    None => (None, now),
                };
                *known = Some(Known {
                    bridge: bridge.clone(),
                    join_url,
                    id,
                    expires_at,
                    renew_at: renew_time(expires_at),
                    used_at: now,
                });
            }
        }
    }

    /// Renews what needs renewing, every [`KEEPER_TICK`], forever (the caller runs it in the background).
    pub async fn keep(self: Arc<Self>) {
        let mut tick = tokio::time::interval(KEEPER_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.renew_due().await;
        }
    }

    /// One look: renew (or make again) each subscription that is due and whose bridge is in use; forget
    /// those unused for a lifetime.
    pub async fn renew_due(&self) {
        let slots: Vec<(String, Arc<tokio::sync::Mutex<Option<Known>>>)> = {
            let known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            known.iter().map(|(tag, slot)| (tag.clone(), slot.clone())).collect()
        };
        for (tag, slot) in slots {
            let mut known = slot.lock().await;
            let Some(entry) = known.as_mut() else {
                // A slot nobody filled (a notification whose join link could not be read): nothing to keep.
                drop(known);
                self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&tag);
                continue;
            };
            let now = Instant::now();
            if now.saturating_duration_since(entry.used_at) > LIFETIME {
                tracing::info!(tag = %tag, "bridge unused for three days; letting its live-status subscription lapse");
                *known = None;
                drop(known);
                self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&tag);
                continue;
            }
            if now < entry.renew_at {
                tracing::trace!(tag = %tag, due_in_s = (entry.renew_at - now).as_secs(), "live-status subscription not due");
                continue;
            }
            match entry.id.clone() {
                Some(id) => self.renew(entry, &id).await,
                None => self.establish(entry).await,
            }
        }
    }

    async fn renew(&self, entry: &mut Known, id: &str) {
        let expires = OffsetDateTime::now_utc() + LIFETIME;
        match self.graph.renew_subscription(id, expires).await {
            Ok(true) => {
                self.record(entry, Some(id.to_owned()), Instant::now() + LIFETIME);
                self.graph.metrics().live_subscription("renewed");
                tracing::info!(subscription_id = %id, "renewed a live-status subscription");
            }
            Ok(false) => {
                tracing::info!(subscription_id = %id, "the live-status subscription is gone; making a new one");
                entry.id = None;
                // Boxed: making one may adopt one, which may renew it.
                Box::pin(self.establish(entry)).await;
            }
            Err(error) => self.failed(entry, "renew", &error),
        }
    }

    /// Creates the subscription, or adopts the one Graph already has.
    async fn establish(&self, entry: &mut Known) {
        let client_state = self.certificate.client_state(&entry.bridge.segments());
        let notification_url = notification_url(&self.public_url, &entry.bridge);
        let new = NewSubscription {
            join_url: &entry.join_url,
            notification_url: &notification_url,
            client_state: &client_state,
            certificate: &self.certificate.certificate_base64,
            certificate_id: &self.certificate.id,
            expires: OffsetDateTime::now_utc() + LIFETIME,
        };
        match self.graph.subscribe(&new).await {
            Ok(Subscribed::Created(subscription)) => {
                tracing::info!(subscription_id = %subscription.id, "subscribed to the bridge's call events");
                self.graph.metrics().live_subscription("created");
                let expires_at = subscription.expires.map_or(Instant::now() + LIFETIME, instant_of);
                self.record(entry, Some(subscription.id), expires_at);
            }
            Ok(Subscribed::Exists) => match self.graph.subscriptions_for(&entry.join_url).await {
                Ok(found) => self.adopt(entry, found, &notification_url).await,
                Err(error) => self.failed(entry, "list", &error),
            },
            Err(error) => self.failed(entry, "create", &error),
        }
    }

    async fn adopt(&self, entry: &mut Known, found: Vec<Subscription>, ours: &str) {
        let Some(subscription) = found.into_iter().next() else {
            // Gone between the refusal and the list (it expired, or was deleted): try again at the next look.
            tracing::info!("Graph refused a second subscription but lists none; trying again shortly");
            entry.id = None;
            entry.renew_at = Instant::now();
            return;
        };
        if subscription.notification_url != ours {
            tracing::warn!(
                theirs = %subscription.notification_url,
                ours,
                "this bridge's live-status subscription sends to another URL: is another deployment with another \
                 MEETNOW_PUBLIC_URL using the same app registration? Its notifications will not reach this one"
            );
        }
        tracing::debug!(subscription_id = %subscription.id, "adopted the bridge's existing subscription");
        self.graph.metrics().live_subscription("adopted");
        let expires_at = subscription.expires.map_or(Instant::now(), instant_of);
        let id = subscription.id;
        self.record(entry, Some(id.clone()), expires_at);
        if expires_at.saturating_duration_since(Instant::now()) < ENOUGH_LEFT {
            self.renew(entry, &id).await;
        }
    }

    fn record(&self, entry: &mut Known, id: Option<String>, expires_at: Instant) {
        entry.id = id;
        entry.expires_at = expires_at;
        entry.renew_at = renew_time(expires_at);
    }

    fn failed(&self, entry: &mut Known, step: &'static str, error: &GraphError) {
        self.graph.metrics().live_subscription("failed");
        tracing::error!(
            step, %error, kind = error.kind(), graph_request_id = error.request_id(),
            fix = %subscription_fix(error),
            "could not keep the bridge's live-status subscription; trying again in five minutes"
        );
        entry.renew_at = Instant::now() + RETRY_AFTER;
    }
}

/// What to do when Graph refuses a subscription.
pub fn subscription_fix(error: &GraphError) -> String {
    match error.api().map(|api| api.status) {
        Some(400) => "Graph could not validate the notification URL: MEETNOW_PUBLIC_URL must reach this bot's \
             MEETNOW_LISTEN_ADDR from the internet over HTTPS with a publicly trusted certificate, and answer \
             within 10 s (`meetnow check` tries it)"
            .to_owned(),
        Some(403) => {
            "the app needs the application permission OnlineMeetings.ReadWrite.All (or OnlineMeetings.Read.All) \
             with admin consent for meeting call events"
                .to_owned()
        }
        _ => error.user_message(),
    }
}

/// When to renew a subscription that lapses at `expires_at`: [`RECHECK_EVERY`] from now, or
/// [`RENEW_AHEAD`] before it lapses if that is sooner, less a jitter of this process's, so processes rarely
/// renew the same one twice.
fn renew_time(expires_at: Instant) -> Instant {
    let jitter = RENEW_JITTER.mul_f64(rand::thread_rng().gen::<f64>());
    let before_it_lapses = expires_at.checked_sub(RENEW_AHEAD + jitter).unwrap_or_else(Instant::now);
    let recheck = Instant::now() + RECHECK_EVERY - jitter;
    before_it_lapses.min(recheck)
}

/// A wall-clock time as a `tokio` instant (now, if it has passed).
fn instant_of(at: OffsetDateTime) -> Instant {
    let left: Duration = (at - OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO);
    Instant::now() + left
}
