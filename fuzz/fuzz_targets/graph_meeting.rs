//! Any bytes as a Graph onlineMeeting response: parsing never panics, and a meeting that parses renders an
//! announcement within Discord's limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meetnow::discord::render::announcement::{announcement, limits, Kind};

fuzz_target!(|data: &[u8]| {
    if let Some(meeting) = meetnow::graph::fuzzing::meeting(data) {
        assert!(meeting.join_url.starts_with("https://"));
        let rendered = announcement(&meeting, Kind::Standing, "#inc bridge");
        let embed = serde_json::to_value(&rendered.embed).unwrap();
        let length = |v: &serde_json::Value| v.as_str().map_or(0, |s| s.chars().count());
        assert!(length(&embed["title"]) <= limits::EMBED_TITLE);
        assert!(length(&embed["description"]) <= limits::EMBED_DESCRIPTION);
        for field in embed["fields"].as_array().into_iter().flatten() {
            assert!(length(&field["value"]) <= limits::FIELD_VALUE);
        }
    }
});
