//! п. 9-1: an RVP is formed by an authorised officer. A clean case is prepared without a person
//! (straight-through) and, where configuration names a duty officer account for the case's police
//! body, formed in that officer's name, recorded as such; never before the acceptance day, never
//! on a day off, never outside working time (`koshi_law::rvp::forming_time`), so never valid from
//! before the day it is formed. A case prepared out of that time waits for a durable timer at the
//! start of the next working time; a body without a duty officer leaves the act to its officers.

use jiff::Timestamp;
use koshi_law::rvp::{self, Forming};
use koshi_store::repo::ApplicationRow;
use koshi_store::{Unit, instant, timers};
use serde_json::{Value, json};

use crate::CaseError;
use crate::rvp::payloads::{FormedBy, Issue};
use crate::service::{Service, case_event, known_version, status};

/// The timer that forms a prepared act when working time comes.
pub const FORM_TIMER: &str = "rvp.form";
/// What the decision records as the preparer of such an act.
const PREPARED_BY: &str = "straight_through";

/// The actor a duty officer's act is recorded under.
pub fn duty_actor(account: &str, unit: &str) -> String {
    format!("duty_officer:{account}@{unit}")
}

impl Service {
    /// Forms a clean case's act now in the duty officer's name (`None`), or prepares it and says
    /// when it will be formed (`Some(proposal)`, the case then waits for confirmation).
    pub(crate) fn form_or_prepare(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        v: &rvp::Validity,
        citation: &str,
        now: Timestamp,
    ) -> Result<Option<Value>, CaseError> {
        let mut proposal = json!({"outcome": "issued", "citation": citation, "valid_from": v.valid_from.to_string(), "valid_until": v.valid_until.to_string(), "bounds": crate::rvp::payloads::bounds_json(v), "prepared_by": PREPARED_BY});
        let Some(account) = self.config.duty_officers.get(&app.unit) else {
            proposal["to_be_formed_by"] = json!("an officer of the police body: no duty officer is configured for it");
            return Ok(Some(proposal));
        };
        let accepted_on = accepted_on(app)?;
        match rvp::forming_time(&self.law().calendar, now, accepted_on) {
            Ok(Forming::Now) => {
                self.form_as_duty_officer(unit, app, account, citation, v, &instant(now))?;
                Ok(None)
            }
            Ok(Forming::At(t)) => {
                unit.push(timers::schedule(
                    &uuid::Uuid::now_v7().to_string(),
                    FORM_TIMER,
                    &app.id,
                    &instant(t),
                    &json!({"account": account}).to_string(),
                ));
                proposal["to_be_formed_by"] = json!(duty_actor(account, &app.unit));
                proposal["to_be_formed_at"] = json!(instant(t));
                Ok(Some(proposal))
            }
            Err(e) => {
                proposal["to_be_formed_by"] = json!(format!("an officer: {e}"));
                Ok(Some(proposal))
            }
        }
    }

    /// Issues the prepared act in the name of the police body's duty officer, recorded as such.
    fn form_as_duty_officer(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        account: &str,
        citation: &str,
        v: &rvp::Validity,
        now_s: &str,
    ) -> Result<(), CaseError> {
        let mut issue = Issue::new(citation, v, None);
        issue.formed_by = Some(FormedBy {
            account,
            kind: "duty_officer",
            prepared_by: PREPARED_BY,
            unit: &app.unit,
        });
        self.issue_into(unit, app, &duty_actor(account, &app.unit), issue, now_s)
    }

    /// A fired forming timer: the prepared act is formed now if the case still waits for it and
    /// the law allows it now; a case an officer decided meanwhile is left as it is.
    pub(crate) async fn fire_form_timer(
        &self,
        t: &timers::TimerRow,
        app: &ApplicationRow,
        now: Timestamp,
    ) -> Result<Unit, CaseError> {
        let now_s = instant(now);
        let mut unit = Unit::new();
        let proposal: Value = app
            .decision
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .map(|d| d["proposed"].clone())
            .unwrap_or(Value::Null);
        let waiting = app.status == status::AWAITING_CONFIRMATION
            && proposal["outcome"] == "issued"
            && proposal["prepared_by"] == PREPARED_BY;
        let account = self.config.duty_officers.get(&app.unit);
        let (true, Some(account)) = (waiting, account) else {
            unit.push(timers::fired(&t.id, &self.instance_id, &now_s));
            return Ok(unit);
        };
        let version = known_version(&app.rules_version)?;
        match rvp::forming_time(&self.law().calendar, now, accepted_on(app)?) {
            // Fired late (the instance was down past working time): wait for the next.
            Ok(Forming::At(next)) => {
                unit.push(timers::reschedule(FORM_TIMER, &app.id, &instant(next), &t.payload));
                Ok(unit)
            }
            Ok(Forming::Now) => {
                unit.push(timers::fired(&t.id, &self.instance_id, &now_s));
                let req = crate::stored::rvp_filing(&app.data)?;
                let citation = proposal["citation"].as_str().unwrap_or("п. 9-1 абз. 8").to_string();
                let principal_until = match self.principal_of(&req).await? {
                    Some(p) => match crate::rvp::family::standing(&p)? {
                        crate::rvp::family::Principal::Issued(until) => Some(until),
                        // The member's proposal was made on an issued immigrant; an immigrant not
                        // issued now leaves the member to an officer: nothing is formed.
                        _ => {
                            unit.push(case_event(
                                &app.id,
                                "system",
                                "rvp.form.needs_officer",
                                "п. 9-1 пп. 4",
                                version,
                                json!({"reason": format!("the immigrant's case {} is not issued", p.id)}),
                                &now_s,
                            ));
                            return Ok(unit);
                        }
                    },
                    None => None,
                };
                match self.validity(app, &req, now, None, principal_until) {
                    Ok(v) => {
                        self.form_as_duty_officer(&mut unit, app, account, &citation, &v, &now_s)?;
                    }
                    Err(reason) => {
                        unit.push(case_event(
                            &app.id,
                            "system",
                            "rvp.form.needs_officer",
                            "п. 9-1",
                            version,
                            json!({"reason": reason}),
                            &now_s,
                        ));
                    }
                }
                Ok(unit)
            }
            Err(e) => {
                unit.push(timers::fired(&t.id, &self.instance_id, &now_s));
                unit.push(case_event(
                    &app.id,
                    "system",
                    "rvp.form.needs_officer",
                    "п. 9-1",
                    version,
                    json!({"reason": e.to_string()}),
                    &now_s,
                ));
                Ok(unit)
            }
        }
    }
}

/// The acceptance day of a case; one that cannot be read stops the case for a person.
pub(crate) fn accepted_on(app: &ApplicationRow) -> Result<jiff::civil::Date, CaseError> {
    app.accepted_on.as_deref().and_then(|d| d.parse().ok()).ok_or_else(|| {
        CaseError::conflict(
            "stored_record_unreadable",
            "the case's acceptance day cannot be read; it must be looked at by a person",
        )
    })
}
