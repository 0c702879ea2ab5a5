//! A batch's pages: progress, the letters document, resume, abandon, "printed" (wipe). The
//! rules are `usecases::batches`'; these handlers extract, call and render.

use crate::web::paths;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};

use super::super::chrome::{chrome, establishment_name, no_store};
use super::super::errors::AppError;
use super::super::forms::CsrfForm;
use super::super::guard::{Attempt, State};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{BatchView, LettersView, batch_page, letters_document};
use super::classes::{deps, guarded};
use crate::accounts::AccountKind;
use crate::accounts::batch::runner::Runner;
use crate::audit::AuditAction;
use crate::db::DbConnection;
use crate::delegation::policy::Permit;
use crate::secrets::AppKey;
use crate::usecases::batches::{self, Deps, Located};
use crate::usecases::{Context, Failure};

/// The batch's page.
pub(super) fn to_batch(kind: AccountKind, id: i64) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, paths::batch(kind, id).to_string()))
        .finish()
}

/// Starts the worker of batch `id`, leased to `owner`, for the signed-in agent (whose
/// directory data the session holds).
pub(super) fn start_runner(
    state: &State,
    signed_in: &SignedIn,
    kind: AccountKind,
    permit: &Permit,
    ctx: &Context,
    id: i64,
    owner: String,
) -> Result<(), AppError> {
    Runner {
        services: state.batch_services(),
        kind,
        agent: Some((signed_in.0.agent.clone(), signed_in.0.directory_checked_at)),
        acting_uid: signed_in.0.agent.uid.clone(),
        template: batches::reset_template(kind, permit, ctx),
    }
    .spawn_leased(id, owner)
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The batch of the path and the permit on its establishment (rule 4), then what the route
/// requires (the parents' gate for parents, the form's CSRF token `csrf` of a POST); the use
/// case that follows checks the agent may handle it.
async fn open(
    state: &State,
    (signed_in, meta): (&SignedIn, &RequestMeta),
    id: &str,
    action: AuditAction,
    csrf: Option<&str>,
) -> Result<(Located, Permit, Context), AppError> {
    let id = id.to_owned();
    let found = state
        .db
        .run(move |conn| batches::locate(conn, &id).map_err(AppError::from))
        .await?;
    let attempt = Attempt::new(action).on("lot", found.id);
    let who = (state, signed_in, meta);
    let (permit, ctx) = guarded(found.kind, who, &found.uai, &attempt, csrf).await?;
    Ok((found, permit, ctx))
}

/// What a batch's page gets from the request: the batch id in the path.
type Page = (State, SignedIn, RequestMeta, web::Path<String>);
/// What a batch's action gets: the same and the form's CSRF token.
type Posted = (
    State,
    SignedIn,
    RequestMeta,
    web::Path<String>,
    web::Form<CsrfForm>,
);

/// A read of the batch of the path by a use case `read`, with its establishment's name and
/// the instant of the request.
async fn read<T: Send + 'static>(
    (state, signed_in, meta, path): &Page,
    action: AuditAction,
    read: fn(&mut DbConnection, &Deps, &Permit, &Context, i64) -> Result<T, Failure>,
) -> Result<(T, String, DateTime<Utc>), AppError> {
    let (b, permit, ctx) = open(state, (signed_in, meta), path, action, None).await?;
    let (deps, now) = (deps(state), ctx.now);
    let found = state
        .db
        .run(move |conn| read(conn, &deps, &permit, &ctx, b.id))
        .await?;
    Ok((found, establishment_name(state, &b.uai).await?, now))
}

pub async fn show_batch(page: Page) -> Result<HttpResponse, AppError> {
    let (status, name, now) = read(&page, AuditAction::BatchView, batches::status).await?;
    let chrome = chrome(&page.1);
    let view = BatchView::of(&chrome, &name, &status, now);
    Ok(no_store(batch_page(&view).into_string()))
}

pub async fn print_letters(page: Page) -> Result<HttpResponse, AppError> {
    let (letters, name, now) = read(&page, AuditAction::BatchPrint, batches::letters).await?;
    let view = LettersView {
        chrome: &chrome(&page.1),
        establishment: &name,
        portal: &page.0.portal,
        tz: page.0.tz,
        now,
    };
    Ok(no_store(letters_document(&view, &letters).into_string()))
}

pub async fn resume_batch(
    (state, signed_in, meta, path, form): Posted,
) -> Result<HttpResponse, AppError> {
    let token = Some(form.csrf_token.as_str());
    let action = AuditAction::BatchResume;
    let (b, permit, ctx) = open(&state, (&signed_in, &meta), &path, action, token).await?;
    let (key, instance) = (state.key.clone(), state.instance_id.clone());
    let (p, c) = (permit.clone(), ctx.clone());
    let resumed = state
        .db
        .run(move |conn| batches::resume(conn, &key, &p, &c, b.id, &instance))
        .await?;
    start_runner(
        &state,
        &signed_in,
        resumed.kind,
        &permit,
        &ctx,
        b.id,
        resumed.owner,
    )?;
    Ok(to_batch(resumed.kind, b.id))
}

/// A batch use case without a worker to start.
type Change = fn(&mut DbConnection, &AppKey, &Permit, &Context, i64) -> Result<(), Failure>;

/// The checks of a posted batch action, then its use case; back to the batch's page.
async fn change(
    (state, signed_in, meta, path, form): Posted,
    action: AuditAction,
    run: Change,
) -> Result<HttpResponse, AppError> {
    let token = Some(form.csrf_token.as_str());
    let (b, permit, ctx) = open(&state, (&signed_in, &meta), &path, action, token).await?;
    let key = state.key.clone();
    state
        .db
        .run(move |conn| run(conn, &key, &permit, &ctx, b.id))
        .await?;
    Ok(to_batch(b.kind, b.id))
}

pub async fn abandon_batch(posted: Posted) -> Result<HttpResponse, AppError> {
    let run: Change =
        |conn, key, permit, ctx, id| batches::abandon(conn, key, permit, ctx, id).map(drop);
    change(posted, AuditAction::BatchAbandon, run).await
}

pub async fn confirm_printed(posted: Posted) -> Result<HttpResponse, AppError> {
    change(posted, AuditAction::BatchPrinted, batches::confirm_printed).await
}
