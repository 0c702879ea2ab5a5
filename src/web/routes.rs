//! The one route table.

use actix_web::{HttpResponse, web};

use super::{BASE, assets, delegation_changes, delegations, errors, health, home, journal, signin};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(redirect_to_base))
        .route(BASE, web::get().to(redirect_to_base))
        .service(
            web::scope(BASE)
                .route("/", web::get().to(home::show_home))
                .route("/connexion", web::get().to(signin::sign_in_form))
                .route("/connexion", web::post().to(signin::sign_in))
                .route("/deconnexion", web::post().to(signin::sign_out))
                .route("/delegations", web::get().to(delegations::show_delegations))
                .route(
                    "/delegations",
                    web::post().to(delegations::grant_delegation),
                )
                .route(
                    "/delegations/{id}/revocation",
                    web::get().to(delegation_changes::confirm_revocation),
                )
                .route(
                    "/delegations/{id}/revocation",
                    web::post().to(delegation_changes::revoke_delegation),
                )
                .route(
                    "/delegations/{id}/prolongation",
                    web::post().to(delegation_changes::extend_delegation),
                )
                .route("/journal", web::get().to(journal::show_journal))
                .route("/journal.csv", web::get().to(journal::export_journal))
                .route("/health/live", web::get().to(health::live))
                .route("/health/ready", web::get().to(health::ready))
                .route("/assets/{file}", web::get().to(assets::serve_asset)),
        )
        .default_service(web::to(errors::not_found));
}

async fn redirect_to_base() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", format!("{BASE}/")))
        .finish()
}
