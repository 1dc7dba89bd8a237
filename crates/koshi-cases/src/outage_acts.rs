//! Acts of failure (п. 9-1 абз. 13 пп. 1; issue 14 item 2): documents from a timely applicant
//! whose stay expired because an information system failed are accepted with an act signed by
//! the State Corporation and the provider. Koshi keeps the act: the ЦОН that took the earlier,
//! timely application signs it naming the journaled outage (п. 9-5) during which it was taken;
//! the police body of that application countersigns; the late filing names the act, which must
//! be the same person's, and serves one filing. The filer's word alone never opens the exception.

use jiff::civil::Date;
use koshi_law::rvp::LateException;
use koshi_store::repo::{self, OutageActRow};
use koshi_store::{Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::{ApplicationRequest, Ground, OutageActRequest, OutageActView};
use crate::service::{Caller, Service, iin_key};

const CITATION: &str = "п. 9-1 абз. 13 пп. 1";

fn view(a: OutageActRow) -> OutageActView {
    OutageActView {
        id: a.id,
        number: a.number,
        outage_id: a.outage_id,
        failure_on: a.failure_on,
        earlier_application_id: a.earlier_application_id,
        con_unit: a.con_unit,
        con_signed_by: a.con_signed_by,
        con_signed_at: a.con_signed_at,
        police_unit: a.police_unit,
        police_signed_by: a.police_signed_by,
        police_signed_at: a.police_signed_at,
        used_by: a.used_by,
        citation: CITATION.into(),
    }
}

fn ground(code: &str, detail: String) -> Ground {
    Ground {
        code: code.into(),
        document: Some("outage_act".into()),
        check: None,
        citation: CITATION.into(),
        detail,
    }
}

impl Service {
    /// The ЦОН signs an act of failure for an application it took during a journaled outage.
    pub async fn sign_outage_act(&self, caller: &Caller, r: OutageActRequest) -> Result<OutageActView, CaseError> {
        self.authz.allow(caller, "outage_act.sign")?;
        let outage = self.store.outage(&r.outage_id).await?.ok_or_else(|| {
            CaseError::unprocessable("unknown_outage", "/outage_id", "no outage of the journal has this id")
        })?;
        if outage.journaled_at.is_none() {
            return Err(CaseError::conflict(
                "outage_not_journaled",
                "the outage is not in the special journal (п. 9-5: a delay of more than an hour): no act of failure rests on it",
            ));
        }
        let earlier = self
            .store
            .application(&r.earlier_application_id)
            .await?
            .ok_or_else(|| {
                CaseError::unprocessable(
                    "unknown_application",
                    "/earlier_application_id",
                    "no application has this id",
                )
            })?;
        if earlier.filed_unit != caller.unit {
            return Err(CaseError::forbidden(format!(
                "the earlier application was taken by {}, not by {}: that ЦОН signs the act",
                earlier.filed_unit, caller.unit
            )));
        }
        let during = earlier.filed_at >= outage.started_at
            && outage
                .ended_at
                .as_deref()
                .is_none_or(|end| earlier.filed_at.as_str() <= end);
        if !during {
            return Err(CaseError::conflict(
                "application_not_during_outage",
                "the earlier application was not taken while the outage lasted: the failure did not affect it",
            ));
        }
        let started = outage
            .started_at
            .parse::<jiff::Timestamp>()
            .map_err(|_| CaseError::conflict("stored_record_unreadable", "the outage's start cannot be read"))?;
        let failure_on = self.law().calendar.civil(started).date();
        let req = crate::stored::rvp_filing(&earlier.data)?;
        let now_s = instant(self.now());
        let id = uuid::Uuid::now_v7().to_string();
        let row = OutageActRow {
            number: format!("AF-{}", &id[id.len() - 12..].to_uppercase()),
            id: id.clone(),
            outage_id: outage.id.clone(),
            failure_on: failure_on.to_string(),
            earlier_application_id: earlier.id.clone(),
            person_key: earlier.person_key.clone(),
            iin_key: req
                .immigrant
                .iin
                .as_deref()
                .map(iin_key)
                .unwrap_or_else(|| earlier.person_key.clone()),
            con_unit: caller.unit.clone(),
            con_signed_by: caller.actor(),
            con_signed_at: now_s.clone(),
            police_unit: earlier.unit.clone(),
            police_signed_by: None,
            police_signed_at: None,
            used_by: None,
            created_at: now_s.clone(),
        };
        let event = crate::service::case_event(
            &earlier.id,
            &caller.actor(),
            "outage_act.signed",
            CITATION,
            crate::service::known_version(&earlier.rules_version)?,
            json!({"act": row.id, "number": row.number, "outage": outage.id, "failure_on": row.failure_on}),
            &now_s,
        );
        // One act per earlier application: a second would open a second late filing.
        self.store
            .write(Unit::new().with(repo::insert_outage_act(&row)).with(event))
            .await
            .map_err(|e| match e {
                koshi_store::StoreError::Conflict(_) => CaseError::conflict(
                    "outage_act_exists",
                    "an act of failure is already drawn up for this application",
                ),
                other => other.into(),
            })?;
        Ok(view(row))
    }

    /// The police body of the earlier application countersigns the act.
    pub async fn countersign_outage_act(&self, caller: &Caller, id: &str) -> Result<OutageActView, CaseError> {
        self.authz.allow(caller, "outage_act.countersign")?;
        let act = self
            .store
            .outage_act(id)
            .await?
            .ok_or_else(|| CaseError::not_found("outage act"))?;
        if !self.authz.serves(&caller.unit, &act.police_unit) {
            return Err(CaseError::forbidden(format!(
                "the act is countersigned by the police body {}, which unit {} does not serve",
                act.police_unit, caller.unit
            )));
        }
        if act.police_signed_at.is_some() {
            return Err(CaseError::conflict(
                "already_countersigned",
                "the act is countersigned already",
            ));
        }
        let now_s = instant(self.now());
        self.store
            .write(Unit::new().with(repo::countersign_outage_act(id, &caller.actor(), &now_s)))
            .await?;
        self.outage_act_view(caller, id).await
    }

    pub async fn outage_act_view(&self, caller: &Caller, id: &str) -> Result<OutageActView, CaseError> {
        self.authz.allow(caller, "outage_act.read")?;
        let act = self
            .store
            .outage_act(id)
            .await?
            .ok_or_else(|| CaseError::not_found("outage act"))?;
        match self.authz.allow(caller, "outage_act.read")? {
            crate::authz::Scope::All => {}
            crate::authz::Scope::OwnUnits
                if self.authz.serves(&caller.unit, &act.police_unit)
                    || self.authz.serves(&caller.unit, &act.con_unit) => {}
            crate::authz::Scope::OwnUnits => return Err(CaseError::not_found("outage act")),
        }
        Ok(view(act))
    }

    /// The act a late filing names, as the exception of п. 9-1 (the law core then checks its
    /// failure day against the stay): or the ground on which it does not serve this filing.
    pub(crate) async fn outage_act_for(
        &self,
        act_id: &str,
        req: &ApplicationRequest,
        passport_key: &str,
        stay_until: Date,
    ) -> Result<Result<LateException, Ground>, CaseError> {
        let act = self.store.outage_act(act_id).await?.ok_or_else(|| {
            CaseError::unprocessable(
                "unknown_outage_act",
                "/late_exception/act_id",
                "no act of failure has this id",
            )
        })?;
        let iin = req.immigrant.iin.as_deref().map(iin_key);
        if act.person_key != passport_key && Some(&act.iin_key) != iin.as_ref() {
            return Ok(Err(ground(
                "outage_act_of_another_person",
                format!("act {} was drawn up for another person's application", act.number),
            )));
        }
        if act.police_signed_at.is_none() {
            return Ok(Err(ground(
                "outage_act_unsigned",
                format!(
                    "act {} is not countersigned by the police body {}",
                    act.number, act.police_unit
                ),
            )));
        }
        if let Some(used) = &act.used_by {
            return Ok(Err(ground(
                "outage_act_used",
                format!("act {} already served the filing {used}", act.number),
            )));
        }
        let earlier = self
            .store
            .application(&act.earlier_application_id)
            .await?
            .ok_or_else(|| {
                CaseError::conflict(
                    "stored_record_unreadable",
                    "the act's earlier application cannot be read",
                )
            })?;
        let filed = earlier.filed_at.parse::<jiff::Timestamp>().map_err(|_| {
            CaseError::conflict(
                "stored_record_unreadable",
                "the earlier application's filing instant cannot be read",
            )
        })?;
        let filed_on = self.law().calendar.civil(filed).date();
        if filed_on > stay_until {
            return Ok(Err(ground(
                "earlier_application_not_timely",
                format!("the earlier application of {filed_on} was filed after the stay ended on {stay_until}"),
            )));
        }
        let failure_on = act
            .failure_on
            .parse()
            .map_err(|_| CaseError::conflict("stored_record_unreadable", "the act's failure day cannot be read"))?;
        Ok(Ok(LateException::OutageAct {
            act_number: act.number,
            failure_on,
        }))
    }
}
