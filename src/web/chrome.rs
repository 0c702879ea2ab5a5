//! What every signed-in page shares: the chrome (who is signed in), an establishment's
//! name, the no-store response for pages that show a password.

use actix_web::HttpResponse;
use actix_web::http::header;

use super::errors::AppError;
use super::session_guard::SignedIn;
use super::state::AppState;
use super::views::layout::Chrome;
use crate::domain::Uai;
use crate::establishments;

pub fn chrome(s: &SignedIn) -> Chrome<'_> {
    Chrome {
        display_name: &s.0.agent.display_name,
        uid: &s.0.agent.uid,
        csrf_token: &s.0.csrf_token,
    }
}

/// The establishment's name, or its UAI when it is not in the database.
pub async fn establishment_name(state: &AppState, uai: &Uai) -> Result<String, AppError> {
    let key = uai.clone();
    let name = state
        .db
        .run(move |conn| Ok::<_, AppError>(establishments::name_of(conn, &key)?))
        .await?;
    Ok(name.unwrap_or_else(|| uai.to_string()))
}

/// A page that must not be kept by the browser or any cache (it shows a password).
pub fn no_store(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .body(body)
}
