//! Any bytes as a Graph error body: parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meetnow::graph::fuzzing::error(data));
