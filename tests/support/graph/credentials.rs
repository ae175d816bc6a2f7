//! The Entra stand-in's side of signing in without a secret: what it checks in a client assertion or a
//! federated token, and the two managed-identity endpoints (App Service's and the instance metadata service).
//!
//! A certificate assertion is checked as Entra checks it: the `x5t#S256` header names a certificate
//! registered for the app, the RS256 signature verifies with that certificate's key, `aud` is the token
//! endpoint, `iss` and `sub` are the client id, `exp` has not passed. A federated token must come from the
//! registered issuer with the registered subject and audience, signed with the issuer's key, unexpired.
//! Each wrong input gets Entra's error code for it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use super::{AppState, CLIENT_ID, CLIENT_SECRET};

/// The RSA keys the tests make certificates with (RSA generation is slow and ring can't do it, so these
/// two were made once with `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`).
pub const APP_KEY: &str = include_str!("../../fixtures/app-rsa-key.pem");
pub const OTHER_KEY: &str = include_str!("../../fixtures/other-rsa-key.pem");

/// A Kubernetes cluster's service-account token issuer, as a federated identity credential names it.
pub const ISSUER: &str = "https://oidc.prod-aks.azure.com/72f988bf-stand-in/";
pub const SUBJECT: &str = "system:serviceaccount:incident:meetnow";
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
/// What App Service puts in `IDENTITY_HEADER`.
pub const IDENTITY_HEADER: &str = "stand-in-identity-header-5f2a";

use meetnow::credential::JWT_BEARER;

/// A certificate for the app, made by rcgen from one of the fixture keys, and the PEM file meetnow reads.
pub struct AppCertificate {
    /// Certificate then private key, as `AZURE_CLIENT_CERTIFICATE_PATH` holds them.
    pub pem: String,
    pub der: Vec<u8>,
    /// Its `notAfter`, as it was made.
    pub not_after: time::OffsetDateTime,
}

impl AppCertificate {
    /// A certificate of `key_pem` valid for the given days around today (negative: in the past).
    pub fn new(key_pem: &str, valid_from_days: i64, valid_until_days: i64) -> Self {
        let key = rcgen::KeyPair::from_pem(key_pem).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["meetnow".to_owned()]).unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now + time::Duration::days(valid_from_days);
        let not_after = now + time::Duration::days(valid_until_days);
        params.not_after = not_after;
        params.distinguished_name.push(rcgen::DnType::CommonName, "meetnow");
        let certificate = params.self_signed(&key).unwrap();
        Self {
            pem: format!("{}{}", certificate.pem(), key.serialize_pem()),
            der: certificate.der().to_vec(),
            not_after,
        }
    }

    /// Valid from yesterday for a year: what an admin makes.
    pub fn valid(key_pem: &str) -> Self {
        Self::new(key_pem, -1, 365)
    }
}

/// What is registered for the app (the certificates uploaded, the federated credential) and the managed
/// identity, plus what was seen.
#[derive(Default)]
pub struct Registered {
    /// `x5t#S256` → the certificate's RSA public key (PKCS#1).
    certificates: HashMap<String, Vec<u8>>,
    /// The issuer's verification key, when a federated credential is configured.
    issuer_key: Option<Vec<u8>>,
    /// Every assertion's `jti`, in order.
    pub jtis: Vec<String>,
    /// Managed-identity token requests answered with a token.
    pub identity_tokens: u64,
}

/// An issuer of federated tokens (a Kubernetes cluster's OIDC issuer), with its ECDSA P-256 key.
pub struct FederatedIssuer {
    key: rcgen::KeyPair,
}

impl FederatedIssuer {
    pub fn new() -> Self {
        Self { key: rcgen::KeyPair::generate().unwrap() }
    }

    /// A token as the cluster projects it into the pod: ES256, `exp` `lifetime_s` from now (negative: expired).
    pub fn token(&self, issuer: &str, subject: &str, audience: &str, lifetime_s: i64) -> String {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims =
            json!({"iss": issuer, "sub": subject, "aud": [audience], "iat": now, "nbf": now, "exp": now + lifetime_s});
        let key = EncodingKey::from_ec_der(&self.key.serialize_der());
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
    }

    /// The expected token: right issuer, subject and audience, valid for an hour.
    pub fn good_token(&self) -> String {
        self.token(ISSUER, SUBJECT, AUDIENCE, 3600)
    }
}

impl super::GraphStandIn {
    /// Uploads a certificate to the app registration (Certificates & secrets → Upload certificate).
    pub fn register_certificate(&self, der: &[u8]) {
        use x509_cert::der::Decode as _;
        let parsed = x509_cert::Certificate::from_der(der).unwrap();
        let public_key = parsed.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes().to_vec();
        let thumbprint =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, der));
        self.with(|s| s.credentials.certificates.insert(thumbprint, public_key));
    }

    /// Adds the federated identity credential (issuer, subject, audience) trusting `issuer`'s key.
    pub fn register_federated_issuer(&self, issuer: &FederatedIssuer) {
        let public = issuer.key.public_key_raw().to_vec();
        self.with(|s| s.credentials.issuer_key = Some(public));
    }

    pub fn assertion_ids(&self) -> Vec<String> {
        self.with(|s| s.credentials.jtis.clone())
    }

    pub fn identity_tokens(&self) -> u64 {
        self.with(|s| s.credentials.identity_tokens)
    }
}

/// Why Entra refuses this client-credentials form (its AADSTS code), or `None` when the app proved itself.
pub(super) fn refusal(registered: &mut Registered, form: &HashMap<String, String>, token_url: &str) -> Option<u64> {
    match (form.get("client_secret"), form.get("client_assertion")) {
        (Some(secret), None) => (secret != CLIENT_SECRET).then_some(7_000_215),
        (None, Some(assertion)) if form.get("client_assertion_type").map(String::as_str) == Some(JWT_BEARER) => {
            check_assertion(registered, assertion, token_url).err()
        }
        // Neither, both, or an assertion of another type.
        _ => Some(7_000_216),
    }
}

fn check_assertion(registered: &mut Registered, assertion: &str, token_url: &str) -> Result<(), u64> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| 50_027u64)?;
    match header.x5t_s256.as_deref() {
        Some(thumbprint) => {
            let public_key = registered.certificates.get(thumbprint).ok_or(700_027u64)?;
            if header.alg != Algorithm::RS256 && header.alg != Algorithm::PS256 {
                return Err(700_027);
            }
            let mut validation = Validation::new(header.alg);
            validation.set_audience(&[token_url]);
            validation.set_issuer(&[CLIENT_ID]);
            validation.sub = Some(CLIENT_ID.to_owned());
            validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
            let claims = jsonwebtoken::decode::<Value>(assertion, &DecodingKey::from_rsa_der(public_key), &validation)
                .map_err(|e| jwt_error_code(&e, 50_013))?
                .claims;
            let jti = claims.get("jti").and_then(Value::as_str).ok_or(50_027u64)?;
            registered.jtis.push(jti.to_owned());
            Ok(())
        }
        None => {
            // A federated token: first whether a federated credential matches its issuer, subject and
            // audience (Entra's 70021 names all three), then its signature and lifetime.
            let mut peek = Validation::new(header.alg);
            peek.insecure_disable_signature_validation();
            peek.validate_exp = false;
            peek.validate_aud = false;
            let claims = jsonwebtoken::decode::<Value>(assertion, &DecodingKey::from_secret(&[]), &peek)
                .map_err(|_| 50_027u64)?;
            let claim = |name: &str| claims.claims.get(name).cloned().unwrap_or(Value::Null);
            let audience_matches = claim("aud") == json!([AUDIENCE]) || claim("aud") == json!(AUDIENCE);
            let issuer_key = registered.issuer_key.as_ref().ok_or(70_021u64)?;
            if claim("iss") != json!(ISSUER) || claim("sub") != json!(SUBJECT) || !audience_matches {
                return Err(70_021);
            }
            let mut validation = Validation::new(Algorithm::ES256);
            validation.set_audience(&[AUDIENCE]);
            validation.set_issuer(&[ISSUER]);
            jsonwebtoken::decode::<Value>(assertion, &DecodingKey::from_ec_der(issuer_key), &validation)
                .map_err(|e| jwt_error_code(&e, 70_021))?;
            Ok(())
        }
    }
}

fn jwt_error_code(error: &jsonwebtoken::errors::Error, audience_code: u64) -> u64 {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => 700_027,
        ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => 700_024,
        ErrorKind::InvalidAudience => audience_code,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => 700_021,
        _ => 50_027,
    }
}

/// Entra's status, error and description for the codes above.
pub(super) fn describe(code: u64) -> Option<(StatusCode, &'static str, &'static str)> {
    let unauthorized = StatusCode::UNAUTHORIZED;
    let bad = StatusCode::BAD_REQUEST;
    Some(match code {
        700_027 => (unauthorized, "invalid_client", "The certificate with identifier used to sign the client assertion is not registered on application, or the client assertion failed signature validation."),
        700_024 => (bad, "invalid_client", "Client assertion is not within its valid time range."),
        700_021 => (bad, "invalid_client", "Client assertion application identifier doesn't match 'client_id' parameter."),
        50_013 => (bad, "invalid_client", "Assertion audience claim does not match the required value."),
        50_027 => (bad, "invalid_request", "JWT token is invalid or malformed."),
        70_021 => (bad, "invalid_request", "No matching federated identity record found for presented assertion."),
        7_000_216 => (bad, "invalid_client", "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."),
        _ => return None,
    })
}

#[derive(serde::Deserialize)]
pub(super) struct IdentityQuery {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
    resource: Option<String>,
    client_id: Option<String>,
}

/// App Service's `IDENTITY_ENDPOINT` (api-version 2019-08-01): `X-IDENTITY-HEADER` must be the platform's
/// secret; the answer has `expires_on` (Unix seconds) and no `expires_in`.
pub(super) async fn app_service_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<IdentityQuery>,
) -> Response {
    if headers.get("x-identity-header").and_then(|v| v.to_str().ok()) != Some(IDENTITY_HEADER) {
        return identity_error(
            StatusCode::UNAUTHORIZED,
            json!({"statusCode": 401, "message": "Unauthorized request: the X-IDENTITY-HEADER is missing or invalid."}),
        );
    }
    if query.api_version.as_deref() != Some("2019-08-01") {
        return identity_error(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "The api-version is not supported."}),
        );
    }
    identity_token(&app, &query, "expires_on")
}

/// The instance metadata service (api-version 2018-02-01): `Metadata: true` is required (it keeps SSRF
/// out); the answer has `expires_in` as a string.
pub(super) async fn imds_token(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<IdentityQuery>,
) -> Response {
    if headers.get("metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return identity_error(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
        );
    }
    identity_token(&app, &query, "expires_in")
}

fn identity_token(app: &AppState, query: &IdentityQuery, expiry: &str) -> Response {
    let base = app.inner.lock().unwrap().base_url.clone();
    if query.resource.as_deref().map(|r| r.trim_end_matches('/')) != Some(base.as_str()) {
        return identity_error(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal named was not found in the tenant."}),
        );
    }
    if query.client_id.as_deref().is_some_and(|id| id != CLIENT_ID) {
        return identity_error(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "Identity not found"}),
        );
    }
    let access_token = super::issue_token(app);
    let mut body =
        json!({"access_token": access_token, "resource": base, "token_type": "Bearer", "client_id": CLIENT_ID});
    body[expiry] = match expiry {
        "expires_on" => json!((time::OffsetDateTime::now_utc().unix_timestamp() + 86_399).to_string()),
        _ => json!("86399"),
    };
    app.inner.lock().unwrap().credentials.identity_tokens += 1;
    (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
}

fn identity_error(status: StatusCode, body: Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}
