//! The Graph engine against the local Graph stand-in: meetings, reuse, tokens, retries and every error a
//! person can meet, through the real `GraphClient` built from a real `Config`.

use crate::support;

use std::time::Duration;

use crate::support::graph::{Audio, Fault, GraphStandIn, Shape, TokenFault, CLIENT_ID, ORGANIZER};
use futures_util::future::join_all;
use meetnow::graph::{GraphClient, GraphError, RetryPolicy, TokenError};
use meetnow::meeting::{MeetingKey, MeetingRequest, Origin};

fn client(graph: &GraphStandIn, extra: &[(&'static str, &str)]) -> GraphClient {
    client_with(graph, extra, RetryPolicy::default())
}

fn client_with(graph: &GraphStandIn, extra: &[(&'static str, &str)], policy: RetryPolicy) -> GraphClient {
    let mut vars = graph.env();
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let config = support::config(&vars);
    GraphClient::with_policy(meetnow::http::client().unwrap(), &config.graph, policy, Default::default())
}

fn standing(key: &str) -> MeetingRequest {
    MeetingRequest { subject: "Sev1 checkout down".into(), key: Some(MeetingKey::named(key).unwrap()) }
}

fn separate() -> MeetingRequest {
    MeetingRequest { subject: "Sev2 search slow".into(), key: None }
}

/// Short limits so fault tests end quickly; still real HTTP and real timers.
fn quick() -> RetryPolicy {
    RetryPolicy {
        budget: Duration::from_secs(3),
        attempt_timeout: Duration::from_millis(400),
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
    }
}

#[tokio::test]
async fn standing_meeting_is_created_once_then_reused_with_lobby_applied() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[("MEETNOW_LOBBY_BYPASS", "everyone"), ("MEETNOW_DIALIN_BYPASS", "false")]);

    let first = client.meeting(&standing("inc-2041")).await.unwrap();
    let second = client.meeting(&standing("inc-2041")).await.unwrap();

    assert_eq!(first.origin, Origin::Created);
    assert_eq!(second.origin, Origin::Reused);
    assert_eq!(first.id, second.id);
    assert_eq!(first.join_url, second.join_url);
    assert!(first.join_url.starts_with("https://teams.microsoft.com/l/meetup-join/"));
    assert_eq!(first.subject.as_deref(), Some("Sev1 checkout down"));
    assert_eq!(first.external_id.as_deref(), Some("meetnow:inc-2041"));
    assert!(first.request_id.is_some(), "Graph's request-id is kept for the audit log");
    assert_eq!(graph.meetings_created(), 1);

    // createOrGet can't carry lobby settings: one PATCH after the 201, none after the 200.
    let requests = graph.requests();
    let methods: Vec<_> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "POST"]);
    assert!(requests[0].path.ends_with("/onlineMeetings/createOrGet"));
    assert_eq!(
        graph.lobby_of(&first.id).unwrap(),
        serde_json::json!({"scope": "everyone", "isDialInBypassEnabled": false})
    );

    let dial_in = first.dial_in.unwrap();
    assert_eq!(dial_in.toll_numbers, ["+1 206-555-0100", "+44 20 7555 0100"]);
    assert_eq!(dial_in.toll_free_numbers, ["+1 866-555-0199"]);
    assert_eq!(
        dial_in.one_tap("+1 206-555-0100").unwrap(),
        format!("+12065550100,,{}#", dial_in.conference_id.as_ref().unwrap())
    );
    assert_eq!(first.join_by_id.unwrap().passcode.as_deref(), Some("aB3dE9"));
    assert_eq!(graph.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn every_request_carries_a_fresh_client_request_id_and_the_prefer_header() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[]);
    client.meeting(&standing("a")).await.unwrap();
    client.meeting(&separate()).await.unwrap();

    let requests = graph.requests();
    let ids: std::collections::HashSet<_> = requests.iter().map(|r| r.client_request_id.clone().unwrap()).collect();
    assert_eq!(ids.len(), requests.len(), "one id per request");
    for request in &requests {
        assert_eq!(request.prefer.as_deref(), Some("include-unknown-enum-members"));
    }
}

#[tokio::test]
async fn separate_meetings_are_new_each_time_and_carry_the_lobby_in_the_body() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[("MEETNOW_LOBBY_BYPASS", "organizationExcludingGuests")]);
    let a = client.meeting(&separate()).await.unwrap();
    let b = client.meeting(&separate()).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!((a.origin, b.origin), (Origin::Created, Origin::Created));
    assert_eq!(graph.meetings_created(), 2);
    let body = &graph.requests()[0].body;
    assert_eq!(body["lobbyBypassSettings"]["scope"], "organizationExcludingGuests");
    assert_eq!(body["lobbyBypassSettings"]["isDialInBypassEnabled"], true);
    assert!(body.get("externalId").is_none());
    assert_eq!(graph.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn meeting_times_span_the_configured_duration() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[("MEETNOW_DURATION_MINUTES", "90")]);
    let asked = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let meeting = client.meeting(&separate()).await.unwrap();
    let answered = time::OffsetDateTime::now_utc();
    let (start, end) = (meeting.starts_at.unwrap(), meeting.ends_at.unwrap());
    assert_eq!(end - start, time::Duration::minutes(90));
    assert!(asked <= start && start <= answered, "the meeting starts when it was asked for: {start}");
}

#[tokio::test]
async fn fifty_simultaneous_meetings_cause_one_token_request() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[]);
    let requests: Vec<_> = (0..50).map(|i| standing(&format!("inc-{i}"))).collect();
    let results = join_all(requests.iter().map(|r| client.meeting(r))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(graph.token_requests(), 1);
    assert_eq!(graph.meetings_created(), 50);
}

#[tokio::test]
async fn with_entra_hanging_every_waiting_meeting_ends_within_its_budget_after_one_sign_in() {
    let graph = GraphStandIn::start().await;
    graph.set_token_fault(Some(TokenFault::Hang));
    let policy = quick();
    let client = client_with(&graph, &[], policy);
    let requests: Vec<_> = (0..10).map(|i| standing(&format!("hang-{i}"))).collect();
    let results = join_all(requests.iter().map(|r| client.meeting(r))).await;
    for result in results {
        assert!(matches!(result, Err(GraphError::Token(TokenError::Unavailable { .. }))), "{result:?}");
    }
    // One sign-in at a time, shared; a failed one is the answer for 2 s before Entra is asked again. Before,
    // each of the ten asked in turn.
    let windows = policy.budget.as_millis().div_ceil(2000) as u64;
    assert!(graph.token_requests() <= windows, "{} sign-ins for 10 commands", graph.token_requests());
}

#[tokio::test]
async fn a_refused_sign_in_is_shared_by_everyone_waiting_and_remembered_briefly() {
    let graph = GraphStandIn::start().await;
    graph.set_token_fault(Some(TokenFault::Aadsts(7_000_222)));
    let client = client(&graph, &[]);
    let requests: Vec<_> = (0..20).map(|i| standing(&format!("refused-{i}"))).collect();
    let results = join_all(requests.iter().map(|r| client.meeting(r))).await;
    assert!(results.iter().all(|r| r.as_ref().is_err_and(|e| e.user_message().contains("expired"))));
    assert_eq!(graph.token_requests(), 1, "20 commands, one request to Entra");
}

#[tokio::test]
async fn a_retry_after_of_centuries_is_reported_at_once_not_overflowed() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Throttle(Some(u64::MAX)));
    let error = client_with(&graph, &[], quick()).meeting(&standing("centuries")).await.unwrap_err();
    let GraphError::Throttled { retry_after, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*retry_after, Some(meetnow::graph::MAX_RETRY_AFTER));
    assert!(error.user_message().contains("3600 seconds"), "{}", error.user_message());
}

#[tokio::test]
async fn token_lifetimes_of_zero_or_centuries_neither_panic_nor_spin() {
    for expires_in in [u64::MAX, 0] {
        let graph = GraphStandIn::start().await;
        graph.set_expires_in(expires_in);
        let client = client(&graph, &[]);
        let refresher = tokio::spawn(client.token_refresh());
        assert!(client.meeting(&standing("lifetime")).await.is_ok(), "expires_in {expires_in}");
        // The background refresher waits at least 45 s whatever the lifetime: a second meeting reuses the
        // token, and the refresher has not asked again meanwhile.
        assert!(client.meeting(&standing("lifetime")).await.is_ok());
        // A spinning refresher asks again within milliseconds (the old one did, refreshing at `started + 0`).
        let asked_again = graph.wait_for("a second token request", |g| (g.token_requests() > 1).then_some(()));
        assert!(tokio::time::timeout(std::time::Duration::from_millis(500), asked_again).await.is_err());
        assert_eq!(graph.token_requests(), 1, "expires_in {expires_in}");
        assert!(!refresher.is_finished(), "the refresher did not panic");
        refresher.abort();
    }
}

#[tokio::test]
async fn throttling_within_the_budget_is_waited_out() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Throttle(Some(1)));
    let client = client(&graph, &[]);
    let meeting = client.meeting(&standing("inc-1")).await.unwrap();
    // Graph sees the retry no sooner than it asked.
    let requests = graph.requests();
    let (throttled, retry) = (requests[0].interval.unwrap(), requests[1].interval.unwrap());
    assert_eq!(requests[0].status, 429);
    assert!(retry.0 - throttled.1 >= Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(meeting.origin, Origin::Created);
    assert_eq!(graph.meetings_created(), 1);
}

#[tokio::test]
async fn throttling_beyond_the_budget_says_when_to_retry_without_waiting() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Throttle(Some(30)));
    let client = client(&graph, &[]);
    let error = client.meeting(&standing("inc-1")).await.unwrap_err();
    assert_eq!(graph.requests().len(), 1, "a 30 s wait doesn't fit a 10 s budget: fail now, without a retry");
    assert!(matches!(error, GraphError::Throttled { retry_after: Some(d), .. } if d == Duration::from_secs(30)));
    assert!(error.user_message().contains("Try again in 30 seconds"), "{}", error.user_message());
}

#[tokio::test]
async fn unavailable_and_gateway_errors_are_retried() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Unavailable);
    graph.push_fault(Fault::GatewayTimeout);
    graph.push_fault(Fault::BadGatewayHtml);
    let client = client_with(&graph, &[], quick());
    let meeting = client.meeting(&standing("inc-1")).await.unwrap();
    assert_eq!(meeting.origin, Origin::Created);
    assert_eq!(graph.meetings_created(), 1);
}

#[tokio::test]
async fn an_expired_token_is_replaced_once() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[]);
    client.meeting(&standing("warm-up")).await.unwrap();
    graph.push_fault(Fault::ExpireTokens);
    let meeting = client.meeting(&standing("inc-1")).await.unwrap();
    assert_eq!(meeting.origin, Origin::Created);
    assert_eq!(graph.token_requests(), 2);
}

#[tokio::test]
async fn missing_access_policy_names_the_powershell_fix_and_is_not_retried() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::AccessPolicy));
    let client = client(&graph, &[]);
    let error = client.meeting(&standing("inc-1")).await.unwrap_err();
    let GraphError::AccessPolicyMissing { api, .. } = &error else { panic!("{error:?}") };
    assert_eq!((api.status, api.code.as_deref()), (403, Some("General")));
    assert!(api.request_id.is_some() && !api.client_request_id.is_empty());
    let message = error.user_message();
    assert!(message.contains(&format!("-AppIds \"{CLIENT_ID}\"")), "{message}");
    assert!(message.contains(&format!("Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity \"{ORGANIZER}\"")));
    assert!(message.contains("30 minutes"));
    assert_eq!(graph.requests().len(), 1, "403 is never retried");
}

#[tokio::test]
async fn forbidden_without_a_policy_message_points_at_consent() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::ForbiddenEmpty));
    let error = client(&graph, &[]).meeting(&separate()).await.unwrap_err();
    assert!(matches!(error, GraphError::Forbidden(_)));
    assert!(error.user_message().contains("Grant admin consent"));
}

#[tokio::test]
async fn an_unknown_organizer_says_which_id_to_fix() {
    let graph = GraphStandIn::start().await;
    let other = "aaaaaaaa-0000-4000-8000-000000000000";
    let error = client(&graph, &[("MEETNOW_ORGANIZER_ID", other)]).meeting(&separate()).await.unwrap_err();
    assert!(matches!(error, GraphError::OrganizerNotFound { .. }), "{error:?}");
    assert!(error.user_message().contains(other));
}

#[tokio::test]
async fn no_audio_conferencing_licence_means_no_dial_in_but_a_join_link() {
    let graph = GraphStandIn::start().await;
    graph.set_audio(Audio::Null);
    let meeting = client(&graph, &[]).meeting(&standing("inc-1")).await.unwrap();
    assert_eq!(meeting.dial_in, None);
    assert!(meeting.join_url.starts_with("https://"));
}

#[tokio::test]
async fn the_seeds_response_shapes_give_the_same_meeting_as_v1() {
    let graph = GraphStandIn::start().await;
    let client = client(&graph, &[]);

    graph.set_shape(Shape::Beta2018);
    let legacy = client.meeting(&separate()).await.unwrap();
    assert!(legacy.join_url.starts_with("https://teams.microsoft.com/l/meetup-join/"), "joinUrl read");
    let dial_in = legacy.dial_in.as_ref().unwrap();
    assert_eq!(dial_in.toll_numbers, ["+12525634478"]);
    assert_eq!(dial_in.toll_free_numbers, ["+18666390588"]);
    assert_eq!(dial_in.conference_id.as_deref(), Some("2425999"), "participantPasscode read as the conference id");
    assert_eq!(dial_in.one_tap("+12525634478").as_deref(), Some("+12525634478,,2425999#"));
    assert!(dial_in.local_numbers_url.as_deref().unwrap().starts_with("https://dialin.teams.microsoft.com/"));

    graph.set_shape(Shape::Beta2020);
    let asked = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let beta = client.meeting(&standing("inc-2020")).await.unwrap();
    let dial_in = beta.dial_in.as_ref().unwrap();
    assert_eq!(dial_in.toll_numbers, ["555-749-0000"]);
    assert!(dial_in.toll_free_numbers.is_empty());
    assert_eq!(dial_in.conference_id.as_deref(), Some("804980000"));
    assert_eq!(beta.external_id.as_deref(), Some("meetnow:inc-2020"));
    let created = beta.created_at.expect("creationDateTime read");
    assert!(asked <= created && created <= time::OffsetDateTime::now_utc(), "{created}");
}

#[tokio::test]
async fn a_wrong_client_secret_is_named_with_its_fix() {
    let graph = GraphStandIn::start().await;
    let error = client(&graph, &[("AZURE_CLIENT_SECRET", "wrong~secret")]).meeting(&separate()).await.unwrap_err();
    assert!(matches!(error, GraphError::Token(TokenError::Refused { aadsts: Some(7_000_215), .. })), "{error:?}");
    assert!(error.user_message().contains("Value, not its Secret ID"));
    assert_eq!(graph.requests().len(), 0, "no Graph call without a token");
}

#[tokio::test]
async fn each_aadsts_code_from_the_token_endpoint_becomes_its_own_error() {
    for (code, phrase) in [
        (7_000_215, "Secret ID"),
        (7_000_222, "expired"),
        (700_016, "found no app"),
        (90_002, "found no tenant"),
        (900_023, "not a valid tenant"),
    ] {
        let graph = GraphStandIn::start().await;
        graph.set_token_fault(Some(TokenFault::Aadsts(code)));
        let error = client(&graph, &[]).meeting(&separate()).await.unwrap_err();
        assert!(matches!(&error, GraphError::Token(TokenError::Refused { aadsts: Some(c), .. }) if *c == code));
        assert!(error.user_message().contains(phrase), "{code}: {}", error.user_message());
    }
}

#[tokio::test]
async fn a_token_endpoint_that_is_down_is_retried_then_reported() {
    let graph = GraphStandIn::start().await;
    graph.set_token_fault(Some(TokenFault::Down));
    let error = client_with(&graph, &[], quick()).meeting(&separate()).await.unwrap_err();
    assert!(matches!(error, GraphError::Token(TokenError::Unavailable { .. })), "{error:?}");
    assert!(graph.token_requests() > 1, "retried within the budget");
    assert!(error.user_message().contains("not answering"));
}

#[tokio::test]
async fn a_slow_create_or_get_is_retried_without_a_duplicate() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Slow(Duration::from_secs(2)));
    let meeting = client_with(&graph, &[], quick()).meeting(&standing("inc-1")).await.unwrap();
    assert_eq!(graph.meetings_created(), 1, "the retry found the meeting the slow request made");
    assert_eq!(meeting.origin, Origin::Reused);
    assert!(graph.requests().iter().filter(|r| r.method == "POST").count() >= 2);
}

#[tokio::test]
async fn a_slow_separate_meeting_is_not_retried_blindly() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Slow(Duration::from_secs(2)));
    let error = client_with(&graph, &[], quick()).meeting(&separate()).await.unwrap_err();
    assert!(matches!(error, GraphError::Unavailable { .. }), "{error:?}");
    assert_eq!(graph.requests().len(), 1, "a plain POST that may have arrived is not repeated");
}

#[tokio::test]
async fn broken_bodies_on_create_or_get_are_retried_safely() {
    let graph = GraphStandIn::start().await;
    graph.push_fault(Fault::Truncated);
    graph.push_fault(Fault::NotJson);
    let meeting = client_with(&graph, &[], quick()).meeting(&standing("inc-1")).await.unwrap();
    assert_eq!(graph.meetings_created(), 1);
    assert!(meeting.join_url.starts_with("https://"));
}

#[tokio::test]
async fn a_broken_body_that_persists_is_reported_not_posted() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::Truncated));
    let error = client_with(&graph, &[], quick()).meeting(&standing("inc-1")).await.unwrap_err();
    assert!(matches!(error, GraphError::UnexpectedResponse { .. }), "{error:?}");
    assert!(error.user_message().contains("no link was posted"));
}

#[tokio::test]
async fn connection_refused_ends_as_unavailable_within_the_budget() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", unused.local_addr().unwrap());
    drop(unused);
    let graph = GraphStandIn::start().await;
    let mut policy = quick();
    policy.budget = Duration::from_secs(1);
    let client = client_with(&graph, &[("GRAPH_ENDPOINT", &url)], policy);
    // The token comes from the stand-in; Graph itself is unreachable.
    let error = tokio::time::timeout(Duration::from_secs(30), client.meeting(&standing("inc-1")))
        .await
        .expect("it gives up when the budget is spent, not never")
        .unwrap_err();
    assert!(matches!(error, GraphError::Unavailable { .. }), "{error:?}");
    assert!(error.user_message().contains("not answering"));
    let metrics = client.metrics().render();
    let retries: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("meetnow_graph_retries_total "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no retry count in {metrics}"));
    assert!(retries >= 1, "it tried again while the budget lasted");
}

/// The schema checks the stand-in applies would catch a wrong body: they are not vacuous.
#[test]
fn stand_in_schemas_reject_what_graph_rejects() {
    use serde_json::json;
    let create_or_get = support::schema::graph_create_or_get();
    let good = json!({"externalId": "k", "subject": "s", "startDateTime": "2026-11-22T18:00:00.5Z", "endDateTime": "2026-11-22T19:00:00Z"});
    assert_eq!(create_or_get.violations(&good), Vec::<String>::new());
    let mut with_lobby = good.clone();
    with_lobby["lobbyBypassSettings"] = json!({"scope": "everyone"});
    assert!(!create_or_get.violations(&with_lobby).is_empty(), "createOrGet takes no lobby settings");
    assert!(!create_or_get.violations(&json!({"subject": "s"})).is_empty(), "externalId is required");
    assert!(!create_or_get.violations(&json!({"externalId": "k", "startDateTime": "tomorrow"})).is_empty());

    let meeting = support::schema::graph_online_meeting();
    let good = json!({"subject": "s", "startDateTime": "2026-11-22T18:00:00Z", "lobbyBypassSettings": {"scope": "invited", "isDialInBypassEnabled": true}});
    assert_eq!(meeting.violations(&good), Vec::<String>::new());
    assert!(!meeting.violations(&json!({"subjekt": "s"})).is_empty(), "unknown property");
    assert!(!meeting.violations(&json!({"lobbyBypassSettings": {"scope": "anyone"}})).is_empty(), "enum");
    assert!(!meeting.violations(&json!({"lobbyBypassSettings": {"isDialInBypassEnabled": "yes"}})).is_empty());
}

#[tokio::test]
async fn outages_keep_graphs_error_and_the_transport_errors_cause() {
    let graph = GraphStandIn::start().await;
    graph.set_always(Some(Fault::Unavailable));
    let error = client_with(&graph, &[], quick()).meeting(&standing("inc-1")).await.unwrap_err();
    let GraphError::Unavailable { api: Some(api), .. } = &error else { panic!("{error:?}") };
    assert_eq!(api.status, 503);
    assert!(error.request_id().is_some(), "the request id support asks for is kept: {error:?}");

    graph.set_always(Some(Fault::Slow(Duration::from_secs(3))));
    let error = client_with(&graph, &[], quick()).meeting(&separate()).await.unwrap_err();
    let cause = std::error::Error::source(&error).expect("the transport error is kept whole");
    assert!(!cause.to_string().is_empty());
    assert!(!format!("{cause:?}").contains("onlineMeetings"), "without its URL: {cause:?}");
}
