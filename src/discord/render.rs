//! What the bot posts, as Discord shows it: pure functions from the domain to serenity's builders, no I/O.
//! Everything from people, Graph or Teams is cleaned and escaped ([`text`]) and cut to Discord's limits.
//!
//! - [`announcement`]: a bridge's announcement (embed and buttons);
//! - [`attendance_answer`]: who was on the bridge's calls, for the Attendance button;
//! - [`live_embed`]: the live status a bridge's announcement carries;
//! - [`ring_line`]: the public line of one ring, as it goes;
//! - [`text`]: Discord's limits, escaping and cleaning.

pub mod announcement;
pub mod attendance_answer;
pub mod live_embed;
pub mod ring_line;
pub mod text;
