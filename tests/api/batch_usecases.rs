//! The batch use cases called directly, as the CLI or an API would: the class form's checks,
//! the ownership of a batch and its audit rows, without the web in between.

use educt_admin::accounts::{AccountKind, AccountOp};
use educt_admin::audit::AuditAction;
use std::sync::Arc;

use chrono::NaiveDate;
use educt_admin::db::DbConnection;
use educt_admin::delegation::Scope;
use educt_admin::delegation::policy::Permit;
use educt_admin::delegation::store::{self as delegations, NewDelegation};
use educt_admin::directory::local::LocalDirectory;
use educt_admin::domain::{Agent, Uai};
use educt_admin::usecases::authorize::{Attempt, permit};
use educt_admin::usecases::batches::{self, ClassChoice, Created, Deps};
use educt_admin::usecases::{Actor, Caller, Context, FailureClass};

use crate::helpers::{COLLEGE, TestDb, add_pupil, audit_rows, seed_staff, t0, test_key};

const KEY: &str = "cle-de-formulaire-0001";

fn agent(uid: &str, principal: bool) -> Agent {
    let college = Uai::parse(COLLEGE).unwrap();
    Agent {
        uid: uid.into(),
        display_name: uid.into(),
        mail: None,
        attached: vec![college.clone()],
        responsible_for: if principal { vec![college] } else { vec![] },
    }
}

fn ctx(uid: &str) -> Context {
    Context::new(Actor::Agent(uid.into()), t0())
}

/// The right to reset pupils of the collège, as `authorize` gives it to `who`.
fn permit_of(conn: &mut DbConnection, who: &Agent) -> Permit {
    let college = Uai::parse(COLLEGE).unwrap();
    let action = batches::action_for(AccountKind::Pupil);
    let attempt = Attempt::new(AuditAction::Account(
        AccountKind::Pupil,
        AccountOp::BatchCreate,
    ));
    let (key, ctx) = (test_key(), ctx(&who.uid));
    let caller = Caller {
        key: &key,
        tz: chrono_tz::Europe::Paris,
        ctx: &ctx,
        agent: who,
    };
    permit(conn, &caller, action, &college, &attempt).unwrap()
}

/// A collège with its staff, a referent and a teacher holding `eleves`, two pupils in 4A.
fn setup() -> (TestDb, Deps) {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    seed_staff(&mut conn);
    let uai = Uai::parse(COLLEGE).unwrap();
    for uid in ["referent", "enseignant"] {
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let new = NewDelegation {
            uai: &uai,
            grantee_uid: uid,
            grantee_name: uid,
            scope: Scope::Eleves,
            valid_from: day("2026-11-01"),
            valid_until: day("2027-08-31"),
            motive: "fixture",
            granted_by: "principal",
        };
        delegations::insert(&mut conn, &new, t0()).unwrap();
    }
    for name in ["Martin", "Bernard"] {
        add_pupil(&mut conn, COLLEGE, "Élève", name, "4A", "non_notifie");
    }
    let directory = LocalDirectory::new(db.pool().pool().clone()).unwrap();
    let deps = Deps {
        key: test_key(),
        tz: chrono_tz::Europe::Paris,
        directory: Arc::new(directory),
    };
    (db, deps)
}

fn choice(division: &str, states: &[&str], renotify: bool) -> ClassChoice {
    let states: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let renotify = if renotify { "oui" } else { "" };
    ClassChoice::from_form(AccountKind::Pupil, division, &states, KEY, renotify)
}

#[test]
fn the_class_form_is_refused_in_french_and_audited_before_anything_is_created() {
    let (db, deps) = setup();
    let mut conn = db.connect();
    let referent = agent("referent", false);
    let p = permit_of(&mut conn, &referent);
    let cases = [
        (
            choice("9Z", &["non_notifie"], false),
            "Choisissez une classe",
        ),
        (choice("4A", &["inconnu"], false), "Cochez au moins un état"),
        (choice("4A", &["notifie"], false), "Je confirme"),
        (
            choice("4A", &["active"], true),
            "Aucun élève de cette classe",
        ),
    ];
    for (c, expected) in cases {
        let refused =
            batches::create(&mut conn, &deps, &p, &ctx("referent"), &c, "i1").unwrap_err();
        assert_eq!(refused.failure.class, FailureClass::BadInput, "{expected}");
        assert!(
            refused.failure.message.contains(expected),
            "{}",
            refused.failure.message
        );
        assert_eq!(refused.running, None);
    }
    let rows = audit_rows(&mut conn);
    let refusals = rows
        .iter()
        .filter(|(actor, action, outcome, _)| {
            actor == "referent" && action == "eleve.batch_create" && outcome == "refused"
        })
        .count();
    assert_eq!(refusals, 4, "{rows:?}");
    let count: i64 = {
        use diesel::prelude::*;
        use educt_admin::db::schema::batches as t;
        t::table.count().get_result(&mut conn).unwrap()
    };
    assert_eq!(count, 0);
}

#[test]
fn a_batch_is_its_creators_and_the_principals_only() {
    let (db, deps) = setup();
    let mut conn = db.connect();
    let (referent, teacher) = (agent("referent", false), agent("enseignant", false));
    let p = permit_of(&mut conn, &referent);
    let c = choice("4A", &["non_notifie"], false);
    let created = batches::create(&mut conn, &deps, &p, &ctx("referent"), &c, "i1").unwrap();
    let Created::New { id, owner } = created else {
        panic!("{created:?}")
    };
    assert!(owner.starts_with("i1/"), "{owner}");
    // The same form sent again names the same batch.
    let again = batches::create(&mut conn, &deps, &p, &ctx("referent"), &c, "i1").unwrap();
    assert_eq!(again, Created::Existing(id));

    // Another delegate of the school: refused (403), audited.
    let other = permit_of(&mut conn, &teacher);
    let refused = batches::status(&mut conn, &deps, &other, &ctx("enseignant"), id).unwrap_err();
    assert_eq!(refused.class, FailureClass::Forbidden);
    assert!(
        refused.message.contains("autre personnel"),
        "{}",
        refused.message
    );
    let rows = audit_rows(&mut conn);
    assert!(
        rows.iter()
            .any(|(actor, action, outcome, details)| actor == "enseignant"
                && action == "batch.view"
                && outcome == "refused"
                && details.as_deref() == Some("lot de courriers créé par un autre personnel")),
        "{rows:?}"
    );
    // The principal may see it; while its lease runs, nobody abandons it (409, audited).
    let boss = permit_of(&mut conn, &agent("principal", true));
    let status = batches::status(&mut conn, &deps, &boss, &ctx("principal"), id).unwrap();
    assert_eq!(status.progress.pending, 2);
    let busy = batches::abandon(&mut conn, &deps.key, &boss, &ctx("principal"), id).unwrap_err();
    assert_eq!(busy.class, FailureClass::Conflict);
    let printed = batches::confirm_printed(&mut conn, &deps.key, &boss, &ctx("principal"), id);
    assert_eq!(printed.unwrap_err().class, FailureClass::Conflict);
}
