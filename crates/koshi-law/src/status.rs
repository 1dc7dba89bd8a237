//! The statuses of a case and the transitions the Rules allow between them, each with the
//! paragraph that allows it (issue 14 item 1). The services change a case's status only through
//! [`transition`]; a status Koshi does not know, or a move the table does not hold, is refused.
//! The status names are the ones stored since the first wave, so old rows still read.

/// The two services of the Rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Chapter 2: the temporary residence permit.
    Rvp,
    /// Chapter 3: the permanent residence permit.
    Pr,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// п. 6, 13, 16-1: the documents were not accepted (a receipt of refusal).
    RefusedToAccept,
    /// RVP: accepted, the checks of п. 9-1 run.
    Checking,
    /// RVP: the checks are in and a decision is proposed; a person forms it.
    AwaitingConfirmation,
    /// RVP: a check could not be judged automatically; an officer decides.
    AwaitingOfficer,
    /// PR: registered in the journal (App. 8, п. 14 пп. 1).
    Registered,
    /// PR: the requests of п. 14 пп. 2–3 went out.
    AwaitingAnswers,
    /// PR: every answer is in; the conclusion is due (п. 14 пп. 4).
    ConclusionDue,
    /// PR: a conclusion to refuse waits for its hearing notice (п. 17).
    HearingRequired,
    /// PR: the hearing is announced (п. 17).
    HearingNotified,
    /// PR: the conclusion (App. 9) waits for approval (п. 15).
    ConclusionDrafted,
    /// PR: a conclusion of annulment (App. 11) waits for its hearing notice (п. 17, 18).
    AnnulmentHearingRequired,
    /// PR: the hearing before the annulment is announced.
    AnnulmentHearingNotified,
    /// PR: the conclusion of annulment waits for approval (п. 15).
    AnnulmentDrafted,
    /// The permit is issued.
    Issued,
    /// The service is refused (RVP п. 9-3; PR п. 17).
    Refused,
    /// PR: the permit is annulled (п. 18–21).
    Annulled,
}

impl Status {
    pub const ALL: [Status; 16] = [
        Status::RefusedToAccept,
        Status::Checking,
        Status::AwaitingConfirmation,
        Status::AwaitingOfficer,
        Status::Registered,
        Status::AwaitingAnswers,
        Status::ConclusionDue,
        Status::HearingRequired,
        Status::HearingNotified,
        Status::ConclusionDrafted,
        Status::AnnulmentHearingRequired,
        Status::AnnulmentHearingNotified,
        Status::AnnulmentDrafted,
        Status::Issued,
        Status::Refused,
        Status::Annulled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Status::RefusedToAccept => "refused_to_accept",
            Status::Checking => "checking",
            Status::AwaitingConfirmation => "awaiting_confirmation",
            Status::AwaitingOfficer => "awaiting_officer",
            Status::Registered => "registered",
            Status::AwaitingAnswers => "awaiting_answers",
            Status::ConclusionDue => "conclusion_due",
            Status::HearingRequired => "hearing_required",
            Status::HearingNotified => "hearing_notified",
            Status::ConclusionDrafted => "conclusion_drafted",
            Status::AnnulmentHearingRequired => "annulment_hearing_required",
            Status::AnnulmentHearingNotified => "annulment_hearing_notified",
            Status::AnnulmentDrafted => "annulment_drafted",
            Status::Issued => "issued",
            Status::Refused => "refused",
            Status::Annulled => "annulled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A case that no step moves on (a PR permit moves on only to its annulment).
    pub fn is_final(self) -> bool {
        matches!(self, Status::RefusedToAccept | Status::Refused | Status::Annulled)
    }
}

/// A move the Rules allow, and the paragraph that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub service: Service,
    pub from: Status,
    pub to: Status,
    pub citation: &'static str,
}

const fn t(service: Service, from: Status, to: Status, citation: &'static str) -> Transition {
    Transition {
        service,
        from,
        to,
        citation,
    }
}

use Service::{Pr, Rvp};
use Status::*;

/// Every move of a case's status the services make. (The first status of a case, accepted or
/// refused to accept at intake, is set by the intake itself: п. 6, 12, 13, 16-1.)
pub const TRANSITIONS: &[Transition] = &[
    // Chapter 2.
    t(
        Rvp,
        Checking,
        AwaitingConfirmation,
        "п. 9-1 (checks in; a decision is proposed)",
    ),
    t(Rvp, Checking, AwaitingOfficer, "п. 9-1 (a check needs an officer)"),
    t(Rvp, Checking, Issued, "п. 9-1 абз. 8 (formed by the duty officer)"),
    t(Rvp, AwaitingConfirmation, Issued, "п. 9-1 абз. 8"),
    t(Rvp, AwaitingConfirmation, Refused, "п. 9-3"),
    t(Rvp, AwaitingOfficer, Issued, "п. 9-1 абз. 8"),
    t(Rvp, AwaitingOfficer, Refused, "п. 9-3"),
    // Chapter 3.
    t(Pr, Registered, AwaitingAnswers, "п. 14 пп. 2–3"),
    t(Pr, Registered, HearingRequired, "п. 17 (a ground found at intake)"),
    t(Pr, AwaitingAnswers, ConclusionDue, "п. 14 пп. 4"),
    t(Pr, AwaitingAnswers, HearingRequired, "п. 17 (a ground found at intake)"),
    t(Pr, ConclusionDue, ConclusionDrafted, "п. 14 пп. 4"),
    t(Pr, ConclusionDue, HearingRequired, "п. 14 пп. 4; п. 17"),
    t(Pr, HearingRequired, HearingNotified, "п. 17"),
    t(Pr, HearingNotified, ConclusionDue, "п. 17 (further consideration)"),
    t(
        Pr,
        HearingNotified,
        AwaitingAnswers,
        "п. 17 (further consideration: the answers still due)",
    ),
    t(
        Pr,
        HearingNotified,
        Registered,
        "п. 17 (further consideration: the requests not yet sent)",
    ),
    t(Pr, HearingNotified, ConclusionDrafted, "п. 17"),
    t(Pr, ConclusionDrafted, Issued, "п. 15 абз. 2"),
    t(Pr, ConclusionDrafted, Refused, "п. 15 абз. 2; п. 17"),
    t(
        Pr,
        ConclusionDrafted,
        ConclusionDue,
        "п. 15 абз. 2 (not approved: returned to the officer with a comment)",
    ),
    t(Pr, Issued, AnnulmentHearingRequired, "п. 18"),
    t(Pr, AnnulmentHearingRequired, AnnulmentHearingNotified, "п. 17; п. 18"),
    t(Pr, AnnulmentHearingNotified, Issued, "п. 17; п. 18 (the permit stands)"),
    t(Pr, AnnulmentHearingNotified, AnnulmentDrafted, "п. 18"),
    t(Pr, AnnulmentDrafted, Annulled, "п. 15 абз. 2; п. 19–21"),
];

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the stored status {0:?} is not one Koshi knows")]
    UnknownStatus(String),
    #[error("a case does not move from {from} to {to}")]
    NotAllowed { from: &'static str, to: &'static str },
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::UnknownStatus(_) => "stored_record_unreadable",
            TransitionError::NotAllowed { .. } => "transition_not_allowed",
        }
    }
}

/// The move of a case of `service` from `from` to `to`: the table's entry, or `None` when the
/// status stays (the record changes, e.g. an answer among several, a written position).
pub fn transition(service: Service, from: &str, to: &str) -> Result<Option<&'static Transition>, TransitionError> {
    let parse = |s: &str| Status::parse(s).ok_or_else(|| TransitionError::UnknownStatus(s.to_string()));
    let (f, t) = (parse(from)?, parse(to)?);
    if f == t && !f.is_final() {
        return Ok(None);
    }
    TRANSITIONS
        .iter()
        .find(|x| x.service == service && x.from == f && x.to == t)
        .map(Some)
        .ok_or(TransitionError::NotAllowed {
            from: f.as_str(),
            to: t.as_str(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_status_reads_back_and_the_table_cites_each_move() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        let mut seen = BTreeSet::new();
        for x in TRANSITIONS {
            assert!(x.citation.starts_with("п. "), "{x:?}");
            assert!(seen.insert((x.service as u8, x.from, x.to)), "twice: {x:?}");
            assert!(!x.from.is_final(), "a final status moves on: {x:?}");
            assert_ne!(x.from, x.to);
        }
    }

    #[test]
    fn every_status_of_a_service_is_reached_and_left_as_the_rules_say() {
        // From intake, every status of the service is reachable through the table.
        for (service, first) in [(Rvp, Checking), (Pr, Registered)] {
            let mut reached = BTreeSet::from([first]);
            loop {
                let next: Vec<Status> = TRANSITIONS
                    .iter()
                    .filter(|x| x.service == service && reached.contains(&x.from))
                    .map(|x| x.to)
                    .filter(|s| !reached.contains(s))
                    .collect();
                if next.is_empty() {
                    break;
                }
                reached.extend(next);
            }
            let used: BTreeSet<Status> = TRANSITIONS
                .iter()
                .filter(|x| x.service == service)
                .flat_map(|x| [x.from, x.to])
                .collect();
            assert_eq!(reached, used, "{service:?}");
        }
        // The law's order holds: no PR permit without an approved conclusion, no refusal
        // without a hearing, no annulment without one.
        assert!(transition(Pr, "conclusion_due", "issued").is_err());
        assert!(transition(Pr, "hearing_required", "refused").is_err());
        assert!(transition(Pr, "issued", "annulled").is_err());
        assert!(transition(Pr, "annulment_hearing_required", "annulment_drafted").is_err());
        assert!(
            transition(Rvp, "checking", "refused").is_err(),
            "a refusal waits for a person"
        );
        assert!(transition(Rvp, "refused", "issued").is_err());
        assert_eq!(
            transition(Rvp, "awaiting_officer", "issued").unwrap().unwrap().citation,
            "п. 9-1 абз. 8"
        );
        assert_eq!(transition(Pr, "awaiting_answers", "awaiting_answers"), Ok(None));
        assert_eq!(
            transition(Pr, "wibble", "issued").unwrap_err().code(),
            "stored_record_unreadable"
        );
    }
}
