//! What operators count: the Prometheus metrics and `GET /metrics` (`METRICS_ADDR`, served by
//! [`crate::server`] beside [`crate::health`]'s routes).
//!
//! The Graph client and the Discord handler record into one [`Metrics`]; what also decides readiness (the
//! gateway's state, the token's, the session start limit's, the process's mode) is passed on to its
//! [`Health`], which owns the rule. This module owns the names, and knows nothing of Graph's or Discord's
//! protocols.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::health::{Health, Mode};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginLabel {
    origin: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabel {
    scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ViaLabel {
    via: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// Every metric meetnow exports, and the state `/healthz` reports.
pub struct Metrics {
    registry: Registry,
    commands: Counter,
    meetings: Family<OriginLabel, Counter>,
    errors: Family<KindLabel, Counter>,
    graph_latency: Histogram,
    graph_retries: Counter,
    graph_throttled: Counter,
    token_refreshes: Family<ResultLabel, Counter>,
    /// 1 while the last token refresh failed (whether or not a usable token is still cached).
    token_refresh_failing: Gauge,
    http_refused: Family<ReasonLabel, Counter>,
    discord_ratelimited: Family<ScopeLabel, Counter>,
    discord_calls: Family<ViaLabel, Counter>,
    /// `remaining` of the gateway's session start limit when last read; -1 before.
    session_starts_remaining: Gauge,
    gateway_reconnects: Counter,
    live_notifications: Counter,
    live_refused: Family<ReasonLabel, Counter>,
    live_subscriptions: Family<OutcomeLabel, Counter>,
    live_edits: Family<OutcomeLabel, Counter>,
    /// Bridges whose announcement this process is keeping current now.
    live_calls: Gauge,
    rings: Family<OutcomeLabel, Counter>,
    ring_notifications: Counter,
    ring_refused: Family<ReasonLabel, Counter>,
    ring_left_behind: Counter,
    suggestions: Family<OutcomeLabel, Counter>,
    /// 1 while connected.
    gateway_connected: Gauge,
    ever_connected: AtomicBool,
    /// What readiness is decided from.
    health: Arc<Health>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("meetnow");
        let metrics = Self {
            commands: Counter::default(),
            meetings: Family::default(),
            errors: Family::default(),
            // 25 ms to 25 s: Graph usually answers in a few hundred milliseconds; the budget is 10 s.
            graph_latency: Histogram::new([0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0]),
            graph_retries: Counter::default(),
            graph_throttled: Counter::default(),
            token_refreshes: Family::default(),
            token_refresh_failing: Gauge::default(),
            http_refused: Family::default(),
            discord_ratelimited: Family::default(),
            discord_calls: Family::default(),
            session_starts_remaining: Gauge::default(),
            gateway_reconnects: Counter::default(),
            live_notifications: Counter::default(),
            live_refused: Family::default(),
            live_subscriptions: Family::default(),
            live_edits: Family::default(),
            live_calls: Gauge::default(),
            rings: Family::default(),
            ring_notifications: Counter::default(),
            ring_refused: Family::default(),
            ring_left_behind: Counter::default(),
            suggestions: Family::default(),
            gateway_connected: Gauge::default(),
            ever_connected: AtomicBool::new(false),
            health: Arc::default(),
            registry: Registry::default(),
        };
        registry.register("commands", "/meetnow commands received", metrics.commands.clone());
        registry.register(
            "meetings",
            "Bridges announced, by whether Graph created or reused them",
            metrics.meetings.clone(),
        );
        registry.register("errors", "Commands that failed, by kind", metrics.errors.clone());
        registry.register(
            "graph_request_duration_seconds",
            "Time for one Graph HTTP request",
            metrics.graph_latency.clone(),
        );
        registry.register(
            "graph_retries",
            "Graph requests repeated after a retryable failure",
            metrics.graph_retries.clone(),
        );
        registry.register("graph_throttled", "Graph answers with status 429", metrics.graph_throttled.clone());
        registry.register("token_refreshes", "Graph token requests, by result", metrics.token_refreshes.clone());
        registry.register(
            "token_refresh_failing",
            "1 while the last Graph token request failed",
            metrics.token_refresh_failing.clone(),
        );
        registry.register(
            "discord_calls",
            "Discord REST calls the bot's own rate limiter sent, by how they reached it (in_process, forwarder)",
            metrics.discord_calls.clone(),
        );
        registry.register(
            "discord_ratelimited",
            "Discord answers with status 429, by X-RateLimit-Scope",
            metrics.discord_ratelimited.clone(),
        );
        registry.register(
            "gateway_session_starts_remaining",
            "Gateway sessions Discord still allows to start today (session_start_limit.remaining)",
            metrics.session_starts_remaining.clone(),
        );
        registry.register(
            "http_refused",
            "Requests to the interactions endpoint refused before parsing, by reason",
            metrics.http_refused.clone(),
        );
        registry.register(
            "live_notifications",
            "Graph call-event notifications received (live status)",
            metrics.live_notifications.clone(),
        );
        registry.register(
            "live_notifications_refused",
            "Graph notifications, or parts of them, refused or ignored, by reason",
            metrics.live_refused.clone(),
        );
        registry.register(
            "live_subscriptions",
            "Live-status subscriptions created, adopted, renewed or failed",
            metrics.live_subscriptions.clone(),
        );
        registry.register(
            "live_edits",
            "Edits of an announcement's live status, by outcome",
            metrics.live_edits.clone(),
        );
        registry.register(
            "live_calls_in_hand",
            "Bridges whose announcement this process is keeping current (events in hand, or reading back its edits)",
            metrics.live_calls.clone(),
        );
        registry.register(
            "rings",
            "Rings into a bridge, by outcome (joined, declined, no_answer, unreachable, failed, refused, repeat)",
            metrics.rings.clone(),
        );
        registry.register(
            "ring_notifications",
            "Graph call notifications taken at /graph/calls",
            metrics.ring_notifications.clone(),
        );
        registry.register(
            "ring_notifications_refused",
            "Requests to /graph/calls refused, by reason",
            metrics.ring_refused.clone(),
        );
        registry.register(
            "ring_calls_left_behind_hung_up",
            "Calls of a process that died mid-ring, hung up by this one",
            metrics.ring_left_behind.clone(),
        );
        registry.register(
            "ring_suggestions",
            "Autocomplete answers for ring:, by source (directory, known, none, refused)",
            metrics.suggestions.clone(),
        );
        registry.register(
            "gateway_reconnects",
            "Discord gateway sessions after the first",
            metrics.gateway_reconnects.clone(),
        );
        registry.register(
            "gateway_connected",
            "1 while the Discord gateway is connected",
            metrics.gateway_connected.clone(),
        );
        Self { registry, ..metrics }
    }
}

impl Metrics {
    pub fn command_received(&self) {
        self.commands.inc();
    }

    /// A bridge was announced; `created` tells whether Graph made it just now.
    pub fn meeting_announced(&self, created: bool) {
        self.meetings.get_or_create(&OriginLabel { origin: if created { "created" } else { "reused" } }).inc();
    }

    /// A command failed; `kind` is a short stable name (e.g. `GraphError::kind`).
    pub fn command_failed(&self, kind: &'static str) {
        self.errors.get_or_create(&KindLabel { kind }).inc();
    }

    pub fn graph_request(&self, took: Duration, status: Option<u16>) {
        self.graph_latency.observe(took.as_secs_f64());
        if status == Some(429) {
            self.graph_throttled.inc();
        }
    }

    pub fn graph_retry(&self) {
        self.graph_retries.inc();
    }

    /// A token request ended: with a token usable until `usable_until`, or (`None`) with a failure, which
    /// leaves the token cached before it in use until it expires.
    pub fn token_refreshed(&self, usable_until: Option<Instant>) {
        let ok = usable_until.is_some();
        self.token_refreshes.get_or_create(&ResultLabel { result: if ok { "ok" } else { "error" } }).inc();
        self.token_refresh_failing.set(i64::from(!ok));
        self.health.token_refreshed(usable_until);
    }

    /// Discord answered a call with 429; `scope` is `user`, `global` or `shared`.
    /// A Discord REST call the bot's own limiter took, by how it got there (`in_process`, `forwarder`).
    pub fn discord_call(&self, via: &'static str) {
        self.discord_calls.get_or_create(&ViaLabel { via }).inc();
    }

    pub fn discord_rate_limited(&self, scope: &'static str) {
        self.discord_ratelimited.get_or_create(&ScopeLabel { scope }).inc();
    }

    /// What `GET /gateway/bot` said about the session start limit, and, when too few starts are left, until
    /// when this process waits before it connects (`None` once it goes ahead).
    pub fn session_starts(&self, remaining: u64, waiting_until: Option<Instant>) {
        self.session_starts_remaining.set(i64::try_from(remaining).unwrap_or(i64::MAX));
        self.health.session_starts(remaining, waiting_until);
    }

    /// A request to the interactions endpoint was refused before it was parsed (`reason`: see
    /// `discord::signature::Refused::reason`, or `replayed`).
    pub fn http_refused(&self, reason: &'static str) {
        self.http_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// A ring ended; `outcome` is [`crate::ring::Outcome::label`], or `refused` / `repeat` for one not made.
    pub fn ring_finished(&self, outcome: &'static str) {
        self.rings.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// A call notification passed its checks.
    pub fn ring_notification_received(&self) {
        self.ring_notifications.inc();
    }

    /// A request to `/graph/calls` was refused; `reason` is a short stable name.
    pub fn ring_notification_refused(&self, reason: &'static str) {
        self.ring_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// A call another process left behind was hung up here.
    pub fn ring_left_behind_hung_up(&self) {
        self.ring_left_behind.inc();
    }

    /// An autocomplete was answered; `outcome`: `directory`, `known`, `none` or `refused`.
    pub fn suggestions(&self, outcome: &'static str) {
        self.suggestions.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// A notification batch arrived at `/graph/notifications`.
    pub fn live_notification_received(&self) {
        self.live_notifications.inc();
    }

    /// A notification (or a batch) was refused or ignored; `reason` is a short stable name.
    pub fn live_notification_refused(&self, reason: &'static str) {
        self.live_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// `outcome`: `created`, `adopted`, `renewed` or `failed`.
    pub fn live_subscription(&self, outcome: &'static str) {
        self.live_subscriptions.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// `outcome`: `edited`, `unchanged`, `failed` or `no_announcement`.
    pub fn live_edit(&self, outcome: &'static str) {
        self.live_edits.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// How many bridges' announcements this process is keeping current; 0 once every call's events are in
    /// and read back.
    pub fn live_calls_in_hand(&self, count: usize) {
        self.live_calls.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The gateway session is up (READY or RESUMED) or down.
    pub fn gateway(&self, connected: bool) {
        let was = self.gateway_connected.set(i64::from(connected)) == 1;
        if connected && !was && self.ever_connected.swap(true, Ordering::SeqCst) {
            self.gateway_reconnects.inc();
        }
        self.health.gateway(connected);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String can't fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Records what the process takes commands over (and, for the endpoint, whether it still serves it).
    pub fn set_mode(&self, mode: Mode) {
        self.health.set_mode(mode);
    }

    /// What readiness is decided from (see [`Health`]).
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// The route `/metrics`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().route("/metrics", get(metrics_text)).with_state(self)
    }
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics.render()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_count_sessions_after_the_first() {
        let m = Metrics::default();
        m.gateway(true);
        m.gateway(true); // a second READY in the same session is not a reconnect
        m.gateway(false);
        m.gateway(true);
        assert!(m.render().contains("meetnow_gateway_reconnects_total 1"), "{}", m.render());
    }

    #[test]
    fn rendering_is_prometheus_text() {
        let m = Metrics::default();
        m.command_received();
        m.meeting_announced(true);
        m.command_failed("throttled");
        m.graph_request(Duration::from_millis(120), Some(429));
        m.token_refreshed(None);
        let text = m.render();
        assert!(text.contains("meetnow_commands_total 1"));
        assert!(text.contains("meetnow_meetings_total{origin=\"created\"} 1"));
        assert!(text.contains("meetnow_errors_total{kind=\"throttled\"} 1"));
        assert!(text.contains("meetnow_graph_throttled_total 1"));
        assert!(text.contains("meetnow_graph_request_duration_seconds_bucket{le=\"0.25\"} 1"));
        assert!(text.contains("meetnow_token_refresh_failing 1"));
    }
}
