//! What the channel knows about the calls on one bridge: the latest call's start and end and who is on it.
//!
//! Graph sends this as events (started, ended, roster deltas) that reach any process, in any order. The state
//! is a join-semilattice: the start and end times seen (the latest few of each), and per person, per device
//! (Graph's participant: one person on a laptop and a phone is two participants with one identity), the
//! latest change. Folding the same events in any order, any number of times, or merging two states, gives
//! the same state, so two processes that each fold their own events into what the other wrote converge.
//!
//! A device's latest change is the greatest by `eventDateTime`, then by Graph's `rosterSequenceNumber` where
//! the events carry it (it orders deltas stamped with the same time), then by presence (left beats on the
//! call beats in the lobby): a total order, so the register converges whatever the order of arrival. Time
//! comes first because time is also what places a change in a call: a change that won by its sequence
//! number alone could be dropped with the call before it in one order of arrival and not in another.
//!
//! What the channel sees is derived from it, by `eventDateTime`:
//! - the latest call begins at the earliest evidence of a call (a start, or a roster change) after the last
//!   end before the latest evidence; everything at or before that end (`after`) belongs to a call that is
//!   over, so a late event from it can't bring it back to life;
//! - the call has ended when an end is at or after its latest evidence;
//! - a person is on the call while any of their devices is, in the lobby while any is and none is on the
//!   call, and has left once every device has; they joined this call if a device was on it after `after`.
//!
//! It travels in the announcement ([`carried`]: [`CallState::encode`], [`CallState::decode`]), bounded: past
//! what fits, those who left are counted instead of listed, then the names of those beyond the shown ones
//! are dropped.

mod carried;
#[cfg(test)]
mod tests;

pub use carried::{carries_state, MARKER, NAMES_SHOWN};

use std::collections::{BTreeMap, BTreeSet};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Where someone is in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Presence {
    /// Waiting in the lobby, not yet on the call.
    Lobby = 0,
    OnCall = 1,
    Left = 2,
}

impl Presence {
    pub(super) fn from_wire(value: u64) -> Option<Self> {
        match value {
            0 => Some(Self::Lobby),
            1 => Some(Self::OnCall),
            2 => Some(Self::Left),
            _ => None,
        }
    }
}

/// One event on the bridge, as [`super::events`] reads it from Graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub at: Millis,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Started,
    Ended,
    Roster(Vec<RosterChange>),
}

/// One participant (a person's device) joining, waiting or leaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    /// Who: a short keyed hash of their identity's id (or of the participant id), never the id itself.
    pub person: String,
    /// Which of their devices: a short keyed hash of the participant id (empty when Graph gives none).
    pub device: String,
    /// Their display name, already cut to [`NAME_KEPT`], not yet cleaned.
    pub name: Option<String>,
    pub presence: Presence,
    /// Graph's `rosterSequenceNumber` for this participant, when the event carries it.
    pub sequence: Option<i64>,
}

/// One device's latest change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub presence: Presence,
    /// `eventDateTime` of the change.
    pub at: Millis,
    pub sequence: Option<i64>,
}

impl Device {
    /// The order of changes to one device (see the module docs).
    fn order(&self) -> (Millis, Option<i64>, Presence) {
        (self.at, self.sequence, self.presence)
    }
}

/// One person in the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    /// By device key.
    pub devices: BTreeMap<String, Device>,
    /// The latest time a device of theirs was seen on the call (not only in the lobby).
    pub on_call_at: Option<Millis>,
}

impl Person {
    /// On the call if any device is, in the lobby if any is (and none is on the call), else left.
    pub fn presence(&self) -> Presence {
        let any = |p: Presence| self.devices.values().any(|d| d.presence == p);
        if any(Presence::OnCall) {
            Presence::OnCall
        } else if any(Presence::Lobby) {
            Presence::Lobby
        } else {
            Presence::Left
        }
    }

    /// Since when they have had their presence: the earliest device to get it (on the call, in the lobby), or
    /// the last device to leave.
    pub fn since(&self) -> Millis {
        let presence = self.presence();
        let times = self.devices.values().filter(|d| d.presence == presence).map(|d| d.at);
        let since = if presence == Presence::Left { times.max() } else { times.min() };
        since.unwrap_or_default()
    }

    /// Their latest change on any device.
    pub fn latest(&self) -> Millis {
        self.devices.values().map(|d| d.at).max().unwrap_or_default()
    }

    /// The order of their latest change: the name that came with it is the one kept.
    fn latest_order(&self) -> Option<(Millis, Option<i64>, Presence)> {
        self.devices.values().map(Device::order).max()
    }
}

/// Someone as the announcement lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown<'a> {
    pub name: Option<&'a str>,
    pub since: Millis,
}

/// The events of a bridge, merged (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallState {
    /// `callStarted` times and the times of roster changes (evidence of a call): the latest few.
    pub starts: BTreeSet<Millis>,
    /// `callEnded` times: the latest few.
    pub ends: BTreeSet<Millis>,
    pub people: BTreeMap<String, Person>,
    /// People of the current call dropped from `people` to fit the announcement, as (after, count): the
    /// count holds for the call after `after`.
    pub departed_uncounted: (Option<Millis>, u32),
}

/// Start and end times kept: enough for a late event from the previous calls to be placed.
const MARKERS_KEPT: usize = 6;

/// The longest display name kept: longer ones are cut when read (the announcement shows less still).
pub const NAME_KEPT: usize = 40;

/// Devices kept per person: a person is rarely on more than two or three at once.
pub(super) const DEVICES_KEPT: usize = 8;

/// The latest call, as derived from a [`CallState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Latest {
    /// The end of the call before it.
    after: Option<Millis>,
    started: Option<Millis>,
    ended: Option<Millis>,
}

impl CallState {
    fn latest(&self) -> Latest {
        let Some(&last_start) = self.starts.last() else {
            return Latest { after: None, started: None, ended: self.ends.last().copied() };
        };
        let after = self.ends.range(..last_start).next_back().copied();
        let started = match after {
            Some(after) => self.starts.range(after + 1..).next().copied(),
            None => self.starts.first().copied(),
        };
        let ended = self.ends.range(last_start..).next_back().copied();
        Latest { after, started, ended }
    }

    /// The end of the previous call: nothing at or before it is about the latest call.
    pub fn after(&self) -> Option<Millis> {
        self.latest().after
    }

    /// When the latest call started (its earliest evidence).
    pub fn started(&self) -> Option<Millis> {
        self.latest().started
    }

    /// When the latest call ended, if it has.
    pub fn ended(&self) -> Option<Millis> {
        self.latest().ended
    }

    /// Whether anything at all is known (before the first call, the announcement shows nothing extra).
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty() && self.ends.is_empty()
    }

    /// Whether a call is running now, as far as the events say.
    pub fn is_live(&self) -> bool {
        let latest = self.latest();
        latest.started.is_some() && latest.ended.is_none()
    }

    fn in_latest_call(&self, at: Millis) -> bool {
        self.after().is_none_or(|after| at > after)
    }

    /// Everyone of the latest call with this presence, in the order they got it.
    pub fn with_presence(&self, presence: Presence) -> Vec<Shown<'_>> {
        let mut people: Vec<Shown<'_>> = self
            .people
            .values()
            .filter(|p| p.presence() == presence && self.in_latest_call(p.latest()))
            .map(|p| Shown { name: p.name.as_deref(), since: p.since() })
            .collect();
        people.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.name.cmp(&b.name)));
        people
    }

    /// How many people were on the latest call at some point.
    pub fn joined_count(&self) -> u32 {
        let after = self.after();
        let dropped = if self.departed_uncounted.0 == after { self.departed_uncounted.1 } else { 0 };
        dropped + self.people.values().filter(|p| p.on_call_at.is_some_and(|t| self.in_latest_call(t))).count() as u32
    }

    /// Folds one event in (see the module docs).
    pub fn apply(&mut self, event: &CallEvent) {
        match &event.change {
            Change::Started => {
                self.starts.insert(event.at);
            }
            Change::Ended => {
                self.ends.insert(event.at);
            }
            Change::Roster(changes) => {
                self.starts.insert(event.at);
                for change in changes {
                    self.roster(event.at, change);
                }
            }
        }
        self.prune();
    }

    fn roster(&mut self, at: Millis, change: &RosterChange) {
        let name = change.name.as_deref().map(|n| n.chars().take(NAME_KEPT).collect::<String>());
        let person = self.people.entry(change.person.clone()).or_insert(Person {
            name: None,
            devices: BTreeMap::new(),
            on_call_at: None,
        });
        if change.presence == Presence::OnCall {
            person.on_call_at = Some(person.on_call_at.map_or(at, |seen| seen.max(at)));
        }
        let incoming = Device { presence: change.presence, at, sequence: change.sequence };
        let latest_before = person.latest_order();
        let device = person.devices.entry(change.device.clone()).or_insert(incoming);
        if incoming.order() > device.order() {
            *device = incoming;
        }
        // The name of the person's latest change wins; on a tie, the greater name, so any order agrees.
        let newest = latest_before.is_none_or(|before| incoming.order() > before);
        let tie = latest_before == Some(incoming.order());
        match name {
            Some(name) if newest || person.name.is_none() || (tie && person.name.as_ref() < Some(&name)) => {
                person.name = Some(name);
            }
            _ => {}
        }
        if person.devices.len() > DEVICES_KEPT {
            // Those that left longest ago go first: they no longer decide where the person is.
            if let Some(oldest) = person.devices.iter().min_by_key(|(_, d)| (d.presence != Presence::Left, d.at)) {
                let key = oldest.0.clone();
                person.devices.remove(&key);
            }
        }
    }

    /// Keeps the latest [`MARKERS_KEPT`] times of each kind, and drops people whose every change was before
    /// the latest call.
    pub(super) fn prune(&mut self) {
        while self.starts.len() > MARKERS_KEPT {
            self.starts.pop_first();
        }
        while self.ends.len() > MARKERS_KEPT {
            self.ends.pop_first();
        }
        if let Some(after) = self.after() {
            // What is about an earlier call is dropped, so every order of the same events leaves the same state.
            for person in self.people.values_mut() {
                person.devices.retain(|_, d| d.at > after);
                person.on_call_at = person.on_call_at.filter(|&t| t > after);
            }
            self.people.retain(|_, p| !p.devices.is_empty());
        }
    }
}
