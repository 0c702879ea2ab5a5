//! The class form's refusals: the form again with a French message (400), or, when some
//! accounts are in an unfinished batch, which one (409) without revealing another
//! establishment's.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};

use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{State, record_refusal};
use super::super::session_guard::SignedIn;
use super::super::views::batch::{BATCH_STATES, ClassFormView, class_form_page};
use super::classes::new_key;
use crate::accounts::AccountKind;
use crate::accounts::AccountState;
use crate::audit::AuditEvent;
use crate::delegation::policy::Permit;

/// Shown when "Notifié" or "Activé" is ticked without the explicit choice.
pub const RENOTIFY_WARNING: &str = "Vous avez choisi des comptes qui ont déjà reçu un courrier : \
    leur nouveau mot de passe rendra inutilisables les courriers déjà remis. Cochez la case \
    « Je confirme » pour le faire quand même, ou ne gardez que les comptes non notifiés.";

pub(super) const EXPIRED: &str = "Le formulaire a expiré : rechargez la page et recommencez.";

/// The states ticked on the form, each once; any unknown value leaves none (refused).
pub(super) fn chosen_states(values: &[String]) -> Vec<AccountState> {
    let mut states = Vec::new();
    for s in values {
        match AccountState::parse(s).filter(|s| BATCH_STATES.contains(s)) {
            Some(s) if !states.contains(&s) => states.push(s),
            Some(_) => {}
            None => return Vec::new(),
        }
    }
    states
}

/// What is wrong with the submitted class form, in French, if anything.
pub(super) fn form_problem(
    division_known: bool,
    states: &[AccountState],
    ticked: usize,
    key: &str,
    renotify: bool,
) -> Option<&'static str> {
    let key_ok = (16..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !division_known {
        Some("Choisissez une classe de l'établissement.")
    } else if states.is_empty() || states.len() != ticked {
        Some("Cochez au moins un état de compte (non notifié, notifié, activé).")
    } else if !key_ok {
        Some(EXPIRED)
    } else if !renotify && states.iter().any(|s| *s != AccountState::NonNotifie) {
        Some(RENOTIFY_WARNING)
    } else {
        None
    }
}

/// Records the refused attempt, then shows the form again with the message.
pub(super) async fn refuse(
    state: &State,
    signed_in: &SignedIn,
    again: &FormAgain<'_>,
    event: AuditEvent,
    message: &str,
    running: Option<(i64, bool)>,
) -> Result<HttpResponse, AppError> {
    record_refusal(state, event).await?;
    refused_form(state, signed_in, again, message, running).await
}

/// The class form as it was submitted, to show it again with a message.
pub(super) struct FormAgain<'a> {
    pub(super) kind: AccountKind,
    pub(super) uai: &'a crate::domain::Uai,
    pub(super) divisions: &'a [(String, i64)],
    pub(super) division: &'a str,
    pub(super) states: &'a [AccountState],
    pub(super) renotify: bool,
}

/// The form again, with the message: 400 for bad input, 409 when the accounts are in a
/// running batch (shown with a link to it).
async fn refused_form(
    state: &State,
    signed_in: &SignedIn,
    again: &FormAgain<'_>,
    message: &str,
    running: Option<(i64, bool)>,
) -> Result<HttpResponse, AppError> {
    let name = establishment_name(state, again.uai).await?;
    let body = class_form_page(&ClassFormView {
        prefix: again.kind.path_segment(),
        chrome: &chrome(signed_in),
        uai: again.uai.as_str(),
        establishment: &name,
        divisions: again.divisions,
        division: again.division,
        states: again.states,
        renotify: again.renotify,
        key: &new_key()?,
        error: Some(message),
        running: running.and_then(|(id, visible)| visible.then_some(id)),
    });
    let status = if running.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into_string()))
}

/// Why the batch is refused: some accounts are in an unfinished batch. Of this
/// establishment: which one, by whom, and a link when the agent may open it (its creator, a
/// principal). Of another establishment (a parent with children in two schools): nothing
/// about it. Returns (message, link shown).
pub(super) async fn overlap_message(
    state: &State,
    signed_in: &SignedIn,
    permit: &Permit,
    uai: &crate::domain::Uai,
    batch_id: i64,
    accounts: i64,
) -> Result<(String, bool), AppError> {
    let found = state
        .db
        .run(move |conn| Ok::<_, AppError>(crate::accounts::batch::find(conn, batch_id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let (who, verb) = if accounts > 1 {
        (format!("{accounts} des comptes choisis"), "sont")
    } else {
        ("Un des comptes choisis".to_owned(), "est")
    };
    if &found.uai != uai {
        return Ok((
            format!(
                "{who} {verb} déjà dans un lot de courriers d'un autre établissement, qui n'est pas \
                 terminé : un compte ne peut être que dans un lot à la fois. Réessayez plus tard \
                 (24 heures au plus), ou choisissez d'autres comptes."
            ),
            false,
        ));
    }
    let creator = agent_name(state, &found.created_by).await;
    let at = found.created_at.with_timezone(&state.tz);
    let visible = found.created_by == signed_in.0.agent.uid
        || permit.basis() == &crate::delegation::policy::Basis::Principal;
    let next = if visible {
        "Terminez-le avant d'en créer un autre : reprenez-le ou abandonnez ce qui reste, puis \
         imprimez les courriers et confirmez l'impression."
            .to_owned()
    } else {
        format!("Demandez à {creator} ou au chef d'établissement de le terminer.")
    };
    Ok((
        format!(
            "{who} {verb} déjà dans le lot de courriers de la classe {} créé par {creator} le {} à \
             {}, qui n'est pas terminé. Un compte ne peut être que dans un lot à la fois. {next}",
            found.division,
            at.format("%d/%m/%Y"),
            at.format("%H:%M"),
        ),
        visible,
    ))
}

/// A staff member's name as the directory gives it (never his uid on a page).
pub(super) async fn agent_name(state: &State, uid: &str) -> String {
    let directory = state.directory.clone();
    let parsed = crate::domain::AgentUid::parse(uid);
    let found = match parsed {
        Some(uid) => actix_web::web::block(move || directory.lookup(&uid))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten(),
        None => None,
    };
    found
        .map(|a| a.display_name)
        .unwrap_or_else(|| "un autre personnel".to_owned())
}
