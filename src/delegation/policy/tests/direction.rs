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

/// What a delegate of both scopes (delegations 7 and 8) is answered for `action`.
fn as_delegate(action: Action) -> Expect {
    match action.scope() {
        Some(Scope::Eleves) => Expect::Delegated(7),
        Some(Scope::Responsables) => Expect::Delegated(8),
        None => Expect::Forbidden,
    }
}

#[test]
fn a_deputy_holds_every_right_on_his_main_attachment() {
    let here = deputy(&[A, B], A);
    assert_eq!(here.responsible_for, vec![uai(A)]);
    for at in inside() {
        for action in Action::ALL {
            check(
                &here,
                &[],
                action,
                at,
                Expect::Principal,
                "deputy, main here",
            );
        }
    }
    // He grants delegations there: the one action no delegate ever holds.
    check(
        &here,
        &[delegation(7, "adurand", A, Scope::Eleves)],
        Action::ManageDelegations,
        inside()[2],
        Expect::Principal,
        "deputy, main here, also a delegate",
    );
}

#[test]
fn a_deputy_holds_nothing_on_a_secondary_attachment_without_a_delegation() {
    // Main attachment B, also attached to A: on A he is staff like any other.
    let secondary = deputy(&[A, B], B);
    assert_eq!(secondary.responsible_for, vec![uai(B)]);
    let held = [
        delegation(7, "adurand", A, Scope::Eleves),
        delegation(8, "adurand", A, Scope::Responsables),
    ];
    for at in inside() {
        for action in Action::ALL {
            check(
                &secondary,
                &[],
                action,
                at,
                Expect::Hidden,
                "secondary, nothing",
            );
            check(
                &secondary,
                &held,
                action,
                at,
                as_delegate(action),
                "secondary, delegated",
            );
        }
    }
}

#[test]
fn a_main_attachment_he_is_not_attached_to_gives_nothing() {
    // The directory names A as his main attachment but no longer attaches him there.
    let moved = deputy(&[B], A);
    assert!(moved.responsible_for.is_empty());
    let held = [delegation(7, "adurand", A, Scope::Eleves)];
    for action in Action::ALL {
        for (delegations, case) in [(&[][..], "no delegation"), (&held[..], "a delegation")] {
            check(
                &moved,
                delegations,
                action,
                inside()[2],
                Expect::Hidden,
                case,
            );
        }
    }
}

#[test]
fn a_principal_who_is_also_deputy_somewhere_holds_both() {
    // Responsible for A (FrEduRneResp), direction function on his main attachment B.
    let mut both = agent("principal", &[A]);
    both.attached = vec![uai(A), uai(B)];
    both.add_direction_on_attachment(&uai(B));
    both.add_direction_on_attachment(&uai(A));
    assert_eq!(both.responsible_for, vec![uai(A), uai(B)], "sorted, once");
    for action in Action::ALL {
        check(&both, &[], action, inside()[2], Expect::Principal, "on A");
        let on_b = authorize(&both, &[], action, &uai(B), inside()[2], Paris);
        assert_eq!(on_b.unwrap().basis, Basis::Principal, "{action:?} on B");
    }
}
