//! Work queues (issue 17 item 1): cases of the units a caller reaches, filtered, in the order of
//! their legal deadline (or of filing), a page at a time after a cursor, with counts by status.
//! One statement built from the filters given, every value bound; led by the queue indexes
//! (migration 22) so that a unit's first page does not read the unit's whole history.

use crate::{Db, Store, StoreResult};

/// The sort key of "no deadline" (a refusal to accept): after every date.
pub const NO_DEADLINE: &str = "9999-12-31";

/// How the queue is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueOrder {
    /// Legal deadline first (`due_on`, then id); cases without one last.
    Deadline,
    /// Newest filing first.
    Filed,
}

/// Which units' cases: those it owns (`unit`), or those it filed (`filed_unit`: a ЦОН branch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueScope {
    All,
    Owned(Vec<String>),
    Filed(Vec<String>),
    /// The requests whose inviting party it is (`case_parties`): an inviting party's cabinet.
    Party(String),
}

/// Open cases (the work), closed ones (the history), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    Open,
    Closed,
    All,
}

/// The filters of a queue; `None` is "any".
#[derive(Debug, Clone)]
pub struct QueueQuery {
    pub scope: QueueScope,
    pub state: QueueState,
    pub kind: Option<String>,
    pub statuses: Vec<String>,
    pub unit: Option<String>,
    pub channel: Option<String>,
    pub purpose: Option<String>,
    /// Only open cases due on or before this date (`YYYY-MM-DD`).
    pub due_before: Option<String>,
    /// Only open cases due on exactly this date (at risk: the last day of the term).
    pub due_on: Option<String>,
    /// Free text: an id, a receipt or permit number, or any text of the filing (a name, a
    /// document number), case-insensitive.
    pub text: Option<String>,
    /// Only cases with an act (not a read) whose actor ends so (`:user:ID`): an officer's.
    pub actor: Option<String>,
    pub order: QueueOrder,
    /// After this (sort key, id).
    pub after: Option<(String, String)>,
    pub limit: i64,
    /// Select the stored filing too.
    pub with_filing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub channel: String,
    pub unit: String,
    pub filed_unit: String,
    pub purpose: String,
    pub filed_at: String,
    pub accepted_on: Option<String>,
    pub due_on: Option<String>,
    pub permit_number: Option<String>,
    pub receipt: String,
    /// The sort key of the row (for the next page's cursor).
    pub sort_key: String,
    /// The stored filing, when the query asked for it (`with_filing`: a party's own cases are
    /// told by it).
    pub data: Option<String>,
}

/// The statuses no step of the service is waiting on: a case in one of them is closed.
pub const CLOSED_STATUSES: [&str; 5] = ["issued", "refused", "refused_to_accept", "annulled", "withdrawn"];

/// Whether a case in `status` is open (still work to do).
pub fn is_open(status: &str) -> bool {
    !CLOSED_STATUSES.contains(&status)
}

/// Open, word for word as the open-queue indexes state it (migration 23), so both databases use
/// them (the statuses are [`CLOSED_STATUSES`]; a test holds the texts to it).
const OPEN: &str = "a.status <> 'issued' AND a.status <> 'refused' AND a.status <> 'refused_to_accept' AND a.status <> 'annulled' AND a.status <> 'withdrawn'";
const CLOSED: &str = "a.status IN ('issued', 'refused', 'refused_to_accept', 'annulled', 'withdrawn')";

/// The WHERE clause of `q` (without the cursor) and its values, numbered from `$1`.
fn conditions(q: &QueueQuery, with_status: bool) -> (String, Vec<String>) {
    let mut w: Vec<String> = Vec::new();
    let mut v: Vec<String> = Vec::new();
    let mut bind = |v: &mut Vec<String>, s: &str| {
        v.push(s.to_string());
        format!("${}", v.len())
    };
    let list =
        |v: &mut Vec<String>, col: &str, items: &[String], bind: &mut dyn FnMut(&mut Vec<String>, &str) -> String| {
            if items.is_empty() {
                return "1 = 0".to_string();
            }
            let ps: Vec<String> = items.iter().map(|i| bind(v, i)).collect();
            format!("{col} IN ({})", ps.join(", "))
        };
    match &q.scope {
        QueueScope::All => {}
        QueueScope::Owned(units) => w.push(list(&mut v, "a.unit", units, &mut bind)),
        QueueScope::Filed(units) => {
            w.push(list(&mut v, "a.filed_unit", units, &mut bind));
            // What a filing unit reads is what it filed for another (a ЦОН owns no case): the
            // condition of the filed queues' partial indexes (migration 30).
            w.push("a.filed_unit <> a.unit".into());
        }
        QueueScope::Party(party) => {
            let p = bind(&mut v, party);
            w.push(format!(
                "a.id IN (SELECT application_id FROM case_parties WHERE party = {p} AND relation = 'inviting_party')"
            ));
        }
    }
    match q.state {
        QueueState::Open => w.push(OPEN.to_string()),
        QueueState::Closed => w.push(CLOSED.to_string()),
        QueueState::All => {}
    }
    if let Some(u) = &q.unit {
        let p = bind(&mut v, u);
        w.push(format!("a.unit = {p}"));
    }
    if let Some(k) = &q.kind {
        let p = bind(&mut v, k);
        w.push(format!("a.kind = {p}"));
    }
    if with_status && !q.statuses.is_empty() {
        w.push(list(&mut v, "a.status", &q.statuses, &mut bind));
    }
    if let Some(c) = &q.channel {
        let p = bind(&mut v, c);
        w.push(format!("a.channel = {p}"));
    }
    if let Some(p_) = &q.purpose {
        let p = bind(&mut v, p_);
        w.push(format!("a.purpose = {p}"));
    }
    if let Some(d) = &q.due_before {
        let p = bind(&mut v, d);
        w.push(format!("a.due_on <= {p} AND {OPEN}"));
    }
    if let Some(d) = &q.due_on {
        let p = bind(&mut v, d);
        w.push(format!("a.due_on = {p} AND {OPEN}"));
    }
    if let Some(t) = &q.text {
        let exact = bind(&mut v, t);
        let like = bind(
            &mut v,
            &format!(
                "%{}%",
                t.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ),
        );
        w.push(format!(
            "(a.id = {exact} OR a.permit_number = {exact} OR LOWER(f.receipt) LIKE {like} ESCAPE '\\' OR LOWER(f.data) LIKE {like} ESCAPE '\\')"
        ));
    }
    if let Some(suffix) = &q.actor {
        let p = bind(
            &mut v,
            &format!(
                "%{}",
                suffix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
            ),
        );
        w.push(format!(
            "EXISTS (SELECT 1 FROM events e WHERE e.application_id = a.id AND e.action <> 'personal_data.read' AND e.actor LIKE {p} ESCAPE '\\')"
        ));
    }
    let clause = if w.is_empty() {
        "1 = 1".to_string()
    } else {
        w.join(" AND ")
    };
    (clause, v)
}

/// The statement of a page of `q`, and its values.
pub(crate) fn page_sql(q: &QueueQuery) -> (String, Vec<String>) {
    let (mut clause, mut values) = conditions(q, true);
    let (key, dir) = match q.order {
        QueueOrder::Deadline => (format!("COALESCE(a.due_on, '{NO_DEADLINE}')"), "ASC"),
        QueueOrder::Filed => ("a.filed_at".to_string(), "DESC"),
    };
    if let Some((k, id)) = &q.after {
        values.push(k.clone());
        let pk = values.len();
        values.push(id.clone());
        let pi = values.len();
        let cmp = if dir == "ASC" { ">" } else { "<" };
        clause.push_str(&format!(
            " AND ({key} {cmp} ${pk} OR ({key} = ${pk} AND a.id {cmp} ${pi}))"
        ));
    }
    values.push(q.limit.to_string());
    let sql = format!(
        "SELECT a.id, a.kind, a.status, a.channel, a.unit, a.filed_unit, a.purpose, a.filed_at, a.accepted_on, a.due_on, a.permit_number, f.receipt, {key} AS sort_key, {data} AS data FROM applications a JOIN application_filings f ON f.id = a.id WHERE {clause} ORDER BY {key} {dir}, a.id {dir} LIMIT CAST(${} AS INTEGER)",
        values.len(),
        data = if q.with_filing { "f.data" } else { "CAST(NULL AS TEXT)" }
    );
    (sql, values)
}

/// `sql` with its values bound in order, on either database.
macro_rules! fetch_bound {
    ($db:expr, $ty:ty, $sql:expr, $values:expr) => {
        match $db {
            Db::Sqlite(p) => {
                let mut query = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($sql));
                for v in $values {
                    query = query.bind(v.clone());
                }
                query.fetch_all(p).await?
            }
            Db::Postgres(p) => {
                let mut query = sqlx::query_as::<_, $ty>(sqlx::AssertSqlSafe($sql));
                for v in $values {
                    query = query.bind(v.clone());
                }
                query.fetch_all(p).await?
            }
        }
    };
}

impl Store {
    /// A page of the queue.
    pub async fn queue(&self, q: &QueueQuery) -> StoreResult<Vec<QueueRow>> {
        let (sql, values) = page_sql(q);
        let mut rows = fetch_bound!(self.db(), QueueRow, sql, &values);
        rows.truncate(q.limit.max(0) as usize);
        Ok(rows)
    }

    /// The cases the queue's filters (all but the statuses and the cursor) select, by status.
    pub async fn queue_counts(&self, q: &QueueQuery) -> StoreResult<Vec<(String, i64)>> {
        let (clause, values) = conditions(q, false);
        // The filing is read only to search its text.
        let join = if q.text.is_some() {
            "JOIN application_filings f ON f.id = a.id "
        } else {
            ""
        };
        let sql = format!(
            "SELECT a.status, COUNT(*) FROM applications a {join}WHERE {clause} GROUP BY a.status ORDER BY a.status"
        );
        Ok(fetch_bound!(self.db(), (String, i64), sql, &values))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_open_and_closed_conditions_name_the_closed_statuses() {
        for s in super::CLOSED_STATUSES {
            assert!(super::OPEN.contains(&format!("a.status <> '{s}'")), "{s}");
            assert!(super::CLOSED.contains(&format!("'{s}'")), "{s}");
        }
        assert_eq!(super::OPEN.matches("<>").count(), super::CLOSED_STATUSES.len());
    }
}
