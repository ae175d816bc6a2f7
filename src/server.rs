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

/// One connection's activity, as its requests report it: for the idle timeout and [`Limits::admit_within`].
/// Handlers reach it as a request extension, to say a request was admitted (it carried the credential) or
/// refused (the connection is closed at once).
#[derive(Clone, Default)]
pub struct Connection(Arc<Activity>);

#[derive(Default)]
struct Activity {
    state: Mutex<ActivityState>,
    changed: tokio::sync::Notify,
}

struct ActivityState {
    opened: tokio::time::Instant,
    in_flight: usize,
    last_answered: tokio::time::Instant,
    admitted: bool,
    refused: bool,
}

impl Default for ActivityState {
    fn default() -> Self {
        let now = tokio::time::Instant::now();
        Self { opened: now, in_flight: 0, last_answered: now, admitted: false, refused: false }
    }
}

/// A request in flight on a connection; its end is the connection's last activity.
struct InFlight(Connection);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.change(|state| {
            state.in_flight = state.in_flight.saturating_sub(1);
            state.last_answered = tokio::time::Instant::now();
        });
    }
}

impl Connection {
    fn change(&self, f: impl FnOnce(&mut ActivityState)) {
        f(&mut self.0.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        self.0.changed.notify_waiters();
    }

    /// A request on this connection carried what the route asks (the forwarder's secret).
    pub fn admit(&self) {
        self.change(|state| state.admitted = true);
    }

    /// A request on this connection did not: the connection is closed once its answer is out.
    pub fn refuse(&self) {
        self.change(|state| state.refused = true);
    }

    /// `service`, with each request counted in flight and carrying this connection as an extension.
    fn track(
        &self,
        service: Router,
    ) -> impl tower::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone {
        let connection = self.clone();
        tower::service_fn(move |mut request: axum::http::Request<hyper::body::Incoming>| {
            connection.change(|state| state.in_flight += 1);
            let in_flight = InFlight(connection.clone());
            request.extensions_mut().insert(connection.clone());
            let answer = tower::ServiceExt::oneshot(service.clone(), request);
            async move {
                let response = answer.await;
                drop(in_flight);
                response
            }
        })
    }

    /// Returns when the connection should be closed: idle for `limits.idle_timeout`, not admitted within
    /// `limits.admit_within`, or refused.
    async fn closing(&self, limits: &Limits) {
        loop {
            let changed = self.0.changed.notified();
            let deadline = {
                let state = self.0.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if state.refused && state.in_flight == 0 {
                    return;
                }
                let idle = (state.in_flight == 0).then(|| state.last_answered + limits.idle_timeout);
                let unadmitted = limits.admit_within.filter(|_| !state.admitted).map(|within| state.opened + within);
                idle.into_iter().chain(unadmitted).min()
            };
            match deadline {
                Some(at) if tokio::time::Instant::now() >= at => return,
                Some(at) => tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = changed => {}
                },
                None => changed.await,
            }
        }
    }
}

/// What a served connection is watched for: going idle (or unadmitted, or refused), and shutdown.
struct Watch {
    connection: Connection,
    limits: Limits,
    stop: CancellationToken,
    place: tokio::sync::OwnedSemaphorePermit,
}

impl Watch {
    /// Serves `served` until it ends, or until it is idle or shutdown starts: then it finishes the requests it
    /// is answering and closes (shutdown bounds that with the drain limit). Its place is given back at the end.
    async fn run<C>(self, served: C)
    where
        C: hyper_util::server::graceful::GracefulConnection + Send + 'static,
        C::Error: std::fmt::Display + Send,
    {
        let mut served = std::pin::pin!(served);
        let ended = tokio::select! {
            ended = served.as_mut() => Some(ended),
            // Idle (nothing in flight), or a client the route never admitted: closed at once. A graceful
            // shutdown would wait for an HTTP/2 client that never sent its preface.
            () = self.connection.closing(&self.limits) => return drop(self.place),
            () = self.stop.cancelled() => None,
        };
        let ended = match ended {
            Some(ended) => ended,
            // Shutdown: the requests being answered finish (the drain limit bounds this).
            None => {
                served.as_mut().graceful_shutdown();
                served.await
            }
        };
        if let Err(error) = ended {
            tracing::debug!(%error, "connection ended with an error");
        }
        drop(self.place);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::time::Instant;

    /// Fails every accept with EMFILE, noting when it was asked.
    struct OutOfFiles(Arc<Mutex<Vec<Instant>>>);

    impl Accept for OutOfFiles {
        async fn accept(&self) -> std::io::Result<TcpStream> {
            self.0.lock().unwrap().push(Instant::now());
            Err(std::io::Error::from_raw_os_error(24))
        }
    }

    fn app() -> Router {
        Router::new().route("/ok", get(|| async { "ok" })).route("/echo", post(|body: String| async move { body }))
    }

    fn quick() -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(300),
            request_deadline: Duration::from_millis(300),
            ..Limits::default()
        }
    }

    async fn start(limits: Limits) -> (std::net::SocketAddr, CancellationToken, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(listener, app(), stop.clone(), Duration::from_secs(1), limits));
        (addr, stop, server)
    }

    async fn answer_of(client: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_are_logged_once_a_minute_per_reason_with_what_was_left_out() {
        let refusals = Refusals::default();
        assert_eq!(refusals.note("client_state"), Some(0));
        for _ in 0..999 {
            assert_eq!(refusals.note("client_state"), None);
        }
        assert_eq!(refusals.note("malformed"), Some(0), "each reason has its own minute");
        tokio::time::advance(REFUSAL_LOG_EVERY).await;
        assert_eq!(refusals.note("client_state"), Some(999));
        assert_eq!(refusals.note("client_state"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn accept_errors_back_off_instead_of_spinning() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let server =
            tokio::spawn(serve(OutOfFiles(calls.clone()), app(), stop.clone(), Duration::from_secs(1), quick()));
        tokio::time::sleep(Duration::from_secs(10)).await;
        stop.cancel();
        server.await.unwrap();
        let calls = calls.lock().unwrap();
        // 10 s of virtual time: a spinning loop makes millions of calls without time passing at all.
        assert!(calls.len() < 30, "{} accepts in 10 s", calls.len());
        assert!(calls.windows(2).all(|pair| pair[1] > pair[0]), "every retry came after a pause");
    }

    #[tokio::test]
    async fn a_client_that_never_finishes_its_headers_is_disconnected() {
        let (addr, stop, _) = start(quick()).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let started = std::time::Instant::now();
        answer_of(&mut client).await;
        assert!(started.elapsed() < Duration::from_secs(4), "the server closed the connection");
        stop.cancel();
    }

    #[tokio::test]
    async fn a_client_that_trickles_its_body_gets_408_and_is_disconnected() {
        let (addr, stop, _) = start(quick()).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab").await.unwrap();
        let trickle = async {
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if client.write_all(b"c").await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(2), trickle).await;
        let answer = answer_of(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        stop.cancel();
    }

    #[tokio::test]
    async fn oversized_headers_and_bodies_are_refused() {
        let (addr, stop, _) = start(quick()).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let huge = format!("GET /ok HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n", "a".repeat(64 * 1024));
        let _ = client.write_all(huge.as_bytes()).await;
        let answer = answer_of(&mut client).await;
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");

        let mut client = TcpStream::connect(addr).await.unwrap();
        let declared = format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 1024 * 1024);
        client.write_all(declared.as_bytes()).await.unwrap();
        assert!(answer_of(&mut client).await.starts_with("HTTP/1.1 413"));
        stop.cancel();
    }

    #[tokio::test]
    async fn requests_past_the_bound_are_shed_not_queued() {
        let limits = Limits { max_in_flight: 1, request_deadline: Duration::from_secs(5), ..quick() };
        let (addr, stop, _) = start(limits).await;
        // One request holds the only place while it waits for its body.
        let mut holder = TcpStream::connect(addr).await.unwrap();
        holder.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut other = TcpStream::connect(addr).await.unwrap();
        other.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        assert!(answer_of(&mut other).await.starts_with("HTTP/1.1 503"));
        stop.cancel();
    }

    #[tokio::test]
    async fn stopping_closes_connections_still_open_at_the_drain_limit() {
        let limits = Limits {
            request_deadline: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(60),
            ..quick()
        };
        let (addr, stop, server) = start(limits).await;
        let mut clients = Vec::new();
        for _ in 0..20 {
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab").await.unwrap();
            clients.push(client);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve ends at the drain limit").unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        for client in &mut clients {
            let mut rest = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(1), client.read_to_end(&mut rest)).await;
            assert!(read.is_ok(), "the connection was closed");
        }
    }
}
