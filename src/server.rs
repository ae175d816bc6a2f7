//! Every HTTP listener meetnow runs for others to call (`/metrics` and the health paths, Discord's
//! interactions endpoint): axum routes them, tower layers bound them, hyper-util serves the connections.
//!
//! What it guarantees whatever a handler does and whoever is connected ([`Limits`]):
//! - a client gets [`Limits::header_read_timeout`] for each request's headers (an idle keep-alive connection
//!   too), and the whole request, body included, must be answered within [`Limits::request_deadline`]
//!   (408 otherwise): a client that trickles its body holds nothing for longer;
//! - at most [`Limits::max_connections`] connections are open (past it, new ones wait in the kernel's
//!   backlog) and at most [`Limits::max_in_flight`] requests are handled at once (past it, 503 at once);
//! - headers are at most [`Limits::max_header_bytes`] (431), bodies at most [`Limits::max_body_bytes`] (413);
//! - an accept error (out of file descriptors, say) backs off instead of spinning;
//! - on stop it accepts nothing more, lets open connections finish the request they are answering, and
//!   after `drain_limit` closes whatever is still open: shutdown never waits on a client.

use std::future::Future;
use std::sync::Arc;
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
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
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
        let service = hyper_util::service::TowerToHyperService::new(service.clone());
        let io = hyper_util::rt::TokioIo::new(stream);
        // The timer is what makes hyper enforce its timeouts (the header read timeout) at all.
        let timer = hyper_util::rt::TokioTimer::new();
        match protocol {
            Protocol::Http1 => {
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(timer)
                    .header_read_timeout(limits.header_read_timeout)
                    .max_buf_size(limits.max_header_bytes.max(8192))
                    .max_headers(64)
                    .serve_connection(io, service);
                spawn_watched(&graceful, &mut open, connection, place);
            }
            Protocol::H2c => {
                let connection = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .timer(timer)
                    .max_concurrent_streams(u32::try_from(limits.max_in_flight).unwrap_or(u32::MAX))
                    .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
                    .serve_connection(io, service);
                spawn_watched(&graceful, &mut open, connection, place);
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(drain_limit, graceful.shutdown()).await.is_err() {
        tracing::warn!(still_open = open.len(), "closing the connections still open at the drain limit");
    }
    open.shutdown().await;
}

/// Runs `connection` as one of the open ones: watched for graceful shutdown, its place given back when it ends.
fn spawn_watched<C>(
    graceful: &hyper_util::server::graceful::GracefulShutdown,
    open: &mut JoinSet<()>,
    connection: C,
    place: tokio::sync::OwnedSemaphorePermit,
) where
    C: hyper_util::server::graceful::GracefulConnection + Send + 'static,
    C::Error: std::fmt::Display + Send,
{
    let connection = graceful.watch(connection);
    open.spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "connection ended with an error");
        }
        drop(place);
    });
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
