//! Discord's Interactions Endpoint URL: `POST /interactions`, the way to receive commands without a gateway
//! connection, so that any number of stateless processes can run behind a load balancer.
//!
//! This module owns the HTTP side only, in this order: the signature, the timestamp and the replay checks
//! ([`super::signature`], on the raw bytes), then parsing, then PING → PONG or handing `/meetnow` and its
//! button to the same [`Bot`] the gateway uses. The handler's first response (the defer, or an ephemeral
//! refusal) comes back through a channel and becomes this request's answer; everything after it is REST with
//! the interaction token, exactly as over the gateway. Size and time bounds are the listener's
//! ([`crate::server`]).
//!
//! A request that fails a check gets 401 and is not even parsed; malformed JSON gets 400; an interaction
//! already handled by this process is answered 409 and not handled again. None of them reaches the handler.
//! Each refusal is counted by reason, and logged at most once a minute per reason. The route's bodies are
//! capped at [`MAX_BODY_BYTES`], well above Discord's largest interaction.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serenity::all::{CreateInteractionResponse, Http, Interaction};
use tokio::sync::oneshot;

use super::signature::{SeenInteractions, Verifier};
use crate::discord::bot::{Bot, FirstResponse};
use crate::metrics::Metrics;

/// How long the request waits for the handler's first response: Discord gives up after three seconds.
const FIRST_RESPONSE_LIMIT: Duration = Duration::from_secs(3);

/// The largest interaction request: a `/meetnow` is about 2 KB, a click on a button carries its message
/// (embeds of at most 6,000 characters), so tens of KB at most. With the listener's 256 requests in flight,
/// at most 16 MiB of bodies in memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What serving `/interactions` needs.
pub struct Endpoint {
    verifier: Verifier,
    seen: SeenInteractions,
    bot: Arc<Bot>,
    http: Arc<Http>,
    metrics: Arc<Metrics>,
    refusals: crate::server::Refusals,
}

impl Endpoint {
    /// # Errors
    /// When `public_key` is not a usable Ed25519 key (see [`super::signature::check_public_key`]).
    pub fn new(public_key: [u8; 32], bot: Arc<Bot>, http: Arc<Http>) -> Result<Self, &'static str> {
        let metrics = bot.metrics.clone();
        Ok(Self {
            verifier: Verifier::new(&public_key)?,
            seen: SeenInteractions::default(),
            bot,
            http,
            metrics,
            refusals: crate::server::Refusals::default(),
        })
    }

    /// The routes: `POST /interactions` (bodies up to [`MAX_BODY_BYTES`]), and 404 for anything else.
    pub fn router(self: Arc<Self>) -> Router {
        let interactions = Router::new().route("/interactions", post(receive)).with_state(self);
        let interactions =
            crate::server::route_limits(interactions, MAX_BODY_BYTES, crate::server::Limits::default().max_in_flight);
        interactions.fallback(not_found)
    }

    /// Counts a refusal, and logs it when it is the first of its reason in a minute.
    fn refuse(&self, reason: &'static str, detail: &dyn std::fmt::Display) {
        self.metrics.http_refused(reason);
        if let Some(suppressed) = self.refusals.note(reason) {
            tracing::warn!(reason, suppressed, %detail, "refused an interaction request (first of a minute's, by reason)");
        }
    }

    /// Answers one request to `/interactions` (see the module docs for the order of the checks).
    pub async fn respond(&self, headers: &HeaderMap, body: &[u8]) -> Response {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let checked = self.verifier.verify(header("x-signature-ed25519"), header("x-signature-timestamp"), body, now);
        if let Err(refused) = checked {
            // Discord itself checks that a new endpoint refuses bad signatures before it accepts the URL.
            self.refuse(refused.reason(), &"the signature or its timestamp did not verify");
            return plain(StatusCode::UNAUTHORIZED, "invalid request signature\n");
        }
        let interaction = match serde_json::from_slice::<Interaction>(body) {
            Ok(interaction) => interaction,
            Err(error) => {
                self.refuse("malformed", &error);
                return plain(StatusCode::BAD_REQUEST, "not an interaction\n");
            }
        };
        if !matches!(interaction, Interaction::Ping(_)) && !self.seen.first_time(interaction.id().get()) {
            self.refuse("replayed", &format_args!("interaction {} was handled already", interaction.id()));
            return plain(StatusCode::CONFLICT, "this interaction was handled already\n");
        }
        match interaction {
            // Exactly Discord's documented PONG (serenity's adds `"data": null`).
            Interaction::Ping(_) => with_type(StatusCode::OK, "application/json", br#"{"type":1}"#.to_vec()),
            Interaction::Command(command) if command.data.name == crate::discord::meetnow::NAME => {
                self.remember_application(command.application_id);
                self.first_response(|first| self.bot.spawn(self.http.clone(), command, first)).await
            }
            Interaction::Autocomplete(typing) if typing.data.name == crate::discord::meetnow::NAME => {
                self.remember_application(typing.application_id);
                self.first_response(|first| self.bot.spawn_suggestions(self.http.clone(), typing, first)).await
            }
            Interaction::Component(click)
                if click.data.custom_id == crate::discord::render::attendance_answer::BUTTON_ID =>
            {
                self.remember_application(click.application_id);
                self.first_response(|first| self.bot.spawn_attendance(self.http.clone(), click, first)).await
            }
            other => {
                tracing::warn!(kind = ?other.kind(), "an interaction meetnow does not handle");
                plain(
                    StatusCode::BAD_REQUEST,
                    "meetnow handles only /meetnow (and its autocomplete) and its Attendance button\n",
                )
            }
        }
    }
}

/// What HTTP mode does before it serves: proves the token (a wrong one is fatal, as on the gateway), learns
/// the application id webhook routes need and the bot's own user id, and registers `/meetnow` by REST (there
/// is no READY to do it on).
///
/// # Errors
/// When Discord refuses the token or can't be reached.
pub async fn prepare(http: &Http, bot: &Bot, guild_id: Option<serenity::all::GuildId>) -> Result<(), serenity::Error> {
    let application = http.get_current_application_info().await?;
    http.set_application_id(application.id);
    bot.set_own_id(http.get_current_user().await?.id);
    super::gateway::register(http, guild_id, bot.ringer.is_some()).await;
    Ok(())
}

async fn receive(State(endpoint): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    endpoint.respond(&headers, &body).await
}

async fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "not found: Discord's interactions are served at /interactions\n")
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
    async fn first_response(&self, hand_over: impl FnOnce(FirstResponse)) -> Response {
        let (answer, first) = oneshot::channel();
        hand_over(FirstResponse::HttpAnswer(answer));
        match tokio::time::timeout(FIRST_RESPONSE_LIMIT, first).await {
            Ok(Ok(response)) => json(&response),
            _ => plain(StatusCode::SERVICE_UNAVAILABLE, "no response in time\n"),
        }
    }
}

fn json(response: &CreateInteractionResponse) -> Response {
    match serde_json::to_vec(response) {
        Ok(body) => with_type(StatusCode::OK, "application/json", body),
        Err(error) => {
            tracing::error!(%error, "could not encode an interaction response");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "could not encode the response\n")
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    with_type(status, "text/plain; charset=utf-8", text.as_bytes().to_vec())
}

fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}
