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
//!
//! Files: this one holds the state, the records tests read and the methods tests call; `rest.rs` the REST
//! routes, `gateway.rs` the websocket, `rules.rs` Discord's message limits and mention rules.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

use super::net::Transport;

use super::schema;

mod gateway;
mod invocation;
mod limits;
mod rest;
mod rules;

use gateway::accept_gateway;
pub use invocation::Invocation;
use rest::*;

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
    /// `GET /channels/{channel}/pins`.
    PinsRead,
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
    /// Skips this many sequence numbers, as when events were missed.
    Gap(u64),
    Drop,
}

pub(super) struct Inner {
    registrations: Vec<(String, Value)>,
    identifies: u32,
    resumes: u32,
    /// Every connected gateway session; an event goes to each of them, as Discord sends it to each process.
    gateways: Vec<Session>,
    /// The intents of each IDENTIFY received, in order.
    intents: Vec<u64>,
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
    /// Members' roles, by user id, as `GET /guilds/{guild}/members/{user}` answers (no roles if absent).
    member_roles: HashMap<u64, Vec<u64>>,
    /// `bot_public` of `GET /oauth2/applications/@me`.
    bot_public: bool,
    /// Members looked up by REST, in order.
    member_lookups: Vec<u64>,
    /// Discord's rate limits (`limits.rs`).
    limits: limits::RateLimits,
    /// Every REST call, as `METHOD /path`, in order.
    calls: Vec<String>,
    /// When each pin was made.
    pin_times: Vec<Instant>,
    /// `session_start_limit` of `GET /gateway/bot`: (remaining, reset_after in ms).
    session_starts: (u64, u64),
    /// Edits of channel messages by the bot token: (message, the message after the edit, when).
    message_edits: Vec<(u64, Value, Instant)>,
    /// Servers' `preferred_locale`, by id (`en-US` when absent).
    preferred_locales: HashMap<u64, String>,
    /// Each edited message as it was before its last edit.
    previous_versions: HashMap<u64, Value>,
    /// The next reads of an edited message (or of the pins) return it as it was before its last edit.
    stale_reads: u32,
    /// Edits of messages older than an hour, by message, in the last hour.
    old_message_edits: HashMap<u64, Vec<Instant>>,
    /// Edits refused with 30046.
    old_message_refusals: u32,
    /// Edits an hour a message older than an hour takes (`rest::OLD_MESSAGE_EDITS_PER_HOUR` unless set).
    old_message_edit_budget: usize,
    /// Messages deleted, as (channel, message).
    deletions: Vec<(u64, u64)>,
}

/// One connected gateway session: where its events go, and what it asked for.
#[derive(Clone)]
struct Session {
    commands: mpsc::UnboundedSender<GatewayCommand>,
    intents: u64,
}

/// The `GUILDS` intent: channel and thread events go only to sessions that identified with it.
pub const INTENT_GUILDS: u64 = 1;

/// Discord's epoch (2015-01-01) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

impl Inner {
    /// Message `id` as a read returns it now (see [`DiscordStandIn::serve_stale_reads`]).
    pub(super) fn read_of(&mut self, id: u64) -> Option<Value> {
        if self.stale_reads > 0 {
            if let Some(before) = self.previous_versions.get(&id) {
                self.stale_reads -= 1;
                return Some(before.clone());
            }
        }
        self.messages.get(&id).cloned()
    }

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
    /// TCP connections and TLS handshakes its REST side took.
    pub connections: Arc<super::net::Connections>,
}

#[derive(Clone)]
struct App {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    gateway_url: String,
}

impl DiscordStandIn {
    pub async fn start() -> Self {
        Self::start_on(&Transport::Plain).await
    }

    /// REST served over `transport` (the gateway stays `ws://`: serenity's websocket trusts only public roots).
    pub async fn start_on(transport: &Transport) -> Self {
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{}://{}", transport.scheme(), rest.local_addr().unwrap());
        let gateway_url = format!("ws://{}", ws.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            registrations: Vec::new(),
            identifies: 0,
            resumes: 0,
            gateways: Vec::new(),
            intents: Vec::new(),
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
            member_roles: HashMap::new(),
            bot_public: false,
            member_lookups: Vec::new(),
            limits: limits::RateLimits::default(),
            calls: Vec::new(),
            pin_times: Vec::new(),
            session_starts: (999, 0),
            message_edits: Vec::new(),
            preferred_locales: HashMap::new(),
            previous_versions: HashMap::new(),
            stale_reads: 0,
            old_message_edits: HashMap::new(),
            old_message_refusals: 0,
            old_message_edit_budget: rest::OLD_MESSAGE_EDITS_PER_HOUR,
            deletions: Vec::new(),
        }));
        let changed = Arc::new(Notify::new());
        let app = App { inner: inner.clone(), changed: changed.clone(), gateway_url: gateway_url.clone() };
        let router = Router::new()
            .route("/api/v10/gateway", get(gateway))
            .route("/api/v10/gateway/bot", get(gateway))
            .route("/api/v10/users/@me", get(current_user))
            .route("/api/v10/oauth2/applications/@me", get(current_application))
            .route("/api/v10/guilds/{guild}/members/{user}", get(member))
            .route("/api/v10/guilds/{guild}", get(guild))
            .route("/api/v10/applications/{app}/commands", put(register_global))
            .route("/api/v10/applications/{app}/guilds/{guild}/commands", put(register_guild))
            .route("/api/v10/interactions/{id}/{token}/callback", post(callback))
            .route("/api/v10/webhooks/{app}/{token}", post(followup))
            .route(
                "/api/v10/webhooks/{app}/{token}/messages/{message}",
                get(get_original).patch(edit_original).delete(delete_original),
            )
            .route("/api/v10/channels/{channel}/messages", post(channel_message).get(recent_messages))
            .route(
                "/api/v10/channels/{channel}/messages/{message}",
                get(read_message).patch(edit_message).delete(delete_message),
            )
            .route("/api/v10/channels/{channel}/pins", get(pinned_messages))
            .route("/api/v10/channels/{channel}/pins/{message}", put(pin).delete(unpin))
            .route("/api/v10/channels/{channel}/messages/pins/{message}", put(pin).delete(unpin))
            .route_layer(axum::middleware::from_fn_with_state(app.clone(), limits::enforce))
            .with_state(app.clone());
        let connections = super::net::serve(rest, router, transport);
        tokio::spawn(accept_gateway(ws, app));
        Self { url, gateway_url, inner, changed, connections }
    }

    /// The Discord variables of a deployment pointed at this stand-in (guild registration).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DISCORD_TOKEN", BOT_TOKEN.into()),
            ("DISCORD_API_URL", self.url.clone()),
            ("DISCORD_GUILD_ID", GUILD_ID.to_string()),
            // Shutdown waits for no load balancer here; the test about that grace sets its own.
            ("MEETNOW_SHUTDOWN_GRACE_SECONDS", "0".into()),
        ]
    }

    /// Delivers a prepared command to every session after a gap in the sequence numbers (events missed, as
    /// after a reconnect): serenity warns about the gap inside a span that records the event.
    pub async fn dispatch_after_a_gap(&self, (token, data): (String, Value)) -> String {
        self.wait_for("a gateway connection", |d| d.connected().then_some(())).await;
        for session in self.with(|s| s.gateways.clone()) {
            let _ = session.commands.send(GatewayCommand::Gap(5));
            let command = GatewayCommand::Dispatch {
                event: "INTERACTION_CREATE",
                data: data.clone(),
                token: Some(token.clone()),
            };
            let _ = session.commands.send(command);
        }
        token
    }

    /// The routes' view of this stand-in, for what they build (messages, checked responses).
    fn app(&self) -> App {
        App { inner: self.inner.clone(), changed: self.changed.clone(), gateway_url: self.gateway_url.clone() }
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
    /// The intents of each IDENTIFY, in order.
    pub fn identified_intents(&self) -> Vec<u64> {
        self.with(|s| s.intents.clone())
    }

    /// Creates a channel in the guild, as someone declaring an incident does: CHANNEL_CREATE (or THREAD_CREATE
    /// for a thread kind) to every session that asked for `GUILDS`. `kind` is Discord's channel type (0 text,
    /// 2 voice, 5 announcement, 11 public thread); a thread is `created_secs_ago` old (the same event comes when
    /// the bot is added to an older one). Returns the channel's id.
    pub async fn create_channel(&self, name: &str, kind: u8, created_secs_ago: i64) -> u64 {
        self.create_channel_by(GUILD_ID, name, kind, created_secs_ago, 700_000_000_000_000_001).await
    }

    /// [`Self::create_channel`] in `guild`, a thread's creator being `owner`.
    pub async fn create_channel_by(&self, guild: u64, name: &str, kind: u8, created_secs_ago: i64, owner: u64) -> u64 {
        self.wait_for("a gateway connection", |d| d.connected().then_some(())).await;
        let id = self.with(Inner::snowflake);
        let mut channel = json!({
            "id": id.to_string(), "guild_id": guild.to_string(), "type": kind, "name": name, "position": 3,
            "permission_overwrites": [], "nsfw": false, "parent_id": null, "topic": null, "last_message_id": null,
            "rate_limit_per_user": 0, "flags": 0,
        });
        let thread = matches!(kind, 10..=12);
        if thread {
            let created = time::OffsetDateTime::now_utc() - time::Duration::seconds(created_secs_ago);
            let created = created.format(&time::format_description::well_known::Rfc3339).unwrap();
            channel["parent_id"] = json!("1300000000000000001");
            channel["owner_id"] = json!(owner.to_string());
            channel["thread_metadata"] = json!({
                "archived": false, "auto_archive_duration": 1440, "archive_timestamp": created,
                "locked": false, "create_timestamp": created,
            });
            channel["member_count"] = json!(1);
            channel["message_count"] = json!(0);
        }
        serde_json::from_value::<serenity::all::GuildChannel>(channel.clone())
            .unwrap_or_else(|e| panic!("fixture must deserialize into serenity's GuildChannel: {e}\n{channel:#}"));
        let event = if thread { "THREAD_CREATE" } else { "CHANNEL_CREATE" };
        let sessions = self.with(|s| s.gateways.clone());
        for session in sessions.iter().filter(|s| s.intents & INTENT_GUILDS != 0) {
            let _ = session.commands.send(GatewayCommand::Dispatch { event, data: channel.clone(), token: None });
        }
        id
    }

    /// The 429s sent, by scope (`user`, `global`): for the rate limits, and the 429 faults a test queued.
    pub fn rate_limited(&self, scope: &str) -> u32 {
        self.with(|s| s.limits.sent.get(scope).copied().unwrap_or(0))
    }

    /// Every 429 sent.
    pub fn rate_limited_total(&self) -> u32 {
        self.with(|s| s.limits.sent.values().sum())
    }

    /// When each pin was made, in order.
    pub fn pin_times(&self) -> Vec<Instant> {
        self.with(|s| s.pin_times.clone())
    }

    /// Every REST call so far, as `METHOD /path`.
    pub fn rest_calls(&self) -> Vec<String> {
        self.with(|s| s.calls.clone())
    }

    /// What `GET /gateway/bot` says of the day's session starts: how many are left, and in how long (ms) the
    /// count resets. Once the reset has passed, the count is full again.
    pub fn set_session_starts(&self, remaining: u64, reset_after_ms: u64) {
        self.with(|s| s.session_starts = (remaining, reset_after_ms));
    }

    /// Every answer's rate-limit headers say `NaN` and `inf` (`true`), as a broken proxy in front might.
    pub fn set_absurd_rate_limit_headers(&self, absurd: bool) {
        self.with(|s| s.limits.absurd = absurd);
    }

    /// Turns Discord's rate limits off (a proxy in front that owns them, or the benchmark's "before").
    pub fn set_rate_limits(&self, on: bool) {
        self.with(|s| s.limits.off = !on);
    }

    /// Gives `user` these roles, as member lookups answer them.
    pub fn set_member_roles(&self, user: u64, roles: &[u64]) {
        self.with(|s| s.member_roles.insert(user, roles.to_vec()));
    }

    /// The members the bot looked up by REST, in order.
    pub fn member_lookups(&self) -> Vec<u64> {
        self.with(|s| s.member_lookups.clone())
    }

    /// Whether anyone may add the application to their server (`bot_public`).
    pub fn set_bot_public(&self, public: bool) {
        self.with(|s| s.bot_public = public);
    }

    /// Pins, in `channel`, a message by *another* bot whose embed links `join_url`: a copy of an announcement,
    /// as any bot or webhook in the channel could post to make meetnow think its bridge is pinned already.
    pub fn pin_a_copy_by_another_bot(&self, channel: u64, join_url: &str) {
        let id = self.with(Inner::snowflake);
        let embeds = json!({"embeds": [{"type": "rich", "title": "Teams bridge", "url": join_url}]});
        let mut message = self.app().message_with_id(id, channel, &embeds, 0);
        message["author"]["id"] = json!("900000000000000777");
        message["author"]["username"] = json!("copycat");
        message["pinned"] = json!(true);
        self.with(|s| {
            s.messages.insert(id, message);
            s.pins.push((channel, id));
        });
    }

    /// Answers a command as another process on the same token would: acknowledged, then edited into `content`
    /// (a sentence, no embed: say, a refusal it decided on).
    pub fn answer_as_another_process(&self, token: &str, content: &str) {
        self.acknowledge_as_another_process(token);
        let (channel, id) = self.with(|s| {
            let record = &s.interactions[token];
            (record.channel_id, record.original_id.expect("acknowledged"))
        });
        let message = self.app().message_with_id(id, channel, &json!({"content": content}), 0);
        self.with(|s| s.interactions.get_mut(token).unwrap().original = Some(message));
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
    /// Server `guild`'s preferred locale, as `GET /guilds/{guild}` answers (Server Settings → Community).
    pub fn set_preferred_locale(&self, guild: u64, locale: &str) {
        self.with(|s| s.preferred_locales.insert(guild, locale.to_owned()));
    }

    /// The next `reads` reads of an edited message (alone or among the pins) return it as it was before its
    /// last edit: what a process sees when it read just before another process's edit landed.
    pub fn serve_stale_reads(&self, reads: u32) {
        self.with(|s| s.stale_reads = reads);
    }
    /// Moves time on for the messages posted so far: each is `by` older than it was (a standing bridge's
    /// announcement is usually days old); messages posted from now on are new. Messages older than an hour
    /// take only a few edits an hour, as on Discord.
    pub fn age_messages(&self, by: Duration) {
        let by = time::Duration::try_from(by).unwrap();
        self.with(|s| {
            for message in s.messages.values_mut().chain(s.previous_versions.values_mut()) {
                if let Some(created) = rest::timestamp_of(message) {
                    message["timestamp"] = json!(rest::rfc3339(created - by));
                }
            }
        });
    }
    /// From now on a message older than an hour takes `edits` edits an hour (Discord's number is unpublished).
    pub fn set_old_message_edit_budget(&self, edits: usize) {
        self.with(|s| s.old_message_edit_budget = edits);
    }
    /// Edits refused with 30046 (the message was older than an hour and had used its edits).
    pub fn old_message_refusals(&self) -> u32 {
        self.with(|s| s.old_message_refusals)
    }
    /// Messages the bot deleted, as (channel, message).
    pub fn deletions(&self) -> Vec<(u64, u64)> {
        self.with(|s| s.deletions.clone())
    }
    /// The bot's messages in `channel` now, oldest first.
    pub fn messages_in(&self, channel: u64) -> Vec<Value> {
        let mut found: Vec<(u64, Value)> = self.with(|s| {
            s.messages
                .iter()
                .filter(|(_, m)| m["channel_id"].as_str() == Some(channel.to_string().as_str()))
                .map(|(id, m)| (*id, m.clone()))
                .collect()
        });
        found.sort_by_key(|(id, _)| *id);
        found.into_iter().map(|(_, m)| m).collect()
    }
    /// A message as `GET` returns it now.
    pub fn message(&self, id: u64) -> Option<Value> {
        self.with(|s| s.messages.get(&id).cloned())
    }
    /// Edits of channel messages by the bot token, in order: (message, the message after it, when).
    pub fn message_edits(&self) -> Vec<(u64, Value, Instant)> {
        self.with(|s| s.message_edits.clone())
    }
    /// The live-status embed's description on message `id` now (`None` while it shows none).
    pub fn live_status_of(&self, id: u64) -> Option<String> {
        let message = self.message(id)?;
        message["embeds"]
            .as_array()?
            .iter()
            .find(|e| e["url"].as_str().is_some_and(|u| u.contains("#meetnow-live-")))
            .map(|e| {
                format!(
                    "{}\n{}",
                    e["title"].as_str().unwrap_or_default(),
                    e["description"].as_str().unwrap_or_default()
                )
            })
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
            for session in s.gateways.drain(..) {
                let _ = session.commands.send(GatewayCommand::Drop);
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
            for (session, gateway) in gateways.iter().map(|s| &s.commands).enumerate() {
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

    /// Clicks the button `custom_id` under `message` (as the bot posted it), as `by`'s member would: a
    /// component interaction, to every session. Returns its token, the key to its record.
    pub async fn click(&self, message: &Value, custom_id: &str, by: Invocation) -> String {
        let prepared = self.prepare_click(message, custom_id, by);
        self.dispatch(vec![prepared]).await.remove(0)
    }

    /// The click [`Self::click`] sends, made and recorded but not delivered: (token, payload).
    pub fn prepare_click(&self, message: &Value, custom_id: &str, by: Invocation) -> (String, Value) {
        self.with(|s| {
            let id = s.snowflake();
            let token = format!("Y2xpY2s{id}.stand-in-interaction-token");
            let mut payload = by.payload(id, &token);
            payload["type"] = json!(3);
            payload["data"] = json!({"custom_id": custom_id, "component_type": 2});
            payload["message"] = message.clone();
            serde_json::from_value::<serenity::all::Interaction>(payload.clone())
                .unwrap_or_else(|e| panic!("a click must deserialize into serenity's Interaction: {e}\n{payload:#}"));
            s.expect_interaction(id, &token, by.channel_id);
            (token, payload)
        })
    }

    /// Types `typed` into `ring:` as `by`'s member would: an autocomplete interaction (type 4), to every
    /// session. Returns its token, the key to its record (its one callback is the choices).
    pub async fn autocomplete(&self, by: Invocation, typed: &str) -> String {
        let prepared = self.prepare_autocomplete(by, typed);
        self.dispatch(vec![prepared]).await.remove(0)
    }

    /// The autocomplete [`Self::autocomplete`] sends, made and recorded but not delivered: (token, payload).
    pub fn prepare_autocomplete(&self, by: Invocation, typed: &str) -> (String, Value) {
        self.with(|s| {
            let id = s.snowflake();
            let token = format!("YXV0b2NvbXBsZXRl{id}.stand-in-interaction-token");
            let mut payload = by.payload(id, &token);
            payload["type"] = json!(4);
            payload["data"]["options"] = json!([{"name": "ring", "type": 3, "value": typed, "focused": true}]);
            serde_json::from_value::<serenity::all::Interaction>(payload.clone()).unwrap_or_else(|e| {
                panic!("an autocomplete must deserialize into serenity's Interaction: {e}\n{payload:#}")
            });
            s.expect_interaction(id, &token, by.channel_id);
            (token, payload)
        })
    }

    /// The choices the bot answered autocomplete `token` with, once it has: (name, value) pairs.
    pub async fn choices(&self, token: &str) -> Vec<(String, String)> {
        let record = self
            .wait_for("the autocomplete's choices", |d| {
                let record = d.interaction(token);
                (!record.callbacks.is_empty() || !record.errors.is_empty()).then_some(record)
            })
            .await;
        assert!(record.errors.is_empty(), "Discord refused the answer: {:?}", record.errors);
        let callback = &record.callbacks[0];
        assert_eq!(callback["type"], 8, "an autocomplete is answered with its choices: {callback}");
        callback["data"]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_owned(), c["value"].as_str().unwrap().to_owned()))
            .collect()
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
        self.prepare_issued(invocations, Duration::ZERO)
    }

    /// [`Self::prepare`] for commands Discord issued `ago` (the time in their ids): older than 15 minutes,
    /// their interaction tokens are dead, and webhook routes refuse them (401, code 50027).
    pub fn prepare_issued(&self, invocations: &[Invocation], ago: Duration) -> Vec<(String, Value)> {
        self.with(|s| {
            invocations
                .iter()
                .map(|invocation| {
                    let id = s.snowflake() - ((ago.as_millis() as u64) << 22);
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
        let app = self.app();
        let path = "/interactions/{interaction_id}/{interaction_token}/callback";
        let body =
            app.check_body(path, "post", &Bytes::copy_from_slice(raw), Some("callback")).map_err(|_| 50035_u64)?;
        app.with(|s| s.first_response(token, body, arrived))
    }
}
