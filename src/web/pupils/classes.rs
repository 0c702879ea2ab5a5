//! Letters for a division: a crash-safe, idempotent batch (see `accounts::batch`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::BASE;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, permit, requested_uai, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{ClassFormView, class_form_page};
pub(super) use super::class_refusals::agent_name;
use super::class_refusals::{
    EXPIRED, FormAgain, chosen_states, form_problem, overlap_message, refuse,
};
use crate::accounts::AccountState;
use crate::accounts::batch::runner::{self, Runner};
use crate::accounts::batch::{Batch, Created, NewBatch, usecases};
use crate::accounts::{AccountKind, AccountOp};
use crate::accounts::{parents, pupils};
use crate::audit::{AuditEvent, Outcome};
use crate::auth::random_token;
use crate::delegation::policy::Permit;
use crate::web::parents_gate::{Gate, require_gate};

#[derive(Debug, Deserialize)]
pub struct ClassQuery {
    uai: Option<String>,
    #[serde(default)]
    division: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ClassForm {
    #[serde(default)]
    uai: String,
    #[serde(default)]
    division: String,
    #[serde(default)]
    etat: Vec<String>,
    #[serde(default)]
    cle: String,
    /// The explicit choice to issue new letters to accounts already notified.
    #[serde(default)]
    renotifier: String,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(super) csrf_token: String,
}

pub(super) fn new_key() -> Result<String, AppError> {
    random_token(24).map_err(|_| AppError::Internal("random generator failed".into()))
}

async fn divisions(
    state: &State,
    uai: &crate::domain::Uai,
) -> Result<Vec<(String, i64)>, AppError> {
    let key = uai.clone();
    state
        .db
        .run(move |conn| Ok::<_, AppError>(pupils::divisions(conn, &key)?))
        .await
}

pub async fn class_form_pupils(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<ClassQuery>,
) -> Result<Markup, AppError> {
    class_form(AccountKind::Pupil, state, signed_in, meta, q).await
}

pub async fn class_form_parents(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<ClassQuery>,
) -> Result<Markup, AppError> {
    class_form(AccountKind::Parent, state, signed_in, meta, q).await
}

pub(super) fn kind_of(batch: &Batch) -> AccountKind {
    AccountKind::from_batch_kind(&batch.kind).unwrap_or(AccountKind::Pupil)
}

/// The parents' gate, for parents' batches only.
pub(super) async fn gate_for(
    kind: AccountKind,
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    uai: &crate::domain::Uai,
    attempt: &Attempt,
) -> Result<Option<Gate>, AppError> {
    match kind {
        AccountKind::Pupil => Ok(None),
        AccountKind::Parent => require_gate(state, signed_in, meta, Some(uai), attempt)
            .await
            .map(Some),
    }
}

async fn class_form(
    kind: AccountKind,
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<ClassQuery>,
) -> Result<Markup, AppError> {
    let uai = requested_uai(q.uai.as_deref())?;
    let attempt = Attempt::new(kind.audit(AccountOp::BatchCreate));
    permit(
        &state,
        &signed_in,
        &meta,
        kind.reset_action(),
        &uai,
        &attempt,
    )
    .await?;
    gate_for(kind, &state, &signed_in, &meta, &uai, &attempt).await?;
    let divisions = divisions(&state, &uai).await?;
    let name = establishment_name(&state, &uai).await?;
    Ok(class_form_page(&ClassFormView {
        chrome: &chrome(&signed_in),
        prefix: kind.path_segment(),
        uai: uai.as_str(),
        establishment: &name,
        divisions: &divisions,
        division: &q.division,
        states: &[AccountState::NonNotifie],
        renotify: false,
        key: &new_key()?,
        error: None,
        running: None,
    }))
}

/// The worker of a batch, for the signed-in agent (whose directory data the session holds).
pub(super) fn runner_for(
    state: &State,
    signed_in: &SignedIn,
    kind: AccountKind,
    template: AuditEvent,
) -> Runner {
    Runner {
        services: state.batch_services(),
        kind,
        agent: Some((signed_in.0.agent.clone(), signed_in.0.directory_checked_at)),
        acting_uid: signed_in.0.agent.uid.clone(),
        template,
    }
}

/// A lease owner of this instance for a new run.
pub(super) fn new_owner(state: &State) -> Result<String, AppError> {
    runner::new_owner(&state.instance_id).map_err(|e| AppError::Internal(e.to_string()))
}

pub(super) fn template(
    kind: AccountKind,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    permit: &Permit,
    gate: Option<Gate>,
) -> AuditEvent {
    let e = meta.stamp(
        AuditEvent::new(
            signed_in.0.agent.uid.clone(),
            kind.audit(AccountOp::ResetPassword),
            Outcome::Success,
        )
        .uai(permit.uai().as_str())
        .delegation(permit.delegation_id()),
    );
    match gate {
        Some(g) => g.stamp(e),
        None => e,
    }
}

pub async fn create_batch_pupils(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    create_batch(AccountKind::Pupil, state, signed_in, meta, body).await
}

pub async fn create_batch_parents(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    create_batch(AccountKind::Parent, state, signed_in, meta, body).await
}

async fn create_batch(
    kind: AccountKind,
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form: ClassForm = serde_html_form::from_bytes(&body).map_err(|_| {
        AppError::BadRequest(
            "Le formulaire envoyé est mal formé. Rechargez la page et réessayez.".into(),
        )
    })?;
    let attempt = Attempt::new(kind.audit(AccountOp::BatchCreate));
    let uai = requested_uai(Some(&form.uai))?;
    let permit = permit(
        &state,
        &signed_in,
        &meta,
        kind.reset_action(),
        &uai,
        &attempt,
    )
    .await?;
    let gate = gate_for(kind, &state, &signed_in, &meta, &uai, &attempt).await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&uai),
        &attempt,
    )
    .await?;
    let divisions = divisions(&state, &uai).await?;
    let states = chosen_states(&form.etat);
    let division = form.division.trim().to_owned();
    let renotify = form.renotifier == "oui";
    let problem = form_problem(
        divisions.iter().any(|(d, _)| *d == division),
        &states,
        form.etat.len(),
        &form.cle,
        renotify,
    );
    let again = FormAgain {
        kind,
        uai: &uai,
        divisions: &divisions,
        division: &division,
        states: &states,
        renotify,
    };
    let accounts: Vec<i64> = if problem.is_none() {
        let (k, d, st) = (uai.clone(), division.clone(), states.clone());
        state
            .db
            .run(move |conn| {
                Ok::<_, AppError>(match kind {
                    AccountKind::Pupil => pupils::of_division(conn, &k, &d)?
                        .into_iter()
                        .filter(|p| st.contains(&p.state))
                        .map(|p| p.id)
                        .collect(),
                    AccountKind::Parent => parents::of_division(conn, &k, &d, &st)?,
                })
            })
            .await?
    } else {
        Vec::new()
    };
    let problem = problem.or_else(|| {
        accounts
            .is_empty()
            .then_some("Aucun élève de cette classe n'est dans les états choisis.")
    });
    if let Some(message) = problem {
        let event = attempt
            .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
            .details(message);
        return refuse(&state, &signed_in, &again, event, message, None).await;
    }
    let now = state.clock.now();
    let creator = signed_in.0.agent.uid.clone();
    let gate_name = gate.map(|g| g.as_str());
    let event = attempt
        .event(&signed_in, &meta, Some(&uai), Outcome::Success)
        .delegation(permit.delegation_id())
        .details(format!("classe {division} : {} comptes", accounts.len()));
    let event = match gate {
        Some(g) => g.stamp(event),
        None => event,
    };
    let (k, d, st, cle, key) = (
        uai.clone(),
        division.clone(),
        states.clone(),
        form.cle.clone(),
        state.key.clone(),
    );
    let owner = new_owner(&state)?;
    let lease_owner = owner.clone();
    let created = state
        .db
        .run(move |conn| {
            let new = NewBatch {
                idempotency_key: &cle,
                kind: kind.batch_kind(),
                uai: &k,
                division: &d,
                states: &st,
                created_by: &creator,
                gate: gate_name,
                accounts: &accounts,
            };
            usecases::create(conn, &key, now, &new, &lease_owner, &event).map_err(AppError::from)
        })
        .await?;
    let id = match created {
        Created::New(id) => {
            runner_for(
                &state,
                &signed_in,
                kind,
                template(kind, &signed_in, &meta, &permit, gate),
            )
            .spawn_leased(id, owner)
            .map_err(|e| AppError::Internal(e.to_string()))?;
            id
        }
        Created::Existing(id) => id,
        Created::StaleKey(_) => {
            let event = attempt
                .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
                .details(EXPIRED);
            return refuse(&state, &signed_in, &again, event, EXPIRED, None).await;
        }
        Created::Overlap { batch_id, accounts } => {
            let event = attempt
                .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
                .target("lot", batch_id)
                .details(format!(
                    "{accounts} comptes déjà dans un lot de courriers non terminé"
                ));
            let (message, visible) =
                overlap_message(&state, &signed_in, &permit, &uai, batch_id, accounts).await?;
            let running = Some((batch_id, visible));
            return refuse(&state, &signed_in, &again, event, &message, running).await;
        }
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/depannage/{}/lots/{id}", kind.path_segment()),
        ))
        .finish())
}
