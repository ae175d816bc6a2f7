//! The certificate Graph encrypts call events with, the decryption, and the `clientState` that ties a
//! notification to the bridge it is for.
//!
//! Graph's scheme (<https://learn.microsoft.com/graph/change-notifications-with-resource-data>): a fresh
//! AES-256 key per notification, encrypted with RSA-OAEP (SHA-1, MGF1-SHA-1) under our certificate's public
//! key (`dataKey`); the data encrypted with AES-256-CBC, PKCS7 padding, IV = the key's first 16 bytes (`data`);
//! and `dataSignature`, HMAC-SHA256 of the encrypted data keyed with the AES key. The HMAC is checked, in
//! constant time, before anything is decrypted.
//!
//! `clientState` is an HMAC of the bridge's address (guild, channel, join link) under a key derived from
//! the certificate's private key: every process holds the same file, so any of them can check a
//! notification without shared state, and nobody without the key can make one that passes. The people in
//! the announcement are keyed under another key derived from it ([`super::events::Keys`]).
//!
//! While the certificate is replaced, [`Certificates`] holds the new one and the previous one: subscriptions
//! are made on (and moved to) the new one, and notifications for either are read.

use std::path::PathBuf;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut as _, KeyIvInit as _};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::credential::EncryptionCertificate;

/// What `meetnow check` and the start-up log say when the app signs in with the key that also decrypts
/// notifications (`MEETNOW_NOTIFICATION_CERTIFICATE_PATH` unset, or the same file).
pub const SHARED_KEY_WARNING: &str = "the sign-in certificate is also the notification certificate. The key that \
     proves the app to Entra then also decrypts what anyone on the internet can post to the notification URL, \
     with code that is not constant-time (RUSTSEC-2023-0071, mitigated by blinding), and both must be replaced \
     together. Make a separate notification certificate and set MEETNOW_NOTIFICATION_CERTIFICATE_PATH (README, \
     \"Live status\")";

/// The longest encrypted payload decrypted: call events are a few KB; a roster of hundreds, tens of KB.
const MAX_DATA_BYTES: usize = 192 * 1024;

/// The certificate from `MEETNOW_NOTIFICATION_CERTIFICATE_PATH`, ready to decrypt.
pub struct NotificationCertificate {
    pub path: PathBuf,
    /// The certificate, base64 DER, as a subscription's `encryptionCertificate`.
    pub certificate_base64: String,
    /// The subscription's `encryptionCertificateId`: `meetnow-` and the start of the SHA-256 thumbprint.
    pub id: String,
    pub not_after: OffsetDateTime,
    pub key_bits: usize,
    /// `x5t#S256`: base64url of the certificate's SHA-256, to tell it from the sign-in certificate.
    pub sha256_thumbprint: String,
    key: rsa::RsaPrivateKey,
    client_state_key: [u8; 32],
    person_key: [u8; 32],
}

impl std::fmt::Debug for NotificationCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationCertificate")
            .field("path", &self.path)
            .field("id", &self.id)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Why an encrypted notification was not decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Undecryptable {
    #[error("encrypted with another certificate")]
    OtherCertificate,
    #[error("not base64, or too long")]
    Malformed,
    #[error("the data key does not decrypt with our key")]
    DataKey,
    #[error("the signature over the data does not verify")]
    DataSignature,
    #[error("the data does not decrypt")]
    Data,
}

impl Undecryptable {
    /// The metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::OtherCertificate => "other_certificate",
            Self::Malformed => "malformed",
            Self::DataKey => "data_key",
            Self::DataSignature => "data_signature",
            Self::Data => "data",
        }
    }
}

/// `encryptedContent` of a notification.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EncryptedContent {
    pub data: String,
    pub data_signature: String,
    pub data_key: String,
    pub encryption_certificate_id: Option<String>,
}

impl NotificationCertificate {
    /// What live status derives from a checked certificate file: the subscription's certificate and its id,
    /// the key that decrypts, and the keys of the client state and of the people.
    pub fn new(file: &EncryptionCertificate) -> Self {
        let thumbprint = Sha256::digest(&file.certificate);
        let hex: String = thumbprint.iter().take(12).map(|b| format!("{b:02x}")).collect();
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut derive = Sha256::new();
            derive.update(label);
            derive.update(&file.pkcs1);
            derive.finalize().into()
        };
        Self {
            path: file.path.clone(),
            certificate_base64: STANDARD.encode(&file.certificate),
            id: format!("meetnow-{hex}"),
            sha256_thumbprint: file.sha256_thumbprint.clone(),
            not_after: file.not_after,
            key_bits: file.key_bits,
            key: file.key.clone(),
            client_state_key: derive(b"meetnow clientState key v1\0"),
            person_key: derive(b"meetnow person key v2\0"),
        }
    }

    /// The expiry date, e.g. `2027-11-23`.
    pub fn expires_on(&self) -> String {
        crate::credential::date(self.not_after)
    }

    /// The `clientState` for notifications about the bridge at `address` (43 characters).
    pub fn client_state(&self, address: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.client_state_mac(address).finalize().into_bytes())
    }

    /// Whether `given` is the `clientState` for `address`, compared in constant time.
    pub fn is_client_state(&self, address: &str, given: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(given.trim()) else { return false };
        self.client_state_mac(address).verify_slice(&given).is_ok()
    }

    fn client_state_mac(&self, address: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length; 32 bytes can't be refused.
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&self.client_state_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(b"meetnow clientState v1\0");
        mac.update(address.as_bytes());
        mac
    }

    /// What keys the people of the announcement.
    pub fn keys(&self) -> super::events::Keys {
        super::events::Keys::new(self.person_key)
    }

    /// The plaintext of `content`: the data key decrypted, the HMAC over the data checked, then the data
    /// decrypted.
    ///
    /// # Errors
    /// [`Undecryptable`]: which step failed.
    pub fn decrypt(&self, content: &EncryptedContent) -> Result<Vec<u8>, Undecryptable> {
        if content.encryption_certificate_id.as_deref().is_some_and(|id| id != self.id) {
            return Err(Undecryptable::OtherCertificate);
        }
        if content.data.len() > MAX_DATA_BYTES * 4 / 3 + 4 || content.data_key.len() > 2048 {
            return Err(Undecryptable::Malformed);
        }
        let decode = |text: &str| STANDARD.decode(text.trim()).map_err(|_| Undecryptable::Malformed);
        let (data_key, data, signature) =
            (decode(&content.data_key)?, decode(&content.data)?, decode(&content.data_signature)?);
        // Blinded: the `rsa` crate's decryption is not constant-time (RUSTSEC-2023-0071); blinding hides the
        // key's bits from the timing, and nothing outside sees the timing anyway (it runs after the answer).
        let key = self
            .key
            .decrypt_blinded(&mut rand::thread_rng(), rsa::Oaep::new::<sha1::Sha1>(), &data_key)
            .map_err(|_| Undecryptable::DataKey)?;
        if key.len() != 32 {
            return Err(Undecryptable::DataKey);
        }
        let mut mac = <Hmac<Sha256> as hmac::Mac>::new_from_slice(&key).map_err(|_| Undecryptable::DataKey)?;
        mac.update(&data);
        mac.verify_slice(&signature).map_err(|_| Undecryptable::DataSignature)?;
        cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
            .map_err(|_| Undecryptable::DataKey)?
            .decrypt_padded_vec_mut::<Pkcs7>(&data)
            .map_err(|_| Undecryptable::Data)
    }
}

/// The notification certificate, and during a rotation the one it replaces
/// (`MEETNOW_NOTIFICATION_PREVIOUS_CERTIFICATE_PATH`).
#[derive(Debug, Clone)]
pub struct Certificates {
    /// What subscriptions are made on and moved to, and what `clientState` is derived from.
    pub current: std::sync::Arc<NotificationCertificate>,
    /// Still read: notifications Graph encrypts to it, client states derived from it.
    pub previous: Option<std::sync::Arc<NotificationCertificate>>,
}

impl Certificates {
    /// The certificates of `current` and, during a rotation, `previous`.
    pub fn new(current: &EncryptionCertificate, previous: Option<&EncryptionCertificate>) -> Self {
        Self {
            current: std::sync::Arc::new(NotificationCertificate::new(current)),
            previous: previous.map(|previous| std::sync::Arc::new(NotificationCertificate::new(previous))),
        }
    }

    fn all(&self) -> impl Iterator<Item = &NotificationCertificate> {
        std::iter::once(self.current.as_ref()).chain(self.previous.as_deref())
    }

    /// Whether `given` is the `clientState` for `address` under either certificate.
    pub fn is_client_state(&self, address: &str, given: &str) -> bool {
        self.all().any(|certificate| certificate.is_client_state(address, given))
    }

    /// Whether a subscription on the certificate `id` is on the current one.
    pub fn is_current(&self, id: Option<&str>) -> bool {
        id == Some(self.current.id.as_str())
    }

    /// The plaintext of `content`, by whichever certificate it names (or, naming none, whichever decrypts).
    ///
    /// # Errors
    /// As [`NotificationCertificate::decrypt`]; [`Undecryptable::OtherCertificate`] for one neither holds.
    pub fn decrypt(&self, content: &EncryptedContent) -> Result<Vec<u8>, Undecryptable> {
        match content.encryption_certificate_id.as_deref() {
            Some(id) => match self.all().find(|certificate| certificate.id == id) {
                Some(certificate) => certificate.decrypt(content),
                None => Err(Undecryptable::OtherCertificate),
            },
            None => {
                // The first certificate's refusal says most (the current one is tried first).
                let mut refusal = None;
                for certificate in self.all() {
                    match certificate.decrypt(content) {
                        Ok(plain) => return Ok(plain),
                        Err(why) => refusal = refusal.or(Some(why)),
                    }
                }
                Err(refusal.unwrap_or(Undecryptable::OtherCertificate))
            }
        }
    }

    /// What keys the people of the announcement: the current certificate's.
    pub fn keys(&self) -> super::events::Keys {
        self.current.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_as_a_sentence_with_its_own_label() {
        for (refusal, reads, label) in [
            (Undecryptable::OtherCertificate, "encrypted with another certificate", "other_certificate"),
            (Undecryptable::Malformed, "not base64, or too long", "malformed"),
            (Undecryptable::DataKey, "the data key does not decrypt with our key", "data_key"),
            (Undecryptable::DataSignature, "the signature over the data does not verify", "data_signature"),
            (Undecryptable::Data, "the data does not decrypt", "data"),
        ] {
            assert_eq!((refusal.to_string().as_str(), refusal.reason()), (reads, label));
        }
    }
}
