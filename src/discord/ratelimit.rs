//! Discord's rate limits, kept by the bot itself (`DISCORD_RATELIMIT=local`, the default): every REST call
//! serenity makes goes through a forwarder on loopback that waits its turn, then sends it to Discord (or to
//! `DISCORD_API_URL`) with the shared HTTP client.
//!
//! Why a forwarder: serenity 0.12.5 sends to `https://discord.com` whenever its own limiter is on (a base URL
//! is honoured only with the limiter off), its limiter never holds its global lock, and the first burst on a
//! bucket it has not seen yet all goes out at once. Pointing serenity at this forwarder (serenity's "proxy",
//! limiter off) gives every call one place where limits are kept, whatever the upstream is.
//!
//! What it keeps to, from Discord's "Rate Limits" documentation:
//! - **Buckets from the headers**: a bucket per route and major parameter (channel, guild, webhook token,
//!   interaction), its size and reset read from `X-RateLimit-Remaining` and `X-RateLimit-Reset-After` on every
//!   answer; no number is hard-coded. A bucket seen for the first time lets one request through and holds the
//!   rest until that answer has told it the numbers.
//! - **The global limit**, proactively: at most [`GLOBAL_PER_SECOND`] bot-token requests in any second, a
//!   request counted from when it leaves until a second after its answer.
//!   Interaction callbacks and interaction webhooks are exempt, as Discord exempts them, so an
//!   acknowledgement never queues behind pins.
//! - **429s**: waited out (`retry_after`, for the bucket or, when global, for every request) and repeated,
//!   each counted in `meetnow_discord_ratelimited_total{scope}` and logged. A 429 with an error code of its
//!   own (30046) is handed back at once.
//!
//! **Only this process.** The loopback port is readable by anyone on the host (`/proc/net/tcp`), so the
//! forwarder relays only requests carrying [`SECRET_HEADER`] with this process's secret (made at start,
//! compared in constant time, never forwarded): anything else is refused before it reaches Discord, and its
//! connection closed. A connection must carry such a request within [`ADMIT_WITHIN`] of opening and is
//! closed after [`IDLE_TIMEOUT`] without one; at most [`MAX_CONNECTIONS`] are open (one client needs one);
//! bodies are capped at [`MAX_BODY_BYTES`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// Bot-token requests a second: Discord's global limit is 50; a little under it absorbs jitter between when
/// a request leaves here and when Discord counts it.
pub const GLOBAL_PER_SECOND: usize = 48;

/// How many times one call is repeated after 429s before the 429 is handed back.
const MAX_RATE_LIMITED_ATTEMPTS: u32 = 5;

/// A 429 asking for longer than this is handed back at once: the caller's deadline is nearer.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Buckets kept before idle ones are forgotten.
const BUCKETS_BEFORE_PRUNING: usize = 4096;

/// The largest request body forwarded: the bot sends messages and embeds (6,000 characters at most), never
/// attachments.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The header that carries this process's secret to the forwarder.
pub const SECRET_HEADER: &str = "x-meetnow-forwarder";
/// Connections open at once: the bot's own client uses one HTTP/2 connection (two while it replaces one).
pub const MAX_CONNECTIONS: usize = 16;
/// A connection is closed after this long without a request in flight (the bot's client closes its idle
/// connection first, after 5 s).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that has carried no request with the secret this long after it opened is closed.
pub const ADMIT_WITHIN: Duration = Duration::from_secs(2);

/// Headers that describe one hop, not the request, and the secret: never forwarded.
const HOP_BY_HOP: [&str; 7] =
    ["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", SECRET_HEADER];

/// The limiter: buckets by route, the global window, and where requests go.
pub struct Limiter {
    /// What this process's own client sends in [`SECRET_HEADER`].
    secret: secrecy::SecretString,
    http: reqwest::Client,
    /// `https://discord.com` or `DISCORD_API_URL`, without a trailing slash.
    upstream: String,
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
    global: Global,
    metrics: Arc<Metrics>,
}

/// One bucket: `gate` orders the requests that wait on it; `state` is what Discord last said.
#[derive(Default)]
struct Bucket {
    gate: tokio::sync::Mutex<()>,
    state: Mutex<BucketState>,
}

#[derive(Default, Clone, Copy)]
struct BucketState {
    /// Discord has described this bucket (or said it has no limit).
    known: bool,
    remaining: u32,
    limit: u32,
    reset_at: Option<Instant>,
}

/// The global window. A request holds its place from when it leaves until one second after its answer:
/// Discord counts it on arrival, somewhere in between, so the places in use are always at least Discord's
/// count. (Counted from when requests leave, the first burst over new connections arrives bunched and is
/// answered 429.) And a pause after a global 429.
#[derive(Default)]
struct Global {
    /// Served in order: a request waiting for a place holds this.
    order: tokio::sync::Mutex<()>,
    places: Mutex<Places>,
    freed: tokio::sync::Notify,
    paused_until: Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Places {
    in_flight: usize,
    /// When each request answered in the last second was answered.
    answered: std::collections::VecDeque<Instant>,
}

/// A place in the global window, given back (for one more second) when dropped.
struct GlobalPlace<'a>(&'a Global);

impl Drop for GlobalPlace<'_> {
    fn drop(&mut self) {
        let mut places = self.0.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        places.in_flight = places.in_flight.saturating_sub(1);
        places.answered.push_back(Instant::now());
        drop(places);
        self.0.freed.notify_waiters();
    }
}

impl Limiter {
    /// A limiter that sends with `http` to `upstream`, for requests that carry `secret` (see
    /// [`Limiter::new_secret`]).
    pub fn new(secret: secrecy::SecretString, http: reqwest::Client, upstream: &str, metrics: Arc<Metrics>) -> Self {
        Self {
            secret,
            http,
            upstream: upstream.trim_end_matches('/').to_owned(),
            buckets: Mutex::default(),
            global: Global::default(),
            metrics,
        }
    }

    /// A fresh secret for this process's client and its forwarder: 256 random bits, in hexadecimal.
    pub fn new_secret() -> secrecy::SecretString {
        let bytes: [u8; 32] = rand::random();
        secrecy::SecretString::new(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `headers` carry this process's secret (compared in constant time).
    fn is_ours(&self, headers: &HeaderMap) -> bool {
        use secrecy::ExposeSecret as _;
        use subtle::ConstantTimeEq as _;
        let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        let ours = self.secret.expose_secret().as_bytes();
        given.len() == ours.len() && bool::from(given.ct_eq(ours))
    }

    /// Serves the forwarder on `listener` (loopback) until `stop` is cancelled, over HTTP/2 in clear text (the
    /// bot's own client knows it): one connection carries a whole burst, where HTTP/1.1 would open one per
    /// call in flight. No request deadline: a call may wait minutes for its bucket under a burst of
    /// thousands; the caller's own timeout bounds it.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, stop: CancellationToken) {
        let router = Router::new().fallback(forward).with_state(self);
        let limits = crate::server::Limits {
            header_read_timeout: Duration::from_secs(60),
            request_deadline: Duration::from_secs(600),
            max_connections: MAX_CONNECTIONS,
            max_in_flight: 4096,
            max_header_bytes: 64 * 1024,
            max_body_bytes: MAX_BODY_BYTES,
            idle_timeout: IDLE_TIMEOUT,
            admit_within: Some(ADMIT_WITHIN),
        };
        let h2c = crate::server::Protocol::H2c;
        crate::server::serve_as(h2c, listener, router, stop, Duration::from_secs(1), limits).await;
    }

    /// Sends one request within the limits, repeating it after 429s.
    async fn send(&self, method: Method, path_and_query: &str, headers: &HeaderMap, body: Bytes) -> Response {
        let path = path_and_query.split('?').next().unwrap_or_default();
        let route = RouteKey::of(&method, path);
        let bucket = self.bucket(&route.key);
        let counts_globally = !route.exempt_from_global && headers.contains_key("authorization");
        for attempt in 1..=MAX_RATE_LIMITED_ATTEMPTS {
            let probe = bucket.admit().await;
            let place = if counts_globally { Some(self.global.admit().await) } else { None };
            let mut request =
                self.http.request(method.clone(), format!("{}{path_and_query}", self.upstream)).body(body.clone());
            for (name, value) in headers {
                if !HOP_BY_HOP.contains(&name.as_str()) {
                    request = request.header(name, value);
                }
            }
            let sent = request.send().await;
            drop(place);
            let answer = match sent {
                Ok(answer) => answer,
                Err(error) => {
                    drop(probe);
                    tracing::warn!(error = %crate::http::describe_transport_error(&error), route = %route.label, "could not reach Discord");
                    return (StatusCode::BAD_GATEWAY, "could not reach Discord\n").into_response();
                }
            };
            let status = answer.status();
            let answer_headers = answer.headers().clone();
            bucket.learn(&answer_headers);
            drop(probe);
            let Ok(body) = crate::http::read_capped(answer, MAX_BODY_BYTES).await else {
                return (StatusCode::BAD_GATEWAY, "Discord's answer could not be read\n").into_response();
            };
            if status != StatusCode::TOO_MANY_REQUESTS {
                return relay(status, &answer_headers, body);
            }
            let limited = RateLimited::read(&answer_headers, &body);
            if limited.refusal {
                // Not a window to wait out but a refusal with its own code (30046: no more edits of a message
                // older than an hour): the caller decides, and repeating it would only add invalid requests.
                return relay(status, &answer_headers, body);
            }
            self.metrics.discord_rate_limited(limited.scope);
            tracing::warn!(
                route = %route.label, scope = limited.scope, retry_after_ms = limited.retry_after.as_millis() as u64,
                attempt, "Discord rate-limited a call"
            );
            if limited.retry_after > LONGEST_WAIT || attempt == MAX_RATE_LIMITED_ATTEMPTS {
                return relay(status, &answer_headers, body);
            }
            let until = Instant::now() + limited.retry_after;
            if limited.global {
                self.global.pause_until(until);
            } else {
                bucket.exhaust_until(until);
            }
        }
        (StatusCode::TOO_MANY_REQUESTS, "rate limited\n").into_response()
    }

    fn bucket(&self, key: &str) -> Arc<Bucket> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Interactions and their webhooks have a bucket each: forget the ones no request holds and whose
        // window has passed, so memory follows the load, not the uptime.
        if buckets.len() >= BUCKETS_BEFORE_PRUNING {
            let now = Instant::now();
            buckets.retain(|_, bucket| Arc::strong_count(bucket) > 1 || !bucket.idle(now));
        }
        buckets.entry(key.to_owned()).or_default().clone()
    }
}

async fn forward(State(limiter): State<Arc<Limiter>>, request: Request) -> Response {
    let connection = request.extensions().get::<crate::server::Connection>().cloned();
    if !limiter.is_ours(request.headers()) {
        // Another process on the host: nothing it sends reaches Discord, and its connection is closed.
        if let Some(connection) = connection {
            connection.refuse();
        }
        limiter.metrics.http_refused("forwarder_stranger");
        return (StatusCode::FORBIDDEN, "this forwarder serves only the process that started it\n").into_response();
    }
    if let Some(connection) = connection {
        connection.admit();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n").into_response();
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    limiter.send(parts.method, &path_and_query, &parts.headers, body).await
}

fn relay(status: StatusCode, headers: &reqwest::header::HeaderMap, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            if let Ok(name) = HeaderName::from_bytes(name.as_str().as_bytes()) {
                response.headers_mut().append(name, value.clone());
            }
        }
    }
    response
}

/// Holds a bucket's gate while the first request on a bucket Discord has not described yet is answered.
struct Probe<'a>(#[allow(dead_code)] Option<tokio::sync::MutexGuard<'a, ()>>);

impl Bucket {
    /// Waits until a request may go on this bucket.
    async fn admit(&self) -> Probe<'_> {
        let gate = self.gate.lock().await;
        loop {
            let now = Instant::now();
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.reset_at.is_some_and(|reset| now >= reset) {
                    state.remaining = state.limit;
                    state.reset_at = None;
                }
                if !state.known {
                    // Hold the gate until the answer describes the bucket: the first burst goes out one at first.
                    return Probe(Some(gate));
                }
                if state.remaining > 0 {
                    state.remaining -= 1;
                    return Probe(None);
                }
                match state.reset_at {
                    Some(reset) => reset,
                    // Used up with no reset known: ask once, and learn.
                    None => return Probe(Some(gate)),
                }
            };
            tokio::time::sleep_until(wait).await;
        }
    }

    /// What Discord's answer says about the bucket. An answer without the headers means no limit.
    fn learn(&self, headers: &reqwest::header::HeaderMap) {
        // `NaN`, `inf` and negative numbers parse as f64; none of them is a count or a time Discord would send,
        // and `Duration::from_secs_f64` panics on them: such a header is no header.
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (Some(limit), Some(remaining), Some(reset_after)) =
            (number("x-ratelimit-limit"), number("x-ratelimit-remaining"), number("x-ratelimit-reset-after"))
        else {
            if !state.known {
                *state = BucketState { known: true, remaining: u32::MAX, limit: u32::MAX, reset_at: None };
            }
            return;
        };
        let reset_at = Instant::now() + Duration::from_secs_f64(reset_after.clamp(0.0, 3600.0));
        let remaining = remaining.clamp(0.0, f64::from(u32::MAX)) as u32;
        // Answers to requests sent at once come back in any order: within one window, the lowest count wins.
        let same_window = state
            .reset_at
            .is_some_and(|current| current.max(reset_at) - current.min(reset_at) < Duration::from_millis(500));
        state.remaining = if state.known && same_window { state.remaining.min(remaining) } else { remaining };
        state.limit = limit.clamp(1.0, f64::from(u32::MAX)) as u32;
        state.reset_at = Some(reset_at);
        state.known = true;
    }

    /// After a 429: nothing more on this bucket until `until`.
    fn exhaust_until(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // The 429's `retry_after` is the truth now, whatever the bucket's headers said before.
        state.remaining = 0;
        state.reset_at = Some(until);
        state.known = true;
    }

    /// Whether nothing waits on the bucket and its window has passed: it can be forgotten.
    fn idle(&self, now: Instant) -> bool {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.reset_at.is_none_or(|reset| reset <= now)
    }
}

impl Global {
    /// Waits until a bot-token request may go: after any global pause, and with fewer than
    /// [`GLOBAL_PER_SECOND`] places in use. Waiters are served in order.
    async fn admit(&self) -> GlobalPlace<'_> {
        let _turn = self.order.lock().await;
        let paused = *self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        loop {
            let freed = self.freed.notified();
            let next_free = {
                let mut places = self.places.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let now = Instant::now();
                while places.answered.front().is_some_and(|&at| now.duration_since(at) >= Duration::from_secs(1)) {
                    places.answered.pop_front();
                }
                if places.in_flight + places.answered.len() < GLOBAL_PER_SECOND {
                    places.in_flight += 1;
                    return GlobalPlace(self);
                }
                places.answered.front().map(|&at| at + Duration::from_secs(1))
            };
            match next_free {
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = freed => {}
                },
                None => freed.await,
            }
        }
    }

    fn pause_until(&self, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *paused = Some(paused.map_or(until, |current| current.max(until)));
    }
}

/// What a 429 said.
struct RateLimited {
    retry_after: Duration,
    global: bool,
    /// `user`, `global` or `shared` (`X-RateLimit-Scope`).
    scope: &'static str,
    /// The body carries an error code of its own (a rate limit's is 0 or absent).
    refusal: bool,
}

impl RateLimited {
    fn read(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Self {
        #[derive(serde::Deserialize, Default)]
        struct Body {
            retry_after: Option<f64>,
            global: Option<bool>,
            code: Option<i64>,
        }
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        let global = parsed.global.unwrap_or(false) || header("x-ratelimit-global").is_some_and(|v| v == "true");
        let seconds = parsed
            .retry_after
            .or_else(|| header("retry-after").and_then(|v| v.parse().ok()))
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .unwrap_or(1.0);
        let scope = match header("x-ratelimit-scope").as_deref() {
            Some("global") => "global",
            Some("shared") => "shared",
            _ if global => "global",
            _ => "user",
        };
        let refusal = parsed.code.is_some_and(|code| code != 0);
        Self { retry_after: Duration::from_secs_f64(seconds.min(3600.0)), global, scope, refusal }
    }
}

/// A request's bucket key: method and route, with the major parameter's value kept and other ids folded.
struct RouteKey {
    key: String,
    /// The key with interaction tokens left out, for the log.
    label: String,
    exempt_from_global: bool,
}

impl RouteKey {
    fn of(method: &Method, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        // `/api/v10/...`: the route starts after the version.
        let start = segments.iter().position(|s| s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()));
        let route = &segments[start.map_or(0, |i| i + 1)..];
        let mut key = vec![method.as_str().to_owned()];
        let mut label = key.clone();
        let mut keep_next = 0u8;
        for segment in route {
            let major = keep_next > 0;
            // Under webhooks and interactions the second kept segment is a token.
            let token = keep_next == 1
                && matches!(
                    key.get(key.len().saturating_sub(2)).map(String::as_str),
                    Some("webhooks" | "interactions")
                );
            keep_next = match *segment {
                "channels" | "guilds" => 1,
                // The application and the interaction token.
                "webhooks" => 2,
                // The interaction's id and token.
                "interactions" => 2,
                _ => keep_next.saturating_sub(1),
            };
            let id_like = segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty();
            let kept = if major || !id_like { (*segment).to_owned() } else { ":id".to_owned() };
            label.push(if token { "{token}".to_owned() } else { kept.clone() });
            key.push(kept);
        }
        let exempt_from_global = matches!(route.first(), Some(&"interactions") | Some(&"webhooks"));
        Self { key: key.join(" "), label: label.join(" "), exempt_from_global }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_per_route_and_major_parameter() {
        let key = |method: Method, path: &str| RouteKey::of(&method, path).key;
        assert_eq!(key(Method::GET, "/api/v10/channels/1/pins"), "GET channels 1 pins");
        assert_eq!(key(Method::PUT, "/api/v10/channels/1/pins/77"), "PUT channels 1 pins :id");
        assert_eq!(key(Method::PUT, "/api/v10/channels/1/pins/78"), key(Method::PUT, "/api/v10/channels/1/pins/77"));
        assert_ne!(key(Method::PUT, "/api/v10/channels/2/pins/77"), key(Method::PUT, "/api/v10/channels/1/pins/77"));
        assert_eq!(
            key(Method::PATCH, "/api/v10/webhooks/9/tok/messages/@original"),
            "PATCH webhooks 9 tok messages @original"
        );
        assert!(RouteKey::of(&Method::POST, "/api/v10/interactions/5/tok/callback").exempt_from_global);
        let callback = RouteKey::of(&Method::POST, "/api/v10/interactions/5/secret-token/callback");
        assert_eq!(callback.label, "POST interactions 5 {token} callback", "no token in the log");
        let edit = RouteKey::of(&Method::PATCH, "/api/v10/webhooks/9/secret-token/messages/@original");
        assert_eq!(edit.label, "PATCH webhooks 9 {token} messages @original");
        assert!(RouteKey::of(&Method::POST, "/api/v10/webhooks/9/tok").exempt_from_global);
        assert!(!RouteKey::of(&Method::GET, "/api/v10/channels/1/pins").exempt_from_global);
    }

    #[test]
    fn a_429_says_how_long_and_for_whom() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        let bucket = RateLimited::read(
            &headers,
            br#"{"message":"You are being rate limited.","retry_after":0.25,"global":false}"#,
        );
        assert_eq!((bucket.retry_after, bucket.global, bucket.scope), (Duration::from_millis(250), false, "user"));
        headers.insert("x-ratelimit-global", "true".parse().unwrap());
        let global = RateLimited::read(&headers, b"not json");
        assert_eq!((global.retry_after, global.global, global.scope), (Duration::from_secs(3), true, "global"));
        headers.remove("x-ratelimit-global");
        headers.insert("x-ratelimit-scope", "shared".parse().unwrap());
        assert_eq!(RateLimited::read(&headers, br#"{"retry_after":-1}"#).scope, "shared");
        let absurd = RateLimited::read(&reqwest::header::HeaderMap::new(), br#"{"retry_after":1e300}"#);
        assert_eq!(absurd.retry_after, Duration::from_secs(3600), "clamped, never a panic");
    }

    #[test]
    fn absurd_headers_are_ignored_not_a_panic() {
        let bucket = Bucket::default();
        for (limit, remaining, reset_after) in
            [("5", "4", "NaN"), ("5", "NaN", "1"), ("inf", "4", "1"), ("5", "4", "-inf"), ("5", "-3", "1e400")]
        {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-ratelimit-limit", limit.parse().unwrap());
            headers.insert("x-ratelimit-remaining", remaining.parse().unwrap());
            headers.insert("x-ratelimit-reset-after", reset_after.parse().unwrap());
            bucket.learn(&headers);
        }
        let state = *bucket.state.lock().unwrap();
        assert!(state.known && state.reset_at.is_none(), "taken as a bucket without limits");
        let refusal = RateLimited::read(
            &reqwest::header::HeaderMap::new(),
            br#"{"message":"Maximum number of edits to messages older than 1 hour reached. Try again later.","code":30046,"retry_after":20}"#,
        );
        assert!(refusal.refusal, "30046 is the caller's to act on, not a window to wait out");
        assert!(!RateLimited::read(&reqwest::header::HeaderMap::new(), br#"{"retry_after":1,"code":0}"#).refusal);
    }

    #[tokio::test(start_paused = true)]
    async fn the_global_window_lets_through_the_limit_a_second() {
        let global = Global::default();
        let start = Instant::now();
        for _ in 0..GLOBAL_PER_SECOND * 3 {
            drop(global.admit().await);
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(2) && took < Duration::from_millis(2100), "{took:?}");
        global.pause_until(Instant::now() + Duration::from_secs(5));
        let paused = Instant::now();
        drop(global.admit().await);
        assert!(paused.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_waits_for_its_reset_once_used_up_and_probes_when_unknown() {
        let bucket = Bucket::default();
        let probe = bucket.admit().await;
        assert!(probe.0.is_some(), "the first request on an unknown bucket is a probe");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-ratelimit-limit", "2".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "1".parse().unwrap());
        headers.insert("x-ratelimit-reset-after", "2.000".parse().unwrap());
        bucket.learn(&headers);
        drop(probe);
        let start = Instant::now();
        assert!(bucket.admit().await.0.is_none());
        assert!(start.elapsed() < Duration::from_millis(10), "one left: at once");
        bucket.admit().await;
        assert!(start.elapsed() >= Duration::from_secs(2), "used up: after the reset");
    }
}
