//! Discord's other way of delivering commands: a signed HTTP POST to the bot's Interactions Endpoint URL,
//! with the interaction response in the HTTP answer.
//!
//! Signs the way Discord does: Ed25519 over `X-Signature-Timestamp` + body, with a key pair made for the
//! test (the bot gets the public half as `DISCORD_PUBLIC_KEY`). Commands go round-robin over the endpoints
//! given, as a load balancer without affinity sends them; the answer is checked and recorded by the Discord
//! stand-in exactly as a REST callback would be, so everything after it (edits, pins) is the same.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};

use super::discord::{DiscordStandIn, Invocation, APP_ID};

pub struct InteractionsClient {
    discord: DiscordStandIn,
    key: SigningKey,
    endpoints: Vec<String>,
    next: AtomicUsize,
    http: reqwest::Client,
    answer_delay: std::time::Duration,
}

/// What an endpoint answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl InteractionsClient {
    /// A client with a fresh key pair; `endpoints` are added later with [`Self::set_endpoints`].
    pub fn new(discord: &DiscordStandIn) -> Self {
        Self {
            discord: discord.clone(),
            key: SigningKey::from_bytes(&rand::random()),
            endpoints: Vec::new(),
            next: AtomicUsize::new(0),
            http: reqwest::Client::new(),
            answer_delay: std::time::Duration::ZERO,
        }
    }

    /// The bot's endpoints, as `http://ADDR/interactions`, served in turn.
    pub fn set_endpoints(&mut self, endpoints: Vec<String>) {
        self.endpoints = endpoints;
    }

    /// How long "Discord" takes to process an endpoint's answer: until then the interaction has no response,
    /// and an edit of it is refused with 10015, as Discord refuses one that overtakes the answer.
    pub fn set_answer_delay(&mut self, delay: std::time::Duration) {
        self.answer_delay = delay;
    }

    /// `DISCORD_PUBLIC_KEY`: the public half of the signing key, in hex.
    pub fn public_key(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// The signature Discord would send for `body` at `timestamp`.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        hex(&self.key.sign(&[timestamp.as_bytes(), body].concat()).to_bytes())
    }

    /// POSTs `body` to `endpoint` with the given signature headers (`None`: no headers at all).
    pub async fn post(&self, endpoint: &str, body: Vec<u8>, signature: Option<(String, String)>) -> Answer {
        let mut request = self.http.post(endpoint).header("content-type", "application/json").body(body);
        if let Some((signature, timestamp)) = signature {
            request = request.header("x-signature-ed25519", signature).header("x-signature-timestamp", timestamp);
        }
        let response = request.send().await.expect("the endpoint answers");
        Answer { status: response.status().as_u16(), body: response.text().await.unwrap_or_default() }
    }

    /// POSTs `body` signed as Discord signs it.
    pub async fn post_signed(&self, endpoint: &str, body: Vec<u8>) -> Answer {
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
        let signature = self.sign(&timestamp, &body);
        self.post(endpoint, body, Some((signature, timestamp))).await
    }

    /// Discord's PING, as it sends one when the endpoint URL is saved in the Developer Portal.
    pub fn ping_body() -> Vec<u8> {
        json!({"id": "1100000000000000001", "application_id": APP_ID.to_string(), "type": 1,
               "token": "cGluZw.stand-in-ping-token", "version": 1})
        .to_string()
        .into_bytes()
    }

    fn next_endpoint(&self) -> &str {
        let turn = self.next.fetch_add(1, Ordering::SeqCst);
        &self.endpoints[turn % self.endpoints.len()]
    }

    /// Delivers `/meetnow` to the next endpoint in turn and records the answer as the interaction's first
    /// response. Returns the interaction's token, the key to its record, and the endpoint it went to.
    pub async fn invoke(&self, invocation: Invocation) -> (String, String) {
        let prepared = self.discord.prepare(std::slice::from_ref(&invocation)).remove(0);
        self.deliver(prepared).await
    }

    /// Delivers any interaction the Discord stand-in prepared (a command, a click) to the next endpoint, and
    /// records the answer as its first response. Returns (token, endpoint).
    pub async fn deliver(&self, (token, payload): (String, Value)) -> (String, String) {
        let endpoint = self.next_endpoint().to_owned();
        let answer = self.post_signed(&endpoint, payload.to_string().into_bytes()).await;
        let arrived = Instant::now();
        tokio::time::sleep(self.answer_delay).await;
        assert_eq!(answer.status, 200, "the endpoint answers a signed command: {}", answer.body);
        // A refusal (late, malformed) is recorded in the interaction's errors, as Discord would count it.
        let _ = self.discord.http_answer(&token, answer.body.as_bytes(), arrived);
        (token, endpoint)
    }
}

/// An answer's JSON body.
pub fn json_body(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
