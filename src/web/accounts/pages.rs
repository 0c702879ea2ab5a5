//! The kind's pages: a pupil's record (with its recent history) or a parent's (his children
//! in one establishment, his contacts masked unless shown), and the reset's letter.

use actix_web::HttpResponse;

use super::super::chrome::{chrome, establishment_name, no_store};
use super::super::errors::AppError;
use super::super::guard::State;
use super::super::journal::target_history;
use super::super::parents::search::gate_label;
use super::super::session_guard::SignedIn;
use super::super::views::letters::{Sender, letter};
use super::super::views::parents::{ParentView, parent_page, parent_reset_done_page};
use super::super::views::pupils::{PupilView, pupil_page, reset_done_page};
use super::Visit;
use crate::accounts::AccountKind;
use crate::accounts::provisional::grouped;
use crate::clock::local_day;
use crate::usecases::accounts::{LetterFacts, Record};

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// What the page says when the account store could not be read.
pub const STALE: &str = "L'annuaire des comptes ne répond pas pour le moment : l'état affiché \
    est le dernier connu. Réessayez dans quelques instants pour le voir à jour.";

/// The record's page (a parent's is never cached: it may show his contacts).
pub(super) async fn record_page(
    state: &State,
    signed_in: &SignedIn,
    v: &Visit,
    contacts_shown: bool,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let uai = v.opened.permit.uai();
    let establishment = establishment_name(state, uai).await?;
    // The account store did not answer: the state shown is the index's.
    let notice = notice.or(v.stale.then_some(STALE));
    match &v.opened.record {
        Record::Pupil(pupil) => {
            let (id, tz) = (pupil.id, state.tz);
            let kind = AccountKind::Pupil.target();
            let history = state
                .db
                .run(move |conn| Ok::<_, AppError>(target_history(conn, kind, id, 10, tz)?))
                .await?;
            Ok(html(
                pupil_page(&PupilView {
                    chrome: &chrome(signed_in),
                    pupil,
                    establishment: &establishment,
                    history: &history,
                    notice,
                    now: state.clock.now(),
                    tz: state.tz,
                })
                .into_string(),
            ))
        }
        Record::Parent(r) => {
            let mut elsewhere = Vec::new();
            for u in &r.elsewhere {
                elsewhere.push((u.to_string(), establishment_name(state, u).await?));
            }
            Ok(no_store(
                parent_page(&ParentView {
                    chrome: &chrome(signed_in),
                    parent: &r.parent,
                    uai: uai.as_str(),
                    establishment: &establishment,
                    elsewhere: &elsewhere,
                    children: &r.children,
                    contacts_shown,
                    gate: v.gate.map(gate_label).unwrap_or_default(),
                    notice,
                })
                .into_string(),
            ))
        }
    }
}

/// The new password, once, and the letter to print now.
pub(super) async fn reset_done(
    state: &State,
    signed_in: &SignedIn,
    v: &Visit,
    facts: LetterFacts,
) -> Result<HttpResponse, AppError> {
    let uai = v.opened.permit.uai();
    let name = establishment_name(state, uai).await?;
    let shown = grouped(&facts.password);
    let from = Sender {
        establishment: &name,
        uai: uai.as_str(),
        portal: &state.portal,
        tz: state.tz,
        issued: local_day(v.ctx.now, state.tz),
    };
    let the_letter = letter(&from, &facts);
    let chrome = chrome(signed_in);
    let page = match &v.opened.record {
        Record::Pupil(p) => reset_done_page(&chrome, p, &shown, the_letter),
        Record::Parent(r) => {
            parent_reset_done_page(&chrome, &r.parent, uai.as_str(), &shown, the_letter)
        }
    };
    Ok(no_store(page.into_string()))
}
