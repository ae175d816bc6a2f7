//! The Graph stand-in's change notifications for meeting call events (beta), as Graph does them:
//!
//! - `POST /beta/subscriptions` checks the body (against Microsoft's `subscription` type; the call-events
//!   resource of a meeting that exists, an `https://` or loopback notification URL, an RSA certificate of
//!   2,048 to 4,096 bits, a client state of at most 128 characters, an expiry at most 4,230 minutes ahead),
//!   refuses a second subscription for the same meeting with 403 Forbidden (what Microsoft documents for any
//!   subscription limit reached), then runs the validation handshake against the notification URL (200,
//!   `text/plain`, the token back, within 10 s; else 400) before it answers 201. `v1.0` refuses the resource.
//! - `GET` lists them (without their `clientState`, as Graph does), `GET /{id}` reads one (with it), `PATCH`
//!   renews and, with `encryptionCertificate` and `encryptionCertificateId`, moves one to another certificate
//!   ("Rotating keys"; 404 once expired or deleted), `DELETE` deletes. Expiry runs on `tokio::time`, so a test
//!   on a paused clock can let one lapse.
//! - Deliveries are encrypted as Graph encrypts them (a fresh AES-256 key under RSA-OAEP-SHA1 to the
//!   subscription's certificate now, AES-CBC, an HMAC-SHA256 over the data) with a validation token signed
//!   by the Entra stand-in's key, published at `{authority}/common/discovery/v2.0/keys`; [`Forgery`] makes
//!   each thing a forger could get wrong.
//! - Payloads follow Graph's metadata ([`PayloadShape::Schema`]): `callEventType`, and for a roster update
//!   `unknownFutureValue` unless the subscription was made with `Prefer: include-unknown-enum-members` (the
//!   enum's `rosterUpdated` comes after its sentinel); participants with `preferredDisplayName`,
//!   `rosterSequenceNumber`, several per person (a laptop and a phone). Every call event and every batch
//!   sent is validated against Microsoft's types (`tests/specs/graph-callevents-beta-openapi.yaml`); a
//!   violation is recorded like a request body's.

use std::collections::HashMap;
use std::time::Duration;

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut as _, KeyIvInit as _};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::Mac as _;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::{graph_error, AppState, GraphStandIn, CLIENT_ID, TENANT};

/// The Entra stand-in's signing key and the id it publishes it under.
pub const ENTRA_KEY: &str = include_str!("../../fixtures/entra-rsa-key.pem");
pub const ENTRA_KID: &str = "stand-in-entra-key-1";
/// Microsoft Graph Change Tracking, which obtains every validation token.
pub const CHANGE_TRACKING: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";
/// Graph's limit for meeting call event subscriptions.
pub const MAX_MINUTES: i64 = 4230;

/// What a delivery gets wrong, to prove the bot refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Nothing: what Graph sends.
    None,
    WrongClientState,
    /// A byte of the encrypted data changed after the HMAC was made.
    AlteredData,
    /// The validation token signed by a key Entra does not publish.
    TokenByOtherKey,
    /// The validation token for another app (`aud`).
    TokenForOtherApp,
    /// The validation token obtained by another caller than Graph's change tracking (`azp`).
    TokenNotFromGraph,
    /// The validation token expired an hour ago.
    ExpiredToken,
    NoToken,
    /// Everything genuine, but the `resource` names another meeting than the address's bridge (a genuine
    /// notification for one bridge sent to another's address by someone who holds the client state).
    OtherResource,
}

#[derive(Debug, Clone)]
pub struct StoredSubscription {
    pub id: String,
    pub resource: String,
    pub join_url: String,
    pub notification_url: String,
    pub client_state: String,
    certificate_der: Vec<u8>,
    pub certificate_id: String,
    expires_at: Instant,
    expiration: String,
    /// The Entra stand-in's URL, the issuer its validation tokens name.
    authority: String,
    /// The create asked for the enums' newer members (`Prefer: include-unknown-enum-members`).
    unknown_enum_members: bool,
}

/// The subscriptions, and what the tests read about them.
#[derive(Default)]
pub struct Subscriptions {
    by_id: HashMap<String, StoredSubscription>,
    /// Creates asked for, answered or not.
    pub creates: u32,
    pub renewals: u32,
    /// Handshakes run, and whether each was answered right.
    pub handshakes: Vec<bool>,
    /// Delivered inside the next create, after the handshake and before the 201.
    during_handshake: Option<Value>,
    /// The next creates are refused with this status.
    refuse: Option<StatusCode>,
    serial: u64,
    /// Subscriptions moved to another certificate by a `PATCH`.
    pub moves: u32,
    /// Deletes asked for.
    pub deletes: u32,
    /// A `PATCH` takes the certificate but keeps the `clientState` (to prove the bot checks, and replaces).
    patch_keeps_client_state: bool,
}

fn bearer_ok(app: &AppState, headers: &HeaderMap) -> bool {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|a| a.strip_prefix("Bearer "));
    token.is_some_and(|t| app.inner.lock().unwrap().tokens.contains(t))
}

fn unauthorized() -> Response {
    graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty or invalid.", None)
}

fn bad_request(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "ValidationError", message, None)
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// The join link inside `/communications/onlineMeetings(joinWebUrl='{encoded}')/meetingCallEvents`.
fn join_url_of(resource: &str) -> Option<String> {
    let inner =
        resource.strip_prefix("/communications/onlineMeetings(joinWebUrl='")?.strip_suffix("')/meetingCallEvents")?;
    let decoded = url::form_urlencoded::parse(format!("u={inner}").as_bytes()).next()?.1.into_owned();
    // Encoded once more than the link: the link's own `%3a` must arrive as `%253a`.
    (url::form_urlencoded::byte_serialize(decoded.as_bytes()).collect::<String>() == inner).then_some(decoded)
}

/// A subscription as Graph answers with it: one read alone shows its `clientState`, a list does not.
fn subscription_json(s: &StoredSubscription, with_client_state: bool) -> Value {
    let client_state = if with_client_state { json!(s.client_state) } else { Value::Null };
    json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#subscriptions/$entity",
        "id": s.id, "resource": s.resource, "applicationId": CLIENT_ID, "changeType": "updated",
        "clientState": client_state, "notificationUrl": s.notification_url, "expirationDateTime": s.expiration,
        "includeResourceData": true, "encryptionCertificateId": s.certificate_id,
        "latestSupportedTlsVersion": "v1_2", "notificationContentType": "application/json",
    })
}

pub(super) async fn not_in_v1() -> Response {
    bad_request(
        "The resource '/communications/onlineMeetings/meetingCallEvents' is only supported in the beta version.",
    )
}

pub(super) async fn create(State(app): State<AppState>, headers: HeaderMap, raw: Bytes) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let refused = app.inner.lock().unwrap().subscriptions.refuse;
    app.inner.lock().unwrap().subscriptions.creates += 1;
    // Whatever the answer, the count changed.
    app.changed.notify_waiters();
    if let Some(status) = refused {
        return graph_error(status, "Forbidden", "Operation not permitted for this app.", None);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else { return bad_request("The body is not JSON.") };
    if let Some(refused) = app.check_subscription_body(&body) {
        return refused;
    }
    let unknown_enum_members = headers
        .get("prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|prefer| prefer.contains("include-unknown-enum-members"));
    let known = [
        "changeType",
        "notificationUrl",
        "resource",
        "includeResourceData",
        "encryptionCertificate",
        "encryptionCertificateId",
        "expirationDateTime",
        "clientState",
        "lifecycleNotificationUrl",
    ];
    if let Some(unknown) = body.as_object().and_then(|o| o.keys().find(|k| !known.contains(&k.as_str()))) {
        return bad_request(&format!("Unknown property {unknown}."));
    }
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    if text("changeType") != "updated" || body["includeResourceData"] != json!(true) {
        return bad_request("Meeting call events take changeType 'updated' with includeResourceData.");
    }
    let resource = text("resource");
    let Some(join_url) = join_url_of(&resource) else {
        return bad_request(
            "Invalid resource: expected /communications/onlineMeetings(joinWebUrl='{encoded}')/meetingCallEvents.",
        );
    };
    if !app.meeting_exists(&join_url) {
        return graph_error(StatusCode::NOT_FOUND, "NotFound", "The meeting was not found.", None);
    }
    let notification_url = text("notificationUrl");
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if !(notification_url.starts_with("https://") || loopback.iter().any(|p| notification_url.starts_with(p))) {
        return bad_request("The notification URL must use https.");
    }
    let client_state = text("clientState");
    if client_state.is_empty() || client_state.len() > 128 {
        return bad_request("clientState must be 1 to 128 characters.");
    }
    let certificate_id = text("encryptionCertificateId");
    if certificate_id.is_empty() || certificate_id.len() > 128 {
        return bad_request("encryptionCertificateId must be 1 to 128 characters.");
    }
    let Some(certificate_der) =
        STANDARD.decode(text("encryptionCertificate")).ok().filter(|der| public_key(der).is_some())
    else {
        return bad_request(
            "encryptionCertificate must be a base64 X.509 certificate with an RSA key of 2048 to 4096 bits.",
        );
    };
    let expiration = text("expirationDateTime");
    let Ok(expires) = time::OffsetDateTime::parse(&expiration, &time::format_description::well_known::Rfc3339) else {
        return bad_request("expirationDateTime is not a date.");
    };
    let left = expires - time::OffsetDateTime::now_utc();
    if left > time::Duration::minutes(MAX_MINUTES) || left <= time::Duration::ZERO {
        return bad_request("Subscription expiration can only be 4230 minutes in the future.");
    }
    let duplicate = app.with_subscriptions(|subs| {
        subs.by_id.values().any(|s| s.resource.eq_ignore_ascii_case(&resource) && s.expires_at > Instant::now())
    });
    if duplicate {
        // "Supported resources" and the quota notes: a subscription limit reached is 403 Forbidden (one per
        // app per meeting here).
        return graph_error(
            StatusCode::FORBIDDEN,
            "ExtensionError",
            "Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of subscriptions \
             for this application and resource has been reached.]",
            None,
        );
    }
    // The handshake, as Graph runs it: before the subscription exists for the caller.
    let token =
        format!("Validation: Testing client application reachability for subscription Request-Id: {}", super::uuid());
    let answered = handshake(&notification_url, &token).await;
    app.with_subscriptions(|subs| subs.handshakes.push(answered));
    if !answered {
        return bad_request(
            "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
        );
    }
    let authority = app.inner.lock().unwrap().base_url.clone();
    let stored = app.with_subscriptions(|subs| {
        subs.serial += 1;
        let stored = StoredSubscription {
            id: format!("7f105c7d-2dc5-4530-97cd-{:012x}", subs.serial),
            resource: resource.clone(),
            join_url,
            notification_url,
            client_state,
            certificate_der,
            certificate_id,
            expires_at: Instant::now() + left.try_into().unwrap_or(Duration::ZERO),
            expiration: rfc3339(expires),
            authority: authority.clone(),
            unknown_enum_members,
        };
        subs.by_id.insert(stored.id.clone(), stored.clone());
        stored
    });
    app.changed.notify_waiters();
    if let Some(payload) = app.with_subscriptions(|subs| subs.during_handshake.take()) {
        // Graph may send the first notification before the create has returned to the caller.
        let mut violations = Vec::new();
        let status = send(&stored, &payload, Forgery::None, &mut violations).await;
        app.inner.lock().unwrap().violations.extend(violations);
        assert_eq!(status, 202, "the notification sent during the create was answered {status}");
    }
    (StatusCode::CREATED, axum::Json(subscription_json(&stored, true))).into_response()
}

pub(super) async fn list(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let value: Vec<Value> = app.with_subscriptions(|subs| {
        subs.by_id.values().filter(|s| s.expires_at > Instant::now()).map(|s| subscription_json(s, false)).collect()
    });
    axum::Json(json!({"value": value})).into_response()
}

/// `GET /beta/subscriptions/{id}`: one subscription, with its `clientState`.
pub(super) async fn get_one(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let found = app.with_subscriptions(|subs| {
        subs.by_id.get(&id).filter(|s| s.expires_at > Instant::now()).map(|s| subscription_json(s, true))
    });
    match found {
        Some(json) => axum::Json(json).into_response(),
        None => graph_error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was not found.", None),
    }
}

/// `PATCH /beta/subscriptions/{id}`: renews it, and with `encryptionCertificate` and `encryptionCertificateId`
/// moves it to another certificate (and to another `clientState`, if given) as Microsoft's "Rotating keys"
/// describes.
pub(super) async fn renew(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let body: Value = serde_json::from_slice(&raw).unwrap_or_default();
    if let Some(refused) = app.check_subscription_body(&body) {
        return refused;
    }
    let updatable =
        ["expirationDateTime", "notificationUrl", "encryptionCertificate", "encryptionCertificateId", "clientState"];
    if let Some(other) = body.as_object().and_then(|o| o.keys().find(|k| !updatable.contains(&k.as_str()))) {
        return bad_request(&format!("Property {other} can't be updated."));
    }
    let Some(expires) = body["expirationDateTime"]
        .as_str()
        .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
    else {
        return bad_request("expirationDateTime is required.");
    };
    let left = expires - time::OffsetDateTime::now_utc();
    if left > time::Duration::minutes(MAX_MINUTES) || left <= time::Duration::ZERO {
        return bad_request("Subscription expiration can only be 4230 minutes in the future.");
    }
    let certificate = match (body["encryptionCertificate"].as_str(), body["encryptionCertificateId"].as_str()) {
        (None, None) => None,
        (Some(certificate), Some(id)) if !id.is_empty() && id.len() <= 128 => {
            match STANDARD.decode(certificate).ok().filter(|der| public_key(der).is_some()) {
                Some(der) => Some((der, id.to_owned())),
                None => return bad_request(
                    "encryptionCertificate must be a base64 X.509 certificate with an RSA key of 2048 to 4096 bits.",
                ),
            }
        }
        _ => return bad_request("encryptionCertificate and encryptionCertificateId are updated together."),
    };
    let client_state = body["clientState"].as_str().map(str::to_owned);
    if client_state.as_ref().is_some_and(|state| state.is_empty() || state.len() > 128) {
        return bad_request("clientState must be 1 to 128 characters.");
    }
    let renewed = app.with_subscriptions(|subs| {
        let keeps_client_state = subs.patch_keeps_client_state;
        let stored = subs.by_id.get_mut(&id).filter(|s| s.expires_at > Instant::now())?;
        stored.expires_at = Instant::now() + left.try_into().unwrap_or(Duration::ZERO);
        stored.expiration = rfc3339(expires);
        let moved = certificate.is_some();
        if let Some((der, certificate_id)) = certificate {
            stored.certificate_der = der;
            stored.certificate_id = certificate_id;
        }
        if let (Some(state), false) = (client_state, keeps_client_state) {
            stored.client_state = state;
        }
        let json = subscription_json(stored, false);
        subs.renewals += 1;
        subs.moves += u32::from(moved);
        Some(json)
    });
    app.changed.notify_waiters();
    match renewed {
        Some(json) => axum::Json(json).into_response(),
        None => graph_error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was not found.", None),
    }
}

pub(super) async fn delete(State(app): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !bearer_ok(&app, &headers) {
        return unauthorized();
    }
    let removed = app.with_subscriptions(|subs| {
        subs.deletes += 1;
        subs.by_id.remove(&id)
    });
    app.changed.notify_waiters();
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => graph_error(StatusCode::NOT_FOUND, "ResourceNotFound", "The object was not found.", None),
    }
}

/// `GET {authority}/common/discovery/v2.0/keys`: the key validation tokens are signed with.
pub(super) async fn keys() -> Response {
    let key = rsa_key(ENTRA_KEY);
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    axum::Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "kid": ENTRA_KID, "x5t": ENTRA_KID, "alg": "RS256",
        "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()),
        "issuer": format!("https://login.microsoftonline.com/{{tenantid}}/v2.0"),
    }]}))
    .into_response()
}

/// An RSA private key from a PKCS#8 PEM fixture.
pub(super) fn rsa_key(pem: &str) -> rsa::RsaPrivateKey {
    use rustls_pki_types::pem::PemObject as _;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
    rsa::RsaPrivateKey::from_pkcs8_der(der.secret_pkcs8_der()).unwrap()
}

/// The certificate's RSA public key, when it has one of 2,048 to 4,096 bits (Graph's rule).
fn public_key(der: &[u8]) -> Option<rsa::RsaPublicKey> {
    use x509_cert::der::{Decode as _, Encode as _};
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    let spki = certificate.tbs_certificate.subject_public_key_info.to_der().ok()?;
    rsa::RsaPublicKey::from_public_key_der(&spki).ok().filter(|key| (2048..=4096).contains(&(key.size() * 8)))
}

async fn handshake(notification_url: &str, token: &str) -> bool {
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
    let Ok(response) = client
        .post(format!("{notification_url}?validationToken={encoded}"))
        .header("content-type", "text/plain; charset=utf-8")
        .send()
        .await
    else {
        return false;
    };
    let plain = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    response.status() == StatusCode::OK && plain && response.text().await.is_ok_and(|body| body == token)
}

/// A validation token as Graph sends it, with `forgery` applied.
fn validation_token(forgery: Forgery, authority: &str) -> Option<String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (key, kid) = match forgery {
        Forgery::TokenByOtherKey => (super::credentials::OTHER_KEY, ENTRA_KID),
        _ => (ENTRA_KEY, ENTRA_KID),
    };
    let aud = if forgery == Forgery::TokenForOtherApp { "99999999-2222-3333-4444-555555555555" } else { CLIENT_ID };
    let azp = if forgery == Forgery::TokenNotFromGraph { CLIENT_ID } else { CHANGE_TRACKING };
    let (nbf, exp) = if forgery == Forgery::ExpiredToken { (now - 7200, now - 3600) } else { (now - 60, now + 3600) };
    let claims = json!({
        "aud": aud, "iss": format!("{authority}/{TENANT}/v2.0"), "iat": nbf, "nbf": nbf, "exp": exp,
        "azp": azp, "azpacr": "2", "tid": TENANT, "ver": "2.0", "sub": "stand-in",
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    (forgery != Forgery::NoToken).then(|| {
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_der(rsa_key(key).to_pkcs1_der().unwrap().as_bytes()),
        )
        .unwrap()
    })
}

/// Delivers `payload` to the subscription as Graph would (with `forgery`), returning the HTTP status. A call
/// event that names its type as Graph's metadata does (`callEventType`) says `unknownFutureValue` for a roster
/// update unless the subscription asked for the newer members, and is checked against Microsoft's types, as
/// is the batch around it; `violations` gets what breaks them.
async fn send(
    subscription: &StoredSubscription,
    payload: &Value,
    forgery: Forgery,
    violations: &mut Vec<String>,
) -> u16 {
    let mut payload = payload.clone();
    if payload["callEventType"] == "rosterUpdated" && !subscription.unknown_enum_members {
        payload["callEventType"] = json!("unknownFutureValue");
    }
    if payload.get("callEventType").is_some() {
        let event = super::super::schema::call_events_type("#/x-csdl-derived-schemas/microsoft.graph.callEvent");
        violations.extend(event.violations(&payload).into_iter().map(|v| format!("callEvent: {v}")));
        let participant = super::super::schema::call_events_type("#/components/schemas/microsoft.graph.participant");
        for entry in payload["participants@delta"].as_array().into_iter().flatten() {
            violations.extend(participant.violations(entry).into_iter().map(|v| format!("participant: {v}")));
        }
    }
    let payload = &payload;
    let public = public_key(&subscription.certificate_der).expect("checked at create");
    let key: [u8; 32] = rand::random();
    let data = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded_vec_mut::<Pkcs7>(payload.to_string().as_bytes());
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&key).unwrap();
    mac.update(&data);
    let signature = mac.finalize().into_bytes().to_vec();
    let mut data = data;
    if forgery == Forgery::AlteredData {
        data[0] ^= 1;
    }
    let data_key = public.encrypt(&mut rand::thread_rng(), rsa::Oaep::new::<sha1::Sha1>(), &key).unwrap();
    let client_state = if forgery == Forgery::WrongClientState {
        URL_SAFE_NO_PAD.encode([7u8; 32])
    } else {
        subscription.client_state.clone()
    };
    let mut body = json!({
        "value": [{
            "subscriptionId": subscription.id, "clientState": client_state, "changeType": "updated",
            "resource": if forgery == Forgery::OtherResource {
                "communications/onlineMeetings(joinWebUrl='https%3A%2F%2Fteams.microsoft.com%2Fl%2Fmeetup-join%2Fother')/meetingCallEvents"
            } else {
                subscription.resource.trim_start_matches('/')
            },
            "subscriptionExpirationDateTime": subscription.expiration,
            "resourceData": {"@odata.type": "#microsoft.graph.callEvent", "@odata.id": subscription.resource},
            "tenantId": TENANT, "organizationId": TENANT,
            "encryptedContent": {
                "data": STANDARD.encode(&data), "dataSignature": STANDARD.encode(&signature),
                "dataKey": STANDARD.encode(&data_key), "encryptionCertificateId": subscription.certificate_id,
                "encryptionCertificateThumbprint": "stand-in",
            },
        }],
    });
    if let Some(token) = validation_token(forgery, &subscription.authority) {
        body["validationTokens"] = json!([token]);
    }
    let collection =
        super::super::schema::call_events_type("#/x-csdl-derived-schemas/microsoft.graph.changeNotificationCollection");
    violations.extend(collection.violations(&body).into_iter().map(|v| format!("changeNotificationCollection: {v}")));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build().unwrap();
    match client.post(&subscription.notification_url).json(&body).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

impl AppState {
    fn with_subscriptions<T>(&self, f: impl FnOnce(&mut Subscriptions) -> T) -> T {
        f(&mut self.inner.lock().unwrap().subscriptions)
    }

    /// A subscription body checked against Microsoft's `subscription`: `Some` is the 400 Graph would send, the
    /// violation recorded.
    fn check_subscription_body(&self, body: &Value) -> Option<Response> {
        let violations = super::super::schema::graph_subscription().violations(body);
        if violations.is_empty() {
            return None;
        }
        let message = format!("Invalid request body: {}", violations.join("; "));
        self.inner.lock().unwrap().violations.extend(violations);
        Some(bad_request(&message))
    }

    fn meeting_exists(&self, join_url: &str) -> bool {
        self.inner.lock().unwrap().meetings.values().any(|m| super::join_url(m.serial) == join_url)
    }
}

/// A call event in one of the shapes Graph has used or documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadShape {
    /// As Graph's metadata and every SDK generated from it name it (`callEvent.callEventType`; a roster update
    /// is `rosterUpdated`, sent as `unknownFutureValue` to a subscription made without `Prefer:
    /// include-unknown-enum-members`), participants as the beta `participant` type.
    Schema,
    /// The notification page's examples: `eventType: callStarted`, `participants@delta` with `isInLobby` and
    /// `removedState`.
    Newest,
    /// Microsoft's sample: `Microsoft.Communication.CallRosterUpdate`, `activeParticipants@delta` / `@remove`,
    /// PascalCase inside.
    Sample,
    /// Earlier docs: `activeParticipants@joined` / `@exited`, with `state`.
    Earlier,
}

/// Someone in a roster event: (identity id, display name, where), on one device.
pub type Who<'a> = (&'a str, &'a str, Where);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Joined,
    Lobby,
    Left,
}

/// One participant (one device of one person) in a roster event, in full.
#[derive(Debug, Clone)]
pub struct Participant {
    /// The participant's id in the call: one per device.
    pub id: String,
    /// The identity kind (`user`, `guest`, `phone`, `onPremises`, `assertedIdentity`, ...) and its id.
    pub kind: &'static str,
    pub identity: String,
    pub display_name: Option<String>,
    /// What Teams shows instead of the identity's name.
    pub preferred_display_name: Option<String>,
    pub place: Where,
    pub roster_sequence_number: Option<i64>,
}

impl Participant {
    /// A Teams user on their one device.
    pub fn user(identity: &str, name: &str, place: Where) -> Self {
        Self {
            id: format!("p-{identity}"),
            kind: "user",
            identity: identity.to_owned(),
            display_name: Some(name.to_owned()),
            preferred_display_name: None,
            place,
            roster_sequence_number: None,
        }
    }

    /// The same person on another device (`device`: its participant id).
    pub fn on(mut self, device: &str) -> Self {
        self.id = device.to_owned();
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub fn preferred(mut self, name: &str) -> Self {
        self.preferred_display_name = Some(name.to_owned());
        self
    }

    pub fn sequence(mut self, number: i64) -> Self {
        self.roster_sequence_number = Some(number);
        self
    }

    /// As Graph's beta `participant` type has it.
    fn schema_json(&self) -> Value {
        let mut who = json!({"@odata.type": "#microsoft.graph.identity", "id": self.identity});
        if let Some(name) = &self.display_name {
            who["displayName"] = json!(name);
        }
        if self.kind == "user" {
            who["tenantId"] = json!(TENANT);
        }
        let mut entry = json!({
            "@odata.type": "#microsoft.graph.participant",
            "id": self.id,
            "info": {"@odata.type": "#microsoft.graph.participantInfo", "identity": {
                "@odata.type": "#microsoft.graph.communicationsIdentitySet", (self.kind): who,
            }},
            "isInLobby": self.place == Where::Lobby,
            "isMuted": false,
        });
        if let Some(name) = &self.preferred_display_name {
            entry["preferredDisplayName"] = json!(name);
        }
        if let Some(number) = self.roster_sequence_number {
            entry["rosterSequenceNumber"] = json!(number);
        }
        if self.place == Where::Left {
            entry["removedState"] = json!({"@odata.type": "#microsoft.graph.removedState", "reason": "Participant has left the meeting call."});
        }
        entry
    }
}

/// A decrypted payload: `kind` is `started`, `ended` or `roster` (with `who`, each on one device), at `at`
/// (RFC 3339).
pub fn payload(shape: PayloadShape, kind: &str, at: &str, who: &[Who<'_>]) -> Value {
    let participants: Vec<Participant> =
        who.iter().map(|(id, name, place)| Participant::user(id, name, *place)).collect();
    payload_of(shape, kind, at, &participants)
}

/// [`payload`] with participants in full.
pub fn payload_of(shape: PayloadShape, kind: &str, at: &str, participants: &[Participant]) -> Value {
    let event_type = match (shape, kind) {
        (PayloadShape::Schema | PayloadShape::Newest, "started") => "callStarted",
        (PayloadShape::Schema | PayloadShape::Newest, "ended") => "callEnded",
        (PayloadShape::Schema | PayloadShape::Newest, _) => "rosterUpdated",
        (_, "started") => "Microsoft.Communication.CallStarted",
        (_, "ended") => "Microsoft.Communication.CallEnded",
        _ => "Microsoft.Communication.CallRosterUpdate",
    };
    match shape {
        PayloadShape::Schema => {
            let mut value = json!({
                "@odata.type": "#microsoft.graph.callEvent", "id": super::uuid(), "callEventType": event_type,
                "eventDateTime": at,
            });
            if kind == "roster" {
                value["participants@delta"] = participants.iter().map(Participant::schema_json).collect();
            }
            value
        }
        PayloadShape::Newest => {
            let mut value =
                json!({"@odata.type": "#microsoft.graph.callEvent", "eventType": event_type, "eventDateTime": at});
            if kind == "roster" {
                value["participants@delta"] = participants
                    .iter()
                    .map(|p| {
                        let mut entry = json!({"id": p.id, "info": {"identity": {(p.kind): {"id": p.identity, "displayName": p.display_name, "tenantId": TENANT}}}, "isInLobby": p.place == Where::Lobby});
                        if p.place == Where::Left {
                            entry["removedState"] = json!({"reason": "Participant has left the meeting call."});
                        }
                        entry
                    })
                    .collect();
            }
            value
        }
        PayloadShape::Sample | PayloadShape::Earlier => {
            let mut value = json!({"@odata.type": "#Microsoft.Graph.onlineMeeting", "eventType": event_type, "eventDateTime": at, "state": "active"});
            if kind == "ended" {
                value["state"] = json!("inactive");
            }
            let entry = |p: &Participant| {
                let name = p.display_name.clone().unwrap_or_default();
                match shape {
                    PayloadShape::Sample => {
                        json!({"Id": p.id, "Identity": {"User": {"Id": p.identity, "DisplayName": name}}})
                    }
                    _ => json!({"identity": {"user": {"id": p.identity, "displayName": name}}, "role": "attendee"}),
                }
            };
            let (joined, left) = match shape {
                PayloadShape::Sample => ("activeParticipants@delta", "activeParticipants@remove"),
                _ => ("activeParticipants@joined", "activeParticipants@exited"),
            };
            if kind == "roster" {
                value[joined] = participants.iter().filter(|p| p.place != Where::Left).map(entry).collect();
                value[left] = participants.iter().filter(|p| p.place == Where::Left).map(entry).collect();
            }
            value
        }
    }
}

impl GraphStandIn {
    /// The subscriptions Graph has now (not expired).
    pub fn subscriptions(&self) -> Vec<StoredSubscription> {
        self.with(|s| s.subscriptions.by_id.values().filter(|s| s.expires_at > Instant::now()).cloned().collect())
    }
    /// Creates asked for, renewals made, and the handshakes run (whether each was answered right).
    pub fn subscription_counts(&self) -> (u32, u32, Vec<bool>) {
        self.with(|s| (s.subscriptions.creates, s.subscriptions.renewals, s.subscriptions.handshakes.clone()))
    }
    /// Deletes the meeting's subscription, as an admin (or Graph) might.
    pub fn delete_subscription(&self, join_url: &str) {
        self.with(|s| s.subscriptions.by_id.retain(|_, sub| sub.join_url != join_url));
    }
    /// The next creates are refused with `status`, until `None`.
    pub fn refuse_subscriptions(&self, status: Option<u16>) {
        self.with(|s| s.subscriptions.refuse = status.map(|code| StatusCode::from_u16(code).unwrap()));
    }
    /// Sends `payload` in the next create, after its handshake and before its 201.
    pub fn deliver_during_next_create(&self, payload: Value) {
        self.with(|s| s.subscriptions.during_handshake = Some(payload));
    }

    /// Delivers `payload` for the meeting `join_url` as Graph would (with `forgery`); the HTTP status.
    pub async fn deliver(&self, join_url: &str, payload: &Value, forgery: Forgery) -> u16 {
        let subscription = self
            .subscriptions()
            .into_iter()
            .find(|s| s.join_url == join_url)
            .unwrap_or_else(|| panic!("no subscription for {join_url}"));
        let mut violations = Vec::new();
        let status = send(&subscription, payload, forgery, &mut violations).await;
        self.with(|s| s.violations.extend(violations));
        status
    }

    /// Subscriptions moved to another certificate, and deletes asked for.
    pub fn subscription_moves_and_deletes(&self) -> (u32, u32) {
        self.with(|s| (s.subscriptions.moves, s.subscriptions.deletes))
    }

    /// From now on a `PATCH` moves a subscription's certificate but keeps its `clientState`.
    pub fn patches_keep_client_state(&self, keep: bool) {
        self.with(|s| s.subscriptions.patch_keeps_client_state = keep);
    }

    /// Makes a subscription for `join_url` as another process of the app would have, with the certificate
    /// `certificate_pem` and `client_state` (no handshake: it exists already, as one made before a restart).
    pub fn subscribe_as_before(
        &self,
        join_url: &str,
        notification_url: &str,
        certificate_pem: &str,
        client_state: &str,
        certificate_id: &str,
    ) {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_slice(certificate_pem.as_bytes()).unwrap().to_vec();
        let authority = self.with(|s| s.base_url.clone());
        let resource = format!(
            "/communications/onlineMeetings(joinWebUrl='{}')/meetingCallEvents",
            url::form_urlencoded::byte_serialize(join_url.as_bytes()).collect::<String>()
        );
        let expires = time::OffsetDateTime::now_utc() + time::Duration::days(2);
        self.with(|s| {
            let subs = &mut s.subscriptions;
            subs.serial += 1;
            let stored = StoredSubscription {
                id: format!("7f105c7d-2dc5-4530-97cd-{:012x}", subs.serial),
                resource,
                join_url: join_url.to_owned(),
                notification_url: notification_url.to_owned(),
                client_state: client_state.to_owned(),
                certificate_der: der,
                certificate_id: certificate_id.to_owned(),
                expires_at: Instant::now() + Duration::from_secs(2 * 24 * 3600),
                expiration: rfc3339(expires),
                authority,
                unknown_enum_members: false,
            };
            subs.by_id.insert(stored.id.clone(), stored);
        });
    }
}
