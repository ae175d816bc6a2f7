//! Load benchmark: the real bot, in its own process, against the local Discord and Graph stand-ins.
//!
//! ```text
//! cargo run --release --example loadtest -- --commands 200 --graph-latency-ms 100
//! cargo run --release --example loadtest -- --commands 2000 --same-channel
//! cargo run --release --example loadtest -- --commands 200 --rate 100      # arrivals spread over 2 s
//! cargo run --release --example loadtest -- --baseline /path/to/older/loadtest --rounds 3
//! cargo run --release --example loadtest -- --tls --rtt-ms 40 --commands 200           # HTTP/2 over TLS
//! cargo run --release --example loadtest -- --tls --http1 --rtt-ms 40 --commands 200   # HTTP/1.1 over TLS
//! cargo run --release --example loadtest -- --tls --rtt-ms 40 --quiet-s 95 --rounds 3 --old-pool  # after quiet
//! cargo run --release --example loadtest -- --tls --rtt-ms 40 --commands 200 --unlimited --baseline OLD  # limits
//! ```
//!
//! The Discord stand-in limits like Discord (buckets, the global 50/s, 429s) and the bot keeps its own limits
//! (`DISCORD_RATELIMIT=local`), as in production. `--unlimited` adds, in every round, the current bot with no
//! limits anywhere (the stand-in's off, `DISCORD_RATELIMIT=proxy`), labelled "unlimited": what the limits cost.
//! Each run also reports the 429s the stand-in sent and when the last pin was made.
//!
//! `--tls` serves the stand-ins over HTTPS from a test CA the bot trusts through `SSL_CERT_FILE`; `--rtt-ms`
//! puts a relay in front of Graph/Entra and Discord REST that delays every segment by half of it each way (the
//! gateway is not delayed: no bot can avoid its latency, and it is the same for every variant). `--quiet-s S`
//! measures instead the announcement of a command sent S seconds after the last one against one sent a second
//! after the last one; `--old-pool` adds, in every round, the bot with the HTTP client as it was before
//! keep-alive and HTTP/2 (HTTP/1.1, idle connections closed after 90 s), for the side-by-side.
//!
//! It dispatches N `/meetnow` over the gateway (one channel each, or all in one channel), and for every
//! interaction takes the stand-ins' own clocks: dispatch → acknowledgement (the defer's arrival), dispatch →
//! announcement (the edit answered), and the bot's overhead: dispatch → announcement minus the time the
//! stand-ins spent serving that interaction's requests (callback, Graph calls, edit; injected latency
//! included). It reports p50/p90/p99/max, throughput, token requests, Graph requests per command, lost
//! announcements and the bot process's idle and peak resident memory: a table for people, then one JSON line.
//!
//! The bot process is this executable started with `--bot`: the same `meetnow::discord::run` the `meetnow`
//! binary calls, configured from the environment like the binary. `--baseline PATH` runs another build of
//! this example (e.g. from an older commit) the same way, alternating rounds, so before and after are
//! measured side by side in one run.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::discord::Invocation;

/// Load benchmark: the real bot in its own process against the local stand-ins (BENCHMARKS.md).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "loadtest")]
struct Args {
    /// How many /meetnow commands.
    #[arg(long, default_value_t = 200)]
    commands: usize,
    /// Graph's service time for each request, in milliseconds.
    #[arg(long = "graph-latency-ms", value_name = "MS", default_value = "100", value_parser = millis)]
    graph_latency: Duration,
    /// Discord's service time for each REST request, in milliseconds.
    #[arg(long = "discord-latency-ms", value_name = "MS", default_value = "0", value_parser = millis)]
    discord_latency: Duration,
    /// All commands in one channel (one standing bridge) instead of one channel each.
    #[arg(long)]
    same_channel: bool,
    /// Rounds; each runs the baseline (if any) and the current build side by side.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Another build of this benchmark to run as the baseline.
    #[arg(long, value_name = "PATH")]
    baseline: Option<PathBuf>,
    /// Measure this `meetnow` binary (started as `meetnow run`) instead of this example's own copy of the bot,
    /// whose code pages include the stand-ins'.
    #[arg(long, value_name = "PATH")]
    meetnow: Option<PathBuf>,
    /// Commands per second; without it, all at once.
    #[arg(long)]
    rate: Option<f64>,
    /// Serve the stand-ins over HTTPS (HTTP/2 offered), trusted through SSL_CERT_FILE.
    #[arg(long)]
    tls: bool,
    /// With --tls: offer only HTTP/1.1.
    #[arg(long, requires = "tls")]
    http1: bool,
    /// Round-trip time added between the bot and Graph/Entra and Discord REST.
    #[arg(long = "rtt-ms", value_name = "MS", value_parser = millis)]
    rtt: Option<Duration>,
    /// Measure the first command after this many seconds of quiet against one on a warm bot.
    #[arg(long = "quiet-s", value_name = "S", value_parser = seconds)]
    quiet: Option<Duration>,
    /// Each round also runs the bot with the HTTP client as it was before keep-alive and HTTP/2 (HTTP/1.1,
    /// idle connections closed after 90 s), labelled "old pool", side by side with the current one.
    #[arg(long)]
    old_pool: bool,
    /// Each round also runs the current bot with no rate limits anywhere, labelled "unlimited".
    #[arg(long)]
    unlimited: bool,
}

/// How one run's bot is set up, beyond which program it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// As configured (the current client; Discord's limits on both sides).
    Normal,
    /// The HTTP client before keep-alive and HTTP/2.
    OldPool,
    /// No rate limits: the stand-in's off, the bot's too.
    Unlimited,
}

fn seconds(value: &str) -> Result<Duration, std::num::ParseIntError> {
    value.parse().map(Duration::from_secs)
}

fn millis(value: &str) -> Result<Duration, std::num::ParseIntError> {
    value.parse().map(Duration::from_millis)
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--bot") {
        return bot_process();
    }
    // clap prints the problem and exits 2 on a bad argument.
    let args = <Args as clap::Parser>::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(benchmark(args))
}

/// The bot, configured from the environment as `meetnow run` is, stopping on SIGTERM.
fn bot_process() -> ExitCode {
    let config = match meetnow::config::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    meetnow::telemetry::init(config.log_format, &config.log_filter);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let http = if std::env::var_os("LOADTEST_OLD_POOL").is_some() {
            // The client before keep-alive and HTTP/2, for the side-by-side.
            reqwest::Client::builder()
                .user_agent("meetnow-loadtest-old-pool")
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(90))
                .http1_only()
                .build()
                .expect("TLS")
        } else {
            meetnow::http::client().expect("TLS")
        };
        let stop = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
            term.recv().await;
        };
        let ran = match meetnow::app::Deps::bind(&config, http, Default::default()).await {
            Ok(deps) => meetnow::app::run(&config, deps, stop).await,
            Err(error) => Err(error),
        };
        match ran {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn benchmark(args: Args) -> ExitCode {
    let current = args.meetnow.clone().unwrap_or_else(|| std::env::current_exe().expect("own path"));
    let mut runs: Vec<(String, Report)> = Vec::new();
    for _ in 0..args.rounds {
        if let Some(baseline) = &args.baseline {
            runs.push(("baseline".into(), run_once(&args, baseline, Variant::Normal).await));
        }
        if args.old_pool {
            let own = std::env::current_exe().expect("own path");
            runs.push(("old pool".into(), run_once(&args, &own, Variant::OldPool).await));
        }
        if args.unlimited {
            runs.push(("unlimited".into(), run_once(&args, &current, Variant::Unlimited).await));
        }
        runs.push(("current".into(), run_once(&args, &current, Variant::Normal).await));
    }
    let place =
        if args.same_channel { "all in one channel".to_owned() } else { format!("across {} channels", args.commands) };
    let spread = args.rate.map_or_else(|| "all at once".to_owned(), |rate| format!("{rate} per second"));
    let mode = format!("{place}, {spread}");
    let load = match args.quiet {
        // The quiet measurement is of the network path: the stand-ins answer at once.
        Some(quiet) => {
            format!("one command at a time, then one after {} s of quiet; no injected latency", quiet.as_secs())
        }
        None => format!(
            "{} commands {mode}; Graph latency {} ms, Discord latency {} ms",
            args.commands,
            args.graph_latency.as_millis(),
            args.discord_latency.as_millis()
        ),
    };
    println!(
        "meetnow load benchmark: {load}; {} CPU cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  network: {}{}",
        match (args.tls, args.http1) {
            (false, _) => "cleartext HTTP/1.1",
            (true, false) => "TLS, HTTP/2 offered",
            (true, true) => "TLS, HTTP/1.1 only",
        },
        args.rtt.map_or_else(String::new, |rtt| format!(
            ", {} ms round trip to Graph/Entra and Discord REST",
            rtt.as_millis()
        ))
    );
    let mut lost = 0;
    for (label, report) in &runs {
        report.print_table(label);
        lost += report.lost;
    }
    if args.quiet.is_some() {
        println!();
        for label in ["baseline", "old pool", "unlimited", "current"] {
            let of = |pick: fn(&Report) -> f64| {
                let mut values: Vec<f64> = runs.iter().filter(|(l, _)| l == label).map(|(_, r)| pick(r)).collect();
                values.sort_by(f64::total_cmp);
                values.get(values.len() / 2).copied()
            };
            if let (Some(warm), Some(quiet)) = (of(|r| r.warm_ms[0]), of(|r| r.quiet_ms[0])) {
                println!(
                    "[{label}] medians over rounds: warm {warm:.1} ms, after quiet {quiet:.1} ms, ratio {:.2}",
                    quiet / warm
                );
            }
        }
    }
    for (label, report) in &runs {
        println!("{}", report.json(label, &args));
    }
    if lost == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Debug, Default)]
struct Report {
    commands: usize,
    ack_ms: Vec<f64>,
    announce_ms: Vec<f64>,
    overhead_ms: Vec<f64>,
    elapsed: Duration,
    lost: usize,
    late_acks: usize,
    token_requests: u64,
    token_requests_after_start: u64,
    graph_per_new: f64,
    graph_per_reused: f64,
    idle_rss_kb: u64,
    peak_rss_kb: u64,
    bot_cpu: Duration,
    harness_cpu: Duration,
    /// Idle resident memory from the binary's pages and from allocations, and allocations after the burst.
    idle_file_kb: u64,
    idle_anon_kb: u64,
    after_anon_kb: u64,
    /// The bot's threads after the burst.
    threads: u64,
    /// `--quiet-s`: announcement of a command a second after the last one, and after the quiet.
    warm_ms: Vec<f64>,
    quiet_ms: Vec<f64>,
    /// TLS connections each stand-in accepted over the whole run (start-up included).
    graph_connections: u64,
    discord_connections: u64,
    /// 429s the Discord stand-in sent for its rate limits, by bucket and global.
    bucket_429s: u32,
    global_429s: u32,
    /// Pins made, and when the last one was, from the first dispatch; the pins the channels should have.
    pins: usize,
    pins_expected: usize,
    last_pin_ms: Option<f64>,
}

/// The stand-ins as `args` asks (HTTPS, HTTP/1.1 only, behind a delaying relay), and the bot's variables.
async fn stand_ins(
    args: &Args,
    ca_dir: &std::path::Path,
    variant: Variant,
) -> (support::graph::GraphStandIn, support::discord::DiscordStandIn, Vec<(&'static str, String)>) {
    use support::net::{DelayRelay, TestCa, Transport};
    let transport = match (args.tls, args.http1) {
        (false, _) => Transport::Plain,
        (true, false) => Transport::tls(),
        (true, true) => Transport::tls_http1(),
    };
    let graph = support::graph::GraphStandIn::start_on(&transport).await;
    let discord = support::discord::DiscordStandIn::start_on(&transport).await;
    let mut discord_url = discord.url.clone();
    if let Some(rtt) = args.rtt {
        let graph_relay = DelayRelay::start(graph.addr(), rtt / 2).await;
        let discord_relay = DelayRelay::start(discord.url.split_once("://").unwrap().1.parse().unwrap(), rtt / 2).await;
        graph.set_public_url(&graph_relay.url(&graph.url));
        discord_url = discord_relay.url(&discord.url);
    }
    let mut vars: Vec<(&'static str, String)> = graph.env().into_iter().chain(discord.env()).collect();
    for (name, value) in &mut vars {
        if *name == "DISCORD_API_URL" {
            *value = discord_url.clone();
        }
    }
    if args.tls {
        vars.push(("SSL_CERT_FILE", TestCa::shared().write(ca_dir).display().to_string()));
    }
    match variant {
        Variant::Normal => {}
        Variant::OldPool => vars.push(("LOADTEST_OLD_POOL", "1".into())),
        Variant::Unlimited => {
            discord.set_rate_limits(false);
            vars.push(("DISCORD_RATELIMIT", "proxy".into()));
        }
    }
    (graph, discord, vars)
}

async fn run_once(args: &Args, bot: &PathBuf, variant: Variant) -> Report {
    let ca_dir = tempfile::tempdir().expect("temporary directory");
    let (graph, discord, mut vars) = stand_ins(args, ca_dir.path(), variant).await;
    vars.push(("RUST_LOG", "error".into()));
    // The real binary runs as `meetnow run`; this example (or a baseline build of it) as `loadtest --bot`.
    let is_meetnow = bot.file_name().is_some_and(|name| name == "meetnow");
    // glibc's allocator settings pass through, to see what they change.
    let malloc: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("MALLOC_")).collect();
    let mut child = tokio::process::Command::new(bot)
        .arg(if is_meetnow { "run" } else { "--bot" })
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .envs(malloc)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the bot process");
    let pid = child.id().expect("bot pid");
    discord
        .wait_within(Duration::from_secs(60), "the bot to register", |d| (!d.registrations().is_empty()).then_some(()))
        .await;
    // Idle: connected, registered, token fetched, nothing to do.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kb = proc_status_kb(pid, "VmRSS:");
    // Where idle memory is: the program's own pages (code, read from the binary) against allocations.
    let idle_file_kb = proc_status_kb(pid, "RssFile:");
    let idle_anon_kb = proc_status_kb(pid, "RssAnon:");
    let token_requests_at_start = graph.token_requests();
    if let Some(quiet) = args.quiet {
        let report = quiet_and_warm(&discord, &graph, quiet, idle_rss_kb).await;
        // SAFETY: kill(2) on the child we spawned, with a valid signal number.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let _ = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
        return report;
    }

    graph.set_latency(args.graph_latency);
    discord.set_latency(args.discord_latency);
    // The tests validate every body; here the stand-ins should cost as little CPU as possible, since they
    // share the machine with the bot.
    graph.set_validation(false);
    discord.set_validation(false);
    let channel =
        |i: usize| if args.same_channel { 5_000_000_000_000_000_000 } else { 5_000_000_000_000_000_000 + i as u64 };
    let (bot_cpu_before, harness_cpu_before) = (cpu_time(pid), cpu_time(std::process::id()));
    let invocations: Vec<_> =
        (0..args.commands).map(|i| Invocation::in_channel(channel(i)).subject(&format!("load-{i}"))).collect();
    let started = Instant::now();
    let tokens = match args.rate {
        None => discord.invoke_all(invocations).await,
        Some(rate) => {
            // An even arrival rate: one command every 1/rate seconds.
            let mut tokens = Vec::with_capacity(invocations.len());
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            for invocation in invocations {
                tick.tick().await;
                tokens.push(discord.invoke(invocation).await);
            }
            tokens
        }
    };
    let limit = Duration::from_secs(120);
    let all = tokens.len();
    let settled = tokio::time::timeout(
        limit,
        discord.wait_within(limit, "announcements", move |d| (d.answered() >= all).then_some(())),
    )
    .await;
    let elapsed = started.elapsed();
    // Every new channel's announcement is pinned (one channel: one pin); the last pin is when that settled.
    let pins_expected = if args.same_channel { 1 } else { args.commands };
    // Three bot-token calls a pin, at most 50 a second: give it that and half a minute more, then report what
    // there is (a bot that gave up on 429s never gets there).
    let pin_limit = Duration::from_secs(30 + pins_expected as u64 * 3 / 40);
    let _ = tokio::time::timeout(
        pin_limit,
        discord.wait_within(pin_limit * 2, "pins", move |d| (d.pins().len() >= pins_expected).then_some(())),
    )
    .await;
    // A moment more for any pin beyond the expected, which the burst must not make.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pin_times = discord.pin_times();
    let last_pin_ms = pin_times.iter().max().map(|&at| ms(at.saturating_duration_since(started)));
    let peak_rss_kb = proc_status_kb(pid, "VmHWM:");
    let after_anon_kb = proc_status_kb(pid, "RssAnon:");
    let threads = proc_status_kb(pid, "Threads:");
    let bot_cpu = cpu_time(pid).saturating_sub(bot_cpu_before);
    let harness_cpu = cpu_time(std::process::id()).saturating_sub(harness_cpu_before);
    // SAFETY: kill(2) on the child we spawned, with a valid signal number.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    let _ = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
    if settled.is_err() {
        eprintln!("loadtest: not every command was answered within {limit:?}");
    }

    // Attribute Graph requests to interactions: by subject (`load-i`), and PATCHes by the meeting they change.
    let requests = graph.requests();
    let mut graph_service: HashMap<String, Vec<(Instant, Instant)>> = HashMap::new();
    let mut graph_count: HashMap<String, (usize, bool)> = HashMap::new();
    let mut created_by: HashMap<String, String> = HashMap::new();
    for request in &requests {
        let owner = match request.body["subject"].as_str() {
            Some(subject) => subject.to_owned(),
            None => match request.meeting_id.as_ref().and_then(|m| created_by.get(m)) {
                Some(owner) => owner.clone(),
                None => continue,
            },
        };
        if request.status == 201 {
            if let Some(meeting) = &request.meeting_id {
                created_by.insert(meeting.clone(), owner.clone());
            }
        }
        graph_service.entry(owner.clone()).or_default().extend(request.interval);
        let entry = graph_count.entry(owner).or_default();
        entry.0 += 1;
        entry.1 |= request.status == 201;
    }

    let records: HashMap<String, _> = discord.interactions().into_iter().map(|r| (r.token.clone(), r)).collect();
    let mut report = Report {
        idle_file_kb,
        idle_anon_kb,
        after_anon_kb,
        threads,
        graph_connections: support::net::Connections::get(&graph.connections.handshakes),
        discord_connections: support::net::Connections::get(&discord.connections.handshakes),
        commands: args.commands,
        elapsed,
        idle_rss_kb,
        peak_rss_kb,
        bot_cpu,
        harness_cpu,
        token_requests: graph.token_requests(),
        token_requests_after_start: graph.token_requests() - token_requests_at_start,
        bucket_429s: discord.rate_limited("user"),
        global_429s: discord.rate_limited("global"),
        pins: pin_times.len(),
        pins_expected,
        last_pin_ms,
        ..Report::default()
    };
    let (mut new, mut reused) = ((0, 0), (0, 0));
    for (i, token) in tokens.iter().enumerate() {
        let record = &records[token];
        let subject = format!("load-{i}");
        if let Some(ack) = record.acknowledged_after {
            report.ack_ms.push(ms(ack));
            if ack > support::discord::DEADLINE {
                report.late_acks += 1;
            }
        }
        match record.announced_after {
            Some(announced) => {
                report.announce_ms.push(ms(announced));
                // The bot's own time: the part of dispatch → announcement during which no stand-in was serving
                // one of this interaction's requests (requests can overlap, e.g. the lobby PATCH and the edit).
                let mut service = record.service.clone();
                service.extend(graph_service.get(&subject).into_iter().flatten().copied());
                let waiting = covered(&mut service, record.dispatched_at, record.dispatched_at + announced);
                report.overhead_ms.push(ms(announced.saturating_sub(waiting)));
            }
            None => report.lost += 1,
        }
        let (count, created) = graph_count.get(&subject).copied().unwrap_or_default();
        let bucket = if created { &mut new } else { &mut reused };
        bucket.0 += count;
        bucket.1 += 1;
    }
    report.graph_per_new = ratio(new);
    report.graph_per_reused = ratio(reused);
    report
}

/// One command to warm up, one a second later (warm), one after `quiet` (cold, if the bot let its connections
/// go): the announcement times of the last two.
async fn quiet_and_warm(
    discord: &support::discord::DiscordStandIn,
    graph: &support::graph::GraphStandIn,
    quiet: Duration,
    idle_rss_kb: u64,
) -> Report {
    let mut channel = 6_000_000_000_000_000_000u64;
    let mut announce = || {
        channel += 1;
        let invocation = Invocation::in_channel(channel);
        async move {
            let token = discord.invoke(invocation).await;
            discord.settled(&token).await.announced_after.map(ms).unwrap_or(f64::NAN)
        }
    };
    announce().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let warm = announce().await;
    tokio::time::sleep(quiet).await;
    let after_quiet = announce().await;
    Report {
        commands: 3,
        warm_ms: vec![warm],
        quiet_ms: vec![after_quiet],
        idle_rss_kb,
        graph_connections: support::net::Connections::get(&graph.connections.handshakes),
        discord_connections: support::net::Connections::get(&discord.connections.handshakes),
        ..Report::default()
    }
}

/// How much of `[from, to]` the intervals cover (their union, clipped).
fn covered(intervals: &mut [(Instant, Instant)], from: Instant, to: Instant) -> Duration {
    intervals.sort();
    let (mut total, mut reached) = (Duration::ZERO, from);
    for &(start, end) in intervals.iter() {
        let (start, end) = (start.max(reached), end.min(to));
        if end > start {
            total += end - start;
            reached = end;
        }
    }
    total
}

fn ratio((requests, commands): (usize, usize)) -> f64 {
    if commands == 0 {
        0.0
    } else {
        requests as f64 / commands as f64
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// User + system CPU time a process has used so far (/proc/PID/stat, in clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // after_name starts at field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// A `kB` line of /proc/PID/status (VmRSS: now, VmHWM: peak).
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn summary(values: &[f64]) -> [f64; 4] {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    [percentile(&sorted, 50.0), percentile(&sorted, 90.0), percentile(&sorted, 99.0), percentile(&sorted, 100.0)]
}

impl Report {
    fn print_table(&self, label: &str) {
        println!();
        if !self.warm_ms.is_empty() {
            println!(
                "[{label}] announcement 1 s after the last command {:.1} ms; after the quiet {:.1} ms (ratio {:.2}); \
                 TLS connections opened: Graph/Entra {}, Discord {}",
                self.warm_ms[0],
                self.quiet_ms[0],
                self.quiet_ms[0] / self.warm_ms[0],
                self.graph_connections,
                self.discord_connections
            );
            return;
        }
        println!("[{label}]                     p50        p90        p99        max");
        for (name, values) in [
            ("acknowledgement", &self.ack_ms),
            ("announcement", &self.announce_ms),
            ("bot overhead", &self.overhead_ms),
        ] {
            let [p50, p90, p99, max] = summary(values);
            println!("  {name:<22} {p50:>7.2} ms {p90:>7.2} ms {p99:>7.2} ms {max:>7.2} ms");
        }
        println!(
            "  throughput {:.0} commands/s; announcements lost {}; acknowledgements after 3 s {}",
            self.commands as f64 / self.elapsed.as_secs_f64(),
            self.lost,
            self.late_acks
        );
        println!(
            "  token requests {} ({} after start-up); Graph requests per command: new bridge {:.2}, reused {:.2}",
            self.token_requests, self.token_requests_after_start, self.graph_per_new, self.graph_per_reused
        );
        println!(
            "  Discord 429s: {} on buckets, {} global; pins {} of {} expected, the last {}",
            self.bucket_429s,
            self.global_429s,
            self.pins,
            self.pins_expected,
            self.last_pin_ms.map_or_else(|| "never".to_owned(), |ms| format!("{ms:.0} ms after the first command"))
        );
        if self.graph_connections + self.discord_connections > 0 {
            println!(
                "  TLS connections opened: Graph/Entra {}, Discord REST {}",
                self.graph_connections, self.discord_connections
            );
        }
        println!(
            "  bot memory: idle {:.1} MB, peak {:.1} MB; CPU: bot {:.0} ms ({:.2} ms per command), stand-ins and load generator {:.0} ms",
            self.idle_rss_kb as f64 / 1024.0,
            self.peak_rss_kb as f64 / 1024.0,
            ms(self.bot_cpu),
            ms(self.bot_cpu) / self.commands as f64,
            ms(self.harness_cpu)
        );
        println!(
            "  idle memory: {:.1} MB the program's pages, {:.1} MB allocated; allocated after the burst {:.1} MB; \
             {} threads",
            self.idle_file_kb as f64 / 1024.0,
            self.idle_anon_kb as f64 / 1024.0,
            self.after_anon_kb as f64 / 1024.0,
            self.threads
        );
    }

    fn json(&self, label: &str, args: &Args) -> String {
        let [a50, a90, a99, amax] = summary(&self.ack_ms);
        let [n50, n90, n99, nmax] = summary(&self.announce_ms);
        let [o50, o90, o99, omax] = summary(&self.overhead_ms);
        json!({
            "run": label, "commands": self.commands, "same_channel": args.same_channel, "rate_per_s": args.rate,
            "graph_latency_ms": args.graph_latency.as_millis() as u64, "discord_latency_ms": args.discord_latency.as_millis() as u64,
            "ack_ms": {"p50": a50, "p90": a90, "p99": a99, "max": amax},
            "announce_ms": {"p50": n50, "p90": n90, "p99": n99, "max": nmax},
            "overhead_ms": {"p50": o50, "p90": o90, "p99": o99, "max": omax},
            "throughput_per_s": self.commands as f64 / self.elapsed.as_secs_f64(),
            "lost": self.lost, "late_acks": self.late_acks,
            "token_requests": self.token_requests, "token_requests_after_start": self.token_requests_after_start,
            "graph_requests_per_new": self.graph_per_new, "graph_requests_per_reused": self.graph_per_reused,
            "idle_rss_kb": self.idle_rss_kb, "peak_rss_kb": self.peak_rss_kb,
            "idle_file_kb": self.idle_file_kb, "idle_anon_kb": self.idle_anon_kb, "after_anon_kb": self.after_anon_kb, "threads": self.threads,
            "bot_cpu_ms": ms(self.bot_cpu), "harness_cpu_ms": ms(self.harness_cpu),
            "tls": args.tls, "http1_only": args.http1, "rtt_ms": args.rtt.map(|d| d.as_millis() as u64),
            "quiet_s": args.quiet.map(|d| d.as_secs()),
            "warm_ms": self.warm_ms.first(), "after_quiet_ms": self.quiet_ms.first(),
            "graph_connections": self.graph_connections, "discord_connections": self.discord_connections,
            "bucket_429s": self.bucket_429s, "global_429s": self.global_429s,
            "pins": self.pins, "pins_expected": self.pins_expected, "last_pin_ms": self.last_pin_ms,
        })
        .to_string()
    }
}
