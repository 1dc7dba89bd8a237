//! Legal clocks: every term of the Rules as a durable timer (`koshi_store::timers`) at the end of
//! the working day it ends on, with an "at risk" companion at the end of the working day before.
//! A clock starts in the unit of the event that starts its term and stops in the unit of the
//! event that ends it; a fired clock writes an audit event and a monitoring stage
//! (`Service::fire_due_timers`). A clock whose instants cannot be computed is an error that is
//! logged and recorded on the case, never dropped in silence.

use jiff::civil::Date;
use koshi_store::{Unit, instant, timers};
use serde_json::json;

use koshi_law::clocks::LegalClock;

use crate::service::{Service, case_event};

/// What a fired timer of `kind` marks (audit action = monitoring stage, citation): the legal
/// clock's overdue or at-risk mark (`koshi_law::clocks`). `None`: a kind Koshi does not know,
/// which is never fired as if it meant something.
pub(crate) fn meaning(kind: &str) -> Option<(&'static str, &'static str)> {
    let (clock, at_risk) = LegalClock::parse(kind)?;
    let m = if at_risk { clock.at_risk() } else { clock.overdue() };
    Some((m.action, m.citation))
}

/// Clocks that end with their case: a fire after the case closed marks nothing.
pub(crate) fn ends_with_case(kind: &str) -> bool {
    LegalClock::parse(kind).is_some_and(|(c, _)| c.ends_with_case())
}

/// A legal clock of a case as its page shows it.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub clock: LegalClock,
    /// The term's end (an instant: the end of its last working day).
    pub due_at: String,
    /// `pending` (running), `fired` (the term ended unmet), `cancelled` (stopped by the act
    /// that ends it).
    pub state: String,
}

impl Service {
    /// The legal clocks of a case the caller may read, soonest first (their "at risk"
    /// companions left out; a stored kind Koshi does not know is left out too, and logged).
    pub async fn case_clocks(
        &self,
        caller: &crate::service::Caller,
        id: &str,
    ) -> Result<Vec<ClockView>, crate::CaseError> {
        let app = self.readable_case(caller, id).await?;
        let mut out = Vec::new();
        for t in self.store.timers_of(&app.id).await? {
            match LegalClock::parse(&t.kind) {
                Some((_, true)) => {}
                Some((clock, false)) => out.push(ClockView {
                    clock,
                    due_at: t.due_at,
                    state: t.state,
                }),
                None => tracing::warn!(case = %app.id, kind = %t.kind, "a timer of an unknown kind is not shown"),
            }
        }
        Ok(out)
    }

    /// Starts a legal clock ending on `due`; its "at risk" companion at the end of the working day
    /// before, when that is still ahead.
    pub(crate) fn start_clock(
        &self,
        unit: &mut Unit,
        clock: LegalClock,
        subject: &str,
        due: Date,
        payload: serde_json::Value,
        version: &'static str,
    ) {
        let kind = clock.kind();
        let kind = kind.as_str();
        let law = self.law();
        let now = self.now();
        let payload_s = payload.to_string();
        let failed = |unit: &mut Unit, what: &str, e: String| {
            tracing::error!(case = %subject, clock = kind, error = %e, "a legal clock cannot be computed: {what}");
            unit.push(case_event(
                subject,
                "system",
                "clock.not_computed",
                "—",
                version,
                json!({"clock": kind, "due": due.to_string(), "what": what, "error": e}),
                &instant(now),
            ));
        };
        let end = match end_of_working_day(&law.calendar, due) {
            Ok(t) => t,
            Err(e) => return failed(unit, "its end", e),
        };
        unit.push(timers::schedule(
            &uuid::Uuid::now_v7().to_string(),
            kind,
            subject,
            &end,
            &payload_s,
        ));
        // A clock stopped earlier and started again (further consideration) runs anew.
        unit.push(timers::revive(kind, subject, &end, &payload_s));
        let at_risk = law
            .calendar
            .subtract_working_days(due, 1)
            .map_err(|e| e.to_string())
            .and_then(|before| end_of_working_day(&law.calendar, before));
        match at_risk {
            // Already at risk when it starts (the day before has ended): no mark to wait for.
            Ok(at_risk) if at_risk <= instant(now) => {}
            Ok(at_risk) => {
                let companion = format!("{kind}.at_risk");
                unit.push(timers::schedule(
                    &uuid::Uuid::now_v7().to_string(),
                    &companion,
                    subject,
                    &at_risk,
                    &payload_s,
                ));
                unit.push(timers::revive(&companion, subject, &at_risk, &payload_s));
            }
            Err(e) => failed(unit, "its at-risk instant", e),
        }
    }

    /// Stops a clock (its term was met) with its "at risk" companion.
    pub(crate) fn stop_clock(unit: &mut Unit, clock: LegalClock, subject: &str) {
        let kind = clock.kind();
        unit.push(timers::cancel(&kind, subject));
        unit.push(timers::cancel(&format!("{kind}.at_risk"), subject));
    }
}

/// The end of working time (18:30 Almaty) on `d` of `cal`, as an instant: the moment a legal
/// clock ending on `d` runs out.
pub(crate) fn end_of_working_day(cal: &koshi_law::calendar::WorkingCalendar, d: Date) -> Result<String, String> {
    let end = cal.hours().work_end;
    cal.time_zone()
        .to_zoned_datetime(d.at(end.hour(), end.minute(), 0, 0))
        .map(|z| instant(z.timestamp()))
        .map_err(|e| e.to_string())
}

impl Service {
    /// п. 9: the RVP's one working day, for a case that is not decided in its first pass (a
    /// straight-through case is decided at once and needs no clock). Scheduling again changes
    /// nothing.
    pub(crate) fn start_rvp_term(
        &self,
        unit: &mut Unit,
        app: &koshi_store::repo::ApplicationRow,
    ) -> Result<(), crate::CaseError> {
        match app.due_on.as_deref().map(str::parse::<Date>) {
            Some(Ok(due)) => self.start_clock(
                unit,
                LegalClock::RvpTerm,
                &app.id,
                due,
                json!({"due_on": due.to_string()}),
                crate::service::known_version(&app.rules_version)?,
            ),
            other => {
                tracing::error!(case = %app.id, "the RVP term cannot be read: no clock");
                unit.push(case_event(
                    &app.id,
                    "system",
                    "clock.not_computed",
                    "—",
                    crate::service::known_version(&app.rules_version)?,
                    json!({"clock": "rvp.term", "what": "its term", "error": format!("{other:?}")}),
                    &instant(self.now()),
                ));
            }
        }
        Ok(())
    }

    /// п. 5 абз. 4: a minor family member recorded with an RVP must apply within ten days of
    /// turning 16. The clock ends on that last day (the missed mark); its reminder fires a month
    /// before the birthday and reaches the recipient through the case's channel. The term is an
    /// obligation to remind of and to mark when missed, never a ground to refuse.
    pub(crate) fn start_age16(
        &self,
        unit: &mut Unit,
        case_id: &str,
        member: usize,
        birth: Date,
        version: &'static str,
    ) {
        let law = self.law();
        let now = self.now();
        let kind = LegalClock::Age16(u16::try_from(member).unwrap_or(u16::MAX)).kind();
        let fail = |unit: &mut Unit, e: String| {
            tracing::error!(case = %case_id, clock = %kind, error = %e, "the age-16 clock cannot be computed");
            unit.push(case_event(
                case_id,
                "system",
                "clock.not_computed",
                "п. 5 абз. 4",
                version,
                json!({"clock": kind, "what": "the age-16 term", "error": e}),
                &instant(now),
            ));
        };
        let a = match koshi_law::terms::age16(&law.calendar, birth) {
            Ok(a) => a,
            Err(e) => return fail(unit, e.to_string()),
        };
        let end = match end_of_working_day(&law.calendar, a.apply_by) {
            Ok(t) => t,
            Err(e) => return fail(unit, e),
        };
        let payload = json!({"member": member, "sixteenth_birthday": a.sixteenth_birthday.to_string(), "due_on": a.apply_by.to_string()}).to_string();
        unit.push(timers::schedule(
            &uuid::Uuid::now_v7().to_string(),
            &kind,
            case_id,
            &end,
            &payload,
        ));
        let remind_on = koshi_law::terms::age16_reminder_on(a.sixteenth_birthday);
        let remind_at = law
            .calendar
            .time_zone()
            .to_zoned_datetime(remind_on.at(9, 0, 0, 0))
            .map(|z| z.timestamp().max(now));
        match remind_at {
            Ok(t) => {
                unit.push(timers::schedule(
                    &uuid::Uuid::now_v7().to_string(),
                    &format!("{kind}.at_risk"),
                    case_id,
                    &instant(t),
                    &payload,
                ));
            }
            Err(e) => fail(unit, e.to_string()),
        }
    }
}
