//! Citations and versions of the Rules: every outcome names the paragraph it rests on and the
//! dated version of the Rules it was taken under.

use std::borrow::Cow;
use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;

/// A reference into the Rules or a law they point to, written as lawyers write it:
/// `п. 9-1 пп. 5`, `App. 1-1 п. 8`, `Law on Migration art. 6-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Citation(Cow<'static, str>);

impl Citation {
    pub const fn new(s: &'static str) -> Citation {
        Citation(Cow::Borrowed(s))
    }
    pub fn owned(s: String) -> Citation {
        Citation(Cow::Owned(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A consolidated version of the Rules of Order No. 992.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesVersion {
    /// Stable identifier, e.g. `992/2024-12-08` (the state of the text "по состоянию на").
    pub id: &'static str,
    /// The amending order whose entry into force starts this version.
    pub last_amendment: &'static str,
    /// Publication day of that order.
    pub published_on: Date,
    /// Where the publication day comes from.
    pub source: &'static str,
}

impl RulesVersion {
    /// The day the version enters into force: amending orders take effect "по истечении десяти
    /// календарных дней после дня его первого официального опубликования", so on the eleventh
    /// day after publication.
    pub fn in_force_from(&self) -> Date {
        amendment_in_force_from(self.published_on)
    }
}

/// Entry into force of an amendment published on `published_on` (ten full calendar days
/// after the day of publication must have passed).
pub fn amendment_in_force_from(published_on: Date) -> Date {
    published_on.checked_add(11.days()).unwrap_or(Date::MAX)
}

/// The versions of the Rules Koshi knows, oldest first.
///
/// The consolidated text "as amended to 08.12.2024" last changed with Order No. 571 of
/// 19.07.2024 (п. 11), in force on 3 August 2024 per KPMG's legal alert [SECONDARY]; its
/// publication day is therefore taken as 23 July 2024. Earlier dates have no version here:
/// Koshi refuses to decide under a text it does not hold.
pub const VERSIONS: &[RulesVersion] = &[RulesVersion {
    id: "992/2024-12-08",
    last_amendment: "Order of the Minister of Internal Affairs No. 571 of 19.07.2024",
    published_on: jiff::civil::date(2024, 7, 23),
    source: "legal-facts §1.2 (KPMG legal alert: in force 3 August 2024) [SECONDARY]",
}];

/// No version of the Rules is known to be in force on the date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no version of the Rules known to Koshi was in force on {0} (the earliest enters into force on {1})")]
pub struct NoVersion(pub Date, pub Date);

/// The version of the Rules in force on `on`.
pub fn version_on(on: Date) -> Result<&'static RulesVersion, NoVersion> {
    VERSIONS
        .iter()
        .rev()
        .find(|v| v.in_force_from() <= on)
        .ok_or_else(|| NoVersion(on, VERSIONS[0].in_force_from()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn p1_amendment_takes_effect_on_the_eleventh_day_after_publication() {
        assert_eq!(amendment_in_force_from(date(2024, 7, 23)), date(2024, 8, 3));
        assert_eq!(amendment_in_force_from(date(2024, 12, 31)), date(2025, 1, 11));
    }

    #[test]
    fn p1_version_in_force_is_looked_up_by_date() {
        assert_eq!(version_on(date(2026, 1, 5)).unwrap().id, "992/2024-12-08");
        assert_eq!(version_on(date(2024, 8, 3)).unwrap().id, "992/2024-12-08");
        assert!(version_on(date(2024, 8, 2)).is_err());
    }
}
