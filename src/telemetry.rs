//! Logging set-up: `tracing` to stderr, pretty for people or one JSON object per line for Loki/Elastic.
//!
//! Owns only the subscriber. What gets logged is decided where it happens; no token, secret or interaction
//! token is ever a field of ours. Other crates' verbose output is a different matter: serenity's gateway
//! debug lines print whole events (interaction tokens included), its `request` span records URLs that
//! contain interaction tokens, and tungstenite, reqwest and hyper trace raw frames and URLs. Those targets
//! are capped below, whatever `RUST_LOG` asks for. serenity's spans are never entered at all: its
//! `#[instrument]`ed gateway functions (`handle_event`, `handle_gateway_dispatch`, ...) record the whole
//! event, interaction token included, as an INFO span field that every line logged inside them would print;
//! and its websocket module's warning for an event it can't read prints the event's text.
//!
//! Errors are logged whole with [`Chain`]: an error's `Display` says what failed and its `source()` why,
//! never both, so a log line that printed only `Display` would drop the why.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::config::LogFormat;

/// The most each secret-bearing dependency may log.
const CEILINGS: [(&str, LevelFilter); 9] = [
    ("serenity", LevelFilter::INFO),
    // "Err deserializing text: …; text: {payload}" is a WARN with the whole gateway event in it.
    ("serenity::gateway::ws", LevelFilter::ERROR),
    // `Http::request` is an INFO span whose fields include the route, and routes carry interaction tokens.
    ("serenity::http", LevelFilter::WARN),
    ("tungstenite", LevelFilter::INFO),
    ("tokio_tungstenite", LevelFilter::INFO),
    ("reqwest", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
];

/// Installs the global subscriber. `filter` was validated by `Config` (e.g. `info,serenity=warn`).
/// Calling it twice is harmless: the second call changes nothing.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let ceilings = Targets::new().with_default(LevelFilter::TRACE).with_targets(CEILINGS);
    // Colours only for a person at a terminal: in journald, a file or a pipe they are escape codes.
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let output = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(colours);
    let output = match format {
        LogFormat::Pretty => output.boxed(),
        LogFormat::Json => output.json().with_current_span(true).with_span_list(true).boxed(),
    };
    let no_serenity_spans = tracing_subscriber::filter::filter_fn(|meta| !is_serenity_span(meta));
    let _already_set =
        tracing_subscriber::registry().with(filter).with(ceilings).with(no_serenity_spans).with(output).try_init();
}

/// serenity's spans carry gateway events and request routes as fields (see the module docs).
fn is_serenity_span(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_span() && meta.target().starts_with("serenity")
}

/// An error and its causes on one line, `what: why: why underneath`: how errors are written in logs and on
/// stderr. A cause the text before it already ends with is not repeated: some crates (serenity among them)
/// print their inner error and return it as `source()` too.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut before = self.0.to_string();
        f.write_str(&before)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !before.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            before = text;
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("could not listen on 127.0.0.1:9464")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_prints_every_cause_once() {
        let error = Outer(std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use"));
        assert_eq!(Chain(&error).to_string(), "could not listen on 127.0.0.1:9464: address in use");
    }

    #[test]
    fn a_cause_already_printed_is_not_repeated() {
        // serenity prints its inner error and returns it as `source()` as well.
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        let error = Start(serenity::Error::Io(reset));
        assert_eq!(Chain(&error).to_string(), "Discord refused to start the bot: connection reset");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("Discord refused to start the bot")]
    struct Start(#[source] serenity::Error);
}
