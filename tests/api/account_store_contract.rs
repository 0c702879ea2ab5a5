//! The account store's contract (credentials and state only), written over the trait so
//! every store runs the same cases: the SQL store on SQLite and PostgreSQL, the LDAP store
//! against the run's slapd (with ppolicy), its index on the test database. Every write needs a reset permit of the
//! account's kind on an establishment that covers it (a pupil's own, one of a parent's
//! children's), minted by `policy::authorize` like any other.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use educt_admin::accounts::provisional::expiry;
use educt_admin::accounts::store::{
    AccountRef, AccountStatus, AccountStore, Provisional, SqlAccountStore, StoreError, Transition,
};
use educt_admin::accounts::{AccountKind, AccountState, StateChange};
use educt_admin::db::DbConnection;
use educt_admin::delegation::policy::{Action, Permit, authorize};
use educt_admin::domain::{Agent, Uai};

use crate::helpers::{TestDb, add_establishment, add_parent, add_pupil, t0};

pub const HERE: &str = "0691234S";
pub const ELSEWHERE: &str = "0692418D";

/// What a store's contract run needs besides the store: accounts in a given state in the
/// establishment `HERE`, and a look at the stored credential.
pub trait Fixture {
    fn store(&self) -> Arc<dyn AccountStore>;
    fn conn(&mut self) -> &mut DbConnection;
    /// A new account of `kind` in `state` (remembering `previous`), covered by `HERE`.
    fn account(
        &mut self,
        kind: AccountKind,
        state: AccountState,
        previous: Option<AccountState>,
    ) -> AccountRef;
    /// Whether the account's credential is `provisional`, to be changed at next sign-in.
    fn credential_is(&mut self, account: AccountRef, provisional: &Provisional) -> bool;
}

/// The contract's clock: three days after the fixtures' `t0`.
pub fn now() -> DateTime<Utc> {
    t0() + chrono::Duration::days(3)
}

/// A provisional password and a stand-in for its hash (the contract never verifies hashes).
pub fn provisional(password: &str) -> Provisional {
    Provisional {
        password: password.to_owned().into(),
        hash: format!("$argon2id$stand-in-for-{password}"),
    }
}

/// A permit minted the only way there is: `authorize`, for a principal of `uai`.
pub fn permit(action: Action, uai: &str) -> Permit {
    let uai = Uai::parse(uai).unwrap();
    let principal = Agent {
        uid: "cperrin".into(),
        display_name: "Claire Perrin".into(),
        mail: None,
        attached: vec![uai.clone()],
        responsible_for: vec![uai.clone()],
    };
    authorize(
        &principal,
        &[],
        action,
        &uai,
        t0(),
        chrono_tz::Europe::Paris,
    )
    .unwrap()
}

fn status(f: &mut dyn Fixture, account: AccountRef) -> AccountStatus {
    read(f, account).expect("the account exists")
}

fn read(f: &mut dyn Fixture, account: AccountRef) -> Option<AccountStatus> {
    let store = f.store();
    store.status(f.conn(), account, now()).unwrap()
}

pub fn contract(f: &mut dyn Fixture) {
    for kind in AccountKind::ALL {
        provisional_password(f, kind);
        writes_need_a_covering_reset_permit(f, kind);
        state_changes(f, kind);
    }
    let missing = AccountRef {
        kind: AccountKind::Pupil,
        id: 987_654,
    };
    assert_eq!(read(f, missing), None, "no such account: no status");
}

fn provisional_password(f: &mut dyn Fixture, kind: AccountKind) {
    let account = f.account(kind, AccountState::Active, None);
    let now = now();
    let p = permit(kind.reset_action(), HERE);
    let store = f.store();
    let new = provisional("abcd2345efgh");
    store
        .set_provisional(f.conn(), &p, account, &new, now)
        .unwrap();
    let st = status(f, account);
    assert_eq!(st.state, AccountState::Notifie, "{kind:?}");
    assert!(st.must_change, "{kind:?}: changed at next sign-in");
    assert_eq!(st.provisional_expires_at, Some(expiry(now)), "{kind:?}");
    assert_eq!(st.notified_at, Some(now), "{kind:?}");
    assert!(f.credential_is(account, &new), "{kind:?}");
    // A blocked or deactivated account is refused: a reset must not lift the lock.
    for state in [AccountState::Bloque, AccountState::Desactive] {
        let locked = f.account(kind, state, Some(AccountState::Active));
        let other = provisional("wxyz6789wxyz");
        let set = store.set_provisional(f.conn(), &p, locked, &other, now);
        assert!(
            matches!(set, Err(StoreError::NotPossible(s)) if s == state),
            "{kind:?} {set:?}"
        );
        assert_eq!(status(f, locked).state, state, "{kind:?}");
        assert!(!f.credential_is(locked, &other), "{kind:?}");
    }
}

fn writes_need_a_covering_reset_permit(f: &mut dyn Fixture, kind: AccountKind) {
    let account = f.account(kind, AccountState::Active, None);
    let other = match kind {
        AccountKind::Pupil => AccountKind::Parent,
        AccountKind::Parent => AccountKind::Pupil,
    };
    let wrong = [
        permit(kind.reset_action(), ELSEWHERE),
        permit(kind.view_action(), HERE),
        permit(other.reset_action(), HERE),
    ];
    let store = f.store();
    let nope = provisional("nope2345nope");
    for p in &wrong {
        let set = store.set_provisional(f.conn(), p, account, &nope, now());
        assert!(matches!(set, Err(StoreError::NotCovered)), "{kind:?} {p:?}");
        let change = store.change_state(f.conn(), p, account, StateChange::Deactivate, now());
        assert!(
            matches!(change, Err(StoreError::NotCovered)),
            "{kind:?} {p:?}"
        );
    }
    assert_eq!(
        status(f, account).state,
        AccountState::Active,
        "nothing changed"
    );
    assert!(!f.credential_is(account, &nope));
}

fn state_changes(f: &mut dyn Fixture, kind: AccountKind) {
    use AccountState::*;
    let p = permit(kind.reset_action(), HERE);
    let store = f.store();
    let blocked = f.account(kind, Bloque, Some(Active));
    let moved = store.change_state(f.conn(), &p, blocked, StateChange::Unblock, now());
    assert_eq!(
        moved.unwrap(),
        Transition {
            from: Bloque,
            to: Active
        }
    );
    assert_eq!(
        status(f, blocked).state,
        Active,
        "{kind:?}: back to the remembered state"
    );
    let again = store.change_state(f.conn(), &p, blocked, StateChange::Unblock, now());
    assert!(
        matches!(again, Err(StoreError::NotPossible(Active))),
        "{kind:?}"
    );

    let notified = f.account(kind, Notifie, None);
    let off = store.change_state(f.conn(), &p, notified, StateChange::Deactivate, now());
    assert_eq!(
        off.unwrap(),
        Transition {
            from: Notifie,
            to: Desactive
        }
    );
    let st = status(f, notified);
    assert_eq!((st.state, st.previous_state), (Desactive, Some(Notifie)));
    let twice = store.change_state(f.conn(), &p, notified, StateChange::Deactivate, now());
    assert!(matches!(twice, Err(StoreError::NotPossible(Desactive))));
    let on = store.change_state(f.conn(), &p, notified, StateChange::Reactivate, now());
    assert_eq!(
        on.unwrap(),
        Transition {
            from: Desactive,
            to: Notifie
        }
    );
    let st = status(f, notified);
    assert_eq!((st.state, st.previous_state), (Notifie, None), "{kind:?}");
}

/// The SQL store over the test database.
pub struct Sql {
    pub conn: DbConnection,
    pub n: usize,
}

impl Fixture for Sql {
    fn store(&self) -> Arc<dyn AccountStore> {
        Arc::new(SqlAccountStore)
    }

    fn conn(&mut self) -> &mut DbConnection {
        &mut self.conn
    }

    fn account(
        &mut self,
        kind: AccountKind,
        state: AccountState,
        previous: Option<AccountState>,
    ) -> AccountRef {
        self.index_row(kind, state, previous)
    }

    fn credential_is(&mut self, account: AccountRef, provisional: &Provisional) -> bool {
        let must_change = status(self, account).must_change;
        must_change
            && SqlAccountStore::password_hash(&mut self.conn, account)
                .unwrap()
                .as_deref()
                == Some(provisional.hash.as_str())
    }
}

impl Sql {
    /// A row of the index (the SQL store's own truth) for an account of `kind` in `state`.
    pub fn index_row(
        &mut self,
        kind: AccountKind,
        state: AccountState,
        previous: Option<AccountState>,
    ) -> AccountRef {
        use diesel::prelude::*;
        use educt_admin::db::schema::{parents, pupils};
        self.n += 1;
        let first = format!("Zoé{}", self.n);
        let conn = &mut self.conn;
        let pupil_state = if kind == AccountKind::Pupil {
            state
        } else {
            AccountState::Active
        };
        let pupil = add_pupil(conn, HERE, &first, "Lefèvre", "5B", pupil_state.as_str());
        let previous = previous.map(AccountState::as_str);
        let id = match kind {
            AccountKind::Pupil => {
                diesel::update(pupils::table.filter(pupils::id.eq(pupil)))
                    .set(pupils::previous_state.eq(previous))
                    .execute(conn)
                    .unwrap();
                pupil
            }
            AccountKind::Parent => {
                let id = add_parent(
                    conn,
                    &first,
                    "Martin",
                    None,
                    None,
                    state.as_str(),
                    &[(pupil, 1)],
                );
                diesel::update(parents::table.filter(parents::id.eq(id)))
                    .set(parents::previous_state.eq(previous))
                    .execute(conn)
                    .unwrap();
                id
            }
        };
        AccountRef { kind, id }
    }
}

#[test]
fn the_sql_store_keeps_the_contract() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    add_establishment(&mut conn, HERE, "Collège Jean Moulin");
    add_establishment(&mut conn, ELSEWHERE, "Lycée Ampère");
    contract(&mut Sql { conn, n: 0 });
}
