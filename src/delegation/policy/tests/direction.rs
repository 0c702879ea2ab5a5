//! Direction staff: the principal by responsibility and his deputies by function. A deputy's
//! function counts on the attachment the directory names as his main one, only while he is
//! attached there; on his other attachments he holds what delegations give him, like anyone.

use super::*;

/// A deputy head attached to `attached`, whose direction function the directory puts on
/// `main` (as the directories build him: `Agent::add_direction_on_attachment`).
fn deputy(attached: &[&str], main: &str) -> Agent {
    let mut who = agent("adurand", &[]);
    who.attached = attached.iter().map(|u| uai(u)).collect();
    who.add_direction_on_attachment(&uai(main));
    who
}

/// Every action on A at every instant of the window: what `expect` says for it.
fn check_every(who: &Agent, held: &[Delegation], expect: fn(Action) -> Expect, case: &str) {
    for at in inside() {
        for action in Action::ALL {
            check(who, held, action, at, expect(action), case);
        }
    }
}

/// What a delegate of both scopes (delegations 7 and 8) is answered.
fn as_delegate(action: Action) -> Expect {
    match action.scope() {
        Some(Scope::Eleves) => Expect::Delegated(7),
        Some(Scope::Responsables) => Expect::Delegated(8),
        None => Expect::Forbidden,
    }
}

/// Both scopes on A, delegated to the deputy.
fn both_scopes() -> [Delegation; 2] {
    [
        delegation(7, "adurand", A, Scope::Eleves),
        delegation(8, "adurand", A, Scope::Responsables),
    ]
}

#[test]
fn a_deputy_holds_every_right_on_his_main_attachment() {
    let here = deputy(&[A, B], A);
    assert_eq!(here.responsible_for, vec![uai(A)]);
    // Granting delegations included: the one thing no delegate ever holds.
    check_every(&here, &[], |_| Expect::Principal, "deputy, main here");
    let principal = |_| Expect::Principal;
    check_every(&here, &both_scopes(), principal, "deputy, also a delegate");
}

#[test]
fn a_deputy_holds_nothing_on_a_secondary_attachment_without_a_delegation() {
    // Main attachment B, also attached to A: on A he is staff like any other.
    let secondary = deputy(&[A, B], B);
    assert_eq!(secondary.responsible_for, vec![uai(B)]);
    check_every(&secondary, &[], |_| Expect::Hidden, "secondary, nothing");
    check_every(
        &secondary,
        &both_scopes(),
        as_delegate,
        "secondary, delegated",
    );
}

#[test]
fn a_main_attachment_he_is_not_attached_to_gives_nothing() {
    // The directory names A as his main attachment but no longer attaches him there.
    let moved = deputy(&[B], A);
    assert!(moved.responsible_for.is_empty());
    check_every(&moved, &[], |_| Expect::Hidden, "moved, no delegation");
    check_every(
        &moved,
        &both_scopes(),
        |_| Expect::Hidden,
        "moved, delegated",
    );
}

#[test]
fn a_principal_who_is_also_deputy_somewhere_holds_both() {
    // Responsible for A (FrEduRneResp), direction function on his main attachment B.
    let mut both = agent("principal", &[A]);
    both.attached = vec![uai(A), uai(B)];
    both.add_direction_on_attachment(&uai(B));
    both.add_direction_on_attachment(&uai(A));
    assert_eq!(both.responsible_for, vec![uai(A), uai(B)], "sorted, once");
    check_every(&both, &[], |_| Expect::Principal, "responsible for A");
    for action in Action::ALL {
        let on_b = authorize(&both, &[], action, &uai(B), inside()[2], Paris);
        assert_eq!(on_b.unwrap().basis, Basis::Principal, "{action:?} on B");
    }
}
