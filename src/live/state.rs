//! What the channel knows about the calls on one bridge: the latest call's start and end and who is on it.
//!
//! Graph sends this as events (started, ended, roster deltas) that reach any process, in any order. The state
//! is a join-semilattice: the start and end times seen (the latest few of each), and per person the latest
//! change. Folding the same events in any order, any number of times, or merging two states, gives the same
//! state, so two processes that each fold their own events into what the other wrote converge.
//!
//! What the channel sees is derived from it, by `eventDateTime`:
//! - the latest call begins at the earliest evidence of a call (a start, or a roster change) after the last
//!   end before the latest evidence; everything at or before that end (`after`) belongs to a call that is
//!   over, so a late event from it can't bring it back to life;
//! - the call has ended when an end is at or after its latest evidence;
//! - each person's presence is the one from their latest change (on a tie, left beats on the call beats in
//!   the lobby); they joined this call if they were on it after `after`.
//!
//! It travels in the announcement (see [`CallState::encode`]), bounded: past what fits, those who left are
//! counted instead of listed, then the names of those beyond the shown ones are dropped.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Where someone is in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Presence {
    /// Waiting in the lobby, not yet on the call.
    Lobby = 0,
    OnCall = 1,
    Left = 2,
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

/// One person joining, waiting or leaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    /// Who: a short hash of their identity's id (or the participant id), never the id itself.
    pub key: String,
    /// Their display name as Teams gave it, not yet cleaned.
    pub name: Option<String>,
    pub presence: Presence,
}

/// One person in the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub presence: Presence,
    /// When their presence last changed.
    pub at: Millis,
    /// The latest time they were seen on the call (not only in the lobby).
    pub on_call_at: Option<Millis>,
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

/// The longest display name kept: longer ones are cut (the announcement shows less still).
pub const NAME_KEPT: usize = 40;

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
    pub fn with_presence(&self, presence: Presence) -> Vec<&Person> {
        let mut people: Vec<&Person> =
            self.people.values().filter(|p| p.presence == presence && self.in_latest_call(p.at)).collect();
        people.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.name.cmp(&b.name)));
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

    fn roster(&mut self, t: Millis, change: &RosterChange) {
        let name = change.name.as_deref().map(|n| n.chars().take(NAME_KEPT).collect::<String>());
        let person = self.people.entry(change.key.clone()).or_insert(Person {
            name: None,
            presence: change.presence,
            at: t,
            on_call_at: None,
        });
        if change.presence == Presence::OnCall {
            person.on_call_at = Some(person.on_call_at.map_or(t, |seen| seen.max(t)));
        }
        let newer = t > person.at || (t == person.at && change.presence >= person.presence);
        if newer {
            person.presence = change.presence;
            person.at = t;
        }
        if (newer && name.is_some()) || person.name.is_none() {
            person.name = name.or(person.name.take());
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
            self.people.retain(|_, p| p.at > after);
            for person in self.people.values_mut() {
                person.on_call_at = person.on_call_at.filter(|&t| t > after);
            }
        }
    }
}

/// The marker before the state in a carrier URL's fragment; a new encoding gets a new version.
pub const MARKER: &str = "meetnow-live-1.";

/// The state as written down: short keys, times in milliseconds after `base` (the earliest time in it), which
/// keeps each of them a few digits instead of thirteen.
#[derive(Serialize, Deserialize, Default)]
struct Wire {
    #[serde(rename = "b", default)]
    base: Millis,
    #[serde(rename = "s", default)]
    starts: Vec<Millis>,
    #[serde(rename = "e", default)]
    ends: Vec<Millis>,
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    departed_uncounted: Option<(Option<Millis>, u32)>,
    #[serde(rename = "p", default)]
    people: Vec<WirePerson>,
}

/// `[key, presence, at, on_call_at, name]`.
#[derive(Serialize, Deserialize)]
struct WirePerson(
    String,
    u8,
    Millis,
    #[serde(default)] Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")] Option<String>,
);

/// The people shown by name in the announcement; beyond them names are only kept while they fit.
pub const NAMES_SHOWN: usize = 15;

/// People read from one state: far more than fit in a link.
const MAX_PEOPLE_READ: usize = 1000;

impl CallState {
    /// The state as `MARKER` + base64url JSON, at most `budget` characters long: when it doesn't fit, those
    /// who left are counted instead of listed (oldest first), then names beyond [`NAMES_SHOWN`] are dropped,
    /// then the people who joined earliest. `None` when there is nothing to write.
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
        let base = times.chain(self.people.values().map(|p| p.at)).min().unwrap_or_default();
        let off = |t: Millis| t.saturating_sub(base);
        let wire = Wire {
            base,
            starts: self.starts.iter().copied().map(off).collect(),
            ends: self.ends.iter().copied().map(off).collect(),
            departed_uncounted: (self.departed_uncounted.1 > 0).then_some(self.departed_uncounted),
            people: self
                .people
                .iter()
                .map(|(key, p)| {
                    WirePerson(key.clone(), p.presence as u8, off(p.at), p.on_call_at.map(off), p.name.clone())
                })
                .collect(),
        };
        // Serialising plain data can't fail; an empty state is the safe fallback regardless.
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// One step smaller (see [`CallState::encode`]).
    fn shrink(&mut self) {
        let after = self.after();
        let oldest_left = self
            .people
            .iter()
            .filter(|(_, p)| p.presence == Presence::Left)
            .min_by_key(|(_, p)| p.at)
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
            self.people.iter().filter(|(_, p)| p.name.is_some()).map(|(k, p)| (p.at, k.clone())).collect();
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
                .min_by_key(|(_, p)| p.at)
                .map(|(k, _)| k.clone())
        };
        if let Some(key) = oldest(false).or_else(|| oldest(true)) {
            self.people.remove(&key);
        }
    }

    /// Reads what [`CallState::encode`] wrote, from anything that contains it (a URL). `None` when there is no
    /// marker or what follows it is not a state: the caller then starts from nothing.
    pub fn decode(text: &str) -> Option<Self> {
        let (_, encoded) = text.split_once(MARKER)?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(encoded.trim_end()).ok()?;
        let wire: Wire = serde_json::from_slice(&json).ok()?;
        let base = wire.base;
        let at = |offset: Millis| base.saturating_add(offset);
        let people = wire
            .people
            .into_iter()
            .take(MAX_PEOPLE_READ)
            .filter_map(|WirePerson(key, presence, offset, on_call_at, name)| {
                let presence = match presence {
                    0 => Presence::Lobby,
                    1 => Presence::OnCall,
                    2 => Presence::Left,
                    _ => return None,
                };
                let name = name.map(|n| n.chars().take(NAME_KEPT).collect());
                let (at, on_call_at) = (at(offset), on_call_at.map(at));
                Some((key.chars().take(32).collect(), Person { name, presence, at, on_call_at }))
            })
            .collect();
        let mut state = Self {
            starts: wire.starts.into_iter().map(at).collect(),
            ends: wire.ends.into_iter().map(at).collect(),
            people,
            departed_uncounted: wire.departed_uncounted.unwrap_or_default(),
        };
        state.prune();
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roster(at: Millis, who: &[(&str, Presence)]) -> CallEvent {
        let changes = who
            .iter()
            .map(|(name, presence)| RosterChange {
                key: name.to_string(),
                name: Some(name.to_string()),
                presence: *presence,
            })
            .collect();
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
        state.with_presence(presence).iter().filter_map(|p| p.name.clone()).collect()
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
    fn encoding_round_trips_and_shrinks_to_its_budget() {
        use Presence::*;
        let mut events = vec![started(0)];
        for i in 0..200 {
            let name = format!("Person number {i:03} with a long display name");
            events.push(CallEvent {
                at: 1_000 + i,
                change: Change::Roster(vec![RosterChange {
                    key: format!("k{i:07}"),
                    name: Some(name),
                    presence: if i % 3 == 0 { Left } else { OnCall },
                }]),
            });
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
        assert!(CallState::decode("https://x/#meetnow-live-1.!!!").is_none());
        assert!(CallState::decode("https://x/").is_none());
    }

    fn event() -> impl Strategy<Value = CallEvent> {
        let presence = prop_oneof![Just(Presence::Lobby), Just(Presence::OnCall), Just(Presence::Left)];
        let change = prop_oneof![
            Just(Change::Started),
            Just(Change::Ended),
            prop::collection::vec((0u8..5, presence), 1..3).prop_map(|who| {
                Change::Roster(
                    who.into_iter()
                        .map(|(k, presence)| RosterChange {
                            key: format!("p{k}"),
                            name: Some(format!("P{k}")),
                            presence,
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
            let written_by_them = fold(theirs);
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

    /// How many people with a typical name (about 15 characters) the link keeps by name, all of them.
    #[test]
    fn the_link_keeps_about_thirty_people_by_name() {
        let mut state = CallState::default();
        state.apply(&CallEvent { at: 1_796_094_000_000, change: Change::Started });
        let mut kept = 0;
        for i in 0..80 {
            state.apply(&CallEvent {
                at: 1_796_094_000_000 + 60_000 + i * 7_919,
                change: Change::Roster(vec![RosterChange {
                    key: format!("k{i:07}"),
                    name: Some(format!("Firstname Ln{i:02}")),
                    presence: Presence::OnCall,
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
