//! The listener's bounds, tried against a real socket: accept errors, slow and silent clients, oversized
//! requests, shedding, and shutdown.

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
    let server = tokio::spawn(serve(OutOfFiles(calls.clone()), app(), stop.clone(), Duration::from_secs(1), quick()));
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
    let limits =
        Limits { request_deadline: Duration::from_secs(60), header_read_timeout: Duration::from_secs(60), ..quick() };
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
