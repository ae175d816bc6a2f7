//! The `meetnow` binary: parses the command line, loads `.env` and the configuration, starts logging and
//! hands off to the library. Exit status: 0 success, 1 a service refused, 2 a configuration error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meetnow::cli::{self, Output};
use meetnow::config::Config;
use meetnow::graph::GraphClient;
use meetnow::meeting::MeetingKey;

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
}

const CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(error) if error.not_found() => {}
        Err(error) => {
            eprintln!("error: .env: {error}");
            return ExitCode::from(CONFIG_ERROR);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    meetnow::telemetry::init(config.log_format, &config.log_filter);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(runtime.block_on(dispatch(args.command.unwrap_or(Command::Run), config)))
}

async fn dispatch(command: Command, config: Config) -> u8 {
    let http = match meetnow::http_client() {
        Ok(http) => http,
        Err(error) => {
            eprintln!("error: could not set up HTTPS: {error}");
            return 1;
        }
    };
    let graph = GraphClient::new(http.clone(), &config.graph);
    match command {
        Command::Run => {
            if let Err(error) = config.discord_token() {
                eprintln!("configuration error: {error}");
                return CONFIG_ERROR;
            }
            match meetnow::discord::run_with_graph(&config, http, graph, shutdown_signal()).await {
                Ok(()) => 0,
                Err(meetnow::discord::RunError::Config(error)) => {
                    eprintln!("configuration error: {error}");
                    CONFIG_ERROR
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    1
                }
            }
        }
        Command::Create { subject, key, json } => {
            let key = match key.as_deref().map(MeetingKey::named).transpose() {
                Ok(key) => key,
                Err(error) => {
                    eprintln!("error: --key: {error}");
                    return CONFIG_ERROR;
                }
            };
            cli::create(&graph, subject, key, if json { Output::Json } else { Output::Text }).await
        }
        Command::Check => cli::check(&config, &graph, http).await,
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (systemd, Kubernetes).
async fn shutdown_signal() {
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
