//! Table tests of `authorize`: roles × actions, each allow with its mirror deny, at the
//! boundaries of the first and last day in Europe/Paris, across daylight-saving changes.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Paris;

use super::*;

const A: &str = "0691234S";
const B: &str = "0692418D";

fn uai(s: &str) -> Uai {
    Uai::parse(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Summer time starts on 2027-03-28 and ends on 2027-10-31 in Paris.
fn first_day() -> NaiveDate {
    day(2027, 3, 28)
}
fn last_day() -> NaiveDate {
    day(2027, 10, 31)
}
/// 2027-03-28 00:00 in Paris (UTC+1 until 02:00 that night).
fn first_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 27, 23, 0, 0).unwrap()
}
/// 2027-10-31 24:00 in Paris (UTC+1 again since 03:00 that day: a 25-hour day).
fn end_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 10, 31, 23, 0, 0).unwrap()
}
const TICK: Duration = Duration::microseconds(1);

fn agent(uid: &str, responsible: &[&str]) -> Agent {
    Agent {
        uid: uid.into(),
        display_name: uid.into(),
        mail: None,
        attached: vec![uai(A)],
        responsible_for: responsible.iter().map(|u| uai(u)).collect(),
    }
}

fn delegation(id: i64, uid: &str, on: &str, scope: Scope) -> Delegation {
    Delegation {
        id: id.into(),
        uai: uai(on),
        grantee_uid: uid.into(),
        grantee_name: uid.into(),
        scope,
        valid_from: first_day(),
        valid_until: last_day(),
        motive: "test".into(),
        granted_by: "principal".into(),
        granted_at: first_instant() - Duration::days(10),
        extended_by: None,
        extended_at: None,
        revoked_by: None,
        revoked_at: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Principal,
    Delegated(i64),
    Hidden,
    Forbidden,
}

fn check(
    who: &Agent,
    held: &[Delegation],
    action: Action,
    at: DateTime<Utc>,
    expect: Expect,
    case: &str,
) {
    let got = authorize(who, held, action, &uai(A), at, Paris);
    let ok = match (&got, expect) {
        (Ok(p), Expect::Principal) => {
            p.basis() == &Basis::Principal && p.uai() == &uai(A) && p.action() == action
        }
        (Ok(p), Expect::Delegated(id)) => {
            p.basis == Basis::Delegation(id) && p.delegation_id() == Some(id)
        }
        (Err(Refusal::Hidden(_)), Expect::Hidden) => true,
        (Err(Refusal::Forbidden(_)), Expect::Forbidden) => true,
        _ => false,
    };
    assert!(
        ok,
        "{case} / {action:?} at {at}: expected {expect:?}, got {got:?}"
    );
}

/// Inside the validity window of the delegations: first and last instants.
fn inside() -> [DateTime<Utc>; 3] {
    [
        first_instant(),
        end_instant() - TICK,
        Utc.with_ymd_and_hms(2027, 6, 15, 12, 0, 0).unwrap(),
    ]
}

#[test]
fn principal_holds_everything_on_his_establishment_only() {
    let p = agent("principal", &[A]);
    let other = agent("principal2", &[B]);
    for at in inside()
        .into_iter()
        .chain([first_instant() - TICK, end_instant()])
    {
        for action in Action::ALL {
            check(&p, &[], action, at, Expect::Principal, "principal");
            check(
                &other,
                &[],
                action,
                at,
                Expect::Hidden,
                "principal of the other establishment",
            );
        }
    }
}

#[test]
fn an_active_delegate_holds_his_scope_and_nothing_else() {
    let eleves = agent("referent", &[]);
    let held = [delegation(7, "referent", A, Scope::Eleves)];
    let parents = agent("cpe", &[]);
    let held_parents = [delegation(8, "cpe", A, Scope::Responsables)];
    for at in inside() {
        for action in Action::ALL {
            let (e, p) = match action {
                Action::ViewPupils | Action::ResetPupil => {
                    (Expect::Delegated(7), Expect::Forbidden)
                }
                Action::ViewParents | Action::ResetParent => {
                    (Expect::Forbidden, Expect::Delegated(8))
                }
                Action::ManageDelegations
                | Action::ReadJournal
                | Action::ImportAccounts
                | Action::AcceptTransfers => (Expect::Forbidden, Expect::Forbidden),
            };
            check(&eleves, &held, action, at, e, "delegate eleves");
            check(
                &parents,
                &held_parents,
                action,
                at,
                p,
                "delegate responsables",
            );
        }
    }
}

#[test]
fn a_delegation_elsewhere_or_for_someone_else_gives_nothing_here() {
    let who = agent("referent", &[]);
    let elsewhere = [delegation(9, "referent", B, Scope::Eleves)];
    let someone_else = [delegation(10, "enseignant", A, Scope::Eleves)];
    for at in inside() {
        for action in Action::ALL {
            check(
                &who,
                &elsewhere,
                action,
                at,
                Expect::Hidden,
                "delegate of the other establishment",
            );
            check(
                &who,
                &someone_else,
                action,
                at,
                Expect::Hidden,
                "another agent's delegation",
            );
            check(&who, &[], action, at, Expect::Hidden, "no delegation");
        }
    }
    // Mirror: on B the same delegation works for an agent attached to B.
    let mut on_b = who.clone();
    on_b.attached.push(uai(B));
    let got = authorize(
        &on_b,
        &elsewhere,
        Action::ViewPupils,
        &uai(B),
        inside()[2],
        Paris,
    );
    assert_eq!(got.unwrap().basis, Basis::Delegation(9));
}

#[test]
fn a_delegate_no_longer_attached_to_the_establishment_holds_nothing_there() {
    let attached = agent("referent", &[]);
    let mut detached = agent("referent", &[]);
    detached.attached = vec![uai(B)];
    let mut nowhere = agent("referent", &[]);
    nowhere.attached.clear();
    let held = [
        delegation(7, "referent", A, Scope::Eleves),
        delegation(8, "referent", A, Scope::Responsables),
    ];
    for at in inside() {
        for action in Action::ALL {
            let allowed = match action.scope() {
                Some(Scope::Eleves) => Expect::Delegated(7),
                Some(Scope::Responsables) => Expect::Delegated(8),
                None => Expect::Forbidden,
            };
            check(&attached, &held, action, at, allowed, "attached delegate");
            check(&detached, &held, action, at, Expect::Hidden, "moved to B");
            check(
                &nowhere,
                &held,
                action,
                at,
                Expect::Hidden,
                "attached nowhere",
            );
        }
    }
    assert_eq!(
        scopes_on(&detached, &held, &uai(A), inside()[2], Paris),
        vec![]
    );
    assert_eq!(
        scopes_on(&attached, &held, &uai(A), inside()[2], Paris),
        vec![Scope::Eleves, Scope::Responsables]
    );
}

#[test]
fn a_principal_holds_his_rights_by_responsibility_attached_or_not() {
    let mut principal = agent("principal", &[A]);
    principal.attached.clear();
    let mut former = agent("principal", &[]);
    former.attached.clear();
    for action in Action::ALL {
        check(
            &principal,
            &[],
            action,
            inside()[2],
            Expect::Principal,
            "responsible, not attached",
        );
        check(
            &former,
            &[],
            action,
            inside()[2],
            Expect::Hidden,
            "neither responsible nor attached",
        );
    }
}

#[test]
fn only_a_principal_of_the_origin_accepts_a_transfer() {
    let at = inside()[2];
    let both = [
        delegation(7, "referent", A, Scope::Eleves),
        delegation(8, "referent", A, Scope::Responsables),
    ];
    check(
        &agent("principal", &[A]),
        &[],
        Action::AcceptTransfers,
        at,
        Expect::Principal,
        "principal of the origin",
    );
    check(
        &agent("referent", &[]),
        &both,
        Action::AcceptTransfers,
        at,
        Expect::Forbidden,
        "delegate of both scopes",
    );
    check(
        &agent("principal2", &[B]),
        &[],
        Action::AcceptTransfers,
        at,
        Expect::Hidden,
        "principal of the destination",
    );
    assert_eq!(Action::AcceptTransfers.scope(), None);
}

// When a delegation starts and ends, in Paris time.
mod time_window;

// Direction staff: principals and their deputies.
mod direction;
