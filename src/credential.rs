//! How meetnow proves to Microsoft Entra that it is the app: exactly one of four ways, chosen by the Azure
//! SDK's own environment variables.
//!
//! This module owns the local side of each way: the client secret; the certificate and its key (read,
//! matched and checked when the configuration loads, then used to sign client assertions); the federated
//! token file (only its path: Kubernetes rotates the file, so it is read at every sign-in); the managed
//! identity's endpoint. The token request itself belongs to `graph::auth`. A problem with the local
//! material is a sentence that says what to do; no key, secret or token ever reaches one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Url;
use rustls_pki_types::pem::{PemObject, SectionKind};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The client-assertion type Entra expects with a signed JWT (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a client assertion is valid. Entra checks `exp`; ten minutes is what Microsoft's own libraries use.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// `meetnow check` warns when the certificate expires sooner than this.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The instance metadata service's address, where Azure VMs and AKS nodes serve managed-identity tokens.
pub const IMDS_HOST: &str = "http://169.254.169.254";

/// The one way meetnow signs in.
#[derive(Debug, Clone)]
pub enum Credential {
    /// `AZURE_CLIENT_SECRET`.
    Secret(SecretString),
    /// `AZURE_CLIENT_CERTIFICATE_PATH`, loaded and checked.
    Certificate(std::sync::Arc<ClientCertificate>),
    /// `AZURE_FEDERATED_TOKEN_FILE`: the file holding the token to present as the client assertion.
    FederatedToken(PathBuf),
    /// `MEETNOW_MANAGED_IDENTITY=true`.
    ManagedIdentity(ManagedIdentity),
}

impl Credential {
    /// The variable that chose this way, for messages ("check AZURE_CLIENT_CERTIFICATE_PATH").
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Secret(_) => "AZURE_CLIENT_SECRET",
            Self::Certificate(_) => "AZURE_CLIENT_CERTIFICATE_PATH",
            Self::FederatedToken(_) => "AZURE_FEDERATED_TOKEN_FILE",
            Self::ManagedIdentity(_) => "MEETNOW_MANAGED_IDENTITY",
        }
    }

    /// What to do about a certificate that expires within [`EXPIRY_WARNING`] of `now`, or `None`.
    pub fn expiry_warning(&self, now: OffsetDateTime) -> Option<String> {
        let Self::Certificate(certificate) = self else { return None };
        let left = certificate.remaining(now);
        (left < EXPIRY_WARNING).then(|| {
            format!(
                "expires in {} days, on {}. Make a new certificate, upload it beside the old one (App registrations \
                 → the app → Certificates & secrets → Certificates → Upload certificate), point \
                 AZURE_CLIENT_CERTIFICATE_PATH at it and restart; then delete the old one",
                left.as_secs().div_ceil(86_400),
                certificate.expires_on()
            )
        })
    }

    /// The way in words, for `meetnow check` and the start-up log. Never includes a secret.
    pub fn describe(&self) -> String {
        match self {
            Self::Secret(_) => "client secret (AZURE_CLIENT_SECRET)".to_owned(),
            Self::Certificate(certificate) => format!(
                "certificate {} (SHA-1 thumbprint {}, expires {})",
                certificate.path.display(),
                certificate.sha1_thumbprint,
                certificate.expires_on()
            ),
            Self::FederatedToken(path) => format!("federated token read from {}", path.display()),
            Self::ManagedIdentity(ManagedIdentity::AppService { endpoint, .. }) => {
                format!("managed identity, from the platform's IDENTITY_ENDPOINT {endpoint}")
            }
            Self::ManagedIdentity(ManagedIdentity::Imds { endpoint }) => {
                format!("managed identity, from the instance metadata service {endpoint}")
            }
        }
    }
}

/// Where a managed identity's tokens come from.
#[derive(Debug, Clone)]
pub enum ManagedIdentity {
    /// App Service, Container Apps, Functions: `IDENTITY_ENDPOINT`, asked with the `X-IDENTITY-HEADER` secret
    /// (marked sensitive: its `Debug` is `Sensitive`, and HTTP/2 never indexes it).
    AppService { endpoint: Url, header: reqwest::header::HeaderValue },
    /// VMs and AKS nodes: the instance metadata service (its host overridable with
    /// `AZURE_POD_IDENTITY_AUTHORITY_HOST`, as in the Azure SDK).
    Imds { endpoint: Url },
}

/// The app's certificate and private key, checked to belong together and to be valid now.
pub struct ClientCertificate {
    pub path: PathBuf,
    key: EncodingKey,
    /// `x5t#S256`: base64url of the SHA-256 of the certificate, how Entra finds the registered certificate.
    pub sha256_thumbprint: String,
    /// The SHA-1 thumbprint in hexadecimal, as the Entra admin center lists uploaded certificates.
    pub sha1_thumbprint: String,
    pub not_after: OffsetDateTime,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("path", &self.path)
            .field("sha1_thumbprint", &self.sha1_thumbprint)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads and checks the PEM file at `path`.
    ///
    /// # Errors
    /// What is wrong with the file and how to fix it, as a sentence that fits after the variable's name.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "{} can't be read ({e}); point it at the PEM file that holds the app's certificate and its private key",
                path.display()
            )
        })?;
        Self::from_pem(path, &bytes, OffsetDateTime::now_utc())
    }

    fn from_pem(path: &Path, bytes: &[u8], now: OffsetDateTime) -> Result<Self, String> {
        let file = CertificateFile::from_pem(path, bytes, now, "AZURE_CLIENT_CERTIFICATE_PATH")?;
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &file.certificate);
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &file.certificate);
        Ok(Self {
            path: path.to_owned(),
            key: EncodingKey::from_rsa_der(&file.pkcs1),
            sha256_thumbprint: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256),
            sha1_thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
            not_after: file.not_after,
        })
    }

    /// The expiry date, e.g. `2027-11-23`.
    pub fn expires_on(&self) -> String {
        date(self.not_after)
    }

    /// How long until the certificate expires (zero once it has).
    pub fn remaining(&self, now: OffsetDateTime) -> Duration {
        (self.not_after - now).try_into().unwrap_or(Duration::ZERO)
    }

    /// A client assertion for one token request at `audience` (the token endpoint): a JWT whose `iss` and
    /// `sub` are the client id, with a fresh `jti`, valid for ten minutes, signed with the key (RS256), and
    /// naming the certificate by its SHA-256 thumbprint.
    ///
    /// # Errors
    /// Signing failed (ring refused the key; it was checked at load, so this is not expected).
    pub fn assertion(&self, audience: &str, client_id: &str) -> Result<String, jsonwebtoken::errors::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let mut header = Header::new(Algorithm::RS256);
        header.x5t_s256 = Some(self.sha256_thumbprint.clone());
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.as_secs() as i64,
        });
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

/// The RSA key sizes Graph takes for the certificate it encrypts change notifications to ("Set up change
/// notifications that include resource data": 2,048 to 4,096 bits).
pub const ENCRYPTION_KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// A certificate Graph encrypts live status's call events to (`MEETNOW_NOTIFICATION_CERTIFICATE_PATH`, and
/// during a rotation `MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH`), read and checked when the
/// configuration loads: a certificate and its RSA key of [`ENCRYPTION_KEY_BITS`], belonging together, valid
/// today. What live status derives from it (the decryption, the client state, the people's keys) is
/// `live::crypto`'s.
pub struct EncryptionCertificate {
    pub path: PathBuf,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    pub key: rsa::RsaPrivateKey,
    /// The private key, PKCS#1 DER (what keys are derived from).
    pub(crate) pkcs1: Vec<u8>,
    pub key_bits: usize,
    pub not_after: OffsetDateTime,
    /// `x5t#S256`: base64url of the certificate's SHA-256, as the sign-in certificate's.
    pub sha256_thumbprint: String,
}

impl fmt::Debug for EncryptionCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionCertificate")
            .field("path", &self.path)
            .field("key_bits", &self.key_bits)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl EncryptionCertificate {
    /// Reads and checks the PEM file at `path` (named `variable` in the fixes).
    ///
    /// # Errors
    /// A sentence saying what is wrong and how to fix it.
    pub fn load(path: &Path, variable: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "{} can't be read ({e}); point it at a PEM file holding a certificate and its RSA private key",
                path.display()
            )
        })?;
        Self::from_pem(path, &bytes, variable)
    }

    /// As [`EncryptionCertificate::load`], from the file's bytes.
    ///
    /// # Errors
    /// As [`EncryptionCertificate::load`].
    pub fn from_pem(path: &Path, bytes: &[u8], variable: &str) -> Result<Self, String> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::traits::PublicKeyParts as _;
        let file = CertificateFile::from_pem(path, bytes, OffsetDateTime::now_utc(), variable)?;
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&file.pkcs1)
            .map_err(|e| format!("{} holds an RSA key that can't be read ({e})", path.display()))?;
        let key_bits = key.size() * 8;
        if !ENCRYPTION_KEY_BITS.contains(&key_bits) {
            return Err(format!(
                "{} holds a {key_bits}-bit RSA key; Graph takes {} to {} bits and refuses the subscription \
                 otherwise. Make a new one: `openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj \
                 /CN=meetnow-notifications -keyout key.pem -out cert.pem && cat cert.pem key.pem > \
                 notifications.pem`",
                path.display(),
                ENCRYPTION_KEY_BITS.start(),
                ENCRYPTION_KEY_BITS.end()
            ));
        }
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &file.certificate);
        Ok(Self {
            path: path.to_owned(),
            sha256_thumbprint: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256),
            certificate: file.certificate,
            key,
            pkcs1: file.pkcs1,
            key_bits,
            not_after: file.not_after,
        })
    }

    /// The expiry date, e.g. `2027-11-23`.
    pub fn expires_on(&self) -> String {
        date(self.not_after)
    }
}

/// A PEM file's certificate and RSA private key, checked to belong together and to be valid now: what both
/// the sign-in certificate and live status's encryption certificate need.
pub(crate) struct CertificateFile {
    /// The certificate, DER.
    pub(crate) certificate: Vec<u8>,
    /// The private key, PKCS#1 DER.
    pub(crate) pkcs1: Vec<u8>,
    pub(crate) not_after: OffsetDateTime,
}

impl CertificateFile {
    /// Reads `bytes` (the file at `path`, named by `variable` in the fixes).
    ///
    /// # Errors
    /// What is wrong with the file and how to fix it, as a sentence that fits after the variable's name.
    pub(crate) fn from_pem(path: &Path, bytes: &[u8], now: OffsetDateTime, variable: &str) -> Result<Self, String> {
        let shown = path.display();
        let text = String::from_utf8_lossy(bytes);
        if !text.contains("-----BEGIN ") {
            let pfx = bytes.first() == Some(&0x30)
                || path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12"));
            return Err(if pfx {
                format!(
                    "{shown} is a PFX (PKCS#12) file; meetnow reads PEM. Convert it once with \
                     `openssl pkcs12 -in app.pfx -out app.pem -nodes` and point {variable} at \
                     app.pem (it holds the unencrypted key: give it the same protection as the PFX's password)"
                )
            } else {
                format!("{shown} is not a PEM file; it must hold -----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY----- sections")
            });
        }
        if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(format!(
                "{shown} holds an encrypted private key, and meetnow has no passphrase to open it. Write the key \
                 unencrypted once (`openssl pkey -in app.pem -out app-key.pem`, then `cat app.crt app-key.pem > \
                 app.pem`) and protect the file with its permissions or your secret store instead"
            ));
        }
        let mut certificate = None;
        let mut key = None;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
            let (kind, der) = section.map_err(|e| format!("{shown} is not valid PEM ({e})"))?;
            match kind {
                SectionKind::Certificate if certificate.is_none() => certificate = Some(der),
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey if key.is_none() => {
                    key = Some((kind, der))
                }
                _ => {}
            }
        }
        let certificate = certificate.ok_or_else(|| {
            format!(
                "{shown} holds no certificate (-----BEGIN CERTIFICATE-----); put the certificate and its key in one \
                 file: `cat app.crt app.key > app.pem`"
            )
        })?;
        let (kind, key) = key.ok_or_else(|| {
            format!(
                "{shown} holds no private key (-----BEGIN PRIVATE KEY-----); Entra needs the app to sign with the \
                 certificate's key: `cat app.crt app.key > app.pem`"
            )
        })?;
        let not_rsa = || {
            format!(
                "{shown} holds a key that is not RSA; make an RSA certificate for the app \
                 (`openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=meetnow -keyout app.key -out app.crt`)"
            )
        };
        let pkcs1 = match kind {
            SectionKind::RsaPrivateKey => key,
            SectionKind::PrivateKey => {
                let info = pkcs8::PrivateKeyInfo::try_from(key.as_slice())
                    .map_err(|e| format!("{shown} holds a private key that can't be read ({e})"))?;
                if info.algorithm.oid != RSA_ENCRYPTION {
                    return Err(not_rsa());
                }
                info.private_key.to_vec()
            }
            _ => return Err(not_rsa()),
        };
        let key_pair = ring::signature::RsaKeyPair::from_der(&pkcs1).map_err(|e| {
            format!("{shown} holds an RSA key that can't be used ({e}); make a new RSA key of 2048 to 4096 bits")
        })?;

        use x509_cert::der::Decode as _;
        let parsed = x509_cert::Certificate::from_der(&certificate)
            .map_err(|e| format!("{shown} holds a certificate that can't be read ({e})"))?;
        let tbs = &parsed.tbs_certificate;
        let public_key = tbs.subject_public_key_info.subject_public_key.raw_bytes();
        if tbs.subject_public_key_info.algorithm.oid != RSA_ENCRYPTION {
            return Err(not_rsa());
        }
        if public_key != ring::signature::KeyPair::public_key(&key_pair).as_ref() {
            return Err(format!(
                "{shown}: the private key does not belong to the certificate (their public keys differ). Put the \
                 key that was made with this certificate in the file; `openssl x509 -noout -pubkey -in app.pem` and \
                 `openssl pkey -pubout -in app.pem` print the same key when they match"
            ));
        }
        let not_after = to_offset(tbs.validity.not_after.to_unix_duration())?;
        let not_before = to_offset(tbs.validity.not_before.to_unix_duration())?;
        if not_after <= now {
            return Err(format!(
                "{shown}: the certificate expired on {}. Make a new one (a certificate the app signs in with is \
                 also uploaded to the app registration: Certificates & secrets → Certificates → Upload \
                 certificate), then point {variable} at it",
                date(not_after)
            ));
        }
        if not_before > now {
            return Err(format!(
                "{shown}: the certificate is not valid before {}; check this host's clock, or use a certificate \
                 valid today",
                date(not_before)
            ));
        }
        Ok(Self { certificate, pkcs1, not_after })
    }
}

/// rsaEncryption, the algorithm of every RSA key and RSA certificate (RFC 8017).
const RSA_ENCRYPTION: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn to_offset(since_epoch: Duration) -> Result<OffsetDateTime, String> {
    i64::try_from(since_epoch.as_secs())
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| "the certificate's validity dates are out of range".to_owned())
}

pub(crate) fn date(at: OffsetDateTime) -> String {
    let date = at.date();
    format!("{}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// Reads the federated token for one sign-in (it is rotated on disk, so never cached).
///
/// # Errors
/// A sentence naming the file and what to check, when it can't be read or is empty.
pub async fn read_federated_token(path: &Path) -> Result<SecretString, String> {
    let shown = path.display();
    let token = tokio::fs::read_to_string(path).await.map_err(|e| {
        format!(
            "AZURE_FEDERATED_TOKEN_FILE {shown} can't be read ({e}). On Kubernetes, the pod's service account \
             must carry the workload identity annotation and the pod the azure.workload.identity/use label, so \
             the token is mounted there"
        )
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!(
            "AZURE_FEDERATED_TOKEN_FILE {shown} is empty; it must hold the token your platform issues \
             (Kubernetes writes it to the projected service account token volume)"
        ));
    }
    Ok(SecretString::new(token.to_owned()))
}
