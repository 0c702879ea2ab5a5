use maud::{Markup, html};

use super::layout::page;

pub fn welcome_page() -> Markup {
    page(
        "Accueil",
        html! {
            h1 { "Bienvenue" }
            p class="lead" {
                "Cet espace permet aux chefs d'établissement et aux personnels qu'ils ont délégués "
                "d'administrer les comptes des élèves et de leurs responsables : rechercher un élève, "
                "consulter l'état de son compte, réinitialiser son mot de passe et imprimer les courriers."
            }
            section aria-labelledby="qui" {
                h2 id="qui" { "Qui peut agir ?" }
                ul {
                    li { "Le chef d'établissement et ses adjoints, sur les établissements dont ils ont la responsabilité." }
                    li { "Les personnels de l'établissement auxquels il a délégué ce droit (DelegCE), pour la durée de la délégation." }
                }
            }
        },
    )
}
