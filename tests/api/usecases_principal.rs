//! The principal's use cases called directly, as the CLI or a later API would: a grant, its
//! collision, a revocation twice, a permit used for another action, an import without a
//! permit and the operator's refused import (each refusal with its audit row).

use educt_admin::accounts::store::SqlAccountStore;
use educt_admin::audit::AuditAction;
use educt_admin::delegation::policy::Action;
use educt_admin::domain::{Agent, Uai};
use educt_admin::usecases::authorize::{Attempt, permit};
use educt_admin::usecases::delegations::{self, GrantRequest, GranteeLookup};
use educt_admin::usecases::import::{self, ImportFormat, ImportRequest};
use educt_admin::usecases::{Actor, Caller, Context, FailureClass};

use crate::helpers::{COLLEGE, TestDb, audit_rows, t0, test_key};

fn agent(uid: &str, attached: &Uai, principal: bool) -> Agent {
    Agent {
        uid: uid.into(),
        display_name: format!("Agent {uid}"),
        mail: None,
        attached: vec![attached.clone()],
        responsible_for: if principal {
            vec![attached.clone()]
        } else {
            vec![]
        },
    }
}

#[test]
fn a_grant_its_collision_and_a_second_revocation_through_the_use_cases() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let (key, tz) = (test_key(), chrono_tz::Europe::Paris);
    let college = Uai::parse(COLLEGE).unwrap();
    let principal = agent("principal.college", &college, true);
    let ctx = Context::new(Actor::Agent(principal.uid.clone()), t0());
    let attempt = Attempt::new(AuditAction::DelegationGrant);
    let action = Action::ManageDelegations;
    let caller = Caller {
        key: &key,
        tz,
        ctx: &ctx,
        agent: &principal,
    };
    let allowed = permit(&mut conn, &caller, action, &college, &attempt)
        .expect("a principal manages his delegations");
    let today = t0().with_timezone(&tz).date_naive();
    let req = GrantRequest {
        grantee: "cpe.college".into(),
        scopes: vec!["eleves".into()],
        valid_from: today.to_string(),
        valid_until: (today + chrono::Days::new(30)).to_string(),
        motive: "Absence du principal".into(),
    };
    let found = GranteeLookup::Found(agent("cpe.college", &college, false));
    let ids = delegations::grant(&mut conn, &key, tz, &allowed, &ctx, &req, &found)
        .unwrap()
        .expect("granted");
    assert_eq!(ids.len(), 1);
    let again = delegations::grant(&mut conn, &key, tz, &allowed, &ctx, &req, &found).unwrap();
    let refusal = again.expect_err("the same scope twice");
    assert_eq!(refusal.failure.class, FailureClass::Conflict);
    assert_eq!(refusal.extend, Some(ids[0]));
    assert!(refusal.failure.message.contains("Agent cpe.college"));
    // Revoked once, then refused.
    let (d, p) = delegations::permit_on(
        &mut conn,
        &caller,
        &ids[0].to_string(),
        AuditAction::DelegationRevoke,
    )
    .unwrap();
    delegations::revoke(&mut conn, &key, &p, &ctx, &d).unwrap();
    let second = delegations::revoke(&mut conn, &key, &p, &ctx, &d).unwrap_err();
    assert_eq!(second.class, FailureClass::Conflict);
    // A bad or unknown id reveals nothing.
    let hidden = delegations::permit_on(&mut conn, &caller, "x", AuditAction::DelegationView);
    assert_eq!(hidden.unwrap_err().class, FailureClass::Hidden);
    let rows = audit_rows(&mut conn);
    let of = |action: &str, outcome: &str| {
        rows.iter()
            .filter(|r| r.1 == action && r.2 == outcome)
            .count()
    };
    assert_eq!(of("delegation.grant", "success"), 1);
    assert_eq!(of("delegation.grant", "refused"), 1);
    assert_eq!(of("delegation.revoke", "success"), 1);
    assert_eq!(of("delegation.revoke", "refused"), 1);
    // A permit given for another action is a bug, not a right.
    let journal = allowed_for_journal(&mut conn, &principal, &ctx);
    let wrong = delegations::revoke(&mut conn, &key, &journal, &ctx, &d);
    assert_eq!(wrong.unwrap_err().class, FailureClass::Internal);
}

fn allowed_for_journal(
    conn: &mut educt_admin::db::DbConnection,
    principal: &Agent,
    ctx: &Context,
) -> educt_admin::delegation::policy::Permit {
    let college = Uai::parse(COLLEGE).unwrap();
    let attempt = Attempt::new(AuditAction::JournalRead);
    let key = test_key();
    let caller = Caller {
        key: &key,
        tz: chrono_tz::Europe::Paris,
        ctx,
        agent: principal,
    };
    permit(conn, &caller, Action::ReadJournal, &college, &attempt).unwrap()
}

#[test]
fn only_the_operator_imports_without_a_permit_and_his_refusals_are_audited() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let (key, tz) = (test_key(), chrono_tz::Europe::Paris);
    let req = ImportRequest {
        uai: Uai::parse(COLLEGE).unwrap(),
        format: ImportFormat::Siecle,
        pupils: b"not xml at all".to_vec(),
        guardians: None,
        name: None,
        dry_run: false,
        force: false,
    };
    let agent_ctx = Context::new(Actor::Agent("principal.college".into()), t0());
    let refused = import::import(
        &mut conn,
        &key,
        tz,
        &SqlAccountStore,
        None,
        &agent_ctx,
        &req,
        &|_, _| {},
    );
    assert_eq!(refused.unwrap_err().class, FailureClass::Forbidden);
    let operator = Context::new(Actor::Cli("root".into()), t0());
    let bad = import::import(
        &mut conn,
        &key,
        tz,
        &SqlAccountStore,
        None,
        &operator,
        &req,
        &|_, _| {},
    );
    let failure = bad.unwrap_err();
    assert_eq!(failure.class, FailureClass::BadInput);
    assert!(
        failure
            .message
            .starts_with("Import refusé, rien n'a été modifié"),
        "{failure:?}"
    );
    let rows = audit_rows(&mut conn);
    assert!(
        rows.iter()
            .any(|r| r.0 == "cli:root" && r.1 == "import.siecle" && r.2 == "refused"),
        "{rows:?}"
    );
}
