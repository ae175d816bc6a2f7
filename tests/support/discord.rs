//! A local stand-in for Discord: REST under `/api/v10` and the gateway websocket, enough for the real
//! serenity client to connect, receive `/meetnow` and answer it.
//!
//! It enforces what Discord enforces for these routes: the first interaction response within 3 s (else
//! 404 code 10062), one response per interaction (else 400 code 40060), message and embed limits (else
//! 400 code 50035), a valid bot token on bot routes; it validates every JSON body against Discord's
//! OpenAPI document, and it records which mentions a message would have pinged given its
//! `allowed_mentions`. Faults can be queued per route (e.g. 429, or an edit that fails).
//!
//! Like Discord, it sends every event to every gateway session of the bot (several processes on one token
//! each get each command), ids are snowflakes carrying the time they were made, and a deferred reply keeps
//! its message id through edits. Commands can also be delivered the other way Discord offers, as signed HTTP
//! requests to an interactions endpoint (`super::interactions`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::schema;

pub const APP_ID: u64 = 900_000_000_000_000_001;
pub const BOT_TOKEN: &str = "MTAxstand-in.bot-token.value";
pub const GUILD_ID: u64 = 800_000_000_000_000_001;
/// Discord's deadline for the first response to an interaction.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// Routes a fault can be queued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Callback,
    EditOriginal,
    Followup,
    ChannelMessage,
    Pin,
}

/// What happened to one interaction.
#[derive(Debug, Clone)]
pub struct InteractionRecord {
    pub id: u64,
    pub token: String,
    pub channel_id: u64,
    /// When the gateway frame carrying the interaction was written.
    pub dispatched_at: Instant,
    /// Accepted responses (`{"type": 5}` for a defer, `{"type": 4, "data": ...}` for a message).
    pub callbacks: Vec<Value>,
    /// Time from dispatch to the accepted first response.
    pub acknowledged_after: Option<Duration>,
    /// Discord error codes returned to the bot for this interaction (10062, 40060, 50035, ...).
    pub errors: Vec<u64>,
    /// The deferred reply as last edited (the announcement).
    pub original: Option<Value>,
    pub original_deleted: bool,
    /// Follow-up messages, with their `flags` (64 = ephemeral).
    pub followups: Vec<Value>,
    /// Time from dispatch until the announcement existed (the edit of the deferred reply was answered).
    pub announced_after: Option<Duration>,
    /// The deferred reply's message id, fixed when the command is acknowledged and kept through edits.
    pub original_id: Option<u64>,
    /// How many edits of the deferred reply were accepted.
    pub edits: u32,
    /// Whether the event has left for a session (the deadline counts from the first).
    pub dispatched: bool,
    /// How many times the bot read the deferred reply back (`GET @original`).
    pub original_reads: u32,
    /// Announced by a process that first read the reply back and found it unanswered (a takeover).
    pub taken_over: bool,
    /// When this stand-in served the interaction's callback and edits: (request in, response out).
    pub service: Vec<(Instant, Instant)>,
}

impl InteractionRecord {
    /// The ephemeral text the invoker saw, from an immediate reply or a follow-up.
    pub fn ephemeral_text(&self) -> Option<String> {
        let immediate = self
            .callbacks
            .iter()
            .find(|c| c["type"] == 4 && c["data"]["flags"].as_u64().is_some_and(|f| f & 64 != 0))
            .map(|c| &c["data"]);
        let followup = self.followups.iter().find(|f| f["flags"].as_u64().is_some_and(|f| f & 64 != 0));
        immediate.or(followup).and_then(|m| m["content"].as_str()).map(str::to_owned)
    }

    pub fn deferred(&self) -> bool {
        self.callbacks.iter().any(|c| c["type"] == 5)
    }
}

/// A message posted to a channel (the fallback when the interaction token fails).
#[derive(Debug, Clone)]
pub struct ChannelMessage {
    pub channel_id: u64,
    pub body: Value,
}

enum GatewayCommand {
    /// `token`: the interaction whose dispatch time is set when the frame is written.
    Dispatch {
        event: &'static str,
        data: Value,
        token: Option<String>,
    },
    Drop,
}

pub(super) struct Inner {
    registrations: Vec<(String, Value)>,
    identifies: u32,
    resumes: u32,
    /// Every connected gateway session; an event goes to each of them, as Discord sends it to each process.
    gateways: Vec<mpsc::UnboundedSender<GatewayCommand>>,
    interactions: HashMap<String, InteractionRecord>,
    channel_messages: Vec<ChannelMessage>,
    pins: Vec<(u64, u64)>,
    /// Pins removed, as (channel, message).
    unpins: Vec<(u64, u64)>,
    /// Every message the bot has in a channel, by id, as GET returns it (for the pins list).
    messages: HashMap<u64, Value>,
    violations: Vec<String>,
    pings: Vec<String>,
    faults: HashMap<Route, VecDeque<(StatusCode, Value)>>,
    pin_forbidden: bool,
    /// The next edit of a deferred reply is applied, but answered with a 500 (its answer lost).
    lose_edit_answer: bool,
    latency: Duration,
    heartbeat_interval_ms: u64,
    heartbeats: u32,
    validate: bool,
    answered: usize,
    refuse_gateway: bool,
    last_id: u64,
    bodies: Vec<(String, Value)>,
}

/// Discord's epoch (2015-01-01) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

impl Inner {
    /// A new snowflake: the time now in its top bits, unique and increasing, as Discord's are.
    pub(super) fn snowflake(&mut self) -> u64 {
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
        self.last_id = ((now_ms - DISCORD_EPOCH_MS) << 22).max(self.last_id + 1);
        self.last_id
    }

    /// Starts the record of a command about to be delivered.
    pub(super) fn expect_interaction(&mut self, id: u64, token: &str, channel_id: u64) {
        let record = InteractionRecord {
            id,
            token: token.to_owned(),
            channel_id,
            dispatched_at: Instant::now(),
            callbacks: Vec::new(),
            acknowledged_after: None,
            errors: Vec::new(),
            original: None,
            original_deleted: false,
            followups: Vec::new(),
            announced_after: None,
            service: Vec::new(),
            original_id: None,
            edits: 0,
            dispatched: false,
            original_reads: 0,
            taken_over: false,
        };
        self.interactions.insert(token.to_owned(), record);
    }

    /// Takes a first response (from the REST callback or an HTTP answer) under Discord's rules: within 3 s of
    /// dispatch (else 10062), once (else 40060). Returns Discord's error code when it refuses it.
    pub(super) fn first_response(&mut self, token: &str, body: Value, arrived: Instant) -> Result<(), u64> {
        let id = self.snowflake();
        let Some(record) = self.interactions.get_mut(token) else {
            return Err(10062);
        };
        let first_answer = record.callbacks.is_empty() && record.errors.is_empty();
        let waited = arrived.saturating_duration_since(record.dispatched_at);
        if record.callbacks.is_empty() && waited > DEADLINE {
            record.errors.push(10062);
            if first_answer {
                self.answered += 1;
            }
            return Err(10062);
        }
        if !record.callbacks.is_empty() {
            record.errors.push(40060);
            return Err(40060);
        }
        record.callbacks.push(body);
        record.acknowledged_after = Some(waited);
        record.original_id = Some(id);
        Ok(())
    }
}

#[derive(Clone)]
pub struct DiscordStandIn {
    /// `http://127.0.0.1:PORT`: what `DISCORD_API_URL` is set to.
    pub url: String,
    pub gateway_url: String,
    pub(super) inner: Arc<Mutex<Inner>>,
    pub(super) changed: Arc<Notify>,
}

#[derive(Clone)]
struct App {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    gateway_url: String,
}

impl DiscordStandIn {
    pub async fn start() -> Self {
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", rest.local_addr().unwrap());
        let gateway_url = format!("ws://{}", ws.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            registrations: Vec::new(),
            identifies: 0,
            resumes: 0,
            gateways: Vec::new(),
            interactions: HashMap::new(),
            channel_messages: Vec::new(),
            pins: Vec::new(),
            unpins: Vec::new(),
            messages: HashMap::new(),
            violations: Vec::new(),
            pings: Vec::new(),
            faults: HashMap::new(),
            pin_forbidden: false,
            lose_edit_answer: false,
            latency: Duration::ZERO,
            heartbeat_interval_ms: 41_250,
            heartbeats: 0,
            validate: true,
            answered: 0,
            refuse_gateway: false,
            last_id: 0,
            bodies: Vec::new(),
        }));
        let changed = Arc::new(Notify::new());
        let app = App { inner: inner.clone(), changed: changed.clone(), gateway_url: gateway_url.clone() };
        let router = Router::new()
            .route("/api/v10/gateway", get(gateway))
            .route("/api/v10/gateway/bot", get(gateway))
            .route("/api/v10/users/@me", get(current_user))
            .route("/api/v10/oauth2/applications/@me", get(current_application))
            .route("/api/v10/applications/{app}/commands", put(register_global))
            .route("/api/v10/applications/{app}/guilds/{guild}/commands", put(register_guild))
            .route("/api/v10/interactions/{id}/{token}/callback", post(callback))
            .route("/api/v10/webhooks/{app}/{token}", post(followup))
            .route(
                "/api/v10/webhooks/{app}/{token}/messages/{message}",
                get(get_original).patch(edit_original).delete(delete_original),
            )
            .route("/api/v10/channels/{channel}/messages", post(channel_message))
            .route("/api/v10/channels/{channel}/pins", get(pinned_messages))
            .route("/api/v10/channels/{channel}/pins/{message}", put(pin).delete(unpin))
            .route("/api/v10/channels/{channel}/messages/pins/{message}", put(pin).delete(unpin))
            .with_state(app.clone());
        tokio::spawn(async move { axum::serve(rest, router).await.unwrap() });
        tokio::spawn(accept_gateway(ws, app));
        Self { url, gateway_url, inner, changed }
    }

    /// The Discord variables of a deployment pointed at this stand-in (guild registration).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DISCORD_TOKEN", BOT_TOKEN.into()),
            ("DISCORD_API_URL", self.url.clone()),
            ("DISCORD_GUILD_ID", GUILD_ID.to_string()),
        ]
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap())
    }

    /// Queues a failure for the next request on `route`, e.g. `(429, {"retry_after": 1})`.
    pub fn push_fault(&self, route: Route, status: u16, body: Value) {
        self.with(|s| s.faults.entry(route).or_default().push_back((StatusCode::from_u16(status).unwrap(), body)));
    }
    /// The next edit of a deferred reply takes effect but its answer is a 500, as when a connection breaks
    /// after Discord applied it.
    pub fn lose_next_edit_answer(&self) {
        self.with(|s| s.lose_edit_answer = true);
    }
    pub fn set_pin_forbidden(&self, forbidden: bool) {
        self.with(|s| s.pin_forbidden = forbidden);
    }
    /// Added to every REST response.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// `PUT` bodies of command registrations, with their paths.
    pub fn registrations(&self) -> Vec<(String, Value)> {
        self.with(|s| s.registrations.clone())
    }
    /// The interval HELLO announces to new connections (Discord's is 41 250 ms).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.with(|s| s.heartbeat_interval_ms = interval.as_millis() as u64);
    }
    /// Schema and limit checks on (the default, for tests) or off (benchmarks measure the bot, not the checks).
    pub fn set_validation(&self, on: bool) {
        self.with(|s| s.validate = on);
    }
    /// Interactions whose deferred reply was edited, or that drew an error: cheap to poll under load.
    pub fn answered(&self) -> usize {
        self.with(|s| s.answered)
    }
    /// Heartbeats received (each answered with an ACK).
    pub fn heartbeats(&self) -> u32 {
        self.with(|s| s.heartbeats)
    }
    /// Discord error codes the bot's requests drew, over all interactions.
    pub fn interaction_errors(&self) -> Vec<u64> {
        self.with(|s| s.interactions.values().flat_map(|r| r.errors.clone()).collect())
    }
    pub fn identifies(&self) -> u32 {
        self.with(|s| s.identifies)
    }
    pub fn resumes(&self) -> u32 {
        self.with(|s| s.resumes)
    }
    pub fn connected(&self) -> bool {
        self.with(|s| !s.gateways.is_empty())
    }
    /// How many gateway sessions are connected now (one per bot process).
    pub fn sessions(&self) -> usize {
        self.with(|s| s.gateways.len())
    }
    /// Pins removed, as (channel, message).
    pub fn unpins(&self) -> Vec<(u64, u64)> {
        self.with(|s| s.unpins.clone())
    }
    pub fn interaction(&self, token: &str) -> InteractionRecord {
        self.with(|s| s.interactions[token].clone())
    }
    pub fn channel_messages(&self) -> Vec<ChannelMessage> {
        self.with(|s| s.channel_messages.clone())
    }
    /// The messages pinned now, as (channel, message).
    pub fn pins(&self) -> Vec<(u64, u64)> {
        self.with(|s| s.pins.clone())
    }
    /// Schema and limit violations in the bot's request bodies; every test expects none.
    pub fn violations(&self) -> Vec<String> {
        self.with(|s| s.violations.clone())
    }
    /// Mentions a message would have pinged; every test expects none.
    pub fn pings(&self) -> Vec<String> {
        self.with(|s| s.pings.clone())
    }
    /// Every message-like body the bot sent (callback data, edits, follow-ups, channel messages).
    pub fn message_bodies(&self) -> Vec<(String, Value)> {
        self.with(|s| s.bodies.clone())
    }

    /// Every interaction's record.
    pub fn interactions(&self) -> Vec<InteractionRecord> {
        self.with(|s| s.interactions.values().cloned().collect())
    }

    /// Waits until `check` returns `Some`, re-checking whenever the stand-in changes. Panics after 30 s.
    pub async fn wait_for<T>(&self, what: &str, check: impl Fn(&DiscordStandIn) -> Option<T>) -> T {
        self.wait_within(Duration::from_secs(30), what, check).await
    }

    /// [`Self::wait_for`] with another limit.
    pub async fn wait_within<T>(&self, limit: Duration, what: &str, check: impl Fn(&DiscordStandIn) -> Option<T>) -> T {
        super::wait_until(&self.changed, limit, what, || check(self)).await
    }

    /// While on, new gateway connections are closed at once (an outage); the bot keeps trying to reconnect.
    pub fn set_refuse_gateway(&self, refuse: bool) {
        self.with(|s| s.refuse_gateway = refuse);
    }

    /// Closes every gateway connection abruptly, as a network failure would.
    pub fn drop_gateway(&self) {
        self.with(|s| {
            for gateway in s.gateways.drain(..) {
                let _ = gateway.send(GatewayCommand::Drop);
            }
        });
    }

    /// Sends `/meetnow` over the gateway and returns the interaction's token, the key to its record.
    /// The payload is first checked to deserialize into serenity's model (serenity drops one that doesn't).
    pub async fn invoke(&self, invocation: Invocation) -> String {
        self.invoke_all(vec![invocation]).await.remove(0)
    }

    /// Sends many `/meetnow` at once: every payload is built and checked first, then all are queued on the
    /// gateway together, so a benchmark's burst is a burst.
    pub async fn invoke_all(&self, invocations: Vec<Invocation>) -> Vec<String> {
        let prepared = self.prepare(&invocations);
        self.dispatch(prepared).await
    }

    /// Sends commands made by [`Self::prepare`] over the gateway, to every session. A test can act between
    /// the two: after the command is issued (its id carries that time) and before any bot has it.
    pub async fn dispatch(&self, prepared: Vec<(String, Value)>) -> Vec<String> {
        self.dispatch_staggered(prepared, Duration::ZERO).await
    }

    /// [`Self::dispatch`], with the sessions after the first (in connection order) getting each command
    /// `later` after it: the first process wins every acknowledgement race.
    pub async fn dispatch_staggered(&self, prepared: Vec<(String, Value)>, later: Duration) -> Vec<String> {
        self.wait_for("a gateway connection", |d| d.connected().then_some(())).await;
        let gateways = self.with(|s| s.gateways.clone());
        let mut tokens = Vec::new();
        let mut delayed = Vec::new();
        for (token, data) in prepared {
            // To every session, as Discord does with several processes on one token.
            for (session, gateway) in gateways.iter().enumerate() {
                let command = GatewayCommand::Dispatch {
                    event: "INTERACTION_CREATE",
                    data: data.clone(),
                    token: Some(token.clone()),
                };
                if session == 0 || later.is_zero() {
                    let _ = gateway.send(command);
                } else {
                    delayed.push((gateway.clone(), command));
                }
            }
            tokens.push(token);
        }
        if !delayed.is_empty() {
            tokio::spawn(async move {
                tokio::time::sleep(later).await;
                for (gateway, command) in delayed {
                    let _ = gateway.send(command);
                }
            });
        }
        tokens
    }

    /// Acknowledges a command as another process on the same token would, one that then dies before it
    /// announces anything (a SIGKILL between the defer and the edit): the bot's own defer gets 40060.
    pub fn acknowledge_as_another_process(&self, token: &str) {
        let defer = json!({"type": 5, "data": {}});
        self.with(|s| s.first_response(token, defer, Instant::now())).expect("the command is still open");
    }

    /// Builds each command's payload, checks that serenity can read it (serenity drops one it can't), and
    /// starts its record. Returns (token, payload) pairs.
    pub fn prepare(&self, invocations: &[Invocation]) -> Vec<(String, Value)> {
        self.with(|s| {
            invocations
                .iter()
                .map(|invocation| {
                    let id = s.snowflake();
                    let token = format!("aW50ZXJhY3Rpb24{id}.stand-in-interaction-token");
                    let payload = invocation.payload(id, &token);
                    serde_json::from_value::<serenity::all::Interaction>(payload.clone()).unwrap_or_else(|e| {
                        panic!("fixture must deserialize into serenity's Interaction: {e}\n{payload:#}")
                    });
                    s.expect_interaction(id, &token, invocation.channel_id);
                    (token, payload)
                })
                .collect()
        })
    }

    /// Waits until the interaction is settled: announced (edit or channel message) or answered privately.
    pub async fn settled(&self, token: &str) -> InteractionRecord {
        self.wait_for("the interaction to be answered", |d| {
            let record = d.interaction(token);
            let posted_in_channel = d.channel_messages().iter().any(|m| m.channel_id == record.channel_id);
            let announced = record.original.as_ref().is_some_and(|o| !o["embeds"].as_array().is_none_or(Vec::is_empty));
            (announced || record.ephemeral_text().is_some() || (posted_in_channel && record.original_deleted))
                .then_some(record)
        })
        .await
    }
}

impl DiscordStandIn {
    /// Takes the interaction response a bot's endpoint answered Discord's HTTP request with, under the same
    /// rules and checks as the callback route: schema and limits (50035), deadline (10062), once (40060).
    /// Returns Discord's error code when it would have refused it.
    pub(super) fn http_answer(&self, token: &str, raw: &[u8], arrived: Instant) -> Result<(), u64> {
        let app =
            App { inner: self.inner.clone(), changed: self.changed.clone(), gateway_url: self.gateway_url.clone() };
        let path = "/interactions/{interaction_id}/{interaction_token}/callback";
        let body =
            app.check_body(path, "post", &Bytes::copy_from_slice(raw), Some("callback")).map_err(|_| 50035_u64)?;
        app.with(|s| s.first_response(token, body, arrived))
    }
}

/// One `/meetnow` as a member types it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub channel_name: String,
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub subject: Option<String>,
    pub new: Option<bool>,
}

impl Invocation {
    /// `/meetnow` with no options, by an ordinary member, in channel `channel_id` named `inc-<id>`.
    pub fn in_channel(channel_id: u64) -> Self {
        Self {
            guild_id: Some(GUILD_ID),
            channel_id,
            channel_name: format!("inc-{}", channel_id % 10_000),
            user_id: 700_000_000_000_000_001,
            roles: Vec::new(),
            subject: None,
            new: None,
        }
    }

    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }

    pub fn new_meeting(mut self) -> Self {
        self.new = Some(true);
        self
    }

    fn payload(&self, id: u64, token: &str) -> Value {
        let mut options = Vec::new();
        if let Some(subject) = &self.subject {
            options.push(json!({"name": "subject", "type": 3, "value": subject}));
        }
        if let Some(new) = self.new {
            options.push(json!({"name": "new", "type": 5, "value": new}));
        }
        let user = json!({
            "id": self.user_id.to_string(), "username": "oncall", "discriminator": "0",
            "global_name": "On Call", "avatar": null, "public_flags": 0
        });
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": 2,
            "data": {"id": "1200000000000000001", "name": "meetnow", "type": 1, "options": options},
            "channel_id": self.channel_id.to_string(),
            "channel": {"id": self.channel_id.to_string(), "name": self.channel_name, "type": 0, "permissions": "2248473465835073"},
            "token": token,
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
            "attachment_size_limit": 26_214_400,
        });
        match self.guild_id {
            Some(guild) => {
                payload["guild_id"] = json!(guild.to_string());
                payload["guild_locale"] = json!("en-US");
                payload["context"] = json!(0);
                payload["member"] = json!({
                    "user": user,
                    "roles": self.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
                    "joined_at": "2024-01-01T00:00:00.000000+00:00",
                    "deaf": false, "mute": false, "flags": 0, "pending": false,
                    "permissions": "2248473465835073", "nick": null, "avatar": null,
                });
            }
            None => {
                payload["user"] = user;
                payload["context"] = json!(1);
            }
        }
        payload
    }
}

// ---- REST ----

fn discord_error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "message": message}))).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {BOT_TOKEN}"))
}

impl App {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let out = f(&mut self.inner.lock().unwrap());
        self.changed.notify_waiters();
        out
    }

    async fn delay(&self) {
        let latency = self.inner.lock().unwrap().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    fn fault(&self, route: Route) -> Option<Response> {
        self.with(|s| s.faults.get_mut(&route).and_then(VecDeque::pop_front)).map(|(status, body)| {
            let mut response = (status, axum::Json(body.clone())).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let after = body["retry_after"].as_f64().unwrap_or(1.0);
                let headers = response.headers_mut();
                headers.insert("retry-after", after.ceil().to_string().parse().unwrap());
                headers.insert("x-ratelimit-scope", "user".parse().unwrap());
            }
            response
        })
    }

    /// Validates a JSON body against the route's schema and, for messages, Discord's limits and mentions.
    /// Returns the body, or the 400 Discord would send.
    #[allow(clippy::result_large_err)] // one response per request in a test server; boxing buys nothing
    fn check_body(&self, path: &str, method: &str, raw: &Bytes, message: Option<&str>) -> Result<Value, Response> {
        let body: Value = serde_json::from_slice(raw)
            .map_err(|_| discord_error(StatusCode::BAD_REQUEST, 50109, "The request body contains invalid JSON."))?;
        if !self.inner.lock().unwrap().validate {
            return Ok(body);
        }
        let mut problems: Vec<String> = schema::discord(path, method)
            .violations(&body)
            .into_iter()
            .map(|v| format!("{method} {path}: {v}"))
            .collect();
        if let Some(kind) = message {
            let data = if path.ends_with("/callback") { &body["data"] } else { &body };
            if !data.is_null() {
                problems.extend(limit_violations(data).into_iter().map(|v| format!("{kind}: {v}")));
                let pings = would_ping(data);
                self.with(|s| {
                    s.pings.extend(pings.into_iter().map(|p| format!("{kind}: {p}")));
                    s.bodies.push((kind.to_owned(), data.clone()));
                });
            }
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            let message = format!("Invalid Form Body: {}", problems.join("; "));
            self.with(|s| s.violations.extend(problems));
            Err(discord_error(StatusCode::BAD_REQUEST, 50035, &message))
        }
    }

    fn message(&self, channel_id: u64, body: &Value, flags: u64) -> Value {
        let id = self.with(Inner::snowflake);
        self.message_with_id(id, channel_id, body, flags)
    }

    fn message_with_id(&self, id: u64, channel_id: u64, body: &Value, flags: u64) -> Value {
        json!({
            "id": id.to_string(), "channel_id": channel_id.to_string(),
            "author": {"id": APP_ID.to_string(), "username": "meetnow", "discriminator": "0", "avatar": null, "bot": true, "global_name": null},
            "content": body["content"].as_str().unwrap_or_default(),
            "timestamp": "2026-11-22T18:00:00.000000+00:00", "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": body["embeds"].as_array().cloned().unwrap_or_default(),
            "components": body["components"].as_array().cloned().unwrap_or_default(),
            "pinned": false, "type": 0, "flags": flags,
        })
    }
}

async fn gateway(State(app): State<App>) -> Response {
    axum::Json(json!({
        "url": app.gateway_url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
    }))
    .into_response()
}

/// `GET /oauth2/applications/@me`, which the interactions-endpoint mode reads its application id from.
async fn current_application(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    axum::Json(json!({
        "id": APP_ID.to_string(), "name": "meetnow", "icon": null, "description": "", "bot_public": false,
        "bot_require_code_grant": false, "owner": null, "verify_key": "", "team": null, "flags": 0,
    }))
    .into_response()
}

async fn current_user(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    axum::Json(json!({
        "id": APP_ID.to_string(), "username": "meetnow", "discriminator": "0", "global_name": null,
        "avatar": null, "bot": true, "flags": 0, "mfa_enabled": false, "verified": true
    }))
    .into_response()
}

async fn register(app: App, headers: HeaderMap, path: String, schema_path: &str, raw: Bytes) -> Response {
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let body = match app.check_body(schema_path, "put", &raw, None) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let commands: Vec<Value> = body
        .as_array()
        .map(|list| {
            list.iter()
                .map(|c| {
                    let mut c = c.clone();
                    c["id"] = json!("1200000000000000001");
                    c["application_id"] = json!(APP_ID.to_string());
                    c["version"] = json!("1200000000000000002");
                    c["type"] = c.get("type").cloned().unwrap_or(json!(1));
                    c["default_member_permissions"] =
                        c.get("default_member_permissions").cloned().unwrap_or(Value::Null);
                    c
                })
                .collect()
        })
        .unwrap_or_default();
    app.with(|s| s.registrations.push((path, body)));
    axum::Json(Value::Array(commands)).into_response()
}

async fn register_global(
    State(app): State<App>,
    Path(application): Path<u64>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = format!("/applications/{application}/commands");
    register(app, headers, path, "/applications/{application_id}/commands", raw).await
}

async fn register_guild(
    State(app): State<App>,
    Path((application, guild)): Path<(u64, u64)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = format!("/applications/{application}/guilds/{guild}/commands");
    register(app, headers, path, "/applications/{application_id}/guilds/{guild_id}/commands", raw).await
}

async fn callback(State(app): State<App>, Path((_id, token)): Path<(u64, String)>, raw: Bytes) -> Response {
    let started = Instant::now();
    app.delay().await;
    if let Some(fault) = app.fault(Route::Callback) {
        return fault;
    }
    // Checked when the request arrives, as Discord does.
    let arrived = Instant::now();
    let body = match app.check_body(
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "post",
        &raw,
        Some("callback"),
    ) {
        Ok(body) => body,
        Err(response) => return response,
    };
    app.with(|s| match s.first_response(&token, body, arrived) {
        Ok(()) => {
            if let Some(record) = s.interactions.get_mut(&token) {
                record.service.push((started, Instant::now()));
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(10062) => discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction"),
        Err(code) => discord_error(StatusCode::BAD_REQUEST, code, "Interaction has already been acknowledged."),
    })
}

async fn edit_original(
    State(app): State<App>,
    Path((_app, token, message)): Path<(u64, String, String)>,
    raw: Bytes,
) -> Response {
    let started = Instant::now();
    app.delay().await;
    if message != "@original" {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    }
    if let Some(fault) = app.fault(Route::EditOriginal) {
        return fault;
    }
    let body = match app.check_body(
        "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        "patch",
        &raw,
        Some("edit"),
    ) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let channel = app.with(|s| {
        s.interactions.get(&token).map(|r| (r.channel_id, r.original_id, r.callbacks.is_empty(), r.original_deleted))
    });
    match channel {
        None | Some((_, _, true, _)) | Some((_, None, _, _)) => {
            discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook")
        }
        Some((_, _, _, true)) => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
        Some((channel_id, Some(message_id), false, false)) => {
            let message = app.message_with_id(message_id, channel_id, &body, 0);
            app.with(|s| {
                s.messages.insert(message_id, message.clone());
                let record = s.interactions.get_mut(&token).unwrap();
                record.taken_over |= record.original.is_none() && record.original_reads > 0;
                record.original = Some(message.clone());
                record.edits += 1;
                record.service.push((started, Instant::now()));
                if record.announced_after.is_none() {
                    record.announced_after = Some(record.dispatched_at.elapsed());
                    s.answered += 1;
                }
            });
            if app.with(|s| std::mem::take(&mut s.lose_edit_answer)) {
                return discord_error(StatusCode::INTERNAL_SERVER_ERROR, 0, "500: Internal Server Error");
            }
            axum::Json(message).into_response()
        }
    }
}

async fn delete_original(
    State(app): State<App>,
    Path((_app, token, _message)): Path<(u64, String, String)>,
) -> Response {
    app.delay().await;
    app.with(|s| match s.interactions.get_mut(&token) {
        Some(record) if !record.callbacks.is_empty() && !record.original_deleted => {
            record.original_deleted = true;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    })
}

/// `GET @original`: the deferred reply as it stands ("thinking…", with no embeds, until edited).
async fn get_original(State(app): State<App>, Path((_app, token, message)): Path<(u64, String, String)>) -> Response {
    app.delay().await;
    if message != "@original" {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    }
    let found = app.with(|s| {
        s.interactions.get_mut(&token).map(|r| {
            r.original_reads += 1;
            (r.channel_id, r.original_id, r.original.clone(), r.original_deleted)
        })
    });
    match found {
        Some((_, _, _, true)) | Some((_, None, _, _)) | None => {
            discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message")
        }
        Some((_, Some(_), Some(edited), false)) => axum::Json(edited).into_response(),
        Some((channel_id, Some(message_id), None, false)) => {
            // Discord's LOADING flag (128) marks the "thinking…" placeholder.
            axum::Json(app.message_with_id(message_id, channel_id, &json!({}), 128)).into_response()
        }
    }
}

async fn followup(State(app): State<App>, Path((_app, token)): Path<(u64, String)>, raw: Bytes) -> Response {
    app.delay().await;
    if let Some(fault) = app.fault(Route::Followup) {
        return fault;
    }
    let body = match app.check_body("/webhooks/{webhook_id}/{webhook_token}", "post", &raw, Some("followup")) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let state = app.with(|s| s.interactions.get(&token).map(|r| (r.channel_id, r.callbacks.is_empty())));
    let Some((channel_id, false)) = state else {
        return discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
    };
    let flags = body["flags"].as_u64().unwrap_or(0);
    let message = app.message(channel_id, &body, flags);
    app.with(|s| s.interactions.get_mut(&token).unwrap().followups.push(message.clone()));
    axum::Json(message).into_response()
}

async fn channel_message(State(app): State<App>, Path(channel): Path<u64>, headers: HeaderMap, raw: Bytes) -> Response {
    app.delay().await;
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    if let Some(fault) = app.fault(Route::ChannelMessage) {
        return fault;
    }
    let body = match app.check_body("/channels/{channel_id}/messages", "post", &raw, Some("channel message")) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let message = app.message(channel, &body, 0);
    app.with(|s| {
        s.messages.insert(message["id"].as_str().and_then(|id| id.parse().ok()).unwrap_or_default(), message.clone());
        s.channel_messages.push(ChannelMessage { channel_id: channel, body: message.clone() });
    });
    axum::Json(message).into_response()
}

async fn pin(State(app): State<App>, Path((channel, message)): Path<(u64, u64)>, headers: HeaderMap) -> Response {
    app.delay().await;
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    if let Some(fault) = app.fault(Route::Pin) {
        return fault;
    }
    if app.with(|s| s.pin_forbidden) {
        return discord_error(StatusCode::FORBIDDEN, 50013, "Missing Permissions");
    }
    app.with(|s| {
        if !s.pins.contains(&(channel, message)) {
            s.pins.push((channel, message));
        }
    });
    StatusCode::NO_CONTENT.into_response()
}

async fn unpin(State(app): State<App>, Path((channel, message)): Path<(u64, u64)>, headers: HeaderMap) -> Response {
    app.delay().await;
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    app.with(|s| {
        s.pins.retain(|&pin| pin != (channel, message));
        s.unpins.push((channel, message));
    });
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /channels/{id}/pins`: the pinned messages, newest pin first.
async fn pinned_messages(State(app): State<App>, Path(channel): Path<u64>, headers: HeaderMap) -> Response {
    app.delay().await;
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let pinned: Vec<Value> = app.with(|s| {
        s.pins
            .iter()
            .rev()
            .filter(|(c, _)| *c == channel)
            .filter_map(|(_, m)| s.messages.get(m).cloned())
            .map(|mut m| {
                m["pinned"] = json!(true);
                m
            })
            .collect()
    });
    axum::Json(pinned).into_response()
}

/// Discord's message limits, as 50035 would report them.
pub fn limit_violations(message: &Value) -> Vec<String> {
    fn chars(v: &Value) -> usize {
        v.as_str().map_or(0, |s| s.chars().count())
    }
    fn check(problems: &mut Vec<String>, what: String, value: &Value, max: usize) {
        if chars(value) > max {
            problems.push(format!("{what} is {} characters, over {max}", chars(value)));
        }
    }
    let mut problems = Vec::new();
    check(&mut problems, "content".into(), &message["content"], 2000);
    let embeds = message["embeds"].as_array().cloned().unwrap_or_default();
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        check(&mut problems, format!("embeds[{i}].title"), &embed["title"], 256);
        check(&mut problems, format!("embeds[{i}].description"), &embed["description"], 4096);
        check(&mut problems, format!("embeds[{i}].footer.text"), &embed["footer"]["text"], 2048);
        check(&mut problems, format!("embeds[{i}].author.name"), &embed["author"]["name"], 256);
        total += chars(&embed["title"])
            + chars(&embed["description"])
            + chars(&embed["footer"]["text"])
            + chars(&embed["author"]["name"]);
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            problems.push(format!("embeds[{i}] has {} fields, over 25", fields.len()));
        }
        for (j, field) in fields.iter().enumerate() {
            check(&mut problems, format!("embeds[{i}].fields[{j}].name"), &field["name"], 256);
            check(&mut problems, format!("embeds[{i}].fields[{j}].value"), &field["value"], 1024);
            if chars(&field["name"]) == 0 || chars(&field["value"]) == 0 {
                problems.push(format!("embeds[{i}].fields[{j}] has an empty name or value"));
            }
            total += chars(&field["name"]) + chars(&field["value"]);
        }
    }
    if embeds.len() > 10 {
        problems.push(format!("{} embeds, over 10", embeds.len()));
    }
    if total > 6000 {
        problems.push(format!("embeds total {total} characters, over 6000"));
    }
    for (r, row) in message["components"].as_array().cloned().unwrap_or_default().iter().enumerate() {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        if buttons.len() > 5 {
            problems.push(format!("components[{r}] has {} buttons, over 5", buttons.len()));
        }
        for (b, button) in buttons.iter().enumerate() {
            check(&mut problems, format!("components[{r}][{b}].label"), &button["label"], 80);
            check(&mut problems, format!("components[{r}][{b}].url"), &button["url"], 512);
        }
    }
    problems
}

/// The mentions in `content` that would notify someone, given `allowed_mentions` (absent: Discord's defaults).
pub fn would_ping(message: &Value) -> Vec<String> {
    let content = message["content"].as_str().unwrap_or_default();
    let allowed = &message["allowed_mentions"];
    let parse: Vec<&str> = match allowed["parse"].as_array() {
        Some(list) => list.iter().filter_map(Value::as_str).collect(),
        None if allowed.is_object() => Vec::new(),
        None => vec!["users", "roles", "everyone"],
    };
    let listed =
        |kind: &str, id: &str| allowed[kind].as_array().is_some_and(|l| l.iter().any(|v| v.as_str() == Some(id)));
    let mut pings = Vec::new();
    for everyone in ["@everyone", "@here"] {
        if content.contains(everyone) && parse.contains(&"everyone") {
            pings.push(everyone.to_owned());
        }
    }
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('>') else { break };
        let inner = &rest[..end];
        let (kind, id) = match inner.strip_prefix('&') {
            Some(role) => ("roles", role),
            None => ("users", inner.trim_start_matches('!')),
        };
        if id.chars().all(|c| c.is_ascii_digit()) && (parse.contains(&kind) || listed(kind, id)) {
            pings.push(format!("<@{inner}>"));
        }
    }
    pings
}

// ---- Gateway ----

async fn accept_gateway(listener: TcpListener, app: App) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        if app.inner.lock().unwrap().refuse_gateway {
            drop(stream);
            continue;
        }
        let app = app.clone();
        tokio::spawn(async move {
            if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                serve_gateway(ws, app).await;
            }
        });
    }
}

async fn serve_gateway(ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, app: App) {
    let (mut sink, mut stream) = ws.split();
    let send = |payload: Value| WsMessage::Text(payload.to_string());
    let interval = app.inner.lock().unwrap().heartbeat_interval_ms;
    if sink.send(send(json!({"op": 10, "d": {"heartbeat_interval": interval}}))).await.is_err() {
        return;
    }
    let mut seq = 0u64;
    // The handshake: IDENTIFY starts a session, RESUME continues one.
    loop {
        let Some(Ok(WsMessage::Text(text))) = stream.next().await else { return };
        let frame: Value = serde_json::from_str(&text).unwrap_or_default();
        match frame["op"].as_u64() {
            Some(2) => {
                let token = frame["d"]["token"].as_str().unwrap_or_default();
                if token.trim_start_matches("Bot ") != BOT_TOKEN {
                    let _ = sink
                        .send(WsMessage::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                            code: 4004.into(),
                            reason: "Authentication failed.".into(),
                        })))
                        .await;
                    return;
                }
                seq += 1;
                let ready = json!({"op": 0, "s": seq, "t": "READY", "d": {
                    "v": 10,
                    "user": {"id": APP_ID.to_string(), "username": "meetnow", "discriminator": "0", "avatar": null, "bot": true, "global_name": null},
                    "guilds": [], "session_id": "stand-in-session", "resume_gateway_url": app.gateway_url,
                    "application": {"id": APP_ID.to_string(), "flags": 0}
                }});
                app.with(|s| s.identifies += 1);
                if sink.send(send(ready)).await.is_err() {
                    return;
                }
                break;
            }
            Some(6) => {
                seq = frame["d"]["seq"].as_u64().unwrap_or(0) + 1;
                app.with(|s| s.resumes += 1);
                if sink.send(send(json!({"op": 0, "s": seq, "t": "RESUMED", "d": {}}))).await.is_err() {
                    return;
                }
                break;
            }
            Some(1) => {
                let _ = sink.send(send(json!({"op": 11}))).await;
            }
            _ => {}
        }
    }

    let (commands, mut inbox) = mpsc::unbounded_channel();
    let mine = commands.clone();
    app.with(|s| s.gateways.push(commands));
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(WsMessage::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap_or_default();
                    if frame["op"] == 1 {
                        app.with(|s| s.heartbeats += 1);
                        if sink.send(send(json!({"op": 11}))).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(WsMessage::Ping(data))) => { let _ = sink.send(WsMessage::Pong(data)).await; }
                Some(Ok(_)) => {}
                _ => break,
            },
            command = inbox.recv() => match command {
                Some(GatewayCommand::Dispatch { event, data, token }) => {
                    seq += 1;
                    if sink.send(send(json!({"op": 0, "s": seq, "t": event, "d": data}))).await.is_err() {
                        break;
                    }
                    // Discord's clock starts when the event leaves (for the first session it goes to): queueing
                    // inside the stand-in is not the bot's.
                    if let Some(token) = token {
                        app.with(|s| {
                            if let Some(record) = s.interactions.get_mut(&token).filter(|r| !r.dispatched) {
                                record.dispatched_at = Instant::now();
                                record.dispatched = true;
                            }
                        });
                    }
                }
                // Dropping both halves closes the TCP connection without a close frame.
                Some(GatewayCommand::Drop) | None => break,
            },
        }
    }
    app.with(|s| s.gateways.retain(|session| !session.same_channel(&mine)));
}
