//! Any bytes as a token endpoint response (success or AADSTS error): parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meetnow::graph::fuzzing::token(data));
