//! A batch's pages: progress, the letters document, resume, "printed" (wipe).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;

use super::super::BASE;
use super::super::chrome::no_store;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, permit, record_refusal, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{BatchView, batch_page, letters_document};
use super::super::views::letters::{Letter, letter};
use super::classes::{
    CsrfForm, action_for, agent_name, gate_for, kind_of, new_owner, prefix, runner_for, template,
};
use crate::accounts::batch::{self, Batch, usecases};
use crate::accounts::provisional::{expiry, grouped};
use crate::accounts::reset::AccountKind;
use crate::accounts::{parents, pupils};
use crate::audit::{AuditEvent, Outcome};
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::delegation::policy::{Basis, Permit};
use crate::web::parents_gate::Gate;

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
    let found = state
        .db
        .run(move |conn| Ok::<_, AppError>(batch::find(conn, id)?))
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
    // A batch is its creator's; the principal, who holds every right there, may also take
    // it up, print what was done or abandon the rest (after a revocation, say).
    let principal = permit.basis() == &Basis::Principal;
    if found.created_by != signed_in.0.agent.uid && !principal {
        record_refusal(
            state,
            attempt
                .event(signed_in, meta, Some(&found.uai), Outcome::Refused)
                .details("lot de courriers créé par un autre personnel"),
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
    let progress = state
        .db
        .run(move |conn| Ok::<_, AppError>(batch::counts(conn, id)?))
        .await?;
    let now = state.clock.now();
    let name = establishment_name(&state, &b.uai).await?;
    let acting = match b.interruption {
        Some(_) => agent_name(&state, &b.acting_uid).await,
        None => String::new(),
    };
    let body = batch_page(&BatchView {
        chrome: &chrome(&signed_in),
        prefix: prefix(kind_of(&b)),
        id: b.id,
        division: &b.division,
        establishment: &name,
        done: progress.done,
        pending: progress.pending,
        abandoned: progress.abandoned,
        running: b.is_leased(now),
        error: b.last_error.is_some(),
        interruption: b.interruption.map(|i| (i.label(), acting.as_str())),
        printable: progress.done > 0 && b.passwords_available(now),
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
    let (id, batch_uai) = (b.id, b.uai.clone());
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
                        // A pupil who moved away since is not this establishment's any more.
                        if let Some(p) = pupils::find(conn, account)?.filter(|p| p.uai == batch_uai)
                        {
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
                            let kids = parents::children(conn, p.id, &batch_uai)?;
                            if kids.is_empty() {
                                continue;
                            }
                            let kids = kids
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

fn to_batch(kind: AccountKind, id: i64) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/depannage/{}/lots/{id}", prefix(kind)),
        ))
        .finish()
}

/// A batch action's permit, gate and CSRF check; its audit event.
async fn batch_action(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: &str,
    action: &'static str,
    csrf_token: &str,
) -> Result<(Batch, Permit, Option<Gate>, AuditEvent), AppError> {
    let (b, permit, gate) = load_batch(state, signed_in, meta, id, action).await?;
    let attempt = Attempt::new(action).on("lot", b.id);
    require_csrf(state, signed_in, meta, csrf_token, Some(&b.uai), &attempt).await?;
    let mut event = attempt
        .event(signed_in, meta, Some(&b.uai), Outcome::Success)
        .delegation(permit.delegation_id());
    if let Some(g) = gate {
        event = g.stamp(event);
    }
    Ok((b, permit, gate, event))
}

/// A refused batch action: audited, and the French message (409).
async fn refused(
    state: &State,
    event: AuditEvent,
    error: usecases::BatchError,
) -> Result<HttpResponse, AppError> {
    if let usecases::BatchError::Db(e) = error {
        return Err(AppError::from(e));
    }
    let mut e = event.details(error.message());
    e.outcome = Outcome::Refused;
    record_refusal(state, e).await?;
    Err(AppError::Conflict(error.message()))
}

pub async fn resume_batch(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (b, permit, gate, event) = batch_action(
        &state,
        &signed_in,
        &meta,
        &path,
        "batch.resume",
        &form.csrf_token,
    )
    .await?;
    let kind = kind_of(&b);
    let (now, key, id) = (state.clock.now(), state.key.clone(), b.id);
    let uid = signed_in.0.agent.uid.clone();
    let gate_name = gate.map(|g| g.as_str());
    let ev = event.clone();
    let owner = new_owner(&state)?;
    let lease_owner = owner.clone();
    let done = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>(usecases::resume(
                conn,
                &key,
                now,
                id,
                &uid,
                gate_name,
                &lease_owner,
                &ev,
            ))
        })
        .await?;
    if let Err(e) = done {
        return refused(&state, event, e).await;
    }
    runner_for(
        &state,
        &signed_in,
        kind,
        template(kind, &signed_in, &meta, &permit, gate),
    )
    .spawn_leased(b.id, owner)
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(to_batch(kind, b.id))
}

/// A batch action without a worker to start (abandon, printed): the permit, gate and CSRF
/// checks, then the use case `run` in its own transaction; a refusal is audited (409).
async fn simple_action<F>(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
    action: &'static str,
    run: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection, i64, AuditEvent) -> Result<(), usecases::BatchError>
        + Send
        + 'static,
{
    let (b, _, _, event) =
        batch_action(&state, &signed_in, &meta, &path, action, &form.csrf_token).await?;
    let (id, ev) = (b.id, event.clone());
    let done = state
        .db
        .run(move |conn| Ok::<_, AppError>(run(conn, id, ev)))
        .await?;
    if let Err(e) = done {
        return refused(&state, event, e).await;
    }
    Ok(to_batch(kind_of(&b), b.id))
}

pub async fn abandon_batch(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (now, key) = (state.clock.now(), state.key.clone());
    let uid = signed_in.0.agent.uid.clone();
    simple_action(
        state,
        signed_in,
        meta,
        path,
        form,
        "batch.abandon",
        move |conn, id, ev| usecases::abandon(conn, &key, now, id, &uid, &ev).map(drop),
    )
    .await
}

pub async fn confirm_printed(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (now, key) = (state.clock.now(), state.key.clone());
    simple_action(
        state,
        signed_in,
        meta,
        path,
        form,
        "batch.printed",
        move |conn, id, ev| {
            let ev = ev.details("courriers imprimés : mots de passe effacés");
            usecases::confirm_printed(conn, &key, now, id, &ev)
        },
    )
    .await
}
