//! The seven checks of п. 9-1, run against the registries, retried with backoff, and the
//! background pass that drives them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use jiff::civil::Date;
use koshi_law::rvp::{self, Check, Finding};
use koshi_registries::{PersonQuery, RegistryError, RegistryKind};
use koshi_store::repo::{self, ApplicationRow, CheckRow};
use koshi_store::{Unit, instant};
use serde_json::{Value, json};

use crate::CaseError;
use crate::model::*;

use crate::service::*;

/// How long a claim on a case's due check retry holds before another instance may take it: longer
/// than a pass over the seven registries takes, with their timeouts.
const CHECK_CLAIM: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);

impl Service {
    // ------------------------------------------------------------------ checks

    pub(crate) fn spawn_processing(&self, handoff: Handoff) {
        let me = self.clone();
        let id = handoff.0.id.clone();
        // The checks belong to the request that filed the case: its id and log span go along.
        let request = koshi_registries::context::current();
        let span = tracing::Span::current();
        let mut set = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished tasks so the set does not grow without bound.
        while set.try_join_next().is_some() {}
        let work = async move {
            if let Err(e) = me.process_with(&id, Some(handoff)).await {
                tracing::warn!(application = %id, error = %e.detail, "processing deferred");
            }
        };
        set.spawn(tracing::Instrument::instrument(
            async move {
                match request {
                    Some(r) => koshi_registries::context::scope(r, work).await,
                    None => work.await,
                }
            },
            span,
        ));
    }

    /// Waits for every processing task started so far (tests and shutdown; never sleeps).
    pub async fn settle(&self) {
        loop {
            let mut set = std::mem::take(&mut *self.inflight.lock().unwrap_or_else(|p| p.into_inner()));
            if set.is_empty() {
                return;
            }
            while set.join_next().await.is_some() {}
        }
    }

    /// One pass of the background work: due check retries, then due deliveries.
    pub async fn tick(&self) -> Result<(usize, usize), CaseError> {
        self.settle().await;
        // Law data another instance loaded (an official year, an MCI figure).
        if let Err(e) = self.refresh_law().await {
            tracing::error!(error = %e.detail, "law data loaded elsewhere cannot be applied; the law in force is unchanged");
        }
        let now_t = self.now();
        let now = instant(now_t);
        let due = self.store.applications_with_due_checks(&now, 500).await?;
        let n = due.len();
        // Several instances pass over the same due retries: each claims one before running it
        // (issue 15 item 4), and a claim lapses if its holder stops before recording the sheet.
        let until = instant(now_t + CHECK_CLAIM);
        let grace =
            jiff::SignedDuration::try_from(self.config.fresh_checks_grace).unwrap_or(jiff::SignedDuration::ZERO);
        let fresh_since = instant(now_t.checked_sub(grace).unwrap_or(now_t));
        let fresh_since = (!grace.is_zero()).then_some(fresh_since.as_str());
        for id in due {
            // Not claimed: another instance runs it (it holds the sheet's claim), or — checks
            // never run — the instance that took the filing runs them now, unless it stopped;
            // any instance does once the grace has passed.
            if !self.store.claim_check_retry(&id, &now, &until).await?
                && self.store.checks_held_elsewhere(&id, fresh_since).await?
            {
                continue;
            }
            if let Err(e) = self.process(&id).await {
                tracing::warn!(application = %id, error = %e.detail, "processing deferred");
            }
        }
        self.fire_due_timers().await?;
        let delivered = self.deliver_due().await?;
        Ok((n, delivered))
    }

    /// Runs the due checks of one case concurrently, records them, and decides when all are in.
    pub async fn process(&self, id: &str) -> Result<(), CaseError> {
        self.process_with(id, None).await
    }

    /// As [`Service::process`], with the case just filed handed over in memory (saves reads).
    pub(crate) async fn process_with(&self, id: &str, handoff: Option<Handoff>) -> Result<(), CaseError> {
        {
            let mut p = self.processing.lock().unwrap_or_else(|p| p.into_inner());
            if !p.insert(id.to_string()) {
                return Ok(()); // already in hand
            }
        }
        // Out of hand however this ends, a cancelled future included: a case left marked would
        // never be processed again by this instance.
        let _in_hand = InHand { service: self, id };
        self.process_inner(id, handoff).await
    }

    pub(crate) async fn process_inner(&self, id: &str, handoff: Option<Handoff>) -> Result<(), CaseError> {
        // `stored`: whether the checks have rows yet (they are recorded when they first run).
        let (app, req, checks, stored) = match handoff {
            // Just filed: every check is waiting, nothing attempted yet.
            Some(h) => {
                let (app, req) = *h;
                let checks = not_yet_run(&app);
                (app, req, checks, false)
            }
            None => {
                let Some(app) = self.store.application(id).await? else {
                    return Err(CaseError::not_found("application"));
                };
                if app.status != status::CHECKING {
                    return Ok(());
                }
                let req = crate::stored::rvp_filing(&app.data)?;
                let (checks, stored) = self.sheet_of(&app).await?;
                (app, req, checks, stored)
            }
        };
        let now = self.now();
        let now_s = instant(now);
        let due: Vec<Check> = checks
            .iter()
            .filter(|c| c.state == "waiting" && c.next_attempt_at.as_deref().is_none_or(|t| t <= now_s.as_str()))
            .filter_map(|c| Check::parse(&c.check_name))
            .collect();
        // The sheet as it will be recorded: the checks run now replace their earlier rows.
        let mut sheet: BTreeMap<Cow<'static, str>, CheckRow> =
            checks.into_iter().map(|c| (c.check_name.clone(), c)).collect();
        if due.is_empty() && sheet.values().any(|c| c.state == "waiting") {
            return Ok(());
        }
        let law = self.law();
        let on = law.calendar.civil(now).date();
        let purpose = law
            .requirements
            .purpose(&app.purpose)
            .ok_or_else(|| CaseError::not_found("purpose"))?;
        let birth = req.immigrant.birth_date.date();
        let q = person_query(&req.immigrant, birth);

        // A family member is no household worker: the employer's limit is the immigrant's check.
        let household = purpose.household && req.family_of.is_none();
        let futures = due.iter().map(|&check| {
            let q = &q;
            let req = &req;
            let app = &app;
            async move { (check, self.run_check(check, q, req, app, household, on).await) }
        });
        let results = futures::future::join_all(futures).await;

        let mut unit = Unit::new();
        let mut findings: BTreeMap<Check, Finding> = BTreeMap::new();
        for (name, row) in &sheet {
            if row.state == "waiting" {
                continue;
            }
            match Check::parse(name) {
                Some(c) => {
                    findings.insert(c, finding_from_json(name, &row.state, row.finding.as_deref()));
                }
                // Not one of the seven checks: it decides nothing, and each of the seven that
                // has no finding is "not run", which sends the case to an officer.
                None => {
                    tracing::error!(application = %app.id, check = %name, "a stored check of an unknown name is ignored")
                }
            }
        }
        let mut failures: BTreeMap<RegistryKind, String> = BTreeMap::new();
        let mut successes: BTreeSet<RegistryKind> = BTreeSet::new();
        for (check, result) in results {
            let attempts = sheet.get(check.as_str()).map_or(0, |p| p.attempts) + 1;
            match result {
                Ok((finding, sources)) => {
                    successes.extend(sources);
                    let state = match &finding {
                        Finding::Clear => "clear",
                        Finding::Ground { .. } => "ground",
                        Finding::Officer { .. } => "officer",
                    };
                    sheet.insert(
                        Cow::Borrowed(check.as_str()),
                        CheckRow {
                            check_name: Cow::Borrowed(check.as_str()),
                            state: Cow::Borrowed(state),
                            finding: Some(match &finding {
                                Finding::Clear => Cow::Borrowed(repo::CLEAR_FINDING),
                                other => Cow::Owned(finding_to_json(other).to_string()),
                            }),
                            source: Cow::Borrowed(source_of(check)),
                            checked_at: Some(now_s.clone()),
                            attempts,
                            next_attempt_at: None,
                            last_error: None,
                        },
                    );
                    findings.insert(check, finding);
                }
                Err((registry, err)) => {
                    let backoff = SignedDuration::from_secs((60i64 << (attempts - 1).min(4)).min(900));
                    sheet.insert(
                        Cow::Borrowed(check.as_str()),
                        waiting_check(
                            check,
                            attempts,
                            Some(instant(now.checked_add(backoff).unwrap_or(now))),
                            Some(format!("{}: {err}", registry.as_str())),
                        ),
                    );
                    failures.insert(registry, err.to_string());
                }
            }
        }
        // All seven, in one record: the first run inserts the sheet (a concurrent first run
        // elsewhere then conflicts and this one is dropped, to be taken up again); later runs
        // replace it.
        let recorded: Vec<&CheckRow> = sheet.values().collect();
        unit.push(repo::record_checks(id, &recorded, !stored));
        // The outage journal (п. 9-5): one open outage per failing registry, journaled once its
        // delay passes one hour; closed by the first success.
        if !failures.is_empty() || !successes.is_empty() {
            let failing: Vec<(&str, &str, i64)> = failures.iter().map(|(r, e)| (r.as_str(), e.as_str(), 1)).collect();
            let answered: Vec<&str> = successes.iter().map(|r| r.as_str()).collect();
            self.journal_outages(&mut unit, "", &failing, &answered, now).await?;
        }

        let all_in = Check::ALL.iter().all(|c| findings.contains_key(c));
        if all_in {
            let list: Vec<(Check, Finding)> = findings.into_iter().collect();
            let principal = self.principal_of(&req).await?;
            self.decide_into(&mut unit, &app, &req, &list, principal.as_ref(), now)?;
        } else {
            // Registries keep the case waiting: its working day is a clock (п. 9).
            self.start_rvp_term(&mut unit, &app)?;
        }
        self.store.write(unit).await?;
        if !failures.is_empty() {
            tracing::info!(application = %id, failing = failures.len(), "registries unavailable; the case waits");
        }
        Ok(())
    }

    /// The seven checks of an RVP case as recorded. A case accepted for checking whose checks have
    /// not run yet has no rows: all seven are waiting, due since the case was accepted.
    pub(crate) async fn checks_of(&self, app: &ApplicationRow) -> Result<Vec<CheckRow>, CaseError> {
        Ok(self.sheet_of(app).await?.0)
    }

    /// As [`Service::checks_of`], and whether the case has a recorded sheet yet.
    pub(crate) async fn sheet_of(&self, app: &ApplicationRow) -> Result<(Vec<CheckRow>, bool), CaseError> {
        let rows = self.store.checks(&app.id).await?;
        if rows.is_empty() && app.kind == "rvp" && app.status == status::CHECKING {
            return Ok((not_yet_run(app), false));
        }
        let stored = !rows.is_empty();
        Ok((rows, stored))
    }

    /// Runs one check. Returns the finding and the registries that answered, or the failing one.
    pub(crate) async fn run_check(
        &self,
        check: Check,
        q: &PersonQuery,
        req: &ApplicationRequest,
        app: &ApplicationRow,
        household: bool,
        on: Date,
    ) -> Result<(Finding, Vec<RegistryKind>), (RegistryKind, RegistryError)> {
        let r = &self.registries;
        let t = self.config.registry_timeout;
        async fn timed<T>(
            kind: RegistryKind,
            t: std::time::Duration,
            f: impl std::future::Future<Output = Result<T, RegistryError>>,
        ) -> Result<T, (RegistryKind, RegistryError)> {
            let started = std::time::Instant::now();
            let (r, result) = match tokio::time::timeout(t, f).await {
                Ok(Ok(v)) => (Ok(v), "answered"),
                Ok(Err(e)) => (Err((kind, e)), "failed"),
                Err(_) => (Err((kind, RegistryError::Timeout)), "timeout"),
            };
            crate::metrics::get().registry_call(kind.as_str(), result, started.elapsed().as_secs_f64());
            r
        }
        match check {
            Check::Completeness => Ok((Finding::Clear, vec![])),
            Check::BorderCrossings => {
                let a = timed(RegistryKind::Berkut, t, r.berkut.border_crossings(q)).await?;
                Ok((
                    rvp::judge_border(&rvp::BorderFacts {
                        lawful_entry_recorded: a.lawful_entry_recorded,
                    }),
                    vec![RegistryKind::Berkut],
                ))
            }
            Check::Records => {
                let (p, k) = tokio::join!(
                    timed(RegistryKind::PoliceRecords, t, r.police_records.police_records(q)),
                    timed(RegistryKind::Kpsisu, t, r.kpsisu.kpsisu_records(q))
                );
                let (p, k) = (p?, k?);
                let facts = rvp::RecordFacts {
                    convicted: p.convicted || k.convicted,
                    wanted: p.wanted || k.wanted,
                    unpaid_penalties: p.unpaid_penalties || k.unpaid_penalties,
                };
                Ok((
                    rvp::judge_records(&facts),
                    vec![RegistryKind::PoliceRecords, RegistryKind::Kpsisu],
                ))
            }
            Check::Iin => {
                let mut people = vec![q.clone()];
                // Family members with cases of their own are checked there; a case filed before
                // they had them checks its family here.
                let family = if app.receipt.contains("\"family_cases\"") {
                    &[][..]
                } else {
                    &req.family[..]
                };
                for f in family {
                    people.push(person_query(&f.person, f.person.birth_date.date()));
                }
                let answers =
                    futures::future::join_all(people.iter().map(|p| timed(RegistryKind::GbdFl, t, r.gbd_fl.iin(p))))
                        .await;
                let mut without = 0;
                for a in answers {
                    if a?.iin.is_none() {
                        without += 1;
                    }
                }
                Ok((rvp::judge_iin(people.len(), without), vec![RegistryKind::GbdFl]))
            }
            Check::HouseholdQuota => {
                if !household {
                    return Ok((Finding::Clear, vec![]));
                }
                let Some(employer) = app.employer_iin.clone() else {
                    // A household filing whose employer is not on the case cannot be counted:
                    // an officer establishes it (never counted as an employer with none).
                    return Ok((
                        Finding::Officer {
                            code: "household_employer_unknown",
                            detail:
                                "the household employer's IIN is not on the case: the household RVPs cannot be counted"
                                    .into(),
                        },
                        vec![],
                    ));
                };
                let legacy = timed(
                    RegistryKind::HouseholdRvps,
                    t,
                    r.household_rvps.household_rvps(&employer, on),
                )
                .await?;
                let own = self
                    .store
                    .valid_household_rvps(&employer, &on.to_string())
                    .await
                    .map_err(|e| {
                        (
                            RegistryKind::HouseholdRvps,
                            RegistryError::Unavailable(format!("ИС МП store: {e}")),
                        )
                    })?;
                let count = legacy
                    .valid_household_rvps
                    .saturating_add(u32::try_from(own).unwrap_or(u32::MAX));
                Ok((
                    rvp::judge_household_quota(true, count, self.law().params.household_limit_per_employer),
                    vec![RegistryKind::HouseholdRvps],
                ))
            }
            Check::PendingPr => {
                let legacy = timed(RegistryKind::PendingPr, t, r.pending_pr.pending_pr(q)).await?;
                let iin_key = req
                    .immigrant
                    .iin
                    .as_deref()
                    .map(iin_key)
                    .unwrap_or_else(|| app.person_key.clone());
                let own = self
                    .store
                    .pending_pr_applications(&app.person_key, &iin_key)
                    .await
                    .map_err(|e| {
                        (
                            RegistryKind::PendingPr,
                            RegistryError::Unavailable(format!("ИС МП store: {e}")),
                        )
                    })?;
                Ok((
                    rvp::judge_pending_pr(legacy.pending || own > 0),
                    vec![RegistryKind::PendingPr],
                ))
            }
            Check::Fingerprints => {
                let a = timed(RegistryKind::Fingerprints, t, r.fingerprints.fingerprints(q)).await?;
                Ok((rvp::judge_fingerprints(a.registered), vec![RegistryKind::Fingerprints]))
            }
        }
    }
}

/// The seven checks of a case whose checks have not run yet: waiting, never attempted, due since
/// the case was accepted; in the order the store lists recorded checks (by name).
pub(crate) fn not_yet_run(app: &ApplicationRow) -> Vec<CheckRow> {
    let mut waiting: Vec<CheckRow> = Check::ALL
        .iter()
        .map(|c| waiting_check(*c, 0, Some(app.created_at.clone()), None))
        .collect();
    waiting.sort_by(|a, b| a.check_name.cmp(&b.check_name));
    waiting
}

/// A check waiting for its (next) attempt.
pub(crate) fn waiting_check(
    check: Check,
    attempts: i64,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
) -> CheckRow {
    CheckRow {
        check_name: Cow::Borrowed(check.as_str()),
        state: Cow::Borrowed("waiting"),
        finding: None,
        source: Cow::Borrowed(source_of(check)),
        checked_at: None,
        attempts,
        next_attempt_at,
        last_error,
    }
}

pub(crate) fn source_of(check: Check) -> &'static str {
    match check {
        Check::Completeness => "intake",
        Check::BorderCrossings => "berkut",
        Check::Records => "police_records+kpsisu",
        Check::Iin => "gbd_fl",
        Check::HouseholdQuota => "household_rvps+is_mp",
        Check::PendingPr => "pending_pr+is_mp",
        Check::Fingerprints => "fingerprints",
    }
}

pub(crate) fn finding_to_json(f: &Finding) -> Value {
    match f {
        Finding::Clear => json!({"result": "clear"}),
        Finding::Ground { code, detail } => json!({"result": "ground", "code": code, "detail": detail}),
        Finding::Officer { code, detail } => json!({"result": "officer", "code": code, "detail": detail}),
    }
}

/// A stored check finding, read back for the decision. Anything but a well-formed finding of a
/// known kind and code that agrees with the row's state is unreadable, and an unreadable finding
/// sends the case to an officer with the reason: it is never read as "clear".
pub(crate) fn finding_from_json(check: &str, state: &str, stored: Option<&str>) -> Finding {
    let unreadable = |why: String| Finding::Officer {
        code: "stored_finding_unreadable",
        detail: format!("the stored finding of check {check} cannot be read ({why}); an officer must establish it"),
    };
    let Some(s) = stored else {
        return unreadable(format!("state {state:?} with no finding"));
    };
    let v: Value = match serde_json::from_str(s) {
        Ok(v) => v,
        Err(e) => return unreadable(format!("not JSON: {e}")),
    };
    // Codes are a closed set: map back to the static strings of the law crate.
    const CODES: &[&str] = &[
        "no_lawful_entry",
        "criminal_or_penalty_record",
        "no_iin",
        "household_limit_reached",
        "household_limit_not_configured",
        "pending_pr_application",
        "no_fingerprint_registration",
        "household_employer_unknown",
        "check_not_run",
        "stored_finding_unreadable",
    ];
    let result = v["result"].as_str().unwrap_or("");
    if result != state {
        return unreadable(format!("result {result:?} disagrees with state {state:?}"));
    }
    let coded = |v: &Value| -> Result<(&'static str, String), String> {
        let c = v["code"].as_str().ok_or("no code")?;
        let code = CODES
            .iter()
            .find(|x| **x == c)
            .copied()
            .ok_or_else(|| format!("unknown code {c:?}"))?;
        let detail = v["detail"].as_str().ok_or("no detail")?.to_string();
        Ok((code, detail))
    };
    match result {
        "clear" => Finding::Clear,
        "ground" => match coded(&v) {
            Ok((code, detail)) => Finding::Ground { code, detail },
            Err(why) => unreadable(why),
        },
        "officer" => match coded(&v) {
            Ok((code, detail)) => Finding::Officer { code, detail },
            Err(why) => unreadable(why),
        },
        other => unreadable(format!("unknown result {other:?}")),
    }
}

/// A case in hand (`Service::processing`) until dropped.
struct InHand<'a> {
    service: &'a Service,
    id: &'a str,
}

impl Drop for InHand<'_> {
    fn drop(&mut self) {
        self.service
            .processing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(self.id);
    }
}
