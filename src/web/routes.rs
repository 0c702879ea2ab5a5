//! The one route table.

use actix_web::{HttpResponse, web};

use super::import_page;
use super::parents::{record as parent_record, search as parent_search};
use super::pupils::{batch_pages, classes, record, search, stats};
use super::{
    BASE, assets, delegation_changes, delegations, errors, health, home, journal, otp, signin,
    transfers,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(redirect_to_base))
        .route(BASE, web::get().to(redirect_to_base))
        .service(
            web::scope(BASE)
                .route("/", web::get().to(home::show_home))
                .route("/connexion", web::get().to(signin::sign_in_form))
                .route("/connexion", web::post().to(signin::sign_in))
                .route("/deconnexion", web::post().to(signin::sign_out))
                .route("/otp", web::get().to(otp::otp_form))
                .route("/otp", web::post().to(otp::check_code))
                .route("/otp/enrolement", web::get().to(otp::enrol_form))
                .route("/otp/enrolement", web::post().to(otp::start_enrolment))
                .route(
                    "/otp/enrolement/confirmation",
                    web::post().to(otp::confirm_enrolment),
                )
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
                .route("/import", web::get().to(import_page::import_form))
                .route("/import", web::post().to(import_page::run_import))
                .route("/transferts", web::get().to(transfers::show_transfers))
                .route(
                    "/transferts/{id}/acceptation",
                    web::post().to(transfers::accept_transfer),
                )
                .route("/depannage/eleve", web::get().to(search::search_pupils))
                .route(
                    "/depannage/responsable",
                    web::get().to(parent_search::search_parents),
                )
                .route(
                    "/depannage/responsable/classe",
                    web::get().to(classes::class_form_parents),
                )
                .route(
                    "/depannage/responsable/classe",
                    web::post().to(classes::create_batch_parents),
                )
                .route(
                    "/depannage/responsable/lots/{id}",
                    web::get().to(batch_pages::show_batch),
                )
                .route(
                    "/depannage/responsable/lots/{id}/courriers",
                    web::get().to(batch_pages::print_letters),
                )
                .route(
                    "/depannage/responsable/lots/{id}/reprise",
                    web::post().to(batch_pages::resume_batch),
                )
                .route(
                    "/depannage/responsable/lots/{id}/impression",
                    web::post().to(batch_pages::confirm_printed),
                )
                .route(
                    "/depannage/responsable/{id}",
                    web::get().to(parent_record::show_parent),
                )
                .route(
                    "/depannage/responsable/{id}/coordonnees",
                    web::post().to(parent_record::show_contacts),
                )
                .route(
                    "/depannage/responsable/{id}/reinitialisation",
                    web::post().to(parent_record::reset_password),
                )
                .route(
                    "/depannage/responsable/{id}/{change}",
                    web::post().to(parent_record::change_state),
                )
                .route(
                    "/depannage/eleve/classe",
                    web::get().to(classes::class_form_pupils),
                )
                .route(
                    "/depannage/eleve/classe",
                    web::post().to(classes::create_batch_pupils),
                )
                .route(
                    "/depannage/eleve/statistiques",
                    web::get().to(stats::show_stats),
                )
                .route(
                    "/depannage/eleve/export.csv",
                    web::get().to(stats::export_division),
                )
                .route(
                    "/depannage/eleve/lots/{id}",
                    web::get().to(batch_pages::show_batch),
                )
                .route(
                    "/depannage/eleve/lots/{id}/courriers",
                    web::get().to(batch_pages::print_letters),
                )
                .route(
                    "/depannage/eleve/lots/{id}/reprise",
                    web::post().to(batch_pages::resume_batch),
                )
                .route(
                    "/depannage/eleve/lots/{id}/impression",
                    web::post().to(batch_pages::confirm_printed),
                )
                .route("/depannage/eleve/{id}", web::get().to(record::show_pupil))
                .route(
                    "/depannage/eleve/{id}/reinitialisation",
                    web::get().to(record::confirm_reset),
                )
                .route(
                    "/depannage/eleve/{id}/reinitialisation",
                    web::post().to(record::reset_password),
                )
                .route(
                    "/depannage/eleve/{id}/{change}",
                    web::post().to(record::change_state),
                )
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
