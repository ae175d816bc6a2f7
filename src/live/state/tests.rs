//! The state's unit tests: folding in any order, devices, sequence numbers, the encoding and its capacity.

mod folding {
    use super::super::*;
    use base64::Engine as _;
    use proptest::prelude::*;
    use serde_json::json;

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

mod capacity {
    use super::super::*;

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
