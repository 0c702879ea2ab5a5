use super::parts::csrf_field;
use crate::web::paths;
use base64::Engine;
use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::import::apply::ImportReport;

pub struct ImportView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub uai: &'a str,
    pub establishment: &'a str,
    /// The school year field (for CSV files), as typed or today's.
    pub school_year: &'a str,
    pub error: Option<&'a str>,
    /// The report, and whether it was a dry run.
    pub report: Option<(&'a ImportReport, bool)>,
    /// The warnings as CSV (formulas neutralised), offered for download.
    pub report_csv: Option<&'a [u8]>,
}

pub fn import_page(v: &ImportView<'_>) -> Markup {
    page(
        "Importer les élèves et les responsables",
        Some(v.chrome),
        html! {
            h1 { "Importer les élèves et les responsables" }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            @if let Some(e) = v.error { p class="message message--error" role="alert" { (e) } }
            @if let Some((r, dry)) = v.report {
                section class="message message--success" role="status" {
                    h2 { @if dry { "Simulation : rien n'a été modifié" } @else { "Import terminé" } }
                    ul {
                        li { "Élèves : " (r.created) " créés, " (r.updated) " mis à jour, " (r.unchanged) " inchangés, " (r.leaving) " sortants" }
                        li { "Responsables : " (r.parents_created) " créés, " (r.parents_updated) " mis à jour ; liens modifiés : " (r.links_changed) }
                        li { "Transferts : " (r.moved_in.len()) " arrivés d'un autre établissement, " (r.pending.len()) " en attente, " (r.moved_out.len()) " partis vers l'établissement qui les avait demandés" }
                        li { (r.warnings.len()) " avertissement" @if r.warnings.len() != 1 { "s" } }
                    }
                    @if !r.moved_in.is_empty() {
                        h3 { "Élèves qui arrivent d'un autre établissement" }
                        ul { @for l in &r.moved_in { li { (l) } } }
                    }
                    @if !r.pending.is_empty() {
                        h3 { "Transferts en attente de l'établissement d'origine" }
                        ul { @for l in &r.pending { li { (l) } } }
                    }
                    @if !r.moved_out.is_empty() {
                        h3 { "Élèves partis vers l'établissement qui les avait demandés" }
                        ul { @for l in &r.moved_out { li { (l) } } }
                    }
                    @if !r.directory.is_empty() {
                        h3 { "Annuaire des comptes" }
                        ul { @for l in r.directory.iter().take(200) { li { (l) } } }
                    }
                    @if let Some(csv) = v.report_csv {
                        @if !r.warnings.is_empty() {
                            p { a download=(format!("import-{}-avertissements.csv", v.uai))
                                href=(format!("data:text/csv;base64,{}", base64::engine::general_purpose::STANDARD.encode(csv))) { "Télécharger les avertissements (CSV)" } }
                            ul { @for w in r.warnings.iter().take(200) { li { (w) } } }
                        }
                    }
                }
            }
            p class="no-print" { a href=(paths::transfers(Some(v.uai))) { "Transferts d'élèves en attente" } }
            form method="post" action=(paths::import(None::<&str>)) enctype="multipart/form-data" {
                (csrf_field(v.chrome.csrf_token))
                input type="hidden" name="uai" value=(v.uai);
                fieldset {
                    legend { "Format" }
                    div class="choice" { input type="radio" name="format" id="f-siecle" value="siecle" checked; label for="f-siecle" { "Exports SIECLE (XML)" } }
                    div class="choice" { input type="radio" name="format" id="f-csv" value="csv"; label for="f-csv" { "Fichiers CSV" } }
                }
                div class="field" { label for="eleves" { "Élèves (ElevesSansAdresses.xml ou eleves.csv)" } input type="file" id="eleves" name="eleves" required; }
                div class="field" { label for="responsables" { "Responsables (ResponsablesAvecAdresses.xml ou responsables.csv, facultatif)" } input type="file" id="responsables" name="responsables"; }
                div class="field" { label for="annee" { "Année scolaire des fichiers CSV (année de la rentrée, par exemple 2026 pour 2026-2027 ; les exports SIECLE la donnent eux-mêmes)" } input type="text" id="annee" name="annee" value=(v.school_year) inputmode="numeric" maxlength="9"; }
                div class="choice" { input type="checkbox" name="dry_run" id="dry_run" value="1"; label for="dry_run" { "Simuler seulement (ne rien modifier)" } }
                button type="submit" { "Importer" }
            }
        },
    )
}
