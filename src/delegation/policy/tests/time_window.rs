//! When a delegation holds: from the first instant of its first day to the last instant of
//! its last day, in Paris time, across the DST changes; until the instant of a revocation.

use super::*;
use Action::{ResetPupil, ViewPupils};
use Expect::{Delegated, Hidden};

/// One check: the action asked, when, what `authorize` must answer, and the case's name.
type Case = (Action, DateTime<Utc>, Expect, &'static str);

/// Checks every case for `who` holding `held`.
fn check_all(who: &Agent, held: &[Delegation], cases: &[Case]) {
    for &(action, at, expect, case) in cases {
        check(who, held, action, at, expect, case);
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

#[test]
fn a_delegation_is_active_from_the_first_instant_of_its_first_day() {
    let held = [delegation(7, "referent", A, Scope::Eleves)];
    // 2027-03-27 23:59:59.999999 in Paris: not yet valid.
    let (before, first) = (first_instant() - TICK, first_instant());
    // The whole first day counts although it is only 23 hours long.
    let late = utc(2027, 3, 28, 21, 59, 0);
    check_all(
        &agent("referent", &[]),
        &held,
        &[
            (ViewPupils, before, Hidden, "not yet valid"),
            (ViewPupils, first, Delegated(7), "first instant"),
            (ResetPupil, late, Delegated(7), "first day, late"),
        ],
    );
}

#[test]
fn a_delegation_ends_with_the_last_instant_of_its_last_day() {
    let held = [delegation(7, "referent", A, Scope::Eleves)];
    // The last day is 25 hours long: 22:30 UTC is still 23:30 on the 31st in Paris.
    let late = utc(2027, 10, 31, 22, 30, 0);
    let (last, end) = (end_instant() - TICK, end_instant());
    let long_after = end_instant() + Duration::days(30);
    check_all(
        &agent("referent", &[]),
        &held,
        &[
            (ViewPupils, late, Delegated(7), "last day, late"),
            (ViewPupils, last, Delegated(7), "last instant"),
            (ViewPupils, end, Hidden, "expired"),
            (ResetPupil, long_after, Hidden, "long expired"),
        ],
    );
}

#[test]
fn a_revoked_delegation_stops_at_the_instant_of_revocation() {
    let who = agent("referent", &[]);
    let revoked_at = utc(2027, 6, 1, 8, 0, 0);
    let mut d = delegation(7, "referent", A, Scope::Eleves);
    d.revoked_at = Some(revoked_at);
    d.revoked_by = Some("principal".into());
    let held = [d];
    let just_before = revoked_at - TICK;
    check_all(
        &who,
        &held,
        &[(
            ViewPupils,
            just_before,
            Delegated(7),
            "just before revocation",
        )],
    );
    let revoked = Action::ALL.map(|action| (action, revoked_at, Hidden, "revoked"));
    check_all(&who, &held, &revoked);
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
    let (last_second, midnight) = (utc(2027, 3, 28, 21, 59, 59), utc(2027, 3, 28, 22, 0, 0));
    check_all(
        &who,
        &[short],
        &[
            (ViewPupils, last_second, Delegated(3), "23:59:59 CEST"),
            (ViewPupils, midnight, Hidden, "midnight CEST"),
        ],
    );
}
