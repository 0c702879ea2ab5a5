//! The establishments store: what the database knows of an establishment (an import
//! creates it, with its name). Pages name an establishment through here.

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::establishments;
use crate::domain::Uai;

/// The establishment's name, when it is in the database.
pub fn name_of(conn: &mut DbConnection, uai: &Uai) -> QueryResult<Option<String>> {
    establishments::table
        .filter(establishments::uai.eq(uai.as_str()))
        .select(establishments::name)
        .first(conn)
        .optional()
}

/// The names of those of `uais` that are in the database, as (UAI, name).
pub fn names_of(conn: &mut DbConnection, uais: &[Uai]) -> QueryResult<Vec<(String, String)>> {
    let keys: Vec<&str> = uais.iter().map(Uai::as_str).collect();
    establishments::table
        .filter(establishments::uai.eq_any(keys))
        .select((establishments::uai, establishments::name))
        .load(conn)
}

/// "Lycée Ampère (0692418D)", or the UAI alone when the establishment is unknown.
pub fn label(conn: &mut DbConnection, uai: &str) -> QueryResult<String> {
    let name: Option<String> = establishments::table
        .filter(establishments::uai.eq(uai))
        .select(establishments::name)
        .first(conn)
        .optional()?;
    Ok(match name {
        Some(n) if n != uai => format!("{n} ({uai})"),
        _ => uai.to_owned(),
    })
}
