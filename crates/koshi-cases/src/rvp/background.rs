//! Background work besides the checks: legal clocks that fire, deliveries that leave, and the
//! outage journal of п. 9-5.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use koshi_law::terms;
use koshi_store::repo::{self};
use koshi_store::{Unit, instant};
use serde_json::{Value, json};

use crate::CaseError;
use crate::delivery::{Failure, Message};

use crate::service::*;

impl Service {
    /// Fires the legal clocks that are due (durable timers): each exactly once, even with several
    /// instances on one database; the mark goes into the case's audit trail with its citation.
    /// The timers of one claim are fired case by case in their due order (a case's "at risk"
    /// mark before its overdue one), [`TIMER_CONCURRENCY`] cases at once, so that their units
    /// share the writer's commits.
    pub async fn fire_due_timers(&self) -> Result<usize, CaseError> {
        let now = self.now();
        let now_s = instant(now);
        let lease = instant(now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now));
        let mut fired = 0;
        loop {
            let mut due = self
                .store
                .claim_due_timers(&self.instance_id, &now_s, &lease, 500)
                .await?;
            if due.is_empty() {
                return Ok(fired);
            }
            // The claim's rows come back in no set order (`UPDATE … RETURNING`): in due order.
            due.sort_by(|a, b| (&a.due_at, &a.id).cmp(&(&b.due_at, &b.id)));
            let mut by_case: Vec<Vec<koshi_store::timers::TimerRow>> = Vec::new();
            let mut index: BTreeMap<String, usize> = BTreeMap::new();
            for t in due {
                let i = *index.entry(t.subject.clone()).or_insert_with(|| {
                    by_case.push(Vec::new());
                    by_case.len() - 1
                });
                by_case[i].push(t);
            }
            let now_s = &now_s;
            let mut runs = futures::stream::iter(by_case.into_iter().map(|timers| async move {
                let mut n = 0;
                for t in &timers {
                    if self.fire_timer(t, now, now_s).await? {
                        n += 1;
                    }
                }
                Ok::<usize, CaseError>(n)
            }))
            .buffer_unordered(TIMER_CONCURRENCY);
            // Every case of the claim runs to its end, a failure in one included (none is cut
            // off halfway); the first failure is returned after.
            let mut failed = None;
            while let Some(n) = runs.next().await {
                match n {
                    Ok(n) => fired += n,
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
    }

    /// Fires one claimed timer: `true` when its unit was written, `false` when it was left for a
    /// person or a later pass (logged) or another instance fired it first.
    async fn fire_timer(
        &self,
        t: &koshi_store::timers::TimerRow,
        now: Timestamp,
        now_s: &str,
    ) -> Result<bool, CaseError> {
        if t.kind == crate::rvp::family::FAMILY_TIMER {
            return match self.fire_family_timer(t, now_s).await {
                Ok(fired) => Ok(fired),
                Err(e) => {
                    tracing::warn!(timer = %t.id, case = %t.subject, error = %e.detail, "family member not decided yet; retried");
                    Ok(false)
                }
            };
        }
        if t.kind == crate::rvp::forming::FORM_TIMER {
            let unit = match self.store.application(&t.subject).await {
                Ok(Some(app)) => self.fire_form_timer(t, &app, now).await,
                _ => Err(CaseError::not_found("application")),
            };
            return match unit {
                Ok(unit) => self.write_fired(unit).await,
                Err(e) => {
                    tracing::error!(timer = %t.id, case = %t.subject, error = %e.detail, "forming timer not fired: its case cannot be read");
                    Ok(false)
                }
            };
        }
        let Some((action, cite)) = crate::clocks::meaning(&t.kind) else {
            tracing::error!(timer = %t.id, kind = %t.kind, "timer not fired: Koshi does not know its kind");
            return Ok(false);
        };
        // The event is recorded under the case's own version of the Rules; a case that
        // cannot be read, or a version Koshi does not know, leaves the timer unfired (it
        // is claimed again when its lease ends) and is logged for operations: never an
        // event recorded under an unknown version.
        let app = match self.store.application(&t.subject).await {
            Ok(Some(app)) => app,
            _ => {
                tracing::error!(timer = %t.id, kind = %t.kind, case = %t.subject, "timer not fired: its case cannot be read");
                return Ok(false);
            }
        };
        let Ok(version) = known_version(&app.rules_version) else {
            tracing::error!(timer = %t.id, kind = %t.kind, case = %t.subject, "timer not fired: the case's rules version is unknown");
            return Ok(false);
        };
        let detail: Value = match serde_json::from_str(&t.payload) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(timer = %t.id, kind = %t.kind, error = %e, "timer not fired: its payload cannot be read");
                return Ok(false);
            }
        };
        let mut unit = Unit::new().with(koshi_store::timers::fired(&t.id, &self.instance_id, now_s));
        let closed = matches!(
            app.status.as_str(),
            "issued" | "refused" | "refused_to_accept" | "annulled" | "withdrawn"
        );
        // A term that ends with its case (the RVP's working day) marks nothing once the
        // case is decided: the clock simply ends.
        if !(closed && crate::clocks::ends_with_case(&t.kind)) {
            unit.push(case_event(
                &t.subject,
                "system",
                action,
                cite,
                version,
                json!({"timer": t.kind, "due": detail}),
                now_s,
            ));
            unit.push(self.monitoring(&t.subject, action, now_s, version));
            if action == "rvp.age16.reminder" {
                // п. 5 абз. 4: the recipient is reminded through the case's channel that
                // the minor must apply within ten days of turning 16.
                unit.push(outbox_message(
                    &t.subject,
                    result_topic(&app.channel),
                    json!({"application_id": t.subject, "document": "age16_reminder", "member": detail["member"], "sixteenth_birthday": detail["sixteenth_birthday"], "apply_by": detail["due_on"], "citation": "п. 5 абз. 4"}).to_string(),
                    now_s,
                ));
            }
        }
        self.write_fired(unit).await
    }

    /// Writes a fired timer's unit: `false` when another instance took the timer after this
    /// one's lease ran out (it fired there).
    async fn write_fired(&self, unit: Unit) -> Result<bool, CaseError> {
        match self.store.write(unit).await {
            Ok(()) => Ok(true),
            Err(koshi_store::StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    // ------------------------------------------------------------------ outbox

    /// Delivers due outbox messages (at least once): claims up to [`OUTBOX_BATCH`] under a
    /// lease, delivers each topic's messages concurrently (topics in parallel), and records the
    /// results in one unit. A failed attempt is retried with backoff; a refusal by the receiver
    /// is kept as `rejected`. Returns how many messages were claimed (a full batch: call again).
    pub async fn deliver_due(&self) -> Result<usize, CaseError> {
        let now = self.now();
        let now_s = instant(now);
        let lease = instant(now.checked_add(OUTBOX_LEASE).unwrap_or(now));
        let due = self.store.claim_outbox(&now_s, &lease, OUTBOX_BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut unit = Unit::new();
        // A message that cannot be read is never delivered as an empty one: it stays in the
        // outbox, failed, for operations to see.
        let mut readable: Vec<(&repo::OutboxRow, Value)> = Vec::with_capacity(due.len());
        for m in &due {
            match serde_json::from_str::<Value>(&m.payload) {
                Ok(v) => readable.push((m, v)),
                Err(e) => {
                    tracing::error!(message = %m.id, topic = %m.topic, error = %e, "an outbox message cannot be read: not delivered");
                    unit.push(repo::outbox_failed(
                        &m.id,
                        &instant(now.checked_add(SignedDuration::from_hours(1)).unwrap_or(now)),
                        "payload unreadable",
                    ));
                }
            }
        }
        let mut by_topic: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, (m, _)) in readable.iter().enumerate() {
            by_topic.entry(m.topic.as_str()).or_default().push(i);
        }
        let sends = by_topic.iter().map(|(topic, idx)| {
            let messages: Vec<Message<'_>> = idx
                .iter()
                .map(|&i| Message {
                    id: &readable[i].0.id,
                    payload: &readable[i].0.payload,
                    request_id: readable[i].0.request_id.as_deref(),
                })
                .collect();
            async move { (idx, self.sink.deliver_many(topic, &messages).await) }
        });
        let results = futures::future::join_all(sends).await;
        let metrics = crate::metrics::get();
        let mut failing: BTreeMap<&str, (String, i64)> = BTreeMap::new();
        let mut answered: Vec<&str> = Vec::new();
        for (idx, outcomes) in results {
            for (&i, outcome) in idx.iter().zip(outcomes) {
                let (m, payload) = &readable[i];
                match outcome {
                    Ok(()) => {
                        metrics.delivery(&m.topic, "delivered", 1);
                        unit.push(repo::outbox_delivered(&m.id, &now_s));
                        if !answered.contains(&m.topic.as_str()) {
                            answered.push(&m.topic);
                        }
                        // The notification reached its recipient (п. 14 пп. 5) and, for a ЦОН,
                        // the ЦОН (п. 15): their clocks stop.
                        if payload["document"] == "notification"
                            && let Some(case) = m.application_id.as_deref()
                        {
                            Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::Notification, case);
                            if m.topic == "delivery.iis_con" {
                                Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::ConDelivery, case);
                            }
                        }
                    }
                    Err(Failure::Rejected(e)) => {
                        // The receiver answered: it is up, and a person must look at the message.
                        tracing::error!(message = %m.id, topic = %m.topic, error = %e, "the receiver refused an outbox message: kept as rejected");
                        if !answered.contains(&m.topic.as_str()) {
                            answered.push(&m.topic);
                        }
                        metrics.delivery(&m.topic, "rejected", 1);
                        unit.push(repo::outbox_rejected(&m.id, &now_s, &e));
                    }
                    Err(Failure::Retry(e)) => {
                        metrics.delivery(&m.topic, "retry", 1);
                        // A message counts as delayed once, at its first failed attempt.
                        let entry = failing.entry(&m.topic).or_insert_with(|| (e.clone(), 0));
                        entry.1 += i64::from(m.attempts == 0);
                        let backoff = SignedDuration::from_secs((30i64 << m.attempts.clamp(0, 5)).min(900));
                        unit.push(repo::outbox_failed(
                            &m.id,
                            &instant(now.checked_add(backoff).unwrap_or(now)),
                            &e,
                        ));
                    }
                }
            }
        }
        let failing: Vec<(&str, &str, i64)> = failing.iter().map(|(t, (e, n))| (*t, e.as_str(), *n)).collect();
        self.journal_outages(&mut unit, "outbox:", &failing, &answered, now)
            .await?;
        self.store.write(unit).await?;
        Ok(due.len())
    }
}

/// Relay passes running at once in an instance: while one waits for the database, another
/// sends (their claims never overlap).
pub const RELAY_WORKERS: usize = 4;

/// Cases whose due timers one background pass fires at once (each case's in order).
pub const TIMER_CONCURRENCY: usize = 64;

/// Outbox messages claimed at once by one relay pass.
pub const OUTBOX_BATCH: i64 = 1000;
/// How long a claim on outbox messages holds: longer than a batch may take (1,000 messages, 64
/// at a time, each given up after the 10 s webhook timeout: 160 s at worst). Messages claimed by
/// an instance that dies are sent by another once the lease ends.
pub const OUTBOX_LEASE: SignedDuration = SignedDuration::from_secs(300);

impl Service {
    /// The outage journal of п. 9-5, for every system Koshi sends messages to or asks (the
    /// registries of the checks, ГБД ФЛ at a ЦОН, each outbox destination as `outbox:<topic>`):
    /// one open outage per failing system, its delayed messages counted, journaled once the delay
    /// passes one hour, closed by the first success with what was done.
    pub(crate) async fn journal_outages(
        &self,
        unit: &mut Unit,
        prefix: &str,
        failures: &[(&str, &str, i64)],
        successes: &[&str],
        now: Timestamp,
    ) -> Result<(), CaseError> {
        let now_s = instant(now);
        let mut known = self.open_outages.lock().await;
        if known.is_none() {
            let open: BTreeSet<String> = self
                .store
                .outages(1000)
                .await?
                .into_iter()
                .filter(|o| o.ended_at.is_none())
                .map(|o| o.registry)
                .collect();
            *known = Some(open);
        }
        let known = known.get_or_insert_with(BTreeSet::new);
        for (name, err, delayed) in failures {
            let system = format!("{prefix}{name}");
            match self.store.open_outage(&system).await? {
                None => unit.push(repo::open_outage(&repo::OutageRow {
                    id: new_id(),
                    registry: system.clone(),
                    started_at: now_s.clone(),
                    ended_at: None,
                    journaled_at: None,
                    last_error: (*err).to_string(),
                    failed_attempts: 1,
                    delayed: *delayed,
                    action: outage_action(&system).into(),
                })),
                Some(o) => unit.push(repo::outage_failed_again(&o.id, err, journal_at(&o, now)?, *delayed)),
            };
            known.insert(system);
        }
        // The common case, no outage open: nothing to close, nothing allocated.
        if known.is_empty() {
            return Ok(());
        }
        for &name in successes {
            if failures.iter().any(|(f, _, _)| *f == name)
                || !known.iter().any(|k| k.strip_prefix(prefix) == Some(name))
            {
                continue;
            }
            let system = format!("{prefix}{name}");
            if let Some(o) = self.store.open_outage(&system).await? {
                let action = format!("{}; answered again at {now_s}", outage_action(&system));
                unit.push(repo::close_outage(&o.id, &now_s, journal_at(&o, now)?, &action));
            }
            known.remove(&system);
        }
        Ok(())
    }
}

/// What Koshi does while a system is out (п. 9-5: measures to find and remove the cause).
pub(crate) fn outage_action(system: &str) -> &'static str {
    if system.starts_with("outbox:") {
        "messages kept in the outbox and delivered again with backoff (at least once)"
    } else if system == "gbd_fl@con" {
        "ЦОН filings not taken (503): the operator files again when ГБД ФЛ answers"
    } else {
        "the cases wait with their checks retried with backoff; none is decided on a missing answer"
    }
}

pub(crate) fn journal_at(o: &repo::OutageRow, now: Timestamp) -> Result<Option<String>, CaseError> {
    let started = koshi_store::parse_instant(&o.started_at)?;
    Ok(terms::outage_must_be_journaled(now.duration_since(started)).then(|| instant(now)))
}
