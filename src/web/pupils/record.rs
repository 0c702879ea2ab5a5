//! One pupil: his page, the password reset with its letter, unblock, deactivate, reactivate.

use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::BASE;
use super::super::chrome::no_store;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, require_csrf};
use super::super::journal::target_history;
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::letters::{Letter, letter};
use super::super::views::pupils::{PupilView, confirm_reset_page, pupil_page, reset_done_page};
use super::pupil_with_permit;
use crate::accounts::provisional::{expiry, grouped};
use crate::accounts::pupils;
use crate::accounts::AccountKind;
use crate::accounts::reset::{apply_single_reset, new_provisional};
use crate::accounts::{AccountState, StateChange};
use crate::audit::{self, Outcome};
use crate::clock::local_day;
use crate::delegation::policy::Action;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    fait: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn show_pupil(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<Markup, AppError> {
    let (pupil, _) = pupil_with_permit(
        &state,
        &signed_in,
        &meta,
        &path,
        Action::ViewPupils,
        "eleve.view",
    )
    .await?;
    let name = establishment_name(&state, &pupil.uai).await?;
    let (id, tz) = (pupil.id, state.tz);
    let history = state
        .db
        .run(move |conn| Ok::<_, AppError>(target_history(conn, "eleve", id, 10, tz)?))
        .await?;
    let notice = match q.fait.as_deref() {
        Some("deblocage") => Some("Le compte est débloqué."),
        Some("desactivation") => Some("Le compte est désactivé."),
        Some("reactivation") => Some("Le compte est réactivé."),
        _ => None,
    };
    Ok(pupil_page(&PupilView {
        chrome: &chrome(&signed_in),
        pupil: &pupil,
        establishment: &name,
        history: &history,
        notice,
        now: state.clock.now(),
        tz: state.tz,
    }))
}

pub async fn confirm_reset(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<Markup, AppError> {
    let (pupil, _) = pupil_with_permit(
        &state,
        &signed_in,
        &meta,
        &path,
        Action::ResetPupil,
        "eleve.reset_password",
    )
    .await?;
    Ok(confirm_reset_page(&chrome(&signed_in), &pupil))
}

/// Resets the password and answers with it, once, and the letter.
pub async fn reset_password(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let attempt_name = "eleve.reset_password";
    let (pupil, permit) = pupil_with_permit(
        &state,
        &signed_in,
        &meta,
        &path,
        Action::ResetPupil,
        attempt_name,
    )
    .await?;
    let attempt = Attempt::new(attempt_name).on("eleve", pupil.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&pupil.uai),
        &attempt,
    )
    .await?;
    if matches!(pupil.state, AccountState::Bloque | AccountState::Desactive) {
        let event = attempt
            .event(&signed_in, &meta, Some(&pupil.uai), Outcome::Refused)
            .delegation(permit.delegation_id())
            .details(format!("state {}", pupil.state.as_str()));
        super::super::guard::record_refusal(&state, event).await?;
        return Err(AppError::Conflict(
            "Ce compte est bloqué ou désactivé : débloquez-le ou réactivez-le avant de réinitialiser son mot de passe.".into(),
        ));
    }
    let (password, hash) = web::block(new_provisional)
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))?
        .map_err(AppError::from)?;
    let now = state.clock.now();
    let key = state.key.clone();
    let event = attempt
        .event(&signed_in, &meta, Some(&pupil.uai), Outcome::Success)
        .delegation(permit.delegation_id())
        .details("individual");
    let id = pupil.id;
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                apply_single_reset(tx, AccountKind::Pupil, id, &hash, now, &event)
                    .map_err(|e| AppError::Internal(e.to_string()))
            })
        })
        .await?;
    let name = establishment_name(&state, &pupil.uai).await?;
    let shown = grouped(&password);
    let the_letter = letter(&Letter {
        establishment: &name,
        uai: pupil.uai.as_str(),
        first_name: &pupil.first_name,
        last_name: &pupil.last_name,
        division: pupil.division.as_deref(),
        identifiant: &pupil.identifiant,
        password: &shown,
        expires: expiry(now),
        portal_url: &state.settings.letters.portal_url,
        tz: state.tz,
        issued: local_day(now, state.tz),
        children: None,
    });
    Ok(no_store(
        reset_done_page(&chrome(&signed_in), &pupil, &shown, the_letter).into_string(),
    ))
}

/// Unblock, deactivate, reactivate: one state change, audited.
/// `POST …/{id}/deblocage|desactivation|reactivation`: one state change, audited.
pub async fn change_state(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (id, which) = path.into_inner();
    let csrf_token = form.into_inner().csrf_token;
    let change = StateChange::from_path(&which).ok_or(AppError::NotFound)?;
    let action = match change {
        StateChange::Unblock => "eleve.unblock",
        StateChange::Deactivate => "eleve.deactivate",
        StateChange::Reactivate => "eleve.reactivate",
    };
    let (pupil, permit) =
        pupil_with_permit(&state, &signed_in, &meta, &id, Action::ResetPupil, action).await?;
    let attempt = Attempt::new(action).on("eleve", pupil.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &csrf_token,
        Some(&pupil.uai),
        &attempt,
    )
    .await?;
    let applied = change.apply(pupil.state, pupil.previous_state);
    let Some((to, previous)) = applied else {
        let event = attempt
            .event(&signed_in, &meta, Some(&pupil.uai), Outcome::Refused)
            .delegation(permit.delegation_id())
            .details(format!("not possible from state {}", pupil.state.as_str()));
        super::super::guard::record_refusal(&state, event).await?;
        return Err(AppError::Conflict(
            "Cette action n'est pas possible dans l'état actuel du compte.".into(),
        ));
    };
    let now = state.clock.now();
    let key = state.key.clone();
    let event = attempt
        .event(&signed_in, &meta, Some(&pupil.uai), Outcome::Success)
        .delegation(permit.delegation_id())
        .details(format!("{} → {}", pupil.state.as_str(), to.as_str()));
    let id = pupil.id;
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                pupils::set_state(tx.conn(), id, to, previous, now)?;
                tx.append(&event)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!("{BASE}/depannage/eleve/{id}?fait={which}"),
        ))
        .finish())
}
