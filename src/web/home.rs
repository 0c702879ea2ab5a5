//! The home page: the establishments the agent may act on, with which scopes and until when.

use actix_web::web;
use diesel::prelude::*;
use maud::Markup;

use super::errors::AppError;
use super::session_guard::SignedIn;
use super::views::home::{EstablishmentRights, home_page};
use super::views::layout::Chrome;
use crate::db::schema::establishments;
use crate::startup::AppState;

pub async fn show_home(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<Markup, AppError> {
    let session = signed_in.0;
    let uais: Vec<String> = session
        .agent
        .responsible_for
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect();
    let lookup = uais.clone();
    let names: Vec<(String, String)> = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>(
                establishments::table
                    .filter(establishments::uai.eq_any(lookup))
                    .select((establishments::uai, establishments::name))
                    .load(conn)?,
            )
        })
        .await?;
    let rights: Vec<EstablishmentRights> = uais
        .into_iter()
        .map(|uai| EstablishmentRights {
            name: names
                .iter()
                .find(|(u, _)| *u == uai)
                .map(|(_, n)| n.clone()),
            uai,
            scopes: vec!["Élèves", "Responsables"],
            basis: "Chef d'établissement".into(),
            until: "Tant que vous en avez la responsabilité".into(),
        })
        .collect();
    let chrome = Chrome {
        display_name: &session.agent.display_name,
        uid: &session.agent.uid,
        csrf_token: &session.csrf_token,
    };
    Ok(home_page(&chrome, &rights))
}
