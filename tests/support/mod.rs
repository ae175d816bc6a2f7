//! Local stand-ins for the services meetnow talks to, and helpers to run the real bot and binary against them.
//! Each test file includes this module (`mod support;`) and uses the parts it needs.
#![allow(dead_code)]

pub mod graph;
pub mod schema;

use std::collections::HashMap;

use meetnow::config::Config;

/// A configuration loaded the way the binary loads it, from these variables only.
pub fn config(vars: &[(&'static str, String)]) -> Config {
    let vars: HashMap<&str, String> = vars.iter().cloned().collect();
    Config::from_lookup(|name| vars.get(name).cloned()).expect("stand-in configuration is valid")
}
