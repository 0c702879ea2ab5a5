//! What a batch shows: where it stands, and its letters (which accounts, whose letter, a
//! parent's naming only his children of the batch's establishment).

use secrecy::SecretString;

use super::{Deps, agent_name, kind_of, owned_batch};
use crate::accounts::AccountKind;
use crate::accounts::batch::{self, Batch, Progress};
use crate::accounts::parents;
use crate::accounts::provisional::expiry;
use crate::accounts::pupils;
use crate::audit::AuditAction;
use crate::db::DbConnection;
use crate::delegation::policy::Permit;
use crate::usecases::accounts::LetterFacts;
use crate::usecases::{Context, Failure};

/// Where a batch stands, for its page.
#[derive(Debug, Clone)]
pub struct Status {
    pub batch: Batch,
    pub progress: Progress,
    /// Whom the work ran for, named, when a rights check stopped it.
    pub acting_name: Option<String>,
}

/// The batch `id` and its progress, when the actor may handle it.
pub fn status(
    conn: &mut DbConnection,
    deps: &Deps,
    permit: &Permit,
    ctx: &Context,
    id: i64,
) -> Result<Status, Failure> {
    let batch = owned_batch(conn, &deps.key, permit, ctx, id, AuditAction::BatchView)?;
    let progress = batch::counts(conn, id)?;
    let acting_name = batch
        .interruption
        .map(|_| agent_name(&*deps.directory, &batch.acting_uid));
    Ok(Status {
        batch,
        progress,
        acting_name,
    })
}

/// The letters to print.
pub struct Letters {
    pub batch: Batch,
    pub items: Vec<LetterFacts>,
}

/// The letters of the accounts done and still in the batch, in order, their passwords
/// unsealed; refused once the passwords are wiped (409).
pub fn letters(
    conn: &mut DbConnection,
    deps: &Deps,
    permit: &Permit,
    ctx: &Context,
    id: i64,
) -> Result<Letters, Failure> {
    let batch = owned_batch(conn, &deps.key, permit, ctx, id, AuditAction::BatchPrint)?;
    if !batch.passwords_available(ctx.now) {
        return Err(Failure::conflict(
            "Les mots de passe de ce lot ont été effacés : créez un nouveau lot si besoin.",
        ));
    }
    let mut items = Vec::new();
    for (account, sealed) in batch::sealed_passwords(conn, id)? {
        let Some(sealed) = sealed else { continue };
        let Some(mut item) = addressee(conn, &batch, account, ctx)? else {
            continue;
        };
        item.password = unseal(deps, id, account, &sealed)?;
        items.push(item);
    }
    Ok(Letters { batch, items })
}

/// Whom the letter of `account` goes to, if he still belongs to the batch's establishment
/// (a pupil who moved away since does not; a parent through a child there only).
fn addressee(
    conn: &mut DbConnection,
    b: &Batch,
    account: i64,
    ctx: &Context,
) -> Result<Option<LetterFacts>, Failure> {
    // The password is unsealed once the letter is known to go out.
    let no_password = || SecretString::from(String::new());
    let expires = |at: Option<_>| at.unwrap_or_else(|| expiry(ctx.now));
    Ok(match kind_of(b) {
        AccountKind::Pupil => pupils::find(conn, account)?
            .filter(|p| p.uai == b.uai)
            .map(|p| LetterFacts::pupil(&p, no_password(), expires(p.provisional_expires_at))),
        AccountKind::Parent => match parents::find(conn, account)? {
            None => None,
            Some(p) => {
                let kids = parents::children(conn, p.id, &b.uai)?;
                let e = expires(p.provisional_expires_at);
                (!kids.is_empty()).then(|| LetterFacts::parent(&p, &kids, no_password(), e))
            }
        },
    })
}

/// The password sealed for this batch and this account.
fn unseal(deps: &Deps, id: i64, account: i64, sealed: &str) -> Result<SecretString, Failure> {
    let clear = deps
        .key
        .open(batch::SEAL_PURPOSE, &batch::binding(id, account), sealed)
        .map_err(|e| Failure::internal(e.to_string()))?;
    let text =
        String::from_utf8(clear).map_err(|_| Failure::internal("sealed password is not text"))?;
    Ok(SecretString::from(text))
}
