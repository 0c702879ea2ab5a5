//! Pending transfers: the principal of the ORIGIN establishment sees his pupils claimed by
//! another establishment's import and accepts them (the pupil then moves, keeping his
//! identifiant). The UAI of an acceptance comes from the transfer record, never a form.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use diesel::prelude::*;
use maud::Markup;
use serde::Deserialize;

use super::BASE;
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, State, permit, record_refusal, requested_uai, require_csrf};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::transfers::{TransferLine, TransfersView, transfers_page};
use crate::audit::{self, Outcome};
use crate::clock::db_instant;
use crate::db::schema::pupils;
use crate::delegation::policy::Action;
use crate::domain::Uai;
use crate::import::transfers::{self, TransferError, establishment_label};

#[derive(Debug, Deserialize)]
pub struct TransfersQuery {
    uai: Option<String>,
    #[serde(default)]
    accepte: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
    /// The pupil the page showed for this request.
    #[serde(default)]
    eleve: String,
}

pub async fn show_transfers(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<TransfersQuery>,
) -> Result<Markup, AppError> {
    let uai = requested_uai(q.uai.as_deref())?;
    permit(
        &state,
        &signed_in,
        &meta,
        Action::AcceptTransfers,
        &uai,
        &Attempt::new("transfert.view"),
    )
    .await?;
    let key = uai.as_str().to_owned();
    let (incoming, outgoing) = state
        .db
        .run(move |conn| {
            let mut out_lines = Vec::new();
            for t in transfers::pending_from(conn, &key)? {
                let (identifiant, first, last, division): (String, String, String, Option<String>) =
                    pupils::table
                        .filter(pupils::id.eq(t.pupil_id))
                        .select((
                            pupils::identifiant,
                            pupils::first_name,
                            pupils::last_name,
                            pupils::division,
                        ))
                        .first(conn)?;
                out_lines.push(TransferLine {
                    id: t.id,
                    pupil_id: t.pupil_id,
                    pupil: format!("{first} {last} ({identifiant})"),
                    division: division.unwrap_or_default(),
                    birth_date: t.birth_date.format("%d/%m/%Y").to_string(),
                    other: establishment_label(conn, &t.to_uai)?,
                    requested_at: t.requested_at.format("%d/%m/%Y").to_string(),
                });
            }
            let mut in_lines = Vec::new();
            for t in transfers::pending_to(conn, &key)? {
                in_lines.push(TransferLine {
                    id: t.id,
                    pupil_id: t.pupil_id,
                    pupil: format!("{} {}", t.first_name, t.last_name),
                    division: t.division.clone().unwrap_or_default(),
                    birth_date: t.birth_date.format("%d/%m/%Y").to_string(),
                    other: establishment_label(conn, &t.from_uai)?,
                    requested_at: t.requested_at.format("%d/%m/%Y").to_string(),
                });
            }
            Ok::<_, AppError>((out_lines, in_lines))
        })
        .await?;
    let name = establishment_name(&state, &uai).await?;
    Ok(transfers_page(&TransfersView {
        chrome: &chrome(&signed_in),
        uai: uai.as_str(),
        establishment: &name,
        to_accept: &incoming,
        requested: &outgoing,
        notice: q
            .accepte
            .is_some()
            .then_some("Transfert accepté : l'élève a rejoint son nouvel établissement."),
    }))
}

pub async fn accept_transfer(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let id: i64 = path.parse().map_err(|_| AppError::NotFound)?;
    let t = state
        .db
        .run(move |conn| Ok::<_, AppError>(transfers::find(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let from = Uai::parse(&t.from_uai).map_err(|e| AppError::Internal(e.to_string()))?;
    let attempt = Attempt::new("transfert.acceptation").on("eleve", t.pupil_id);
    permit(
        &state,
        &signed_in,
        &meta,
        Action::AcceptTransfers,
        &from,
        &attempt,
    )
    .await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&from),
        &attempt,
    )
    .await?;
    if form.eleve.trim().parse::<i64>().ok() != Some(t.pupil_id) {
        let event = attempt
            .event(&signed_in, &meta, Some(&from), Outcome::Refused)
            .details("la demande de transfert affichée n'est plus celle-ci");
        record_refusal(&state, event).await?;
        return Err(AppError::Conflict(
            "Cette demande de transfert a changé depuis l'affichage de la page : rechargez-la et \
             vérifiez l'élève avant d'accepter."
                .into(),
        ));
    }
    let (key, now) = (state.key.clone(), state.clock.now());
    let template = attempt.event(&signed_in, &meta, None, Outcome::Success);
    let accepted = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>(audit::audited(conn, &key, now, |tx| {
                transfers::accept(tx, id, &template, db_instant(now))
            }))
        })
        .await?;
    match accepted {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("{BASE}/transferts?uai={from}&accepte=1"),
            ))
            .finish()),
        Err(TransferError::Gone) => {
            let event = attempt
                .event(&signed_in, &meta, Some(&from), Outcome::Refused)
                .details("transfert plus en attente");
            record_refusal(&state, event).await?;
            Err(AppError::Conflict(TransferError::Gone.to_string()))
        }
        Err(TransferError::Db(e)) => Err(AppError::Internal(e.to_string())),
    }
}
