//! What proves a request to `/interactions` is Discord's, and new: the Ed25519 signature over
//! `X-Signature-Timestamp` + body, checked strictly under a public key of full order; a timestamp within
//! [`MAX_CLOCK_SKEW`] of this host's clock; and an interaction id not seen in the last [`REPLAY_WINDOW`].
//!
//! serenity's `Verifier` accepts any key that decodes to a curve point and verifies leniently, so under a
//! small-order key (all zeros, or the identity point `01` then zeros) any signature verifies. This module
//! refuses such keys at configuration time and uses `verify_strict`, which also refuses small-order `R`
//! and non-canonical signatures.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use ed25519_dalek::{Signature, VerifyingKey};

#[cfg(test)]
use crate::config::check_public_key;
use tokio::time::Instant;

/// How far `X-Signature-Timestamp` may be from this host's clock, either way, as Discord's own libraries
/// allow: a signed request captured once can't be replayed later than this.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// How long an interaction id is remembered: as long as its token lives, after which nothing can answer it
/// anyway (and the timestamp window is shorter).
pub const REPLAY_WINDOW: Duration = crate::discord::INTERACTION_TOKEN_LIFETIME;

/// The most interaction ids remembered: a bound on memory whatever arrives. Far above what a process
/// answers in [`REPLAY_WINDOW`] (BENCHMARKS.md's largest burst is 2,000).
const MAX_REMEMBERED: usize = 100_000;

/// Why a request was refused: each is a 401, and only the log tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No `X-Signature-Ed25519` or `X-Signature-Timestamp`.
    Unsigned,
    /// The timestamp is not whole seconds since the Unix epoch.
    MalformedTimestamp,
    /// The timestamp is more than [`MAX_CLOCK_SKEW`] from now, either way: a replay, or a clock far off.
    Stale,
    /// The signature is not 128 hexadecimal characters, or does not verify.
    BadSignature,
}

impl Refused {
    /// A short stable name, for the log and the metric.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::Stale => "stale_timestamp",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// Verifies requests under the application's public key.
pub struct Verifier {
    key: VerifyingKey,
}

impl Verifier {
    /// # Errors
    /// When `public_key` is weak (see [`crate::config::check_public_key`]); the configuration refuses such
    /// keys first.
    pub fn new(public_key: &[u8; 32]) -> Result<Self, &'static str> {
        crate::config::check_public_key(public_key).map(|key| Self { key })
    }

    /// Checks a request's signature headers against its raw body, with `now` as Unix seconds.
    ///
    /// # Errors
    /// [`Refused`], saying which check failed.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), Refused> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else { return Err(Refused::Unsigned) };
        let signed_at: i64 = timestamp
            .parse()
            .ok()
            .filter(|_| !timestamp.is_empty() && timestamp.bytes().all(|b| b.is_ascii_digit()))
            .ok_or(Refused::MalformedTimestamp)?;
        if signed_at.abs_diff(now) > MAX_CLOCK_SKEW.as_secs() {
            return Err(Refused::Stale);
        }
        let signature =
            parse_hex::<64>(signature).map(|bytes| Signature::from_bytes(&bytes)).ok_or(Refused::BadSignature)?;
        let message = [timestamp.as_bytes(), body].concat();
        self.key.verify_strict(&message, &signature).map_err(|_| Refused::BadSignature)
    }
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(bytes)
}

/// The interaction ids this process handled in the last [`REPLAY_WINDOW`]: a signed request sent twice (a
/// replay inside the timestamp window, or a retry) is handled once.
#[derive(Default)]
pub struct SeenInteractions {
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<u64>,
    /// The same ids, oldest first, for forgetting them.
    order: VecDeque<(Instant, u64)>,
}

impl SeenInteractions {
    /// Whether `id` is new: `true` the first time within the window, `false` after.
    pub fn first_time(&self, id: u64) -> bool {
        let now = Instant::now();
        let Ok(mut seen) = self.inner.lock() else { return true };
        while let Some(&(at, old)) = seen.order.front() {
            if now.duration_since(at) < REPLAY_WINDOW && seen.order.len() < MAX_REMEMBERED {
                break;
            }
            seen.order.pop_front();
            seen.ids.remove(&old);
        }
        if !seen.ids.insert(id) {
            return false;
        }
        seen.order.push_back((now, id));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn weak_keys_are_refused_and_a_real_one_is_taken() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(check_public_key(&[0u8; 32]).is_err(), "all zeros");
        assert!(check_public_key(&identity).is_err(), "the identity point");
        // The identity point with its sign bit set: the same point, not canonically encoded.
        let mut negative_identity = identity;
        negative_identity[31] |= 0x80;
        assert!(check_public_key(&negative_identity).is_err());
        // A point of order 8 (a torsion point) and a real key plus it (mixed order).
        let torsion = hex_key("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
        assert!(check_public_key(&torsion).is_err(), "order 8");
        let real = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        let mixed = (real.to_edwards() + VerifyingKey::from_bytes(&torsion).unwrap().to_edwards()).compress();
        assert_eq!(check_public_key(mixed.as_bytes()), Err("it is not of full order (it has a small-order component)"));
        assert!(check_public_key(real.as_bytes()).is_ok());
    }

    fn hex_key(text: &str) -> [u8; 32] {
        parse_hex::<32>(text).unwrap()
    }

    #[test]
    fn only_a_fresh_signature_by_the_key_verifies() {
        let signer = SigningKey::from_bytes(&[9u8; 32]);
        let verifier = Verifier::new(signer.verifying_key().as_bytes()).unwrap();
        let now = 1_800_000_000;
        let sign = |at: i64, body: &[u8]| hex(&signer.sign(&[at.to_string().as_bytes(), body].concat()).to_bytes());
        let body = br#"{"type":1}"#;
        let ok = |at: i64| verifier.verify(Some(&sign(at, body)), Some(&at.to_string()), body, now);
        assert_eq!(ok(now), Ok(()));
        assert_eq!(ok(now - 299), Ok(()));
        assert_eq!(ok(now + 299), Ok(()));
        assert_eq!(ok(now - 301), Err(Refused::Stale), "ten minutes ago, replayed");
        assert_eq!(ok(now + 301), Err(Refused::Stale), "from the future");
        let at = now.to_string();
        assert_eq!(verifier.verify(Some(&sign(now, body)), Some(&at), b"{}", now), Err(Refused::BadSignature));
        assert_eq!(verifier.verify(Some("00"), Some(&at), body, now), Err(Refused::BadSignature));
        assert_eq!(verifier.verify(None, Some(&at), body, now), Err(Refused::Unsigned));
        assert_eq!(
            verifier.verify(Some(&sign(now, body)), Some("+1800000000"), body, now),
            Err(Refused::MalformedTimestamp)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_interaction_is_handled_once_within_the_window() {
        let seen = SeenInteractions::default();
        assert!(seen.first_time(1));
        assert!(seen.first_time(2));
        assert!(!seen.first_time(1));
        tokio::time::advance(REPLAY_WINDOW - Duration::from_secs(1)).await;
        assert!(!seen.first_time(1), "still remembered");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(seen.first_time(1), "forgotten after the window, when its token is dead anyway");
    }
}
