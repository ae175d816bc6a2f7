//! The Discord side: how commands arrive (the gateway, or the interactions endpoint), REST within Discord's
//! rate limits, `/meetnow`'s registration, the handler and what it posts.
//!
//! Uses `graph` for meetings and people and `ring` for calls, and never builds a Graph URL or reads Graph JSON. The serenity `Http` shares
//! the reqwest client with the Graph module (one connection pool, one TLS stack). Discord's rate limits are
//! kept by [`ratelimit`] (`DISCORD_RATELIMIT=local`, whatever `DISCORD_API_URL` is), or left to a proxy at
//! `DISCORD_API_URL` (`proxy`). What starts and stops the process is [`crate::app`]'s.

//!
//! # Layout
//!
//! - [`transport`]: how interactions arrive and REST leaves (gateway, endpoint and its signatures, REST,
//!   the rate-limit forwarder);
//! - [`bot`]: the bot and the parts it holds (lifecycle, Discord calls, languages, pins, identity, live
//!   desks, the directory's recent answers), and [`on`]: one file per entry point (a command, its
//!   autocomplete and the ring it asks for, a button, a channel created, call events);
//! - [`render`]: what it posts (the announcement, the attendance answer, the live status, a ring's line, text
//!   rules);
//! - [`meetnow`]: the `/meetnow` command's registration and options; [`access`]: who may use the bot.

pub mod access;
pub mod bot;
pub mod meetnow;
pub mod on;
pub mod render;
pub mod transport;

pub use bot::{Bot, FirstResponse};
pub use meetnow::bot_permissions;
pub use on::call_events::LiveSink;
pub use on::command::is_new_to_the_channel;
pub use transport::{endpoint, gateway, ratelimit, rest, signature};

use std::time::Duration;

/// How long an interaction token lives (edits, follow-ups), from when Discord issued the interaction.
pub const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
