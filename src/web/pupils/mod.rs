//! Pupil troubleshooting (`/depannage/eleve`): needs the `eleves` scope on the pupil's
//! establishment, or being its principal.

pub mod batch_pages;
mod class_refusals;
pub mod classes;
pub mod record;
pub mod search;
pub mod stats;

use super::errors::AppError;
use super::guard::{Attempt, State, permit};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::accounts::pupils::{self, Pupil};
use crate::delegation::policy::{Action, Permit};

/// The pupil of the path, or 404 (an id that does not parse reveals nothing either).
pub async fn load_pupil(state: &State, id: &str) -> Result<Pupil, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    state
        .db
        .run(move |conn| Ok::<_, AppError>(pupils::find(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

/// The pupil and the permit for `action` on his establishment (the UAI comes from the record).
pub async fn pupil_with_permit(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: &str,
    action: Action,
    audit_action: &'static str,
) -> Result<(Pupil, Permit), AppError> {
    let pupil = load_pupil(state, id).await?;
    let permit = permit(
        state,
        signed_in,
        meta,
        action,
        &pupil.uai,
        &Attempt::new(audit_action).on("eleve", pupil.id),
    )
    .await?;
    Ok((pupil, permit))
}
