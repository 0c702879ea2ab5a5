//! Health endpoints, for load balancers and supervisors (no sign-in).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::db;
use crate::web::state::AppState;

/// 200 while the process runs.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// 200 when the database and the account store answer, else 503 with a short reason.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let outcome = state.db.run(db::ping).await;
    let store = state.accounts.clone();
    let accounts = match outcome {
        Ok(()) => web::block(move || store.ping()).await.ok(),
        Err(_) => None,
    };
    let (mut res, body) = match (outcome, accounts) {
        (Ok(()), Some(Ok(()))) => (HttpResponse::Ok(), "ok\n"),
        (Err(e), _) => {
            tracing::warn!(error = %e, "readiness check failed");
            (HttpResponse::ServiceUnavailable(), "database unavailable\n")
        }
        (Ok(()), answer) => {
            tracing::warn!(?answer, "readiness check failed: account store");
            (
                HttpResponse::ServiceUnavailable(),
                "account store unavailable\n",
            )
        }
    };
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
