//! The principal's screen of pending transfers.

use super::parts::{csrf_field, listing, notice};
use crate::web::paths;
use maud::{Markup, html};

use super::layout::{Chrome, page};

pub use crate::import::transfer_lines::TransferLine;

pub struct TransfersView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub uai: &'a str,
    pub establishment: &'a str,
    /// This establishment's pupils claimed by another one.
    pub to_accept: &'a [TransferLine],
    /// Pupils this establishment's imports claimed, still current elsewhere.
    pub requested: &'a [TransferLine],
    pub notice: Option<&'a str>,
}

pub fn transfers_page(v: &TransfersView<'_>) -> Markup {
    page(
        "Transferts d'élèves",
        Some(v.chrome),
        html! {
            h1 { "Transferts d'élèves en attente" }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            (notice(v.notice))
            h2 { "Vos élèves demandés par un autre établissement" }
            p { "Un autre établissement a importé ces élèves (même INE, même nom, même date de naissance). "
                "Ils le rejoindront quand votre prochain import enregistrera leur départ, ou dès que vous acceptez le transfert. "
                "L'élève garde son identifiant ; ses responsables, ses courriers et son compte ne sont visibles de l'autre établissement qu'après le transfert." }
            (listing(v.to_accept.is_empty(), "Aucun transfert n'attend votre accord.", &["Élève", "Classe", "Né(e) le", "Établissement demandeur", "Demandé le", "Action"], html! {
                        @for t in v.to_accept {
                            tr {
                                td { (t.pupil) } td { (t.division) } td { (t.birth_date) }
                                td { (t.other) } td { (t.requested_at) }
                                td {
                                    form method="post" action=(paths::transfer_acceptance(t.id)) {
                                        (csrf_field(v.chrome.csrf_token))
                                        input type="hidden" name="eleve" value=(t.pupil_id);
                                        button type="submit" { "Accepter le transfert" }
                                    }
                                }
                            }
                        }
                    }))
            h2 { "Élèves demandés par votre établissement" }
            (listing(v.requested.is_empty(), "Aucun élève de vos imports n'attend d'être libéré par son établissement d'origine.", &["Élève (selon votre fichier)", "Classe", "Né(e) le", "Encore inscrit(e) à", "Demandé le"], html! {
                        @for t in v.requested {
                            tr { td { (t.pupil) } td { (t.division) } td { (t.birth_date) } td { (t.other) } td { (t.requested_at) } }
                        }
                    }))
        },
    )
}
