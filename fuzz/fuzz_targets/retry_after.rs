//! Any bytes as a `Retry-After` header value: reading it and waiting on it never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meetnow::graph::fuzzing::retry_after(data));
