//! The `meetnow` binary itself: `create`, `create --json`, configuration errors and exit statuses,
//! run as a separate process against the local Graph stand-in with a clean environment.

use crate::support;

use crate::support::graph::{Audio, Fault, GraphStandIn, CLIENT_SECRET};
use crate::support::process::command as meetnow;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn create_prints_join_link_numbers_one_tap_and_passcode() {
    let graph = GraphStandIn::start().await;
    let out = meetnow(&["create", "--subject", "Sev1 checkout down"], &graph.env(), None).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("Subject:        Sev1 checkout down"), "{stdout}");
    assert!(stdout.contains("Status:         new meeting"));
    assert!(stdout.contains("Join:           https://teams.microsoft.com/l/meetup-join/"));
    assert!(stdout.contains("Toll:           +1 206-555-0100  one tap +12065550100,,100000001#"), "{stdout}");
    assert!(stdout.contains("Toll-free:      +1 866-555-0199  one tap +18665550199,,100000001#"));
    assert!(stdout.contains("Conference ID:  100000001#"));
    assert!(stdout.contains("Meeting ID:     2501000000001  passcode aB3dE9"));
    assert!(stdout.contains("Local numbers:  https://dialin.teams.microsoft.com/"));
    assert_eq!(graph.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn create_with_a_key_twice_prints_the_same_meeting() {
    let graph = GraphStandIn::start().await;
    let first = meetnow(&["create", "--key", "inc-2041", "--json"], &graph.env(), None).await;
    let second = meetnow(&["create", "--key", "inc-2041", "--json"], &graph.env(), None).await;
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["joinUrl"], second["joinUrl"]);
    assert_eq!((first["origin"].as_str(), second["origin"].as_str()), (Some("created"), Some("reused")));
    assert_eq!(graph.meetings_created(), 1);

    let text_run = meetnow(&["create", "--key", "inc-2041"], &graph.env(), None).await;
    assert!(text(&text_run.stdout).contains("Status:         existing meeting for this key, created 20"));
}

#[tokio::test]
async fn create_json_is_one_object_with_every_detail() {
    let graph = GraphStandIn::start().await;
    let out = meetnow(&["create", "--json", "--subject", "x"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "one line: {stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(json["joinUrl"].as_str().unwrap().starts_with("https://teams.microsoft.com/"));
    assert_eq!(json["dialIn"]["tollNumbers"][0], "+1 206-555-0100");
    assert_eq!(json["dialIn"]["conferenceId"], "100000001");
    assert_eq!(json["joinById"]["passcode"], "aB3dE9");
    assert_eq!(json["oneTap"][0], "+12065550100,,100000001#");
    assert!(json["startsAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn create_without_dial_in_says_why() {
    let graph = GraphStandIn::start().await;
    graph.set_audio(Audio::Null);
    let out = meetnow(&["create"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout)
        .contains("Dial-in:        No phone dial-in: the organizer has no Teams Audio Conferencing licence"));
}

#[tokio::test]
async fn graph_refusal_exits_1_with_the_fix() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::AccessPolicy));
    let out = meetnow(&["create"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("New-CsApplicationAccessPolicy"), "{stderr}");
    assert!(!stderr.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn configuration_errors_exit_2_naming_the_variable() {
    let graph = GraphStandIn::start().await;
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("AZURE_CLIENT_ID", None, "AZURE_CLIENT_ID: is not set"),
        (
            "MEETNOW_ORGANIZER_ID",
            Some("oncall@contoso.com"),
            "MEETNOW_ORGANIZER_ID: \"oncall@contoso.com\" is an e-mail address",
        ),
        ("MEETNOW_LOBBY_BYPASS", Some("anyone"), "MEETNOW_LOBBY_BYPASS: \"anyone\" is not one of"),
        ("MEETNOW_DURATION_MINUTES", Some("0"), "MEETNOW_DURATION_MINUTES"),
        ("GRAPH_ENDPOINT", Some("http://graph.example.com"), "GRAPH_ENDPOINT"),
        (
            "AZURE_CLIENT_SECRET",
            Some("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
            "AZURE_CLIENT_SECRET: looks like the secret's Secret ID",
        ),
    ];
    for (name, value, expected) in cases {
        let mut vars: Vec<_> = graph.env().into_iter().filter(|(k, _)| *k != name).collect();
        if let Some(value) = value {
            vars.push((name, value.to_owned()));
        }
        vars.push(("DISCORD_TOKEN", "discord.token.value".into()));
        for command in [&["create"][..], &["check"], &["run"]] {
            let out = meetnow(command, &vars, None).await;
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command:?} {name}: {stderr}");
            assert!(stderr.contains(expected), "{command:?} {name}: {stderr}");
            for secret in [CLIENT_SECRET, "discord.token.value", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"] {
                assert!(!stderr.contains(secret) && !text(&out.stdout).contains(secret), "{name} leaked a secret");
            }
        }
    }
    assert_eq!(graph.token_requests(), 0, "nothing connects before the configuration is valid");
}

#[tokio::test]
async fn run_needs_the_discord_token() {
    let graph = GraphStandIn::start().await;
    let out = meetnow(&["run"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("DISCORD_TOKEN: is not set"));
}

#[tokio::test]
async fn check_without_a_discord_token_checks_graph_and_skips_discord() {
    let graph = GraphStandIn::start().await;
    let out = meetnow(&["check"], &graph.env(), None).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("ok    graph sign-in"), "{stdout}");
    assert!(stdout.contains("ok    meeting"));
    assert!(stdout.contains("--    discord token      skipped: DISCORD_TOKEN is not set"), "{stdout}");
}

#[tokio::test]
async fn a_dot_env_file_is_read_and_a_malformed_one_is_an_error() {
    let graph = GraphStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = graph.env().iter().map(|(k, v)| format!("{k}={v}")).collect();
    std::fs::write(dir.path().join(".env"), lines.join("\n")).unwrap();
    let out = meetnow(&["create", "--json"], &[], Some(dir.path())).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    std::fs::write(dir.path().join(".env"), "AZURE_TENANT_ID='unterminated\n").unwrap();
    let out = meetnow(&["create"], &[], Some(dir.path())).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(".env"));
}

#[tokio::test]
async fn a_bad_key_is_refused() {
    let graph = GraphStandIn::start().await;
    let out = meetnow(&["create", "--key", "two words"], &graph.env(), None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--key"));
}

#[tokio::test]
async fn help_explains_every_option() {
    let out = meetnow(&["create", "--help"], &[], None).await;
    let help = text(&out.stdout);
    for option in ["--subject", "--key", "--json", "discord:GUILD_ID:CHANNEL_ID"] {
        assert!(help.contains(option), "{help}");
    }
}

mod with_discord {
    use super::*;
    use support::discord::{Invocation, BOT_TOKEN};
    use support::graph::{TokenFault, CLIENT_ID};

    /// A check's line with its indented continuation lines.
    fn line(stdout: &str, check: &str) -> String {
        let mut lines = stdout.lines().skip_while(|l| !(l.len() > 6 && l[6..].starts_with(check)));
        let first = lines.next().unwrap_or_else(|| panic!("no {check} line in:\n{stdout}"));
        let rest = lines.take_while(|l| l.starts_with("   "));
        std::iter::once(first).chain(rest).collect::<Vec<_>>().join("\n")
    }

    #[tokio::test]
    async fn check_passes_line_by_line_and_prints_the_invite_url() {
        let (graph, _discord, vars) = support::stand_ins().await;
        let out = meetnow(&["check"], &vars, None).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        for check in ["organizer id", "graph sign-in", "permission", "meeting", "discord token", "invite url"] {
            assert!(line(&stdout, check).starts_with("ok    "), "{stdout}");
        }
        assert!(line(&stdout, "permission").contains("OnlineMeetings.ReadWrite.All"));
        assert!(line(&stdout, "meeting").contains("with phone dial-in"));
        assert!(line(&stdout, "discord token").contains("bot meetnow"));
        let invite = line(&stdout, "invite url");
        assert!(invite.contains("scope=bot+applications.commands"), "{invite}");
        // View Channel, Read Message History, Send Messages, Send Messages in Threads, Embed Links, Manage
        // Messages, and Pin Messages (1 << 51, split from Manage Messages).
        let bits = 1024 + 65_536 + 2048 + 274_877_906_944u64 + 16384 + 8192 + (1u64 << 51);
        assert!(invite.contains(&format!("permissions={bits}")), "{invite}");
        assert!(line(&stdout, "pin permission").contains("Pin Messages"), "{stdout}");

        // The check's meeting is a standing one: checking again creates nothing new.
        meetnow(&["check"], &vars, None).await;
        assert_eq!(graph.meetings_created(), 1);
    }

    #[tokio::test]
    async fn check_names_each_failure_with_its_fix_and_exits_1() {
        // The permission is missing from the token.
        let (graph, _discord, vars) = support::stand_ins().await;
        graph.set_roles(&["User.Read.All"]);
        let out = meetnow(&["check"], &vars, None).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1));
        let permission = line(&stdout, "permission");
        assert!(permission.starts_with("FAIL") && permission.contains("roles: User.Read.All"), "{permission}");
        assert!(permission.contains("Grant admin consent"));

        // No application access policy.
        let (graph, _discord, vars) = support::stand_ins().await;
        graph.set_always(Some(Fault::AccessPolicy));
        let stdout = text(&meetnow(&["check"], &vars, None).await.stdout);
        let meeting = line(&stdout, "meeting");
        assert!(meeting.starts_with("FAIL") && meeting.contains(&format!("-AppIds \"{CLIENT_ID}\"")), "{meeting}");

        // A wrong secret: sign-in fails and the meeting check is skipped.
        let (graph, _discord, vars) = support::stand_ins().await;
        graph.set_token_fault(Some(TokenFault::Aadsts(7_000_215)));
        let out = meetnow(&["check"], &vars, None).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1));
        assert!(line(&stdout, "graph sign-in").contains("AADSTS7000215"), "{stdout}");
        assert!(line(&stdout, "meeting").contains("skipped"));
        assert!(!stdout.contains(support::graph::CLIENT_SECRET));

        // An organizer id that is a GUID but no user in the tenant.
        let (_graph, _discord, mut vars) = support::stand_ins().await;
        vars.retain(|(k, _)| *k != "MEETNOW_ORGANIZER_ID");
        vars.push(("MEETNOW_ORGANIZER_ID", "aaaaaaaa-0000-4000-8000-000000000000".into()));
        let out = meetnow(&["check"], &vars, None).await;
        assert_eq!(out.status.code(), Some(1));
        let meeting = line(&text(&out.stdout), "meeting");
        assert!(meeting.starts_with("FAIL") && meeting.contains("Graph has no user aaaaaaaa-0000"), "{meeting}");

        // Microsoft sign-in unreachable.
        let (graph, _discord, vars) = support::stand_ins().await;
        graph.set_token_fault(Some(TokenFault::Down));
        let out = meetnow(&["check"], &vars, None).await;
        assert_eq!(out.status.code(), Some(1));
        assert!(line(&text(&out.stdout), "graph sign-in").contains("not answering"));

        // A Discord token Discord doesn't know.
        let (_graph, _discord, mut vars) = support::stand_ins().await;
        vars.retain(|(k, _)| *k != "DISCORD_TOKEN");
        vars.push(("DISCORD_TOKEN", "revoked.bot.token".into()));
        let out = meetnow(&["check"], &vars, None).await;
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1));
        let discord = line(&stdout, "discord token");
        assert!(discord.starts_with("FAIL") && discord.contains("Reset Token"), "{discord}");
        assert!(!stdout.contains("revoked.bot.token") && !text(&out.stderr).contains("revoked.bot.token"));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn run_finishes_a_command_in_flight_on_sigterm_and_exits_0() {
        let (graph, discord, mut vars) = support::stand_ins().await;
        vars.push(("RUST_LOG", "trace".into()));
        let bot = support::process::BotProcess::start(&vars);
        discord.wait_for("registration", |d| (!d.registrations().is_empty()).then_some(())).await;
        graph.set_latency(std::time::Duration::from_millis(1500));
        let token = discord.invoke(Invocation::in_channel(4_000_000_000_000_000_001)).await;
        discord.wait_for("the defer", |d| d.interaction(&token).deferred().then_some(())).await;

        let (status, logs) = bot.terminate().await;
        assert_eq!(status.code(), Some(0), "{logs}");
        let record = discord.interaction(&token);
        assert!(record.original.is_some(), "the command in flight was answered before exit");
        // Even at trace level, no secret or token reaches the log: bot token, client secret, interaction
        // token, or any Graph access token (every one the stand-in issues contains that marker).
        for secret in [BOT_TOKEN, support::graph::CLIENT_SECRET, token.as_str(), "stand-in-signature"] {
            let leaks: Vec<_> = logs.lines().filter(|l| l.contains(secret)).map(|l| &l[..l.len().min(900)]).collect();
            assert!(leaks.is_empty(), "log leaked {secret}:\n{}", leaks.join("\n"));
        }
        assert!(logs.contains("bridge announced"));
    }
}

mod secrets {
    use super::*;
    use support::discord::{Invocation, BOT_TOKEN};
    use support::graph::CLIENT_SECRET;

    /// Every secret the bot handles: the bot token, the client secret, the Graph access tokens (all of the
    /// stand-in's contain that marker) and interaction tokens (likewise).
    fn leaks(text: &str) -> Vec<String> {
        [BOT_TOKEN, CLIENT_SECRET, "stand-in-signature", "stand-in-interaction-token"]
            .iter()
            .flat_map(|secret| text.lines().filter(move |l| l.contains(secret)).map(|l| l.chars().take(300).collect()))
            .collect()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn trace_logs_hold_no_secret_through_successes_and_failures() {
        let (graph, discord, vars) = support::stand_ins().await;
        for format in ["pretty", "json"] {
            let mut env = vars.clone();
            env.extend([("RUST_LOG", "trace".to_owned()), ("LOG_FORMAT", format.to_owned())]);
            let bot = support::process::BotProcess::start(&env);
            let registered = discord.registrations().len();
            discord.wait_for("registration", |d| (d.registrations().len() > registered).then_some(())).await;

            // A success, then Graph refusing (access policy), throttling beyond the budget, and an expired token.
            let base = if format == "json" { 8_100_000_000_000_000_000 } else { 8_000_000_000_000_000_000 };
            let ok = discord.invoke(Invocation::in_channel(base + 1)).await;
            assert!(discord.settled(&ok).await.original.is_some());
            for (i, fault) in
                [Fault::AccessPolicy, Fault::Throttle(Some(90)), Fault::ExpireTokens].into_iter().enumerate()
            {
                graph.push_fault(fault);
                let token = discord.invoke(Invocation::in_channel(base + 2 + i as u64)).await;
                discord.settled(&token).await;
            }

            let (_, logs) = bot.terminate().await;
            assert!(
                logs.contains("bridge announced") && logs.contains("could not get a meeting"),
                "{format} logs:\n{}",
                &logs[logs.len().saturating_sub(3000)..]
            );
            assert_eq!(leaks(&logs), Vec::<String>::new(), "{format} logs leaked a secret");
        }
    }

    #[tokio::test]
    async fn debug_of_every_config_and_client_is_redacted() {
        let (_graph, _discord, vars) = support::stand_ins().await;
        let config = support::config(&vars);
        let client =
            meetnow::graph::GraphClient::new(meetnow::http::client().unwrap(), &config.graph, Default::default());
        client.token_info().await.unwrap(); // a token is now cached inside the client
        let http = meetnow::discord::rest::http(&config, meetnow::http::client().unwrap()).unwrap();
        let shown = format!("{config:?}\n{:?}\n{client:?}\n{http:?}", config.graph);
        assert_eq!(leaks(&shown), Vec::<String>::new(), "{shown}");
        assert!(shown.contains("REDACTED"));
    }
}
