//! Parents' accounts. A parent belongs to every establishment of his children: an agent sees
//! him through the children he may see, and only those children (BRIEF rule 4).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AccountState;
use crate::db::DbConnection;
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::domain::{Uai, search_key};

#[derive(Debug, Clone)]
pub struct Parent {
    pub id: i64,
    pub identifiant: String,
    pub last_name: String,
    pub first_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub state: AccountState,
    pub activation_path: Option<String>,
    pub provisional_expires_at: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
    pub previous_state: Option<AccountState>,
}

/// A child as the parent's page shows him.
#[derive(Debug, Clone)]
pub struct Child {
    pub id: i64,
    pub uai: Uai,
    pub first_name: String,
    pub last_name: String,
    pub division: Option<String>,
    pub legal_rank: i16,
}

type Row = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

macro_rules! parent_columns {
    () => {
        (
            parents::id,
            parents::identifiant,
            parents::last_name,
            parents::first_name,
            parents::email,
            parents::mobile,
            parents::state,
            parents::activation_path,
            parents::provisional_expires_at,
            parents::notified_at,
            parents::previous_state,
        )
    };
}

fn from_row(r: Row) -> Option<Parent> {
    Some(Parent {
        id: r.0,
        identifiant: r.1,
        last_name: r.2,
        first_name: r.3,
        email: r.4,
        mobile: r.5,
        state: AccountState::parse(&r.6)?,
        activation_path: r.7,
        provisional_expires_at: r.8.map(|t| t.and_utc()),
        notified_at: r.9.map(|t| t.and_utc()),
        previous_state: r.10.as_deref().and_then(AccountState::parse),
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Parent>> {
    Ok(parents::table
        .filter(parents::id.eq(id))
        .select(parent_columns!())
        .first::<Row>(conn)
        .optional()?
        .and_then(from_row))
}

/// The establishments of the parent's children, sorted, each once.
pub fn establishments(conn: &mut DbConnection, parent: i64) -> QueryResult<Vec<Uai>> {
    let rows: Vec<String> = pupil_parents::table
        .inner_join(pupils::table)
        .filter(pupil_parents::parent_id.eq(parent))
        .select(pupils::uai)
        .distinct()
        .order(pupils::uai)
        .load(conn)?;
    Ok(rows.iter().filter_map(|u| Uai::parse(u).ok()).collect())
}

/// The parent's children in `uai`, the establishment the agent acts on. There is no
/// "all of them": whatever shows a parent shows only the children of one establishment
/// (BRIEF rule 4), so the filter cannot be forgotten.
pub fn children(conn: &mut DbConnection, parent: i64, uai: &Uai) -> QueryResult<Vec<Child>> {
    let rows: Vec<(i64, String, String, Option<String>, i16)> = pupil_parents::table
        .inner_join(pupils::table)
        .filter(pupil_parents::parent_id.eq(parent))
        .filter(pupils::uai.eq(uai.as_str()))
        .order(pupils::search_name)
        .select((
            pupils::id,
            pupils::first_name,
            pupils::last_name,
            pupils::division,
            pupil_parents::legal_rank,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Child {
            id: r.0,
            uai: uai.clone(),
            first_name: r.1,
            last_name: r.2,
            division: r.3,
            legal_rank: r.4,
        })
        .collect())
}

/// The children as a letter names them: `Zoë Lefèvre, Tom Lefèvre`.
pub fn children_names(children: &[Child]) -> String {
    children
        .iter()
        .map(|c| format!("{} {}", c.first_name, c.last_name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the parents' search asks for.
#[derive(Debug, Clone, Default)]
pub struct ParentSearch {
    /// The parent's or a child's name, or the parent's identifiant.
    pub text: String,
    pub division: Option<String>,
    pub state: Option<AccountState>,
    pub email: String,
    pub activation_path: Option<String>,
}

fn word_match(name: &str, words: &[String]) -> bool {
    words
        .iter()
        .all(|w| name.split(' ').any(|part| part.starts_with(w.as_str())))
}

/// Parents with a child in `uai` matching the search, sorted by name; one page and the total.
/// Parents of one establishment are a few thousand at most: filtered here, in one query.
pub fn search(
    conn: &mut DbConnection,
    uai: &Uai,
    s: &ParentSearch,
    offset: usize,
    limit: usize,
) -> QueryResult<(Vec<Parent>, usize)> {
    let mut q = pupil_parents::table
        .inner_join(pupils::table)
        .inner_join(parents::table)
        .filter(pupils::uai.eq(uai.as_str().to_owned()))
        .into_boxed();
    if let Some(d) = &s.division {
        q = q.filter(pupils::division.eq(d.clone()));
    }
    if let Some(st) = s.state {
        q = q.filter(parents::state.eq(st.as_str()));
    }
    if let Some(p) = &s.activation_path {
        q = q.filter(parents::activation_path.eq(p.clone()));
    }
    let rows: Vec<(Row, String, String)> = q
        .order((parents::search_name, parents::id))
        .select((parent_columns!(), parents::search_name, pupils::search_name))
        .load(conn)?;
    let words: Vec<String> = search_key(&s.text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let text = s.text.trim().to_lowercase();
    let email = s.email.trim().to_lowercase();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (row, parent_name, child_name) in rows {
        let id = row.0;
        let ident_match = !text.is_empty() && row.1.starts_with(&text);
        let name_ok = words.is_empty()
            || ident_match
            || word_match(&parent_name, &words)
            || word_match(&child_name, &words);
        let email_ok = email.is_empty()
            || row
                .4
                .as_deref()
                .is_some_and(|e| e.to_lowercase().starts_with(&email));
        if name_ok
            && email_ok
            && seen.insert(id)
            && let Some(p) = from_row(row)
        {
            out.push(p);
        }
    }
    let total = out.len();
    Ok((out.into_iter().skip(offset).take(limit).collect(), total))
}

/// Parents of a division's pupils whose accounts are in `states` (bulk notification).
pub fn of_division(
    conn: &mut DbConnection,
    uai: &Uai,
    division: &str,
    states: &[AccountState],
) -> QueryResult<Vec<i64>> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let mut ids: Vec<i64> = pupil_parents::table
        .inner_join(pupils::table)
        .inner_join(parents::table)
        .filter(pupils::uai.eq(uai.as_str()))
        .filter(pupils::division.eq(division))
        .filter(parents::state.eq_any(states))
        .order((parents::search_name, parents::id))
        .select(parents::id)
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    Ok(ids)
}

/// `06 •• •• •• 12`
pub fn mask_mobile(m: &str) -> String {
    let digits: Vec<char> = m.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return "••".into();
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("{head} •• •• •• {tail}")
}

/// `j•••@exemple.fr`
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_masked() {
        assert_eq!(mask_mobile("06 12 34 56 12"), "06 •• •• •• 12");
        assert_eq!(mask_mobile("+33612345612"), "33 •• •• •• 12");
        assert_eq!(mask_mobile("1"), "••");
        assert_eq!(mask_email("jeanne.dupont@exemple.fr"), "j•••@exemple.fr");
        assert_eq!(mask_email("nope"), "•••");
    }
}
