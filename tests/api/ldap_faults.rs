//! The LDAP store's faults, on a slapd of each test's own: stopped before the reset's two
//! writes, between them, and after them. Nothing is half-written on our side: the "started"
//! row is there, its outcome says what is known, and the upkeep job, once the server is
//! back, reads the entry and records what really happened. And the upkeep's other work: an
//! unused provisional password removed once its validity is over.

use std::sync::Arc;
use std::time::Instant;

use diesel::prelude::*;
use educt_admin::accounts::ldap::LdapAccountStore;
use educt_admin::accounts::password_rules::PasswordRules;
use educt_admin::accounts::store::{AccountRef, AccountStore};
use educt_admin::accounts::{AccountKind, AccountState, pupils};
use educt_admin::db::schema::pending_account_writes;
use educt_admin::delegation::policy::Action;
use educt_admin::usecases::accounts::{Opened, Record, reset_password};
use educt_admin::usecases::{Actor, Context, FailureClass, account_upkeep};

use crate::account_store_contract::{Fixture, HERE, now, permit, provisional};
use crate::helpers::{audit_rows, test_key};
use crate::ldap_server::LdapServer;
use crate::ldap_store::Directory;

fn opened(d: &mut Directory, account: AccountRef) -> Opened {
    let pupil = pupils::find(&mut d.sql.conn, account.id).unwrap().unwrap();
    Opened {
        record: Record::Pupil(pupil),
        permit: permit(Action::ResetPupil, HERE),
    }
}

/// A fresh directory of this test's own, with Zoë never notified.
fn zoe_alone() -> (Directory, AccountRef) {
    let mut d = Directory::new(LdapServer::start_own(false));
    let zoe = d.account(AccountKind::Pupil, AccountState::NonNotifie, None);
    (d, zoe)
}

/// Zoë's reset through the use case on `store`, with the letter's password `abcd2345efgh`.
fn reset_zoe(
    d: &mut Directory,
    store: &dyn AccountStore,
    zoe: AccountRef,
) -> Result<educt_admin::usecases::accounts::LetterFacts, educt_admin::usecases::Failure> {
    let opened = opened(d, zoe);
    let new = provisional("abcd2345efgh");
    reset_password(&mut d.sql.conn, &test_key(), store, &ctx(), &opened, new)
}

fn ctx() -> Context {
    Context::new(Actor::Agent("cperrin".into()), now())
}

/// (outcome, details) of the resets' audit rows, in order.
fn rows(d: &mut Directory) -> Vec<(String, String)> {
    audit_rows(&mut d.sql.conn)
        .into_iter()
        .filter(|r| r.1 == "eleve.reset_password")
        .map(|r| (r.2, r.3.unwrap_or_default()))
        .collect()
}

fn pending(d: &mut Directory) -> i64 {
    pending_account_writes::table
        .count()
        .get_result(&mut d.sql.conn)
        .unwrap()
}

fn upkeep(d: &mut Directory, store: &dyn AccountStore, minutes: i64) -> account_upkeep::Upkept {
    let later = now() + chrono::Duration::minutes(minutes);
    account_upkeep::run_once(
        &mut d.sql.conn,
        &test_key(),
        store,
        later,
        chrono_tz::Europe::Paris,
    )
    .unwrap()
}

#[test]
fn a_server_stopped_before_the_writes_changes_nothing_and_says_so() {
    let (mut d, zoe) = zoe_alone();
    let store = d.store.clone();
    d.server.stop();
    let asked = Instant::now();
    let refused = reset_zoe(&mut d, &*store, zoe);
    assert!(asked.elapsed().as_secs() < 5, "within 5 s");
    let failure = refused.err().expect("the store is unavailable");
    assert_eq!(failure.class, FailureClass::StoreUnavailable);
    assert!(
        failure
            .message
            .contains("annuaire des comptes est indisponible")
    );
    let r = rows(&mut d);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!((r[0].0.as_str(), r[1].0.as_str()), ("started", "failure"));
    assert!(r[1].1.contains("n'est pas confirmé"), "{r:?}");
    assert_eq!(pending(&mut d), 1, "left for the reconciliation");
    let cached = pupils::find(&mut d.sql.conn, zoe.id).unwrap().unwrap();
    assert_eq!(
        cached.state,
        AccountState::NonNotifie,
        "the index untouched"
    );
    // While the server is down the job leaves the mark; once it is back, it settles it.
    assert_eq!(upkeep(&mut d, &*store, 2).reconciled, 0);
    d.server.restart();
    assert_eq!(upkeep(&mut d, &*store, 2).reconciled, 1);
    assert_eq!(pending(&mut d), 0);
    let last = rows(&mut d).pop().unwrap();
    assert_eq!(last.0, "failure");
    assert!(last.1.contains("n'a pas eu lieu"), "{last:?}");
}

#[test]
fn a_server_stopped_between_the_writes_is_completed_by_the_upkeep() {
    let (mut d, zoe) = zoe_alone();
    // Under a policy without pwdMustChange (here slapd's default) the Password Modify does not
    // mark the password to be changed: our second write does (with a service account that
    // only has `write` on userPassword, it is the same).
    let dn = d.dn(zoe);
    let unset = ldap3::Mod::Delete(
        "pwdPolicySubentry",
        std::collections::HashSet::<&str>::new(),
    );
    d.service
        .modify(&dn, vec![unset])
        .unwrap()
        .success()
        .unwrap();
    let settings = d.server.accounts_settings();
    let no_policies = PasswordRules::from_settings(&Default::default());
    let pausing = LdapAccountStore::new(&settings, no_policies)
        .unwrap()
        .pausing_between_writes(Arc::new(d.server.stopper()));
    let refused = reset_zoe(&mut d, &pausing, zoe);
    assert_eq!(refused.err().unwrap().class, FailureClass::StoreUnavailable);
    assert_eq!(pending(&mut d), 1);
    d.server.restart();
    // The password was set without its mark: the entry looks activated.
    let store = d.store.clone();
    let st = store.status(&mut d.sql.conn, zoe, now()).unwrap().unwrap();
    assert_eq!(st.state, AccountState::Active);
    assert_eq!(upkeep(&mut d, &*store, 2).reconciled, 1);
    let last = rows(&mut d).pop().unwrap();
    assert_eq!(last.0, "success");
    assert!(last.1.contains("imprimez un nouveau courrier"), "{last:?}");
    // Now it is marked to be changed, and the index knows it is notified.
    let st = store.status(&mut d.sql.conn, zoe, now()).unwrap().unwrap();
    assert!(st.must_change);
    assert_eq!(d.bind_as(zoe, "abcd2345efgh").0, 0);
    let cached = pupils::find(&mut d.sql.conn, zoe.id).unwrap().unwrap();
    assert_eq!(cached.state, AccountState::Notifie);
}

#[test]
fn a_server_stopped_after_the_writes_leaves_a_complete_reset() {
    let (mut d, zoe) = zoe_alone();
    let store = d.store.clone();
    reset_zoe(&mut d, &*store, zoe).unwrap();
    d.server.stop();
    let r = rows(&mut d);
    assert_eq!(
        r.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["started", "success"]
    );
    assert_eq!(pending(&mut d), 0);
    // Reading the state now fails cleanly; the index keeps what the reset wrote.
    let read = store.status(&mut d.sql.conn, zoe, now());
    assert!(read.is_err());
    let cached = pupils::find(&mut d.sql.conn, zoe.id).unwrap().unwrap();
    assert_eq!(cached.state, AccountState::Notifie);
    d.server.restart();
    assert_eq!(d.bind_as(zoe, "abcd2345efgh"), (0, Some(2)));
}

#[test]
fn an_unused_provisional_password_is_removed_after_its_validity() {
    let (mut d, zoe) = zoe_alone();
    let store = d.store.clone();
    reset_zoe(&mut d, &*store, zoe).unwrap();
    // Not yet: valid three months.
    assert_eq!(upkeep(&mut d, &*store, 60).provisionals_removed, 0);
    let past = 60 * 24 * 100;
    assert_eq!(upkeep(&mut d, &*store, past).provisionals_removed, 1);
    assert_eq!(
        upkeep(&mut d, &*store, past).provisionals_removed,
        0,
        "once"
    );
    assert_eq!(
        d.bind_as(zoe, "abcd2345efgh").0,
        49,
        "the letter no longer works"
    );
    let later = now() + chrono::Duration::minutes(past);
    let st = store.status(&mut d.sql.conn, zoe, later).unwrap().unwrap();
    assert_eq!(st.state, AccountState::Notifie);
    assert!(
        st.provisional_expires_at.unwrap() < later,
        "an expired notification"
    );
    let expired = audit_rows(&mut d.sql.conn)
        .into_iter()
        .filter(|r| r.1 == "eleve.expire_provisional")
        .count();
    assert_eq!(expired, 1);
    // A new letter is retired in its turn when unused.
    reset_zoe(&mut d, &*store, zoe).unwrap();
    assert_eq!(d.bind_as(zoe, "abcd2345efgh"), (0, Some(2)));
    assert_eq!(upkeep(&mut d, &*store, past).provisionals_removed, 1);
    assert_eq!(d.bind_as(zoe, "abcd2345efgh").0, 49);
}

#[test]
fn the_upkeep_refreshes_the_index_from_the_directory() {
    let mut d = Directory::new(LdapServer::start_own(false));
    let store = d.store.clone();
    // Zoë chose her password in the ENT; the index still says she is notified.
    let zoe = d.account(AccountKind::Pupil, AccountState::Active, None);
    diesel::update(educt_admin::db::schema::pupils::table.find(zoe.id))
        .set(educt_admin::db::schema::pupils::state.eq("notifie"))
        .execute(&mut d.sql.conn)
        .unwrap();
    let done = upkeep(&mut d, &*store, 2);
    assert!(done.refreshed >= 1, "{done:?}");
    let cached = pupils::find(&mut d.sql.conn, zoe.id).unwrap().unwrap();
    assert_eq!(cached.state, AccountState::Active);
}
