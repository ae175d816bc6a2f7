//! The doors live status and the rate limiter opened, tried as an attacker would: a stranger flooding the
//! notification endpoint, another process on the host using the rate-limit forwarder or holding its
//! connections open, a channel reader hunting for a dial-in caller's number in the links, absurd rate-limit
//! headers, and a replayed `/meetnow new:true`. Against the real binary where memory and sockets are what is
//! tested.

use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::discord::{Invocation, GUILD_ID};
use crate::support::graph::subscriptions::{Participant, Where};
use crate::support::live::{shows, Call, CertificateFile, LiveBot, LiveProcesses};
use crate::support::process::BotProcess;

/// The peak resident memory of process `pid` so far (`VmHWM`), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM in /proc/pid/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A stranger who knows only a served server's id (not a secret) sends notification batches of 256 KiB that
/// are 87,000 empty entries each, 24 at a time. The batch is read entry by entry up to its limit and the
/// rest skipped without being built, so the process's peak memory stays within a few MiB of what it was.
/// (Read whole first, each such batch was a vector of 25 to 38 MB.)
#[tokio::test]
async fn a_flood_of_huge_batches_costs_the_process_no_more_than_its_bodies() {
    let certificate = CertificateFile::notifications();
    let live = LiveProcesses::start(1, &certificate, &[]).await;
    let (_, _join) = live.announce(7901).await;
    let pid = live.processes[0].pid();
    let url = format!("{}/graph/notifications/{GUILD_ID}/7901/AAAAAAAAAAAAAAAA", live.balancer.url);
    let url = url.replace(&live.balancer.url, &live.endpoints[0].replace("/interactions", ""));
    let body = format!("{{\"value\":[{}{{}}]}}", "{},".repeat(87_000));
    assert!(body.len() <= 256 * 1024, "{}", body.len());
    let client = reqwest::Client::new();
    // Warm: the first batches make the allocator's arenas and the connection buffers it will reuse.
    for _ in 0..2 {
        assert_eq!(client.post(&url).body(body.clone()).send().await.unwrap().status(), 202);
    }
    let before = peak_kib(pid);
    let floods = (0..24).map(|_| {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        async move {
            let mut statuses = Vec::new();
            for _ in 0..8 {
                statuses.push(client.post(&url).body(body.clone()).send().await.unwrap().status().as_u16());
            }
            statuses
        }
    });
    let statuses: Vec<u16> = futures_util::future::join_all(floods).await.into_iter().flatten().collect();
    let after = peak_kib(pid);
    println!(
        "24 floods of 8 batches of {} KiB each: peak memory {:.1} MiB before, {:.1} MiB after (+{:.1} MiB); answers {:?}",
        body.len() / 1024,
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after - before) as f64 / 1024.0,
        statuses.iter().fold(std::collections::BTreeMap::new(), |mut seen, s| {
            *seen.entry(*s).or_insert(0) += 1;
            seen
        })
    );
    assert!(statuses.iter().all(|&s| s == 202 || s == 503), "accepted, or shed: {statuses:?}");
    assert!(after - before < 16 * 1024, "the flood raised the peak by {} KiB", after - before);
    // Still answering, and counting what it dropped.
    let metrics = crate::support::poll(&live.metrics[0], "the refusals", |answer| {
        answer.body.contains("meetnow_live_notifications_refused_total{reason=\"client_state\"}")
    })
    .await
    .body;
    assert!(metrics.contains("meetnow_live_notifications_total"), "{metrics}");
    live.stop().await;
}

/// The rate limiter's forwarder listens on loopback, where any process on the host can connect. Without this
/// process's secret nothing reaches Discord, its connection is closed, and connections that say nothing are
/// closed too; the bot's own commands go on meanwhile.
#[tokio::test]
async fn the_forwarder_serves_only_its_own_process() {
    let (_graph, discord, vars) = crate::support::stand_ins().await;
    let process = BotProcess::start(&vars);
    let forwarder = process.bound("rate limiter").await;
    discord.wait_for("/meetnow to be registered", |d| (!d.registrations().is_empty()).then_some(())).await;
    let calls_before = discord.rest_calls().len();

    // A stranger's requests, with a bot token (theirs, or a guess), with a wrong secret, and over HTTP/2.
    let stranger = reqwest::Client::builder().http2_prior_knowledge().no_proxy().build().unwrap();
    for secret in [None, Some("0".repeat(64))] {
        let mut request = stranger
            .get(format!("http://{forwarder}/api/v10/users/@me"))
            .header("authorization", format!("Bot {}", crate::support::discord::BOT_TOKEN));
        if let Some(secret) = secret {
            request = request.header("x-meetnow-forwarder", secret);
        }
        let status = request.send().await.map(|r| r.status().as_u16());
        assert!(matches!(status, Ok(403) | Err(_)), "refused: {status:?}");
    }
    assert_eq!(discord.rest_calls().len(), calls_before, "nothing of the stranger's reached Discord");

    // Sockets that say nothing, more than the forwarder takes at once: each is closed.
    let mut silent = Vec::new();
    for _ in 0..24 {
        silent.push(tokio::net::TcpStream::connect(forwarder).await.unwrap());
    }
    // And one that sends HTTP/2's preface, then nothing.
    let mut preface = tokio::net::TcpStream::connect(forwarder).await.unwrap();
    preface.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    silent.push(preface);
    for socket in &mut silent {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "a silent connection was left open");
    }
    // The bot's own calls still go through it.
    let token = discord.invoke(Invocation::in_channel(7902)).await;
    assert!(discord.settled(&token).await.original.is_some());
    let (status, output) = process.terminate().await;
    assert!(status.success() && !output.contains("panicked"), "{output}");
}

/// A dial-in caller's id is their phone number. Nothing the channel sees (text, links, the state the live
/// status carries) holds it, in any form a reader could test guesses against: not the number, not an
/// unkeyed hash of it.
#[tokio::test]
async fn no_link_the_channel_sees_gives_away_a_callers_number() {
    let live = LiveBot::start(&[]).await;
    let (discord, graph) = (&live.bot.discord, &live.bot.graph);
    let channel = 7903;
    let (message, join) = live.announce(channel).await;
    let call = Call::on(graph, &join);
    call.send("started", "2026-12-01T03:00:00Z", &[]).await;
    let number = "+14255550123";
    call.roster(
        "2026-12-01T03:00:05Z",
        &[
            Participant::user(number, "+1 425 555 0123", Where::Joined).kind("phone").on("p-pstn-1"),
            Participant::user("g-1", "+1 (425) 555-0123", Where::Joined).kind("guest"),
            Participant::user("u-ana", "Ana Lima", Where::Joined),
        ],
    )
    .await;
    shows(discord, message, &["On the call (3)", "Phone caller"]).await;

    let unkeyed: Vec<String> = ["phone", "guest", "user"]
        .iter()
        .map(|kind| {
            let digest = sha2::Sha256::digest(format!("{kind}:{number}").as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
        })
        .collect();
    let digits = "4255550123";
    for message in discord.messages_in(channel) {
        let text = serde_json::to_string(&message).unwrap();
        let mut seen = vec![text.clone()];
        // What the live-status link carries, decoded.
        for embed in message["embeds"].as_array().into_iter().flatten() {
            if let Some((_, state)) = embed["url"].as_str().and_then(|url| url.split_once("meetnow-live-2.")) {
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(state).unwrap();
                seen.push(String::from_utf8(decoded).unwrap());
            }
        }
        for seen in seen {
            let only_digits: String = seen.chars().filter(char::is_ascii_digit).collect();
            assert!(!only_digits.contains(digits), "the number, in some form: {seen}");
            for hash in &unkeyed {
                assert!(!seen.contains(hash.as_str()), "an unkeyed hash of the number: {seen}");
            }
        }
    }
}

/// Discord's rate-limit headers are numbers, but a proxy (or a bug) can send `NaN` or `inf`: they are no
/// headers then, not a panic in the limiter (`Duration::from_secs_f64(NaN)` panics).
#[tokio::test]
async fn absurd_rate_limit_headers_are_ignored() {
    let bot = crate::support::bot::RunningBot::start(&[]).await;
    bot.discord.set_absurd_rate_limit_headers(true);
    for channel in [7904, 7905] {
        let token = bot.discord.invoke(Invocation::in_channel(channel)).await;
        assert!(bot.discord.settled(&token).await.original.is_some(), "announced in {channel}");
    }
    bot.stop().await.unwrap();
}

/// In HTTP mode a signed request is good for five minutes, and each process remembers only what it handled
/// itself: the same `/meetnow new:true` replayed to another process gets the meeting the first one made, not
/// a second one.
#[tokio::test]
async fn a_replayed_new_true_gets_the_same_meeting_from_another_process() {
    let certificate = CertificateFile::notifications();
    let live = LiveProcesses::start(2, &certificate, &[]).await;
    let prepared = live.discord.prepare(&[Invocation::in_channel(7906).new_meeting()]).remove(0);
    let body = prepared.1.to_string().into_bytes();
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let signature = live.client.sign(&timestamp, &body);
    for endpoint in &live.endpoints {
        let answer = live.client.post(endpoint, body.clone(), Some((signature.clone(), timestamp.clone()))).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    live.graph
        .wait_for("both processes asked Graph", |g| {
            (g.requests().iter().filter(|r| r.path.ends_with("/createOrGet") && r.status != 0).count() == 2)
                .then_some(())
        })
        .await;
    assert_eq!(live.graph.meetings_created(), 1, "one meeting for one command");
    live.stop().await;
}

/// The key that signs the app in to Entra also decrypting what the internet posts is a warning in `meetnow
/// check`, with why and the fix.
#[tokio::test]
async fn check_warns_when_the_sign_in_key_also_decrypts_notifications() {
    let live = LiveBot::start(&[]).await;
    let graph = &live.bot.graph;
    graph.register_certificate(&live.certificate.der);
    let mut vars: Vec<(&'static str, String)> =
        graph.env().into_iter().filter(|(k, _)| *k != "AZURE_CLIENT_SECRET").collect();
    vars.push(("AZURE_CLIENT_CERTIFICATE_PATH", live.certificate.path()));
    vars.push(("MEETNOW_PUBLIC_URL", live.balancer.url.clone()));
    vars.push(("MEETNOW_LISTEN_ADDR", "127.0.0.1:0".into()));
    let out = crate::support::process::command(&["check"], &vars, None).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let warning = stdout.lines().find(|l| l.starts_with("WARN  notification cert")).unwrap_or_default();
    assert!(warning.contains("the sign-in certificate is also the notification certificate"), "{stdout}");
    assert!(stdout.contains("MEETNOW_NOTIFICATION_CERTIFICATE_PATH"), "{stdout}");
}
