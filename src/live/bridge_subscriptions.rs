//! One subscription per bridge, kept alive, readable and on the current certificate while the bridge is in
//! use.
//!
//! - When a bridge is announced, [`Subscriptions::ensure`] makes sure Graph sends its call events: nothing to
//!   do when this process knows a subscription with time left; otherwise create one. Graph allows one per app
//!   per meeting, so when several processes announce the same bridge one create succeeds and the others are
//!   refused (403, or 409); they read the app's subscriptions and adopt that one. Nobody deletes what is
//!   readable, so nobody fights.
//! - When someone types `/meetnow` a call is about to start: [`Ensure::Typed`] also asks Graph whether the
//!   known subscription still exists (at most once a minute per bridge), and makes it again if not, instead
//!   of learning it at the next renewal.
//! - [`Subscriptions::keep`] renews every 12 hours, and in any case ahead of expiry (with a per-process
//!   jitter, so processes rarely renew the same one twice), every subscription whose bridge was announced or
//!   had call events within a subscription's lifetime; a renewal Graph answers 404 (expired, deleted) makes a
//!   new one; a failure is tried again in a few minutes. A bridge unused for a lifetime is let lapse.
//! - A subscription on another certificate than the current one (the operator replaced it) is moved to the
//!   current one when it is adopted, renewed or heard from, as Microsoft's *Rotating keys* asks: a `PATCH` of
//!   `encryptionCertificate` and `encryptionCertificateId` with the renewal, and of the `clientState` derived
//!   from the new key. Whether Graph took the `clientState` only a read of the subscription tells; when it
//!   did not (or Graph refuses the `PATCH`), the subscription is replaced: deleted and made anew.
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

use super::{notification_url, BridgeAddress, Certificates};
use crate::graph::{GraphClient, GraphError, Move, NewSubscription, Subscribed, Subscription};
use crate::telemetry::Chain;

/// How far ahead a subscription is made or renewed: Graph's limit for these is 4,230 minutes; one minute
/// less allows for clocks.
pub const LIFETIME: Duration = Duration::from_secs(4229 * 60);
/// Renewed this long before it lapses, plus up to [`RENEW_JITTER`].
pub const RENEW_AHEAD: Duration = Duration::from_secs(6 * 60 * 60);
/// Renewed at least this often (less up to [`RENEW_JITTER`]) while in use: a renewal answered 404 is how a
/// deleted subscription is noticed when nobody types `/meetnow`, since Graph sends no `subscriptionRemoved`
/// lifecycle notification for this resource (only for Outlook and chat messages).
pub const RECHECK_EVERY: Duration = Duration::from_secs(12 * 60 * 60);
const RENEW_JITTER: Duration = Duration::from_secs(30 * 60);
/// `ensure` does nothing when the known subscription has at least this long left.
const ENOUGH_LEFT: Duration = Duration::from_secs(60 * 60);
/// A typed `/meetnow` asks Graph whether the subscription exists at most this often per bridge: forty
/// people typing it at once ask once.
pub const CONFIRM_GAP: Duration = Duration::from_secs(60);
/// A failed create or renewal is tried again after this.
pub const RETRY_AFTER: Duration = Duration::from_secs(5 * 60);
/// How often the keeper looks.
pub const KEEPER_TICK: Duration = Duration::from_secs(60);

/// Why a bridge's subscription is being made sure of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensure {
    /// It was announced without anyone typing (a new channel, a stand-by process finishing a command).
    Announced,
    /// Someone typed `/meetnow`: a call is about to start, so Graph is asked whether it still exists.
    Typed,
}

/// What this process knows of one bridge's subscription.
struct Known {
    bridge: BridgeAddress,
    join_url: String,
    /// Graph's id, once made or adopted.
    id: Option<String>,
    /// The certificate Graph encrypts its notifications to, when known.
    certificate_id: Option<String>,
    expires_at: Instant,
    renew_at: Instant,
    /// Announced or notified last at.
    used_at: Instant,
    /// When Graph last said it exists (made, adopted, renewed, read).
    confirmed_at: Option<Instant>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Known>>>;

/// The subscriptions of this process's bridges.
pub struct Subscriptions {
    graph: GraphClient,
    certificates: Certificates,
    public_url: Url,
    known: Mutex<HashMap<String, Slot>>,
}

impl Subscriptions {
    pub fn new(graph: GraphClient, certificates: Certificates, public_url: Url) -> Self {
        Self { graph, certificates, public_url, known: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, tag: &str) -> Slot {
        let mut known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        known.entry(tag.to_owned()).or_default().clone()
    }

    fn forget(&self, tag: &str) {
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(tag);
    }

    /// Makes sure Graph sends the call events of the bridge at `bridge` (see the module docs). Failures are
    /// logged and counted; the keeper tries again.
    pub async fn ensure(&self, bridge: &BridgeAddress, join_url: &str, why: Ensure) {
        let slot = self.slot(&bridge.tag);
        let mut known = slot.lock().await;
        let now = Instant::now();
        if let Some(entry) = known.as_mut() {
            entry.used_at = now;
            if let Some(id) = entry.id.clone() {
                let enough_left = entry.expires_at.saturating_duration_since(now) >= ENOUGH_LEFT;
                let confirmed_lately = entry.confirmed_at.is_some_and(|at| now.duration_since(at) < CONFIRM_GAP);
                match why {
                    Ensure::Announced if enough_left => return,
                    Ensure::Typed if enough_left && confirmed_lately => return,
                    Ensure::Typed if enough_left => return self.confirm(entry, &id).await,
                    _ => {}
                }
            }
        }
        let entry = known.get_or_insert_with(|| Known {
            bridge: bridge.clone(),
            join_url: join_url.to_owned(),
            id: None,
            certificate_id: None,
            expires_at: now,
            renew_at: now,
            used_at: now,
            confirmed_at: None,
        });
        self.establish(entry).await;
    }

    /// A verified notification for `bridge` arrived: the bridge is in use. `join_url`, `subscription` and
    /// `certificate_id` come from the notification (its resource, subscription id and the certificate it was
    /// encrypted to), for a process that did not know it, and to notice one still on a previous certificate.
    pub async fn saw(
        &self,
        bridge: &BridgeAddress,
        join_url: Option<String>,
        subscription: Option<(String, OffsetDateTime)>,
        certificate_id: Option<String>,
    ) {
        let slot = self.slot(&bridge.tag);
        let mut known = slot.lock().await;
        let now = Instant::now();
        let on_current = self.certificates.is_current(certificate_id.as_deref());
        match known.as_mut() {
            Some(entry) => {
                entry.used_at = now;
                let same = subscription.as_ref().is_some_and(|(id, _)| entry.id.as_ref() == Some(id));
                if same && certificate_id.is_some() && entry.certificate_id != certificate_id {
                    entry.certificate_id = certificate_id;
                    if !on_current {
                        // Moved at the keeper's next look, not in the middle of reading notifications.
                        entry.renew_at = now;
                    }
                }
            }
            None => {
                let Some(join_url) = join_url.filter(|url| super::tag_of(url) == bridge.tag) else { return };
                let (id, expires_at) = match subscription {
                    Some((id, expires)) => (Some(id), instant_of(expires)),
                    None => (None, now),
                };
                let renew_at = if on_current { renew_time(expires_at) } else { now };
                *known = Some(Known {
                    bridge: bridge.clone(),
                    join_url,
                    id,
                    certificate_id,
                    expires_at,
                    renew_at,
                    used_at: now,
                    confirmed_at: None,
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

    /// One look: renew (or move, or make again) each subscription that is due and whose bridge is in use;
    /// forget those unused for a lifetime.
    pub async fn renew_due(&self) {
        let slots: Vec<(String, Slot)> = {
            let known = self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            known.iter().map(|(tag, slot)| (tag.clone(), slot.clone())).collect()
        };
        for (tag, slot) in slots {
            let mut known = slot.lock().await;
            let Some(entry) = known.as_mut() else {
                // A slot nobody filled (a notification whose join link could not be read): nothing to keep.
                drop(known);
                self.forget(&tag);
                continue;
            };
            let now = Instant::now();
            if now.saturating_duration_since(entry.used_at) > LIFETIME {
                tracing::info!(tag = %tag, "bridge unused for three days; letting its live-status subscription lapse");
                *known = None;
                drop(known);
                self.forget(&tag);
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

    /// Renews the subscription `id`, moving it to the current certificate when it is on another.
    async fn renew(&self, entry: &mut Known, id: &str) {
        if entry.certificate_id.is_some() && !self.certificates.is_current(entry.certificate_id.as_deref()) {
            return self.move_to_current(entry, id).await;
        }
        let expires = OffsetDateTime::now_utc() + LIFETIME;
        match self.graph.renew_subscription(id, expires).await {
            Ok(true) => {
                self.record(entry, id, entry.certificate_id.clone(), Instant::now() + LIFETIME);
                self.graph.metrics().live_subscription("renewed");
                tracing::info!(subscription_id = %id, "renewed a live-status subscription");
            }
            Ok(false) => self.gone(entry, id).await,
            Err(error) => self.failed(entry, "renew", &error),
        }
    }

    /// Graph no longer has the subscription `id`: make a new one.
    async fn gone(&self, entry: &mut Known, id: &str) {
        tracing::info!(subscription_id = %id, "the live-status subscription is gone; making a new one");
        entry.id = None;
        // Boxed: making one may adopt one, which may renew or move it, which may make one.
        Box::pin(self.establish(entry)).await;
    }

    /// A typed `/meetnow`: asks Graph whether the subscription `id` still exists, and makes it again if not.
    async fn confirm(&self, entry: &mut Known, id: &str) {
        match self.graph.subscription(id).await {
            Ok(Some(found)) => {
                let expires_at = found.expires.map_or(entry.expires_at, instant_of);
                let certificate_id = found.certificate_id.or(entry.certificate_id.take());
                let on_current = self.certificates.is_current(certificate_id.as_deref());
                self.record(entry, id, certificate_id, expires_at);
                if !on_current && entry.certificate_id.is_some() {
                    self.move_to_current(entry, id).await;
                }
            }
            Ok(None) => self.gone(entry, id).await,
            Err(error) => self.failed(entry, "read", &error),
        }
    }

    /// Creates the subscription, or adopts the one Graph already has.
    async fn establish(&self, entry: &mut Known) {
        let current = &self.certificates.current;
        let client_state = current.client_state(&entry.bridge.segments());
        let notification_url = notification_url(&self.public_url, &entry.bridge);
        let new = NewSubscription {
            join_url: &entry.join_url,
            notification_url: &notification_url,
            client_state: &client_state,
            certificate: &current.certificate_base64,
            certificate_id: &current.id,
            expires: OffsetDateTime::now_utc() + LIFETIME,
        };
        match self.graph.subscribe(&new).await {
            Ok(Subscribed::Created(subscription)) => {
                tracing::info!(subscription_id = %subscription.id, "subscribed to the bridge's call events");
                self.graph.metrics().live_subscription("created");
                let expires_at = subscription.expires.map_or(Instant::now() + LIFETIME, instant_of);
                self.record(entry, &subscription.id, Some(current.id.clone()), expires_at);
            }
            Ok(Subscribed::Exists(refusal)) => match self.graph.subscriptions_for(&entry.join_url).await {
                Ok(found) => self.adopt(entry, found, &notification_url, &refusal).await,
                Err(error) => self.failed(entry, "list", &error),
            },
            Err(error) => self.failed(entry, "create", &error),
        }
    }

    async fn adopt(&self, entry: &mut Known, found: Vec<Subscription>, ours: &str, refusal: &GraphError) {
        // Ours first: another deployment's (another MEETNOW_PUBLIC_URL on the same app) is not ours to move.
        let mut found = found;
        found.sort_by_key(|s| s.notification_url != ours);
        let Some(subscription) = found.into_iter().next() else {
            if refusal.api().is_some_and(|api| api.status == 403) {
                // Graph refused, and there is nothing to adopt: the refusal was about the app, not a limit.
                return self.failed(entry, "create", refusal);
            }
            // Gone between the refusal and the list (it expired, or was deleted): try again at the next look.
            tracing::info!("Graph refused a second subscription but lists none; trying again shortly");
            entry.id = None;
            entry.renew_at = Instant::now();
            return;
        };
        let foreign = subscription.notification_url != ours;
        if foreign {
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
        self.record(entry, &id, subscription.certificate_id.clone(), expires_at);
        if !foreign && !self.certificates.is_current(subscription.certificate_id.as_deref()) {
            self.move_to_current(entry, &id).await;
        } else if expires_at.saturating_duration_since(Instant::now()) < ENOUGH_LEFT {
            self.renew(entry, &id).await;
        }
    }

    /// Moves the subscription `id` to the current certificate and its `clientState`, with a renewal; replaces
    /// it when Graph does not take the move whole (see the module docs).
    async fn move_to_current(&self, entry: &mut Known, id: &str) {
        let current = &self.certificates.current;
        let client_state = current.client_state(&entry.bridge.segments());
        let to = Move {
            certificate: &current.certificate_base64,
            certificate_id: &current.id,
            client_state: &client_state,
            expires: OffsetDateTime::now_utc() + LIFETIME,
        };
        match self.graph.move_subscription(id, &to).await {
            Ok(true) => match self.graph.subscription(id).await {
                Ok(Some(moved)) if moved.client_state.as_deref() == Some(client_state.as_str()) => {
                    tracing::info!(subscription_id = %id, certificate_id = %current.id, "moved a live-status subscription to the current certificate");
                    self.graph.metrics().live_subscription("moved");
                    let expires_at = moved.expires.map_or(Instant::now() + LIFETIME, instant_of);
                    self.record(entry, id, Some(current.id.clone()), expires_at);
                }
                Ok(Some(_)) => {
                    self.replace(entry, id, "Graph moved the certificate but kept the old clientState").await
                }
                Ok(None) => self.gone(entry, id).await,
                Err(error) => self.failed(entry, "read", &error),
            },
            Ok(false) => self.gone(entry, id).await,
            Err(error) if error.api().is_some_and(|api| api.status == 400) => {
                self.replace(entry, id, "Graph did not take the move").await
            }
            Err(error) => self.failed(entry, "move", &error),
        }
    }

    /// Deletes the subscription `id` and makes a new one on the current certificate.
    async fn replace(&self, entry: &mut Known, id: &str, why: &'static str) {
        tracing::info!(subscription_id = %id, why, "replacing a live-status subscription on a previous certificate");
        match self.graph.delete_subscription(id).await {
            Ok(_) => {
                self.graph.metrics().live_subscription("replaced");
                entry.id = None;
                Box::pin(self.establish(entry)).await;
            }
            Err(error) => self.failed(entry, "delete", &error),
        }
    }

    fn record(&self, entry: &mut Known, id: &str, certificate_id: Option<String>, expires_at: Instant) {
        entry.id = Some(id.to_owned());
        entry.certificate_id = certificate_id;
        entry.expires_at = expires_at;
        entry.renew_at = renew_time(expires_at);
        entry.confirmed_at = Some(Instant::now());
    }

    fn failed(&self, entry: &mut Known, step: &'static str, error: &GraphError) {
        self.graph.metrics().live_subscription("failed");
        tracing::error!(
            step, error = %Chain(error), kind = error.kind(), graph_request_id = error.request_id(),
            fix = %subscription_fix(error),
            "could not keep the bridge's live-status subscription; trying again in five minutes"
        );
        entry.renew_at = Instant::now() + RETRY_AFTER;
    }
}

/// What to do when Graph refuses a subscription.
pub fn subscription_fix(error: &GraphError) -> String {
    match error.api().map(|api| api.status) {
        Some(400) => "Graph could not validate the notification URL, or refused the certificate: MEETNOW_PUBLIC_URL \
             must reach this bot's MEETNOW_LISTEN_ADDR from the internet over HTTPS with a publicly trusted \
             certificate, and answer within 10 s (`meetnow check` tries it); the notification certificate must be \
             RSA of 2,048 to 4,096 bits"
            .to_owned(),
        Some(403) => {
            "Graph refused the subscription (403) and lists none for this meeting to adopt: the app needs the \
             application permission OnlineMeetings.ReadWrite.All (or OnlineMeetings.Read.All) with admin consent \
             for meeting call events, or has reached a subscription limit (one per app per meeting; see `GET \
             /beta/subscriptions`)"
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
