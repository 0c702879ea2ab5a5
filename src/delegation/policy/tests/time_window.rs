//! When a delegation holds: from the first instant of its first day to the last instant of
//! its last day, in Paris time, across the DST changes; until the instant of a revocation.

use super::*;

#[test]
fn a_delegation_is_active_from_the_first_instant_of_its_first_day() {
    let who = agent("referent", &[]);
    let held = [delegation(7, "referent", A, Scope::Eleves)];
    // 2027-03-27 23:59:59.999999 in Paris: not yet valid.
    check(
        &who,
        &held,
        Action::ViewPupils,
        first_instant() - TICK,
        Expect::Hidden,
        "not yet valid",
    );
    check(
        &who,
        &held,
        Action::ViewPupils,
        first_instant(),
        Expect::Delegated(7),
        "first instant",
    );
    // The whole first day counts although it is only 23 hours long.
    check(
        &who,
        &held,
        Action::ResetPupil,
        Utc.with_ymd_and_hms(2027, 3, 28, 21, 59, 0).unwrap(),
        Expect::Delegated(7),
        "first day, late",
    );
}

#[test]
fn a_delegation_ends_with_the_last_instant_of_its_last_day() {
    let who = agent("referent", &[]);
    let held = [delegation(7, "referent", A, Scope::Eleves)];
    // The last day is 25 hours long: 22:30 UTC is still 23:30 on the 31st in Paris.
    check(
        &who,
        &held,
        Action::ViewPupils,
        Utc.with_ymd_and_hms(2027, 10, 31, 22, 30, 0).unwrap(),
        Expect::Delegated(7),
        "last day, late",
    );
    check(
        &who,
        &held,
        Action::ViewPupils,
        end_instant() - TICK,
        Expect::Delegated(7),
        "last instant",
    );
    check(
        &who,
        &held,
        Action::ViewPupils,
        end_instant(),
        Expect::Hidden,
        "expired",
    );
    check(
        &who,
        &held,
        Action::ResetPupil,
        end_instant() + Duration::days(30),
        Expect::Hidden,
        "long expired",
    );
}

#[test]
fn a_revoked_delegation_stops_at_the_instant_of_revocation() {
    let who = agent("referent", &[]);
    let revoked_at = Utc.with_ymd_and_hms(2027, 6, 1, 8, 0, 0).unwrap();
    let mut d = delegation(7, "referent", A, Scope::Eleves);
    d.revoked_at = Some(revoked_at);
    d.revoked_by = Some("principal".into());
    let held = [d];
    check(
        &who,
        &held,
        Action::ViewPupils,
        revoked_at - TICK,
        Expect::Delegated(7),
        "just before revocation",
    );
    for action in Action::ALL {
        check(&who, &held, action, revoked_at, Expect::Hidden, "revoked");
    }
}

#[test]
fn both_scopes_from_two_delegations_and_the_spring_change_of_a_one_day_delegation() {
    let who = agent("referent", &[]);
    let held = [
        delegation(1, "referent", A, Scope::Eleves),
        delegation(2, "referent", A, Scope::Responsables),
    ];
    let at = inside()[2];
    assert_eq!(
        scopes_on(&who, &held, &uai(A), at, Paris),
        vec![Scope::Eleves, Scope::Responsables]
    );
    assert!(scopes_on(&who, &held, &uai(B), at, Paris).is_empty());
    // A delegation of the 28th only: 23 hours long in Paris.
    let mut short = delegation(3, "referent", A, Scope::Eleves);
    short.valid_until = first_day();
    let short = [short];
    check(
        &who,
        &short,
        Action::ViewPupils,
        Utc.with_ymd_and_hms(2027, 3, 28, 21, 59, 59).unwrap(),
        Expect::Delegated(3),
        "23:59:59 CEST",
    );
    check(
        &who,
        &short,
        Action::ViewPupils,
        Utc.with_ymd_and_hms(2027, 3, 28, 22, 0, 0).unwrap(),
        Expect::Hidden,
        "midnight CEST",
    );
}
