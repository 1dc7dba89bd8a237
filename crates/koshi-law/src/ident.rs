//! Identifiers: ИИН (individual identification number, п. 2 пп. 16) and БИН (business
//! identification number). Both are 12 digits with the same check digit (legal-facts §7).

use std::fmt;

use jiff::civil::Date;

/// Why a string is not an IIN or a BIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("must be exactly 12 digits")]
    NotTwelveDigits,
    #[error("the check digit does not match (expected {expected})")]
    CheckDigit { expected: u8 },
    #[error("no valid number exists with these first 11 digits (the check digit computes to 10 twice)")]
    UnusablePrefix,
    #[error("the registration month {0:02} is not a month")]
    BadMonth(u8),
}

impl IdentError {
    pub fn code(&self) -> &'static str {
        match self {
            IdentError::NotTwelveDigits => "ident_not_twelve_digits",
            IdentError::CheckDigit { .. } => "ident_check_digit",
            IdentError::UnusablePrefix => "ident_unusable_prefix",
            IdentError::BadMonth(_) => "ident_bad_month",
        }
    }
}

/// The check digit of an 11-digit prefix, or `None` when no valid number exists for it.
pub fn check_digit(prefix: &[u8; 11]) -> Option<u8> {
    let sum =
        |weights: [u32; 11]| -> u32 { prefix.iter().zip(weights).map(|(&d, w)| u32::from(d) * w).sum::<u32>() % 11 };
    let first = sum([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    if first != 10 {
        return Some(first as u8);
    }
    let second = sum([3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2]);
    if second != 10 { Some(second as u8) } else { None }
}

fn digits(s: &str) -> Result<[u8; 12], IdentError> {
    let b = s.as_bytes();
    if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
        return Err(IdentError::NotTwelveDigits);
    }
    let mut out = [0u8; 12];
    for (o, c) in out.iter_mut().zip(b) {
        *o = c - b'0';
    }
    Ok(out)
}

fn checked(s: &str) -> Result<[u8; 12], IdentError> {
    let d = digits(s)?;
    let mut prefix = [0u8; 11];
    prefix.copy_from_slice(&d[..11]);
    match check_digit(&prefix) {
        None => Err(IdentError::UnusablePrefix),
        Some(c) if c != d[11] => Err(IdentError::CheckDigit { expected: c }),
        Some(_) => Ok(d),
    }
}

/// Sex as encoded by the IIN's 7th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
}

/// A valid ИИН. Parsing checks the digits and the check digit strictly; the birth date and sex
/// are derived only when the 7th digit and the date agree (legacy foreigners' IINs may not
/// follow the layout, so they are not refused for it: legal-facts §7).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iin([u8; 12]);

impl Iin {
    pub fn parse(s: &str) -> Result<Iin, IdentError> {
        checked(s.trim()).map(Iin)
    }

    /// Sex from the 7th digit (1–6), when it follows the layout.
    pub fn sex(&self) -> Option<Sex> {
        match self.0[6] {
            1 | 3 | 5 => Some(Sex::Male),
            2 | 4 | 6 => Some(Sex::Female),
            _ => None,
        }
    }

    /// Birth date from digits 1–6 and the century in digit 7, when both are consistent.
    pub fn birth_date(&self) -> Option<Date> {
        let d = &self.0;
        let century_digit = d[6];
        if !(1..=6).contains(&century_digit) {
            return None;
        }
        let century = 1800 + 100 * i16::from((century_digit - 1) / 2);
        let yy = i16::from(d[0] * 10 + d[1]);
        let mm = (d[2] * 10 + d[3]) as i8;
        let dd = (d[4] * 10 + d[5]) as i8;
        Date::new(century + yy, mm, dd).ok()
    }

    pub fn as_str(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The masked form for logs and lists: the first two and last two digits only.
    pub fn masked(&self) -> String {
        let s = self.as_str();
        format!("{}********{}", &s[..2], &s[10..])
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for Iin {
    // Personal data never reaches logs through Debug.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({})", self.masked())
    }
}

/// A valid БИН: digits 1–4 are the registration year and month (YYMM), the check digit as for
/// the IIN. The meaning of digits 5–6 (kind of entity, head office or branch) is read but not
/// used to refuse anything.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bin([u8; 12]);

impl Bin {
    pub fn parse(s: &str) -> Result<Bin, IdentError> {
        let d = checked(s.trim())?;
        let month = d[2] * 10 + d[3];
        if !(1..=12).contains(&month) {
            return Err(IdentError::BadMonth(month));
        }
        Ok(Bin(d))
    }

    /// Registration year (two digits) and month.
    pub fn registered(&self) -> (u8, u8) {
        (self.0[0] * 10 + self.0[1], self.0[2] * 10 + self.0[3])
    }

    pub fn as_str(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl fmt::Debug for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bin({})", self.as_str())
    }
}

/// Completes an 11-digit prefix with its check digit (for fixtures and tests).
pub fn complete(prefix: &str) -> Option<String> {
    let b = prefix.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut p = [0u8; 11];
    for (o, c) in p.iter_mut().zip(b) {
        *o = c - b'0';
    }
    check_digit(&p).map(|c| format!("{prefix}{c}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iin_check_digit_matches_the_reference_example() {
        // legal-facts §7: prefix 90010130001 gives check digit 7.
        assert_eq!(complete("90010130001").as_deref(), Some("900101300017"));
        let iin = Iin::parse("900101300017").unwrap();
        assert_eq!(iin.birth_date(), Some(Date::new(1990, 1, 1).unwrap()));
        assert_eq!(iin.sex(), Some(Sex::Male));
    }

    #[test]
    fn iin_table() {
        let cases: &[(&str, Result<(), IdentError>)] = &[
            ("900101300017", Ok(())),
            ("900101300018", Err(IdentError::CheckDigit { expected: 7 })),
            ("90010130001", Err(IdentError::NotTwelveDigits)),
            ("9001013000170", Err(IdentError::NotTwelveDigits)),
            ("90010130001a", Err(IdentError::NotTwelveDigits)),
            ("", Err(IdentError::NotTwelveDigits)),
            ("９００１０１３０００１７", Err(IdentError::NotTwelveDigits)),
        ];
        for (s, want) in cases {
            assert_eq!(Iin::parse(s).map(|_| ()), *want, "{s}");
        }
    }

    #[test]
    fn iin_second_weights_used_when_first_sum_is_ten() {
        // Find a prefix whose first weighted sum is 10, then check the second pass is used.
        let mut found = false;
        for serial in 0..10_000u32 {
            let prefix = format!("8505154{serial:04}");
            let p: Vec<u8> = prefix.bytes().map(|c| c - b'0').collect();
            let first: u32 = p.iter().zip(1..=11u32).map(|(&d, w)| u32::from(d) * w).sum::<u32>() % 11;
            if first == 10 {
                let second: u32 = p
                    .iter()
                    .zip([3u32, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])
                    .map(|(&d, w)| u32::from(d) * w)
                    .sum::<u32>()
                    % 11;
                let got = complete(&prefix);
                if second == 10 {
                    assert_eq!(got, None);
                } else {
                    assert_eq!(got, Some(format!("{prefix}{second}")));
                    found = true;
                }
            }
        }
        assert!(found);
    }

    #[test]
    fn iin_century_and_sex() {
        let iin = Iin::parse(&complete("05031560001").unwrap()).unwrap();
        assert_eq!(iin.birth_date(), Some(Date::new(2005, 3, 15).unwrap()));
        assert_eq!(iin.sex(), Some(Sex::Female));
        let legacy = Iin::parse(&complete("99023080001").unwrap()).unwrap(); // 30 Feb, digit 8
        assert_eq!(legacy.birth_date(), None);
        assert_eq!(legacy.sex(), None);
    }

    #[test]
    fn iin_debug_is_masked() {
        let iin = Iin::parse("900101300017").unwrap();
        assert_eq!(format!("{iin:?}"), "Iin(90********17)");
    }

    #[test]
    fn bin_requires_a_month() {
        let ok = complete("16054001234").unwrap();
        assert!(Bin::parse(&ok).is_ok());
        let bad = complete("16134001234").unwrap();
        assert_eq!(Bin::parse(&bad), Err(IdentError::BadMonth(13)));
    }

    proptest! {
        #[test]
        fn completed_prefixes_parse_and_any_other_last_digit_fails(prefix in "[0-9]{11}", other in 0u8..10) {
            if let Some(full) = complete(&prefix) {
                prop_assert!(Iin::parse(&full).is_ok());
                let last = full.as_bytes()[11] - b'0';
                if other != last {
                    let wrong = format!("{prefix}{other}");
                    prop_assert!(Iin::parse(&wrong).is_err());
                }
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,20}") {
            let _ = Iin::parse(&s);
            let _ = Bin::parse(&s);
        }
    }
}
