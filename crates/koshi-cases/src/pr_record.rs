//! The PR case's record (issue 14 item 1): what the steps after intake decide — the grounds found
//! at intake, the conclusion (App. 9) and the drafts the approving post returned, the hearings
//! (п. 17), the approval (п. 15), the annulment (App. 11) with its exit RVP (п. 21) — as types
//! instead of JSON edits. It is stored as the case's `decision` in the shape written since the
//! first PR release, so old rows still read; a record whose known fields do not read (a date
//! that is not a date, an outcome Koshi does not know) stops the step for a person
//! (`stored_record_unreadable`), and a field an earlier version wrote that this one does not
//! read is kept as it was (`kept`), never dropped.

use jiff::civil::Date;
use koshi_store::repo::ApplicationRow;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::CaseError;
use crate::model::Ground;

/// What an earlier version recorded that this one does not read, kept as it was.
type Kept = Map<String, Value>;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PrRecord {
    /// Grounds to refuse the service found at intake (issue 14 item 9), named on the talon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounds_at_intake: Option<Vec<Ground>>,
    /// Grounds found at intake that a hearing set aside (п. 17): they stay on the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grounds_at_intake_set_aside: Option<Vec<Ground>>,
    /// The conclusion drafted (App. 9), until approved or returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<Conclusion>,
    /// Drafts the approving post returned with a comment (п. 15 абз. 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub returned_drafts: Vec<ReturnedDraft>,
    /// The hearing before a refusal (п. 17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Hearing>,
    /// Hearings of earlier drafts: a new refusal needs a hearing of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_hearings: Vec<Hearing>,
    /// The approval of the conclusion (п. 15 абз. 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// `issued`, `refused` or `annulled`: the act approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concluded_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit_number: Option<String>,
    /// The notification (App. 10) is due by this day (п. 14 пп. 5; п. 15 абз. 1 for a ЦОН).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_by: Option<Date>,
    /// The conclusion of annulment (App. 11, п. 18), drafted and then approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annulment: Option<Annulment>,
    /// The hearing before an annulment (п. 17, 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annulment_hearing: Option<Hearing>,
    /// An annulment the holder's hearing dropped: the permit stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annulment_dropped: Option<Annulment>,
    #[serde(flatten)]
    pub kept: Kept,
}

/// The conclusion's outcome (App. 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Issue,
    Refuse,
}

/// A ground of a refusal or an annulment as recorded: the ground's code (a check, a ground of the
/// requirements, or one found at intake), the facts, and the paragraph when it was named.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecordedGround {
    pub ground: Option<String>,
    #[serde(default)]
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    #[serde(flatten)]
    pub kept: Kept,
}

impl RecordedGround {
    pub fn new(ground: &str, detail: &str, citation: Option<&str>) -> RecordedGround {
        RecordedGround {
            ground: Some(ground.into()),
            detail: detail.into(),
            citation: citation.map(str::to_owned),
            kept: Kept::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Conclusion {
    pub outcome: Outcome,
    pub form: String,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<RecordedGround>,
    pub drafted_by: String,
    /// The instant it was drafted (RFC 3339 UTC).
    pub drafted_at: String,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(flatten)]
    pub kept: Kept,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReturnedDraft {
    pub returned_by: String,
    #[serde(default)]
    pub post: Option<String>,
    pub returned_at: String,
    pub comment: String,
    /// The draft as it stood when returned.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    pub citation: String,
    #[serde(flatten)]
    pub kept: Kept,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hearing {
    pub notice_on: Date,
    /// The day the notice announced; nothing is recorded before it.
    pub hearing_on: Date,
    /// The adverse act not before this day (3 working days after the notice).
    pub act_not_before: Date,
    pub citation: String,
    /// Written positions received before the hearing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written_positions: Vec<WrittenPosition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// `continue` or `refuse` (before a refusal), `keep` or `annul` (before an annulment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(flatten)]
    pub kept: Kept,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WrittenPosition {
    pub received_on: Date,
    pub received_by: String,
    pub position: String,
    #[serde(flatten)]
    pub kept: Kept,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Approval {
    pub approved_by: String,
    #[serde(default)]
    pub post: Option<String>,
    pub approved_at: String,
    pub citation: String,
    #[serde(flatten)]
    pub kept: Kept,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Annulment {
    pub form: String,
    #[serde(default)]
    pub grounds: Vec<RecordedGround>,
    pub drafted_by: String,
    pub drafted_at: String,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    /// The day the holder must leave by (п. 21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_by: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_rvp: Option<ExitRvp>,
    #[serde(flatten)]
    pub kept: Kept,
}

/// The RVP to leave by (п. 21) issued with an annulment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExitRvp {
    pub number: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub citation: String,
    /// The status of the calendar year the validity was counted on.
    pub calendar_status: String,
    #[serde(flatten)]
    pub kept: Kept,
}

impl PrRecord {
    /// The case's record; none yet is an empty one. One that does not read stops the step.
    pub fn of(app: &ApplicationRow) -> Result<PrRecord, CaseError> {
        match app.decision.as_deref() {
            None => Ok(PrRecord::default()),
            Some(d) => PrRecord::parse(d),
        }
    }

    /// The record of a case that must have one (a conclusion, a hearing, an approval was made).
    pub fn required(app: &ApplicationRow) -> Result<PrRecord, CaseError> {
        PrRecord::parse(
            app.decision
                .as_deref()
                .ok_or_else(|| CaseError::unreadable("decision"))?,
        )
    }

    pub fn parse(stored: &str) -> Result<PrRecord, CaseError> {
        serde_json::from_str(stored).map_err(|_| CaseError::unreadable("decision"))
    }

    /// As stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// As shown in an answer.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The hearing before a refusal, or before an annulment.
    pub fn hearing_mut(&mut self, annulment: bool) -> &mut Option<Hearing> {
        if annulment {
            &mut self.annulment_hearing
        } else {
            &mut self.hearing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the PR steps wrote it before they were typed: a refused conclusion with a
    /// returned draft, a hearing held and a written position, a null the hearing left.
    const STORED: &str = r#"{"conclusion":null,"grounds_at_intake_set_aside":[{"code":"reapplication_bar","document":null,"check":null,"citation":"п. 22","detail":"refused on 2026-03-02"}],"earlier_hearings":[{"notice_on":"2026-04-01","hearing_on":"2026-04-02","act_not_before":"2026-04-06","citation":"п. 17","held_on":"2026-04-02","position":"disagrees","result":"continue","written_positions":[{"received_on":"2026-04-01","received_by":"officer:1","position":"in writing"}]}],"returned_drafts":[{"returned_by":"head:2","post":"head_of_department","returned_at":"2026-04-10T05:00:00Z","comment":"name the bank","conclusion":{"outcome":"issue","form":"App. 9","citation":"п. 14 пп. 4","drafted_by":"officer:1","drafted_at":"2026-04-09T05:00:00Z","comment":null},"citation":"п. 15 абз. 2"}],"annulment":null,"legacy_note":"kept"}"#;

    #[test]
    fn a_record_written_before_the_types_reads_and_keeps_what_it_does_not_know() {
        let r = PrRecord::parse(STORED).unwrap();
        assert!(r.conclusion.is_none() && r.annulment.is_none());
        assert_eq!(r.earlier_hearings[0].hearing_on, Date::new(2026, 4, 2).unwrap());
        assert_eq!(r.earlier_hearings[0].written_positions[0].position, "in writing");
        assert_eq!(
            r.returned_drafts[0].conclusion.as_ref().map(|c| c.outcome),
            Some(Outcome::Issue)
        );
        assert_eq!(
            r.grounds_at_intake_set_aside.as_ref().map(|g| g[0].citation.as_str()),
            Some("п. 22")
        );
        assert_eq!(r.kept.get("legacy_note"), Some(&Value::from("kept")));
        // Written again, it reads the same: nothing dropped.
        assert_eq!(PrRecord::parse(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn a_field_that_does_not_read_stops_the_step() {
        for bad in [
            r#"{"hearing":{"notice_on":"soon","hearing_on":"2026-04-02","act_not_before":"2026-04-06","citation":"п. 17"}}"#,
            r#"{"conclusion":{"outcome":"maybe","form":"App. 9","citation":"п. 14","drafted_by":"x","drafted_at":"t"}}"#,
            r#"["not", "a", "record"]"#,
            "",
        ] {
            let e = PrRecord::parse(bad).unwrap_err();
            assert_eq!(e.code, "stored_record_unreadable", "{bad}");
        }
    }
}
