//! The language of a page (issue 17 item 2): Russian or Kazakh, chosen with the switch in every
//! page's header (`?lang=kk`, kept in a cookie), from the same translation files as the
//! documents (`koshi-forms/i18n/ui.toml`). Handlers and templates do not pass the language
//! around: [`scoped`] runs a page's handler with it, and [`t`] / [`ts`] read it.
//!
//! A Kazakh word whose rendering is not verified against an official text (glossary status
//! `unverified`) is shown as a draft: dotted underlined and titled so, with a note on the page
//! (docs/interpretations.md, "Kazakh pages"); a legal document never prints one.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use koshi_forms::Lang;
use koshi_forms::i18n::{Entry, KkStatus};
use maud::{Markup, html};

/// The cookie that keeps the chosen language (not a secret; a year).
pub const LANG_COOKIE: &str = "koshi_lang";

tokio::task_local! {
    static LANG: Lang;
}

static WORDS: LazyLock<HashMap<String, Entry>> = LazyLock::new(|| koshi_forms::i18n::ui_entries().unwrap_or_default());

/// The language of the page being rendered (Russian outside a page's handler).
pub fn lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::Ru)
}

/// `ru` in the page's language, as text (for attributes and titles).
pub fn ts(ru: &str) -> String {
    match (lang(), WORDS.get(ru)) {
        (Lang::Kk, Some(e)) => e.kk.clone().unwrap_or_else(|| ru.to_owned()),
        _ => ru.to_owned(),
    }
}

/// `ru` in the page's language, as markup: a Kazakh draft is marked as not verified.
pub fn t(ru: &str) -> Markup {
    match (lang(), WORDS.get(ru)) {
        (Lang::Kk, Some(e)) => match (&e.kk, e.kk_status) {
            (Some(kk), KkStatus::Unverified) => html! {
                span.unverified title="Аударма тексерілмеген · перевод не проверен" { (kk) }
            },
            (Some(kk), _) => html! { (kk) },
            (None, _) => html! { span lang="ru" { (ru) } },
        },
        _ => html! { (ru) },
    }
}

/// Marks a Russian word kept for later translation (with [`t`] or [`ts`] where it is shown), so
/// that the translation files' test finds it.
pub const fn w(ru: &'static str) -> &'static str {
    ru
}

/// The language a request asks for: its cookie, else Russian.
fn chosen(headers: &HeaderMap) -> Lang {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='))
        .find_map(Lang::parse)
        .unwrap_or(Lang::Ru)
}

/// Runs a page's handler in the language the request chose. `?lang=kk` (or `ru`) on a `GET`
/// sets the cookie and sends the browser back to the same address without it.
pub async fn scoped(req: Request, next: Next) -> Response {
    if req.method() == axum::http::Method::GET
        && let Some(query) = req.uri().query()
        && let Some(asked) = query_lang(query)
    {
        let rest: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with("lang=") && !p.is_empty())
            .collect();
        let to = if rest.is_empty() {
            req.uri().path().to_owned()
        } else {
            format!("{}?{}", req.uri().path(), rest.join("&"))
        };
        let mut r = Redirect::to(&to).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; Secure",
            asked.code()
        )) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        return r;
    }
    let l = chosen(req.headers());
    LANG.scope(l, next.run(req)).await
}

/// The language a query names (`lang=ru` or `lang=kk`); any other value is no choice.
fn query_lang(query: &str) -> Option<Lang> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix("lang="))
        .and_then(|v| match v {
            "ru" => Some(Lang::Ru),
            "kk" => Some(Lang::Kk),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every Russian text a page shows through `t` or `ts` has its entry, and every entry is
    /// shown somewhere: a word added to a page without its Kazakh fails here.
    #[test]
    fn every_page_word_has_its_entry_and_every_entry_a_page() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("queue.rs"),
            include_str!("approvals.rs"),
            include_str!("bulk.rs"),
            include_str!("cabinet.rs"),
            include_str!("casework.rs"),
            include_str!("handover.rs"),
            include_str!("intake.rs"),
            include_str!("intake_pr.rs"),
            include_str!("labels.rs"),
            include_str!("sla.rs"),
            include_str!("admin.rs"),
            include_str!("verify.rs"),
        ];
        let words = koshi_forms::i18n::ui_entries().unwrap();
        let mut used = std::collections::BTreeSet::new();
        for src in sources {
            for call in ["t(\"", "ts(\"", "w(\""] {
                for (i, _) in src.match_indices(call) {
                    let before = src[..i].chars().last();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &src[i + call.len()..];
                    let end = rest.find('"').unwrap();
                    let ru = &rest[..end];
                    assert!(words.contains_key(ru), "no entry in i18n/ui.toml for {ru:?}");
                    used.insert(ru.to_owned());
                }
            }
        }
        let unused: Vec<_> = words.keys().filter(|k| !used.contains(*k)).collect();
        assert!(unused.is_empty(), "entries no page shows: {unused:?}");
    }

    #[test]
    fn a_kazakh_draft_is_marked_and_a_verified_term_is_not() {
        let (draft, verified) = LANG.sync_scope(Lang::Kk, || (t("Очередь").into_string(), t("ИИН").into_string()));
        assert!(draft.contains("unverified") && draft.contains("Кезек"), "{draft}");
        assert_eq!(verified, "ЖСН");
        assert_eq!(t("Очередь").into_string(), "Очередь", "Russian outside a Kazakh page");
    }

    #[test]
    fn the_cookie_and_the_query_choose_the_language() {
        let mut h = HeaderMap::new();
        assert_eq!(chosen(&h), Lang::Ru);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("koshi_session=x; koshi_lang=kk"),
        );
        assert_eq!(chosen(&h), Lang::Kk);
        assert_eq!(query_lang("state=open&lang=kk"), Some(Lang::Kk));
        assert_eq!(query_lang("lang=en"), None);
    }
}
