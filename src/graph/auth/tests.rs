//! The token's lifetime and refresh schedule, whatever Entra or the identity endpoint says.

use super::*;

#[test]
fn lifetimes_are_clamped_and_the_schedule_never_spins() {
    assert_eq!(token_lifetime(Some("3599")), Duration::from_secs(3599));
    assert_eq!(token_lifetime(None), Duration::from_secs(3600));
    assert_eq!(token_lifetime(Some("0")), SHORTEST_LIFETIME);
    assert_eq!(token_lifetime(Some("18446744073709551615")), LONGEST_LIFETIME);
    let now = Instant::now();
    let (usable_until, refresh_at) = token_schedule(now, token_lifetime(Some("0")));
    assert!(refresh_at >= now + Duration::from_secs(45) && usable_until > refresh_at);
}

#[test]
fn a_managed_identity_lifetime_comes_from_expires_on() {
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    assert_eq!(token_lifetime_until("1800003600", now), Duration::from_secs(3600));
    assert_eq!(token_lifetime_until("1799990000", now), SHORTEST_LIFETIME, "already past: the shortest");
    assert_eq!(token_lifetime_until("soon", now), Duration::from_secs(3600), "unreadable: an hour");
}

proptest::proptest! {
    /// Whatever `expires_in` says, the token is usable for a while, refreshed before it stops being
    /// usable, and no instant overflows.
    #[test]
    fn any_expires_in_gives_a_sane_schedule(expires_in in proptest::option::of("\\PC{0,24}|[0-9]{1,30}")) {
        let lifetime = token_lifetime(expires_in.as_deref());
        proptest::prop_assert!((SHORTEST_LIFETIME..=LONGEST_LIFETIME).contains(&lifetime));
        let now = Instant::now();
        let (usable_until, refresh_at) = token_schedule(now, lifetime);
        proptest::prop_assert!(now + Duration::from_secs(45) <= refresh_at && refresh_at < usable_until);
    }
}
