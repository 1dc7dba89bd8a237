//! Documents (issue 16): each act's document registered in the act's own unit (its number, its
//! verification code, its form), the PDF files rendered from it per language (content-addressed
//! in `attachments`, with the detached signature), and the signing keys ever used.

use crate::{Db, Store, StoreResult};

use super::*;

/// A document of a case (or of a police body: the journal of App. 8).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub application_id: Option<String>,
    /// `receipt`, `refusal_to_accept`, `permit`, `exit_permit`, `motivated_refusal`, …
    pub form: String,
    pub number: String,
    pub code: String,
    /// The act it records (`intake`, `decision.issued`, …).
    pub act: String,
    /// The police body (or ЦОН branch) in whose name it is issued.
    pub unit: String,
    /// The facts printed (koshi_forms::Form as JSON). An act on a case's hot path leaves it
    /// empty: the facts are then taken from the case's records of that act (which do not change)
    /// when the document is first rendered or verified, and kept from then on.
    pub facts: Option<String>,
    pub issued_at: String,
    pub issued_on: String,
}

const DOCUMENT_COLUMNS: &str = "id, application_id, form, number, code, act, unit, facts, issued_at, issued_on";

pub fn insert_document(d: &DocumentRow) -> Op {
    Op::insert(
        "register document",
        InsertShape {
            head: "INSERT INTO documents (id, application_id, form, number, code, act, unit, facts, issued_at, issued_on) VALUES",
            tail: "",
            columns: 10,
            rank: 2,
        },
        vec![
            d.id.clone().into(),
            d.application_id.clone().into(),
            d.form.clone().into(),
            d.number.clone().into(),
            d.code.clone().into(),
            d.act.clone().into(),
            d.unit.clone().into(),
            d.facts.clone().into(),
            d.issued_at.clone().into(),
            d.issued_on.clone().into(),
        ],
    )
}

/// A rendered file of a document in one language.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentFileRow {
    pub document_id: String,
    pub lang: String,
    pub sha256: String,
    /// The detached signature (JSON).
    pub signature: String,
    pub kid: String,
    pub rendered_at: String,
}

/// Keeps the facts taken from the case the first time (a later call finds them set).
pub fn set_document_facts(id: &str, facts: &str) -> Op {
    Op::new(
        "keep document facts",
        "UPDATE documents SET facts = $1 WHERE id = $2 AND facts IS NULL",
        vec![facts.into(), id.into()],
    )
}

pub fn insert_document_file(f: &DocumentFileRow) -> Op {
    Op::insert(
        "store document file",
        InsertShape {
            head: "INSERT INTO document_files (document_id, lang, sha256, signature, kid, rendered_at) VALUES",
            tail: "ON CONFLICT (document_id, lang) DO NOTHING",
            columns: 6,
            rank: 3,
        },
        vec![
            f.document_id.clone().into(),
            f.lang.clone().into(),
            f.sha256.clone().into(),
            f.signature.clone().into(),
            f.kid.clone().into(),
            f.rendered_at.clone().into(),
        ],
    )
}

/// A signing key Koshi has used: its public part and certificate, kept for ever so that old
/// documents stay verifiable after a rotation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DocumentKeyRow {
    pub kid: String,
    pub public_key: String,
    pub certificate: String,
    /// Only for a development key Koshi made itself (never in production mode).
    pub private_key: Option<String>,
    pub created_at: String,
}

pub fn insert_document_key(k: &DocumentKeyRow) -> Op {
    Op::insert(
        "register signing key",
        InsertShape {
            head: "INSERT INTO document_keys (kid, public_key, certificate, private_key, created_at) VALUES",
            tail: "ON CONFLICT (kid) DO NOTHING",
            columns: 5,
            rank: 0,
        },
        vec![
            k.kid.clone().into(),
            k.public_key.clone().into(),
            k.certificate.clone().into(),
            k.private_key.clone().into(),
            k.created_at.clone().into(),
        ],
    )
}

/// An entry of a police body's journal of PR files (App. 8) with its case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JournalEntryRow {
    pub number: i64,
    pub registered_at: String,
    pub application_id: String,
    pub data: String,
    pub status: String,
}

/// The case id's time and random digits in a document number (`…-019AD3C5B2E0-3B4AB07A1B6C`,
/// optionally followed by a duplicate's `-D1`), lower case as the ids are written.
fn case_digits(number: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = number.split('-').collect();
    let hex12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let n = parts.len();
    let at = if n >= 2 && hex12(parts[n - 2]) && hex12(parts[n - 1]) {
        n - 2
    } else if n >= 3 && parts[n - 1].starts_with('D') && hex12(parts[n - 3]) && hex12(parts[n - 2]) {
        n - 3
    } else {
        return None;
    };
    Some((parts[at].to_ascii_lowercase(), parts[at + 1].to_ascii_lowercase()))
}

impl Store {
    /// A police body's journal entries registered in `[from, to)` (instants), by number.
    pub async fn journal_entries(
        &self,
        unit: &str,
        from: &str,
        to: &str,
        limit: i64,
    ) -> StoreResult<Vec<JournalEntryRow>> {
        Ok(fetch_all!(
            self.db(),
            JournalEntryRow,
            "SELECT j.number, j.registered_at, j.application_id, f.data, a.status FROM pr_journal j JOIN applications a ON a.id = j.application_id JOIN application_filings f ON f.id = j.application_id WHERE j.unit = $1 AND j.registered_at >= $2 AND j.registered_at < $3 ORDER BY j.number LIMIT $4",
            unit,
            from,
            to,
            limit
        ))
    }

    pub async fn document(&self, id: &str) -> StoreResult<Option<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1");
        Ok(fetch_optional!(self.db(), DocumentRow, sqlx::AssertSqlSafe(sql), id))
    }

    pub async fn document_by_code(&self, code: &str) -> StoreResult<Option<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE code = $1");
        Ok(fetch_optional!(self.db(), DocumentRow, sqlx::AssertSqlSafe(sql), code))
    }

    /// Documents by number, found without an index of every number (which cost every act a
    /// write): a case's document numbers carry the case id's time and random digits
    /// (`documents::case_document_number`, permit numbers too), so the case is found by its id's
    /// range and then its documents; a PR permit by the index of permit numbers; the rest (exit
    /// RVPs, journal exports) by the small partial index of migration 26.
    pub async fn document_by_number(&self, number: &str) -> StoreResult<Vec<DocumentRow>> {
        let mut cases: Vec<String> = Vec::new();
        if let Some((time, random)) = case_digits(number) {
            // [the millisecond, the next one): same-shaped bounds, so any collation orders them.
            let next = u64::from_str_radix(&time, 16).unwrap_or(0).saturating_add(1);
            let next = format!("{next:012x}");
            let prefix = format!("{}-{}", &time[..8], &time[8..]);
            let upper = format!("{}-{}", &next[..8], &next[8..]);
            let rows: Vec<(String,)> = fetch_all!(
                self.db(),
                (String,),
                "SELECT id FROM applications WHERE id >= $1 AND id < $2",
                prefix,
                upper
            );
            cases.extend(rows.into_iter().map(|r| r.0).filter(|id| id.ends_with(&random)));
        }
        let permits: Vec<(String,)> = fetch_all!(
            self.db(),
            (String,),
            "SELECT id FROM applications WHERE permit_number = $1",
            number
        );
        cases.extend(permits.into_iter().map(|r| r.0));
        cases.sort();
        cases.dedup();
        let mut out = Vec::new();
        for id in cases {
            out.extend(self.documents_of(&id).await?.into_iter().filter(|d| d.number == number));
        }
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE number = $1 AND (form = 'exit_permit' OR form = 'journal')"
        );
        out.extend(fetch_all!(self.db(), DocumentRow, sqlx::AssertSqlSafe(sql), number));
        Ok(out)
    }

    /// A case's documents, in the order of its acts.
    pub async fn documents_of(&self, application_id: &str) -> StoreResult<Vec<DocumentRow>> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE application_id = $1 ORDER BY issued_at, id");
        Ok(fetch_all!(
            self.db(),
            DocumentRow,
            sqlx::AssertSqlSafe(sql),
            application_id
        ))
    }

    pub async fn document_file(&self, document_id: &str, lang: &str) -> StoreResult<Option<DocumentFileRow>> {
        Ok(fetch_optional!(
            self.db(),
            DocumentFileRow,
            "SELECT document_id, lang, sha256, signature, kid, rendered_at FROM document_files WHERE document_id = $1 AND lang = $2",
            document_id,
            lang
        ))
    }

    /// The files rendered of a document, in every language.
    pub async fn document_files(&self, document_id: &str) -> StoreResult<Vec<DocumentFileRow>> {
        Ok(fetch_all!(
            self.db(),
            DocumentFileRow,
            "SELECT document_id, lang, sha256, signature, kid, rendered_at FROM document_files WHERE document_id = $1 ORDER BY lang",
            document_id
        ))
    }

    /// The content of a stored attachment.
    pub async fn attachment_content(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        let r: Option<(Vec<u8>,)> = fetch_optional!(
            self.db(),
            (Vec<u8>,),
            "SELECT content FROM attachments WHERE sha256 = $1",
            sha256
        );
        Ok(r.map(|x| x.0))
    }

    /// Every signing key ever used, oldest first.
    pub async fn document_keys(&self) -> StoreResult<Vec<DocumentKeyRow>> {
        Ok(fetch_all!(
            self.db(),
            DocumentKeyRow,
            "SELECT kid, public_key, certificate, private_key, created_at FROM document_keys ORDER BY created_at, kid"
        ))
    }
}
