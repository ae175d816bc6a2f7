//! The Discord side: how commands arrive (the gateway, or the interactions endpoint), REST within Discord's
//! rate limits, `/meetnow`'s registration, the handler and what it posts.
//!
//! Uses `graph` for meetings and never builds a Graph URL or reads Graph JSON. The serenity `Http` shares
//! the reqwest client with the Graph module (one connection pool, one TLS stack). Discord's rate limits are
//! kept by [`ratelimit`] (`DISCORD_RATELIMIT=local`, whatever `DISCORD_API_URL` is), or left to a proxy at
//! `DISCORD_API_URL` (`proxy`). What starts and stops the process is [`crate::app`]'s.

pub mod access;
pub mod announce;
pub mod attendance;
pub mod command;
pub mod endpoint;
pub mod gateway;
mod handler;
pub mod live;
pub mod ratelimit;
pub mod rest;
pub mod signature;
pub mod text;

pub use command::bot_permissions;
pub use handler::{is_new_to_the_channel, Bot, FirstResponse, LiveSink};

use std::time::Duration;

/// How long an interaction token lives (edits, follow-ups), from when Discord issued the interaction.
pub const INTERACTION_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
