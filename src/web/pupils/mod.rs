//! Pupil troubleshooting (`/depannage/eleve`): needs the `eleves` scope on the pupil's
//! establishment, or being its principal.

pub mod batch_pages;
mod class_refusals;
pub mod classes;
pub mod search;
pub mod stats;

use super::calls::permit_requested;
use super::errors::AppError;
use super::guard::State;
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::accounts::{AccountKind, AccountOp};
use crate::delegation::policy::Action;
use crate::domain::Uai;

/// The establishment a pupils' page names (`?uai=`) and the right to `op` on its pupils
/// there (refused and audited otherwise).
pub(super) async fn pupils_of(
    (state, signed_in, meta): (&State, &SignedIn, &RequestMeta),
    requested: Option<&str>,
    op: AccountOp,
) -> Result<Uai, AppError> {
    let asked = (Action::ViewPupils, AccountKind::Pupil.action(op));
    let who = (signed_in, meta);
    Ok(permit_requested(state, who, requested, asked, None)
        .await?
        .uai)
}
