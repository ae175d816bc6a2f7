//! How a [`CallState`] travels in the announcement: in the fragment of its live-status link, as
//! `meetnow-live-2.` and base64url JSON, held within the link's budget by counting those who left instead of
//! listing them, then dropping names beyond [`NAMES_SHOWN`]. Version 1 (one presence per person) is still read.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{json, Value};

use super::{CallState, Device, Millis, Person, Presence, DEVICES_KEPT, NAME_KEPT};

/// The marker before the state in a carrier URL's fragment; a new encoding gets a new version. Version 1 (one
/// presence per person) is still read.
pub const MARKER: &str = "meetnow-live-2.";
pub(super) const MARKER_V1: &str = "meetnow-live-1.";

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
    pub(super) fn derived_on_call_at(&self) -> Option<Millis> {
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
