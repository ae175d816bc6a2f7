//! The one HTTP stack: the client every module that calls out shares (Graph, Entra, the identity endpoint,
//! Discord through the rate limiter), and its helpers: answers read up to a cap, transport errors in words.

use std::time::Duration;

/// The one HTTP client, shared by Discord REST and Graph: one connection pool, one TLS stack (rustls).
/// Graph calls set their own, shorter per-request timeouts on top of these.
///
/// - Trust: the public roots, plus the system's store (or the file `SSL_CERT_FILE` names, as OpenSSL reads it),
///   so a company's TLS-inspecting proxy works once its CA is installed or named.
/// - HTTP/2 where the server offers it (ALPN), else HTTP/1.1: one connection per host carries every command.
/// - Warm connections: an idle connection is kept (not dropped after 90 s), HTTP/2 pings it every 30 s and TCP
///   keep-alives every 30 s, so NATs and proxies see traffic and a dead one is found before a command needs it.
/// - Proxies: `HTTPS_PROXY` / `NO_PROXY` from the environment (reqwest's default).
///
/// # Errors
/// When the TLS backend can't be initialised.
pub fn client() -> reqwest::Result<reqwest::Client> {
    client_builder().build()
}

/// [`client`]'s settings, for a client that needs one more (the managed identity's, which must not
/// use a proxy).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("meetnow/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(None)
        // After a burst of HTTP/1.1 requests, enough to stay warm without holding hundreds of sockets.
        .pool_max_idle_per_host(16)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .http2_keep_alive_timeout(Duration::from_secs(10))
        .http2_keep_alive_while_idle(true)
}

/// Why a response body was not read whole.
pub(crate) enum TooLong {
    /// The connection failed while reading.
    Transport(reqwest::Error),
    /// The body was longer than this many bytes: a server (or something in between) sending far more than
    /// Graph, Entra or Discord ever do is not read further.
    Over(usize),
}

/// A response's body, at most `cap` bytes, read as it arrives (a `Content-Length` is not trusted).
pub(crate) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<bytes::Bytes, TooLong> {
    if response.content_length().is_some_and(|length| length > cap as u64) {
        return Err(TooLong::Over(cap));
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(TooLong::Transport)? {
        if body.len() + chunk.len() > cap {
            return Err(TooLong::Over(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What kind of transport failure this was, in words: the summary an error keeps beside the
/// `reqwest::Error` it returns as its `source()`.
pub(crate) fn transport_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "connection broke while reading the response"
    } else {
        "request failed"
    }
}

/// A transport error in words, with its causes and without the URL's query (reqwest's Display can include
/// the URL): for a message that keeps no `source()`.
pub(crate) fn describe_transport_error(error: &reqwest::Error) -> String {
    let kind = transport_kind(error);
    match std::error::Error::source(error) {
        Some(cause) => format!("{kind}: {}", crate::telemetry::Chain(cause)),
        None => kind.to_owned(),
    }
}
