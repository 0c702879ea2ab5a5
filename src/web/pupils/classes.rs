//! Letters for a division: a crash-safe, idempotent batch (see `accounts::batch`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::BASE;
use super::super::delegations::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, permit, record_refusal, requested_uai, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{BATCH_STATES, ClassFormView, class_form_page};
use crate::accounts::AccountState;
use crate::accounts::batch::{self, Batch, NewBatch};
use crate::accounts::reset::{AccountKind, BatchRunner};
use crate::accounts::{parents, pupils};
use crate::audit::{self, AuditEvent, Outcome};
use crate::auth::random_token;
use crate::delegation::policy::{Action, Permit};
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

pub(super) fn action_for(kind: AccountKind) -> Action {
    match kind {
        AccountKind::Pupil => Action::ResetPupil,
        AccountKind::Parent => Action::ResetParent,
    }
}

pub(super) fn prefix(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Pupil => "eleve",
        AccountKind::Parent => "responsable",
    }
}

fn batch_action(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Pupil => "eleve.batch_create",
        AccountKind::Parent => "responsable.batch_create",
    }
}

pub(super) fn kind_of(batch: &Batch) -> AccountKind {
    if batch.kind == "responsables" {
        AccountKind::Parent
    } else {
        AccountKind::Pupil
    }
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
    let attempt = Attempt::new(batch_action(kind));
    permit(&state, &signed_in, &meta, action_for(kind), &uai, &attempt).await?;
    gate_for(kind, &state, &signed_in, &meta, &uai, &attempt).await?;
    let divisions = divisions(&state, &uai).await?;
    let name = establishment_name(&state, &uai).await?;
    Ok(class_form_page(&ClassFormView {
        chrome: &chrome(&signed_in),
        prefix: prefix(kind),
        uai: uai.as_str(),
        establishment: &name,
        divisions: &divisions,
        division: &q.division,
        states: &[AccountState::NonNotifie, AccountState::Notifie],
        key: &new_key()?,
        error: None,
    }))
}

/// Starts (or resumes) the work on the blocking pool. The lease is taken before answering,
/// so the batch page shows the work in progress at once (and a second tab does not start it
/// again).
pub(super) async fn spawn_runner(
    state: &State,
    kind: AccountKind,
    batch_id: i64,
    template: AuditEvent,
) -> Result<(), AppError> {
    let owner = new_key()?;
    let (lease_owner, now) = (owner.clone(), state.clock.now());
    let taken = state
        .db
        .run(move |conn| {
            batch::clear_error(conn, batch_id)?;
            Ok::<_, AppError>(batch::acquire_lease(conn, batch_id, &lease_owner, now)?)
        })
        .await?;
    if !taken {
        return Ok(());
    }
    let runner = BatchRunner {
        kind,
        pool: state.db.pool().clone(),
        key: state.key.clone(),
        clock: state.clock.clone(),
        owner,
        template,
    };
    actix_web::rt::task::spawn_blocking(move || {
        if let Err(e) = runner.run(batch_id) {
            tracing::warn!(batch = batch_id, error = %e, "batch stopped");
        }
    });
    Ok(())
}

pub(super) fn template(
    kind: AccountKind,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    permit: &Permit,
    gate: Option<Gate>,
) -> AuditEvent {
    let action = match kind {
        AccountKind::Pupil => "eleve.reset_password",
        AccountKind::Parent => "responsable.reset_password",
    };
    let e = meta.stamp(
        AuditEvent::new(signed_in.0.agent.uid.clone(), action, Outcome::Success)
            .uai(permit.uai.as_str())
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
    let attempt = Attempt::new(batch_action(kind));
    let uai = requested_uai(Some(&form.uai))?;
    let permit = permit(&state, &signed_in, &meta, action_for(kind), &uai, &attempt).await?;
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
    let mut states = Vec::new();
    for s in &form.etat {
        match AccountState::parse(s).filter(|s| BATCH_STATES.contains(s)) {
            Some(s) if !states.contains(&s) => states.push(s),
            Some(_) => {}
            None => states.clear(),
        }
    }
    let key_ok = (16..=64).contains(&form.cle.len())
        && form
            .cle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let count_in = |d: &str| divisions.iter().find(|(x, _)| x == d).map(|(_, n)| *n);
    let division = form.division.trim().to_owned();
    let problem = if count_in(&division).is_none() {
        Some((
            "unknown division",
            "Choisissez une classe de l'établissement.",
        ))
    } else if states.is_empty() || states.len() != form.etat.len() {
        Some((
            "no state",
            "Cochez au moins un état de compte (non notifié, notifié, activé).",
        ))
    } else if !key_ok {
        Some((
            "bad idempotency key",
            "Le formulaire a expiré : rechargez la page et recommencez.",
        ))
    } else {
        None
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
        accounts.is_empty().then_some((
            "no pupil",
            "Aucun élève de cette classe n'est dans les états choisis.",
        ))
    });
    if let Some((reason, message)) = problem {
        record_refusal(
            &state,
            attempt
                .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
                .details(reason),
        )
        .await?;
        let name = establishment_name(&state, &uai).await?;
        let body = class_form_page(&ClassFormView {
            prefix: prefix(kind),
            chrome: &chrome(&signed_in),
            uai: uai.as_str(),
            establishment: &name,
            divisions: &divisions,
            division: &division,
            states: &states,
            key: &new_key()?,
            error: Some(message),
        });
        return Ok(HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body.into_string()));
    }
    let now = state.clock.now();
    let key = state.key.clone();
    let creator = signed_in.0.agent.uid.clone();
    let (k, d, st, cle) = (
        uai.clone(),
        division.clone(),
        states.clone(),
        form.cle.clone(),
    );
    let event = attempt
        .event(&signed_in, &meta, Some(&uai), Outcome::Success)
        .delegation(permit.delegation_id())
        .details(format!("division {division}, {} pupils", accounts.len()));
    let (id, created) = state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(i64, bool), AppError> {
                let new = NewBatch {
                    idempotency_key: &cle,
                    kind: kind.batch_kind(),
                    uai: &k,
                    division: &d,
                    states: &st,
                    created_by: &creator,
                    accounts: &accounts,
                };
                let (id, created) = batch::create(tx.conn(), &new, now)?;
                if created {
                    let mut e = event.clone();
                    e.target_kind = Some("lot".into());
                    e.target_id = Some(id.to_string());
                    tx.append(&e)?;
                }
                Ok((id, created))
            })
        })
        .await?;
    if created {
        spawn_runner(
            &state,
            kind,
            id,
            template(kind, &signed_in, &meta, &permit, gate),
        )
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/depannage/{}/lots/{id}", prefix(kind)),
        ))
        .finish())
}
