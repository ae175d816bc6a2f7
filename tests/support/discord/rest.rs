//! Discord's REST routes as the bot uses them, under Discord's rules (deadline, once, limits, token).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::rules::{limit_violations, would_ping};
use super::{schema, App, ChannelMessage, Inner, Route, APP_ID, BOT_TOKEN};
pub(super) fn discord_error(status: StatusCode, code: u64, message: &str) -> Response {
    (status, axum::Json(json!({"code": code, "message": message}))).into_response()
}

pub(super) fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bot {BOT_TOKEN}"))
}

impl App {
    /// What every bot-token route does first: Discord's latency, the `Authorization` check, and the next fault
    /// queued for `route`. `Some` is the answer to send instead.
    pub(super) async fn admit_bot_call(&self, headers: &HeaderMap, route: Option<Route>) -> Option<Response> {
        self.delay().await;
        if !authorized(headers) {
            return Some(discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized"));
        }
        route.and_then(|route| self.fault(route))
    }

    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let out = f(&mut self.inner.lock().unwrap());
        self.changed.notify_waiters();
        out
    }

    pub(super) async fn delay(&self) {
        let latency = self.inner.lock().unwrap().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    pub(super) fn fault(&self, route: Route) -> Option<Response> {
        let fault = self.with(|s| {
            let fault = s.faults.get_mut(&route).and_then(VecDeque::pop_front);
            if fault.as_ref().is_some_and(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS) {
                // Every 429 the stand-in sends is counted, the queued ones too.
                s.limits.count(if fault.as_ref().is_some_and(|(_, body)| body["global"] == true) {
                    "global"
                } else {
                    "user"
                });
            }
            fault
        });
        fault.map(|(status, body)| {
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
    pub(super) fn check_body(
        &self,
        path: &str,
        method: &str,
        raw: &Bytes,
        message: Option<&str>,
    ) -> Result<Value, Response> {
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

    pub(super) fn message(&self, channel_id: u64, body: &Value, flags: u64) -> Value {
        let id = self.with(Inner::snowflake);
        self.message_with_id(id, channel_id, body, flags)
    }

    pub(super) fn message_with_id(&self, id: u64, channel_id: u64, body: &Value, flags: u64) -> Value {
        // Posted when its id was made, as Discord's are (`timestamp` is the snowflake's time).
        let created = created_at(id);
        json!({
            "id": id.to_string(), "channel_id": channel_id.to_string(),
            "author": {"id": APP_ID.to_string(), "username": "meetnow", "discriminator": "0", "avatar": null, "bot": true, "global_name": null},
            "content": body["content"].as_str().unwrap_or_default(),
            "timestamp": rfc3339(created), "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": body["embeds"].as_array().cloned().unwrap_or_default(),
            "components": body["components"].as_array().cloned().unwrap_or_default(),
            "pinned": false, "type": 0, "flags": flags,
        })
    }
}

pub(super) async fn gateway(State(app): State<App>) -> Response {
    let (remaining, reset_after) = app.with(|s| s.session_starts);
    axum::Json(json!({
        "url": app.gateway_url, "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": remaining, "reset_after": reset_after, "max_concurrency": 1}
    }))
    .into_response()
}

/// `GET /oauth2/applications/@me`, which the interactions-endpoint mode reads its application id from.
pub(super) async fn current_application(State(app): State<App>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let public = app.with(|s| s.bot_public);
    axum::Json(json!({
        "id": APP_ID.to_string(), "name": "meetnow", "icon": null, "description": "", "bot_public": public,
        "bot_require_code_grant": false, "owner": null, "verify_key": "", "team": null, "flags": 0,
    }))
    .into_response()
}

/// `GET /guilds/{guild}/members/{user}`: a member with the roles the test gave them.
pub(super) async fn member(
    State(app): State<App>,
    Path((_guild, user)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let roles = app.with(|s| {
        s.member_lookups.push(user);
        s.member_roles.get(&user).cloned().unwrap_or_default()
    });
    axum::Json(json!({
        "user": {"id": user.to_string(), "username": "member", "discriminator": "0", "global_name": null, "avatar": null},
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "pending": false,
        "nick": null, "avatar": null,
    }))
    .into_response()
}

/// When the snowflake `id` was made.
fn created_at(id: u64) -> time::OffsetDateTime {
    let ms = i128::from((id >> 22) + 1_420_070_400_000);
    time::OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).unwrap()
}

pub(super) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// A stored message's `timestamp`.
pub(super) fn timestamp_of(message: &Value) -> Option<time::OffsetDateTime> {
    let text = message["timestamp"].as_str()?;
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// How many edits Discord takes of a message older than an hour, in an hour, before it answers 30046. Discord
/// does not publish the number ("a limited, unpublished number"); the stand-in's is small, so a bot that
/// edits old messages for ever meets it in a test.
pub const OLD_MESSAGE_EDITS_PER_HOUR: usize = 3;

/// Whether the interaction `id` (a snowflake) was issued more than 15 minutes ago: its token is dead.
fn token_expired(id: u64) -> bool {
    let issued_ms = (id >> 22) + 1_420_070_400_000;
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    now_ms.saturating_sub(issued_ms) > 15 * 60 * 1000
}

pub(super) async fn current_user(headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    axum::Json(json!({
        "id": APP_ID.to_string(), "username": "meetnow", "discriminator": "0", "global_name": null,
        "avatar": null, "bot": true, "flags": 0, "mfa_enabled": false, "verified": true
    }))
    .into_response()
}

pub(super) async fn register(app: App, headers: HeaderMap, path: String, schema_path: &str, raw: Bytes) -> Response {
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

pub(super) async fn register_global(
    State(app): State<App>,
    Path(application): Path<u64>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = format!("/applications/{application}/commands");
    register(app, headers, path, "/applications/{application_id}/commands", raw).await
}

pub(super) async fn register_guild(
    State(app): State<App>,
    Path((application, guild)): Path<(u64, u64)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let path = format!("/applications/{application}/guilds/{guild}/commands");
    register(app, headers, path, "/applications/{application_id}/guilds/{guild_id}/commands", raw).await
}

pub(super) async fn callback(State(app): State<App>, Path((_id, token)): Path<(u64, String)>, raw: Bytes) -> Response {
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

pub(super) async fn edit_original(
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
    let expired = app.with(|s| {
        let record = s.interactions.get_mut(&token)?;
        token_expired(record.id).then(|| record.errors.push(50027))
    });
    if expired.is_some() {
        return discord_error(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token");
    }
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

pub(super) async fn delete_original(
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
pub(super) async fn get_original(
    State(app): State<App>,
    Path((_app, token, message)): Path<(u64, String, String)>,
) -> Response {
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

pub(super) async fn followup(State(app): State<App>, Path((_app, token)): Path<(u64, String)>, raw: Bytes) -> Response {
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

pub(super) async fn channel_message(
    State(app): State<App>,
    Path(channel): Path<u64>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, Some(Route::ChannelMessage)).await {
        return refused;
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

pub(super) async fn pin(
    State(app): State<App>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, Some(Route::Pin)).await {
        return refused;
    }
    if app.with(|s| s.pin_forbidden) {
        return discord_error(StatusCode::FORBIDDEN, 50013, "Missing Permissions");
    }
    app.with(|s| {
        if !s.pins.contains(&(channel, message)) {
            s.pins.push((channel, message));
            s.pin_times.push(Instant::now());
        }
    });
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn unpin(
    State(app): State<App>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    app.with(|s| {
        s.pins.retain(|&pin| pin != (channel, message));
        s.unpins.push((channel, message));
    });
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /channels/{id}/pins`: the pinned messages, newest pin first.
pub(super) async fn pinned_messages(State(app): State<App>, Path(channel): Path<u64>, headers: HeaderMap) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, Some(Route::PinsRead)).await {
        return refused;
    }
    let pinned: Vec<Value> = app.with(|s| {
        s.pins
            .iter()
            .rev()
            .filter(|(c, _)| *c == channel)
            .copied()
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|(_, m)| s.read_of(m))
            .map(|mut m| {
                m["pinned"] = json!(true);
                m
            })
            .collect()
    });
    axum::Json(pinned).into_response()
}

/// `GET /channels/{channel}/messages/{message}`: one message, as stored.
pub(super) async fn read_message(
    State(app): State<App>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let found = app.with(|s| {
        s.read_of(message).filter(|m| in_channel(m, channel)).map(|mut m| {
            m["pinned"] = json!(s.pins.contains(&(channel, message)));
            m
        })
    });
    match found {
        Some(message) => axum::Json(message).into_response(),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

/// `GET /channels/{channel}/messages?limit=`: the channel's latest messages, newest first.
pub(super) async fn recent_messages(
    State(app): State<App>,
    Path(channel): Path<u64>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(50).clamp(1, 100);
    let mut found: Vec<(u64, Value)> = app
        .with(|s| s.messages.iter().filter(|(_, m)| in_channel(m, channel)).map(|(id, m)| (*id, m.clone())).collect());
    found.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    axum::Json(found.into_iter().take(limit).map(|(_, m)| m).collect::<Vec<_>>()).into_response()
}

/// `PATCH /channels/{channel}/messages/{message}`: the bot edits one of its own messages with its token (no
/// interaction token, so it works at any age). The fields sent replace the stored ones; the rest stay. A
/// message older than an hour takes [`OLD_MESSAGE_EDITS_PER_HOUR`] edits an hour; past them, Discord's 429
/// with code 30046.
pub(super) async fn edit_message(
    State(app): State<App>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let body = match app.check_body("/channels/{channel_id}/messages/{message_id}", "patch", &raw, Some("message edit"))
    {
        Ok(body) => body,
        Err(response) => return response,
    };
    let edited = app.with(|s| {
        let stored = s.messages.get(&message).filter(|m| in_channel(m, channel))?;
        if stored["author"]["id"].as_str() != Some(APP_ID.to_string().as_str()) {
            return Some(Err(StatusCode::FORBIDDEN));
        }
        let old = timestamp_of(stored).is_some_and(|t| time::OffsetDateTime::now_utc() - t > time::Duration::HOUR);
        if old {
            let edits = s.old_message_edits.entry(message).or_default();
            edits.retain(|at| at.elapsed() < std::time::Duration::from_secs(3600));
            if edits.len() >= s.old_message_edit_budget {
                s.old_message_refusals += 1;
                return Some(Err(StatusCode::TOO_MANY_REQUESTS));
            }
            edits.push(Instant::now());
        }
        let stored = s.messages.get_mut(&message)?;
        let before = stored.clone();
        for field in ["content", "embeds", "components"] {
            if let Some(value) = body.get(field) {
                stored[field] = value.clone();
            }
        }
        stored["edited_timestamp"] = json!(rfc3339(time::OffsetDateTime::now_utc()));
        let stored = stored.clone();
        s.previous_versions.insert(message, before);
        s.message_edits.push((message, stored.clone(), Instant::now()));
        Some(Ok(stored))
    });
    match edited {
        Some(Ok(message)) => axum::Json(message).into_response(),
        Some(Err(StatusCode::TOO_MANY_REQUESTS)) => (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({
                "message": "Maximum number of edits to messages older than 1 hour reached. Try again later.",
                "code": 30046, "retry_after": 60.0, "global": false,
            })),
        )
            .into_response(),
        Some(Err(_)) => discord_error(StatusCode::FORBIDDEN, 50005, "Cannot edit a message authored by another user"),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

/// `DELETE /channels/{channel}/messages/{message}`: the bot deletes one of its own messages (and its pin).
pub(super) async fn delete_message(
    State(app): State<App>,
    Path((channel, message)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let deleted = app.with(|s| {
        let stored = s.messages.get(&message).filter(|m| in_channel(m, channel))?;
        if stored["author"]["id"].as_str() != Some(APP_ID.to_string().as_str()) {
            return Some(false);
        }
        s.messages.remove(&message);
        s.pins.retain(|&(c, m)| (c, m) != (channel, message));
        s.deletions.push((channel, message));
        Some(true)
    });
    match deleted {
        Some(true) => StatusCode::NO_CONTENT.into_response(),
        Some(false) => discord_error(StatusCode::FORBIDDEN, 50003, "Cannot execute action on this channel type"),
        None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
    }
}

/// Whether a stored message is in `channel` (ids are strings in Discord's JSON).
fn in_channel(message: &Value, channel: u64) -> bool {
    message["channel_id"].as_str().and_then(|id| id.parse::<u64>().ok()) == Some(channel)
}

/// `GET /guilds/{guild}`: the server, with its `preferred_locale`.
pub(super) async fn guild(State(app): State<App>, Path(guild): Path<u64>, headers: HeaderMap) -> Response {
    if let Some(refused) = app.admit_bot_call(&headers, None).await {
        return refused;
    }
    let locale = app.with(|s| s.preferred_locales.get(&guild).cloned()).unwrap_or_else(|| "en-US".into());
    axum::Json(json!({
        "id": guild.to_string(), "name": "Incidents", "icon": null, "splash": null, "discovery_splash": null,
        "owner_id": "700000000000000009", "afk_channel_id": null, "afk_timeout": 300, "verification_level": 1,
        "default_message_notifications": 1, "explicit_content_filter": 2, "roles": [], "emojis": [],
        "features": ["COMMUNITY"], "mfa_level": 0, "application_id": null, "system_channel_id": null,
        "system_channel_flags": 0, "rules_channel_id": null, "vanity_url_code": null, "description": null,
        "banner": null, "premium_tier": 0, "preferred_locale": locale, "public_updates_channel_id": null,
        "nsfw_level": 0, "premium_progress_bar_enabled": false, "stickers": [],
    }))
    .into_response()
}
