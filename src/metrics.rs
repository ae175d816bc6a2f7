//! What operators watch: Prometheus metrics, health, and the small HTTP listener that serves them
//! (`METRICS_ADDR`: `GET /metrics`, `GET /healthz`).
//!
//! The Graph client and the Discord handler record into one [`Metrics`]; this module owns the names, the
//! health rule and the listener, and knows nothing of Graph's or Discord's protocols.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginLabel {
    origin: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
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
    gateway_reconnects: Counter,
    /// 1 while connected: also the state `/healthz` reads.
    gateway_connected: Gauge,
    ever_connected: AtomicBool,
    token_ok: AtomicBool,
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
            gateway_reconnects: Counter::default(),
            gateway_connected: Gauge::default(),
            ever_connected: AtomicBool::new(false),
            token_ok: AtomicBool::new(false),
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

    pub fn token_refreshed(&self, ok: bool) {
        self.token_refreshes.get_or_create(&ResultLabel { result: if ok { "ok" } else { "error" } }).inc();
        self.token_ok.store(ok, Ordering::SeqCst);
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

    /// `Ok` when healthy, otherwise the reasons it is not.
    pub fn health(&self) -> Result<(), Vec<&'static str>> {
        let mut reasons = Vec::new();
        match self.mode.lock().map(|mode| *mode).unwrap_or(Mode::Stopping) {
            Mode::Gateway if self.gateway_connected.get() != 1 => reasons.push("the Discord gateway is not connected"),
            Mode::Gateway | Mode::Endpoint => {}
            Mode::Stopping => reasons.push("shutting down: finishing the commands in flight"),
        }
        if !self.token_ok.load(Ordering::SeqCst) {
            reasons.push("the last Microsoft Graph token refresh failed");
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
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

/// Serves `/metrics` and the health paths on `listener` until `stop` is cancelled (see
/// [`crate::server::serve`]: accept errors back off, slow headers time out).
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    stop: tokio_util::sync::CancellationToken,
) {
    let handle = move |request: Request<hyper::body::Incoming>| {
        let response = respond(&metrics, &request);
        async move { response }
    };
    crate::server::serve(listener, handle, stop, crate::server::HEADER_READ_TIMEOUT).await;
}

fn respond<B>(metrics: &Metrics, request: &Request<B>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match request.uri().path() {
        "/metrics" => (StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", metrics.render()),
        // Liveness: the process answers. A restart cures nothing that /readyz reports (a gateway reconnecting,
        // Entra refusing a token), so an orchestrator's liveness probe must not ask it.
        "/livez" => (StatusCode::OK, "application/json", r#"{"status":"ok"}"#.to_owned()),
        "/healthz" | "/readyz" => match metrics.health() {
            Ok(()) => (StatusCode::OK, "application/json", r#"{"status":"ok"}"#.to_owned()),
            Err(reasons) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                serde_json::json!({"status": "unavailable", "reasons": reasons}).to_string(),
            ),
        },
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found: try /metrics, /healthz, /livez or /readyz\n".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = hyper::header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_needs_the_gateway_and_a_token() {
        let m = Metrics::default();
        assert_eq!(m.health().unwrap_err().len(), 2);
        m.gateway(true);
        m.token_refreshed(true);
        assert!(m.health().is_ok());
        m.gateway(false);
        assert_eq!(m.health().unwrap_err(), vec!["the Discord gateway is not connected"]);
    }

    #[test]
    fn the_endpoint_needs_no_gateway_and_stopping_is_unhealthy() {
        let m = Metrics::default();
        m.token_refreshed(true);
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
