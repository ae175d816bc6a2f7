//! `meetnow create` and `meetnow check`: the terminal face of the Graph module, and the fallback when
//! Discord is down. Output goes to stdout; logs go to stderr.

use std::io::Write;

use serde::Serialize;

use crate::config::Config;
use crate::graph::{GraphClient, GraphError, ATTENDANCE_ROLE, REQUIRED_ROLE};
use crate::l10n::Msg;
use crate::meeting::{Meeting, MeetingKey, MeetingRequest, Origin, NO_DIAL_IN_REASON};
use crate::telemetry::Chain;

/// The standing meeting `meetnow check` creates once and then reuses, proving the whole path works.
pub const CHECK_KEY: &str = "meetnow-setup-check";

/// How `create` should print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Creates (or, with a key, gets) a meeting and prints it to stdout.
///
/// # Errors
/// The [`GraphError`] when Graph refuses; the caller says it (its `user_message`) and exits 1.
pub async fn create(
    graph: &GraphClient,
    subject: String,
    key: Option<MeetingKey>,
    output: Output,
) -> Result<(), GraphError> {
    let meeting = graph.meeting(&MeetingRequest { subject, key }).await.inspect_err(|error| {
        tracing::error!(error = %Chain(error), kind = error.kind(), "could not create the meeting");
    })?;
    let printed = match output {
        Output::Text => render_text(&meeting),
        Output::Json => render_json(&meeting),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (`| head`) is not worth a panic.
    let _ = writeln!(stdout, "{printed}");
    Ok(())
}

/// Prints who was on the standing bridge for `key` (created on first use, like `create --key`): each ended
/// call with its attendees, for the postmortem when Discord is not at hand.
///
/// # Errors
/// The [`GraphError`] when Graph refuses (for example without `OnlineMeetingArtifact.Read.All`).
pub async fn attendance(graph: &GraphClient, key: MeetingKey, output: Output) -> Result<(), GraphError> {
    let meeting = graph.meeting(&MeetingRequest { subject: "Incident bridge".into(), key: Some(key) }).await?;
    let calls = graph.attendance(&meeting.id).await?;
    let printed = match output {
        Output::Json => serde_json::json!({"joinUrl": meeting.join_url, "calls": calls}).to_string(),
        Output::Text => render_attendance(&calls),
    };
    let _ = writeln!(std::io::stdout().lock(), "{printed}");
    Ok(())
}

/// Attendance for a terminal: a heading per call, a line per attendee, times in UTC.
pub fn render_attendance(calls: &[crate::meeting::CallAttendance]) -> String {
    if calls.is_empty() {
        return crate::l10n::Lang::ENGLISH.text(Msg::ATTENDANCE_NONE);
    }
    let time = |at: Option<time::OffsetDateTime>| at.map_or_else(|| "?".to_owned(), rfc3339_utc);
    let mut out = Vec::new();
    for (n, call) in calls.iter().enumerate() {
        let joined = call.participant_count.map(|c| format!(", {c} joined")).unwrap_or_default();
        out.push(format!("Call {}: {} to {}{joined}", n + 1, time(call.started_at), time(call.ended_at)));
        for a in &call.attendees {
            let role = a.role.clone().unwrap_or_default();
            // The terminal is the admin's: an attendee without a display name is shown by e-mail address.
            let shown =
                a.name.as_deref().filter(|n| !n.trim().is_empty()).or(a.email.as_deref()).unwrap_or("(unknown)");
            let name: String = shown.chars().filter(|c| !c.is_control()).collect();
            let (join, leave) = (time(a.first_join), time(a.last_leave));
            let spent = crate::discord::render::attendance_answer::duration(a.total_seconds);
            out.push(format!("  {name:<32} {role:<10} {join} to {leave}  {spent}"));
        }
    }
    out.join("\n")
}

fn rfc3339_utc(at: time::OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The meeting for a terminal: one fact per line, labels aligned.
pub fn render_text(meeting: &Meeting) -> String {
    let mut lines = Vec::new();
    let mut line = |label: &str, value: String| lines.push(format!("{label:<15} {value}"));
    line("Subject:", meeting.subject.clone().unwrap_or_else(|| "(none)".into()));
    let origin = match (meeting.origin, meeting.created_at) {
        (Origin::Created, _) => "new meeting".to_owned(),
        (Origin::Reused, Some(at)) => format!("existing meeting for this key, created {}", crate::meeting::rfc3339(at)),
        (Origin::Reused, None) => "existing meeting for this key".to_owned(),
    };
    line("Status:", origin);
    line("Join:", meeting.join_url.clone());
    if let Some(by_id) = &meeting.join_by_id {
        let passcode = by_id.passcode.as_deref().map(|p| format!("  passcode {p}")).unwrap_or_default();
        line("Meeting ID:", format!("{}{passcode}", by_id.meeting_id));
    }
    match &meeting.dial_in {
        Some(dial_in) => {
            for (kind, number) in dial_in.numbers() {
                let tap = dial_in.one_tap(number).map(|t| format!("  one tap {t}")).unwrap_or_default();
                line(&format!("{}:", kind.label()), format!("{number}{tap}"));
            }
            if let Some(id) = &dial_in.conference_id {
                line("Conference ID:", format!("{id}#"));
            }
            if let Some(url) = &dial_in.local_numbers_url {
                line("Local numbers:", url.clone());
            }
        }
        None => line("Dial-in:", NO_DIAL_IN_REASON.to_owned()),
    }
    line("Graph id:", meeting.id.clone());
    lines.join("\n")
}

/// The meeting as one JSON object: the [`Meeting`] fields plus the one-tap dial strings.
pub fn render_json(meeting: &Meeting) -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct WithOneTap<'a> {
        #[serde(flatten)]
        meeting: &'a Meeting,
        one_tap: Vec<String>,
    }
    let one_tap =
        meeting.dial_in.as_ref().map(|d| d.numbers().filter_map(|(_, n)| d.one_tap(n)).collect()).unwrap_or_default();
    // Serializing plain strings, numbers and RFC 3339 times can't fail.
    serde_json::to_string(&WithOneTap { meeting, one_tap }).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// `check`'s report: one line per check, and how many failed.
struct Report {
    failures: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        println!("ok    {what:<18} {}", detail.as_ref());
    }

    /// Works today, but won't for long: said, with what to do, but not a failure.
    fn warn(&mut self, what: &str, detail: impl AsRef<str>) {
        println!("WARN  {what:<18} {}", detail.as_ref());
    }

    fn skip(&mut self, what: &str, why: &str) {
        println!("--    {what:<18} skipped: {why}");
    }

    /// Something optional is missing: said, with how to add it, but not a failure.
    fn missing(&mut self, what: &str, fix: impl AsRef<str>) {
        println!("--    {what:<18} optional, missing: {}", fix.as_ref());
    }

    fn fail(&mut self, what: &str, fix: impl AsRef<str>) {
        self.failures += 1;
        // A fix can span lines (the PowerShell commands); keep them under the message, not at the margin.
        let fix = fix.as_ref().replace('\n', &format!("\n{:25}", ""));
        println!("FAIL  {what:<18} {fix}");
    }
}

/// Checks the whole setup against the real services, one line per check on stdout.
///
/// # Errors
/// [`ChecksFailed`] with how many failed (each has printed its line and its fix).
pub async fn check(config: &Config, graph: &GraphClient, http_client: reqwest::Client) -> Result<(), ChecksFailed> {
    let mut report = Report { failures: 0 };
    let organizer = &config.graph.organizer_id;
    report.ok("organizer id", format!("{organizer} is an Entra object id"));
    report.ok("sign-in way", config.graph.credential.describe());
    if let Some(warning) = config.graph.credential.expiry_warning(time::OffsetDateTime::now_utc()) {
        report.warn("certificate", warning);
    }

    match graph.token_info().await {
        Ok(token) => {
            report.ok(
                "graph sign-in",
                format!("app {} signed in to tenant {}", config.graph.client_id, config.graph.tenant_id),
            );
            if token.roles.iter().any(|r| r == ATTENDANCE_ROLE) {
                report.ok("attendance", format!("the token carries {ATTENDANCE_ROLE} (the Attendance button works)"));
            } else {
                report.missing(
                    "attendance",
                    format!(
                        "{ATTENDANCE_ROLE}, which the Attendance button and `meetnow attendance` need: API permissions → \
                         add Microsoft Graph → Application permissions → {ATTENDANCE_ROLE} → Grant admin consent"
                    ),
                );
            }
            if token.roles.iter().any(|r| r == REQUIRED_ROLE) {
                report.ok("permission", format!("the token carries {REQUIRED_ROLE}"));
            } else {
                let found = if token.roles.is_empty() { "none".to_owned() } else { token.roles.join(", ") };
                report.fail(
                    "permission",
                    format!(
                        "the token lacks {REQUIRED_ROLE} (roles: {found}). In Entra admin center → App registrations → \
                         the app → API permissions, add Microsoft Graph → Application permissions → {REQUIRED_ROLE}, \
                         then click Grant admin consent. New consent can take a few minutes to reach tokens."
                    ),
                );
            }
            check_meeting(&mut report, graph).await;
            check_ring(&mut report, config, &token.roles);
        }
        Err(error) => {
            report.fail("graph sign-in", error.user_message());
            report.fail("meeting", "skipped: sign-in must work first");
        }
    }

    check_live(&mut report, config, &http_client).await;

    if config.discord.token.is_none() {
        report.skip("discord token", "DISCORD_TOKEN is not set; set it to check the bot token and get the invite URL");
    } else {
        check_discord(&mut report, config, http_client).await;
    }

    match report.failures {
        0 => Ok(()),
        failed => Err(ChecksFailed(failed)),
    }
}

/// Ringing: the three application permissions in the token, then what no API shows (the Azure Bot's calling
/// settings), with where to set them.
fn check_ring(report: &mut Report, config: &Config, roles: &[String]) {
    let Some(ring) = &config.ring else {
        return report.missing(
            "ringing",
            "MEETNOW_RING=true lets /meetnow ring: call people into the bridge (README, \"Ring them in\")",
        );
    };
    // User.Read.All grants all that User.ReadBasic.All does.
    let has = |role: &str| roles.iter().any(|r| r == role || (role == "User.ReadBasic.All" && r == "User.Read.All"));
    let lacking: Vec<&str> = crate::graph::RING_ROLES.into_iter().filter(|role| !has(role)).collect();
    if lacking.is_empty() {
        report.ok("ring permissions", format!("the token carries {}", crate::graph::RING_ROLES.join(", ")));
    } else {
        report.fail(
            "ring permissions",
            format!(
                "the token lacks {}. In Entra admin center → App registrations → the app → API permissions, add \
                 Microsoft Graph → Application permissions → each of them, then click Grant admin consent",
                lacking.join(", ")
            ),
        );
    }
    let webhook = config
        .live
        .as_ref()
        .map(|live| format!("{}{}", live.public_url.as_str().trim_end_matches('/'), crate::ring::CALLS_PATH));
    report.skip(
        "calling",
        &format!(
            "no API shows it; check by hand: the app's Azure Bot (same app id) → Channels → Microsoft Teams → Calling: \
             Enable calling, Webhook (for calling) = {}. Without it Graph refuses every call with 403. Rings wait {} s \
             for an answer",
            webhook.as_deref().unwrap_or("MEETNOW_PUBLIC_URL/graph/calls"),
            ring.answer_within.as_secs()
        ),
    );
}

/// Live status: the certificate and its expiry, the listener, and whether the public URL answers Graph's
/// validation handshake from here (a bot must be running behind it; from here is not from the internet).
async fn check_live(report: &mut Report, config: &Config, http: &reqwest::Client) {
    let Some(live) = &config.live else {
        return report.missing(
            "live status",
            "MEETNOW_PUBLIC_URL and a notification certificate show on the announcement who is on the call and when \
             it ended (README, \"Live status\")",
        );
    };
    let base = live.public_url.as_str().trim_end_matches('/');
    report.ok(
        "live status",
        format!("on (Graph's meeting call events, a beta API): Graph posts to {base}/graph/notifications/…"),
    );
    let certificate = &live.certificate;
    let left = certificate.not_after - time::OffsetDateTime::now_utc();
    let warn_within = time::Duration::try_from(crate::credential::EXPIRY_WARNING).unwrap_or(time::Duration::ZERO);
    let shown = format!(
        "{} (RSA {} bits, within Graph's {} to {}; id {}), expires {}",
        certificate.path.display(),
        certificate.key_bits,
        crate::credential::ENCRYPTION_KEY_BITS.start(),
        crate::credential::ENCRYPTION_KEY_BITS.end(),
        crate::live::NotificationCertificate::new(certificate).id,
        certificate.expires_on()
    );
    if let crate::credential::Credential::Certificate(signing) = &config.graph.credential {
        if signing.sha256_thumbprint == certificate.sha256_thumbprint {
            report.warn("notification cert", crate::live::crypto::SHARED_KEY_WARNING);
        }
    }
    if let Some(previous) = &live.previous_certificate {
        report.ok(
            "previous cert",
            format!(
                "{} (id {}), being replaced: notifications Graph still encrypts to it are read, and each \
                 subscription on it is moved to the new one when it is next renewed (within 12 hours of its \
                 bridge's use). Unset MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH three days after the switch",
                previous.path.display(),
                crate::live::NotificationCertificate::new(previous).id
            ),
        );
    }
    if left < warn_within {
        report.warn(
            "notification cert",
            format!(
                "{shown}, in {} days: after that Graph can't send call events. Make a new one, put the same file on \
                 every process and restart them; subscriptions made from then on use it",
                left.whole_days().max(0)
            ),
        );
    } else {
        report.ok("notification cert", shown);
    }
    if let Some(addr) = config.listen_addr {
        report.ok("listener", format!("MEETNOW_LISTEN_ADDR {addr}; route {base} to it"));
    }
    let token = format!("meetnow-check-{}", rand::random::<u64>());
    let probe = format!("{base}{}/1/1/meetnow-check-0000?validationToken={token}", crate::live::NOTIFICATIONS_PATH);
    let answer =
        http.post(&probe).header("content-type", "text/plain").timeout(std::time::Duration::from_secs(10)).send().await;
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => match response.text().await {
            Ok(body) if body == token => {
                report.ok("public url", format!("{base} answers Graph's validation handshake (from this host)"))
            }
            _ => {
                report.warn("public url", format!("{base} answered the handshake with something else: is it meetnow?"))
            }
        },
        Ok(response) => report.warn(
            "public url",
            format!(
                "{base} answered HTTP {} to Graph's validation handshake; Graph needs 200 with the token back. Route \
                 {base}/graph/notifications to a running meetnow's MEETNOW_LISTEN_ADDR",
                response.status().as_u16()
            ),
        ),
        Err(error) => report.warn(
            "public url",
            format!(
                "{base} could not be reached from here ({}). Graph must reach it from the internet over HTTPS with a \
                 publicly trusted certificate, with meetnow running behind it",
                crate::http::describe_transport_error(&error)
            ),
        ),
    }
}

/// Some of `meetnow check`'s checks failed (how many); each printed its fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} check(s) failed; each FAIL line above says how to fix it")]
pub struct ChecksFailed(pub usize);

async fn check_discord(report: &mut Report, config: &Config, http_client: reqwest::Client) {
    let http = match crate::discord::rest::http(config, http_client) {
        Ok(http) => http,
        Err(error) => return report.fail("discord token", error.to_string()),
    };
    match http.get_current_user().await {
        Ok(user) => {
            report.ok("discord token", format!("bot {} (id {})", user.name, user.id));
            let invite = format!(
                "https://discord.com/oauth2/authorize?client_id={}&scope=bot+applications.commands&permissions={}",
                user.id,
                crate::discord::bot_permissions().bits()
            );
            report.ok("invite url", invite);
            report.ok(
                "pin permission",
                "the invite asks for Pin Messages (split from Manage Messages, which it asks for too, for roles \
                 made before the split) and Read Message History; in a channel where the bot lacks Pin Messages, \
                 announcements are not pinned and live status is kept on the newest one",
            );
        }
        Err(error) => return report.fail("discord token", discord_token_fix(&error)),
    }
    check_servers(report, config, &http).await;
}

/// Which servers the bot serves, and, when that is every one it is in, whether anyone can add it to theirs.
async fn check_servers(report: &mut Report, config: &Config, http: &serenity::all::Http) {
    if let Some(guilds) = &config.allowed_guild_ids {
        let list: Vec<String> = guilds.iter().map(u64::to_string).collect();
        return report.ok("servers", format!("serves only {} (MEETNOW_ALLOWED_GUILD_IDS)", list.join(", ")));
    }
    let public = match http.get_current_application_info().await {
        Ok(application) if application.bot_public => {
            "and the application is public: anyone can add it to their own server and create meetings under \
             the organizer's account. Make it private: Developer Portal → your application → Installation → \
             Install Link: None, then Bot → Public Bot: off"
        }
        Ok(_) => {
            "the application is private (only its owners can add it), but a server it was added to before is served"
        }
        Err(_) => "and whether the application is public could not be read",
    };
    report.warn(
        "servers",
        format!(
            "serves every server the bot is in; {public}. Set MEETNOW_ALLOWED_GUILD_IDS (or DISCORD_GUILD_ID) to \
             the servers it is for"
        ),
    );
}

async fn check_meeting(report: &mut Report, graph: &GraphClient) {
    // A real createOrGet proves the organizer, the access policy and the licence in one go; the fixed key
    // means repeated checks reuse one meeting.
    let key = MeetingKey::named(CHECK_KEY).ok();
    let request = MeetingRequest { subject: "meetnow setup check".into(), key };
    match graph.meeting(&request).await {
        Ok(meeting) => {
            let dial_in = if meeting.dial_in.is_some() {
                "with phone dial-in"
            } else {
                "without phone dial-in (the organizer has no Audio Conferencing licence)"
            };
            report.ok("meeting", format!("createOrGet works for the organizer (access policy in place), {dial_in}"));
        }
        Err(error) => report.fail("meeting", error.user_message()),
    }
}

fn discord_token_fix(error: &serenity::Error) -> String {
    use serenity::all::{HttpError, StatusCode};
    match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
            if response.status_code == StatusCode::UNAUTHORIZED =>
        {
            "Discord rejected DISCORD_TOKEN (401). In the Developer Portal → your application → Bot, press Reset \
             Token and paste the new token."
                .to_owned()
        }
        serenity::Error::Http(HttpError::Request(e)) if crate::graph::is_untrusted_certificate(e) => {
            crate::graph::untrusted_certificate_message(e.url().and_then(|u| u.host_str()).unwrap_or("Discord"))
        }
        other => format!("could not reach Discord to check the token: {other}"),
    }
}
