//! The facts each appendix carries, and how each is laid out. Where the official layout is not
//! known (legal-facts §3), the layout is Koshi's own: the issuing body, the appendix reference,
//! the title, the number and date, the facts as labelled rows, grounds with their citations and
//! the version of the Rules, how to appeal, the signer, and the verification block.

mod draw;

pub(crate) use draw::layout;

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

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

    /// The organisation that issues the form, above the issuing body's name: the State
    /// Corporation for what a ЦОН issues itself (its receipt of a PR filing, its refusal to accept
    /// of App. 7, п. 13), the Ministry of Internal Affairs for the police's acts.
    pub fn issuer_key(&self) -> &'static str {
        match self {
            Form::Receipt(Receipt {
                kind: ReceiptKind::PrCon,
                ..
            })
            | Form::RefusalToAccept(RefusalToAccept {
                kind: RefusalKind::Con, ..
            }) => "channel.con",
            _ => "ministry",
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
