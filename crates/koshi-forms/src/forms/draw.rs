//! How each form is laid out on the page.

use super::*;
use crate::i18n::{label, t};
use crate::layout::{Align, Flow};

fn person_rows(flow: &mut Flow, lang: Lang, p: &Person) {
    flow.field(&label(lang, "full_name"), &p.full_name());
    flow.field(&label(lang, "birth_date"), &date(p.birth_date));
    let citizenship = if p.citizenship.is_empty() {
        t(lang, "stateless").to_owned()
    } else {
        p.citizenship.clone()
    };
    flow.field(&label(lang, "citizenship"), &citizenship);
    if let Some(iin) = &p.iin {
        flow.field(&label(lang, "iin"), iin);
    }
    if let Some(doc) = &p.document {
        let mut text = format!("{} № {}", doc.kind, doc.number);
        if let Some(on) = doc.issued_on {
            text.push_str(&format!(", {}", date(on)));
        }
        if let Some(until) = doc.expires_on {
            text.push_str(&format!(" — {}", date(until)));
        }
        flow.field(
            &format!("{} ({})", label(lang, "identity_document"), t(lang, "document_details")),
            &text,
        );
    }
}

fn party_rows(flow: &mut Flow, lang: Lang, p: &Party) {
    let mut name = p.name.clone();
    if let Some(iin) = &p.iin {
        name.push_str(&format!(", {} {iin}", t(lang, "iin")));
    }
    if let Some(bin) = &p.bin {
        name.push_str(&format!(", {} {bin}", t(lang, "bin")));
    }
    flow.field(&label(lang, "inviting_party"), &name);
    let mut address = p.address.clone();
    if let Some(rka) = &p.rka {
        address.push_str(&format!(" ({}: {rka})", t(lang, "rka")));
    }
    flow.field(&label(lang, "address"), &address);
}

fn purpose_text(lang: Lang, p: &Purpose) -> String {
    let key = format!("purpose.{}", p.id);
    let kk = crate::i18n::entries().get(&key).and_then(|e| e.printable_kk());
    match (lang, kk) {
        (Lang::Kk, Some(kk)) => format!("{kk} / {}", p.ru),
        _ => p.ru.clone(),
    }
}

fn grounds_table(flow: &mut Flow, lang: Lang, grounds: &[Ground]) {
    if grounds.is_empty() {
        return;
    }
    flow.heading(&label(lang, "grounds"));
    let rows: Vec<Vec<String>> = grounds
        .iter()
        .enumerate()
        .map(|(i, g)| vec![format!("{}", i + 1), g.text.clone(), g.citation.clone()])
        .collect();
    flow.table(
        &[
            ("№", 0.5),
            (&label(lang, "grounds"), 6.0),
            (t(lang, "grounds_citation"), 2.5),
        ],
        &rows,
    );
}

fn rules_line(flow: &mut Flow, lang: Lang, version: &str) {
    flow.gap(4.0);
    flow.para(
        &format!("{}: {version}", label(lang, "rules_version")),
        8.0,
        false,
        Align::Left,
    );
}

fn appeal(flow: &mut Flow, lang: Lang) {
    flow.gap(6.0);
    flow.para(t(lang, "appeal"), 8.5, false, Align::Left);
}

fn approval_rows(flow: &mut Flow, lang: Lang, approval: &Option<Approval>) {
    match approval {
        Some(a) => flow.field(
            &label(lang, "approved_by"),
            &format!("{}, {} — {}", a.by.post, a.by.name, date(a.on)),
        ),
        None => flow.para(t(lang, "not_approved"), 9.0, true, Align::Left),
    }
}

/// Lays out the form's body (everything between the title block and the verification block).
pub(crate) fn layout(flow: &mut Flow, lang: Lang, form: &Form, number: &str, issued_on: Date) {
    // The issuing body and the appendix reference.
    if let Some(appendix) = form.appendix() {
        let note = match lang {
            Lang::Kk
                if crate::i18n::entries()
                    .get("rules_title")
                    .and_then(|e| e.printable_kk())
                    .is_some() =>
            {
                format!("{} {appendix}-{}", t(lang, "rules_title"), t(lang, "appendix"))
            }
            _ => format!("{} {appendix} {}", t(Lang::Ru, "appendix"), t(Lang::Ru, "rules_title")),
        };
        flow.right_note(&note, 7.5);
        flow.gap(8.0);
    }
    let body = form.body();
    both_languages(flow, lang, form.issuer_key(), 9.5, true);
    flow.para(&body.name, 9.5, false, Align::Center);
    flow.gap(10.0);
    both_languages(flow, lang, form.title_key(), 13.0, true);
    flow.gap(4.0);
    flow.para(
        &format!("№ {number} {} {}", t(lang, "dated"), date(issued_on)),
        10.0,
        false,
        Align::Center,
    );
    flow.gap(10.0);

    match form {
        Form::Application(a) => {
            flow.field(&label(lang, "filed_at"), &datetime(a.filed_at));
            flow.field(&label(lang, "channel"), &label(lang, &format!("channel.{}", a.channel)));
            flow.field(&label(lang, "purpose"), &purpose_text(lang, &a.purpose));
            if let Some(until) = a.requested_until {
                flow.field(&label(lang, "requested_until"), &date(until));
            }
            flow.heading(&label(lang, "inviting_party"));
            party_rows(flow, lang, &a.party);
            if let Some(rep) = &a.representative {
                flow.field(&label(lang, "representative"), rep);
            }
            flow.heading(&label(lang, "application"));
            person_rows(flow, lang, &a.immigrant);
            if !a.family.is_empty() {
                flow.heading(&label(lang, "family_members"));
                let rows: Vec<Vec<String>> = a
                    .family
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        vec![
                            format!("{}", i + 1),
                            m.person.full_name(),
                            m.person.citizenship.clone(),
                            m.person
                                .document
                                .as_ref()
                                .map(|d| format!("{} № {}", d.kind, d.number))
                                .unwrap_or_default(),
                            date(m.person.birth_date),
                            m.person.iin.clone().unwrap_or_default(),
                            m.relationship.clone(),
                        ]
                    })
                    .collect();
                flow.table(
                    &[
                        ("№", 0.5),
                        (&label(lang, "full_name"), 3.0),
                        (&label(lang, "citizenship"), 1.4),
                        (&label(lang, "identity_document"), 2.0),
                        (&label(lang, "birth_date"), 1.3),
                        (&label(lang, "iin"), 1.4),
                        (&label(lang, "relationship"), 1.4),
                    ],
                    &rows,
                );
            }
            documents_list(flow, lang, "documents_received", &a.documents);
        }
        Form::Receipt(r) => {
            flow.field(&label(lang, "filed_at"), &datetime(r.filed_at));
            flow.field(&label(lang, "accepted_on"), &date(r.accepted_on));
            flow.field(&label(lang, "channel"), &label(lang, &format!("channel.{}", r.channel)));
            person_rows(flow, lang, &r.applicant);
            if let Some(p) = &r.purpose {
                flow.field(&label(lang, "purpose"), &purpose_text(lang, p));
            }
            if let Some(party) = &r.party {
                party_rows(flow, lang, party);
            }
            if let Some(due) = r.due_on {
                flow.field(&label(lang, "decision_due"), &date(due));
            }
            if let Some(ready) = r.result_ready {
                flow.field(&label(lang, "result_ready"), &datetime(ready));
            }
            if r.calendar_expected {
                flow.para(t(lang, "calendar_expected"), 8.5, true, Align::Left);
            }
            documents_list(flow, lang, "documents_received", &r.documents);
            rules_line(flow, lang, &r.rules_version);
            flow.signature(
                &format!("{}: {}", label(lang, "official"), r.officer.post),
                &r.officer.name,
                t(lang, "signature"),
            );
        }
        Form::RefusalToAccept(r) => {
            flow.field(&label(lang, "filed_at"), &datetime(r.filed_at));
            flow.field(&label(lang, "channel"), &label(lang, &format!("channel.{}", r.channel)));
            person_rows(flow, lang, &r.applicant);
            flow.gap(6.0);
            flow.para(t(lang, "refusal_to_accept_reason"), 10.0, true, Align::Left);
            flow.heading(&label(lang, "documents_missing"));
            let rows: Vec<Vec<String>> = r
                .grounds
                .iter()
                .enumerate()
                .map(|(i, g)| vec![format!("{}", i + 1), g.text.clone(), g.citation.clone()])
                .collect();
            flow.table(
                &[
                    ("№", 0.5),
                    (&label(lang, "documents_missing"), 6.0),
                    (t(lang, "grounds_citation"), 2.5),
                ],
                &rows,
            );
            rules_line(flow, lang, &r.rules_version);
            appeal(flow, lang);
            flow.signature(
                &format!("{}: {}", label(lang, "official"), r.officer.post),
                &r.officer.name,
                t(lang, "signature"),
            );
        }
        Form::Permit(p) => {
            flow.field(&label(lang, "permit_number"), &p.permit_number);
            person_rows(flow, lang, &p.holder);
            flow.field(&label(lang, "purpose"), &purpose_text(lang, &p.purpose));
            flow.field(&label(lang, "valid_from"), &date(p.valid_from));
            flow.field(&label(lang, "valid_until"), &date(p.valid_until));
            if let Some(party) = &p.party {
                party_rows(flow, lang, party);
            }
            if let Some(principal) = &p.family_of {
                flow.field(&label(lang, "principal_permit"), principal);
            }
            flow.field(
                &label(lang, "issuing_body"),
                &format!("{} ({})", p.body.name, p.body.code),
            );
            flow.field(
                &label(lang, "decided_on"),
                &format!("{} — {}", date(p.decided_on), p.citation),
            );
            if p.calendar_expected {
                flow.para(t(lang, "calendar_expected"), 8.5, true, Align::Left);
            }
            rules_line(flow, lang, &p.rules_version);
            flow.signature(
                &format!("{}: {}", label(lang, "official"), p.officer.post),
                &p.officer.name,
                t(lang, "signature"),
            );
        }
        Form::MotivatedRefusal(r) => {
            person_rows(flow, lang, &r.applicant);
            flow.field(&label(lang, "purpose"), &purpose_text(lang, &r.purpose));
            if let Some(party) = &r.party {
                party_rows(flow, lang, party);
            }
            flow.field(&label(lang, "accepted_on"), &date(r.accepted_on));
            flow.field(&label(lang, "decided_on"), &date(r.decided_on));
            flow.field(&label(lang, "decision"), t(lang, "decision.refuse"));
            grounds_table(flow, lang, &r.grounds);
            flow.gap(4.0);
            flow.para(&r.reason, 10.0, false, Align::Left);
            rules_line(flow, lang, &r.rules_version);
            appeal(flow, lang);
            flow.signature(
                &format!("{}: {}", label(lang, "official"), r.officer.post),
                &r.officer.name,
                t(lang, "signature"),
            );
        }
        Form::Journal(j) => {
            flow.field(&label(lang, "period"), &format!("{} — {}", date(j.from), date(j.to)));
            let rows: Vec<Vec<String>> = j
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.serial.clone(),
                        r.full_name.clone(),
                        date(r.birth_date),
                        r.citizenship.clone(),
                        date(r.filed_on),
                        r.case_number.clone(),
                        r.outcome.clone(),
                    ]
                })
                .collect();
            flow.gap(6.0);
            flow.table(
                &[
                    (t(lang, "serial"), 1.1),
                    (&label(lang, "full_name"), 2.6),
                    (&label(lang, "birth_date"), 1.3),
                    (&label(lang, "citizenship"), 1.7),
                    (&label(lang, "registered_on"), 1.4),
                    (&label(lang, "number"), 2.0),
                    (&label(lang, "decision"), 1.5),
                ],
                &rows,
            );
            flow.gap(4.0);
            flow.para(
                &format!("{}: {}", t(lang, "total"), j.rows.len()),
                9.0,
                false,
                Align::Left,
            );
        }
        Form::PrConclusion(c) => {
            person_rows(flow, lang, &c.applicant);
            flow.field(&label(lang, "accepted_on"), &date(c.filed_on));
            if !c.answers.is_empty() {
                flow.heading(&label(lang, "agency_answers"));
                let rows: Vec<Vec<String>> = c
                    .answers
                    .iter()
                    .map(|a| vec![a.agency.clone(), a.answer.clone(), a.on.map(date).unwrap_or_default()])
                    .collect();
                flow.table(
                    &[
                        (&label(lang, "agency"), 3.0),
                        (&label(lang, "answer"), 4.0),
                        (&label(lang, "date"), 1.5),
                    ],
                    &rows,
                );
            }
            if let Some(h) = &c.hearing {
                flow.field(&label(lang, "hearing"), h);
            }
            grounds_table(flow, lang, &c.grounds);
            flow.gap(4.0);
            flow.para(&c.reasoning, 10.0, false, Align::Left);
            let decision = if c.issue { "decision.issue" } else { "decision.refuse" };
            flow.field(&label(lang, "decision"), t(lang, decision));
            flow.field(
                &label(lang, "prepared_by"),
                &format!(
                    "{}, {} — {}",
                    c.prepared_by.post,
                    c.prepared_by.name,
                    date(c.prepared_on)
                ),
            );
            approval_rows(flow, lang, &c.approval);
            rules_line(flow, lang, &c.rules_version);
            if let Some(a) = &c.approval {
                flow.signature(
                    &format!("{}: {}", label(lang, "approved_by"), a.by.post),
                    &a.by.name,
                    t(lang, "signature"),
                );
            }
        }
        Form::PrNotification(n) => {
            person_rows(flow, lang, &n.applicant);
            let decision = if n.issue { "decision.issue" } else { "decision.refuse" };
            flow.field(&label(lang, "decision"), t(lang, decision));
            flow.field(&label(lang, "decided_on"), &date(n.decided_on));
            if let Some(number) = &n.permit_number {
                flow.field(&label(lang, "permit_number"), number);
            }
            grounds_table(flow, lang, &n.grounds);
            rules_line(flow, lang, &n.rules_version);
            if !n.issue {
                appeal(flow, lang);
            }
            flow.signature(
                &format!("{}: {}", label(lang, "official"), n.officer.post),
                &n.officer.name,
                t(lang, "signature"),
            );
        }
        Form::AnnulmentConclusion(c) => {
            person_rows(flow, lang, &c.holder);
            flow.field(&label(lang, "permit_number"), &c.permit_number);
            flow.heading(&label(lang, "annulment_grounds"));
            grounds_table(flow, lang, &c.grounds);
            flow.gap(4.0);
            flow.para(&c.facts, 10.0, false, Align::Left);
            flow.field(
                &label(lang, "prepared_by"),
                &format!(
                    "{}, {} — {}",
                    c.prepared_by.post,
                    c.prepared_by.name,
                    date(c.prepared_on)
                ),
            );
            approval_rows(flow, lang, &c.approval);
            if let Some(leave) = c.leave_by {
                flow.field(&label(lang, "leave_by"), &date(leave));
            }
            flow.para(t(lang, "new_application_after"), 8.5, false, Align::Left);
            rules_line(flow, lang, &c.rules_version);
            appeal(flow, lang);
            if let Some(a) = &c.approval {
                flow.signature(
                    &format!("{}: {}", label(lang, "approved_by"), a.by.post),
                    &a.by.name,
                    t(lang, "signature"),
                );
            }
        }
        Form::AnnulmentNotification(n) => {
            person_rows(flow, lang, &n.holder);
            flow.field(&label(lang, "permit_number"), &n.permit_number);
            grounds_table(flow, lang, &n.grounds);
            flow.field(&label(lang, "approved_by"), &date(n.approved_on));
            flow.field(&label(lang, "leave_by"), &date(n.leave_by));
            flow.para(t(lang, "new_application_after"), 8.5, false, Align::Left);
            rules_line(flow, lang, &n.rules_version);
            appeal(flow, lang);
            flow.signature(
                &format!("{}: {}", label(lang, "official"), n.officer.post),
                &n.officer.name,
                t(lang, "signature"),
            );
        }
    }
}

/// A heading line in the document's language and, when that is Kazakh, the Russian on a line of
/// its own beneath (one line each reads better than "kk / ru" wrapped across two).
fn both_languages(flow: &mut Flow, lang: Lang, key: &str, size: f32, bold: bool) {
    let main = t(lang, key);
    flow.para(main, size, bold, Align::Center);
    let ru = t(Lang::Ru, key);
    if main != ru {
        flow.para(ru, size * 0.85, false, Align::Center);
    }
}

fn documents_list(flow: &mut Flow, lang: Lang, key: &str, documents: &[String]) {
    if documents.is_empty() {
        return;
    }
    flow.heading(&label(lang, key));
    for (i, d) in documents.iter().enumerate() {
        flow.para(&format!("{}. {d}", i + 1), 9.5, false, Align::Left);
    }
}
