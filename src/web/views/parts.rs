//! The pieces every page is built from: a change's notice, a form's CSRF field, a table's
//! heading row, a table or the sentence saying it is empty, the print button.

use maud::{Markup, html};

/// The notice at the top of a page after a change (`role="status"`: read out when it shows).
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(n) = text { p class="message message--success" role="status" { (n) } }
    }
}

/// The session's CSRF token, in every form that POSTs.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// A table's heading row: one column heading per name.
pub fn head(columns: &[&str]) -> Markup {
    html! { thead { tr { @for c in columns { th scope="col" { (c) } } } } }
}

/// A table of `rows` under its heading, or the sentence `empty` when there is `nothing`.
pub fn listing(nothing: bool, empty: &str, columns: &[&str], rows: Markup) -> Markup {
    html! {
        @if nothing {
            p { (empty) }
        } @else {
            table { (head(columns)) tbody { (rows) } }
        }
    }
}

/// The « Imprimer » button of a page of letters: hidden until the assets' script shows it
/// and binds it to the browser's print (no inline script); without JavaScript the page says
/// Ctrl+P.
pub fn print_button() -> Markup {
    html! {
        button type="button" class="secondary" data-imprimer hidden { "Imprimer" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_escape_what_they_are_given() {
        assert_eq!(notice(None).into_string(), "");
        assert!(notice(Some("<b>")).into_string().contains("&lt;b&gt;"));
        assert_eq!(
            csrf_field("a\"b").into_string(),
            r#"<input type="hidden" name="csrf_token" value="a&quot;b">"#
        );
        assert_eq!(
            head(&["Nom", "État"]).into_string(),
            r#"<thead><tr><th scope="col">Nom</th><th scope="col">État</th></tr></thead>"#
        );
        let rows = html! { tr { td { "x" } } };
        assert_eq!(
            listing(true, "Aucun.", &["A"], rows.clone()).into_string(),
            "<p>Aucun.</p>"
        );
        assert!(
            listing(false, "Aucun.", &["A"], rows)
                .into_string()
                .ends_with("<tbody><tr><td>x</td></tr></tbody></table>")
        );
    }
}
