//! What happens when something arrives: one file per entry point, as mini-redis has one per command. Each is
//! `impl Bot` for that event, over the gateway and the interactions endpoint alike.
//!
//! - [`command`]: `/meetnow` typed (and [`stand_by`]: one another process acknowledged);
//! - [`button`]: the **Attendance** button clicked;
//! - [`suggest`]: `ring:` being typed (Discord's autocomplete), and [`ring`]: the ring `/meetnow ring:` asks for;
//! - [`channel_created`]: a channel or thread created whose name asks for a bridge;
//! - [`call_events`]: Graph's call events for a bridge, verified by `live`.

pub mod button;
pub mod call_events;
pub mod channel_created;
pub mod command;
pub mod ring;
pub mod stand_by;
pub mod suggest;
