//! The audit trail's hash chain. Every event carries a global sequence number, the hash of the
//! entry before it and its own hash over both and its content; the writer assigns them at commit
//! time, in commit order. `verify` walks the chain and names the first entry that does not fit.

use sha2::{Digest, Sha256};

use crate::writer::Arg;
use crate::{Db, Store, StoreResult};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: over the previous hash, its sequence number and its eight content fields
/// (id, application, instant, actor, action, citation, rules version, detail), each length-prefixed
/// so that no two different entries encode alike.
pub fn entry_hash(prev_hash: &str, seq: i64, fields: &[Option<&str>; 8]) -> String {
    let mut h = Sha256::new();
    h.update(b"koshi-audit-v1\n");
    h.update(prev_hash.as_bytes());
    // Numbers are written into a buffer on the stack: this runs for every event, on the writer.
    let mut buf = [0u8; 24];
    h.update(decimal(&mut buf, "\n", seq, "\n"));
    for f in fields {
        match f {
            Some(v) => {
                h.update(decimal(&mut buf, "", v.len() as i64, ":"));
                h.update(v.as_bytes());
            }
            None => h.update(b"-"),
        }
        h.update(b"\n");
    }
    // Written into a buffer and copied once: `hex::encode` pushes the 64 digits one `char` at a
    // time. 32 bytes always take 64 digits, and hex digits are ASCII.
    let mut out = [0u8; 64];
    let _ = hex::encode_to_slice(h.finalize(), &mut out);
    std::str::from_utf8(&out).unwrap_or_default().to_owned()
}

/// `before`, `n` in decimal, `after`, in `buf` (as `format!` would write them). `itoa` writes the
/// digits: `write!` through the formatting machinery cost more than the rest of the hash's
/// framing (16 numbers a case, on the writer thread).
fn decimal<'b>(buf: &'b mut [u8; 24], before: &str, n: i64, after: &str) -> &'b [u8] {
    // 24 bytes hold a newline, any i64 (20 characters) and a separator.
    let mut digits = itoa::Buffer::new();
    let mut end = 0;
    for part in [before.as_bytes(), digits.format(n).as_bytes(), after.as_bytes()] {
        buf[end..end + part.len()].copy_from_slice(part);
        end += part.len();
    }
    &buf[..end]
}

/// The eight content fields of an event op's arguments.
pub(crate) fn fields_of(args: &[Arg]) -> [Option<&str>; 8] {
    let mut out = [None; 8];
    for (o, a) in out.iter_mut().zip(args) {
        *o = match a {
            Arg::Text(s) => Some(s.as_ref()),
            Arg::OptText(s) => s.as_deref(),
            _ => None,
        };
    }
    out
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub id: String,
    pub reason: String,
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: i64,
    pub head_hash: String,
    pub first_broken: Option<Broken>,
}

#[derive(sqlx::FromRow)]
struct ChainRow {
    seq: i64,
    id: String,
    application_id: Option<String>,
    at: String,
    actor: String,
    action: String,
    citation: String,
    rules_version: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl Store {
    /// Walks the whole audit trail in sequence order, page by page.
    pub async fn verify_audit(&self) -> StoreResult<AuditReport> {
        let mut expected_seq = 1i64;
        let mut prev = GENESIS.to_string();
        let mut entries = 0i64;
        loop {
            let sql = "SELECT seq, id, application_id, at, actor, action, citation, rules_version, detail, prev_hash, hash FROM events WHERE seq >= $1 ORDER BY seq LIMIT 5000";
            let rows: Vec<ChainRow> = match self.db() {
                Db::Sqlite(p) => sqlx::query_as(sql).bind(expected_seq).fetch_all(p).await?,
                Db::Postgres(p) => sqlx::query_as(sql).bind(expected_seq).fetch_all(p).await?,
            };
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let broken = |reason: String| Broken {
                    seq: r.seq,
                    id: r.id.clone(),
                    reason,
                };
                if r.seq != expected_seq {
                    let reason = format!("entry {expected_seq} is missing (the next entry is {})", r.seq);
                    return Ok(AuditReport {
                        entries,
                        head_hash: prev,
                        first_broken: Some(broken(reason)),
                    });
                }
                if r.prev_hash != prev {
                    let reason = "it does not follow the entry before it (previous hash differs): reordered, or an earlier entry was replaced".to_string();
                    return Ok(AuditReport {
                        entries,
                        head_hash: prev,
                        first_broken: Some(broken(reason)),
                    });
                }
                let fields = [
                    Some(r.id.as_str()),
                    r.application_id.as_deref(),
                    Some(r.at.as_str()),
                    Some(r.actor.as_str()),
                    Some(r.action.as_str()),
                    Some(r.citation.as_str()),
                    Some(r.rules_version.as_str()),
                    Some(r.detail.as_str()),
                ];
                if entry_hash(&prev, r.seq, &fields) != r.hash {
                    let reason = "its content does not match its hash: the entry was changed".to_string();
                    return Ok(AuditReport {
                        entries,
                        head_hash: prev,
                        first_broken: Some(broken(reason)),
                    });
                }
                prev = r.hash;
                expected_seq += 1;
                entries += 1;
            }
        }
        Ok(AuditReport {
            entries,
            head_hash: prev,
            first_broken: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// The encoding as first written (with `format!`): chains recorded before stay verifiable.
    fn reference(prev: &str, seq: i64, fields: &[Option<&str>; 8]) -> String {
        let mut h = Sha256::new();
        h.update(b"koshi-audit-v1\n");
        h.update(prev.as_bytes());
        h.update(format!("\n{seq}\n").as_bytes());
        for f in fields {
            match f {
                Some(v) => {
                    h.update(format!("{}:", v.len()).as_bytes());
                    h.update(v.as_bytes());
                }
                None => h.update(b"-"),
            }
            h.update(b"\n");
        }
        hex::encode(h.finalize())
    }

    #[test]
    fn entry_hash_is_unchanged() {
        let long = "д".repeat(40_000);
        for (seq, fields) in [
            (
                1,
                [
                    Some("id"),
                    None,
                    Some("2026-01-05T04:00:00.000000Z"),
                    Some("a"),
                    Some("b"),
                    Some("п. 9"),
                    Some("v"),
                    Some("{}"),
                ],
            ),
            (i64::MAX, [None; 8]),
            (i64::MIN, [Some(""); 8]),
            (
                1_234_567,
                [
                    Some(long.as_str()),
                    Some("x"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    Some(long.as_str()),
                ],
            ),
        ] {
            assert_eq!(super::entry_hash("prev", seq, &fields), reference("prev", seq, &fields));
        }
    }
}
