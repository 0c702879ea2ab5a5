//! Pending transfers: the principal of the ORIGIN establishment sees his pupils claimed by
//! another establishment's import and accepts them (the pupil then moves, keeping his
//! identifiant). The UAI of an acceptance comes from the transfer record, never a form.

use crate::web::paths;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::calls::{call, permit_requested, see_other};
use super::chrome::chrome;
use super::errors::AppError;
use super::guard::{Attempt, Checks, admit};
use super::request::{Asker, Posted};
use super::views::transfers::{TransfersView, transfers_page};
use crate::audit::AuditAction;
use crate::delegation::policy::Action;
use crate::import::transfer_lines::pending_lines;
use crate::usecases::transfers;

#[derive(Debug, Deserialize)]
pub struct TransfersQuery {
    uai: Option<String>,
    #[serde(default)]
    accepte: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf_token: String,
    /// The pupil the page showed for this request.
    #[serde(default)]
    eleve: String,
}

pub async fn show_transfers(who: Asker, q: web::Query<TransfersQuery>) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (Action::AcceptTransfers, AuditAction::TransferView);
    let requested =
        permit_requested(&state, (&signed_in, &meta), q.uai.as_deref(), asked, None).await?;
    let (uai, name) = requested.named(&state).await?;
    let key = uai.clone();
    let (to_accept, requested) = state
        .db
        .run(move |conn| Ok::<_, AppError>(pending_lines(conn, &key)?))
        .await?;
    let accepted = "Transfert accepté : l'élève a rejoint son nouvel établissement.";
    Ok(transfers_page(&TransfersView {
        chrome: &chrome(&signed_in),
        uai: uai.as_str(),
        establishment: &name,
        to_accept: &to_accept,
        requested: &requested,
        notice: q.accepte.is_some().then_some(accepted),
    }))
}

pub async fn accept_transfer(
    (who, path, form): Posted<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let id = path.into_inner();
    let (t, from, permit) = call(&state, &signed_in, &meta, move |conn, c| {
        transfers::permit_on(conn, &c.caller(), &id)
    })
    .await?;
    let attempt = Attempt::new(AuditAction::TransferAccept).on("eleve", t.pupil_id);
    let checks = Checks::on(&from, &attempt, Some(&form.csrf_token));
    admit(&state, &signed_in, &meta, checks).await?;
    let shown = form.eleve.clone();
    call(&state, &signed_in, &meta, move |conn, c| {
        transfers::accept(conn, &c.key, &permit, &c.ctx, &t, &shown)
    })
    .await?;
    Ok(see_other(
        paths::transfers(Some(&from)).with("accepte", 1).to_string(),
    ))
}
