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
//! It travels in the announcement (see [`CallState::encode`]), bounded: past what fits, those who left are
//! counted instead of listed, then the names of those beyond the shown ones are dropped.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{json, Value};

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
    fn from_wire(value: u64) -> Option<Self> {
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
const DEVICES_KEPT: usize = 8;

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
    fn prune(&mut self) {
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

/// The marker before the state in a carrier URL's fragment; a new encoding gets a new version. Version 1 (one
/// presence per person) is still read.
pub const MARKER: &str = "meetnow-live-2.";
const MARKER_V1: &str = "meetnow-live-1.";

/// Whether `link` carries a state (of any version): the live-status part of an announcement.
pub fn carries_state(link: &str) -> bool {
    link.contains(MARKER) || link.contains(MARKER_V1)
}

/// The people shown by name in the announcement; beyond them names are only kept while they fit.
pub const NAMES_SHOWN: usize = 15;

/// People read from one state: far more than fit in a link.
const MAX_PEOPLE_READ: usize = 1000;

/// Keys read from a state are at most this long (ours are 8 characters, devices 3).
const KEY_READ_MAX: usize = 32;

impl CallState {
    /// The state as `MARKER` + base64url JSON, at most `budget` characters long: when it doesn't fit, those
    /// who left are counted instead of listed (oldest first), then names beyond [`NAMES_SHOWN`] are dropped,
    /// then the people who joined earliest. `None` when there is nothing to write.
    ///
    /// The JSON is `{"b": base, "s": [starts], "e": [ends], "d": [after, count]?, "p": [person…]}` with times
    /// in milliseconds after `base` (the earliest time in it, so each is a few digits instead of thirteen),
    /// and a person `[key, name or 0, [device, presence, at, (sequence)]…, (on_call_at)]`: `on_call_at` only
    /// when it is not the time of a device on the call.
    pub fn encode(&self, budget: usize) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut state = self.clone();
        loop {
            let encoded = format!("{MARKER}{}", state.encode_whole());
            if encoded.len() <= budget || state.people.is_empty() {
                return Some(encoded);
            }
            state.shrink();
        }
    }

    fn encode_whole(&self) -> String {
        let times = self.starts.iter().chain(&self.ends).copied();
        let device_times = self.people.values().flat_map(|p| p.devices.values().map(|d| d.at));
        let base = times.chain(device_times).min().unwrap_or_default();
        let off = |t: Millis| t.saturating_sub(base);
        let people: Vec<Value> = self
            .people
            .iter()
            .map(|(key, person)| {
                let mut entry = vec![json!(key), person.name.as_ref().map_or(json!(0), |name| json!(name))];
                for (device_key, device) in &person.devices {
                    let mut wire = vec![json!(device_key), json!(device.presence as u8), json!(off(device.at))];
                    if let Some(sequence) = device.sequence {
                        wire.push(json!(sequence));
                    }
                    entry.push(Value::Array(wire));
                }
                if person.on_call_at != person.derived_on_call_at() {
                    if let Some(at) = person.on_call_at {
                        entry.push(json!(off(at)));
                    }
                }
                Value::Array(entry)
            })
            .collect();
        let mut wire = json!({
            "b": base,
            "s": self.starts.iter().copied().map(off).collect::<Vec<_>>(),
            "e": self.ends.iter().copied().map(off).collect::<Vec<_>>(),
            "p": people,
        });
        if self.departed_uncounted.1 > 0 {
            wire["d"] = json!([self.departed_uncounted.0, self.departed_uncounted.1]);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wire.to_string())
    }

    /// One step smaller (see [`CallState::encode`]).
    fn shrink(&mut self) {
        let after = self.after();
        let oldest_left = self
            .people
            .iter()
            .filter(|(_, p)| p.presence() == Presence::Left)
            .min_by_key(|(_, p)| p.since())
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest_left {
            if self.people.remove(&key).is_some_and(|p| p.on_call_at.is_some_and(|t| after.is_none_or(|a| t > a))) {
                let (counted_after, count) = self.departed_uncounted;
                let count = if counted_after == after { count } else { 0 };
                self.departed_uncounted = (after, count + 1);
            }
            return;
        }
        let mut named: Vec<(Millis, String)> =
            self.people.iter().filter(|(_, p)| p.name.is_some()).map(|(k, p)| (p.since(), k.clone())).collect();
        named.sort();
        if named.len() > NAMES_SHOWN {
            if let Some(person) = named.last().and_then(|(_, key)| self.people.get_mut(key)) {
                person.name = None;
                return;
            }
        }
        // The people shown by name stay longest.
        let oldest = |named: bool| {
            self.people
                .iter()
                .filter(|(_, p)| p.name.is_some() == named)
                .min_by_key(|(_, p)| p.since())
                .map(|(k, _)| k.clone())
        };
        if let Some(key) = oldest(false).or_else(|| oldest(true)) {
            self.people.remove(&key);
        }
    }

    /// Reads what [`CallState::encode`] wrote (or version 1 of it), from anything that contains it (a URL).
    /// `None` when there is no marker or what follows it is not a state: the caller then starts from nothing.
    pub fn decode(text: &str) -> Option<Self> {
        let (version, encoded) = match text.split_once(MARKER) {
            Some((_, encoded)) => (2, encoded),
            None => (1, text.split_once(MARKER_V1)?.1),
        };
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end()).ok()?;
        let wire: Value = serde_json::from_slice(&json).ok()?;
        let base = wire.get("b").and_then(Value::as_i64).unwrap_or_default();
        let at = |offset: &Value| offset.as_i64().map(|offset| base.saturating_add(offset));
        let times = |name: &str| -> BTreeSet<Millis> {
            wire.get(name)
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(at).collect())
                .unwrap_or_default()
        };
        let read_person = if version == 2 { person_v2 } else { person_v1 };
        let people = wire
            .get("p")
            .and_then(Value::as_array)
            .map(|list| list.iter().take(MAX_PEOPLE_READ).filter_map(|entry| read_person(entry, &at)).collect())
            .unwrap_or_default();
        let departed = wire.get("d").and_then(Value::as_array).and_then(|pair| {
            let count = u32::try_from(pair.get(1)?.as_u64()?).ok()?;
            Some((pair.first()?.as_i64(), count))
        });
        let mut state =
            Self { starts: times("s"), ends: times("e"), people, departed_uncounted: departed.unwrap_or_default() };
        state.prune();
        Some(state)
    }
}

impl Person {
    /// What `on_call_at` is when the wire leaves it out: the latest device on the call's time.
    fn derived_on_call_at(&self) -> Option<Millis> {
        self.devices.values().filter(|d| d.presence == Presence::OnCall).map(|d| d.at).max()
    }
}

fn key_of(value: &Value) -> Option<String> {
    value.as_str().filter(|key| key.len() <= KEY_READ_MAX).map(str::to_owned)
}

fn name_of(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(|name| name.chars().take(NAME_KEPT).collect())
}

/// A version 2 person: `[key, name or 0, [device, presence, at, (sequence)]…, (on_call_at)]`.
fn person_v2(entry: &Value, at: &impl Fn(&Value) -> Option<Millis>) -> Option<(String, Person)> {
    let entry = entry.as_array()?;
    let key = key_of(entry.first()?)?;
    let name = name_of(entry.get(1));
    let mut devices = BTreeMap::new();
    let mut on_call_at = None;
    for item in entry.iter().skip(2) {
        match item {
            Value::Array(device) => {
                let presence = Presence::from_wire(device.get(1)?.as_u64()?)?;
                let device_at = at(device.get(2)?)?;
                let sequence = device.get(3).and_then(Value::as_i64);
                if devices.len() < DEVICES_KEPT {
                    devices.insert(key_of(device.first()?)?, Device { presence, at: device_at, sequence });
                }
            }
            number => on_call_at = at(number),
        }
    }
    if devices.is_empty() {
        return None;
    }
    let mut person = Person { name, devices, on_call_at: None };
    person.on_call_at = on_call_at.max(person.derived_on_call_at());
    Some((key, person))
}

/// A version 1 person, `[key, presence, at, on_call_at, name]`: one device.
fn person_v1(entry: &Value, at: &impl Fn(&Value) -> Option<Millis>) -> Option<(String, Person)> {
    let entry = entry.as_array()?;
    let key = key_of(entry.first()?)?;
    let presence = Presence::from_wire(entry.get(1)?.as_u64()?)?;
    let device = Device { presence, at: at(entry.get(2)?)?, sequence: None };
    let on_call_at = entry.get(3).and_then(at);
    let devices = BTreeMap::from([(String::new(), device)]);
    Some((key, Person { name: name_of(entry.get(4)), devices, on_call_at }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn change(person: &str, device: &str, presence: Presence) -> RosterChange {
        RosterChange {
            person: person.to_string(),
            device: device.to_string(),
            name: Some(person.to_string()),
            presence,
            sequence: None,
        }
    }

    fn roster(at: Millis, who: &[(&str, Presence)]) -> CallEvent {
        let changes = who.iter().map(|(name, presence)| change(name, "", *presence)).collect();
        CallEvent { at, change: Change::Roster(changes) }
    }

    fn started(at: Millis) -> CallEvent {
        CallEvent { at, change: Change::Started }
    }

    fn ended(at: Millis) -> CallEvent {
        CallEvent { at, change: Change::Ended }
    }

    fn fold(events: &[CallEvent]) -> CallState {
        let mut state = CallState::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    fn names(state: &CallState, presence: Presence) -> Vec<String> {
        state.with_presence(presence).iter().filter_map(|p| p.name.map(str::to_owned)).collect()
    }

    #[test]
    fn a_call_with_a_roster_then_its_end() {
        use Presence::*;
        let events = [
            started(1_000),
            roster(2_000, &[("Ana", OnCall), ("Bo", Lobby)]),
            roster(3_000, &[("Bo", OnCall), ("Cy", OnCall)]),
            roster(4_000, &[("Ana", Left)]),
        ];
        let live = fold(&events);
        assert!(live.is_live());
        assert_eq!(names(&live, OnCall), ["Bo", "Cy"]);
        assert_eq!(live.joined_count(), 3);
        let mut over = live.clone();
        over.apply(&ended(9_000));
        assert!(!over.is_live());
        assert_eq!((over.started(), over.ended(), over.joined_count()), (Some(1_000), Some(9_000), 3));
    }

    #[test]
    fn a_person_on_two_devices_leaves_only_when_both_have() {
        use Presence::*;
        let both = CallEvent {
            at: 2_000,
            change: Change::Roster(vec![change("Ana", "laptop", OnCall), change("Ana", "phone", OnCall)]),
        };
        let phone_leaves = CallEvent { at: 3_000, change: Change::Roster(vec![change("Ana", "phone", Left)]) };
        let state = fold(&[started(1_000), both.clone(), phone_leaves]);
        assert_eq!(names(&state, OnCall), ["Ana"], "still on the laptop");
        assert_eq!(state.joined_count(), 1, "one person, not two");
        let laptop_leaves = CallEvent { at: 4_000, change: Change::Roster(vec![change("Ana", "laptop", Left)]) };
        let mut gone = state.clone();
        gone.apply(&laptop_leaves);
        assert!(names(&gone, OnCall).is_empty());
        assert_eq!(names(&gone, Left), ["Ana"]);
    }

    #[test]
    fn the_roster_sequence_number_orders_a_participants_changes_stamped_alike() {
        use Presence::*;
        // Two deltas in the same second: the rejoin (sequence 7) came after the leave (sequence 6), which
        // presence alone would have put last.
        let mut leave = change("Ana", "p1", Left);
        leave.sequence = Some(6);
        let mut rejoin = change("Ana", "p1", OnCall);
        rejoin.sequence = Some(7);
        for order in [[leave.clone(), rejoin.clone()], [rejoin.clone(), leave.clone()]] {
            let events: Vec<CallEvent> = std::iter::once(started(1_000))
                .chain(order.into_iter().map(|c| CallEvent { at: 2_000, change: Change::Roster(vec![c]) }))
                .collect();
            assert_eq!(names(&fold(&events), OnCall), ["Ana"]);
        }
    }

    #[test]
    fn a_late_event_from_before_the_end_does_not_bring_the_call_back() {
        use Presence::*;
        let state = fold(&[started(1_000), ended(5_000), roster(4_000, &[("Ana", OnCall)])]);
        assert!(!state.is_live());
        assert_eq!(state.joined_count(), 1, "still counted as having joined");
    }

    #[test]
    fn the_next_call_replaces_the_last_and_its_stragglers_are_ignored() {
        use Presence::*;
        let state = fold(&[
            started(1_000),
            ended(5_000),
            started(10_000),
            roster(4_000, &[("Old", OnCall)]),
            roster(11_000, &[("New", OnCall)]),
        ]);
        assert!(state.is_live());
        assert_eq!((state.after(), state.started()), (Some(5_000), Some(10_000)));
        assert_eq!(names(&state, OnCall), ["New"]);
    }

    #[test]
    fn an_older_leave_does_not_undo_a_later_join() {
        use Presence::*;
        let state = fold(&[started(0), roster(3_000, &[("Ana", OnCall)]), roster(2_000, &[("Ana", Left)])]);
        assert_eq!(names(&state, OnCall), ["Ana"]);
    }

    #[test]
    fn version_one_states_are_still_read() {
        // A state as the previous release wrote it: Ana on the call since base + 10 s, Bo left.
        let wire = json!({"b": 1_796_094_000_000i64, "s": [0], "e": [], "p": [
            ["AAAAAAAA", 1, 10_000, 10_000, "Ana"], ["BBBBBBBB", 2, 20_000, 15_000, "Bo"]
        ]});
        let url = format!(
            "https://x/graph/live#meetnow-live-1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(wire.to_string())
        );
        let state = CallState::decode(&url).unwrap();
        assert!(state.is_live());
        assert_eq!(names(&state, Presence::OnCall), ["Ana"]);
        assert_eq!(names(&state, Presence::Left), ["Bo"]);
        assert_eq!(state.joined_count(), 2);
        assert!(state.encode(2000).unwrap().starts_with(MARKER), "written back as version 2");
    }

    #[test]
    fn encoding_round_trips_and_shrinks_to_its_budget() {
        use Presence::*;
        let mut events = vec![started(0)];
        for i in 0..200 {
            let name = format!("Person number {i:03} with a long display name");
            let mut change = change(&format!("k{i:07}"), "d", if i % 3 == 0 { Left } else { OnCall });
            change.name = Some(name);
            events.push(CallEvent { at: 1_000 + i, change: Change::Roster(vec![change]) });
        }
        let state = fold(&events);
        let small = fold(&events[..5]);
        assert_eq!(CallState::decode(&small.encode(2000).unwrap()), Some(small));
        let encoded = state.encode(1900).unwrap();
        assert!(encoded.len() <= 1900, "{}", encoded.len());
        let shrunk = CallState::decode(&encoded).unwrap();
        assert_eq!(shrunk.started(), state.started());
        assert_eq!(
            shrunk.with_presence(OnCall).iter().filter(|p| p.name.is_some()).count().min(NAMES_SHOWN),
            NAMES_SHOWN
        );
        assert!(shrunk.joined_count() <= state.joined_count());
        assert!(CallState::decode("https://x/#meetnow-live-2.!!!").is_none());
        assert!(CallState::decode("https://x/").is_none());
    }

    fn event() -> impl Strategy<Value = CallEvent> {
        let presence = prop_oneof![Just(Presence::Lobby), Just(Presence::OnCall), Just(Presence::Left)];
        let sequence = prop_oneof![Just(None), (0i64..4).prop_map(Some)];
        let change = prop_oneof![
            Just(Change::Started),
            Just(Change::Ended),
            prop::collection::vec((0u8..4, 0u8..2, presence, sequence), 1..3).prop_map(|who| {
                Change::Roster(
                    who.into_iter()
                        .map(|(k, d, presence, sequence)| RosterChange {
                            person: format!("p{k}"),
                            device: format!("d{d}"),
                            name: Some(format!("P{k}")),
                            presence,
                            sequence,
                        })
                        .collect(),
                )
            }),
        ];
        ((0i64..40).prop_map(|t| t * 1_000), change).prop_map(|(at, change)| CallEvent { at, change })
    }

    proptest! {
        /// Two processes folding their own halves into what the other wrote, in either order, and a single
        /// process seeing everything shuffled, all end in the same state.
        #[test]
        fn any_order_and_any_split_converge(events in prop::collection::vec(event(), 1..14), seed in any::<u64>()) {
            let mut shuffled = events.clone();
            let n = shuffled.len();
            for i in 0..n {
                let j = ((seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64)) % n as u64) as usize;
                shuffled.swap(i, j);
            }
            let (mine, theirs) = shuffled.split_at(n / 2);
            let written_by_them = CallState::decode(&fold(theirs).encode(100_000).unwrap_or_default()).unwrap_or_default();
            let mut merged = written_by_them.clone();
            for e in mine { merged.apply(e); }
            // Folding twice changes nothing.
            let mut again = merged.clone();
            for e in &events { again.apply(e); }
            let sorted = {
                let mut sorted = events.clone();
                sorted.sort_by_key(|e| e.at);
                fold(&sorted)
            };
            prop_assert_eq!(&merged, &sorted);
            prop_assert_eq!(&merged, &again);
            prop_assert_eq!(CallState::decode(&merged.encode(100_000).unwrap_or_default()).unwrap_or_default(), merged);
        }
    }
}

#[cfg(test)]
mod capacity {
    use super::*;

    /// How many people with a typical name (about 15 characters), each on one device, the link keeps by name,
    /// all of them.
    #[test]
    fn the_link_keeps_about_thirty_people_by_name() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 1_796_094_000_000, change: Change::Started });
        let mut kept = 0;
        for i in 0..80 {
            state.apply(&CallEvent {
                at: 1_796_094_000_000 + 60_000 + i * 7_919,
                change: Change::Roster(vec![RosterChange {
                    person: format!("k{i:07}"),
                    device: "abc".into(),
                    name: Some(format!("Firstname Ln{i:02}")),
                    presence: Presence::OnCall,
                    sequence: None,
                }]),
            });
            let decoded = CallState::decode(&state.encode(2000).unwrap()).unwrap();
            if decoded.with_presence(Presence::OnCall).iter().filter(|p| p.name.is_some()).count() as i64 == i + 1 {
                kept = i + 1;
            }
        }
        println!("people kept by name within 2,000 characters: {kept}");
        assert!(kept >= 30, "{kept}");
    }
}
