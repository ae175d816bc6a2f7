//! Whether this process can answer a command now, and the routes that say so (`METRICS_ADDR`: `GET /livez`,
//! `/readyz`, `/healthz`), served by [`crate::server`] beside [`crate::metrics`]'s `/metrics`.
//!
//! Ready (`/readyz`) means: it holds a usable Graph token, its transport (the gateway, or the interactions
//! endpoint) is up, it is not waiting out Discord's session start limit, and it is not shutting down. A failed
//! token refresh while a usable token is still cached does not make it unready (one Entra blip would
//! otherwise empty a load balancer of every replica at once): it is a warning in `/healthz`. Alive (`/livez`)
//! means only that it answers: a restart cures nothing `/readyz` reports.
//!
//! `metrics::Metrics` passes on what it records that decides readiness; this module owns the rule and knows
//! nothing of the metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::time::Instant;

/// What a process takes commands over; readiness asks of each what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The gateway websocket: ready while it is connected.
    Gateway,
    /// Discord's interactions endpoint: ready while it is served (no gateway needed).
    Endpoint,
    /// Shutdown has begun: not ready for new commands, so a load balancer sends them elsewhere.
    Stopping,
}

/// The state readiness is decided from.
#[derive(Debug)]
pub struct Health {
    mode: Mutex<Mode>,
    gateway_connected: AtomicBool,
    /// Until when the cached Graph token may be used; `None` before the first successful sign-in.
    token_usable_until: Mutex<Option<Instant>>,
    token_refresh_failing: AtomicBool,
    /// While waiting for the session start limit to reset: when it resets, and how many starts were left.
    session_start_wait: Mutex<Option<(Instant, u64)>>,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            mode: Mutex::new(Mode::Gateway),
            gateway_connected: AtomicBool::new(false),
            token_usable_until: Mutex::new(None),
            token_refresh_failing: AtomicBool::new(false),
            session_start_wait: Mutex::new(None),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Health {
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.mode) = mode;
    }

    pub fn gateway(&self, connected: bool) {
        self.gateway_connected.store(connected, Ordering::SeqCst);
    }

    /// A token request ended: with a token usable until `usable_until`, or (`None`) with a failure, which
    /// leaves the token cached before it in use until it expires.
    pub fn token_refreshed(&self, usable_until: Option<Instant>) {
        self.token_refresh_failing.store(usable_until.is_none(), Ordering::SeqCst);
        if let Some(until) = usable_until {
            *lock(&self.token_usable_until) = Some(until);
        }
    }

    /// Until when this process waits for the session start limit to reset before it connects (`None` once
    /// it goes ahead), with `remaining` starts left.
    pub fn session_starts(&self, remaining: u64, waiting_until: Option<Instant>) {
        *lock(&self.session_start_wait) = waiting_until.map(|until| (until, remaining));
    }

    /// `Ok` when ready for commands (with any warnings), otherwise the reasons it is not.
    pub fn report(&self) -> Result<Vec<String>, Vec<String>> {
        let mut reasons = Vec::new();
        match *lock(&self.mode) {
            Mode::Gateway if !self.gateway_connected.load(Ordering::SeqCst) => {
                reasons.push("the Discord gateway is not connected".to_owned())
            }
            Mode::Gateway | Mode::Endpoint => {}
            Mode::Stopping => reasons.push("shutting down: finishing the commands in flight".to_owned()),
        }
        if let Some((until, remaining)) = *lock(&self.session_start_wait) {
            let minutes = until.saturating_duration_since(Instant::now()).as_secs().div_ceil(60);
            reasons.push(format!(
                "waiting for Discord's gateway session start limit to reset in {minutes} min ({remaining} starts left \
                 today): the process restarted too often"
            ));
        }
        let usable_until = *lock(&self.token_usable_until);
        let now = Instant::now();
        let refresh_failing = self.token_refresh_failing.load(Ordering::SeqCst);
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

    /// The routes `/livez`, `/readyz` and `/healthz` (served with `/metrics` on the metrics listener).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
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

/// 200 while ready (warnings don't count), 503 with the reasons otherwise.
async fn ready(State(health): State<Arc<Health>>) -> Response {
    match health.report() {
        Ok(_) => json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned()),
        Err(reasons) => unavailable(&reasons),
    }
}

/// As [`ready`], and a ready process with warnings says `degraded` and why.
async fn healthz(State(health): State<Arc<Health>>) -> Response {
    match health.report() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn in_an_hour() -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(3600))
    }

    #[test]
    fn ready_needs_the_gateway_and_a_token() {
        let health = Health::default();
        assert_eq!(health.report().unwrap_err().len(), 2);
        health.gateway(true);
        health.token_refreshed(in_an_hour());
        assert!(health.report().is_ok());
        health.gateway(false);
        assert_eq!(health.report().unwrap_err(), vec!["the Discord gateway is not connected"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_with_a_usable_token_cached_is_a_warning_until_the_token_expires() {
        let health = Health::default();
        health.set_mode(Mode::Endpoint);
        health.token_refreshed(in_an_hour());
        health.token_refreshed(None);
        let warnings = health.report().expect("still ready");
        assert!(warnings[0].contains("refresh failed") && warnings[0].contains("60 more minutes"), "{warnings:?}");
        tokio::time::advance(Duration::from_secs(3601)).await;
        assert_eq!(
            health.report().unwrap_err(),
            vec!["no usable Microsoft Graph token: the last token refresh failed"]
        );
        health.token_refreshed(in_an_hour());
        assert_eq!(health.report(), Ok(vec![]));
    }

    #[test]
    fn the_endpoint_needs_no_gateway_and_stopping_is_unready() {
        let health = Health::default();
        health.token_refreshed(in_an_hour());
        health.set_mode(Mode::Endpoint);
        assert!(health.report().is_ok());
        health.set_mode(Mode::Stopping);
        assert_eq!(health.report().unwrap_err(), vec!["shutting down: finishing the commands in flight"]);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_the_session_start_limit_is_unready_until_it_resets() {
        let health = Health::default();
        health.gateway(true);
        health.token_refreshed(in_an_hour());
        health.session_starts(3, Some(Instant::now() + Duration::from_secs(600)));
        let reasons = health.report().unwrap_err();
        assert!(reasons[0].contains("in 10 min (3 starts left"), "{reasons:?}");
        health.session_starts(1000, None);
        assert!(health.report().is_ok());
    }
}
