//! The HTTP server meetnow runs for others to call: `/metrics` and the health paths, and Discord's
//! interactions endpoint. One accept loop for both, on hyper (the HTTP stack reqwest already brings).
//!
//! What it guarantees whatever the handler does: an accept error (out of file descriptors, say) backs off
//! instead of spinning; a client that sends its headers slower than [`HEADER_READ_TIMEOUT`] is disconnected;
//! on stop it accepts nothing more and lets each open connection finish the request it is answering.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest pause after repeated accept errors.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

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

/// Serves `handle` on `listener` until `stop` is cancelled, then stops accepting and waits for the open
/// connections to finish the requests they are answering.
pub async fn serve<L, F, Fut>(listener: L, handle: F, stop: CancellationToken, header_read_timeout: Duration)
where
    L: Accept,
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut errors_in_a_row = 0u32;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
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
        let handle = handle.clone();
        let service = hyper::service::service_fn(move |request| {
            let handle = handle.clone();
            async move { Ok::<_, Infallible>(handle(request).await) }
        });
        // The timer is what makes hyper enforce the header read timeout at all.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
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

    async fn ok(_: Request<Incoming>) -> Response<Full<Bytes>> {
        Response::new(Full::new(Bytes::from_static(b"ok")))
    }

    #[tokio::test(start_paused = true)]
    async fn accept_errors_back_off_instead_of_spinning() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(OutOfFiles(calls.clone()), ok, stop.clone(), HEADER_READ_TIMEOUT));
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, ok, stop.clone(), Duration::from_millis(200)));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "the server closed the connection");
        stop.cancel();
    }
}
