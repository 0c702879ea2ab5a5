//! A pupil's parents as his page shows them (issue 14). They are parents' data: only for an
//! agent who may see the parents of the pupil's establishment (the `responsables` scope, or
//! a principal), and, BRIEF rule 5, only while the parents' gate is open for the session —
//! otherwise not even their names are read.

use super::super::{Caller, Failure};
use crate::accounts::parents::{self, Parent};
use crate::accounts::pupils::Pupil;
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::delegation::policy::{Action, authorize};
use crate::delegation::store as delegations;

/// What the pupil's page may say about his parents.
#[derive(Debug, Clone)]
pub enum PupilParents {
    /// The agent may not see this establishment's parents: nothing is said about them.
    NotAllowed,
    /// He may, but the parents' gate is closed for this session: the page offers the check.
    GateClosed,
    /// His parents, each with his legal rank (1, then 2).
    Shown(Vec<(Parent, i16)>),
}

/// The parents of `pupil` as `caller` may see them now (his delegations read now, the one
/// policy asked), `gate_open` saying whether the parents' gate is open for this session.
pub fn pupil_parents(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    pupil: &Pupil,
    gate_open: bool,
) -> Result<PupilParents, Failure> {
    let Caller { tz, ctx, agent, .. } = *caller;
    let held = delegations::held_by(conn, &agent.uid, local_day(ctx.now, tz))?;
    let allowed = authorize(agent, &held, Action::ViewParents, &pupil.uai, ctx.now, tz);
    if allowed.is_err() {
        return Ok(PupilParents::NotAllowed);
    }
    if !gate_open {
        return Ok(PupilParents::GateClosed);
    }
    Ok(PupilParents::Shown(parents::of_pupil(conn, pupil.id)?))
}
