//! Assertions on parsed HTML: what a page shows is found by its structure (an input's name,
//! a definition list's term, a CSS selector), not by cutting its text at string offsets.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};

/// A parsed page.
pub struct Page(Html);

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
}

/// An element's text, white space folded.
fn text_of(el: ElementRef<'_>) -> String {
    el.text()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `<dt>` → `<dd>` pairs of the definition lists in `el`, texts folded.
fn definitions_of(el: ElementRef<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for dl in el.select(&selector("dl")) {
        let mut term = None;
        for child in dl.child_elements() {
            match child.value().name() {
                "dt" => term = Some(text_of(child)),
                "dd" => {
                    if let Some(t) = term.take() {
                        out.insert(t, text_of(child));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

impl Page {
    pub fn parse(html: &str) -> Self {
        Self(Html::parse_document(html))
    }

    /// The texts of the elements matching `css`, white space folded.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.0.select(&selector(css)).map(text_of).collect()
    }

    /// The value of the first input named `name`; panics when there is none.
    pub fn input_value(&self, name: &str) -> String {
        self.0
            .select(&selector(&format!(r#"input[name="{name}"]"#)))
            .find_map(|el| el.value().attr("value"))
            .unwrap_or_else(|| panic!("no input {name} in {}", self.0.html()))
            .to_owned()
    }

    /// The action of the page's first form that posts (under the mount point, as the app's paths
    /// are written) and its hidden fields; panics on a page without one (`page` names it).
    pub fn form_of(&self, page: &str) -> (String, Vec<(String, String)>) {
        let form = self
            .0
            .select(&selector(r#"main form[method="post"]"#))
            .next()
            .unwrap_or_else(|| panic!("no form on {page}"));
        let action = form.value().attr("action").unwrap_or_default();
        let action = action.trim_start_matches("/educt-admin-comptes").to_owned();
        let hidden = form
            .select(&selector(r#"input[type="hidden"]"#))
            .filter_map(|i| Some((i.value().attr("name")?, i.value().attr("value")?)))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        (action, hidden)
    }

    /// The `<dd>` of the `<dt>` reading `term` (`Mot de passe provisoire`), anywhere.
    pub fn definition(&self, term: &str) -> Option<String> {
        definitions_of(self.0.root_element()).remove(term)
    }

    /// The links in the elements matching `css`: (text, `href` without the mount point).
    pub fn links(&self, css: &str) -> Vec<(String, String)> {
        self.0
            .select(&selector(&format!("{css} a[href]")))
            .map(|a| {
                let href = a.value().attr("href").unwrap_or_default();
                let href = href.trim_start_matches("/educt-admin-comptes").to_owned();
                (text_of(a), href)
            })
            .collect()
    }

    /// For each element matching `css` (`article.letter`), its definitions (term → text).
    pub fn definitions_in(&self, css: &str) -> Vec<BTreeMap<String, String>> {
        self.0.select(&selector(css)).map(definitions_of).collect()
    }
}

/// The value of the first hidden input named `name`.
pub fn hidden_field(html: &str, name: &str) -> String {
    Page::parse(html).input_value(name)
}

#[test]
fn pages_are_read_by_their_structure() {
    let page = Page::parse(
        r#"<form><input type="hidden" name="csrf_token" value="abc"></form>
        <article class="letter"><dl><dt>Identifiant</dt><dd><code>j.dupont</code></dd>
        <dt>Mot de passe provisoire</dt><dd><code>abcd efgh</code></dd></dl></article>
        <article class="letter"><dl><dt>Identifiant</dt><dd>z.martin</dd></dl></article>"#,
    );
    assert_eq!(page.input_value("csrf_token"), "abc");
    assert_eq!(
        page.definition("Mot de passe provisoire").as_deref(),
        Some("abcd efgh")
    );
    let letters = page.definitions_in("article.letter");
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[1]["Identifiant"], "z.martin");
    assert_eq!(page.texts("dt").len(), 3);
}
