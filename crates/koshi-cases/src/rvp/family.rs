//! Family members arriving together (п. 9-1 пп. 4; issue 14 item 7): each member's case is its
//! own, filed with the immigrant's under the same receipt, checked on its own (IIN, «Беркут»,
//! records, fingerprints, a pending PR) and decided on its own; when issued, each member gets an
//! RVP of its own, valid no longer than the immigrant's. A member's stay rests on the immigrant's:
//! while the immigrant's case is undecided the member's waits, an immigrant refused is a ground
//! to refuse the member, and the immigrant's decision wakes the members (a durable timer).

use jiff::civil::Date;
use koshi_store::repo::ApplicationRow;
use koshi_store::{Unit, instant, timers};
use serde_json::{Value, json};

use crate::CaseError;
use crate::model::{ApplicationRequest, FamilyOf};
use crate::service::{Service, case_event, known_version, person_key, status};

/// The timer that decides a waiting member once the immigrant's case is decided.
pub const FAMILY_TIMER: &str = "rvp.family";

/// Where the immigrant's case stands, for a member's decision.
pub(crate) enum Principal {
    /// Issued: the member's RVP is valid no longer than this day.
    Issued(Date),
    /// Refused (or not accepted): the member's stay has no basis.
    Refused(String),
    /// Not decided yet: the member waits.
    Pending,
}

/// The principal's standing, from its row.
pub(crate) fn standing(principal: &ApplicationRow) -> Result<Principal, CaseError> {
    match principal.status.as_str() {
        "issued" => principal
            .valid_until
            .as_deref()
            .and_then(|d| d.parse().ok())
            .map(Principal::Issued)
            .ok_or_else(|| {
                CaseError::conflict(
                    "stored_record_unreadable",
                    "the immigrant's permit validity cannot be read: a family member's case waits for a person",
                )
            }),
        "refused" | "refused_to_accept" => Ok(Principal::Refused(principal.id.clone())),
        _ => Ok(Principal::Pending),
    }
}

/// The ground to refuse a member whose immigrant was refused (п. 9-3).
pub(crate) fn principal_refused_ground(principal_id: &str) -> Value {
    json!({"ground": "principal_refused", "code": "principal_refused", "detail": format!("the RVP of the immigrant the family member arrives with (case {principal_id}) is refused: the member's stay rests on it"), "citation": "п. 9-3; п. 9-1 пп. 4"})
}

impl Service {
    /// The immigrant's case of a member's case (`None` for an immigrant's own case).
    pub(crate) async fn principal_of(&self, req: &ApplicationRequest) -> Result<Option<ApplicationRow>, CaseError> {
        let Some(f) = &req.family_of else { return Ok(None) };
        self.store.application(&f.principal_id).await?.map(Some).ok_or_else(|| {
            CaseError::conflict(
                "stored_record_unreadable",
                "the immigrant's case of this family member cannot be read",
            )
        })
    }

    /// The case rows of the family members filed with `principal` (accepted), with `ids` the
    /// receipt names them by; written in the immigrant's intake unit.
    pub(crate) fn member_cases(
        &self,
        unit: &mut Unit,
        principal: &ApplicationRow,
        req: &ApplicationRequest,
        ids: &[String],
        version: &'static str,
    ) -> Result<(), CaseError> {
        for ((i, member), id) in req.family.iter().enumerate().zip(ids) {
            let mut own = req.clone();
            own.immigrant = member.person.clone();
            own.family = Vec::new();
            own.late_exception = None;
            own.family_of = Some(FamilyOf {
                principal_id: principal.id.clone(),
                member: i,
                relationship: member.relationship.clone(),
            });
            let row = ApplicationRow {
                id: id.clone(),
                data: crate::stored::rvp_data(&own)?,
                employer_iin: None,
                household: 0,
                person_key: person_key(&member.person.citizenship, &member.person.document.number),
                ..principal.clone()
            };
            unit.push_all(koshi_store::repo::insert_application(&row));
            unit.push_all(crate::stored::party_ops(&row)?);
            unit.push(case_event(
                id,
                &principal.created_by,
                "intake.accepted_as_family_member",
                "п. 6 абз. 2; п. 9-1 пп. 4",
                version,
                json!({"principal": principal.id, "member": i, "relationship": member.relationship}),
                &principal.created_at,
            ));
            unit.push(self.monitoring(id, "accepted", &principal.created_at, version));
        }
        Ok(())
    }

    /// The immigrant's case is decided: each member waiting for it is decided next (a timer due
    /// now, fired by the background pass).
    pub(crate) fn wake_family(unit: &mut Unit, principal: &ApplicationRow, now_s: &str) {
        // Most cases have no family: the receipt is parsed only when it names member cases.
        if !principal.receipt.contains("\"family_cases\"") {
            return;
        }
        let Ok(receipt) = serde_json::from_str::<crate::model::Receipt>(&principal.receipt) else {
            tracing::error!(case = %principal.id, "the receipt cannot be read: its family members are not woken");
            return;
        };
        // A member's own receipt is the immigrant's: a member wakes nobody.
        if receipt.family_cases.contains(&principal.id) {
            return;
        }
        for member in &receipt.family_cases {
            unit.push(timers::schedule(
                &uuid::Uuid::now_v7().to_string(),
                FAMILY_TIMER,
                member,
                now_s,
                "{}",
            ));
        }
    }

    /// A fired family timer: the member's case is processed (its checks are in, so it is
    /// decided). The timer stays claimed (and is taken up again) while the member still waits for
    /// a decided immigrant, e.g. because its case was in hand elsewhere.
    pub(crate) async fn fire_family_timer(&self, t: &timers::TimerRow, now_s: &str) -> Result<bool, CaseError> {
        self.process(&t.subject).await?;
        let Some(member) = self.store.application(&t.subject).await? else {
            return Ok(false);
        };
        if member.status == status::CHECKING {
            let req = crate::stored::rvp_filing(&member.data)?;
            if let Some(p) = self.principal_of(&req).await?
                && !matches!(standing(&p)?, Principal::Pending)
            {
                return Ok(false);
            }
        }
        self.store
            .write(Unit::new().with(timers::fired(&t.id, &self.instance_id, now_s)))
            .await?;
        Ok(true)
    }

    /// The member waits for the immigrant's decision: recorded once per pass that finds it so.
    pub(crate) fn await_principal(
        &self,
        unit: &mut Unit,
        member: &ApplicationRow,
        principal_id: &str,
    ) -> Result<(), CaseError> {
        let now_s = instant(self.now());
        unit.push(case_event(
            &member.id,
            "system",
            "family.awaiting_principal",
            "п. 9-1 пп. 4",
            known_version(&member.rules_version)?,
            json!({"principal": principal_id}),
            &now_s,
        ));
        self.start_rvp_term(unit, member)
    }
}
