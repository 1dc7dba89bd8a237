//! The bodies a PR case goes to (п. 14 пп. 2–3), each answer's term, and who may answer for each
//! (issue 14 item 2): an agency's answer comes from the agency, through its own identity or port;
//! the case officer may record a paper answer only with the act's number and date under
//! attestation, and never the national-security approval (Law on Migration art. 49: no PR without
//! it) nor the УМС ДП's (the approving directorate answers in the same system).

use jiff::civil::Date;

use crate::terms::{self, PrStage};

/// A body asked in п. 14 пп. 2–3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agency {
    /// пп. 2: the УМС ДП approves the case file (through ИС МП).
    UmsDp,
    /// пп. 3 абз. 2: the bank confirms the solvency documents are genuine.
    Bank,
    /// пп. 3 абз. 3: the records of the internal affairs bodies.
    PoliceRecords,
    /// пп. 3 абз. 4: the records of КПСиСУ.
    Kpsisu,
    /// пп. 3 абз. 5: the national security bodies' approval, through «Беркут».
    NationalSecurity,
}

/// Where an agency's answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerSource {
    /// The agency itself: its own system identity or port (for the УМС ДП, one of its officers).
    TheAgency,
    /// A paper answer entered by the case officer, who attests it: the act's number and date.
    OfficerPaperAct {
        number: String,
        date: Date,
        attestation: String,
    },
}

/// Why an answer is not accepted from its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerSourceError {
    #[error("the {0} answer comes from the agency itself, never from the case officer")]
    AgencyOnly(&'static str),
    #[error("an answer the officer enters from paper names the act's number and date and the officer's attestation")]
    PaperActRequired,
    #[error("the act's number is 1 to 64 characters")]
    BadActNumber,
    #[error("the act is dated {date}, before the request went out on {sent_on}")]
    ActBeforeRequest { date: Date, sent_on: Date },
    #[error("the act is dated {date}, after today ({today})")]
    ActInTheFuture { date: Date, today: Date },
}

impl AnswerSourceError {
    pub fn code(&self) -> &'static str {
        match self {
            AnswerSourceError::AgencyOnly(_) => "answer_from_agency_only",
            AnswerSourceError::PaperActRequired => "paper_act_required",
            AnswerSourceError::BadActNumber => "invalid_act_number",
            AnswerSourceError::ActBeforeRequest { .. } => "act_before_request",
            AnswerSourceError::ActInTheFuture { .. } => "act_in_the_future",
        }
    }
}

impl Agency {
    pub const ALL: [Agency; 5] = [
        Agency::UmsDp,
        Agency::Bank,
        Agency::PoliceRecords,
        Agency::Kpsisu,
        Agency::NationalSecurity,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Agency::UmsDp => "ums_dp",
            Agency::Bank => "bank",
            Agency::PoliceRecords => "police_records",
            Agency::Kpsisu => "kpsisu",
            Agency::NationalSecurity => "national_security",
        }
    }

    pub fn parse(s: &str) -> Option<Agency> {
        Agency::ALL.into_iter().find(|a| a.code() == s)
    }

    pub fn citation(self) -> &'static str {
        match self {
            Agency::UmsDp => "п. 14 пп. 2",
            Agency::Bank => "п. 14 пп. 3 абз. 2",
            Agency::PoliceRecords => "п. 14 пп. 3 абз. 3",
            Agency::Kpsisu => "п. 14 пп. 3 абз. 4",
            Agency::NationalSecurity => "п. 14 пп. 3 абз. 5",
        }
    }

    /// May the case officer enter this agency's answer from paper?
    pub fn paper_answer_allowed(self) -> bool {
        !matches!(self, Agency::UmsDp | Agency::NationalSecurity)
    }

    /// The day the answer is due for a request sent on `sent_on`, within the service term.
    pub fn answer_due(self, sent_on: Date, service_due: Date) -> Date {
        let due = match self {
            Agency::NationalSecurity => terms::pr_stage_due(PrStage::NationalSecurity, sent_on, service_due),
            // The УМС ДП's approval has no term of its own: it must leave the conclusion (10 days)
            // and the notification (3 days) inside the service term.
            Agency::UmsDp => terms::add_days(
                service_due,
                -(PrStage::Conclusion.days() + PrStage::Notification.days()),
            ),
            _ => terms::pr_stage_due(PrStage::Requests, sent_on, service_due),
        };
        due.min(service_due)
    }

    /// Is an answer of this agency accepted from `source`, for a request sent on `sent_on`,
    /// recorded `today`?
    pub fn accepts(self, source: &AnswerSource, sent_on: Date, today: Date) -> Result<(), AnswerSourceError> {
        match source {
            AnswerSource::TheAgency => Ok(()),
            AnswerSource::OfficerPaperAct { .. } if !self.paper_answer_allowed() => {
                Err(AnswerSourceError::AgencyOnly(self.code()))
            }
            AnswerSource::OfficerPaperAct {
                number,
                date,
                attestation,
            } => {
                let n = number.trim().chars().count();
                if n == 0 || n > 64 {
                    return Err(AnswerSourceError::BadActNumber);
                }
                if attestation.trim().is_empty() {
                    return Err(AnswerSourceError::PaperActRequired);
                }
                if *date < sent_on {
                    return Err(AnswerSourceError::ActBeforeRequest { date: *date, sent_on });
                }
                if *date > today {
                    return Err(AnswerSourceError::ActInTheFuture { date: *date, today });
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn paper(number: &str, d: Date) -> AnswerSource {
        AnswerSource::OfficerPaperAct {
            number: number.into(),
            date: d,
            attestation: "письмо банка получено нарочно".into(),
        }
    }

    #[test]
    fn every_agency_answers_itself_and_only_some_on_paper() {
        let (sent, today) = (date(2026, 2, 2), date(2026, 2, 5));
        for a in Agency::ALL {
            assert_eq!(Agency::parse(a.code()), Some(a));
            assert!(a.accepts(&AnswerSource::TheAgency, sent, today).is_ok());
            let on_paper = a.accepts(&paper("12/34", date(2026, 2, 4)), sent, today);
            assert_eq!(on_paper.is_ok(), a.paper_answer_allowed(), "{a:?}");
        }
        // Art. 49: the national-security approval never comes from the officer's hand.
        assert_eq!(
            Agency::NationalSecurity
                .accepts(&paper("1", date(2026, 2, 4)), sent, today)
                .unwrap_err()
                .code(),
            "answer_from_agency_only"
        );
    }

    #[test]
    fn a_paper_act_is_numbered_attested_and_dated_between_the_request_and_today() {
        let (sent, today) = (date(2026, 2, 2), date(2026, 2, 5));
        let bank = Agency::Bank;
        let code = |s: AnswerSource| bank.accepts(&s, sent, today).map_err(|e| e.code());
        assert_eq!(code(paper("", date(2026, 2, 3))), Err("invalid_act_number"));
        assert_eq!(code(paper("1", date(2026, 2, 1))), Err("act_before_request"));
        assert_eq!(code(paper("1", date(2026, 2, 6))), Err("act_in_the_future"));
        assert_eq!(code(paper("1", sent)), Ok(()));
        assert_eq!(code(paper("1", today)), Ok(()));
        let unattested = AnswerSource::OfficerPaperAct {
            number: "1".into(),
            date: today,
            attestation: "  ".into(),
        };
        assert_eq!(code(unattested), Err("paper_act_required"));
    }
}
