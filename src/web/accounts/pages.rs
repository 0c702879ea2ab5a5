//! The kind's pages: a pupil's record (his parents as the agent may see them, his recent
//! history) or a parent's (his children in one establishment, his contacts masked unless
//! shown, his dates and recent history), and the reset's letter.

use actix_web::HttpResponse;

use super::super::calls;
use super::super::chrome::{chrome, establishment_name, no_store};
use super::super::errors::AppError;
use super::super::guard::State;
use super::super::journal::target_history;
use super::super::parents::search::gate_label;
use super::super::parents_gate::open_gate;
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::letters::{Sender, letter};
use super::super::views::parents::{ParentView, parent_page, parent_reset_done_page};
use super::super::views::pupils::{PupilView, pupil_page, reset_done_page};
use super::Visit;
use crate::accounts::AccountKind;
use crate::accounts::provisional::grouped;
use crate::accounts::pupils::Pupil;
use crate::clock::local_day;
use crate::usecases::accounts::{LetterFacts, ParentRecord, PupilParents, Record, pupil_parents};

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
    who: (&SignedIn, &RequestMeta),
    v: &Visit,
    contacts_shown: bool,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    // The account store did not answer: the state shown is the index's.
    let notice = notice.or(v.stale.then_some(STALE));
    match &v.opened.record {
        Record::Pupil(pupil) => pupil_record(state, who, pupil, notice).await,
        Record::Parent(r) => parent_record(state, who.0, v, r, (contacts_shown, notice)).await,
    }
}

/// A pupil's page: his record, his parents (as the agent may see them: `pupil_parents`, with
/// the parents' gate of this session) and his recent history. Not cached when it names his
/// parents.
async fn pupil_record(
    state: &State,
    (signed_in, meta): (&SignedIn, &RequestMeta),
    pupil: &Pupil,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let establishment = establishment_name(state, &pupil.uai).await?;
    let gate_open = open_gate(state, signed_in, meta).is_some();
    let (read, tz) = (pupil.clone(), state.tz);
    let (history, parents) = calls::call(state, signed_in, meta, move |conn, c| {
        let kind = AccountKind::Pupil.target();
        let history = target_history(conn, kind, read.id, HISTORY_ROWS, tz)?;
        let parents = pupil_parents(conn, &c.caller(), &read, gate_open)?;
        Ok((history, parents))
    })
    .await?;
    let body = pupil_page(&PupilView {
        chrome: &chrome(signed_in),
        pupil,
        establishment: &establishment,
        history: &history,
        parents: &parents,
        notice,
        now: state.clock.now(),
        tz,
    })
    .into_string();
    Ok(match parents {
        PupilParents::Shown(_) => no_store(body),
        PupilParents::NotAllowed | PupilParents::GateClosed => html(body),
    })
}

/// How many of the journal's rows a record's page shows.
const HISTORY_ROWS: i64 = 10;

/// A parent's page in the establishment acted on (never cached), with his recent history.
async fn parent_record(
    state: &State,
    signed_in: &SignedIn,
    v: &Visit,
    r: &ParentRecord,
    (contacts_shown, notice): (bool, Option<&str>),
) -> Result<HttpResponse, AppError> {
    let uai = v.opened.permit.uai();
    let establishment = establishment_name(state, uai).await?;
    let mut elsewhere = Vec::new();
    for u in &r.elsewhere {
        elsewhere.push((u.to_string(), establishment_name(state, u).await?));
    }
    let (id, tz) = (r.parent.id, state.tz);
    let kind = AccountKind::Parent.target();
    let history = state
        .db
        .run(move |conn| Ok::<_, AppError>(target_history(conn, kind, id, HISTORY_ROWS, tz)?))
        .await?;
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
            history: &history,
            tz,
        })
        .into_string(),
    ))
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
