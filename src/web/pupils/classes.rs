//! Letters for a division: the class form and the new batch (`usecases::batches::create`).

use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::accounts::Kind;
use super::super::calls::choose_for;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::forms::parse_body;
use super::super::guard::{Attempt, Checks, State, admit, permit, requested_uai};
use super::super::request::RequestMeta;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{ClassFormView, class_form_page};
use super::batch_pages::{start_runner, to_batch};
use super::class_refusals::{form_again, new_key};
use crate::accounts::AccountKind;
use crate::accounts::AccountState;
use crate::delegation::policy::Permit;
use crate::domain::Uai;
use crate::usecases::Context;
use crate::usecases::batches::{self, ClassChoice, Created, Deps};

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

impl ClassForm {
    fn parse(body: &[u8]) -> Result<Self, AppError> {
        parse_body(body)
    }

    /// The choices, typed.
    fn choice(&self, kind: AccountKind) -> ClassChoice {
        let (division, cle, renotify) = (&self.division, &self.cle, &self.renotifier);
        ClassChoice::from_form(kind, division, &self.etat, cle, renotify)
    }
}

/// What the batch use cases need from the application.
pub(super) fn deps(state: &State) -> Deps {
    Deps {
        key: state.key.clone(),
        tz: state.tz,
        directory: state.directory.clone(),
    }
}

/// The permit of `attempt` on `uai`, then what the route requires (the parents' gate for
/// parents' batches, the CSRF token `csrf` of a POST); the audit context of the use case
/// that follows (with the gate passed).
pub(super) async fn guarded(
    kind: AccountKind,
    (state, signed_in, meta): (&State, &SignedIn, &RequestMeta),
    uai: &Uai,
    attempt: &Attempt,
    csrf: Option<&str>,
) -> Result<(Permit, Context), AppError> {
    let action = batches::action_for(kind);
    let permit = permit(state, signed_in, meta, action, uai, attempt).await?;
    let checks = Checks::of_kind(kind, uai, attempt, csrf);
    let admitted = admit(state, signed_in, meta, checks).await?;
    Ok((permit, admitted.ctx))
}

/// What the class form gets from the request.
type FormRequest = (State, SignedIn, RequestMeta, web::Query<ClassQuery>);
/// What the form's submission gets (the body is parsed by hand: repeated `etat` fields).
type Submission = (State, SignedIn, RequestMeta, web::Bytes);

/// `GET /depannage/{kind}/classe`: the class letters' form.
pub async fn class_form<K: Kind>(
    (state, signed_in, meta, q): FormRequest,
) -> Result<Markup, AppError> {
    let kind = K::KIND;
    if q.uai.as_deref().is_none_or(|u| u.trim().is_empty()) {
        let action = batches::action_for(kind);
        return Err(choose_for(&state, (&signed_in, &meta), action).await);
    }
    let uai = requested_uai(q.uai.as_deref())?;
    let attempt = Attempt::new(batches::create_action(kind));
    let who = (&state, &signed_in, &meta);
    let (permit, _) = guarded(kind, who, &uai, &attempt, None).await?;
    let divisions = state
        .db
        .run(move |conn| batches::divisions(conn, &permit))
        .await?;
    Ok(class_form_page(&ClassFormView {
        chrome: &chrome(&signed_in),
        kind,
        uai: uai.as_str(),
        establishment: &establishment_name(&state, &uai).await?,
        divisions: &divisions,
        division: &q.division,
        states: &[AccountState::NonNotifie],
        renotify: false,
        key: &new_key()?,
        error: None,
        running: None,
    }))
}

/// `POST /depannage/{kind}/classe`: the batch of a class's letters, started.
pub async fn create_batch<K: Kind>(
    (state, signed_in, meta, body): Submission,
) -> Result<HttpResponse, AppError> {
    let kind = K::KIND;
    let form = ClassForm::parse(&body)?;
    let uai = requested_uai(Some(&form.uai))?;
    let attempt = Attempt::new(batches::create_action(kind));
    let who = (&state, &signed_in, &meta);
    let token = Some(form.csrf_token.as_str());
    let (permit, ctx) = guarded(kind, who, &uai, &attempt, token).await?;
    let choice = form.choice(kind);
    let (deps, instance) = (deps(&state), state.instance_id.clone());
    let (p, c, ch) = (permit.clone(), ctx.clone(), choice.clone());
    let created = state
        .db
        .run(move |conn| Ok::<_, AppError>(batches::create(conn, &deps, &p, &c, &ch, &instance)))
        .await?;
    match created {
        Ok(Created::New { id, owner }) => {
            start_runner(&state, &signed_in, kind, &permit, &ctx, id, owner)?;
            Ok(to_batch(kind, id))
        }
        Ok(Created::Existing(id)) => Ok(to_batch(kind, id)),
        Err(refused) => form_again(&state, &signed_in, permit, &choice, refused).await,
    }
}
