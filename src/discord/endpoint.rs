//! Discord's Interactions Endpoint URL: `POST /interactions`, the way to receive commands without a gateway
//! connection, so that any number of stateless processes can run behind a load balancer.
//!
//! This module owns the HTTP side only: the signature check (`X-Signature-Ed25519` over
//! `X-Signature-Timestamp` + body, serenity's [`Verifier`]), the body limit, PING → PONG, and handing
//! `/meetnow` to the same [`Bot::handle`] the gateway uses. The handler's first response (the defer, or an
//! ephemeral refusal) comes back through a channel and becomes this request's answer; everything after it
//! is REST with the interaction token, exactly as over the gateway.
//!
//! A request that fails the signature check gets 401 and is not even parsed; a body over
//! [`MAX_BODY_BYTES`] gets 413, malformed JSON 400. Neither reaches the handler.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serenity::all::{CreateInteractionResponse, Http, Interaction};
use serenity::interactions_endpoint::Verifier;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::handler::{Bot, FirstResponse};

/// The largest body accepted. A `/meetnow` interaction is about 2 KB; Discord's largest (a message command
/// with resolved users, members and attachments) stays well under this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long the request waits for the handler's first response: Discord gives up after three seconds.
const FIRST_RESPONSE_LIMIT: Duration = Duration::from_secs(3);

/// What serving `/interactions` needs.
pub struct Endpoint {
    verifier: Verifier,
    bot: Arc<Bot>,
    http: Arc<Http>,
}

impl Endpoint {
    /// # Errors
    /// When `public_key` is not a valid Ed25519 key (64 hex characters that are not a point on the curve).
    pub fn new(
        public_key: [u8; 32],
        bot: Arc<Bot>,
        http: Arc<Http>,
    ) -> Result<Self, serenity::interactions_endpoint::InvalidKey> {
        Ok(Self { verifier: Verifier::try_new(public_key)?, bot, http })
    }

    /// Answers one HTTP request.
    pub async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() != "/interactions" {
            return plain(StatusCode::NOT_FOUND, "not found: Discord's interactions are served at /interactions\n");
        }
        if request.method() != Method::POST {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
        }
        let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (signature, timestamp) = (header("x-signature-ed25519"), header("x-signature-timestamp"));
        let declared = header("content-length").and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
        }
        let body = match Limited::new(request.into_body(), MAX_BODY_BYTES).collect().await {
            Ok(body) => body.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")
            }
            Err(error) => {
                tracing::debug!(%error, "could not read an interaction request");
                return plain(StatusCode::BAD_REQUEST, "could not read the body\n");
            }
        };
        // Discord itself checks that a new endpoint refuses bad signatures before it accepts the URL.
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return plain(StatusCode::UNAUTHORIZED, "missing signature\n");
        };
        if self.verifier.verify(&signature, &timestamp, &body).is_err() {
            tracing::debug!("refused an interaction request with a bad signature");
            return plain(StatusCode::UNAUTHORIZED, "invalid request signature\n");
        }
        let interaction = match serde_json::from_slice::<Interaction>(&body) {
            Ok(interaction) => interaction,
            Err(error) => {
                tracing::warn!(%error, "a signed interaction request was not an interaction");
                return plain(StatusCode::BAD_REQUEST, "not an interaction\n");
            }
        };
        match interaction {
            // Exactly Discord's documented PONG (serenity's adds `"data": null`).
            Interaction::Ping(_) => with_type(StatusCode::OK, "application/json", br#"{"type":1}"#.to_vec()),
            Interaction::Command(command) if command.data.name == super::command::NAME => {
                self.remember_application(command.application_id);
                self.first_response(|first| self.bot.spawn(self.http.clone(), command, first)).await
            }
            Interaction::Component(click) if click.data.custom_id == super::attendance::BUTTON_ID => {
                self.remember_application(click.application_id);
                self.first_response(|first| self.bot.spawn_attendance(self.http.clone(), click, first)).await
            }
            other => {
                tracing::warn!(kind = ?other.kind(), "an interaction meetnow does not handle");
                plain(StatusCode::BAD_REQUEST, "meetnow handles only /meetnow and its Attendance button\n")
            }
        }
    }
}

impl Endpoint {
    /// Webhook routes (the edit, follow-ups) need the application id, which the gateway's READY would set.
    fn remember_application(&self, id: serenity::all::ApplicationId) {
        if self.http.application_id().is_none() {
            self.http.set_application_id(id);
        }
    }

    /// Hands an interaction to the bot with a channel for its first response, and answers Discord's request
    /// with that response (the bot sends everything after it by REST).
    async fn first_response(&self, hand_over: impl FnOnce(FirstResponse)) -> Response<Full<Bytes>> {
        let (answer, first) = oneshot::channel();
        hand_over(FirstResponse::HttpAnswer(answer));
        match tokio::time::timeout(FIRST_RESPONSE_LIMIT, first).await {
            Ok(Ok(response)) => json(&response),
            _ => plain(StatusCode::SERVICE_UNAVAILABLE, "no response in time\n"),
        }
    }
}

/// Serves `listener` until `stop` is cancelled; see [`crate::server::serve`].
pub async fn serve(listener: TcpListener, endpoint: Arc<Endpoint>, stop: CancellationToken) {
    let handle = move |request| {
        let endpoint = endpoint.clone();
        async move { endpoint.respond(request).await }
    };
    crate::server::serve(listener, handle, stop, crate::server::HEADER_READ_TIMEOUT).await;
}

fn json(response: &CreateInteractionResponse) -> Response<Full<Bytes>> {
    match serde_json::to_vec(response) {
        Ok(body) => with_type(StatusCode::OK, "application/json", body),
        Err(error) => {
            tracing::error!(%error, "could not encode an interaction response");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "could not encode the response\n")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    with_type(status, "text/plain; charset=utf-8", text.as_bytes().to_vec())
}

fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    response
}
