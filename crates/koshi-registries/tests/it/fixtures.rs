//! The shipped demo fixtures: valid identifiers, and one person per outcome.

use std::collections::BTreeSet;

use koshi_law::ident::{Iin, complete};
use koshi_registries::sim::{DEMO_FIXTURES, Fixtures};

#[test]
fn every_demo_iin_has_a_valid_check_digit_and_matches_the_birth_date() {
    let f = Fixtures::demo().unwrap();
    for p in f.people() {
        let Some(iin) = &p.iin else { continue };
        assert_eq!(
            complete(&iin[..11]).as_deref(),
            Some(iin.as_str()),
            "{}",
            p.document_number
        );
        let parsed = Iin::parse(iin).unwrap();
        assert_eq!(parsed.birth_date(), p.birth_date, "{}", p.document_number);
    }
    for e in f.employers() {
        assert_eq!(complete(&e.iin[..11]).as_deref(), Some(e.iin.as_str()));
        assert!(Iin::parse(&e.iin).unwrap().birth_date().is_some());
    }
}

#[test]
fn demo_covers_every_outcome() {
    let f = Fixtures::demo().unwrap();
    let people = f.people();
    let clean = |p: &&koshi_registries::sim::PersonFixture| {
        p.lawful_entry
            && !(p.convicted || p.wanted || p.unpaid_penalties)
            && !(p.kpsisu_convicted || p.kpsisu_wanted || p.kpsisu_unpaid_penalties)
            && p.iin.is_some()
            && p.fingerprints
            && !p.pending_pr
    };
    let citizenships: BTreeSet<&str> = people
        .iter()
        .filter(clean)
        .filter_map(|p| p.citizenship.as_deref())
        .collect();
    for c in ["UZB", "RUS", "KGZ", "TJK", "CHN"] {
        assert!(citizenships.contains(c), "no clean {c} applicant");
    }
    assert!(people.iter().any(|p| !p.lawful_entry));
    assert!(people.iter().any(|p| p.convicted));
    assert!(people.iter().any(|p| p.kpsisu_wanted));
    assert!(people.iter().any(|p| p.unpaid_penalties));
    assert!(people.iter().any(|p| p.iin.is_none()));
    assert!(people.iter().any(|p| !p.fingerprints));
    assert!(people.iter().any(|p| p.pending_pr));
    // Each unfavourable person has exactly one unfavourable fact, so a demo shows one cause.
    for p in people.iter().filter(|p| !clean(p)) {
        let facts = [
            !p.lawful_entry,
            p.convicted,
            p.wanted,
            p.unpaid_penalties,
            p.kpsisu_convicted,
            p.kpsisu_wanted,
            p.kpsisu_unpaid_penalties,
            p.iin.is_none(),
            !p.fingerprints,
            p.pending_pr,
        ];
        assert_eq!(facts.iter().filter(|&&x| x).count(), 1, "{}", p.document_number);
    }
    // Every person can be queried.
    assert!(people.iter().all(|p| p.query().is_some()));
    let rvps: BTreeSet<u32> = f.employers().iter().map(|e| e.household_rvps).collect();
    assert!(rvps.contains(&0) && rvps.iter().any(|&n| n > 1));
}

#[test]
fn a_good_file_parses_with_every_field() {
    let text = r#"
[[person]]
document_number = "AA0000001"
iin = "900315300123"
citizenship = "UZB"
birth_date = 1990-03-15
lawful_entry = false
last_entry_on = "2024-01-02"
convicted = true
wanted = true
unpaid_penalties = true
kpsisu_convicted = true
kpsisu_wanted = true
kpsisu_unpaid_penalties = true
fingerprints = false
pending_pr = true

[[employer]]
iin = "780412300119"
household_rvps = 7
"#;
    let f = Fixtures::from_toml(text).unwrap();
    let p = f.person("AA0000001").unwrap();
    assert_eq!(p.iin.as_deref(), Some("900315300123"));
    assert_eq!(p.last_entry_on, Some(jiff::civil::date(2024, 1, 2)));
    assert!(!p.lawful_entry && p.convicted && p.wanted && p.unpaid_penalties);
    assert!(p.kpsisu_convicted && p.kpsisu_wanted && p.kpsisu_unpaid_penalties);
    assert!(!p.fingerprints && p.pending_pr);
    assert_eq!(f.employer("780412300119").unwrap().household_rvps, 7);
    assert!(Fixtures::from_toml("").unwrap().people().is_empty());
}

#[test]
fn a_bad_line_is_reported_with_its_number() {
    let mut lines: Vec<&str> = DEMO_FIXTURES.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("pending_pr = true")).unwrap();
    lines[at] = "pending_pr = maybe";
    let e = Fixtures::from_toml(&lines.join("\n")).unwrap_err();
    assert_eq!(e.line, Some(at + 1), "{e}");
    assert!(
        e.to_string().starts_with(&format!("fixtures, line {}: ", at + 1)),
        "{e}"
    );
}

#[test]
fn debug_output_carries_no_identifiers() {
    let f = Fixtures::demo().unwrap();
    let shown = format!("{f:?}");
    for p in f.people() {
        let one = format!("{p:?}");
        assert!(!one.contains(&p.document_number) && !shown.contains(&p.document_number));
        if let Some(iin) = &p.iin {
            assert!(!one.contains(iin.as_str()) && !shown.contains(iin.as_str()));
        }
    }
    for e in f.employers() {
        assert!(!format!("{e:?}").contains(&e.iin) && !shown.contains(&e.iin));
    }
}
