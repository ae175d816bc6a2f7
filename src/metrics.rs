//! What operators watch: Prometheus metrics, health, and the routes that serve them (`METRICS_ADDR`:
//! `GET /metrics`, `/healthz`, `/livez`, `/readyz`), served by [`crate::server`].
//!
//! Ready (`/readyz`) means this process can answer a command now: it holds a usable Graph token and its
//! transport (the gateway, or the interactions endpoint) is up, and it is not shutting down. A failed
//! token refresh while a usable token is still cached does not make it unready (one Entra blip would
//! otherwise empty a load balancer of every replica at once): it is a warning in `/healthz`, a log line and
//! `meetnow_token_refresh_failing`.
//!
//! The Graph client and the Discord handler record into one [`Metrics`]; this module owns the names, the
//! health rule and the listener, and knows nothing of Graph's or Discord's protocols.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
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
    /// `remaining` of the gateway's session start limit when last read; -1 before.
    session_starts_remaining: Gauge,
    /// While waiting for the session start limit to reset: when it resets.
    session_start_wait: std::sync::Mutex<Option<(Instant, u64)>>,
    gateway_reconnects: Counter,
    live_notifications: Counter,
    live_refused: Family<ReasonLabel, Counter>,
    live_subscriptions: Family<OutcomeLabel, Counter>,
    live_edits: Family<OutcomeLabel, Counter>,
    /// 1 while connected: also the state `/healthz` reads.
    gateway_connected: Gauge,
    ever_connected: AtomicBool,
    /// Until when the cached Graph token may be used; `None` before the first successful sign-in.
    token_usable_until: std::sync::Mutex<Option<Instant>>,
    /// What this process takes commands over, which decides what "healthy" means.
    mode: std::sync::Mutex<Mode>,
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
            session_starts_remaining: Gauge::default(),
            session_start_wait: std::sync::Mutex::new(None),
            gateway_reconnects: Counter::default(),
            live_notifications: Counter::default(),
            live_refused: Family::default(),
            live_subscriptions: Family::default(),
            live_edits: Family::default(),
            gateway_connected: Gauge::default(),
            ever_connected: AtomicBool::new(false),
            token_usable_until: std::sync::Mutex::new(None),
            mode: std::sync::Mutex::new(Mode::Gateway),
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
        if let (Some(until), Ok(mut current)) = (usable_until, self.token_usable_until.lock()) {
            *current = Some(until);
        }
    }

    /// Discord answered a call with 429; `scope` is `user`, `global` or `shared`.
    pub fn discord_rate_limited(&self, scope: &'static str) {
        self.discord_ratelimited.get_or_create(&ScopeLabel { scope }).inc();
    }

    /// What `GET /gateway/bot` said about the session start limit, and, when too few starts are left, until
    /// when this process waits before it connects (`None` once it goes ahead).
    pub fn session_starts(&self, remaining: u64, waiting_until: Option<Instant>) {
        self.session_starts_remaining.set(i64::try_from(remaining).unwrap_or(i64::MAX));
        if let Ok(mut wait) = self.session_start_wait.lock() {
            *wait = waiting_until.map(|until| (until, remaining));
        }
    }

    /// A request to the interactions endpoint was refused before it was parsed (`reason`: see
    /// `discord::signature::Refused::reason`, or `replayed`).
    pub fn http_refused(&self, reason: &'static str) {
        self.http_refused.get_or_create(&ReasonLabel { reason }).inc();
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

    /// The gateway session is up (READY or RESUMED) or down.
    pub fn gateway(&self, connected: bool) {
        let was = self.gateway_connected.set(i64::from(connected)) == 1;
        if connected && !was && self.ever_connected.swap(true, Ordering::SeqCst) {
            self.gateway_reconnects.inc();
        }
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
        if let Ok(mut current) = self.mode.lock() {
            *current = mode;
        }
    }

    /// `Ok` when ready for commands (with any warnings), otherwise the reasons it is not.
    pub fn health(&self) -> Result<Vec<String>, Vec<String>> {
        let mut reasons = Vec::new();
        match self.mode.lock().map(|mode| *mode).unwrap_or(Mode::Stopping) {
            Mode::Gateway if self.gateway_connected.get() != 1 => {
                reasons.push("the Discord gateway is not connected".to_owned())
            }
            Mode::Gateway | Mode::Endpoint => {}
            Mode::Stopping => reasons.push("shutting down: finishing the commands in flight".to_owned()),
        }
        if let Some((until, remaining)) = self.session_start_wait.lock().ok().and_then(|wait| *wait) {
            let minutes = until.saturating_duration_since(Instant::now()).as_secs().div_ceil(60);
            reasons.push(format!(
                "waiting for Discord's gateway session start limit to reset in {minutes} min ({remaining} starts left \
                 today): the process restarted too often"
            ));
        }
        let usable_until = self.token_usable_until.lock().ok().and_then(|until| *until);
        let now = Instant::now();
        let refresh_failing = self.token_refresh_failing.get() == 1;
        let mut warnings = Vec::new();
        match usable_until {
            Some(until) if until > now => {
                if refresh_failing {
                    let minutes = (until - now).as_secs() / 60;
                    warnings.push(format!(
                        "the last Microsoft Graph token refresh failed; the cached token is usable for {minutes} \
                         more minutes"
                    ));
                }
            }
            _ if refresh_failing => {
                reasons.push("no usable Microsoft Graph token: the last token refresh failed".to_owned())
            }
            _ => reasons.push("no usable Microsoft Graph token yet".to_owned()),
        }
        if reasons.is_empty() {
            Ok(warnings)
        } else {
            Err(reasons)
        }
    }

    /// The routes: `/metrics`, `/livez`, `/readyz` and `/healthz`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/metrics", get(metrics_text))
            // Liveness: the process answers. A restart cures nothing that /readyz reports (a gateway
            // reconnecting, Entra refusing a token), so an orchestrator's liveness probe must not ask it.
            .route("/livez", get(|| async { json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned()) }))
            .route("/readyz", get(ready))
            .route("/healthz", get(healthz))
            .fallback(|| async {
                (StatusCode::NOT_FOUND, "not found: try /metrics, /healthz, /livez or /readyz\n").into_response()
            })
            .with_state(self)
    }
}

async fn metrics_text(State(metrics): State<Arc<Metrics>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics.render()).into_response()
}

/// 200 while ready (warnings don't count), 503 with the reasons otherwise.
async fn ready(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.health() {
        Ok(_) => json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
        Err(reasons) => unavailable(&reasons),
    }
}

/// As [`ready`], and a ready process with warnings says `degraded` and why.
async fn healthz(State(metrics): State<Arc<Metrics>>) -> Response {
    match metrics.health() {
        Ok(warnings) if warnings.is_empty() => json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
        Ok(warnings) => {
            json(StatusCode::OK, serde_json::json!({"status": "degraded", "reasons": warnings}).to_string())
        }
        Err(reasons) => unavailable(&reasons),
    }
}

fn unavailable(reasons: &[String]) -> Response {
    json(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({"status": "unavailable", "reasons": reasons}).to_string())
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// What a process takes commands over; `/healthz` asks of each what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The gateway websocket: healthy while it is connected.
    Gateway,
    /// Discord's interactions endpoint: healthy while it is served (no gateway needed).
    Endpoint,
    /// Shutdown has begun: not ready for new commands, so a load balancer sends them elsewhere.
    Stopping,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_an_hour() -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(3600))
    }

    #[test]
    fn health_needs_the_gateway_and_a_token() {
        let m = Metrics::default();
        assert_eq!(m.health().unwrap_err().len(), 2);
        m.gateway(true);
        m.token_refreshed(in_an_hour());
        assert!(m.health().is_ok());
        m.gateway(false);
        assert_eq!(m.health().unwrap_err(), vec!["the Discord gateway is not connected"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_with_a_usable_token_cached_is_a_warning_until_the_token_expires() {
        let m = Metrics::default();
        m.set_mode(Mode::Endpoint);
        m.token_refreshed(in_an_hour());
        m.token_refreshed(None);
        let warnings = m.health().expect("still ready");
        assert!(warnings[0].contains("refresh failed") && warnings[0].contains("60 more minutes"), "{warnings:?}");
        assert!(m.render().contains("meetnow_token_refresh_failing 1"));
        tokio::time::advance(Duration::from_secs(3601)).await;
        assert_eq!(m.health().unwrap_err(), vec!["no usable Microsoft Graph token: the last token refresh failed"]);
        m.token_refreshed(in_an_hour());
        assert_eq!(m.health(), Ok(vec![]));
        assert!(m.render().contains("meetnow_token_refresh_failing 0"));
    }

    #[test]
    fn the_endpoint_needs_no_gateway_and_stopping_is_unhealthy() {
        let m = Metrics::default();
        m.token_refreshed(in_an_hour());
        m.set_mode(Mode::Endpoint);
        assert!(m.health().is_ok());
        m.set_mode(Mode::Stopping);
        assert_eq!(m.health().unwrap_err(), vec!["shutting down: finishing the commands in flight"]);
    }

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
        let text = m.render();
        assert!(text.contains("meetnow_commands_total 1"));
        assert!(text.contains("meetnow_meetings_total{origin=\"created\"} 1"));
        assert!(text.contains("meetnow_errors_total{kind=\"throttled\"} 1"));
        assert!(text.contains("meetnow_graph_throttled_total 1"));
        assert!(text.contains("meetnow_graph_request_duration_seconds_bucket{le=\"0.25\"} 1"));
    }
}
