//! Tests of the requirements, the checks and the decision of the Rules (chapters 2 and 3).

use crate::requirements::{Channel, Package, PartyKind, Requirements, SubmittedDocument, inviting_party_allowed};
use crate::rvp::{self, Check, Finding, LateException, RvpDecision};
use crate::{Law, terms};
use jiff::civil::{Date, date};
use std::collections::BTreeSet;

use crate::tests::*;

// ------------------------------------------------------------------ requirements and intake

fn facts(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn doc(kind: &str, expires: Option<Date>) -> SubmittedDocument {
    SubmittedDocument {
        kind: kind.into(),
        issued_on: Some(date(2025, 12, 1)),
        expires_on: expires,
        has_electronic_copy: true,
    }
}

fn full_rvp_package(purpose: &str) -> Vec<SubmittedDocument> {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose(purpose).unwrap();
    let mut docs: Vec<_> = [
        "application_form",
        "identity_document",
        "health_insurance",
        "fingerprint_certificate",
    ]
    .iter()
    .map(|k| doc(k, Some(date(2030, 1, 1))))
    .collect();
    for d in &p.documents {
        docs.push(doc(&d.kind, Some(date(2027, 6, 1))));
    }
    docs
}

#[test]
fn p6_every_purpose_accepts_its_full_package_at_the_desk() {
    let law = Law::builtin().unwrap();
    let none = BTreeSet::new();
    for p in &law.requirements.purposes {
        let docs = full_rvp_package(&p.id);
        let f = facts(&[]);
        let pkg = Package {
            channel: Channel::PoliceDesk,
            filed_on: date(2026, 2, 2),
            facts: &f,
            documents: &docs,
            integrated_registries: &none,
        };
        assert_eq!(law.requirements.check_rvp_package(p, &pkg), vec![], "{}", p.id);
    }
}

#[test]
fn p6_incomplete_package_is_refused_naming_each_missing_document() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("labour_household").unwrap();
    let mut docs = full_rvp_package("labour_household");
    docs.retain(|d| d.kind != "household_worker_permit" && d.kind != "health_insurance");
    let f = facts(&["host_not_owner"]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::PoliceDesk,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &none,
    };
    let grounds = law.requirements.check_rvp_package(p, &pkg);
    let missing: Vec<_> = grounds.iter().map(|g| (g.code, g.document.as_str())).collect();
    assert_eq!(
        missing,
        vec![
            ("missing_document", "health_insurance"),
            ("missing_document", "housing_consent"),
            ("missing_document", "household_worker_permit")
        ]
    );
    assert!(grounds[0].citation.as_str().starts_with("п. 6"));
}

#[test]
fn p6_expired_document_is_refused_and_eaeu_citizens_need_no_insurance() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("labour_contract").unwrap();
    let mut docs = full_rvp_package("labour_contract");
    docs.retain(|d| d.kind != "health_insurance");
    for d in docs.iter_mut().filter(|d| d.kind == "employment_contract") {
        d.expires_on = Some(date(2026, 2, 1));
    }
    let f = facts(&["eaeu_citizen"]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::Con,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &none,
    };
    let grounds = law.requirements.check_rvp_package(p, &pkg);
    assert_eq!(grounds.len(), 1);
    assert_eq!(grounds[0].code, "expired_document");
    // A document expiring on the filing day is still valid that day.
    let mut docs2 = docs.clone();
    for d in docs2.iter_mut().filter(|d| d.kind == "employment_contract") {
        d.expires_on = Some(date(2026, 2, 2));
    }
    let pkg = Package {
        documents: &docs2,
        ..pkg
    };
    assert_eq!(law.requirements.check_rvp_package(p, &pkg), vec![]);
}

#[test]
fn p5_p8_channels_differ_portal_needs_copies_and_integrated_data_replaces_documents() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("education").unwrap();
    let mut docs = full_rvp_package("education");
    docs.retain(|d| d.kind != "fingerprint_certificate");
    docs[0].has_electronic_copy = false;
    let f = facts(&[]);
    let integrated = facts(&["fingerprints"]);
    let none = BTreeSet::new();
    let portal = Package {
        channel: Channel::Portal,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &integrated,
    };
    let g = law.requirements.check_rvp_package(p, &portal);
    assert_eq!(
        g.iter().map(|g| g.code).collect::<Vec<_>>(),
        vec!["missing_electronic_copy"]
    );
    // At the desk the fingerprint certificate is asked for, copies are not.
    let desk = Package {
        channel: Channel::PoliceDesk,
        integrated_registries: &none,
        ..portal.clone()
    };
    let g = law.requirements.check_rvp_package(p, &desk);
    assert_eq!(
        g.iter().map(|g| (g.code, g.document.as_str())).collect::<Vec<_>>(),
        vec![("missing_document", "fingerprint_certificate")]
    );
    // No representative on the portal.
    let rep = facts(&["filed_by_representative"]);
    let portal_rep = Package { facts: &rep, ..portal };
    assert!(
        law.requirements
            .check_rvp_package(p, &portal_rep)
            .iter()
            .any(|g| g.code == "representative_not_allowed")
    );
}

#[test]
fn p12_pr_passport_must_be_valid_over_180_days_and_certificates_under_180_days_old() {
    let law = Law::builtin().unwrap();
    let filed = date(2026, 2, 2);
    let base: Vec<SubmittedDocument> = law
        .requirements
        .pr_common
        .iter()
        .filter(|r| r.when.is_empty())
        .map(|r| SubmittedDocument {
            kind: r.kind.clone(),
            issued_on: Some(date(2026, 1, 10)),
            expires_on: Some(date(2030, 1, 1)),
            has_electronic_copy: true,
        })
        .collect();
    let f = facts(&[]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::PoliceDesk,
        filed_on: filed,
        facts: &f,
        documents: &base,
        integrated_registries: &none,
    };
    assert_eq!(law.requirements.check_pr_package(&pkg), vec![]);

    let mut short = base.clone();
    for d in short.iter_mut().filter(|d| d.kind == "identity_document") {
        d.expires_on = Some(terms::add_days(filed, 180)); // exactly 180 days left: not enough
    }
    let g = law.requirements.check_pr_package(&Package {
        documents: &short,
        ..pkg.clone()
    });
    assert_eq!(g.iter().map(|g| g.code).collect::<Vec<_>>(), vec!["validity_too_short"]);
    for d in short.iter_mut().filter(|d| d.kind == "identity_document") {
        d.expires_on = Some(terms::add_days(filed, 181));
    }
    assert_eq!(
        law.requirements.check_pr_package(&Package {
            documents: &short,
            ..pkg.clone()
        }),
        vec![]
    );

    let mut old = base.clone();
    for d in old.iter_mut().filter(|d| d.kind == "solvency_certificate") {
        d.issued_on = Some(terms::add_days(filed, -181));
    }
    let g = law.requirements.check_pr_package(&Package {
        documents: &old,
        ..pkg.clone()
    });
    assert_eq!(
        g.iter().map(|g| (g.code, g.document.as_str())).collect::<Vec<_>>(),
        vec![("document_too_old", "solvency_certificate")]
    );
    for d in old.iter_mut().filter(|d| d.kind == "solvency_certificate") {
        d.issued_on = Some(terms::add_days(filed, -180));
    }
    assert_eq!(
        law.requirements.check_pr_package(&Package {
            documents: &old,
            ..pkg.clone()
        }),
        vec![]
    );
    // Via a ЦОН the refusal cites п. 13 (App. 7).
    let con = Package {
        channel: Channel::Con,
        documents: &[],
        ..pkg
    };
    assert!(
        law.requirements
            .check_pr_package(&con)
            .iter()
            .all(|g| g.citation.as_str().starts_with("п. 13"))
    );
}

#[test]
fn p11_pr_grounds_are_the_six_of_the_rules() {
    let law = Law::builtin().unwrap();
    let ids: Vec<_> = law.requirements.pr_grounds.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pr_visa",
            "investor_visa",
            "in_demand_profession_visa",
            "visa_free_state",
            "refugee",
            "ethnic_kazakh"
        ]
    );
}

#[test]
fn p4_inviting_party_table() {
    let law = Law::builtin().unwrap();
    let r = &law.requirements;
    let cases = [
        ("family_reunification", PartyKind::Citizen, true, true),
        ("family_reunification", PartyKind::LegalEntity, true, false),
        ("labour_household", PartyKind::Citizen, true, true),
        ("labour_household", PartyKind::LegalEntity, true, false),
        ("education", PartyKind::EducationalOrganisation, true, true),
        ("education", PartyKind::Citizen, true, false),
        ("aifc_investment_resident", PartyKind::AifcAdministration, true, true),
        ("aifc_investment_resident", PartyKind::AifcAdministration, false, false),
        ("aifc_investment_resident", PartyKind::LegalEntity, true, false),
        ("trafficking_victim", PartyKind::LocalExecutiveBody, false, true),
        ("trafficking_victim", PartyKind::Citizen, false, false),
        ("business_immigrant", PartyKind::LocalExecutiveBody, false, true),
        ("missionary", PartyKind::ReligiousOrganisation, false, true),
        ("medical_treatment", PartyKind::HealthOrganisation, false, true),
    ];
    for (purpose, party, visa_free, ok) in cases {
        let p = r.purpose(purpose).unwrap();
        assert_eq!(
            inviting_party_allowed(p, party, visa_free).is_ok(),
            ok,
            "{purpose} {party:?} {visa_free}"
        );
    }
}

// ------------------------------------------------------------------ checks and decision

#[test]
fn p9_1_each_ground_refuses_with_its_citation() {
    let clear: Vec<(Check, Finding)> = Check::ALL.iter().map(|c| (*c, Finding::Clear)).collect();
    assert!(matches!(rvp::decide(&clear), RvpDecision::Issue { .. }));
    let grounds = [
        (
            Check::BorderCrossings,
            rvp::judge_border(&rvp::BorderFacts {
                lawful_entry_recorded: false,
            }),
            "п. 9-1 пп. 2",
        ),
        (
            Check::Records,
            rvp::judge_records(&rvp::RecordFacts {
                wanted: true,
                ..Default::default()
            }),
            "п. 9-1 пп. 3",
        ),
        (Check::Iin, rvp::judge_iin(2, 1), "п. 9-1 пп. 4"),
        (
            Check::HouseholdQuota,
            rvp::judge_household_quota(true, 3, Some(3)),
            "п. 9-1 пп. 5",
        ),
        (Check::PendingPr, rvp::judge_pending_pr(true), "п. 9-1 пп. 6"),
        (Check::Fingerprints, rvp::judge_fingerprints(false), "п. 9-1 пп. 7"),
    ];
    for (check, finding, cite) in grounds {
        let mut f = clear.clone();
        f.retain(|(c, _)| *c != check);
        f.push((check, finding));
        match rvp::decide(&f) {
            RvpDecision::Refuse { grounds } => {
                assert_eq!(grounds.len(), 1);
                assert!(grounds[0].3.as_str().contains(cite), "{:?}", grounds[0]);
                assert!(grounds[0].3.as_str().contains("п. 9-3"));
            }
            other => panic!("{check:?}: {other:?}"),
        }
    }
}

#[test]
fn p9_1_sub5_household_quota_refuses_at_the_limit_and_waits_without_one() {
    assert_eq!(rvp::judge_household_quota(true, 2, Some(3)), Finding::Clear);
    assert!(matches!(
        rvp::judge_household_quota(true, 3, Some(3)),
        Finding::Ground {
            code: "household_limit_reached",
            ..
        }
    ));
    assert!(matches!(
        rvp::judge_household_quota(true, 0, None),
        Finding::Officer { .. }
    ));
    assert_eq!(rvp::judge_household_quota(false, 99, Some(1)), Finding::Clear);
}

#[test]
fn p9_1_a_missing_check_never_issues() {
    let partial: Vec<(Check, Finding)> = Check::ALL[..6].iter().map(|c| (*c, Finding::Clear)).collect();
    assert!(matches!(rvp::decide(&partial), RvpDecision::Officer { .. }));
}

#[test]
fn p9_1_late_application_exceptions() {
    let stay = date(2026, 2, 10);
    assert_eq!(rvp::late_application(stay, date(2026, 2, 10), None), Ok(None));
    assert_eq!(
        rvp::late_application(stay, date(2026, 2, 11), None).unwrap_err().0,
        "stay_expired"
    );
    let act = LateException::OutageAct {
        act_number: "A-1".into(),
        failure_on: date(2026, 2, 9),
    };
    assert!(
        rvp::late_application(stay, date(2026, 2, 13), Some(&act))
            .unwrap()
            .is_some()
    );
    let late_act = LateException::OutageAct {
        act_number: "A-2".into(),
        failure_on: date(2026, 2, 12),
    };
    assert_eq!(
        rvp::late_application(stay, date(2026, 2, 13), Some(&late_act))
            .unwrap_err()
            .0,
        "outage_after_stay_expired"
    );
    // Art. 517: the decision's days agree with its date; neither they nor the overstay at
    // filing exceed ten days (the stay ended 10 February).
    let fine = |number: &str, on: jiff::civil::Date, days: u32| LateException::Art517Fine {
        decision_number: number.into(),
        decision_date: on,
        overstay_days: days,
    };
    let code = |e: &LateException, filed| rvp::late_application(stay, filed, Some(e)).map_err(|e| e.0);
    assert!(
        code(&fine("517-1", date(2026, 2, 20), 10), date(2026, 2, 20))
            .unwrap()
            .is_some()
    );
    assert!(
        code(&fine("517-1", date(2026, 2, 15), 5), date(2026, 2, 19))
            .unwrap()
            .is_some()
    );
    let cases = [
        (
            fine("517-1", date(2026, 2, 21), 11),
            date(2026, 2, 21),
            "overstay_over_ten_days",
        ),
        (
            fine("517-1", date(2026, 2, 15), 8),
            date(2026, 2, 19),
            "art517_disagrees_with_dates",
        ),
        (
            fine("517-1", date(2026, 2, 15), 5),
            date(2026, 2, 22),
            "overstay_over_ten_days",
        ),
        (
            fine(" ", date(2026, 2, 15), 5),
            date(2026, 2, 19),
            "art517_decision_required",
        ),
        (
            fine("517-1", date(2026, 2, 10), 0),
            date(2026, 2, 19),
            "art517_decision_dates",
        ),
        (
            fine("517-1", date(2026, 2, 20), 10),
            date(2026, 2, 19),
            "art517_decision_dates",
        ),
    ];
    for (f, filed, expected) in cases {
        assert_eq!(code(&f, filed), Err(expected), "{f:?} filed {filed}");
    }
}

#[test]
fn rvp_validity_never_beyond_passport_or_basis() {
    let law = Law::builtin().unwrap();
    let labour = law.requirements.purpose("labour_leb_permit").unwrap();
    let issued = date(2026, 2, 2);
    // Purpose cap: one year.
    let v = rvp::validity(labour, issued, Some(date(2030, 1, 1)), Some(date(2028, 1, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2027, 2, 2));
    assert_eq!(v.bounds[0].0, "purpose_max_term");
    // Basis document ends earlier.
    let v = rvp::validity(labour, issued, Some(date(2030, 1, 1)), Some(date(2026, 9, 30)), None).unwrap();
    assert_eq!((v.valid_until, v.bounds[0].0), (date(2026, 9, 30), "basis_document"));
    // Passport ends earlier still.
    let v = rvp::validity(labour, issued, Some(date(2026, 6, 1)), Some(date(2026, 9, 30)), None).unwrap();
    assert_eq!((v.valid_until, v.bounds[0].0), (date(2026, 6, 1), "passport"));
    // A purpose with no settled term and no basis end goes to an officer.
    let missionary = law.requirements.purpose("missionary").unwrap();
    assert_eq!(
        rvp::validity(missionary, issued, Some(date(2030, 1, 1)), None, None),
        Err(rvp::ValidityError::NoSettledTerm)
    );
    let v = rvp::validity(missionary, issued, Some(date(2030, 1, 1)), Some(date(2027, 5, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2027, 5, 1));
    // Intra-corporate transfer: three years at most.
    let ict = law.requirements.purpose("intra_corporate_transfer").unwrap();
    let v = rvp::validity(ict, issued, Some(date(2035, 1, 1)), Some(date(2034, 1, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2029, 2, 2));
}

#[test]
fn p21_exit_rvp_runs_to_the_exit_deadline() {
    // Day 30 is Friday 1 May 2026, Unity Day: the exit RVP runs to Monday 4 May.
    let v = rvp::exit_rvp(&cal(), date(2026, 4, 1)).unwrap();
    assert_eq!(v.valid_until, date(2026, 5, 4));
}

#[test]
fn rules_catalogue_ids_are_unique_and_cite_something() {
    let mut seen = BTreeSet::new();
    for r in crate::rules::RULES {
        assert!(seen.insert(r.id), "{}", r.id);
        assert!(!r.citation.is_empty() && !r.summary.is_empty());
    }
}

#[test]
fn shipped_data_loads() {
    let law = Law::builtin().unwrap();
    assert_eq!(law.calendar.covered_years(), (2024, 2199));
    assert!(law.params.household_limit_per_employer.is_none());
    assert_eq!(law.params.pr_service_term_days, 60);
    let r = Requirements::builtin().unwrap();
    for p in &r.purposes {
        for d in &p.documents {
            assert!(r.document(&d.kind).is_some());
        }
    }
}

// ------------------------------------------------------------------ facts that follow from proof

fn submitted(kind: &str) -> SubmittedDocument {
    SubmittedDocument {
        kind: kind.into(),
        issued_on: None,
        expires_on: None,
        has_electronic_copy: true,
    }
}

#[test]
fn pr_exemptions_follow_from_the_ground_or_a_proving_document_only() {
    let r = Requirements::builtin().unwrap();
    let none = r.pr_derived_facts("visa_free_state", "UZB", &[submitted("solvency_certificate")]);
    assert!(none.0.is_empty() && none.1.is_none());
    let (facts, e) = r.pr_derived_facts("ethnic_kazakh", "CHN", &[]);
    assert_eq!(e.unwrap().id, "ethnic_kazakh");
    assert!(facts.contains(&"ethnic_kazakh_from_prc") && facts.contains(&"solvency_exempt"));
    for (kind, id) in [
        ("kandas_certificate", "kandas"),
        ("former_compatriot_document", "former_compatriot"),
        ("simplified_citizenship_document", "simplified_citizenship_by_treaty"),
        ("exempt_family_relation_document", "family_member_of_exempt"),
    ] {
        let (_, e) = r.pr_derived_facts("pr_visa", "RUS", &[submitted(kind)]);
        assert_eq!(e.map(|e| e.id.as_str()), Some(id), "{kind}");
    }
    // A refugee is spared the exit consent, not the solvency proof (art. 49 пп. 4 as found).
    let (facts, e) = r.pr_derived_facts("refugee", "AFG", &[]);
    assert_eq!(facts, vec!["refugee_or_asylum"]);
    assert!(e.is_none());
    let (facts, _) = r.pr_derived_facts("pr_visa", "RUS", &[submitted("housing_provision_contract")]);
    assert_eq!(facts, vec!["housing_contracted"]);
}
