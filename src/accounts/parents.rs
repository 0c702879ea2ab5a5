//! Parents' accounts. A parent belongs to every establishment of his children: an agent sees
//! him through the children he may see, and only those children (BRIEF rule 4).

use chrono::{DateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;

use super::AccountState;
use crate::db::DbConnection;
use crate::db::decode::{Maybe, UtcStamp, decode_each, find_row};
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::domain::{Division, Identifiant, ParentId, PupilId, Uai, search_key};

/// A parent as the pages show him: a typed row of `parents` (a stored identifiant or state
/// that does not decode fails the read).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = parents)]
pub struct Parent {
    #[diesel(deserialize_as = i64)]
    pub id: ParentId,
    #[diesel(deserialize_as = String)]
    pub identifiant: Identifiant,
    pub last_name: String,
    pub first_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    #[diesel(deserialize_as = String)]
    pub state: AccountState,
    pub activation_path: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub provisional_expires_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = UtcStamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub notified_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub activated_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub password_changed_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<String>)]
    pub previous_state: Option<AccountState>,
}

/// A child as the parent's page shows him: his row of `pupils` and the parent's legal rank.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pupils)]
pub struct Child {
    #[diesel(deserialize_as = i64)]
    pub id: PupilId,
    #[diesel(deserialize_as = String)]
    pub uai: Uai,
    pub first_name: String,
    pub last_name: String,
    #[diesel(deserialize_as = Maybe<String>)]
    pub division: Option<Division>,
    #[diesel(select_expression = pupil_parents::legal_rank)]
    #[diesel(select_expression_type = pupil_parents::legal_rank)]
    pub legal_rank: i16,
}

pub fn find(conn: &mut DbConnection, id: impl Into<ParentId>) -> QueryResult<Option<Parent>> {
    find_row(conn, parents::table, id.into().get())
}

/// The links of parent `id` to his children, with the children's rows.
type ChildrenOf = dsl::Filter<
    dsl::InnerJoin<pupil_parents::table, pupils::table>,
    dsl::Eq<pupil_parents::parent_id, i64>,
>;

fn children_of(id: ParentId) -> ChildrenOf {
    pupil_parents::table
        .inner_join(pupils::table)
        .filter(pupil_parents::parent_id.eq(id.get()))
}

/// The establishments of the parent's children, sorted, each once.
pub fn establishments(
    conn: &mut DbConnection,
    parent: impl Into<ParentId>,
) -> QueryResult<Vec<Uai>> {
    let uais: Vec<String> = children_of(parent.into())
        .select(pupils::uai)
        .distinct()
        .order(pupils::uai)
        .load(conn)?;
    decode_each(uais)
}

/// The parent's children in `uai`, the establishment the agent acts on. There is no
/// "all of them": whatever shows a parent shows only the children of one establishment
/// (BRIEF rule 4), so the filter cannot be forgotten.
pub fn children(
    conn: &mut DbConnection,
    parent: impl Into<ParentId>,
    uai: &Uai,
) -> QueryResult<Vec<Child>> {
    children_of(parent.into())
        .filter(pupils::uai.eq(uai.as_str()))
        .order(pupils::search_name)
        .select(Child::as_select())
        .load(conn)
}

/// The parents of pupil `id` (a pupil's page), each with his legal rank, rank 1 first.
pub fn of_pupil(
    conn: &mut DbConnection,
    pupil: impl Into<PupilId>,
) -> QueryResult<Vec<(Parent, i16)>> {
    pupil_parents::table
        .inner_join(parents::table)
        .filter(pupil_parents::pupil_id.eq(pupil.into().get()))
        .order((pupil_parents::legal_rank, parents::search_name, parents::id))
        .select((Parent::as_select(), pupil_parents::legal_rank))
        .load(conn)
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
    let rows: Vec<(Parent, String, String)> = q
        .order((parents::search_name, parents::id))
        .select((
            Parent::as_select(),
            parents::search_name,
            pupils::search_name,
        ))
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
    for (parent, parent_name, child_name) in rows {
        let ident_match = !text.is_empty() && parent.identifiant.as_str().starts_with(&text);
        let name_ok = words.is_empty()
            || ident_match
            || word_match(&parent_name, &words)
            || word_match(&child_name, &words);
        let email_ok = email.is_empty()
            || parent
                .email
                .as_deref()
                .is_some_and(|e| e.to_lowercase().starts_with(&email));
        if name_ok && email_ok && seen.insert(parent.id) {
            out.push(parent);
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
) -> QueryResult<Vec<ParentId>> {
    let states: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let ids: Vec<i64> = pupil_parents::table
        .inner_join(pupils::table)
        .inner_join(parents::table)
        .filter(pupils::uai.eq(uai.as_str()))
        .filter(pupils::division.eq(division))
        .filter(parents::state.eq_any(states))
        .order((parents::search_name, parents::id))
        .select(parents::id)
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    Ok(ids
        .into_iter()
        .filter(|id| seen.insert(*id))
        .map(ParentId::from)
        .collect())
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
