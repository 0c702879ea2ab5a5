//! One pupil's or parent's record (`/depannage/{eleve|responsable}/{id}/…`): one set of
//! handlers for both kinds ([`record`]), which open the account through the use case
//! (the rights on the establishment it belongs to; a parent through his children) and then
//! apply the kind's hooks: the parents' gate here, the kind's page in [`pages`].

mod pages;
pub mod record;

use super::calls;
use super::errors::AppError;
use super::guard::{Admitted, Attempt, Checks, State, admit};
use super::parents_gate::Gate;
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::accounts::store::AccountRef;
use crate::accounts::store::StoreError;
use crate::accounts::{AccountKind, AccountOp};
use crate::db::DbConnection;
use crate::secrets::AppKey;
use crate::usecases::accounts::{Opened, Wanted, keep_status, open, read_remote};
use crate::usecases::{Context, Failure};

/// The account kind of a route (`record::show::<Pupils>`).
pub trait Kind: 'static {
    const KIND: AccountKind;
}

/// `/depannage/eleve/…`
pub struct Pupils;
/// `/depannage/responsable/…`
pub struct Parents;

impl Kind for Pupils {
    const KIND: AccountKind = AccountKind::Pupil;
}

impl Kind for Parents {
    const KIND: AccountKind = AccountKind::Parent;
}

/// An account opened by this request, with the use cases' context (its gate included).
pub(super) struct Visit {
    pub opened: Opened,
    pub ctx: Context,
    pub gate: Option<Gate>,
    /// The account store did not answer: the state is the index's last known one.
    pub stale: bool,
}

/// Opens the account of the path for `op` (404 for an id that does not parse), then passes
/// what the route and the kind require (the parents' gate for a parent, the form's CSRF
/// token for a POST: `csrf`).
pub(super) async fn visit(
    state: &State,
    (signed_in, meta): (&SignedIn, &RequestMeta),
    (kind, id): (AccountKind, &str),
    (uai, csrf): (Option<&str>, Option<&str>),
    op: AccountOp,
) -> Result<Visit, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let account = AccountRef { kind, id };
    let uai = uai.map(str::to_owned);
    let mut opened = calls::call(state, signed_in, meta, move |conn, c| {
        let wanted = Wanted {
            account,
            op,
            uai: uai.as_deref(),
        };
        open(conn, &c.caller(), wanted)
    })
    .await?;
    tracing::Span::current().record("uai", opened.permit.uai().as_str());
    let attempt = Attempt::new(kind.action(op)).on(kind.target(), id);
    let checks = Checks::of_kind(kind, opened.permit.uai(), &attempt, csrf);
    let Admitted { gate, ctx } = admit(state, signed_in, meta, checks).await?;
    let stale = !fresh_state(state, &mut opened, &ctx).await?;
    Ok(Visit {
        opened,
        ctx,
        gate,
        stale,
    })
}

/// Reads the account's state from a remote store (a directory), holding no database
/// connection meanwhile, and keeps it; `false` when the store did not answer (the page
/// shows the index's last known state and says so).
async fn fresh_state(state: &State, opened: &mut Opened, ctx: &Context) -> Result<bool, AppError> {
    if !state.accounts.is_remote() {
        return Ok(true);
    }
    let (store, read, now) = (state.accounts.clone(), opened.clone(), ctx.now);
    let said = actix_web::web::block(move || read_remote(&*store, &read, now))
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))?;
    let status = match said {
        Ok(Some(status)) => status,
        Ok(None) => return Ok(true),
        Err(StoreError::Unavailable(e)) => {
            tracing::warn!(error = %e, "account store unavailable: state not refreshed");
            return Ok(false);
        }
        // An entry missing or duplicated: the index's state is shown; a write names it.
        Err(e) => {
            tracing::warn!(error = %e, "account store: state not refreshed");
            return Ok(true);
        }
    };
    let mut kept = opened.clone();
    let kept = state
        .db
        .run(move |conn| {
            keep_status(conn, &mut kept, &status, now)?;
            Ok::<_, AppError>(kept)
        })
        .await?;
    *opened = kept;
    Ok(true)
}

/// Runs a use case on the visited account, on the blocking pool.
pub(super) async fn call<T, F>(state: &State, v: &Visit, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, &AppKey, &Context, &Opened) -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    let (key, ctx, opened) = (state.key.clone(), v.ctx.clone(), v.opened.clone());
    state
        .db
        .run(move |conn| f(conn, &key, &ctx, &opened).map_err(AppError::from))
        .await
}
