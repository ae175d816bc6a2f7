//! Discord's rate limits, as the stand-in enforces them on every REST route: a bucket per route and major
//! parameter (channel, guild, webhook token, interaction), announced in `X-RateLimit-*` headers on every
//! answer, and the global limit of 50 requests a second on bot-token routes, from which interaction
//! callbacks and interaction webhooks are exempt. Past a limit: 429 with `retry_after` and `global` in the
//! body, `Retry-After`, `X-RateLimit-Scope` and, for the global limit, `X-RateLimit-Global`. Every 429 is
//! counted by scope, so a test can assert on it.
//!
//! Discord does not publish its per-route numbers, so the stand-in chooses its own (below) and announces
//! them, as Discord does: a bot that follows the headers keeps to them; one that hard-codes numbers does not.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::App;

/// Discord's global limit for bot-token requests.
pub const GLOBAL_PER_SECOND: usize = 50;

/// The state of every bucket, the global window, and the 429s sent.
#[derive(Default)]
pub(super) struct RateLimits {
    pub(super) off: bool,
    /// Every answer's `X-RateLimit-*` numbers are `NaN`, `inf` and worse, as a broken proxy might send.
    pub(super) absurd: bool,
    buckets: HashMap<String, Window>,
    /// When each of the last bot-token requests counted against the global limit was let through.
    global: VecDeque<Instant>,
    pub(super) sent: HashMap<&'static str, u32>,
}

impl RateLimits {
    /// Counts a 429 sent for `scope`.
    pub(super) fn count(&mut self, scope: &'static str) {
        *self.sent.entry(scope).or_default() += 1;
    }
}

/// One bucket's current window.
struct Window {
    started: Instant,
    used: u32,
}

/// The stand-in's numbers: (requests, per window) for a route template.
fn limit_of(method: &Method, template: &str) -> (u32, Duration) {
    let secs = Duration::from_secs;
    match (method.as_str(), template) {
        (_, t) if t.ends_with("/pins/{message}") => (5, secs(2)),
        ("GET", t) if t.ends_with("/pins") => (5, secs(2)),
        ("POST", "/api/v10/channels/{channel}/messages") => (5, secs(5)),
        (_, t) if t.starts_with("/api/v10/webhooks/") => (5, secs(2)),
        (_, t) if t.starts_with("/api/v10/interactions/") => (3, secs(5)),
        (_, t) if t.contains("/commands") => (10, secs(10)),
        _ => (10, secs(1)),
    }
}

/// The bucket a request falls in: its method and route, and the major parameter's value.
fn bucket_key(method: &Method, template: &str, path: &str) -> String {
    let (template_parts, path_parts): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    let majors: Vec<&str> = template_parts
        .iter()
        .zip(&path_parts)
        .filter(|(t, _)| matches!(**t, "{channel}" | "{guild}" | "{token}" | "{id}"))
        .map(|(_, value)| *value)
        .collect();
    format!("{method} {template} {}", majors.join("/"))
}

/// Interaction callbacks and interaction webhooks don't count against the global limit.
fn exempt_from_global(template: &str) -> bool {
    template.starts_with("/api/v10/interactions/") || template.starts_with("/api/v10/webhooks/")
}

/// The middleware: admits or refuses a request under its bucket and the global limit, and announces the
/// bucket on the answer.
pub(super) async fn enforce(State(app): State<App>, request: Request, next: Next) -> Response {
    let template = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let bot_token = request.headers().contains_key("authorization");
    let (limit, per) = limit_of(&method, &template);
    let key = bucket_key(&method, &template, &path);
    let hash = format!("{:016x}", fxhash(&format!("{method} {template}")));
    let now = Instant::now();
    let absurd = app.with(|s| s.limits.absurd);
    if absurd {
        let mut response = next.run(request).await;
        let headers = response.headers_mut();
        for (name, value) in
            [("x-ratelimit-limit", "inf"), ("x-ratelimit-remaining", "NaN"), ("x-ratelimit-reset-after", "NaN")]
        {
            headers.insert(name, HeaderValue::from_static(value));
        }
        return response;
    }
    let admitted = app.with(|s| {
        s.calls.push(format!("{method} {path}"));
        let limits = &mut s.limits;
        if limits.off {
            return Ok(None);
        }
        if bot_token && !exempt_from_global(&template) {
            while limits.global.front().is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1)) {
                limits.global.pop_front();
            }
            if limits.global.len() >= GLOBAL_PER_SECOND {
                let wait = Duration::from_secs(1).saturating_sub(now.duration_since(limits.global[0]));
                limits.count("global");
                return Err(("global", wait));
            }
        }
        let window = limits.buckets.entry(key).or_insert(Window { started: now, used: 0 });
        if now.duration_since(window.started) >= per {
            *window = Window { started: now, used: 0 };
        }
        let reset_after = per.saturating_sub(now.duration_since(window.started));
        if window.used >= limit {
            limits.count("user");
            return Err(("user", reset_after));
        }
        window.used += 1;
        if bot_token && !exempt_from_global(&template) {
            limits.global.push_back(now);
        }
        Ok(Some((limit - window.used, reset_after)))
    });
    match admitted {
        Ok(None) => next.run(request).await,
        Ok(Some((remaining, reset_after))) => {
            let mut response = next.run(request).await;
            announce(&mut response, limit, remaining, reset_after, &hash);
            response
        }
        Err((scope, wait)) => too_many(scope, wait, limit, &hash),
    }
}

fn announce(response: &mut Response, limit: u32, remaining: u32, reset_after: Duration, hash: &str) {
    let reset_at = std::time::SystemTime::now() + reset_after;
    let reset = reset_at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-ratelimit-limit", limit.to_string());
    set("x-ratelimit-remaining", remaining.to_string());
    set("x-ratelimit-reset", format!("{reset:.3}"));
    set("x-ratelimit-reset-after", format!("{:.3}", reset_after.as_secs_f64()));
    set("x-ratelimit-bucket", hash.to_owned());
}

fn too_many(scope: &'static str, wait: Duration, limit: u32, hash: &str) -> Response {
    let global = scope == "global";
    let body = json!({"message": "You are being rate limited.", "retry_after": wait.as_secs_f64(), "global": global});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    if !global {
        announce(&mut response, limit, 0, wait, hash);
    }
    let headers = response.headers_mut();
    headers.insert("retry-after", HeaderValue::from(wait.as_secs_f64().ceil() as u64));
    headers.insert("x-ratelimit-scope", HeaderValue::from_static(scope));
    if global {
        headers.insert("x-ratelimit-global", HeaderValue::from_static("true"));
    }
    response
}

/// A stable, dependency-free hash for the bucket id Discord would send.
fn fxhash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3))
}
