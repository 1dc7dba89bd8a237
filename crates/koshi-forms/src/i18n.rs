//! The words of the documents in Russian and Kazakh, from `i18n/forms.toml`.
//!
//! A Kazakh rendering is printed only when its status is `official` or `secondary`; an
//! `unverified` one is a draft kept in the file, and the Russian text stands in its place
//! (docs/interpretations.md, "Kazakh documents").

use std::collections::HashMap;
use std::sync::LazyLock;

/// The language a document is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ru,
    Kk,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "ru" => Some(Lang::Ru),
            "kk" | "kz" => Some(Lang::Kk),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Kk => "kk",
        }
    }
}

/// How settled a Kazakh rendering is (the statuses of the glossary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KkStatus {
    Official,
    Secondary,
    Unverified,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub ru: String,
    pub kk: Option<String>,
    pub kk_status: KkStatus,
}

impl Entry {
    /// The Kazakh text if it may be printed.
    pub fn printable_kk(&self) -> Option<&str> {
        match self.kk_status {
            KkStatus::Official | KkStatus::Secondary => self.kk.as_deref(),
            KkStatus::Unverified => None,
        }
    }
}

const SOURCE: &str = include_str!("../i18n/forms.toml");

static TERMS: LazyLock<Result<HashMap<String, Entry>, String>> = LazyLock::new(|| parse(SOURCE));

/// Parses a terms file: every table with an `ru` key is an entry named by its dotted path.
pub fn parse(source: &str) -> Result<HashMap<String, Entry>, String> {
    let table: toml::Table = toml::from_str(source).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

fn walk(prefix: &str, table: &toml::Table, out: &mut HashMap<String, Entry>) -> Result<(), String> {
    if let Some(ru) = table.get("ru") {
        let ru = ru.as_str().ok_or_else(|| format!("{prefix}: ru is not text"))?;
        let kk = table.get("kk").and_then(|v| v.as_str()).map(str::to_owned);
        let kk_status = match table.get("kk_status").and_then(|v| v.as_str()) {
            Some("official") => KkStatus::Official,
            Some("secondary") => KkStatus::Secondary,
            Some("unverified") | None => KkStatus::Unverified,
            Some(other) => return Err(format!("{prefix}: unknown kk_status {other}")),
        };
        if kk_status != KkStatus::Unverified && kk.is_none() {
            return Err(format!("{prefix}: kk_status {kk_status:?} without kk"));
        }
        out.insert(
            prefix.to_owned(),
            Entry {
                ru: ru.to_owned(),
                kk,
                kk_status,
            },
        );
    }
    for (key, value) in table {
        if let toml::Value::Table(inner) = value {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            walk(&name, inner, out)?;
        }
    }
    Ok(())
}

/// Every entry of the shipped file (a test reads them all).
pub fn entries() -> &'static HashMap<String, Entry> {
    static EMPTY: LazyLock<HashMap<String, Entry>> = LazyLock::new(HashMap::new);
    match &*TERMS {
        Ok(terms) => terms,
        Err(_) => &EMPTY,
    }
}

/// The words of the pages (`i18n/ui.toml`), same format and statuses as the documents'.
pub const UI_SOURCE: &str = include_str!("../i18n/ui.toml");

static UI_TERMS: LazyLock<Result<HashMap<String, Entry>, String>> = LazyLock::new(|| parse(UI_SOURCE));

/// The pages' words, each entry under its Russian text (what a page looks it up by).
pub fn ui_entries() -> Result<HashMap<String, Entry>, String> {
    let terms = UI_TERMS.as_ref().map_err(Clone::clone)?;
    let mut by_ru = HashMap::new();
    for (key, e) in terms {
        if by_ru.insert(e.ru.clone(), e.clone()).is_some() {
            return Err(format!("{key}: the Russian text {:?} has two entries", e.ru));
        }
    }
    Ok(by_ru)
}

/// Whether the shipped terms file parses (checked at start and in tests).
pub fn check() -> Result<(), String> {
    TERMS.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// The text of `key` in `lang`: Kazakh only where it is verified, else Russian. An unknown key
/// prints as itself, which a test catches for every form.
pub fn t(lang: Lang, key: &str) -> &str {
    match entries().get(key) {
        Some(entry) => match lang {
            Lang::Kk => entry.printable_kk().unwrap_or(&entry.ru),
            Lang::Ru => &entry.ru,
        },
        None => key_missing(key),
    }
}

fn key_missing(key: &str) -> &str {
    key
}

/// A label in the document's language, followed by the Russian one when Kazakh is printed
/// (Russian is used officially beside Kazakh: Constitution art. 7).
pub fn label(lang: Lang, key: &str) -> String {
    let main = t(lang, key);
    let ru = t(Lang::Ru, key);
    if main == ru {
        main.to_owned()
    } else {
        format!("{main} / {ru}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_file_parses_and_every_entry_has_russian() {
        check().unwrap();
        assert!(entries().len() > 50);
        assert!(entries().values().all(|e| !e.ru.trim().is_empty()));
    }

    #[test]
    fn an_unverified_kazakh_draft_is_never_printed() {
        let e = &entries()["title.receipt_rvp"];
        assert_eq!(e.kk_status, KkStatus::Unverified);
        assert_eq!(t(Lang::Kk, "title.receipt_rvp"), e.ru);
        assert_eq!(t(Lang::Kk, "citizenship"), "Азаматтығы");
        assert_eq!(label(Lang::Kk, "citizenship"), "Азаматтығы / Гражданство");
        assert_eq!(label(Lang::Kk, "birth_date"), "Дата рождения");
    }

    #[test]
    fn a_verified_status_without_kazakh_is_refused() {
        assert!(parse("[a]\nru = \"x\"\nkk_status = \"official\"\n").is_err());
        assert!(parse("[a]\nru = \"x\"\nkk = \"y\"\nkk_status = \"maybe\"\n").is_err());
    }
}
