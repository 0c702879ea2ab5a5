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

/// 200 when the database answers, else 503 with a short reason.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let outcome = state.db.run(db::ping).await;
    let (mut res, body) = match outcome {
        Ok(()) => (HttpResponse::Ok(), "ok\n".to_owned()),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                HttpResponse::ServiceUnavailable(),
                "database unavailable\n".to_owned(),
            )
        }
    };
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}
