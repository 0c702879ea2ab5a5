use maud::Markup;

use super::views;

/// The welcome page.
pub async fn welcome_page() -> Markup {
    views::welcome::welcome_page()
}
