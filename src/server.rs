//! Every HTTP listener meetnow runs for others to call (`/metrics` and the health paths, Discord's
//! interactions endpoint): axum routes them, tower layers bound them, hyper-util serves the connections.
//!
//! What it guarantees whatever a handler does and whoever is connected ([`Limits`]):
//! - a client gets [`Limits::header_read_timeout`] for each request's headers, and the whole request, body
//!   included, must be answered within [`Limits::request_deadline`] (408 otherwise): a client that trickles
//!   its body holds nothing for longer;
//! - a connection with no request in flight for [`Limits::idle_timeout`] is closed, in HTTP/1 and HTTP/2
//!   alike (hyper closes neither an idle HTTP/2 connection nor one that never sent its preface), and with
//!   [`Limits::admit_within`] one whose requests the router has not admitted by then ([`Connection`]);
//! - at most [`Limits::max_connections`] connections are open (past it, new ones wait in the kernel's
//!   backlog) and at most [`Limits::max_in_flight`] requests are handled at once (past it, 503 at once);
//! - headers are at most [`Limits::max_header_bytes`] (431), bodies at most [`Limits::max_body_bytes`] (413);
//! - an accept error (out of file descriptors, say) backs off instead of spinning;
//! - on stop it accepts nothing more, lets open connections finish the request they are answering, and
//!   after `drain_limit` closes whatever is still open: shutdown never waits on a client.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

mod connection;
#[cfg(test)]
mod tests;

pub use connection::Connection;
use connection::Watch;

/// The longest pause after repeated accept errors.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// The bounds every listener keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client may take to send a request's headers (and how long a connection may sit idle).
    pub header_read_timeout: Duration,
    /// How long a request may take from its headers to its answer, body included.
    pub request_deadline: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Requests being handled at once.
    pub max_in_flight: usize,
    /// The request line and headers together.
    pub max_header_bytes: usize,
    /// A request's body.
    pub max_body_bytes: usize,
    /// How long a connection may have no request in flight before it is closed.
    pub idle_timeout: Duration,
    /// How soon after it opens a connection must carry a request the router admitted ([`Connection::admit`]),
    /// or be closed; `None`: no such rule (routes that need no credential).
    pub admit_within: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // Discord and a load balancer's probe send a request at once: seconds are generous.
            header_read_timeout: Duration::from_secs(5),
            // Discord waits three seconds for an interaction's answer, so nothing useful takes longer.
            request_deadline: Duration::from_secs(5),
            // Below the usual 1,024 open files, with room for Discord and Graph connections.
            max_connections: 512,
            max_in_flight: 256,
            // hyper's smallest read buffer; Discord's headers are well under 2 KB.
            max_header_bytes: 8 * 1024,
            // A `/meetnow` interaction is about 2 KB; Discord's largest stays well under this.
            max_body_bytes: 256 * 1024,
            idle_timeout: Duration::from_secs(5),
            admit_within: None,
        }
    }
}

/// Where connections come from: a bound [`TcpListener`] (tests give stand-ins that fail on purpose).
pub trait Accept: Send + 'static {
    fn accept(&self) -> impl Future<Output = std::io::Result<TcpStream>> + Send;
}

impl Accept for TcpListener {
    async fn accept(&self) -> std::io::Result<TcpStream> {
        TcpListener::accept(self).await.map(|(stream, _)| stream)
    }
}

/// The pause after `consecutive` accept errors in a row: 10 ms doubling to [`MAX_ACCEPT_BACKOFF`]. The errors
/// that repeat (EMFILE, ENFILE, ENOBUFS) clear only when something else lets go of a resource.
pub fn accept_backoff(consecutive: u32) -> Duration {
    Duration::from_millis(10).saturating_mul(1 << consecutive.min(10)).min(MAX_ACCEPT_BACKOFF)
}

/// `router` with the request bounds of `limits` around it: the deadline outermost (it covers the body and
/// the handler), then the shedding of requests past [`Limits::max_in_flight`], then the body limit.
pub fn bounded(router: Router, limits: &Limits) -> Router {
    let shed = |_: tower::BoxError| async { (StatusCode::SERVICE_UNAVAILABLE, "too many requests at once\n") };
    router.layer(
        ServiceBuilder::new()
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_deadline))
            .layer(HandleErrorLayer::new(shed))
            .load_shed()
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(limits.max_in_flight))
            .layer(RequestBodyLimitLayer::new(limits.max_body_bytes)),
    )
}

/// `router` with bounds of its own inside the listener's: a smaller body limit, and fewer requests in flight
/// (past them, 503 at once) for routes whose requests cost more than most.
pub fn route_limits(router: Router, max_body_bytes: usize, max_in_flight: usize) -> Router {
    let shed = |_: tower::BoxError| async { (StatusCode::SERVICE_UNAVAILABLE, "too many requests at once\n") };
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(shed))
            .load_shed()
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(max_in_flight))
            .layer(RequestBodyLimitLayer::new(max_body_bytes)),
    )
}

/// How often one reason for refusing requests at a public door is logged.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(60);

/// Refusals at a public door (the interactions endpoint, Graph's notifications), for their log lines: at most
/// one a minute per reason, saying how many went unlogged since, so a flood of bad requests does not become
/// a flood of log lines. (Every refusal is counted in the metrics regardless.)
#[derive(Default)]
pub struct Refusals {
    seen: Mutex<HashMap<&'static str, (tokio::time::Instant, u64)>>,
}

impl Refusals {
    /// Notes one refusal for `reason`. `Some(n)`: log it now, `n` being how many were not logged since the
    /// last line for this reason; `None`: not now.
    pub fn note(&self, reason: &'static str) -> Option<u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = tokio::time::Instant::now();
        match seen.get_mut(reason) {
            Some((at, suppressed)) if now.duration_since(*at) < REFUSAL_LOG_EVERY => {
                *suppressed += 1;
                None
            }
            Some((at, suppressed)) => {
                *at = now;
                Some(std::mem::take(suppressed))
            }
            None => {
                seen.insert(reason, (now, 0));
                Some(0)
            }
        }
    }
}

/// How a listener's connections speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1: what Discord, load balancers and Prometheus send.
    Http1,
    /// HTTP/2 with prior knowledge, in clear text: one connection carries every request in flight. Only for
    /// loopback, where the one client (the bot's own) knows.
    H2c,
}

/// Serves `router` (with [`bounded`]'s layers) over HTTP/1.1 on `listener` until `stop` is cancelled, then
/// stops accepting and lets open connections finish their requests for at most `drain_limit` before closing
/// them.
pub async fn serve<L: Accept>(
    listener: L,
    router: Router,
    stop: CancellationToken,
    drain_limit: Duration,
    limits: Limits,
) {
    serve_as(Protocol::Http1, listener, router, stop, drain_limit, limits).await;
}

/// [`serve`], speaking `protocol`.
pub async fn serve_as<L: Accept>(
    protocol: Protocol,
    listener: L,
    router: Router,
    stop: CancellationToken,
    drain_limit: Duration,
    limits: Limits,
) {
    let service = bounded(router, &limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut open = JoinSet::new();
    let mut errors_in_a_row = 0u32;
    loop {
        // A free place first: past the bound, new connections wait in the backlog, not in memory here.
        let place = tokio::select! {
            place = connections.clone().acquire_owned() => place,
            () = stop.cancelled() => break,
        };
        let Ok(place) = place else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = open.join_next(), if !open.is_empty() => continue,
            () = stop.cancelled() => break,
        };
        let stream = match accepted {
            Ok(stream) => {
                errors_in_a_row = 0;
                stream
            }
            Err(error) => {
                errors_in_a_row = errors_in_a_row.saturating_add(1);
                tracing::warn!(%error, errors_in_a_row, "could not accept a connection");
                tokio::select! {
                    () = tokio::time::sleep(accept_backoff(errors_in_a_row)) => continue,
                    () = stop.cancelled() => break,
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection::default();
        let service = hyper_util::service::TowerToHyperService::new(connection.track(service.clone()));
        let io = hyper_util::rt::TokioIo::new(stream);
        // The timer is what makes hyper enforce its timeouts (the header read timeout) at all.
        let timer = hyper_util::rt::TokioTimer::new();
        let watch = Watch { connection, limits, stop: stop.clone(), place };
        match protocol {
            Protocol::Http1 => {
                let served = hyper::server::conn::http1::Builder::new()
                    .timer(timer)
                    .header_read_timeout(limits.header_read_timeout)
                    .max_buf_size(limits.max_header_bytes.max(8192))
                    .max_headers(64)
                    .serve_connection(io, service);
                open.spawn(watch.run(served));
            }
            Protocol::H2c => {
                let served = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .timer(timer)
                    .max_concurrent_streams(u32::try_from(limits.max_in_flight).unwrap_or(u32::MAX))
                    .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
                    .serve_connection(io, service);
                open.spawn(watch.run(served));
            }
        }
    }
    drop(listener);
    // Every connection saw `stop` and is finishing the requests it is answering; past the drain limit, the rest
    // are closed.
    let drained = async { while open.join_next().await.is_some() {} };
    if tokio::time::timeout(drain_limit, drained).await.is_err() {
        tracing::warn!(still_open = open.len(), "closing the connections still open at the drain limit");
    }
    open.shutdown().await;
}
