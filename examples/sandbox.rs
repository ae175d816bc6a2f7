//! The sandbox: meetnow working end to end on your machine, with no Discord or Microsoft account.
//!
//! Starts the local stand-ins of Discord (REST and gateway) and of Microsoft Entra + Graph from
//! `tests/support/`, runs the real bot against them (real configuration loading, real serenity client, real
//! Graph module), types `/meetnow` in a channel called #inc-2041, prints the announcement the way Discord
//! shows it, types `/meetnow` again as someone else to show the standing bridge, clicks **Attendance** after
//! a call on it has ended, creates #inc-2042 to show a bridge posted with nobody typing
//! (`MEETNOW_AUTO_CHANNELS=inc-*`), plays a call on #inc-2041's bridge through Graph's call events (started,
//! three join, one of them through the lobby, one leaves, ended: encrypted notifications through a load
//! balancer stand-in, as in production), printing the pinned announcement after each change, then rings a
//! colleague into the bridge (`/meetnow ring:`, suggested from the directory as it is typed: the bot joins
//! through Graph's calls API, Teams rings her, she joins, the bot leaves), and exits.
//!
//! ```text
//! cargo run --example sandbox
//! cargo run --example sandbox -- --tls   # the stand-ins over HTTPS (HTTP/2) from a CA the bot is told to trust
//! cargo run --example sandbox -- --locale ru   # a server and its members in Russian (zh-CN, es-ES, de, fr, …)
//! ```
//! Exits 1 if anything the bot sent would have been rejected by Discord or Graph.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;

use serde_json::Value;
use support::discord::Invocation;

const CHANNEL: u64 = 1_310_000_000_000_002_041;

/// `--locale`: the Discord locale of the server and of everyone in it.
static LOCALE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `/meetnow` in `channel`, typed by someone whose Discord, like the server, is in `--locale`.
fn typed_in(channel: u64) -> Invocation {
    let locale = LOCALE.get().map_or("en-US", String::as_str);
    Invocation::in_channel(channel).locales(locale, locale)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let tls = args.iter().any(|arg| arg == "--tls");
    let locale = args.iter().position(|arg| arg == "--locale").and_then(|at| args.get(at + 1)).cloned();
    let locale = locale.unwrap_or_else(|| "en-US".to_owned());
    if meetnow::l10n::Lang::from_discord(&locale).is_none() {
        eprintln!("meetnow speaks en-US, ru, zh-CN, es-ES, es-419, de and fr; {locale:?} is shown in English");
    }
    LOCALE.set(locale).expect("set once");
    let ca_dir = tempfile::tempdir().expect("temporary directory");
    let ca_file = tls.then(|| support::net::TestCa::shared().write(ca_dir.path()));
    if let Some(file) = &ca_file {
        // As a company sets it for a CA of its own; before any thread exists, so nothing reads it meanwhile.
        std::env::set_var("SSL_CERT_FILE", file);
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(sandbox(ca_file))
}

async fn sandbox(ca_file: Option<std::path::PathBuf>) -> ExitCode {
    let transport = if ca_file.is_some() { support::net::Transport::tls() } else { support::net::Transport::Plain };
    let (graph, discord, mut vars) = support::stand_ins_on(&transport).await;
    if let Some(file) = &ca_file {
        vars.push(("SSL_CERT_FILE", file.display().to_string()));
    }
    vars.push(("RUST_LOG", "warn".into()));
    vars.push(("MEETNOW_AUTO_CHANNELS", "inc-*".into()));
    // Live status: Graph reaches the bot at the balancer's URL (in production, your load balancer's https://).
    let balancer = support::balancer::Balancer::start().await;
    let certificate = tempfile::NamedTempFile::new().expect("temporary file");
    let pem = support::graph::credentials::AppCertificate::valid(support::graph::credentials::OTHER_KEY).pem;
    std::fs::write(certificate.path(), pem).expect("certificate written");
    vars.push(("MEETNOW_PUBLIC_URL", balancer.url.clone()));
    vars.push(("MEETNOW_NOTIFICATION_CERTIFICATE_PATH", certificate.path().display().to_string()));
    vars.push(("MEETNOW_LISTEN_ADDR", "127.0.0.1:0".into()));
    // Ringing: Graph's calls API; the directory has a colleague to ring.
    vars.extend(graph.ring_env());
    graph.allow_ringing();
    use support::graph::calls::{Answers, Colleague};
    let ada = Colleague::new(
        "4d1c7f00-0000-4000-8000-00000000ada0",
        "Ada Lovelace",
        "ada",
        Answers::Joins(std::time::Duration::from_secs(2)),
    );
    graph.add_colleague(ada);
    println!("Local Discord stand-in: {} (gateway {})", discord.url, discord.gateway_url);
    println!("Local Microsoft Entra + Graph stand-in: {}", graph.url);
    println!("Configuration, as a real deployment would set it:");
    for (name, value) in &vars {
        let shown = if name.ends_with("SECRET") || name.ends_with("TOKEN") { "(a stand-in secret)" } else { value };
        println!("  {name}={shown}");
    }
    println!();

    let config = support::config(&vars);
    meetnow::telemetry::init(config.log_format, &config.log_filter);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let http = meetnow::http::client().expect("TLS set-up");
    let deps = match meetnow::app::Deps::bind(&config, http, Default::default()).await {
        Ok(deps) => deps,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(addr) = deps.listener.as_ref().and_then(|l| l.local_addr().ok()) {
        balancer.add(addr);
    }
    let bot = tokio::spawn(async move {
        meetnow::app::run(&config, deps, async {
            let _ = stopped.await;
        })
        .await
    });

    if let Some(locale) = LOCALE.get() {
        // The server's preferred locale (Server Settings → Community), for what nobody typed.
        discord.set_preferred_locale(support::discord::GUILD_ID, locale);
    }
    discord.wait_for("the bot to register /meetnow", |d| (!d.registrations().is_empty()).then_some(())).await;
    println!("> /meetnow   (typed by @oncall in #inc-2041)\n");
    let first = discord.invoke(typed_in(CHANNEL)).await;
    let first = discord.settled(&first).await;
    match &first.original {
        Some(message) => print_announcement(message, first.acknowledged_after),
        None => println!("(no announcement: {:?})", first.ephemeral_text()),
    }

    println!("\n> /meetnow   (typed by @sre-lead in the same channel a minute later)\n");
    let mut again = typed_in(CHANNEL);
    again.user_id = 700_000_000_000_000_002;
    let again = discord.invoke(again).await;
    let again = discord.settled(&again).await;
    if let Some(message) = &again.original {
        print_announcement(message, again.acknowledged_after);
    }

    if let Some(announcement) = &first.original {
        println!("\n> (the call ends; later, @sre-lead clicks Attendance under the announcement)\n");
        let mut roles = vec![support::graph::ROLE, support::graph::attendance::ATTENDANCE_ROLE];
        roles.extend(support::graph::calls::RING_ROLES);
        graph.set_roles(&roles);
        if let Some(meeting) = announcement["embeds"][0]["url"].as_str().and_then(|url| graph.meeting_id_of(url)) {
            use support::graph::attendance::Attended;
            let started = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
            let people = [
                Attended::new("Olga Okafor", "Organizer", 0, 3300),
                Attended::new("Sam Rivera", "Attendee", 95, 3300),
                Attended::new("Priya N", "Presenter", 620, 2400),
            ];
            graph.add_attendance_report(&meeting, started, &people);
        }
        let token = discord.click(announcement, "meetnow:attendance", typed_in(CHANNEL)).await;
        let answer = discord.wait_for("the attendance answer", |d| d.interaction(&token).original).await;
        println!("(only you can see this)");
        print_announcement(&answer, None);
    }

    println!("\n> (someone declares an incident: creates the channel #inc-2042; nobody types anything)\n");
    let created = discord.create_channel("inc-2042", 0, 0).await;
    let automatic = discord
        .wait_for("the new channel's bridge", |d| d.channel_messages().into_iter().find(|m| m.channel_id == created))
        .await;
    print_announcement(&automatic.body, None);

    if let Some(announcement) = &first.original {
        play_a_call(&graph, &discord, announcement).await;
    }
    let rang = ring_someone(&graph, &discord).await;

    let _ = stop.send(());
    let stopped_cleanly = matches!(bot.await, Ok(Ok(())));
    let problems: Vec<String> =
        discord.violations().into_iter().chain(graph.violations()).chain(discord.pings()).collect();
    println!(
        "\nTeams meetings created: {}; pinned messages: {}; Graph token requests: {}",
        graph.meetings_created(),
        discord.pins().len(),
        graph.token_requests()
    );
    if problems.is_empty() && stopped_cleanly && first.original.is_some() && rang {
        println!("Every request matched Discord's and Microsoft's published schemas; nothing pinged anyone.");
        ExitCode::SUCCESS
    } else {
        eprintln!("Problems: {problems:#?} (bot stopped cleanly: {stopped_cleanly})");
        ExitCode::FAILURE
    }
}

/// Plays a call on the bridge `announcement` shows, as Graph's call events, and prints the pinned
/// announcement after each change.
async fn play_a_call(
    graph: &support::graph::GraphStandIn,
    discord: &support::discord::DiscordStandIn,
    announcement: &Value,
) {
    use support::graph::subscriptions::{payload, Forgery, PayloadShape, Where};
    let (Some(join), Some(message)) =
        (announcement["embeds"][0]["url"].as_str(), announcement["id"].as_str().and_then(|id| id.parse::<u64>().ok()))
    else {
        return;
    };
    graph
        .wait_for("the bridge's live-status subscription", |g| {
            g.subscriptions().iter().any(|s| s.join_url == join).then_some(())
        })
        .await;
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(50);
    let at = |minutes: i64| {
        (start + time::Duration::minutes(minutes))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    // (what happens on Teams, the event, minutes into the call, who)
    type Step<'a> = (&'a str, &'a str, i64, Vec<support::graph::subscriptions::Who<'a>>);
    let steps: [Step; 5] = [
        ("someone joins the bridge: the call starts", "started", 0, vec![]),
        (
            "Olga Okafor and Sam Rivera join; Priya N waits in the lobby",
            "roster",
            1,
            vec![
                ("olga", "Olga Okafor", Where::Joined),
                ("sam", "Sam Rivera", Where::Joined),
                ("priya", "Priya N", Where::Lobby),
            ],
        ),
        ("Priya N is admitted", "roster", 3, vec![("priya", "Priya N", Where::Joined)]),
        ("Sam Rivera leaves", "roster", 30, vec![("sam", "Sam Rivera", Where::Left)]),
        ("everyone hangs up: the call ends", "ended", 42, vec![]),
    ];
    let mut before = None;
    for (what, kind, minute, who) in steps {
        println!("\n> (on Teams: {what}; Graph tells the bot)\n");
        let sent = graph.deliver(join, &payload(PayloadShape::Schema, kind, &at(minute), &who), Forgery::None).await;
        if sent != 202 {
            println!("(the bot answered Graph {sent})");
            return;
        }
        // Each step changes what the announcement shows, in whatever language the server has.
        let status = discord
            .wait_for("the live status", |d| d.live_status_of(message).filter(|s| Some(s) != before.as_ref()))
            .await;
        before = Some(status.clone());
        // The live part, under the announcement it belongs to (printed whole at the end).
        println!("│ meetnow (bot), the pinned announcement of #inc-2041, its last part now:");
        for line in shown(&Value::String(status)).lines() {
            println!("│ ┃ {line}");
        }
    }
    if let Some(now) = discord.message(message) {
        println!("\n> (the pinned announcement once the call is over)\n");
        print_announcement(&now, None);
    }
}

/// `/meetnow ring:` in #inc-2041: the suggestions as "ad" is typed, then the ring line as it changes.
/// Whether Ada's phone rang and she joined.
async fn ring_someone(graph: &support::graph::GraphStandIn, discord: &support::discord::DiscordStandIn) -> bool {
    println!("\n> /meetnow ring:ad…   (@oncall starts typing a name; Discord asks the bot for suggestions)\n");
    let typing = discord.autocomplete(typed_in(CHANNEL), "ad").await;
    let choices = discord.choices(&typing).await;
    for (name, _) in &choices {
        println!("  ▸ {name}");
    }
    let Some((_, ada)) = choices.first() else { return false };
    println!("\n> /meetnow ring:Ada Lovelace   (picked from the list, sent)\n");
    let started = tokio::time::Instant::now();
    discord.invoke(typed_in(CHANNEL).ring(ada)).await;
    let rung = graph
        .wait_for("Ada's phone ringing", |g| g.calls().iter().find_map(|c| c.invitations.first().map(|i| i.rung_at)))
        .await;
    println!("(Ada's Teams rang {} ms after the command was sent)", rung.duration_since(started).as_millis());
    let ring_line = |m: &Value| m["embeds"][0]["url"].as_str().is_some_and(|u| u.contains("#meetnow-ring="));
    let ringing = discord.wait_for("the ring line", |d| d.messages_in(CHANNEL).into_iter().find(ring_line)).await;
    print_announcement(&ringing, None);
    // The line changes once Ada answers (in whatever language the server has: the colour says it).
    let joined = discord
        .wait_for("Ada to join", |d| {
            d.messages_in(CHANNEL).into_iter().find(|m| ring_line(m) && m["embeds"][0]["color"] == 0x002E_A043)
        })
        .await;
    println!("\n> (Ada picks up in Teams and joins the bridge; the bot leaves the call)\n");
    print_announcement(&joined, None);
    graph.wait_for("the bot to hang up", |g| (g.open_calls() == 0).then_some(())).await;
    println!("(the bot's own call lasted {} ms; it never shows in the live status)", {
        let call = &graph.calls()[0];
        call.deleted.map_or(0, |d| d.duration_since(call.created).as_millis())
    });
    true
}

/// The message as a Discord client renders it: markdown escapes resolved, timestamps in words, buttons.
fn print_announcement(message: &Value, acknowledged_after: Option<std::time::Duration>) {
    let bar = "│";
    println!("{bar} meetnow (bot)");
    for embed in message["embeds"].as_array().into_iter().flatten() {
        println!("{bar} ┃ {}", shown(&embed["title"]));
        for line in shown(&embed["description"]).lines() {
            println!("{bar} ┃ {line}");
        }
        for field in embed["fields"].as_array().into_iter().flatten() {
            println!("{bar} ┃");
            println!("{bar} ┃ {}", shown(&field["name"]));
            for line in shown(&field["value"]).lines() {
                println!("{bar} ┃   {line}");
            }
        }
        if let Some(footer) = embed["footer"]["text"].as_str() {
            println!("{bar} ┃ {footer}");
        }
    }
    for button in message["components"][0]["components"].as_array().into_iter().flatten() {
        match button["url"].as_str() {
            Some(url) => println!("{bar} [ {} ↗ ]  {url}", shown(&button["label"])),
            None => println!("{bar} [ {} ]", shown(&button["label"])),
        }
    }
    if let Some(after) = acknowledged_after {
        println!("(acknowledged {} ms after the command arrived)", after.as_millis());
    }
}

/// `<t:…:R>` as Discord writes it: "just now", "12 minutes ago".
fn relative(at: time::OffsetDateTime) -> String {
    match (time::OffsetDateTime::now_utc() - at).whole_minutes() {
        minutes if minutes < 1 => "just now".to_owned(),
        1 => "a minute ago".to_owned(),
        minutes if minutes < 60 => format!("{minutes} minutes ago"),
        minutes => format!("{} hours ago", minutes / 60),
    }
}

/// Text as Discord displays it: backslash escapes and code ticks removed, `<t:…:R>` as "just now".
fn shown(value: &Value) -> String {
    let text = value.as_str().unwrap_or_default();
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '`' => {}
            other => out.push(other),
        }
    }
    // Discord timestamps as a reader sees them: `:R` relative, `:f` and `:t` as (UTC) date and time.
    let mut rendered = String::new();
    let mut rest = out.as_str();
    while let Some(start) = rest.find("<t:") {
        let Some(end) = rest[start..].find('>').map(|e| start + e) else { break };
        let inner = &rest[start + 3..end];
        let (seconds, style) = inner.split_once(':').unwrap_or((inner, "f"));
        let at = seconds.parse().ok().and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok());
        rendered.push_str(&rest[..start]);
        rendered.push_str(&match (at, style) {
            (Some(at), "R") => relative(at),
            (None, "R") => "just now".to_owned(),
            (Some(at), "t") => format!("{:02}:{:02}", at.hour(), at.minute()),
            (Some(at), _) => format!("{} {} {:02}:{:02} UTC", at.day(), at.month(), at.hour(), at.minute()),
            (None, _) => inner.to_owned(),
        });
        rest = &rest[end + 1..];
    }
    rendered.push_str(rest);
    // Bold, as Discord shows it: the markers go.
    rendered.replace("**", "")
}
