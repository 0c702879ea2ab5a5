//! Letters for a division: a crash-safe, idempotent batch (see `accounts::batch`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use secrecy::SecretString;
use serde::Deserialize;

use super::super::BASE;
use super::super::delegations::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, permit, record_refusal, requested_uai, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{
    BATCH_STATES, BatchView, ClassFormView, batch_page, class_form_page, letters_document,
};
use super::super::views::letters::{Letter, letter};
use super::no_store;
use crate::accounts::AccountState;
use crate::accounts::batch::{self, Batch, NewBatch};
use crate::accounts::provisional::{expiry, grouped};
use crate::accounts::reset::{AccountKind, BatchRunner};
use crate::accounts::{parents, pupils};
use crate::audit::{self, AuditEvent, Outcome};
use crate::auth::random_token;
use crate::delegation::local_day;
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
    csrf_token: String,
}

fn new_key() -> Result<String, AppError> {
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

fn action_for(kind: AccountKind) -> Action {
    match kind {
        AccountKind::Pupil => Action::ResetPupil,
        AccountKind::Parent => Action::ResetParent,
    }
}

fn prefix(kind: AccountKind) -> &'static str {
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

fn kind_of(batch: &Batch) -> AccountKind {
    if batch.kind == "responsables" {
        AccountKind::Parent
    } else {
        AccountKind::Pupil
    }
}

/// The parents' gate, for parents' batches only.
async fn gate_for(
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
async fn spawn_runner(
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

fn template(
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

/// The batch of the path, if the agent may reset those accounts there (through the parents'
/// gate for parents) and created it.
async fn load_batch(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: &str,
    action: &'static str,
) -> Result<(Batch, Permit, Option<Gate>), AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let now = state.clock.now();
    let found = state
        .db
        .run(move |conn| {
            batch::wipe_expired(conn, now)?;
            Ok::<_, AppError>(batch::find(conn, id)?)
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let attempt = Attempt::new(action).on("lot", found.id);
    let kind = kind_of(&found);
    let permit = permit(
        state,
        signed_in,
        meta,
        action_for(kind),
        &found.uai,
        &attempt,
    )
    .await?;
    let gate = gate_for(kind, state, signed_in, meta, &found.uai, &attempt).await?;
    if found.created_by != signed_in.0.agent.uid {
        record_refusal(
            state,
            attempt
                .event(signed_in, meta, Some(&found.uai), Outcome::Refused)
                .details("batch of another agent"),
        )
        .await?;
        return Err(AppError::Forbidden(
            "Ce lot de courriers a été créé par un autre personnel.".into(),
        ));
    }
    Ok((found, permit, gate))
}

pub async fn show_batch(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (b, _, _) = load_batch(&state, &signed_in, &meta, &path, "batch.view").await?;
    let id = b.id;
    let (done, total) = state
        .db
        .run(move |conn| Ok::<_, AppError>(batch::progress(conn, id)?))
        .await?;
    let now = state.clock.now();
    let name = establishment_name(&state, &b.uai).await?;
    let body = batch_page(&BatchView {
        chrome: &chrome(&signed_in),
        prefix: prefix(kind_of(&b)),
        id: b.id,
        division: &b.division,
        establishment: &name,
        done,
        total,
        running: b.is_leased(now),
        error: b.last_error.is_some(),
        printable: done > 0 && b.passwords_available(now),
        printed: b.printed_at.is_some(),
        wiped: b.wiped_at.is_some(),
    });
    Ok(no_store(body.into_string()))
}

pub async fn print_letters(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (b, _, _) = load_batch(&state, &signed_in, &meta, &path, "batch.print").await?;
    let kind = kind_of(&b);
    let now = state.clock.now();
    if !b.passwords_available(now) {
        return Err(AppError::Conflict(
            "Les mots de passe de ce lot ont été effacés : créez un nouveau lot si besoin.".into(),
        ));
    }
    let id = b.id;
    // (account id, first name, last name, division or children, identifiant, expiry, sealed)
    type Item = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<chrono::DateTime<chrono::Utc>>,
        String,
    );
    let items: Vec<Item> = state
        .db
        .run(move |conn| {
            let mut out = Vec::new();
            for (account, sealed) in batch::sealed_passwords(conn, id)? {
                let Some(sealed) = sealed else { continue };
                match kind {
                    AccountKind::Pupil => {
                        if let Some(p) = pupils::find(conn, account)? {
                            out.push((
                                p.id,
                                p.first_name,
                                p.last_name,
                                p.division,
                                None,
                                p.identifiant,
                                p.provisional_expires_at,
                                sealed,
                            ));
                        }
                    }
                    AccountKind::Parent => {
                        if let Some(p) = parents::find(conn, account)? {
                            let kids = parents::children(conn, p.id, None)?
                                .into_iter()
                                .map(|c| format!("{} {}", c.first_name, c.last_name))
                                .collect::<Vec<_>>()
                                .join(", ");
                            out.push((
                                p.id,
                                p.first_name,
                                p.last_name,
                                None,
                                Some(kids),
                                p.identifiant,
                                p.provisional_expires_at,
                                sealed,
                            ));
                        }
                    }
                }
            }
            Ok::<_, AppError>(out)
        })
        .await?;
    let name = establishment_name(&state, &b.uai).await?;
    let mut letters = Vec::new();
    for (account, first, last, division, kids, identifiant, expires, sealed) in &items {
        let clear = state
            .key
            .open(batch::SEAL_PURPOSE, &batch::binding(b.id, *account), sealed)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let password = SecretString::from(
            String::from_utf8(clear)
                .map_err(|_| AppError::Internal("sealed password is not text".into()))?,
        );
        let shown = grouped(&password);
        letters.push(letter(&Letter {
            establishment: &name,
            uai: b.uai.as_str(),
            first_name: first,
            last_name: last,
            division: division.as_deref(),
            identifiant,
            password: &shown,
            expires: expires.unwrap_or_else(|| expiry(now)),
            portal_url: &state.settings.letters.portal_url,
            tz: state.tz,
            issued: local_day(now, state.tz),
            children: kids.as_deref(),
        }));
    }
    Ok(no_store(
        letters_document(
            &chrome(&signed_in),
            prefix(kind),
            b.id,
            letters.len(),
            letters,
        )
        .into_string(),
    ))
}

pub async fn resume_batch(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (b, permit, gate) = load_batch(&state, &signed_in, &meta, &path, "batch.resume").await?;
    let kind = kind_of(&b);
    let attempt = Attempt::new("batch.resume").on("lot", b.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&b.uai),
        &attempt,
    )
    .await?;
    if b.wiped_at.is_none() {
        spawn_runner(
            &state,
            kind,
            b.id,
            template(kind, &signed_in, &meta, &permit, gate),
        )
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/depannage/{}/lots/{}", prefix(kind), b.id),
        ))
        .finish())
}

pub async fn confirm_printed(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (b, permit, gate) = load_batch(&state, &signed_in, &meta, &path, "batch.printed").await?;
    let kind = kind_of(&b);
    let attempt = Attempt::new("batch.printed").on("lot", b.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&b.uai),
        &attempt,
    )
    .await?;
    let now = state.clock.now();
    let key = state.key.clone();
    let mut event = attempt
        .event(&signed_in, &meta, Some(&b.uai), Outcome::Success)
        .delegation(permit.delegation_id())
        .details("letters printed; passwords wiped");
    if let Some(g) = gate {
        event = g.stamp(event);
    }
    let id = b.id;
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                batch::mark_printed(tx.conn(), id, now)?;
                tx.append(&event)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/depannage/{}/lots/{id}", prefix(kind)),
        ))
        .finish())
}
