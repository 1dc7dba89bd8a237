//! Where the facts that decide a case may come from. The first of them: the filing instant,
//! which decides the acceptance day, the term, the version of the Rules and whether a stay had
//! already ended (п. 9-1, end: documents filed after it are not accepted).

use jiff::Timestamp;

use crate::requirements::Channel;

/// How the filing instant of a case was established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilingInstant {
    /// The server's clock when the filing arrived (every channel).
    Server(Timestamp),
    /// A paper filing received at the police desk earlier, entered afterwards by an officer who
    /// gives the paper receipt's number and the reason it is entered late.
    PaperReceipt {
        at: Timestamp,
        receipt_number: String,
        reason: String,
    },
}

impl FilingInstant {
    pub fn at(&self) -> Timestamp {
        match self {
            FilingInstant::Server(t) | FilingInstant::PaperReceipt { at: t, .. } => *t,
        }
    }
}

/// Why a filing instant given with a filing is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingInstantError {
    #[error("the filing instant is the server's: the {0} channel cannot give one")]
    NotFromChannel(&'static str),
    #[error("an earlier filing instant needs the paper receipt's number and the reason it is entered late")]
    NoPaperReceipt,
    #[error("a filing instant cannot be later than now ({now})")]
    InTheFuture { now: Timestamp },
    #[error("a paper receipt is given only with the instant the paper filing was received")]
    ReceiptWithoutInstant,
}

impl FilingInstantError {
    pub fn code(&self) -> &'static str {
        match self {
            FilingInstantError::NotFromChannel(_) => "filed_at_not_allowed",
            FilingInstantError::NoPaperReceipt => "paper_receipt_required",
            FilingInstantError::InTheFuture { .. } => "filed_at_in_the_future",
            FilingInstantError::ReceiptWithoutInstant => "filed_at_required",
        }
    }
}

/// The filing instant of a filing through `channel` arriving `now`, with the instant and the
/// paper receipt (number, reason) the filer gave, if any. Only a police desk may enter a paper
/// filing received earlier, and only with its receipt and a reason; never a later instant; the
/// portal and a ЦОН never give one.
pub fn filing_instant(
    channel: Channel,
    given: Option<Timestamp>,
    paper: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<FilingInstant, FilingInstantError> {
    match (given, paper) {
        (None, None) => Ok(FilingInstant::Server(now)),
        (None, Some(_)) => Err(FilingInstantError::ReceiptWithoutInstant),
        (Some(_), _) if channel != Channel::PoliceDesk => Err(FilingInstantError::NotFromChannel(channel.as_str())),
        (Some(at), _) if at > now => Err(FilingInstantError::InTheFuture { now }),
        (Some(_), None) => Err(FilingInstantError::NoPaperReceipt),
        (Some(at), Some((number, reason))) => {
            if number.trim().is_empty() || reason.trim().is_empty() {
                return Err(FilingInstantError::NoPaperReceipt);
            }
            Ok(FilingInstant::PaperReceipt {
                at,
                receipt_number: number.trim().to_string(),
                reason: reason.trim().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_filing_instant_is_the_servers_unless_a_desk_enters_a_paper_filing() {
        let now = t("2026-02-02T05:00:00Z");
        let earlier = t("2026-01-30T05:00:00Z");
        assert_eq!(
            filing_instant(Channel::Portal, None, None, now),
            Ok(FilingInstant::Server(now))
        );
        for ch in [Channel::Portal, Channel::Con] {
            assert_eq!(
                filing_instant(ch, Some(earlier), Some(("П-17", "entered after an outage")), now)
                    .unwrap_err()
                    .code(),
                "filed_at_not_allowed"
            );
        }
        assert_eq!(
            filing_instant(Channel::PoliceDesk, Some(earlier), None, now)
                .unwrap_err()
                .code(),
            "paper_receipt_required"
        );
        assert_eq!(
            filing_instant(Channel::PoliceDesk, Some(earlier), Some((" ", "x")), now)
                .unwrap_err()
                .code(),
            "paper_receipt_required"
        );
        assert_eq!(
            filing_instant(
                Channel::PoliceDesk,
                Some(t("2026-02-03T05:00:00Z")),
                Some(("П-17", "x")),
                now
            )
            .unwrap_err()
            .code(),
            "filed_at_in_the_future"
        );
        assert_eq!(
            filing_instant(Channel::PoliceDesk, None, Some(("П-17", "x")), now)
                .unwrap_err()
                .code(),
            "filed_at_required"
        );
        let ok = filing_instant(
            Channel::PoliceDesk,
            Some(earlier),
            Some(("П-17", "received on paper")),
            now,
        )
        .unwrap();
        assert_eq!(ok.at(), earlier);
        assert!(matches!(ok, FilingInstant::PaperReceipt { ref receipt_number, .. } if receipt_number == "П-17"));
    }
}
