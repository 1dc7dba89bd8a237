//! The legal clocks of the Rules: every term a case runs against, what its paragraph is, and
//! what it means when it is at risk or overdue (issue 14 item 1). Services start, stop and fire
//! clocks by this type; the stored timer kind is its `kind()` (the names stored since the first
//! wave, so old timers still fire), with `.at_risk` for the companion mark.

use crate::agencies::Agency;

/// A term of the Rules that a case runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegalClock {
    /// п. 9: the RVP's one working day.
    RvpTerm,
    /// п. 14 пп. 2: the case to the УМС ДП.
    SendToUms,
    /// п. 14 пп. 4: the conclusion after the last answer.
    Conclusion,
    /// App. 3 п. 3; п. 14: the PR service term.
    ServiceTerm,
    /// п. 14 пп. 3: an agency's answer.
    AnswerDue(Agency),
    /// п. 14 пп. 5: the written notification.
    Notification,
    /// п. 15 абз. 1: the result at the ЦОН a day before the term ends.
    ConDelivery,
    /// п. 20: leaving within 30 days of an annulment.
    ExitDeadline,
    /// п. 5 абз. 4: a minor family member applies within 10 days of turning 16 (the member's
    /// place in the family table).
    Age16(u16),
}

/// What a fired clock marks on the case: the audit action (also the monitoring stage) and the
/// paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub action: &'static str,
    pub citation: &'static str,
}

impl LegalClock {
    /// The stored timer kind.
    pub fn kind(&self) -> String {
        match self {
            LegalClock::RvpTerm => "rvp.term".into(),
            LegalClock::SendToUms => "pr.stage.send_to_ums".into(),
            LegalClock::Conclusion => "pr.stage.conclusion".into(),
            LegalClock::ServiceTerm => "pr.service_term".into(),
            LegalClock::AnswerDue(a) => format!("pr.answer_due.{}", a.code()),
            LegalClock::Notification => "pr.notification".into(),
            LegalClock::ConDelivery => "pr.con_delivery".into(),
            LegalClock::ExitDeadline => "pr.exit_deadline".into(),
            LegalClock::Age16(member) => format!("rvp.age16.{member}"),
        }
    }

    /// The clock of a stored timer kind, and whether it is the "at risk" companion; `None` for a
    /// kind Koshi does not know (never fired as if it meant something).
    pub fn parse(kind: &str) -> Option<(LegalClock, bool)> {
        let (base, at_risk) = match kind.strip_suffix(".at_risk") {
            Some(b) => (b, true),
            None => (kind, false),
        };
        let clock = match base {
            "rvp.term" => LegalClock::RvpTerm,
            "pr.stage.send_to_ums" => LegalClock::SendToUms,
            "pr.stage.conclusion" => LegalClock::Conclusion,
            "pr.service_term" => LegalClock::ServiceTerm,
            "pr.notification" => LegalClock::Notification,
            "pr.con_delivery" => LegalClock::ConDelivery,
            "pr.exit_deadline" => LegalClock::ExitDeadline,
            k => {
                if let Some(a) = k.strip_prefix("pr.answer_due.") {
                    LegalClock::AnswerDue(Agency::parse(a)?)
                } else if let Some(m) = k.strip_prefix("rvp.age16.") {
                    LegalClock::Age16(m.parse().ok()?)
                } else {
                    return None;
                }
            }
        };
        Some((clock, at_risk))
    }

    /// The paragraph the term comes from.
    pub fn citation(&self) -> &'static str {
        match self {
            LegalClock::RvpTerm => "п. 9",
            LegalClock::SendToUms => "п. 14 пп. 2",
            LegalClock::Conclusion => "п. 14 пп. 4",
            LegalClock::ServiceTerm => "App. 3 п. 3; п. 14",
            LegalClock::AnswerDue(_) => "п. 14 пп. 3",
            LegalClock::Notification => "п. 14 пп. 5",
            LegalClock::ConDelivery => "п. 15 абз. 1",
            LegalClock::ExitDeadline => "п. 20",
            LegalClock::Age16(_) => "п. 5 абз. 4",
        }
    }

    /// What the case is marked with when the term ends unmet.
    pub fn overdue(&self) -> Mark {
        let action = match self {
            LegalClock::RvpTerm => "rvp.term.overdue",
            LegalClock::SendToUms | LegalClock::Conclusion => "pr.stage.overdue",
            LegalClock::ServiceTerm => "pr.term.overdue",
            LegalClock::AnswerDue(_) => "pr.answer.overdue",
            LegalClock::Notification => "pr.notification.overdue",
            LegalClock::ConDelivery => "pr.con_delivery.overdue",
            LegalClock::ExitDeadline => "pr.exit_deadline.passed",
            LegalClock::Age16(_) => "rvp.age16.missed",
        };
        Mark {
            action,
            citation: self.citation(),
        }
    }

    /// What the case is marked with at the end of the working day before (or, for the age-16
    /// term, a month before the birthday: the reminder).
    pub fn at_risk(&self) -> Mark {
        let (action, citation) = match self {
            LegalClock::RvpTerm => ("rvp.term.at_risk", self.citation()),
            LegalClock::SendToUms | LegalClock::Conclusion | LegalClock::ServiceTerm | LegalClock::AnswerDue(_) => {
                ("pr.stage.at_risk", "п. 14")
            }
            LegalClock::Notification => ("pr.notification.at_risk", self.citation()),
            LegalClock::ConDelivery => ("pr.con_delivery.at_risk", self.citation()),
            LegalClock::ExitDeadline => ("pr.exit_deadline.at_risk", self.citation()),
            LegalClock::Age16(_) => ("rvp.age16.reminder", self.citation()),
        };
        Mark { action, citation }
    }

    /// A term that ends with its case: once the case is decided it marks nothing.
    pub fn ends_with_case(&self) -> bool {
        matches!(self, LegalClock::RvpTerm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clock_reads_back_from_its_kind_and_cites_its_paragraph() {
        let mut all = vec![
            LegalClock::RvpTerm,
            LegalClock::SendToUms,
            LegalClock::Conclusion,
            LegalClock::ServiceTerm,
            LegalClock::Notification,
            LegalClock::ConDelivery,
            LegalClock::ExitDeadline,
            LegalClock::Age16(0),
            LegalClock::Age16(3),
        ];
        all.extend(Agency::ALL.map(LegalClock::AnswerDue));
        for c in all {
            assert_eq!(LegalClock::parse(&c.kind()), Some((c, false)));
            assert_eq!(LegalClock::parse(&format!("{}.at_risk", c.kind())), Some((c, true)));
            assert!(c.citation().starts_with("п. ") || c.citation().starts_with("App. "));
            assert!(c.overdue().action.contains('.') && c.at_risk().action.contains('.'));
        }
        assert_eq!(LegalClock::parse("pr.answer_due.weather"), None);
        assert_eq!(LegalClock::parse("rvp.age16.x"), None);
        assert_eq!(LegalClock::parse("something.else"), None);
        assert!(LegalClock::RvpTerm.ends_with_case() && !LegalClock::ExitDeadline.ends_with_case());
    }
}
