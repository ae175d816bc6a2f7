//! Logging set-up: `tracing` to stderr, pretty for people or one JSON object per line for Loki/Elastic.
//!
//! Owns only the subscriber. What gets logged is decided where it happens; no token, secret or interaction
//! token is ever a field (the Graph module marks its Authorization header sensitive, serenity keeps the bot
//! token out of its own logs).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `filter` was validated by `Config` (e.g. `info,serenity=warn`).
/// Calling it twice is harmless: the second call changes nothing.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).try_init(),
    };
}
