//! Work queues (issue 17 item 1): `GET /api/v1/applications`, the cases a caller may read,
//! filtered and in the order of their legal deadline, a page at a time, with counts by status,
//! and the same list as CSV. Scoped like every read: an officer the cases of the police bodies
//! the unit serves, a ЦОН branch what it filed, the portal its party's own, an auditor all.
//! The list carries numbers, dates and statuses, never a name: a person's data is read (and
//! recorded as read) on the case itself. By default it is the work still to do (open cases);
//! `state=closed` or `all` reaches the history.

use koshi_store::repo::queue::{QueueOrder, QueueQuery, QueueRow, QueueScope, QueueState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CaseError;
use crate::authz::Scope;
use crate::service::{Caller, Service};

/// The filters of a work queue.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueParams {
    /// `open` (default: the work still to do), `closed` (decided, refused, annulled) or `all`.
    pub state: Option<String>,
    /// `rvp` or `pr`.
    pub service: Option<String>,
    /// Statuses, comma-separated (e.g. `checking,awaiting_officer`).
    pub status: Option<String>,
    /// One unit (of those the caller reaches).
    pub unit: Option<String>,
    /// `police_desk`, `con` or `portal`.
    pub channel: Option<String>,
    /// The purpose (RVP) or ground (PR) code.
    pub purpose: Option<String>,
    /// Only open cases past their legal deadline (due before today, or today after working hours).
    pub overdue: Option<bool>,
    /// Only open cases on the last day of their term, within working hours.
    pub at_risk: Option<bool>,
    /// Only open cases due on or before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// An id, a receipt or permit number, or text of the filing (a name, a document number).
    pub q: Option<String>,
    /// The cases an officer acted on (took at the desk, decided, drafted, heard…): an account's
    /// username, or `me`.
    pub officer: Option<String>,
    /// `deadline` (default: soonest legal deadline first) or `filed` (newest first).
    pub sort: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50 (CSV: up to 10,000).
    pub limit: Option<i64>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One case in a work queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub id: String,
    pub service: String,
    pub status: String,
    pub channel: String,
    pub unit: String,
    pub filed_unit: String,
    pub purpose: String,
    pub filed_at: String,
    pub accepted_on: Option<String>,
    /// The legal decision date (the term's last day).
    pub due_on: Option<String>,
    pub overdue: bool,
    pub at_risk: bool,
    pub receipt_number: Option<String>,
    pub permit_number: Option<String>,
}

/// A page of a work queue.
#[derive(Debug, Serialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The cases the filters select (all statuses, before paging), by status.
    pub counts: std::collections::BTreeMap<String, i64>,
}

const SERVICES: [&str; 2] = ["rvp", "pr"];

fn empty_page() -> QueuePage {
    QueuePage {
        items: Vec::new(),
        next: None,
        counts: Default::default(),
    }
}
const CHANNELS: [&str; 3] = ["police_desk", "con", "portal"];

fn bad(param: &str, detail: impl Into<String>) -> CaseError {
    CaseError::unprocessable("invalid_query", &format!("/{param}"), detail)
}

fn date(param: &str, s: &str) -> Result<String, CaseError> {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| bad(param, format!("{param} must be a date YYYY-MM-DD")))
}

/// The clock's view of today: the date, and whether working hours are over.
struct Today {
    date: jiff::civil::Date,
    after_hours: bool,
}

impl Today {
    fn overdue(&self, due: Option<&str>, open: bool) -> bool {
        let Some(due) = due.and_then(|d| d.parse::<jiff::civil::Date>().ok()) else {
            return false;
        };
        open && (due < self.date || (due == self.date && self.after_hours))
    }
    fn at_risk(&self, due: Option<&str>, open: bool) -> bool {
        let Some(due) = due.and_then(|d| d.parse::<jiff::civil::Date>().ok()) else {
            return false;
        };
        open && due == self.date && !self.after_hours
    }
}

impl Service {
    fn queue_today(&self) -> Today {
        let law = self.law();
        let now = law.calendar.civil(self.now());
        Today {
            date: now.date(),
            after_hours: now.time() >= law.calendar.hours().work_end,
        }
    }

    /// The query a caller's parameters make, within what the caller may read. An empty
    /// parameter (a form's blank field) is no filter.
    async fn queue_query(&self, caller: &Caller, p: &QueueParams, csv: bool) -> Result<Option<QueueQuery>, CaseError> {
        let blank = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        let p = &QueueParams {
            state: blank(&p.state),
            service: blank(&p.service),
            status: blank(&p.status),
            unit: blank(&p.unit),
            channel: blank(&p.channel),
            purpose: blank(&p.purpose),
            overdue: p.overdue,
            at_risk: p.at_risk,
            due_before: blank(&p.due_before),
            q: blank(&p.q),
            officer: blank(&p.officer),
            sort: blank(&p.sort),
            cursor: blank(&p.cursor),
            limit: p.limit,
            format: blank(&p.format),
        };
        let scope = match self.authz.allow(caller, "application.read")? {
            Scope::All => QueueScope::All,
            // An inviting party's own requests, by the number its ЭЦП proved (issue 17 item 5).
            Scope::OwnUnits if caller.role == "portal" => match &caller.party {
                Some(party) => QueueScope::Party(party.clone()),
                None => return Err(CaseError::not_found("application")),
            },
            Scope::OwnUnits => {
                let units = self.authz.served_units(&caller.unit);
                if self.authz.is_police(&caller.unit) {
                    QueueScope::Owned(units)
                } else {
                    QueueScope::Filed(units)
                }
            }
        };
        if let Some(u) = &p.unit {
            let reachable = match &scope {
                QueueScope::All => true,
                QueueScope::Owned(us) | QueueScope::Filed(us) => us.contains(u),
                QueueScope::Party(_) => true,
            };
            if !reachable && matches!(scope, QueueScope::Owned(_)) {
                return Err(CaseError::forbidden(format!(
                    "unit {} does not serve unit {u}",
                    caller.unit
                )));
            }
        }
        let state = match p.state.as_deref() {
            None | Some("open") => QueueState::Open,
            Some("closed") => QueueState::Closed,
            Some("all") => QueueState::All,
            Some(_) => return Err(bad("state", "state is open, closed or all")),
        };
        let kind = match p.service.as_deref() {
            None => None,
            Some(s) if SERVICES.contains(&s) => Some(s.to_string()),
            Some(_) => return Err(bad("service", "service is rvp or pr")),
        };
        let mut statuses = Vec::new();
        for s in p
            .status
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if koshi_law::status::Status::parse(s).is_none() {
                return Err(bad("status", format!("no status {s:?}")));
            }
            statuses.push(s.to_string());
        }
        let channel = match p.channel.as_deref() {
            None => None,
            Some(c) if CHANNELS.contains(&c) => Some(c.to_string()),
            Some(_) => return Err(bad("channel", "channel is police_desk, con or portal")),
        };
        if let Some(purpose) = &p.purpose
            && (purpose.is_empty()
                || purpose.len() > 64
                || !purpose
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        {
            return Err(bad("purpose", "a purpose is a code like labour_contract"));
        }
        let text = match p.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() > 100 => return Err(bad("q", "q is at most 100 characters")),
            Some(t) => Some(t.to_string()),
        };
        // An officer by the account: every act of a case names its actor's account
        // (`role@unit:user:ID`), whichever unit the person served in then.
        let actor = match p.officer.as_deref().map(str::trim) {
            None | Some("") => None,
            // Staff accounts are the police's to look up, never a party's (nor whether one exists).
            Some(_) if caller.role == "portal" => {
                return Err(bad("officer", "the officer filter is for the police's own queues"));
            }
            Some("me") => match caller.token_id.strip_prefix("user:") {
                Some(id) => Some(format!(":user:{id}")),
                None => return Err(bad("officer", "`me` is a person signed in with an account")),
            },
            Some(name) => {
                if name.chars().count() > 64 || name.chars().any(char::is_control) {
                    return Err(bad("officer", "officer is an account's username"));
                }
                match self.store.user_by_name(name).await? {
                    Some(u) if u.role == "officer" => Some(format!(":user:{}", u.id)),
                    _ => return Err(bad("officer", format!("no officer account {name:?}"))),
                }
            }
        };
        let order = match p.sort.as_deref() {
            None | Some("deadline") => QueueOrder::Deadline,
            Some("filed") => QueueOrder::Filed,
            Some(_) => return Err(bad("sort", "sort is deadline or filed")),
        };
        let after = match p.cursor.as_deref() {
            None => None,
            Some(c) => {
                let (k, id) = c
                    .split_once('|')
                    .filter(|(k, id)| !k.is_empty() && !id.is_empty() && k.len() <= 64 && id.len() <= 64)
                    .ok_or_else(|| bad("cursor", "the cursor is the `next` of a previous page"))?;
                Some((k.to_string(), id.to_string()))
            }
        };
        let max = if csv { 10_000 } else { 200 };
        let limit = p.limit.unwrap_or(if csv { max } else { 50 });
        if !(1..=max).contains(&limit) {
            return Err(bad("limit", format!("limit is 1–{max}")));
        }
        let today = self.queue_today();
        let mut due_before = p.due_before.as_deref().map(|d| date("due_before", d)).transpose()?;
        let mut due_on = None;
        if p.overdue == Some(true) {
            // Due before today, or today once working hours are over.
            let last = if today.after_hours {
                today.date
            } else {
                today.date.yesterday().map_err(|e| CaseError::internal(&e))?
            };
            let last = last.to_string();
            due_before = Some(match due_before {
                Some(d) if d < last => d,
                _ => last,
            });
        }
        if p.at_risk == Some(true) {
            if today.after_hours || p.overdue == Some(true) {
                return Ok(None);
            }
            due_on = Some(today.date.to_string());
        }
        Ok(Some(QueueQuery {
            scope,
            state,
            kind,
            statuses,
            unit: p.unit.clone(),
            channel,
            purpose: p.purpose.clone(),
            due_before,
            due_on,
            text,
            actor,
            order,
            after,
            limit,
            with_filing: caller.role == "portal",
        }))
    }

    /// A page of the caller's work queue.
    pub async fn queue_for(&self, caller: &Caller, p: &QueueParams) -> Result<QueuePage, CaseError> {
        match self.queue_query(caller, p, false).await? {
            Some(q) => self.queue_page(caller, q).await,
            None => Ok(empty_page()),
        }
    }

    /// п. 15 абз. 2: the approver's inbox — the PR cases in `statuses` (comma-separated) of the
    /// units the caller's post reaches, by legal deadline: a district head's own, a УМС head's
    /// whole department (beyond the УМС's own work queue).
    pub async fn approval_queue(&self, caller: &Caller, statuses: &str) -> Result<QueuePage, CaseError> {
        self.authz.allow(caller, "application.pr_approve")?;
        let root = self
            .authz
            .approval_root(caller.post.as_deref(), &caller.unit)?
            .ok_or_else(|| CaseError::forbidden(format!("unit {} reaches no units to approve for", caller.unit)))?;
        let p = QueueParams {
            service: Some("pr".into()),
            status: Some(statuses.into()),
            limit: Some(200),
            ..QueueParams::default()
        };
        match self.queue_query(caller, &p, false).await? {
            Some(mut q) => {
                q.scope = QueueScope::Owned(self.authz.served_units(&root));
                self.queue_page(caller, q).await
            }
            None => Ok(empty_page()),
        }
    }

    async fn queue_page(&self, caller: &Caller, mut q: QueueQuery) -> Result<QueuePage, CaseError> {
        let limit = q.limit;
        let today = self.queue_today();
        let mut items = Vec::new();
        let mut next = None;
        // A party's page is read through its `case_parties` rows, and each case is checked again
        // against its filing by the same rule (a row the filing does not bear out is not shown):
        // read on until the page is full or the queue ends, a bounded number of times.
        for _ in 0..20 {
            q.limit = limit + 1;
            let mut rows = self.store.queue(&q).await?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            let last = rows.last().map(|r| (r.sort_key.clone(), r.id.clone()));
            for r in rows {
                if items.len() as i64 >= limit {
                    break;
                }
                if self.may_list(caller, &r) {
                    items.push(item(r, &today));
                }
            }
            match (more, last) {
                (true, Some(l)) if (items.len() as i64) < limit => q.after = Some(l),
                (true, Some(l)) => {
                    next = Some(format!("{}|{}", l.0, l.1));
                    break;
                }
                _ => break,
            }
        }
        let counts = self.store.queue_counts(&q).await?.into_iter().collect();
        Ok(QueuePage { items, next, counts })
    }

    fn may_list(&self, caller: &Caller, r: &QueueRow) -> bool {
        caller.role != "portal"
            || r.data
                .as_deref()
                .is_some_and(|d| crate::rvp::views::party_may_see_filing(caller, &r.kind, &r.channel, d).is_ok())
    }

    /// The caller's work queue as CSV (up to 10,000 rows), with a header line.
    pub async fn queue_csv(&self, caller: &Caller, p: &QueueParams) -> Result<String, CaseError> {
        let mut out = String::from(
            "id,service,status,channel,unit,filed_unit,purpose,filed_at,accepted_on,due_on,overdue,at_risk,receipt_number,permit_number\r\n",
        );
        let Some(q) = self.queue_query(caller, p, true).await? else {
            return Ok(out);
        };
        let today = self.queue_today();
        for r in self.store.queue(&q).await? {
            if !self.may_list(caller, &r) {
                continue;
            }
            let i = item(r, &today);
            let fields = [
                i.id,
                i.service,
                i.status,
                i.channel,
                i.unit,
                i.filed_unit,
                i.purpose,
                i.filed_at,
                i.accepted_on.unwrap_or_default(),
                i.due_on.unwrap_or_default(),
                i.overdue.to_string(),
                i.at_risk.to_string(),
                i.receipt_number.unwrap_or_default(),
                i.permit_number.unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }
}

/// A CSV field (RFC 4180), and never a formula a spreadsheet would run.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_string()
    };
    if f.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

fn item(r: QueueRow, today: &Today) -> QueueItem {
    let open = koshi_store::repo::queue::is_open(&r.status);
    let receipt_number = serde_json::from_str::<Value>(&r.receipt)
        .ok()
        .and_then(|v| v["number"].as_str().map(String::from));
    QueueItem {
        overdue: today.overdue(r.due_on.as_deref(), open),
        at_risk: today.at_risk(r.due_on.as_deref(), open),
        id: r.id,
        service: r.kind,
        status: r.status,
        channel: r.channel,
        unit: r.unit,
        filed_unit: r.filed_unit,
        purpose: r.purpose,
        filed_at: r.filed_at,
        accepted_on: r.accepted_on,
        due_on: r.due_on,
        receipt_number,
        permit_number: r.permit_number,
    }
}
