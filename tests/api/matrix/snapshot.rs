//! "Nothing changed" (BRIEF rule 9): every business table, row by row. The tables are read
//! from the database's own catalogue, so a table added by a migration is in the snapshot the
//! day it lands; only the tables listed in [`MOVING_TABLES`] are left out.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use educt_admin::db::DbConnection;

/// The tables a refused request is expected to move: the audit chain, the sessions
/// (`last_seen`, rotation) and the throttles; and the background jobs' leases, which the
/// housekeeping job renews at any time. Everything else is a business table.
pub const MOVING_TABLES: &[&str] = &[
    "audit_events",
    "audit_head",
    "sessions",
    "login_throttle",
    "job_leases",
];

/// diesel's own bookkeeping.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// Every table but [`MOVING_TABLES`] and the migrations' bookkeeping, sorted. Fails if a
/// moving table no longer exists (a rename must not silently drop a table from the check).
pub fn business_tables(conn: &mut DbConnection) -> Vec<String> {
    let all: Vec<Name> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .load(c),
        DbConnection::Postgresql(c) => diesel::sql_query(
            "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .load(c),
    }
    .unwrap();
    let all: Vec<String> = all.into_iter().map(|n| n.name).collect();
    for moving in MOVING_TABLES {
        assert!(
            all.iter().any(|t| t == moving),
            "{moving} is no longer a table: update MOVING_TABLES in tests/api/matrix/snapshot.rs"
        );
    }
    let mut tables: Vec<String> = all
        .into_iter()
        .filter(|t| t != MIGRATIONS_TABLE && !MOVING_TABLES.contains(&t.as_str()))
        .collect();
    tables.sort();
    tables
}

/// Every row of every business table, as text, sorted: table → rows.
pub fn snapshot(conn: &mut DbConnection) -> BTreeMap<String, Vec<String>> {
    business_tables(conn)
        .into_iter()
        .map(|table| {
            let rows = rows_of(conn, &table);
            (table, rows)
        })
        .collect()
}

fn rows_of(conn: &mut DbConnection, table: &str) -> Vec<String> {
    let lines: Vec<Line> = match conn {
        DbConnection::Sqlite(c) => {
            let columns: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            ))
            .load(c)
            .unwrap();
            let row = columns
                .iter()
                .map(|col| format!("quote(\"{}\")", col.name))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            diesel::sql_query(format!("SELECT {row} AS line FROM \"{table}\""))
                .load(c)
                .unwrap()
        }
        DbConnection::Postgresql(c) => diesel::sql_query(format!(
            "SELECT CAST(row_to_json(t) AS TEXT) AS line FROM \"{table}\" AS t"
        ))
        .load(c)
        .unwrap(),
    };
    let mut rows: Vec<String> = lines.into_iter().map(|l| l.line).collect();
    rows.sort();
    rows
}

/// What changed between two snapshots, table by table (empty: nothing).
pub fn changes(
    before: &BTreeMap<String, Vec<String>>,
    after: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    let tables: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for table in tables {
        let empty = Vec::new();
        let (b, a) = (
            before.get(table).unwrap_or(&empty),
            after.get(table).unwrap_or(&empty),
        );
        for gone in b.iter().filter(|r| !a.contains(r)) {
            out.push(format!("{table}: - {gone}"));
        }
        for new in a.iter().filter(|r| !b.contains(r)) {
            out.push(format!("{table}: + {new}"));
        }
    }
    out
}

/// The snapshot sees every business table, parents and their links included, and a change
/// in any of them.
#[tokio::test]
async fn the_snapshot_covers_every_business_table() {
    use super::rows::Fixtures;
    use crate::helpers::{COLLEGE, TestApp, add_establishment};
    use educt_admin::db::schema::{parents, pupil_parents};
    let app = TestApp::spawn().await;
    add_establishment(&mut app.conn(), COLLEGE, "Collège Jean Moulin");
    let parent = Fixtures::new(&app, 0).parent;
    let mut conn = app.conn();
    let tables = business_tables(&mut conn);
    for t in [
        "agent_totp",
        "agent_uais",
        "agents",
        "batch_items",
        "batches",
        "delegations",
        "establishments",
        "identifiants",
        "parent_sources",
        "parents",
        "pupil_parents",
        "pupils",
    ] {
        assert!(tables.iter().any(|x| x == t), "{t} missing from {tables:?}");
    }
    for t in MOVING_TABLES {
        assert!(!tables.iter().any(|x| x == t), "{t} is expected to move");
    }
    let before = snapshot(&mut conn);
    diesel::update(parents::table.filter(parents::id.eq(parent)))
        .set(parents::email.eq(Some("autre@exemple.fr")))
        .execute(&mut conn)
        .unwrap();
    let changed = changes(&before, &snapshot(&mut conn));
    assert_eq!(changed.len(), 2, "{changed:?}");
    assert!(
        changed.iter().all(|c| c.starts_with("parents: ")),
        "{changed:?}"
    );
    let before = snapshot(&mut conn);
    diesel::delete(pupil_parents::table.filter(pupil_parents::parent_id.eq(parent)))
        .execute(&mut conn)
        .unwrap();
    let changed = changes(&before, &snapshot(&mut conn));
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].starts_with("pupil_parents: - "), "{changed:?}");
}
