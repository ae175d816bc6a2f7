//! Everything that can go wrong talking to Microsoft, as data, and the one function that turns it into
//! the sentence a person sees ([`GraphError::user_message`]).
//!
//! Graph's error body becomes fields (status, `code`, `message`, `request-id`, `client-request-id`), so the
//! log can carry them and the message can be chosen from them. The user message never includes request
//! ids or raw bodies; those go to the log through `Display`. A `Display` says what failed and never
//! repeats its `source()` (the transport or TLS error underneath): logs print both with
//! [`crate::telemetry::Chain`].

use std::sync::Arc;
use std::time::Duration;

use super::wire::MeetingShapeError;
use crate::l10n::{Lang, Msg};

/// The error underneath a failure (a `reqwest::Error` without its URL, say), kept whole so the log can walk
/// its `source()` chain; shared, so the errors that carry it stay `Clone`. Two causes are equal when they
/// read the same.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

/// A Graph error response, as fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// Graph's `error.code`, e.g. `General`, `Forbidden`, `NotFound`.
    pub code: Option<String>,
    pub message: Option<String>,
    /// Graph's `request-id` (header or body): what Microsoft support asks for.
    pub request_id: Option<String>,
    /// The `client-request-id` we sent.
    pub client_request_id: String,
}

impl std::error::Error for ApiError {}

impl GraphError {
    /// Graph did not answer usefully for a reason of our own (nothing sent, the budget used up).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable { detail: detail.into(), api: None, source: None }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        write!(
            f,
            " (request-id {}, client-request-id {})",
            self.request_id.as_deref().unwrap_or("none"),
            self.client_request_id
        )
    }
}

/// The sign-in step (client credentials) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Entra answered with an error: usually a configuration mistake, named by its AADSTS code.
    #[error("token request refused: {}", Refusal { status: *status, aadsts: *aadsts, error, description, trace_id, correlation_id })]
    Refused {
        status: u16,
        /// The first of `error_codes`, e.g. 7000215.
        aadsts: Option<u64>,
        error: Option<String>,
        description: Option<String>,
        trace_id: Option<String>,
        correlation_id: Option<String>,
        tenant_id: String,
        client_id: String,
        /// The variable of the way of signing in, e.g. `AZURE_CLIENT_CERTIFICATE_PATH`, for the fix.
        credential: &'static str,
    },
    /// The local side of signing in failed: the federated token file is missing or empty, no managed
    /// identity endpoint exists on this host. `detail` says what to do.
    #[error("sign-in credential unusable: {detail}")]
    Credential { detail: String },
    /// The managed identity endpoint refused (no identity, wrong client id).
    #[error("managed identity endpoint refused: HTTP {status}: {}", explanation.as_deref().unwrap_or("no explanation"))]
    IdentityRefused { status: u16, explanation: Option<String> },
    /// The TLS connection failed because the server's certificate is not trusted here; `source` is the TLS
    /// error (which certificate, why).
    #[error("the certificate of {host} is not trusted")]
    UntrustedCertificate {
        host: String,
        #[source]
        source: Cause,
    },
    /// The token endpoint could not be reached or kept failing (5xx, connection, timeout). `detail` says
    /// which; `source` is the transport error underneath, when there was one (not repeated in `detail`).
    #[error("token endpoint unavailable: {detail}")]
    Unavailable {
        detail: String,
        #[source]
        source: Option<Cause>,
    },
    /// A 200 response without a usable token.
    #[error("token response unreadable: {detail}")]
    Malformed { detail: String },
}

/// A failed Graph operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Token(#[from] TokenError),
    /// 403 "No application access policy found for this app".
    #[error("no application access policy: {api}")]
    AccessPolicyMissing { client_id: String, organizer_id: String, api: ApiError },
    /// Any other 403: consent missing, or the organizer is a guest or unlicensed.
    #[error("forbidden: {0}")]
    Forbidden(ApiError),
    /// 404 for the organizer path.
    #[error("organizer not found: {api}")]
    OrganizerNotFound { organizer_id: String, api: ApiError },
    /// 401 even with a token fetched just now.
    #[error("token not accepted: {0}")]
    Unauthorized(ApiError),
    /// 429 that lasted longer than the time budget; `last` is Graph's last answer (its request id included).
    #[error("throttled{}: {last}", Wait(*retry_after))]
    Throttled { retry_after: Option<Duration>, last: ApiError },
    /// The TLS handshake with Graph failed: its certificate is not signed by a CA this host trusts; `source`
    /// is the TLS error.
    #[error("the certificate of {host} is not trusted")]
    UntrustedCertificate {
        host: String,
        #[source]
        source: Cause,
    },
    /// 5xx, connection failures and timeouts that lasted longer than the time budget: `api` is Graph's last
    /// error answer, `source` the last transport error, whichever there was. `detail` says what happened
    /// without repeating `source`.
    #[error("graph unavailable: {detail}")]
    Unavailable {
        detail: String,
        api: Option<ApiError>,
        #[source]
        source: Option<Cause>,
    },
    /// Any other 4xx: Graph refused the request itself.
    #[error("request refused: {0}")]
    Refused(ApiError),
    /// 403 reading attendance: the app lacks `OnlineMeetingArtifact.Read.All` (or its consent).
    #[error("attendance reports forbidden: {0}")]
    AttendancePermissionMissing(ApiError),
    /// No meeting of the organizer has this join link (a bridge made by another organizer or deleted).
    #[error("no meeting with that join link")]
    MeetingNotFound,
    /// A 2xx whose body can't be turned into a meeting (HTML, truncated JSON, no link).
    #[error("unreadable response (HTTP {status}{}): {problem}", RequestId(request_id.as_deref()))]
    UnexpectedResponse { status: u16, request_id: Option<String>, problem: MeetingShapeError },
}

/// The body of [`TokenError::Refused`]'s `Display`: what Entra said, with the ids its support asks for.
struct Refusal<'a> {
    status: u16,
    aadsts: Option<u64>,
    error: &'a Option<String>,
    description: &'a Option<String>,
    trace_id: &'a Option<String>,
    correlation_id: &'a Option<String>,
}

impl std::fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(error) = self.error {
            write!(f, " {error}")?;
        }
        if let Some(code) = self.aadsts {
            write!(f, " AADSTS{code}")?;
        }
        if let Some(description) = self.description {
            // Entra's descriptions begin with the code already.
            let code = self.aadsts.map(|code| format!("AADSTS{code}: ")).unwrap_or_default();
            write!(f, ": {}", description.strip_prefix(code.as_str()).unwrap_or(description))?;
        }
        match (self.trace_id, self.correlation_id) {
            (Some(trace), Some(correlation)) => write!(f, " (trace id {trace}, correlation id {correlation})"),
            (Some(trace), None) => write!(f, " (trace id {trace})"),
            (None, Some(correlation)) => write!(f, " (correlation id {correlation})"),
            (None, None) => Ok(()),
        }
    }
}

/// How long Graph asked to wait, when it said.
struct Wait(Option<Duration>);

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(wait) => write!(f, " (Graph asked to wait {} s)", wait.as_secs()),
            None => Ok(()),
        }
    }
}

/// Graph's request id, when it sent one.
struct RequestId<'a>(Option<&'a str>);

impl std::fmt::Display for RequestId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(id) => write!(f, ", request-id {id}"),
            None => Ok(()),
        }
    }
}

/// The application permission the attendance reports need (optional: only the Attendance button uses it).
pub const ATTENDANCE_ROLE: &str = "OnlineMeetingArtifact.Read.All";

impl GraphError {
    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Token(TokenError::Refused { .. }) => "token_refused",
            Self::Token(TokenError::Unavailable { .. }) => "token_unavailable",
            Self::Token(TokenError::Malformed { .. }) => "token_malformed",
            Self::Token(TokenError::Credential { .. }) => "token_credential",
            Self::Token(TokenError::IdentityRefused { .. }) => "identity_refused",
            Self::Token(TokenError::UntrustedCertificate { .. }) => "untrusted_certificate",
            Self::AccessPolicyMissing { .. } => "access_policy_missing",
            Self::Forbidden(_) => "forbidden",
            Self::OrganizerNotFound { .. } => "organizer_not_found",
            Self::Unauthorized(_) => "unauthorized",
            Self::Throttled { .. } => "throttled",
            Self::UntrustedCertificate { .. } => "untrusted_certificate",
            Self::Unavailable { .. } => "unavailable",
            Self::Refused(_) => "refused",
            Self::UnexpectedResponse { .. } => "unexpected_response",
            Self::AttendancePermissionMissing(_) => "attendance_permission_missing",
            Self::MeetingNotFound => "meeting_not_found",
        }
    }

    /// Graph's error answer, when there was one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::AccessPolicyMissing { api, .. } | Self::OrganizerNotFound { api, .. } => Some(api),
            Self::Forbidden(api) | Self::Unauthorized(api) | Self::Refused(api) => Some(api),
            Self::AttendancePermissionMissing(api) => Some(api),
            Self::Throttled { last, .. } => Some(last),
            Self::Unavailable { api: Some(api), .. } => Some(api),
            _ => None,
        }
    }

    /// Graph's request id, when there is one, for the log and the audit line.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::AccessPolicyMissing { api, .. } | Self::OrganizerNotFound { api, .. } => api.request_id.as_deref(),
            Self::Forbidden(api) | Self::Unauthorized(api) | Self::Refused(api) => api.request_id.as_deref(),
            Self::AttendancePermissionMissing(api) => api.request_id.as_deref(),
            Self::UnexpectedResponse { request_id, .. } => request_id.as_deref(),
            Self::Throttled { last, .. } => last.request_id.as_deref(),
            Self::Unavailable { api: Some(api), .. } => api.request_id.as_deref(),
            _ => None,
        }
    }

    /// What the person who asked for the meeting reads, in English (the terminal and the logs): what went
    /// wrong and how to fix it. Contains no secret, token, request id or raw response body.
    pub fn user_message(&self) -> String {
        self.user_message_in(Lang::ENGLISH)
    }

    /// [`GraphError::user_message`] in `lang` (Discord answers in the reader's language). Commands, variable
    /// names and portal paths stay as they are in every language.
    pub fn user_message_in(&self, lang: Lang) -> String {
        match self {
            Self::Token(token) => token_message(token, lang),
            Self::AccessPolicyMissing { client_id, organizer_id, .. } => lang
                .format(Msg::ERROR_ACCESS_POLICY, &[("client", client_id.into()), ("organizer", organizer_id.into())]),
            Self::Forbidden(_) => lang.text(Msg::ERROR_FORBIDDEN),
            Self::OrganizerNotFound { organizer_id, .. } => {
                lang.format(Msg::ERROR_ORGANIZER_NOT_FOUND, &[("organizer", organizer_id.into())])
            }
            Self::Unauthorized(_) => lang.text(Msg::ERROR_UNAUTHORIZED),
            Self::Throttled { retry_after, .. } => {
                let wait = retry_after.map_or(30, |d| d.as_secs().max(1));
                lang.format(Msg::ERROR_THROTTLED, &[("seconds", wait.into())])
            }
            Self::UntrustedCertificate { host, .. } => untrusted_certificate_in(host, lang),
            Self::Unavailable { .. } => lang.text(Msg::ERROR_UNAVAILABLE),
            Self::Refused(api) => {
                let message = shorten(api.message.as_deref().unwrap_or("-"), 300);
                lang.format(
                    Msg::ERROR_REFUSED,
                    &[
                        ("status", api.status.into()),
                        ("code", api.code.as_deref().unwrap_or("-").into()),
                        ("message", message.as_str().into()),
                    ],
                )
            }
            Self::AttendancePermissionMissing(_) => {
                lang.format(Msg::ERROR_ATTENDANCE_PERMISSION, &[("role", ATTENDANCE_ROLE.into())])
            }
            Self::MeetingNotFound => lang.text(Msg::ERROR_MEETING_NOT_FOUND),
            Self::UnexpectedResponse { status, .. } => {
                lang.format(Msg::ERROR_UNEXPECTED_RESPONSE, &[("status", (*status).into())])
            }
        }
    }
}

fn token_message(error: &TokenError, lang: Lang) -> String {
    match error {
        TokenError::Refused { aadsts, error, tenant_id, client_id, credential, .. } => {
            let client = ("client", client_id.into());
            let tenant = ("tenant", tenant_id.into());
            let variable = ("variable", (*credential).into());
            let name = ("error", error.as_deref().unwrap_or("-").into());
            match aadsts {
                Some(7_000_215) => lang.text(Msg::SIGN_IN_SECRET_INVALID),
                Some(7_000_222) => lang.text(Msg::SIGN_IN_SECRET_EXPIRED),
                Some(700_016) => lang.format(Msg::SIGN_IN_NO_APP, &[client, tenant]),
                Some(90_002) => lang.format(Msg::SIGN_IN_NO_TENANT, &[tenant]),
                Some(900_023) => lang.format(Msg::SIGN_IN_INVALID_TENANT, &[tenant]),
                Some(70_011) => lang.text(Msg::SIGN_IN_SCOPE),
                Some(700_027) => lang.format(Msg::SIGN_IN_CERTIFICATE_UNKNOWN, &[client]),
                Some(700_024) if *credential == "AZURE_FEDERATED_TOKEN_FILE" => {
                    lang.text(Msg::SIGN_IN_FEDERATED_EXPIRED)
                }
                Some(700_024) => lang.text(Msg::SIGN_IN_CLOCK),
                Some(code @ (70_021 | 700_211 | 700_212 | 700_213)) => {
                    lang.format(Msg::SIGN_IN_FEDERATED_MISMATCH, &[client, ("code", (*code).into())])
                }
                Some(700_021) => lang.format(Msg::SIGN_IN_ASSERTION_OTHER_APP, &[client]),
                Some(50_027) => lang.format(Msg::SIGN_IN_ASSERTION_UNREADABLE, &[variable]),
                Some(code) => lang.format(Msg::SIGN_IN_REFUSED_CODE, &[("code", (*code).into()), name, variable]),
                None => lang.format(Msg::SIGN_IN_REFUSED, &[name, variable]),
            }
        }
        TokenError::Credential { detail } => lang.format(Msg::SIGN_IN_CREDENTIAL, &[("detail", detail.into())]),
        TokenError::IdentityRefused { status, explanation } => lang.format(
            Msg::SIGN_IN_IDENTITY_REFUSED,
            &[("status", (*status).into()), ("explanation", explanation.as_deref().unwrap_or("-").into())],
        ),
        TokenError::UntrustedCertificate { host, .. } => untrusted_certificate_in(host, lang),
        TokenError::Unavailable { .. } => lang.text(Msg::SIGN_IN_UNAVAILABLE),
        TokenError::Malformed { .. } => lang.text(Msg::SIGN_IN_MALFORMED),
    }
}

/// The fix for a TLS certificate this host does not trust: usually a company proxy that inspects TLS.
pub(crate) fn untrusted_certificate_message(host: &str) -> String {
    untrusted_certificate_in(host, Lang::ENGLISH)
}

fn untrusted_certificate_in(host: &str, lang: Lang) -> String {
    lang.format(Msg::ERROR_UNTRUSTED_CERTIFICATE, &[("host", host.into())])
}

/// At most `max` characters, with an ellipsis when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
