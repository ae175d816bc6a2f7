//! Every end-to-end test, in one test binary: the stand-ins in `support/` are compiled once, not once per file.
//! Each module is what used to be a test file of its own; run one with `cargo test --test suite endpoint::`.

mod support;

mod access;
mod attendance;
mod auto_channels;
mod availability;
mod cli;
mod credentials;
mod deploy;
mod discord;
mod doors;
mod endpoint;
mod graph;
mod languages;
mod limits;
mod live;
mod network;
mod operations;
mod platforms;
mod reliability;
mod ring;
