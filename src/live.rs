//! Live status: Graph's meeting call events (beta), from subscription to verified, decrypted events.
//!
//! This module owns the Graph side of live status and knows nothing of Discord:
//! - [`BridgeAddress`]: which channel and bridge a notification is about, carried in the notification URL
//!   (`/graph/notifications/{guild}/{channel}/{tag}`, the tag a hash of the join link) and bound to it by
//!   `clientState` ([`crypto`]), so any process can check it without shared state;
//! - [`bridge_subscriptions`]: one subscription per bridge, made when the bridge is announced, adopted when another
//!   process made it, renewed while the bridge is in use, made again when it is gone;
//! - [`notifications`]: the validation handshake and the notifications, answered at once, then checked (client
//!   state, resource, validation tokens, the HMAC over the data) before anything is decrypted or read;
//! - [`events`] and [`state`]: the payloads read into call events, and the mergeable state of the call that
//!   the announcement carries.
//!
//! What the channel sees is `discord`'s: it implements [`CallEventSink`] and keeps the announcement current.

pub mod bridge_subscriptions;
pub mod crypto;
pub mod events;
pub mod notifications;
pub mod state;
pub mod tokens;

use std::sync::Arc;

use base64::Engine as _;
use reqwest::Url;
use sha2::Digest as _;

pub use crypto::{Certificates, NotificationCertificate};
pub use state::{CallEvent, CallState};

use crate::config::{GraphConfig, LiveConfig};
use crate::graph::GraphClient;
use crate::metrics::Metrics;

/// The path below `MEETNOW_PUBLIC_URL` where Graph posts notifications.
pub const NOTIFICATIONS_PATH: &str = "/graph/notifications";
/// The path the live-status part of an announcement links to; what follows `#` is the state.
pub const CARRIER_PATH: &str = "/graph/live";

/// The longest link Discord takes in an embed.
const CARRIER_URL_MAX: usize = 2048;

/// Which bridge in which channel a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BridgeAddress {
    pub guild: u64,
    pub channel: u64,
    /// [`tag_of`] the join link.
    pub tag: String,
}

/// A short, URL-safe hash of a join link (96 bits): how a notification names its bridge without the link.
pub fn tag_of(join_url: &str) -> String {
    let digest = sha2::Sha256::digest(join_url.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
}

impl BridgeAddress {
    pub fn new(guild: u64, channel: u64, join_url: &str) -> Self {
        Self { guild, channel, tag: tag_of(join_url) }
    }

    /// `{guild}/{channel}/{tag}`: the notification URL's last segments, and what `clientState` signs.
    pub fn segments(&self) -> String {
        format!("{}/{}/{}", self.guild, self.channel, self.tag)
    }

    /// Reads [`BridgeAddress::segments`] back; `None` for anything else.
    pub fn parse(guild: &str, channel: &str, tag: &str) -> Option<Self> {
        let tag_ok = tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let snowflake = |s: &str| (s.len() <= 20).then(|| s.parse::<u64>().ok()).flatten().filter(|&v| v > 0);
        Some(Self { guild: snowflake(guild)?, channel: snowflake(channel)?, tag: tag_ok.then(|| tag.to_owned())? })
    }
}

/// Where verified call events go: `discord`'s handler, which keeps the announcement current.
pub trait CallEventSink: Send + Sync + 'static {
    /// Whether the bot serves this Discord server (`MEETNOW_ALLOWED_GUILD_IDS`).
    fn serves(&self, guild: u64) -> bool;
    /// Events for the bridge at `bridge`, in any order, already verified and decrypted.
    fn call_events(&self, bridge: BridgeAddress, events: Vec<CallEvent>);
}

/// Live status, when `MEETNOW_PUBLIC_URL` turns it on.
pub struct LiveStatus {
    public_url: Url,
    pub certificates: Certificates,
    pub tokens: Arc<tokens::TokenChecker>,
    pub subscriptions: Arc<bridge_subscriptions::Subscriptions>,
    decryptions: notifications::Decryptions,
    metrics: Arc<Metrics>,
    /// `AZURE_CLIENT_ID`: the bot's own participant in a call (when it rings someone in) is not shown.
    client_id: String,
}

impl LiveStatus {
    pub fn new(live: &LiveConfig, graph_config: &GraphConfig, graph: GraphClient, http: reqwest::Client) -> Self {
        let metrics = graph.metrics();
        let tokens = Arc::new(tokens::TokenChecker::new(
            http,
            &graph_config.authority_host,
            &graph_config.tenant_id,
            &graph_config.client_id,
            graph.clone(),
        ));
        let public_url = live.public_url.clone();
        let certificates = Certificates::new(&live.certificate, live.previous_certificate.as_deref());
        let subscriptions =
            Arc::new(bridge_subscriptions::Subscriptions::new(graph, certificates.clone(), public_url.clone()));
        Self {
            public_url,
            certificates,
            tokens,
            subscriptions,
            decryptions: Default::default(),
            metrics,
            client_id: graph_config.client_id.clone(),
        }
    }

    /// What live status runs in the background while the bot runs: the subscriptions' keeper, and Microsoft's
    /// signing keys (and the tenant's id) kept at hand, so no notification waits for them.
    pub fn background(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (subscriptions, tokens) = (self.subscriptions.clone(), self.tokens.clone());
        async move {
            tokio::join!(subscriptions.keep(), tokens.keep_keys());
        }
    }

    /// The plaintext of `content`, decrypted on the blocking pool (RSA is milliseconds of arithmetic), at most
    /// one decryption per core at once.
    ///
    /// # Errors
    /// [`crypto::Undecryptable`]: which step failed.
    pub async fn decrypt(&self, content: crypto::EncryptedContent) -> Result<Vec<u8>, crypto::Undecryptable> {
        // The semaphore is never closed; without a permit the work would still be bounded by the callers'.
        let _turn = self.decryptions.0.acquire().await.ok();
        let certificates = self.certificates.clone();
        tokio::task::spawn_blocking(move || certificates.decrypt(&content))
            .await
            .unwrap_or(Err(crypto::Undecryptable::Data))
    }

    /// `{MEETNOW_PUBLIC_URL}/graph/notifications/{guild}/{channel}/{tag}`.
    pub fn notification_url(&self, bridge: &BridgeAddress) -> String {
        notification_url(&self.public_url, bridge)
    }

    /// `{MEETNOW_PUBLIC_URL}/graph/notifications`.
    pub fn notifications_base(&self) -> String {
        format!("{}{NOTIFICATIONS_PATH}", self.public_url.as_str().trim_end_matches('/'))
    }

    /// The link of the announcement's live-status part: `{MEETNOW_PUBLIC_URL}/graph/live#{state}`. The state
    /// is in the fragment, which browsers never send, so opening the link tells the bot nothing.
    pub fn carrier_url(&self, encoded_state: &str) -> String {
        format!("{}{CARRIER_PATH}#{encoded_state}", self.public_url.as_str().trim_end_matches('/'))
    }

    /// How long the state may be in [`LiveStatus::carrier_url`] (Discord takes embed links of 2,048).
    pub fn state_budget(&self) -> usize {
        CARRIER_URL_MAX.saturating_sub(self.public_url.as_str().len() + CARRIER_PATH.len() + 1)
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The public URL Graph reaches this bot at.
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The routes Graph posts to, handing what passes to `sink`.
    pub fn router(self: &Arc<Self>, sink: Arc<dyn CallEventSink>) -> axum::Router {
        notifications::router(self.clone(), sink)
    }
}

pub fn notification_url(public_url: &Url, bridge: &BridgeAddress) -> String {
    format!("{}{NOTIFICATIONS_PATH}/{}", public_url.as_str().trim_end_matches('/'), bridge.segments())
}
