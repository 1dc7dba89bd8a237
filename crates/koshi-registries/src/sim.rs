//! The registry simulator: answers every port from a fixtures file, with latency, outage windows
//! and failure rates injectable per registry at run time, so the service's waiting and retrying
//! can be exercised (and benchmarked) without the real systems.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::clock::Clock;
use crate::{
    Berkut, BorderAnswer, FingerprintAnswer, Fingerprints, GbdFl, HouseholdAnswer, HouseholdRvps, IinAnswer, Kpsisu,
    PendingPr, PendingPrAnswer, PersonQuery, PoliceRecords, RecordsAnswer, RegistryError, RegistryKind, RegistryResult,
};

/// The demo fixtures shipped with Koshi: one person per outcome of п. 9-1, and two employers.
pub const DEMO_FIXTURES: &str = include_str!("../data/fixtures.toml");

/// Why a fixtures file was refused. Carries no personal data: identifiers are masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixturesError {
    /// 1-based line of the fault, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FixturesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "fixtures, line {line}: {}", self.message),
            None => write!(f, "fixtures: {}", self.message),
        }
    }
}

impl std::error::Error for FixturesError {}

/// What the registries know about one person. Personal data: Debug is masked.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonFixture {
    pub document_number: String,
    pub iin: Option<String>,
    pub citizenship: Option<String>,
    pub birth_date: Option<Date>,
    pub lawful_entry: bool,
    pub last_entry_on: Option<Date>,
    pub convicted: bool,
    pub wanted: bool,
    pub unpaid_penalties: bool,
    pub kpsisu_convicted: bool,
    pub kpsisu_wanted: bool,
    pub kpsisu_unpaid_penalties: bool,
    pub fingerprints: bool,
    pub pending_pr: bool,
}

impl PersonFixture {
    /// A query naming this person, for demos and tests; `None` when the fixture lacks the
    /// citizenship or birth date a query needs.
    pub fn query(&self) -> Option<PersonQuery> {
        Some(PersonQuery {
            document_number: self.document_number.clone(),
            citizenship: self.citizenship.clone()?,
            birth_date: self.birth_date?,
            iin: self.iin.clone(),
        })
    }
}

impl fmt::Debug for PersonFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonFixture")
            .field("citizenship", &self.citizenship)
            .finish_non_exhaustive()
    }
}

/// An employer and its household-work RVPs held outside Koshi.
#[derive(Clone, PartialEq, Eq)]
pub struct EmployerFixture {
    pub iin: String,
    pub household_rvps: u32,
}

impl fmt::Debug for EmployerFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmployerFixture")
            .field("household_rvps", &self.household_rvps)
            .finish_non_exhaustive()
    }
}

/// The parsed fixtures, indexed for lookups that take no lock. Debug shows only counts.
#[derive(Clone, Default)]
pub struct Fixtures {
    people: Vec<PersonFixture>,
    by_document: HashMap<String, usize>,
    employers: Vec<EmployerFixture>,
    by_employer: HashMap<String, usize>,
}

impl fmt::Debug for Fixtures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixtures")
            .field("people", &self.people.len())
            .field("employers", &self.employers.len())
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixtures {
    #[serde(default)]
    person: Vec<RawPerson>,
    #[serde(default)]
    employer: Vec<RawEmployer>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    document_number: Spanned<String>,
    #[serde(default)]
    iin: Option<Spanned<String>>,
    #[serde(default)]
    citizenship: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "opt_date")]
    birth_date: Option<Date>,
    #[serde(default = "yes")]
    lawful_entry: bool,
    #[serde(default, deserialize_with = "opt_date")]
    last_entry_on: Option<Date>,
    #[serde(default)]
    convicted: bool,
    #[serde(default)]
    wanted: bool,
    #[serde(default)]
    unpaid_penalties: bool,
    #[serde(default)]
    kpsisu_convicted: bool,
    #[serde(default)]
    kpsisu_wanted: bool,
    #[serde(default)]
    kpsisu_unpaid_penalties: bool,
    #[serde(default = "yes")]
    fingerprints: bool,
    #[serde(default)]
    pending_pr: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmployer {
    iin: Spanned<String>,
    household_rvps: u32,
}

/// A date written either as a TOML local date (`1990-03-15`) or as a string (`"1990-03-15"`).
fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    struct DateVisitor;
    impl<'de> serde::de::Visitor<'de> for DateVisitor {
        type Value = Date;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a date YYYY-MM-DD")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Date, E> {
            s.parse::<Date>().map_err(|_| E::custom("expected a date YYYY-MM-DD"))
        }
        // TOML's native datetimes reach serde as a one-entry map holding their text.
        fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Date, M::Error> {
            let _key: Option<String> = map.next_key()?;
            let text: String = map.next_value()?;
            self.visit_str(&text)
        }
    }
    d.deserialize_any(DateVisitor).map(Some)
}

/// Masks every token carrying five digits or more (IINs, document numbers) in a message that may
/// quote input, so that no identifier reaches an error message or a log.
pub(crate) fn redact_identifiers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.chars().filter(char::is_ascii_digit).count() >= 5 {
            out.push_str("***");
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for c in message.chars() {
        if c.is_alphanumeric() {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

fn normalise_document(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

fn is_iin_shaped(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

impl Fixtures {
    /// Fixtures with nobody in them: every registry answers "unknown".
    pub fn empty() -> Fixtures {
        Fixtures::default()
    }

    /// The shipped demo fixtures ([`DEMO_FIXTURES`]).
    pub fn demo() -> Result<Fixtures, FixturesError> {
        Fixtures::from_toml(DEMO_FIXTURES)
    }

    /// Parses a fixtures file, refusing a malformed or contradictory one with the line at fault.
    /// IINs must be 12 digits but their check digit is not verified: a registry may hold a bad
    /// one, and judging it is the law crate's business.
    pub fn from_toml(text: &str) -> Result<Fixtures, FixturesError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawFixtures = toml::from_str(text).map_err(|e| FixturesError {
            line: e.span().map(|s| line_of(s.start)),
            message: redact_identifiers(e.message().trim()),
        })?;
        let err = |span: std::ops::Range<usize>, message: &str| FixturesError {
            line: Some(line_of(span.start)),
            message: message.to_string(),
        };

        let mut fixtures = Fixtures::default();
        for p in raw.person {
            let document_number = normalise_document(p.document_number.get_ref());
            if document_number.is_empty() {
                return Err(err(p.document_number.span(), "document_number is empty"));
            }
            if fixtures.by_document.contains_key(&document_number) {
                return Err(err(p.document_number.span(), "this document_number is already listed"));
            }
            if let Some(iin) = &p.iin
                && !is_iin_shaped(iin.get_ref())
            {
                return Err(err(iin.span(), "iin must be exactly 12 digits"));
            }
            if let Some(c) = &p.citizenship
                && !(c.get_ref().len() == 3 && c.get_ref().bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(err(c.span(), "citizenship must be an ISO 3166-1 alpha-3 code or XXX"));
            }
            fixtures
                .by_document
                .insert(document_number.clone(), fixtures.people.len());
            fixtures.people.push(PersonFixture {
                document_number,
                iin: p.iin.map(Spanned::into_inner),
                citizenship: p.citizenship.map(Spanned::into_inner),
                birth_date: p.birth_date,
                lawful_entry: p.lawful_entry,
                last_entry_on: p.last_entry_on,
                convicted: p.convicted,
                wanted: p.wanted,
                unpaid_penalties: p.unpaid_penalties,
                kpsisu_convicted: p.kpsisu_convicted,
                kpsisu_wanted: p.kpsisu_wanted,
                kpsisu_unpaid_penalties: p.kpsisu_unpaid_penalties,
                fingerprints: p.fingerprints,
                pending_pr: p.pending_pr,
            });
        }
        for e in raw.employer {
            let iin = e.iin.get_ref().trim().to_string();
            if !is_iin_shaped(&iin) {
                return Err(err(e.iin.span(), "employer iin must be exactly 12 digits"));
            }
            if fixtures.by_employer.contains_key(&iin) {
                return Err(err(e.iin.span(), "this employer iin is already listed"));
            }
            fixtures.by_employer.insert(iin.clone(), fixtures.employers.len());
            fixtures.employers.push(EmployerFixture {
                iin,
                household_rvps: e.household_rvps,
            });
        }
        Ok(fixtures)
    }

    pub fn people(&self) -> &[PersonFixture] {
        &self.people
    }

    pub fn employers(&self) -> &[EmployerFixture] {
        &self.employers
    }

    /// The person holding this document (case and surrounding blanks ignored).
    pub fn person(&self, document_number: &str) -> Option<&PersonFixture> {
        let idx = match self.by_document.get(document_number) {
            Some(i) => Some(i),
            None => self.by_document.get(&normalise_document(document_number)),
        };
        idx.and_then(|&i| self.people.get(i))
    }

    pub fn employer(&self, iin: &str) -> Option<&EmployerFixture> {
        let idx = match self.by_employer.get(iin) {
            Some(i) => Some(i),
            None => self.by_employer.get(iin.trim()),
        };
        idx.and_then(|&i| self.employers.get(i))
    }
}

/// The injectable behaviour of one registry. Atomics on the hot path: the benchmark drives tens
/// of thousands of calls per second through here.
#[derive(Default)]
struct Knobs {
    calls: AtomicU64,
    latency_nanos: AtomicU64,
    /// The failure rate, as the bits of an f64 in [0, 1].
    failure_rate: AtomicU64,
    down: RwLock<Option<(Timestamp, Timestamp)>>,
}

/// Whether call number `n` (1-based) fails at `rate`: failures are spread evenly and
/// deterministically, ⌊n·rate⌋ of the first n calls (a hair of slack absorbs the rounding of
/// rates like 1/3, so that every 3rd call fails, not every 4th).
fn injected_failure(n: u64, rate: f64) -> bool {
    if rate.is_nan() || rate <= 0.0 || n == 0 {
        return false;
    }
    let failures_by = |m: u64| (m as f64 * rate + 1e-9).floor();
    failures_by(n) > failures_by(n - 1)
}

/// The simulator of all seven registries. Send + Sync; share it behind an `Arc`.
pub struct Simulator {
    fixtures: Fixtures,
    clock: Arc<dyn Clock>,
    knobs: [Knobs; 7],
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("fixtures", &self.fixtures)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator answering from `fixtures`; outage windows are judged against `clock`.
    pub fn new(fixtures: Fixtures, clock: Arc<dyn Clock>) -> Simulator {
        Simulator {
            fixtures,
            clock,
            knobs: Default::default(),
        }
    }

    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }

    fn knobs(&self, kind: RegistryKind) -> &Knobs {
        // ALL lists every kind in declaration order, so the discriminant indexes `knobs`.
        &self.knobs[kind as usize]
    }

    /// Every answer of `kind` waits this long (real time) first.
    pub fn set_latency(&self, kind: RegistryKind, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.knobs(kind).latency_nanos.store(nanos, Ordering::Relaxed);
    }

    /// `Some((from, to))`: `kind` answers Unavailable while the clock reads within [from, to).
    /// `None` ends the outage.
    pub fn set_down(&self, kind: RegistryKind, window: Option<(Timestamp, Timestamp)>) {
        let mut down = self.knobs(kind).down.write().unwrap_or_else(|p| p.into_inner());
        *down = window;
    }

    /// The share of calls to `kind` that answer Unavailable, from 0.0 to 1.0 (clamped; NaN is
    /// 0). Deterministic: at 0.25 every 4th call fails, counted from the registry's first call.
    pub fn set_failure_rate(&self, kind: RegistryKind, rate: f64) {
        let rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
        self.knobs(kind).failure_rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    /// Calls made to `kind` so far, answered or failed (tests read retries from it).
    pub fn calls(&self, kind: RegistryKind) -> u64 {
        self.knobs(kind).calls.load(Ordering::Relaxed)
    }

    /// Counts the call, applies latency, then fails it if the registry is down or this call is
    /// one of the injected failures. The outage is judged at the moment the call arrives.
    async fn enter(&self, kind: RegistryKind) -> RegistryResult<()> {
        let knobs = self.knobs(kind);
        let n = knobs.calls.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let window = *knobs.down.read().unwrap_or_else(|p| p.into_inner());
        let outage_until = window.and_then(|(from, to)| {
            let now = self.clock.now();
            (from <= now && now < to).then_some(to)
        });
        let failing = injected_failure(n, f64::from_bits(knobs.failure_rate.load(Ordering::Relaxed)));
        let latency = knobs.latency_nanos.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_nanos(latency)).await;
        }
        if let Some(to) = outage_until {
            return Err(RegistryError::Unavailable(format!(
                "{} is down (simulated outage until {to})",
                kind.as_str()
            )));
        }
        if failing {
            return Err(RegistryError::Unavailable(format!(
                "{} failed (simulated failure)",
                kind.as_str()
            )));
        }
        Ok(())
    }

    fn person(&self, q: &PersonQuery) -> Option<&PersonFixture> {
        self.fixtures.person(&q.document_number)
    }
}

#[async_trait]
impl Berkut for Simulator {
    async fn border_crossings(&self, q: &PersonQuery) -> RegistryResult<BorderAnswer> {
        self.enter(RegistryKind::Berkut).await?;
        Ok(self
            .person(q)
            .map(|p| BorderAnswer {
                lawful_entry_recorded: p.lawful_entry,
                last_entry_on: p.last_entry_on,
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl PoliceRecords for Simulator {
    async fn police_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer> {
        self.enter(RegistryKind::PoliceRecords).await?;
        Ok(self
            .person(q)
            .map(|p| RecordsAnswer {
                convicted: p.convicted,
                wanted: p.wanted,
                unpaid_penalties: p.unpaid_penalties,
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl Kpsisu for Simulator {
    async fn kpsisu_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer> {
        self.enter(RegistryKind::Kpsisu).await?;
        Ok(self
            .person(q)
            .map(|p| RecordsAnswer {
                convicted: p.kpsisu_convicted,
                wanted: p.kpsisu_wanted,
                unpaid_penalties: p.kpsisu_unpaid_penalties,
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl GbdFl for Simulator {
    async fn iin(&self, q: &PersonQuery) -> RegistryResult<IinAnswer> {
        self.enter(RegistryKind::GbdFl).await?;
        Ok(IinAnswer {
            iin: self.person(q).and_then(|p| p.iin.clone()),
        })
    }
}

#[async_trait]
impl HouseholdRvps for Simulator {
    async fn household_rvps(&self, employer_iin: &str, _on: Date) -> RegistryResult<HouseholdAnswer> {
        self.enter(RegistryKind::HouseholdRvps).await?;
        Ok(HouseholdAnswer {
            valid_household_rvps: self.fixtures.employer(employer_iin).map_or(0, |e| e.household_rvps),
        })
    }
}

#[async_trait]
impl PendingPr for Simulator {
    async fn pending_pr(&self, q: &PersonQuery) -> RegistryResult<PendingPrAnswer> {
        self.enter(RegistryKind::PendingPr).await?;
        Ok(PendingPrAnswer {
            pending: self.person(q).is_some_and(|p| p.pending_pr),
        })
    }
}

#[async_trait]
impl Fingerprints for Simulator {
    async fn fingerprints(&self, q: &PersonQuery) -> RegistryResult<FingerprintAnswer> {
        self.enter(RegistryKind::Fingerprints).await?;
        Ok(FingerprintAnswer {
            registered: self.person(q).is_some_and(|p| p.fingerprints),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fixtures_parse() {
        let f = Fixtures::demo().unwrap();
        assert!(f.people().len() >= 10);
        assert_eq!(f.employers().len(), 2);
        let p = f.person("fa1234567 ").unwrap();
        assert_eq!(p.birth_date, Some(Date::new(1990, 3, 15).unwrap()));
        assert!(p.lawful_entry && p.fingerprints && !p.pending_pr);
    }

    #[test]
    fn dates_may_be_native_or_strings() {
        let f = Fixtures::from_toml(
            "[[person]]\ndocument_number = \"AA1\"\nbirth_date = \"1990-01-02\"\nlast_entry_on = 2025-03-04\n",
        )
        .unwrap();
        let p = f.person("AA1").unwrap();
        assert_eq!(p.birth_date, Some(Date::new(1990, 1, 2).unwrap()));
        assert_eq!(p.last_entry_on, Some(Date::new(2025, 3, 4).unwrap()));
    }

    #[test]
    fn defaults_of_a_bare_person() {
        let f = Fixtures::from_toml("[[person]]\ndocument_number = \"AA1\"\n").unwrap();
        let p = f.person("AA1").unwrap();
        assert!(p.lawful_entry && p.fingerprints);
        assert!(!p.pending_pr && !p.convicted && !p.kpsisu_wanted);
        assert_eq!(
            (p.iin.as_deref(), p.citizenship.as_deref(), p.birth_date),
            (None, None, None)
        );
        assert!(p.query().is_none());
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "[[person]]\ndocument_number = \"AA1\"\nconvicted = \"yes\"\n",
                3,
                "bool",
            ),
            (
                "[[person]]\ndocument_number = \"AA1\"\n\nsurname = \"X\"\n",
                4,
                "unknown field",
            ),
            (
                "[[person]]\ndocument_number = \"AA1\"\nbirth_date = \"1990-13-01\"\n",
                3,
                "date",
            ),
            (
                "[[person]]\ndocument_number = \"AA1\"\niin = \"12345\"\n",
                3,
                "12 digits",
            ),
            (
                "[[person]]\ndocument_number = \"AA1\"\ncitizenship = \"uz\"\n",
                3,
                "alpha-3",
            ),
            (
                "[[person]]\ndocument_number = \"AA1\"\n[[person]]\ndocument_number = \"aa1\"\n",
                4,
                "already listed",
            ),
            ("[[employer]]\niin = \"780412300119\"\nhousehold_rvps = -1\n", 3, ""),
            (
                "[[employer]]\niin = \"780412300119\"\nhousehold_rvps = 1\n[[employer]]\niin = \"780412300119\"\nhousehold_rvps = 2\n",
                5,
                "already listed",
            ),
            ("[[employer]]\niin = \"780412300119\"\n", 1, "household_rvps"),
            ("[[person]\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let e = Fixtures::from_toml(text).unwrap_err();
            assert_eq!(e.line, Some(*line), "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("fixtures, line {line}: ")), "{e}");
        }
    }

    #[test]
    fn errors_do_not_quote_identifiers() {
        let e = Fixtures::from_toml("[[person]]\ndocument_number = 900315300123\n").unwrap_err();
        assert!(!e.message.contains("900315300123"), "{e}");
        assert_eq!(
            redact_identifiers("string \"FA1234567\", expected"),
            "string \"***\", expected"
        );
        assert_eq!(redact_identifiers("line 12 of 3"), "line 12 of 3");
    }

    #[test]
    fn failures_are_spread_evenly() {
        let fails = |rate, n| (1..=n).filter(|&i| injected_failure(i, rate)).collect::<Vec<u64>>();
        assert_eq!(fails(0.25, 12), vec![4, 8, 12]);
        assert_eq!(fails(0.5, 6), vec![2, 4, 6]);
        assert_eq!(fails(1.0 / 3.0, 9), vec![3, 6, 9]);
        assert_eq!(fails(1.0 / 7.0, 21), vec![7, 14, 21]);
        assert_eq!(fails(0.0, 5), Vec::<u64>::new());
        assert_eq!(fails(f64::NAN, 5), Vec::<u64>::new());
        assert_eq!(fails(1.0, 3), vec![1, 2, 3]);
        for rate in [0.1, 0.3, 0.7, 0.01] {
            let n = (1..=10_000).filter(|&i| injected_failure(i, rate)).count();
            assert_eq!(n, (10_000.0 * rate).round() as usize, "{rate}");
        }
    }

    #[test]
    fn kinds_index_the_knobs_in_order() {
        for (i, k) in RegistryKind::ALL.into_iter().enumerate() {
            assert_eq!(k as usize, i, "{}", k.as_str());
        }
    }

    #[test]
    fn simulator_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Simulator>();
    }
}
