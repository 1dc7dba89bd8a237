//! The facts each appendix carries, and how each is laid out. Where the official layout is not
//! known (legal-facts §3), the layout is Koshi's own: the issuing body, the appendix reference,
//! the title, the number and date, the facts as labelled rows, grounds with their citations and
//! the version of the Rules, how to appeal, the signer, and the verification block.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::i18n::{Lang, label, t};
use crate::layout::{Align, Flow};

/// A person as the documents name them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Person {
    pub surname: String,
    pub given_names: String,
    pub birth_date: Date,
    /// The citizenship as printed (ISO code and name), or empty for a stateless person.
    pub citizenship: String,
    #[serde(default)]
    pub iin: Option<String>,
    #[serde(default)]
    pub document: Option<IdentityDocument>,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.surname, self.given_names)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdentityDocument {
    /// As printed, e.g. "паспорт".
    pub kind: String,
    pub number: String,
    #[serde(default)]
    pub issued_on: Option<Date>,
    #[serde(default)]
    pub expires_on: Option<Date>,
}

/// The inviting party (принимающее лицо).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    #[serde(default)]
    pub iin: Option<String>,
    #[serde(default)]
    pub bin: Option<String>,
    pub address: String,
    #[serde(default)]
    pub rka: Option<String>,
}

/// The body that issues the document (a police body, a ЦОН branch).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Body {
    pub code: String,
    pub name: String,
}

/// Who signs, by post and name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Signer {
    pub post: String,
    pub name: String,
}

/// A ground with the norm it rests on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ground {
    pub citation: String,
    pub text: String,
}

/// A purpose of stay: its id (for the Kazakh term) and its Russian name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Purpose {
    pub id: String,
    pub ru: String,
}

/// The service a document belongs to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Rvp,
    Pr,
}

/// App. 1: the application, with the family table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Application {
    pub case_number: String,
    pub filed_at: DateTime,
    /// `police_desk`, `con` or `portal`.
    pub channel: String,
    pub body: Body,
    pub party: Party,
    pub immigrant: Person,
    #[serde(default)]
    pub family: Vec<FamilyMember>,
    pub purpose: Purpose,
    #[serde(default)]
    pub documents: Vec<String>,
    #[serde(default)]
    pub requested_until: Option<Date>,
    #[serde(default)]
    pub representative: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FamilyMember {
    pub person: Person,
    pub relationship: String,
}

/// Which receipt of acceptance.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// App. 1-2: RVP, at the police desk, the ЦОН (п. 7) or the portal.
    Rvp,
    /// App. 6: the PR talon at the police desk (п. 12).
    PrTalon,
    /// The ЦОН's receipt of a PR filing (п. 11–13 name no appendix for the acceptance).
    PrCon,
}

/// App. 1-2, App. 6 (acceptance), the ЦОН's PR receipt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub case_number: String,
    pub filed_at: DateTime,
    pub accepted_on: Date,
    pub channel: String,
    pub applicant: Person,
    #[serde(default)]
    pub party: Option<Party>,
    #[serde(default)]
    pub purpose: Option<Purpose>,
    #[serde(default)]
    pub documents: Vec<String>,
    /// п. 8 (portal): when the result will be ready.
    #[serde(default)]
    pub result_ready: Option<DateTime>,
    #[serde(default)]
    pub due_on: Option<Date>,
    /// The due date rests on a calendar year not yet officially approved.
    #[serde(default)]
    pub calendar_expected: bool,
    pub body: Body,
    pub officer: Signer,
    pub rules_version: String,
}

/// Which refusal to accept.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// App. 1-3 (RVP, п. 6).
    Rvp,
    /// App. 6 (PR at the police desk, п. 12).
    PrTalon,
    /// App. 7 (PR at the ЦОН, п. 13).
    Con,
}

/// App. 1-3, App. 6 (refusal), App. 7.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RefusalToAccept {
    pub kind: RefusalKind,
    pub case_number: String,
    pub filed_at: DateTime,
    pub channel: String,
    pub applicant: Person,
    pub grounds: Vec<Ground>,
    pub body: Body,
    pub officer: Signer,
    pub rules_version: String,
}

/// App. 2, and the RVP for the period of departure (п. 21).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Permit {
    /// The RVP for departure after an annulment (п. 21).
    #[serde(default)]
    pub exit: bool,
    pub permit_number: String,
    pub case_number: String,
    pub holder: Person,
    pub purpose: Purpose,
    #[serde(default)]
    pub party: Option<Party>,
    pub valid_from: Date,
    pub valid_until: Date,
    pub decided_on: Date,
    pub body: Body,
    pub officer: Signer,
    pub citation: String,
    pub rules_version: String,
    /// A family member arriving together: the immigrant's case.
    #[serde(default)]
    pub family_of: Option<String>,
    #[serde(default)]
    pub calendar_expected: bool,
}

/// App. 2-1.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MotivatedRefusal {
    pub case_number: String,
    pub applicant: Person,
    #[serde(default)]
    pub party: Option<Party>,
    pub purpose: Purpose,
    pub accepted_on: Date,
    pub decided_on: Date,
    pub grounds: Vec<Ground>,
    /// The officer's reasoning.
    pub reason: String,
    pub body: Body,
    pub officer: Signer,
    pub rules_version: String,
}

/// App. 8: the journal of PR files, for a period and a police body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Journal {
    pub body: Body,
    pub from: Date,
    pub to: Date,
    pub rows: Vec<JournalRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalRow {
    /// The journal's serial number, which is also the file number (п. 14).
    pub serial: String,
    pub full_name: String,
    pub birth_date: Date,
    pub citizenship: String,
    pub filed_on: Date,
    pub case_number: String,
    /// The outcome so far, as printed.
    pub outcome: String,
}

/// An approval under п. 15: by whom and when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Approval {
    pub by: Signer,
    pub on: Date,
}

/// An agency's answer (п. 14, art. 49).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgencyAnswer {
    pub agency: String,
    pub answer: String,
    #[serde(default)]
    pub on: Option<Date>,
}

/// App. 9: the conclusion on issue or refusal, with its approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PrConclusion {
    pub issue: bool,
    pub case_number: String,
    pub applicant: Person,
    pub filed_on: Date,
    #[serde(default)]
    pub answers: Vec<AgencyAnswer>,
    #[serde(default)]
    pub grounds: Vec<Ground>,
    pub reasoning: String,
    #[serde(default)]
    pub hearing: Option<String>,
    pub prepared_by: Signer,
    pub prepared_on: Date,
    #[serde(default)]
    pub approval: Option<Approval>,
    pub body: Body,
    pub rules_version: String,
}

/// App. 10: the notification of issue or refusal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PrNotification {
    pub issue: bool,
    pub case_number: String,
    pub applicant: Person,
    #[serde(default)]
    pub permit_number: Option<String>,
    #[serde(default)]
    pub grounds: Vec<Ground>,
    pub decided_on: Date,
    pub body: Body,
    pub officer: Signer,
    pub rules_version: String,
}

/// App. 11: the conclusion on annulment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnnulmentConclusion {
    pub case_number: String,
    pub holder: Person,
    pub permit_number: String,
    pub grounds: Vec<Ground>,
    pub facts: String,
    pub prepared_by: Signer,
    pub prepared_on: Date,
    #[serde(default)]
    pub approval: Option<Approval>,
    /// п. 20: 30 calendar days from the approval.
    #[serde(default)]
    pub leave_by: Option<Date>,
    pub body: Body,
    pub rules_version: String,
}

/// App. 12: the notification of annulment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnnulmentNotification {
    pub case_number: String,
    pub holder: Person,
    pub permit_number: String,
    pub grounds: Vec<Ground>,
    pub approved_on: Date,
    pub leave_by: Date,
    pub body: Body,
    pub officer: Signer,
    pub rules_version: String,
}

/// Every document Koshi prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Form {
    Application(Application),
    Receipt(Receipt),
    RefusalToAccept(RefusalToAccept),
    Permit(Permit),
    MotivatedRefusal(MotivatedRefusal),
    Journal(Journal),
    PrConclusion(PrConclusion),
    PrNotification(PrNotification),
    AnnulmentConclusion(AnnulmentConclusion),
    AnnulmentNotification(AnnulmentNotification),
}

impl Form {
    /// The appendix of the Rules the form follows, if the Rules name one.
    pub fn appendix(&self) -> Option<&'static str> {
        match self {
            Form::Application(_) => Some("1"),
            Form::Receipt(r) => match r.kind {
                ReceiptKind::Rvp => Some("1-2"),
                ReceiptKind::PrTalon => Some("6"),
                ReceiptKind::PrCon => None,
            },
            Form::RefusalToAccept(r) => Some(match r.kind {
                RefusalKind::Rvp => "1-3",
                RefusalKind::PrTalon => "6",
                RefusalKind::Con => "7",
            }),
            Form::Permit(p) if p.exit => None,
            Form::Permit(_) => Some("2"),
            Form::MotivatedRefusal(_) => Some("2-1"),
            Form::Journal(_) => Some("8"),
            Form::PrConclusion(_) => Some("9"),
            Form::PrNotification(_) => Some("10"),
            Form::AnnulmentConclusion(_) => Some("11"),
            Form::AnnulmentNotification(_) => Some("12"),
        }
    }

    /// The key of the form's title.
    pub fn title_key(&self) -> &'static str {
        match self {
            Form::Application(_) => "title.application",
            Form::Receipt(r) => match r.kind {
                ReceiptKind::Rvp => "title.receipt_rvp",
                ReceiptKind::PrTalon | ReceiptKind::PrCon => "title.pr_talon",
            },
            Form::RefusalToAccept(r) => match r.kind {
                RefusalKind::Rvp => "title.refusal_to_accept_rvp",
                RefusalKind::PrTalon => "title.pr_talon_refusal",
                RefusalKind::Con => "title.con_refusal",
            },
            Form::Permit(p) if p.exit => "title.exit_permit",
            Form::Permit(_) => "title.permit",
            Form::MotivatedRefusal(_) => "title.motivated_refusal",
            Form::Journal(_) => "title.journal",
            Form::PrConclusion(c) if c.issue => "title.pr_conclusion_issue",
            Form::PrConclusion(_) => "title.pr_conclusion_refusal",
            Form::PrNotification(n) if n.issue => "title.pr_notification_issue",
            Form::PrNotification(_) => "title.pr_notification_refusal",
            Form::AnnulmentConclusion(_) => "title.annulment_conclusion",
            Form::AnnulmentNotification(_) => "title.annulment_notification",
        }
    }

    /// A stable name of the form (stored with each document).
    pub fn kind(&self) -> &'static str {
        match self {
            Form::Application(_) => "application",
            Form::Receipt(_) => "receipt",
            Form::RefusalToAccept(_) => "refusal_to_accept",
            Form::Permit(p) if p.exit => "exit_permit",
            Form::Permit(_) => "permit",
            Form::MotivatedRefusal(_) => "motivated_refusal",
            Form::Journal(_) => "journal",
            Form::PrConclusion(_) => "pr_conclusion",
            Form::PrNotification(_) => "pr_notification",
            Form::AnnulmentConclusion(_) => "annulment_conclusion",
            Form::AnnulmentNotification(_) => "annulment_notification",
        }
    }

    fn body(&self) -> &Body {
        match self {
            Form::Application(f) => &f.body,
            Form::Receipt(f) => &f.body,
            Form::RefusalToAccept(f) => &f.body,
            Form::Permit(f) => &f.body,
            Form::MotivatedRefusal(f) => &f.body,
            Form::Journal(f) => &f.body,
            Form::PrConclusion(f) => &f.body,
            Form::PrNotification(f) => &f.body,
            Form::AnnulmentConclusion(f) => &f.body,
            Form::AnnulmentNotification(f) => &f.body,
        }
    }
}

pub(crate) fn date(d: Date) -> String {
    d.strftime("%d.%m.%Y").to_string()
}

pub(crate) fn datetime(d: DateTime) -> String {
    d.strftime("%d.%m.%Y %H:%M").to_string()
}

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
    both_languages(flow, lang, "ministry", 9.5, true);
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
