//! Rows a test starts from: establishments, agents, pupils, parents, a TOTP enrolment, and
//! the audit rows it reads back.

use std::sync::OnceLock;

use diesel::prelude::*;
use educt_admin::db::DbConnection;

use super::{t0, test_key};

/// Adds an establishment.
pub fn add_establishment(conn: &mut DbConnection, uai: &str, name: &str) {
    use educt_admin::db::schema::establishments;
    diesel::insert_into(establishments::table)
        .values((
            establishments::uai.eq(uai),
            establishments::name.eq(name),
            establishments::kind.eq("college"),
            establishments::created_at.eq(t0().naive_utc()),
            establishments::updated_at.eq(t0().naive_utc()),
        ))
        .execute(conn)
        .unwrap();
}

/// Adds an agent to the local directory (argon2id with the production parameters).
pub fn add_agent(
    conn: &mut DbConnection,
    uid: &str,
    name: &str,
    password: &str,
    attached: &[&str],
    responsible: &[&str],
) {
    use educt_admin::db::schema::agent_uais;
    use educt_admin::domain::AgentUid;
    let hash = cached_hash(password);
    let id = educt_admin::directory::local::insert_agent(
        conn,
        &AgentUid::parse(uid).unwrap(),
        name,
        None,
        &hash,
        t0(),
    )
    .unwrap();
    for (uais, role) in [(attached, "attached"), (responsible, "responsible")] {
        for uai in uais {
            diesel::insert_into(agent_uais::table)
                .values((
                    agent_uais::agent_id.eq(id),
                    agent_uais::uai.eq(*uai),
                    agent_uais::role.eq(role),
                ))
                .execute(conn)
                .unwrap();
        }
    }
}

/// Makes a local agent direction staff of `uai` by function (a deputy head, role
/// `direction`); like `agents attach --direction`, he must be attached there for it to count.
pub fn add_direction(conn: &mut DbConnection, uid: &str, uai: &str) {
    use educt_admin::directory::local::{Role, agent_id, link};
    let id = agent_id(conn, uid).unwrap().unwrap();
    let uai = educt_admin::domain::Uai::parse(uai).unwrap();
    link(conn, id, &uai, Role::Direction).unwrap();
}

/// argon2id hashes (production parameters) made once per password per run: each test
/// database gets the same salted hash, which is all the tests need.
pub fn cached_hash(password: &str) -> String {
    static HASHES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        OnceLock::new();
    let map = HASHES.get_or_init(Default::default);
    if let Some(h) = map.lock().unwrap().get(password) {
        return h.clone();
    }
    let h = educt_admin::auth::password::hash_password(&secrecy::SecretString::from(
        password.to_owned(),
    ))
    .unwrap();
    map.lock().unwrap().insert(password.to_owned(), h.clone());
    h
}

pub const COLLEGE: &str = "0691234S";
pub const LYCEE: &str = "0692418D";
pub const PRINCIPAL_PW: &str = "Principal-2026";

/// The usual cast: the collège and the lycée, their principals and two staff of the collège.
pub fn seed_staff(conn: &mut DbConnection) {
    add_establishment(conn, COLLEGE, "Collège Jean Moulin");
    add_establishment(conn, LYCEE, "Lycée Ampère");
    add_agent(
        conn,
        "principal",
        "Claire Perrin",
        PRINCIPAL_PW,
        &[COLLEGE],
        &[COLLEGE],
    );
    add_agent(
        conn,
        "principal2",
        "Hervé N'Guessan",
        "Proviseur-2026",
        &[LYCEE],
        &[LYCEE],
    );
    add_agent(
        conn,
        "referent",
        "Sophie Lefèvre",
        "Referent-2026",
        &[COLLEGE],
        &[],
    );
    add_agent(
        conn,
        "enseignant",
        "Marc Dubois-Roche",
        "Enseignant-2026",
        &[COLLEGE],
        &[],
    );
}

/// Audit rows, oldest first: (actor, action, outcome, details).
pub fn audit_rows(conn: &mut DbConnection) -> Vec<(String, String, String, Option<String>)> {
    use educt_admin::db::schema::audit_events;
    audit_events::table
        .order(audit_events::seq)
        .select((
            audit_events::actor,
            audit_events::action,
            audit_events::outcome,
            audit_events::details,
        ))
        .load(conn)
        .unwrap()
}

/// Adds a pupil (identifiant by the rules) and returns his id.
pub fn add_pupil(
    conn: &mut DbConnection,
    uai: &str,
    first: &str,
    last: &str,
    division: &str,
    state: &str,
) -> i64 {
    use educt_admin::accounts::identifiants::{IdentifiantKind, allocate};
    use educt_admin::db::schema::pupils;
    let identifiant = allocate(conn, IdentifiantKind::Pupil, first, last, t0()).unwrap();
    diesel::insert_into(pupils::table)
        .values((
            pupils::uai.eq(uai),
            pupils::identifiant.eq(identifiant.as_str()),
            pupils::ine.eq(None::<String>),
            pupils::last_name.eq(last),
            pupils::first_name.eq(first),
            pupils::search_name.eq(educt_admin::domain::search_key(&format!("{last} {first}"))),
            pupils::birth_date.eq(chrono::NaiveDate::from_ymd_opt(2012, 5, 14).unwrap()),
            pupils::division.eq(Some(division)),
            pupils::state.eq(state),
            pupils::must_change.eq(false),
            pupils::created_at.eq(t0().naive_utc()),
            pupils::updated_at.eq(t0().naive_utc()),
        ))
        .returning(pupils::id)
        .get_result(conn)
        .unwrap()
}

/// Adds a parent linked to `children` (pupil id, legal rank) and returns his id.
pub fn add_parent(
    conn: &mut DbConnection,
    first: &str,
    last: &str,
    email: Option<&str>,
    mobile: Option<&str>,
    state: &str,
    children: &[(i64, i16)],
) -> i64 {
    use educt_admin::accounts::identifiants::{IdentifiantKind, allocate};
    use educt_admin::db::schema::{parents, pupil_parents};
    let identifiant = allocate(conn, IdentifiantKind::Parent, first, last, t0()).unwrap();
    let id: i64 = diesel::insert_into(parents::table)
        .values((
            parents::identifiant.eq(identifiant.as_str()),
            parents::last_name.eq(last),
            parents::first_name.eq(first),
            parents::search_name.eq(educt_admin::domain::search_key(&format!("{last} {first}"))),
            parents::email.eq(email),
            parents::mobile.eq(mobile),
            parents::state.eq(state),
            parents::must_change.eq(false),
            parents::created_at.eq(t0().naive_utc()),
            parents::updated_at.eq(t0().naive_utc()),
        ))
        .returning(parents::id)
        .get_result(conn)
        .unwrap();
    for (pupil, rank) in children {
        diesel::insert_into(pupil_parents::table)
            .values((
                pupil_parents::pupil_id.eq(pupil),
                pupil_parents::parent_id.eq(id),
                pupil_parents::legal_rank.eq(rank),
            ))
            .execute(conn)
            .unwrap();
    }
    id
}

/// Enrols `uid` with a known TOTP secret (as if done long ago) and returns it.
pub fn enrol_totp(conn: &mut DbConnection, uid: &str) -> educt_admin::auth::totp::TotpSecret {
    use educt_admin::auth::totp::{self, TotpSecret};
    let secret =
        TotpSecret::from_bytes(format!("{uid:-<20}").as_bytes().get(..20).unwrap()).unwrap();
    let sealed = secret.seal(&test_key(), uid).unwrap();
    assert!(totp::begin(conn, uid, &sealed, t0() - chrono::Duration::days(30)).unwrap());
    assert!(totp::accept_step(conn, uid, 1, true, t0() - chrono::Duration::days(30)).unwrap());
    secret
}
