//! The shared HTTP stack's small helpers, for every module that calls out (Graph, Entra, the identity
//! endpoint, Discord through the rate limiter): answers read up to a cap, and transport errors in words.
//! The client itself is [`crate::http_client`].

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

/// A transport error in words, without the URL's query (reqwest's Display can include the URL).
pub(crate) fn describe_transport_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "connection broke while reading the response"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut causes = Vec::new();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    if causes.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}
