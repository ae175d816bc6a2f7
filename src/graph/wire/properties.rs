//! Property tests: whatever Graph sends, parsing neither panics nor yields a meeting that is unsafe to post.

use super::*;
use proptest::prelude::*;
use serde_json::Value;

/// JSON whose object keys are often the ones the parser looks for, so generated documents reach every
/// branch (nested audioConferencing, both name generations, nulls, wrong types).
fn graphish_json() -> impl Strategy<Value = Value> {
    let keys = prop_oneof![
        Just("id".to_owned()),
        Just("subject".to_owned()),
        Just("joinWebUrl".to_owned()),
        Just("joinUrl".to_owned()),
        Just("audioConferencing".to_owned()),
        Just("tollNumbers".to_owned()),
        Just("tollNumber".to_owned()),
        Just("tollFreeNumbers".to_owned()),
        Just("conferenceId".to_owned()),
        Just("participantPasscode".to_owned()),
        Just("dialinUrl".to_owned()),
        Just("joinMeetingIdSettings".to_owned()),
        Just("startDateTime".to_owned()),
        Just("error".to_owned()),
        Just("innerError".to_owned()),
        Just("request-id".to_owned()),
        Just("access_token".to_owned()),
        Just("expires_in".to_owned()),
        Just("error_codes".to_owned()),
        "[a-zA-Z@.]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::String),
        Just(Value::String("https://teams.microsoft.com/l/meetup-join/x".into())),
        Just(Value::String("2026-11-22T18:00:00.1234567Z".into())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_parse_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = OnlineMeetingWire::parse(&bytes).map(|m| m.into_meeting(Origin::Created));
        let _ = serde_json::from_slice::<ErrorEnvelope>(&bytes);
        let _ = serde_json::from_slice::<TokenResponse>(&bytes);
        let _ = serde_json::from_slice::<TokenErrorBody>(&bytes);
    }

    #[test]
    fn any_json_gives_a_safe_meeting_or_a_reason(value in graphish_json()) {
        let bytes = value.to_string().into_bytes();
        if let Ok(meeting) = OnlineMeetingWire::parse(&bytes).and_then(|m| m.into_meeting(Origin::Reused)) {
            prop_assert!(meeting.join_url.starts_with("https://"));
            prop_assert!(!meeting.id.is_empty());
            if let Some(dial_in) = &meeting.dial_in {
                prop_assert!(dial_in.local_numbers_url.as_deref().is_none_or(|u| u.starts_with("https://")));
                for (_, number) in dial_in.numbers() {
                    if let Some(tap) = dial_in.one_tap(number) {
                        prop_assert!(tap.ends_with('#') && tap.contains(",,"));
                    }
                }
            }
        }
        let _ = serde_json::from_slice::<ErrorEnvelope>(&bytes);
        let _ = serde_json::from_slice::<TokenResponse>(&bytes);
        let _ = serde_json::from_slice::<TokenErrorBody>(&bytes);
    }
}
