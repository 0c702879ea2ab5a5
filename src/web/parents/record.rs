//! One parent: his page, his contacts (an audited "show"), the reset with its letter,
//! unblock, deactivate, reactivate. Every action is audited with the gate used.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::BASE;
use super::super::chrome::no_store;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{Attempt, State, record_refusal, require_csrf};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::letters::{Letter, letter};
use super::super::views::parents::{ParentView, parent_page, parent_reset_done_page};
use super::search::gate_label;
use super::{Path, Visible, visible_parent};
use crate::accounts::parents;
use crate::accounts::provisional::{expiry, grouped};
use crate::accounts::AccountKind;
use crate::accounts::reset::{apply_single_reset, new_provisional};
use crate::accounts::{AccountState, StateChange};
use crate::audit::{self, Outcome};
use crate::clock::local_day;
use crate::delegation::policy::Action;

/// A parent's action: the CSRF token and the establishment acted on (one of his
/// children's, chosen on the page; the first where the agent may act when absent).
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    uai: String,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    fait: Option<String>,
    uai: Option<String>,
}

async fn render(
    state: &State,
    signed_in: &SignedIn,
    v: &Visible,
    contacts_shown: bool,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let establishment = establishment_name(state, &v.permit.uai()).await?;
    let mut elsewhere = Vec::new();
    for u in &v.elsewhere {
        elsewhere.push((u.to_string(), establishment_name(state, u).await?));
    }
    Ok(no_store(
        parent_page(&ParentView {
            chrome: &chrome(signed_in),
            parent: &v.parent,
            uai: v.permit.uai().as_str(),
            establishment: &establishment,
            elsewhere: &elsewhere,
            children: &v.children,
            contacts_shown,
            gate: gate_label(v.gate),
            notice,
        })
        .into_string(),
    ))
}

pub async fn show_parent(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: Path,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let v = visible_parent(
        &state,
        &signed_in,
        &meta,
        &path,
        q.uai.as_deref(),
        Action::ViewParents,
        "responsable.view",
    )
    .await?;
    let notice = match q.fait.as_deref() {
        Some("deblocage") => Some("Le compte est débloqué."),
        Some("desactivation") => Some("Le compte est désactivé."),
        Some("reactivation") => Some("Le compte est réactivé."),
        _ => None,
    };
    render(&state, &signed_in, &v, false, notice).await
}

/// Shows the unmasked contacts; the showing is audited.
pub async fn show_contacts(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: Path,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let action = "responsable.show_contacts";
    let v = visible_parent(
        &state,
        &signed_in,
        &meta,
        &path,
        Some(&form.uai),
        Action::ViewParents,
        action,
    )
    .await?;
    let attempt = Attempt::new(action).on("responsable", v.parent.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&v.permit.uai()),
        &attempt,
    )
    .await?;
    let event = v.gate.stamp(
        attempt
            .event(&signed_in, &meta, Some(&v.permit.uai()), Outcome::Success)
            .delegation(v.permit.delegation_id()),
    );
    let (now, key) = (state.clock.now(), state.key.clone());
    state
        .db
        .run(move |conn| {
            audit::record(conn, &key, now, &event)
                .map(drop)
                .map_err(AppError::from)
        })
        .await?;
    render(&state, &signed_in, &v, true, None).await
}

pub async fn reset_password(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: Path,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let action = "responsable.reset_password";
    let v = visible_parent(
        &state,
        &signed_in,
        &meta,
        &path,
        Some(&form.uai),
        Action::ResetParent,
        action,
    )
    .await?;
    let attempt = Attempt::new(action).on("responsable", v.parent.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&v.permit.uai()),
        &attempt,
    )
    .await?;
    let base = v.gate.stamp(
        attempt
            .event(&signed_in, &meta, Some(&v.permit.uai()), Outcome::Success)
            .delegation(v.permit.delegation_id()),
    );
    if matches!(
        v.parent.state,
        AccountState::Bloque | AccountState::Desactive
    ) {
        let mut refused = base.details(format!("state {}", v.parent.state.as_str()));
        refused.outcome = Outcome::Refused;
        record_refusal(&state, refused).await?;
        return Err(AppError::Conflict(
            "Ce compte est bloqué ou désactivé : débloquez-le ou réactivez-le d'abord.".into(),
        ));
    }
    let (password, hash) = web::block(new_provisional)
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))?
        .map_err(AppError::from)?;
    let (now, key, id) = (state.clock.now(), state.key.clone(), v.parent.id);
    let event = base.details("individual");
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                apply_single_reset(tx, AccountKind::Parent, id, &hash, now, &event)
                    .map_err(|e| AppError::Internal(e.to_string()))
            })
        })
        .await?;
    let name = establishment_name(&state, &v.permit.uai()).await?;
    let shown = grouped(&password);
    let kids: Vec<_> = v.children.iter().map(|(c, _)| c.clone()).collect();
    let kids = parents::children_names(&kids);
    let the_letter = letter(&Letter {
        establishment: &name,
        uai: v.permit.uai().as_str(),
        first_name: &v.parent.first_name,
        last_name: &v.parent.last_name,
        division: None,
        identifiant: &v.parent.identifiant,
        password: &shown,
        expires: expiry(now),
        portal_url: &state.settings.letters.portal_url,
        tz: state.tz,
        issued: local_day(now, state.tz),
        children: Some(&kids),
    });
    Ok(no_store(
        parent_reset_done_page(
            &chrome(&signed_in),
            &v.parent,
            v.permit.uai().as_str(),
            &shown,
            the_letter,
        )
        .into_string(),
    ))
}

/// `POST …/{id}/deblocage|desactivation|reactivation`: one state change, audited.
pub async fn change_state(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (id, which) = path.into_inner();
    let CsrfForm { csrf_token, uai } = form.into_inner();
    let change = StateChange::from_path(&which).ok_or(AppError::NotFound)?;
    let action = match change {
        StateChange::Unblock => "responsable.unblock",
        StateChange::Deactivate => "responsable.deactivate",
        StateChange::Reactivate => "responsable.reactivate",
    };
    let v = visible_parent(
        &state,
        &signed_in,
        &meta,
        &id,
        Some(&uai),
        Action::ResetParent,
        action,
    )
    .await?;
    let attempt = Attempt::new(action).on("responsable", v.parent.id);
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &csrf_token,
        Some(&v.permit.uai()),
        &attempt,
    )
    .await?;
    let p = &v.parent;
    let applied = change.apply(p.state, p.previous_state);
    let base = v.gate.stamp(
        attempt
            .event(&signed_in, &meta, Some(&v.permit.uai()), Outcome::Success)
            .delegation(v.permit.delegation_id()),
    );
    let Some((to, previous)) = applied else {
        let mut refused = base.details(format!("not possible from state {}", p.state.as_str()));
        refused.outcome = Outcome::Refused;
        record_refusal(&state, refused).await?;
        return Err(AppError::Conflict(
            "Cette action n'est pas possible dans l'état actuel du compte.".into(),
        ));
    };
    let event = base.details(format!("{} → {}", p.state.as_str(), to.as_str()));
    let (now, key, pid) = (state.clock.now(), state.key.clone(), p.id);
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                parents::set_state(tx.conn(), pid, to, previous, now)?;
                tx.append(&event)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!(
                "{BASE}/depannage/responsable/{pid}?fait={which}&uai={}",
                v.permit.uai()
            ),
        ))
        .finish())
}
