//! Every error as the log reads it (one Display per variant) and as a person reads it (the fixes).

use super::*;

fn api(status: u16) -> ApiError {
    ApiError {
        status,
        code: Some("General".into()),
        message: Some("m".into()),
        request_id: Some("req-123".into()),
        client_request_id: "c".into(),
    }
}

#[test]
fn access_policy_message_names_both_commands_with_ids() {
    let message =
        GraphError::AccessPolicyMissing { client_id: "CLIENT".into(), organizer_id: "ORGANIZER".into(), api: api(403) }
            .user_message();
    assert!(message.contains("New-CsApplicationAccessPolicy -Identity MeetNow -AppIds \"CLIENT\""));
    assert!(message.contains("Grant-CsApplicationAccessPolicy -PolicyName MeetNow -Identity \"ORGANIZER\""));
    assert!(message.contains("30 minutes"));
    assert!(!message.contains("req-123"), "request ids go to the log only");
}

#[test]
fn every_token_code_has_its_own_fix() {
    let refused_with = |code, credential| {
        GraphError::from(TokenError::Refused {
            status: 401,
            aadsts: Some(code),
            error: Some("invalid_client".into()),
            description: None,
            trace_id: None,
            correlation_id: None,
            tenant_id: "TENANT".into(),
            client_id: "CLIENT".into(),
            credential,
        })
        .user_message()
    };
    let refused = |code| refused_with(code, "AZURE_CLIENT_SECRET");
    assert!(refused(7_000_215).contains("Value, not its Secret ID"));
    assert!(refused(7_000_222).contains("expired"));
    assert!(refused(700_016).contains("no app CLIENT in tenant TENANT"));
    assert!(refused(90_002).contains("no tenant TENANT"));
    assert!(refused(900_023).contains("not a valid tenant"));
    assert!(refused(70_011).contains("GRAPH_ENDPOINT"));
    let certificate = |code| refused_with(code, "AZURE_CLIENT_CERTIFICATE_PATH");
    let federated = |code| refused_with(code, "AZURE_FEDERATED_TOKEN_FILE");
    assert!(certificate(700_027).contains("Upload certificate"));
    assert!(certificate(700_024).contains("clock"));
    assert!(federated(700_024).contains("projected service account token"));
    for code in [70_021, 700_211, 700_213] {
        assert!(federated(code).contains("Federated credentials"), "AADSTS{code}");
    }
    assert!(certificate(700_021).contains("another app"));
    assert!(certificate(12_345).contains("AZURE_CLIENT_CERTIFICATE_PATH"), "the fallback names the way in use");
}

#[test]
fn throttling_says_when_to_retry() {
    let e = GraphError::Throttled { retry_after: Some(Duration::from_secs(42)), last: api(429) };
    assert!(e.user_message().contains("42 seconds"));
    assert_eq!(e.request_id(), Some("req-123"), "the request id support asks for stays with the error");
}

fn refused(aadsts: Option<u64>, trace: Option<&str>) -> TokenError {
    TokenError::Refused {
        status: 401,
        aadsts,
        error: Some("invalid_client".into()),
        description: Some("AADSTS7000215: Invalid client secret provided.".into()),
        trace_id: trace.map(str::to_owned),
        correlation_id: trace.map(|_| "c0rr".to_owned()),
        tenant_id: "TENANT".into(),
        client_id: "CLIENT".into(),
        credential: "AZURE_CLIENT_SECRET",
    }
}

fn cause() -> Cause {
    Cause::new(std::io::Error::other("invalid peer certificate: UnknownIssuer"))
}

/// Every variant, once: the `match` in the test is exhaustive, so a new variant needs its line here.
fn every_variant() -> Vec<GraphError> {
    let token = |error: TokenError| GraphError::Token(error);
    vec![
        token(refused(Some(7_000_215), Some("7race"))),
        token(TokenError::Credential { detail: "the federated token file is empty".into() }),
        token(TokenError::IdentityRefused { status: 400, explanation: None }),
        token(TokenError::UntrustedCertificate { host: "login.microsoftonline.com".into(), source: cause() }),
        token(TokenError::Unavailable { detail: "timed out".into(), source: Some(cause()) }),
        token(TokenError::Malformed { detail: "no access_token".into() }),
        GraphError::AccessPolicyMissing { client_id: "C".into(), organizer_id: "O".into(), api: api(403) },
        GraphError::Forbidden(api(403)),
        GraphError::OrganizerNotFound { organizer_id: "O".into(), api: api(404) },
        GraphError::Unauthorized(api(401)),
        GraphError::Throttled { retry_after: Some(Duration::from_secs(30)), last: api(429) },
        GraphError::UntrustedCertificate { host: "graph.microsoft.com".into(), source: cause() },
        GraphError::Unavailable { detail: "connection failed".into(), api: None, source: Some(cause()) },
        GraphError::Refused(api(400)),
        GraphError::AttendancePermissionMissing(api(403)),
        GraphError::MeetingNotFound,
        GraphError::UnexpectedResponse { status: 200, request_id: None, problem: MeetingShapeError::MissingId },
    ]
}

#[test]
fn every_error_reads_as_a_sentence_without_options_or_its_cause_twice() {
    for error in every_variant() {
        let expected = match &error {
            GraphError::Token(TokenError::Refused { .. }) => {
                "token request refused: HTTP 401 invalid_client AADSTS7000215: Invalid client secret provided. \
                 (trace id 7race, correlation id c0rr)"
            }
            GraphError::Token(TokenError::Credential { .. }) => {
                "sign-in credential unusable: the federated token file is empty"
            }
            GraphError::Token(TokenError::IdentityRefused { .. }) => {
                "managed identity endpoint refused: HTTP 400: no explanation"
            }
            GraphError::Token(TokenError::UntrustedCertificate { .. }) => {
                "the certificate of login.microsoftonline.com is not trusted"
            }
            GraphError::Token(TokenError::Unavailable { .. }) => "token endpoint unavailable: timed out",
            GraphError::Token(TokenError::Malformed { .. }) => "token response unreadable: no access_token",
            GraphError::AccessPolicyMissing { .. } => {
                "no application access policy: HTTP 403 General: m (request-id req-123, client-request-id c)"
            }
            GraphError::Forbidden(_) => "forbidden: HTTP 403 General: m (request-id req-123, client-request-id c)",
            GraphError::OrganizerNotFound { .. } => {
                "organizer not found: HTTP 404 General: m (request-id req-123, client-request-id c)"
            }
            GraphError::Unauthorized(_) => {
                "token not accepted: HTTP 401 General: m (request-id req-123, client-request-id c)"
            }
            GraphError::Throttled { .. } => {
                "throttled (Graph asked to wait 30 s): HTTP 429 General: m (request-id req-123, client-request-id c)"
            }
            GraphError::UntrustedCertificate { .. } => "the certificate of graph.microsoft.com is not trusted",
            GraphError::Unavailable { .. } => "graph unavailable: connection failed",
            GraphError::Refused(_) => "request refused: HTTP 400 General: m (request-id req-123, client-request-id c)",
            GraphError::AttendancePermissionMissing(_) => {
                "attendance reports forbidden: HTTP 403 General: m (request-id req-123, client-request-id c)"
            }
            GraphError::MeetingNotFound => "no meeting with that join link",
            GraphError::UnexpectedResponse { .. } => "unreadable response (HTTP 200): the meeting has no id",
        };
        assert_eq!(error.to_string(), expected);
        let chain = crate::telemetry::Chain(&error).to_string();
        assert!(!chain.contains("Some(") && !chain.contains("None"), "{chain}");
        if std::error::Error::source(&error).is_some() {
            assert_eq!(chain.matches("UnknownIssuer").count(), 1, "the cause once, from source(): {chain}");
        }
    }
}

#[test]
fn a_refusal_shows_the_ids_entra_sent_and_omits_the_rest() {
    assert_eq!(
        refused(None, None).to_string(),
        "token request refused: HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
    );
    let throttled = GraphError::Throttled { retry_after: None, last: api(429) };
    assert!(throttled.to_string().starts_with("throttled: HTTP 429"), "{throttled}");
    let unreadable = GraphError::UnexpectedResponse {
        status: 200,
        request_id: Some("r-9".into()),
        problem: MeetingShapeError::MissingJoinUrl,
    };
    assert_eq!(unreadable.to_string(), "unreadable response (HTTP 200, request-id r-9): the meeting has no join link");
}

#[test]
fn shorten_counts_characters_not_bytes() {
    assert_eq!(shorten("ééé", 2), "éé…");
    assert_eq!(shorten("ab", 2), "ab");
}
