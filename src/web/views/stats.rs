use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::accounts::AccountState;
use crate::web::paths;

pub struct DivisionStats {
    pub division: String,
    /// Counts in the order of `AccountState::ALL`.
    pub by_state: [i64; 5],
}

impl DivisionStats {
    fn total(&self) -> i64 {
        self.by_state.iter().sum()
    }
    fn active(&self) -> i64 {
        self.by_state[2]
    }
}

fn rate(active: i64, total: i64) -> String {
    if total == 0 {
        return "—".into();
    }
    format!("{:.0} %", active as f64 * 100.0 / total as f64)
}

pub fn stats_page(
    chrome: &Chrome<'_>,
    uai: &str,
    establishment: &str,
    rows: &[DivisionStats],
) -> Markup {
    let mut all = [0i64; 5];
    for r in rows {
        for (i, n) in r.by_state.iter().enumerate() {
            all[i] += n;
        }
    }
    let total: i64 = all.iter().sum();
    page(
        "Statistiques",
        Some(chrome),
        html! {
            h1 { "Statistiques des comptes élèves" }
            p class="lead" { (establishment) " " span class="uai" { "(" (uai) ")" } }
            p { "Taux d'activation : " strong { (rate(all[2], total)) } " (" (all[2]) " comptes activés sur " (total) ")" }
            table {
                thead { tr {
                    th scope="col" { "Classe" }
                    @for s in AccountState::ALL { th scope="col" { (s.label()) } }
                    th scope="col" { "Total" } th scope="col" { "Activation" } th scope="col" { span class="visually-hidden" { "Export" } }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            th scope="row" { (r.division) }
                            @for n in r.by_state { td { (n) } }
                            td { (r.total()) } td { (rate(r.active(), r.total())) }
                            td { a href=(paths::division_csv(uai, &r.division)) { "CSV" } }
                        }
                    }
                    tr {
                        th scope="row" { "Établissement" }
                        @for n in all { td { (n) } }
                        td { (total) } td { (rate(all[2], total)) } td {}
                    }
                }
            }
        },
    )
}
