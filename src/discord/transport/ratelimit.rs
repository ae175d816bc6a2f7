//! Discord's rate limits, kept by the bot itself (`DISCORD_RATELIMIT=local`, the default): every Discord REST
//! call waits its turn in [`Limiter::call`], which then sends it to Discord (or to `DISCORD_API_URL`) with the
//! shared HTTP client. The hot path's calls (an interaction's first response, the edit of its reply, the pins)
//! come to it in process ([`super::direct`]); the rest of serenity's calls through a forwarder on loopback.
//!
//! Why a forwarder: serenity 0.12.5 sends to `https://discord.com` whenever its own limiter is on (a base URL
//! is honoured only with the limiter off), its limiter never holds its global lock, and the first burst on a
//! bucket it has not seen yet all goes out at once. Pointing serenity at this forwarder (serenity's "proxy",
//! limiter off) gives every call one place where limits are kept, whatever the upstream is. The hop costs a
//! loopback HTTP/2 exchange per call, which is why the calls made once or more per command skip it.
//!
//! What it keeps to, from Discord's "Rate Limits" documentation:
//! - **Buckets from the headers**: a bucket per route and major parameter (channel, guild, webhook token,
//!   interaction), its size and reset read from `X-RateLimit-Remaining` and `X-RateLimit-Reset-After` on every
//!   answer; no number is hard-coded. A bucket seen for the first time lets one request through and holds the
//!   rest until that answer has told it the numbers.
//! - **The global limit**, proactively: at most [`GLOBAL_PER_SECOND`] bot-token requests in any second, a
//!   request counted from when it leaves until a second after its answer.
//!   Interaction callbacks and interaction webhooks are exempt, as Discord exempts them, so an
//!   acknowledgement never queues behind pins; work that may come late (reading pins back) waits behind
//!   every other bot-token call ([`Priority::AfterTheRest`]).
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
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

mod bucket;
mod global;
mod route;

use bucket::Bucket;
use global::Global;
use route::{RateLimited, RouteKey};

/// Bot-token requests a second: Discord's global limit, 50, exactly. No margin is needed: a request holds its
/// place from when it leaves until a second after its answer, and Discord counts it for a second from its
/// arrival, which is in between; so Discord's count never exceeds the places in use.
pub const GLOBAL_PER_SECOND: usize = 50;

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

    /// Sends one request within the limits, repeating it after 429s: the one place where Discord's limits
    /// are kept, for the forwarder's requests (serenity's) and for the hot path's, sent in process
    /// ([`super::direct`]). A request that could not be sent, or whose answer could not be read, is answered
    /// 502, as a proxy would.
    pub async fn call(&self, request: reqwest::Request, priority: Priority, via: Via) -> Answer {
        self.metrics.discord_call(via.label());
        let route = RouteKey::of(request.method(), request.url().path());
        let bucket = self.bucket(&route.key);
        let counts_globally = !route.exempt_from_global && request.headers().contains_key("authorization");
        for attempt in 1..=MAX_RATE_LIMITED_ATTEMPTS {
            let Some(attempt_request) = request.try_clone() else {
                return Answer::bad_gateway("the request's body could not be repeated");
            };
            let probe = bucket.admit().await;
            let place = if counts_globally { Some(self.global.admit(priority).await) } else { None };
            let sent = self.http.execute(attempt_request).await;
            drop(place);
            let answer = match sent {
                Ok(answer) => answer,
                Err(error) => {
                    drop(probe);
                    tracing::warn!(error = %crate::http::describe_transport_error(&error), route = %route.label, "could not reach Discord");
                    return Answer::bad_gateway("could not reach Discord");
                }
            };
            let status = answer.status();
            let headers = answer.headers().clone();
            bucket.learn(&headers);
            drop(probe);
            let Ok(body) = crate::http::read_capped(answer, MAX_BODY_BYTES).await else {
                return Answer::bad_gateway("Discord's answer could not be read");
            };
            let answer = Answer { status, headers, body };
            if status != StatusCode::TOO_MANY_REQUESTS {
                return answer;
            }
            let limited = RateLimited::read(&answer.headers, &answer.body);
            if limited.refusal {
                // Not a window to wait out but a refusal with its own code (30046: no more edits of a message
                // older than an hour): the caller decides, and repeating it would only add invalid requests.
                return answer;
            }
            self.metrics.discord_rate_limited(limited.scope);
            tracing::warn!(
                route = %route.label, scope = limited.scope, retry_after_ms = limited.retry_after.as_millis() as u64,
                attempt, "Discord rate-limited a call"
            );
            if limited.retry_after > LONGEST_WAIT || attempt == MAX_RATE_LIMITED_ATTEMPTS {
                return answer;
            }
            let until = Instant::now() + limited.retry_after;
            if limited.global {
                self.global.pause_until(until);
            } else {
                bucket.exhaust_until(until);
            }
        }
        Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"rate limited\n"),
        }
    }

    /// The client the limiter sends with, for building requests to [`Limiter::call`], and the address it
    /// sends to.
    pub(super) fn upstream(&self) -> (&reqwest::Client, &str) {
        (&self.http, &self.upstream)
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
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(url) = reqwest::Url::parse(&format!("{}{path_and_query}", limiter.upstream)) else {
        return (StatusCode::BAD_REQUEST, "not a path Discord serves\n").into_response();
    };
    let mut outgoing = reqwest::Request::new(parts.method, url);
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            outgoing.headers_mut().append(name, value.clone());
        }
    }
    *outgoing.body_mut() = Some(body.into());
    relay(limiter.call(outgoing, Priority::InOrder, Via::Forwarder).await)
}

/// Discord's answer to one request, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// What a proxy answers when the request never got an answer from Discord.
    fn bad_gateway(why: &'static str) -> Self {
        let body = Bytes::from(format!("{why}\n"));
        Self { status: StatusCode::BAD_GATEWAY, headers: HeaderMap::new(), body }
    }
}

/// How a call reached the limiter, counted in `meetnow_discord_calls_total{via}`: the hot path's should all be
/// `in_process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// From [`super::direct`], without the hop.
    InProcess,
    /// From serenity, through the loopback forwarder.
    Forwarder,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Via::InProcess => "in_process",
            Via::Forwarder => "forwarder",
        }
    }
}

/// When a bot-token request takes its place under the global limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// In the order requests came.
    InOrder,
    /// After every request waiting [`Priority::InOrder`]: work that may come late (reading pins back)
    /// must not delay work that may not (the pins themselves).
    AfterTheRest,
}

fn relay(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    for (name, value) in &answer.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}
