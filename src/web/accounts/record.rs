//! The record handlers of both kinds: the page, the password reset with its letter, unblock,
//! deactivate, reactivate; the pupil's reset confirmation and the parent's audited contacts.
//! Each extracts, calls the use case, renders.

use crate::web::paths;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::calls::see_other;
use super::super::chrome::chrome;
use super::super::errors::AppError;
use super::super::guard::State;
use super::super::request::{Asker, OnRecord, Posted, RequestMeta};
use super::super::session_guard::SignedIn;
use super::super::views::parents::confirm_parent_page;
use super::super::views::pupils::confirm_reset_page;
use super::pages::{record_page, reset_done};
use super::{Kind, Parents, Visit, call, visit};
use crate::accounts::reset::new_provisional;
use crate::accounts::{AccountKind, AccountOp, StateChange};
use crate::usecases::STORE_UNAVAILABLE;
use crate::usecases::accounts::{self, Record};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    fait: Option<String>,
    /// A parent's establishment to show him in (among his children's).
    uai: Option<String>,
}

/// An action's form: the CSRF token and, for a parent, the establishment acted on (one of
/// his children's, chosen on the page; the first where the agent may act when absent).
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    uai: String,
}

/// A POSTed action: the account `(kind, id)` opened for `op`, with the form's CSRF token.
async fn posted(
    (state, signed_in, meta): (&State, &SignedIn, &RequestMeta),
    (kind, id, op): (AccountKind, &str, AccountOp),
    form: &ActionForm,
) -> Result<Visit, AppError> {
    let asked = (Some(form.uai.as_str()), Some(form.csrf_token.as_str()));
    visit(state, (signed_in, meta), (kind, id), asked, op).await
}

/// The account store did not answer when the account was opened: a write is not tried (it
/// would wait as long again), the answer is its French 503 at once.
fn unavailable_if_stale(v: &Visit) -> Result<(), AppError> {
    if v.stale {
        return Err(AppError::AccountStoreUnavailable(STORE_UNAVAILABLE.into()));
    }
    Ok(())
}

/// `GET /depannage/{kind}/{id}`
pub async fn show<K: Kind>(
    (who, path, q): (Asker, web::Path<String>, web::Query<PageQuery>),
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let who = (&signed_in, &meta);
    let asked = (q.uai.as_deref(), None);
    let v = visit(&state, who, (K::KIND, &path), asked, AccountOp::View).await?;
    let notice = match q.fait.as_deref() {
        Some("deblocage") => Some("Le compte est débloqué."),
        Some("desactivation") => Some("Le compte est désactivé."),
        Some("reactivation") => Some("Le compte est réactivé."),
        _ => None,
    };
    record_page(&state, who, &v, false, notice).await
}

/// `GET /depannage/responsable/{id}/reinitialisation|desactivation`: the confirmation before a
/// parent's reset or deactivation, in the establishment he is shown in (the parents' gate as
/// for every parent page).
pub async fn confirm_parent_change(
    (who, path, q): (Asker, web::Path<(String, String)>, web::Query<PageQuery>),
) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let (id, which) = path.into_inner();
    let (op, change) = match which.as_str() {
        "reinitialisation" => (AccountOp::ResetPassword, None),
        "desactivation" => (AccountOp::Deactivate, Some(StateChange::Deactivate)),
        _ => return Err(AppError::NotFound),
    };
    let asked = (q.uai.as_deref(), None);
    let v = visit(
        &state,
        (&signed_in, &meta),
        (AccountKind::Parent, &id),
        asked,
        op,
    )
    .await?;
    let Record::Parent(r) = &v.opened.record else {
        return Err(AppError::NotFound);
    };
    let uai = v.opened.permit.uai().to_string();
    let through_fc = v.opened.through_franceconnect();
    let what = (change, through_fc);
    Ok(confirm_parent_page(
        &chrome(&signed_in),
        &r.parent,
        &uai,
        what,
    ))
}

/// `GET /depannage/eleve/{id}/reinitialisation`: the confirmation before a pupil's reset.
pub async fn confirm_reset((who, path): OnRecord) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let who = (&signed_in, &meta);
    let op = AccountOp::ResetPassword;
    let v = visit(&state, who, (AccountKind::Pupil, &path), (None, None), op).await?;
    match &v.opened.record {
        Record::Pupil(p) => Ok(confirm_reset_page(&chrome(&signed_in), p)),
        Record::Parent(_) => Err(AppError::NotFound),
    }
}

/// `POST /depannage/{kind}/{id}/reinitialisation`: the new password, shown once, and the letter.
pub async fn reset_password<K: Kind>(
    (who, path, form): Posted<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (K::KIND, path.as_str(), AccountOp::ResetPassword);
    let v = posted((&state, &signed_in, &meta), asked, &form).await?;
    unavailable_if_stale(&v)?;
    let store = state.accounts.clone();
    let new = web::block(move || new_provisional(&*store))
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))??;
    let store = state.accounts.clone();
    let facts = call(&state, &v, move |conn, key, ctx, opened| {
        accounts::reset_password(conn, key, &*store, ctx, opened, new)
    })
    .await?;
    reset_done(&state, &signed_in, &v, facts).await
}

/// `POST /depannage/{kind}/{id}/deblocage|desactivation|reactivation`: one state change.
pub async fn change_state<K: Kind>(
    (who, path, form): (Asker, web::Path<(String, String)>, web::Form<ActionForm>),
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let (id, which) = path.into_inner();
    let change = StateChange::from_path(&which).ok_or(AppError::NotFound)?;
    let asked = (K::KIND, id.as_str(), change.op());
    let v = posted((&state, &signed_in, &meta), asked, &form).await?;
    unavailable_if_stale(&v)?;
    let store = state.accounts.clone();
    call(&state, &v, move |conn, key, ctx, opened| {
        accounts::change_state(conn, key, &*store, ctx, opened, change)
    })
    .await?;
    let account = v.opened.account();
    let parent = account.kind == AccountKind::Parent;
    let location = paths::account(account.kind, account.id)
        .with("fait", &which)
        .with_some("uai", parent.then(|| v.opened.permit.uai()));
    Ok(see_other(location.to_string()))
}

/// `POST /depannage/responsable/{id}/coordonnees`: the unmasked contacts; the showing is audited.
pub async fn show_contacts(
    (who, path, form): Posted<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (Parents::KIND, path.as_str(), AccountOp::ShowContacts);
    let v = posted((&state, &signed_in, &meta), asked, &form).await?;
    call(&state, &v, accounts::show_contacts).await?;
    record_page(&state, (&signed_in, &meta), &v, true, None).await
}
