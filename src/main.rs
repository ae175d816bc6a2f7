//! The `meetnow` binary: parses the command line, loads `.env` and the configuration, starts logging and
//! hands off to the library. Every way it can end goes through [`run`]'s result and one function,
//! [`AppError::exit_status`], decides the status: 0 success, 1 a service refused or a check failed, 2 a
//! configuration error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meetnow::app::{Deps, RunError};
use meetnow::cli::{self, ChecksFailed, Output};
use meetnow::config::{Config, ConfigError};
use meetnow::graph::{GraphClient, GraphError, RetryPolicy};
use meetnow::meeting::{InvalidKey, MeetingKey};
use meetnow::telemetry::Chain;

/// Microsoft Teams bridges for Discord incident channels.
///
/// Configuration comes from environment variables and a `.env` file in the working directory;
/// see README.md or .env.example for the list.
#[derive(Debug, Parser)]
#[command(name = "meetnow", version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Discord bot until SIGINT or SIGTERM (the default).
    Run,
    /// Create a Teams meeting now and print its join link and dial-in details.
    Create {
        /// Meeting subject.
        #[arg(long, default_value = "Incident bridge")]
        subject: String,
        /// Return the standing meeting for KEY, creating it on first use; the same key always gives the
        /// same meeting. `discord:GUILD_ID:CHANNEL_ID` is a Discord channel's /meetnow bridge.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        /// Print the meeting as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration against Microsoft and Discord, one line per check, with fixes.
    Check,
    /// Print who was on a standing bridge: each ended call, its attendees, when they joined and left.
    Attendance {
        /// The standing bridge's key; `discord:GUILD_ID:CHANNEL_ID` is a Discord channel's /meetnow bridge.
        #[arg(long, value_name = "KEY")]
        key: String,
        /// Print the calls as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

/// Why meetnow ended other than successfully: everything `main` reports. Each `Display` says what failed and
/// its `source()` why; `main` prints the whole chain once.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("error: .env")]
    DotEnv(#[source] dotenvy::Error),
    #[error("configuration error")]
    Config(#[from] ConfigError),
    #[error("error: --key")]
    Key(#[from] InvalidKey),
    #[error("error: could not start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("error: could not set up HTTPS")]
    Https(#[source] reqwest::Error),
    /// Graph refused `meetnow create`: its sentence says why and how to fix it (the details went to the log).
    #[error("error: {}", .0.user_message())]
    Graph(Box<GraphError>),
    /// `meetnow check` printed its FAIL lines already.
    #[error(transparent)]
    Checks(#[from] ChecksFailed),
    #[error("error")]
    Run(#[source] Box<RunError>),
}

// Boxed: an error is rare, and a large `Err` would make every `Result` here as large.
impl From<GraphError> for AppError {
    fn from(error: GraphError) -> Self {
        Self::Graph(Box::new(error))
    }
}

impl From<RunError> for AppError {
    /// A configuration problem found while running (a weak public key, say) is a configuration error like any
    /// other: the same words, the same exit status.
    fn from(error: RunError) -> Self {
        match error {
            RunError::Config(config) => Self::Config(config),
            other => Self::Run(Box::new(other)),
        }
    }
}

impl AppError {
    /// The one place an error becomes an exit status.
    fn exit_status(&self) -> u8 {
        const SERVICE_REFUSED: u8 = 1;
        const CONFIGURATION: u8 = 2;
        match self {
            Self::DotEnv(_) | Self::Config(_) | Self::Key(_) => CONFIGURATION,
            Self::Runtime(_) | Self::Https(_) | Self::Graph(_) | Self::Checks(_) | Self::Run(_) => SERVICE_REFUSED,
        }
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", Chain(&error));
            ExitCode::from(error.exit_status())
        }
    }
}

fn run(args: Args) -> Result<(), AppError> {
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(error) if error.not_found() => {}
        Err(error) => return Err(AppError::DotEnv(error)),
    }
    let config = Config::from_env()?;
    meetnow::telemetry::init(config.log_format, &config.log_filter);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(AppError::Runtime)?;
    runtime.block_on(dispatch(args.command.unwrap_or(Command::Run), config))
}

async fn dispatch(command: Command, config: Config) -> Result<(), AppError> {
    let http = meetnow::http::client().map_err(AppError::Https)?;
    match command {
        Command::Run => {
            config.discord_token()?;
            let deps = Deps::bind(&config, http, RetryPolicy::default()).await?;
            Ok(meetnow::app::run(&config, deps, shutdown_signal()).await?)
        }
        Command::Create { subject, key, json } => {
            let key = key.as_deref().map(MeetingKey::named).transpose()?;
            let graph = GraphClient::new(http, &config.graph, Default::default());
            Ok(cli::create(&graph, subject, key, if json { Output::Json } else { Output::Text }).await?)
        }
        Command::Attendance { key, json } => {
            let key = MeetingKey::named(&key)?;
            let graph = GraphClient::new(http, &config.graph, Default::default());
            Ok(cli::attendance(&graph, key, if json { Output::Json } else { Output::Text }).await?)
        }
        Command::Check => {
            let graph = GraphClient::new(http.clone(), &config.graph, Default::default());
            Ok(cli::check(&config, &graph, http).await?)
        }
    }
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM (systemd, Kubernetes), which starts the drain; a
/// second one ends the process at once (exit 130), for an operator who will not wait for the drain.
async fn shutdown_signal() {
    stop_signal().await;
    tokio::spawn(async {
        stop_signal().await;
        eprintln!("a second stop signal: exiting now, without finishing the commands in flight");
        std::process::exit(130);
    });
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_problems_exit_2_and_refusals_1() {
        let config = ConfigError { variable: "AZURE_CLIENT_ID", problem: "is not set".into() };
        assert_eq!(AppError::Config(config.clone()).exit_status(), 2);
        assert_eq!(AppError::from(RunError::Config(config)).exit_status(), 2);
        assert_eq!(AppError::Key(MeetingKey::named("").unwrap_err()).exit_status(), 2);
        assert_eq!(AppError::Checks(ChecksFailed(2)).exit_status(), 1);
        let taken =
            RunError::Metrics { addr: ([127, 0, 0, 1], 9464).into(), source: std::io::ErrorKind::AddrInUse.into() };
        assert_eq!(AppError::from(taken).exit_status(), 1);
        let refused = GraphError::unavailable("connection refused");
        let error = AppError::from(refused.clone());
        assert_eq!(error.exit_status(), 1);
        assert_eq!(Chain(&error).to_string(), format!("error: {}", refused.user_message()));
    }

    /// Every variant (and every way `run` can fail), as the person at the terminal reads it: what failed,
    /// then why, each once.
    #[test]
    fn every_error_reads_once_what_failed_and_why() {
        let io = |text: &str| std::io::Error::other(text.to_owned());
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], 9464).into();
        let config = || ConfigError { variable: "AZURE_CLIENT_ID", problem: "is not set".into() };
        let https = reqwest::Client::new().get("no url").build().unwrap_err();
        let errors = [
            AppError::DotEnv(dotenvy::Error::LineParse("A B".into(), 2)),
            AppError::Config(config()),
            AppError::Key(InvalidKey),
            AppError::Runtime(io("no threads")),
            AppError::Https(https),
            AppError::from(GraphError::MeetingNotFound),
            AppError::Checks(ChecksFailed(2)),
            AppError::from(RunError::Config(config())),
            AppError::from(RunError::Discord(serenity::Error::Other("401: Unauthorized"))),
            AppError::from(RunError::Metrics { addr, source: io("address in use") }),
            AppError::from(RunError::Listen { addr, source: io("permission denied") }),
            AppError::from(RunError::Limiter(io("no loopback"))),
        ];
        for error in &errors {
            let expected = match error {
                AppError::DotEnv(_) => "error: .env: Error parsing line: 'A B', error at line index: 2",
                AppError::Config(_) => "configuration error: AZURE_CLIENT_ID: is not set",
                AppError::Key(_) => "error: --key: the key must be 1 to 100 printable characters without spaces",
                AppError::Runtime(_) => "error: could not start the async runtime: no threads",
                AppError::Https(_) => "error: could not set up HTTPS: builder error: relative URL without a base",
                AppError::Graph(_) => {
                    "error: This bridge is not one of the organizer's meetings any more (deleted, or made by another \
                     organizer), so its attendance can't be read."
                }
                AppError::Checks(_) => "2 check(s) failed; each FAIL line above says how to fix it",
                AppError::Run(run) => match **run {
                    RunError::Config(_) => unreachable!("From turns it into AppError::Config"),
                    RunError::Discord(_) => "error: Discord refused to start the bot: 401: Unauthorized",
                    RunError::Metrics { .. } => {
                        "error: METRICS_ADDR: could not listen on 127.0.0.1:9464: address in use"
                    }
                    RunError::Listen { .. } => {
                        "error: MEETNOW_LISTEN_ADDR: could not listen on 127.0.0.1:9464: permission denied"
                    }
                    RunError::Limiter(_) => {
                        "error: could not listen on loopback for Discord's rate limiter: no loopback"
                    }
                },
            };
            assert_eq!(Chain(error).to_string(), expected);
        }
    }
}
