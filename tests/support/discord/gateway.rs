//! The gateway websocket: HELLO, IDENTIFY/RESUME, heartbeats, and every event to every session.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::{App, GatewayCommand, Session, APP_ID, BOT_TOKEN};
pub(super) async fn accept_gateway(listener: TcpListener, app: App) {
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

pub(super) async fn serve_gateway(ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, app: App) {
    let (mut sink, mut stream) = ws.split();
    let send = |payload: Value| WsMessage::Text(payload.to_string());
    let interval = app.inner.lock().unwrap().heartbeat_interval_ms;
    if sink.send(send(json!({"op": 10, "d": {"heartbeat_interval": interval}}))).await.is_err() {
        return;
    }
    let mut seq = 0u64;
    // What this session asked for; a RESUME continues the last IDENTIFY's session, with its intents.
    let intents;
    // The handshake: IDENTIFY starts a session, RESUME continues one.
    loop {
        let Some(Ok(WsMessage::Text(text))) = stream.next().await else { return };
        let frame: Value = serde_json::from_str(&text).unwrap_or_default();
        match frame["op"].as_u64() {
            Some(2) => {
                intents = frame["d"]["intents"].as_u64().unwrap_or(0);
                app.with(|s| s.intents.push(intents));
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
                intents = app.with(|s| s.intents.last().copied().unwrap_or(0));
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
    app.with(|s| s.gateways.push(Session { commands, intents }));
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
                Some(GatewayCommand::Gap(missed)) => seq += missed,
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
    app.with(|s| s.gateways.retain(|session| !session.commands.same_channel(&mine)));
}
