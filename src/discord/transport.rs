//! How meetnow and Discord reach each other: the gateway websocket ([`gateway`]), Discord's Interactions
//! Endpoint URL ([`endpoint`], with [`signature`]), and REST ([`rest`]) within Discord's rate limits, kept by
//! this process's limiter ([`ratelimit`]: in process for the hot path, [`direct`]; through its forwarder for
//! serenity's other calls). Nothing here decides what a command does; it hands interactions
//! to the bot.

pub mod direct;
pub mod endpoint;
pub mod gateway;
pub mod ratelimit;
pub mod rest;
pub mod signature;
