//! How long from `/meetnow ring:` to the person's phone ringing, beside the least it could be.
//!
//! ```text
//! cargo run --release --example ringtime -- --rings 20 --graph-latency-ms 80 --discord-latency-ms 40
//! ```
//!
//! The real bot (in process, configured as in production, live status and ringing on) against the stand-ins,
//! each ring in a channel of its own (a new bridge every time, as for a new incident). Each ring is timed on the
//! stand-ins' clocks: the command's dispatch to the moment the Graph stand-in accepted the invitation (Teams
//! starts ringing then). `--graph-latency-ms` and `--discord-latency-ms` are each service's time per request;
//! the calls stand-in takes 150 ms from `establishing` to `established`, as a call takes a moment to set up.
//!
//! The physical limit is the chain no bot can shorten: the meeting (createOrGet), joining it (`POST
//! /communications/calls`), its setting-up, and the invitation: three Graph round trips and the set-up. It
//! prints the median, p90 and max, the limit, and what lies between (the Discord round trips the bot takes
//! on the way, each named).

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::time::Duration;

use support::discord::Invocation;
use support::graph::calls::{Answers, Colleague};

const ADA: &str = "4d1c7f00-0000-4000-8000-00000000ada0";
/// The calls stand-in's set-up time (`calls.rs`).
const SETTING_UP: Duration = Duration::from_millis(150);

fn flag(args: &[String], name: &str, default: u64) -> u64 {
    args.iter().position(|a| a == name).and_then(|at| args.get(at + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let rings = flag(&args, "--rings", 20) as usize;
    let graph_latency = Duration::from_millis(flag(&args, "--graph-latency-ms", 80));
    let discord_latency = Duration::from_millis(flag(&args, "--discord-latency-ms", 40));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(measure(rings.max(1), graph_latency, discord_latency))
}

async fn measure(rings: usize, graph_latency: Duration, discord_latency: Duration) -> ExitCode {
    let (graph, discord, mut vars) = support::stand_ins().await;
    let balancer = support::balancer::Balancer::start().await;
    let certificate = support::live::CertificateFile::notifications();
    vars.extend(support::live::live_vars(&balancer, &certificate));
    vars.extend(graph.ring_env());
    vars.push(("RUST_LOG", "error".into()));
    graph.allow_ringing();
    graph.add_colleague(Colleague::new(ADA, "Ada Lovelace", "ada", Answers::Joins(Duration::from_millis(100))));
    graph.set_validation(false);
    discord.set_validation(false);
    let config = support::config(&vars);
    let http = meetnow::http::client().expect("TLS set-up");
    let deps = meetnow::app::Deps::bind(&config, http, Default::default()).await.expect("listeners");
    if let Some(addr) = deps.listener.as_ref().and_then(|l| l.local_addr().ok()) {
        balancer.add(addr);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let bot = tokio::spawn(async move {
        meetnow::app::run(&config, deps, async {
            let _ = stopped.await;
        })
        .await
    });
    discord.wait_for("/meetnow registered", |d| (!d.registrations().is_empty()).then_some(())).await;
    // Latency from here on: the start-up above is not what is measured.
    graph.set_latency(graph_latency);
    discord.set_latency(discord_latency);

    let mut times = Vec::new();
    for n in 0..rings {
        let channel = 1_320_000_000_000_000_000 + n as u64;
        let token = discord.invoke(Invocation::in_channel(channel).ring(ADA)).await;
        let dispatched = discord.interaction(&token).dispatched_at;
        let rung = graph
            .wait_for("the phone ringing", |g| g.calls().get(n).and_then(|c| c.invitations.first().map(|i| i.rung_at)))
            .await;
        times.push(rung.into_std().saturating_duration_since(dispatched));
        graph.wait_for("the bot to hang up", |g| (g.open_calls() == 0).then_some(())).await;
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let limit = graph_latency * 3 + SETTING_UP;
    println!("rings: {rings}; Graph {} ms and Discord {} ms per request", ms(graph_latency), ms(discord_latency));
    println!(
        "command → phone ringing: median {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(times[times.len() - 1])
    );
    println!(
        "physical limit: {:.0} ms (createOrGet, join, {} ms of set-up, invite); median / limit = {:.2}",
        ms(limit),
        SETTING_UP.as_millis(),
        at(0.5).as_secs_f64() / limit.as_secs_f64()
    );
    println!(
        "on the way, beyond the limit: the announcement's edit, the ring's line and the read for an earlier ring \
         (three Discord round trips; the person's lookup runs beside the bridge's)"
    );
    println!(
        "{}",
        serde_json::json!({
            "rings": rings, "graph_latency_ms": ms(graph_latency), "discord_latency_ms": ms(discord_latency),
            "p50_ms": ms(at(0.5)), "p90_ms": ms(at(0.9)), "limit_ms": ms(limit),
        })
    );
    let _ = stop.send(());
    match bot.await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
