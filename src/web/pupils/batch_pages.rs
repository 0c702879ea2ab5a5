//! A batch's pages: progress, the letters document, resume, "printed" (wipe).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use secrecy::SecretString;

use super::super::BASE;
use super::super::delegations::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, permit, record_refusal, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{BatchView, batch_page, letters_document};
use super::super::views::letters::{Letter, letter};
use super::classes::{CsrfForm, action_for, gate_for, kind_of, prefix, spawn_runner, template};
use super::no_store;
use crate::accounts::batch::{self, Batch};
use crate::accounts::provisional::{expiry, grouped};
use crate::accounts::reset::AccountKind;
use crate::accounts::{parents, pupils};
use crate::audit::{self, Outcome};
use crate::delegation::local_day;
use crate::delegation::policy::Permit;
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
                            let kids = parents::children(conn, p.id, &batch_uai)?
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
