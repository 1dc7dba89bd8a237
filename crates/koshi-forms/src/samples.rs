//! Sample facts for every form: the tests, the benchmark and `koshi forms sample` print them.
//! Names and numbers are invented.

use jiff::civil::{Date, date};

use crate::forms::*;

fn person() -> Person {
    Person {
        surname: "Әлиева-Құрманғазықызы".into(),
        given_names: "Гүлнұр Өмірбекқызы".into(),
        birth_date: date(1990, 4, 17),
        citizenship: "UZB — Узбекистан".into(),
        iin: Some("900417450123".into()),
        document: Some(IdentityDocument {
            kind: "паспорт".into(),
            number: "FA1234567".into(),
            issued_on: Some(date(2021, 3, 2)),
            expires_on: Some(date(2031, 3, 1)),
        }),
    }
}

fn child() -> Person {
    Person {
        surname: "Әлиев".into(),
        given_names: "Нұрсұлтан".into(),
        birth_date: date(2015, 9, 1),
        citizenship: "UZB — Узбекистан".into(),
        iin: None,
        document: Some(IdentityDocument {
            kind: "паспорт".into(),
            number: "FA7654321".into(),
            issued_on: None,
            expires_on: Some(date(2030, 1, 1)),
        }),
    }
}

fn party() -> Party {
    Party {
        name: "ТОО «Ақжол Құрылыс»".into(),
        iin: None,
        bin: Some("190240012345".into()),
        address: "г. Астана, район Есиль, ул. Сығанақ, д. 18, кв. 4".into(),
        rka: Some("0201800012345678".into()),
    }
}

fn body() -> Body {
    Body {
        code: "UMP-AST-01".into(),
        name: "Управление миграционной полиции Департамента полиции города Астаны".into(),
    }
}

fn con_branch() -> Body {
    Body {
        code: "CON-AST-01".into(),
        name: "Филиал Государственной корпорации по городу Астане, отдел обслуживания района Есиль".into(),
    }
}

fn con_operator() -> Signer {
    Signer {
        post: "работник Государственной корпорации".into(),
        name: "Нұрланова А. Б.".into(),
    }
}

fn officer() -> Signer {
    Signer {
        post: "старший инспектор".into(),
        name: "Серікбаев Ә. Қ.".into(),
    }
}

fn head() -> Signer {
    Signer {
        post: "начальник Департамента полиции".into(),
        name: "Жұмабеков Ғ. Ү.".into(),
    }
}

fn purpose() -> Purpose {
    Purpose {
        id: "education".into(),
        ru: "Обучение".into(),
    }
}

const VERSION: &str = "Правила № 992 в редакции от 08.12.2024";

fn on(d: Date, h: i8, m: i8) -> jiff::civil::DateTime {
    d.at(h, m, 0, 0)
}

/// One sample of every form (the exit RVP included), with a document number each.
pub fn all() -> Vec<(String, Form)> {
    let filed = date(2026, 12, 1);
    vec![
        (
            "APP-2026-000101".into(),
            Form::Application(Application {
                case_number: "RVP-2026-000101".into(),
                filed_at: on(filed, 10, 15),
                channel: "portal".into(),
                body: body(),
                party: party(),
                immigrant: person(),
                family: vec![FamilyMember { person: child(), relationship: "сын".into() }],
                purpose: purpose(),
                documents: vec!["Заявление-анкета".into(), "Документ, удостоверяющий личность (паспорт)".into(), "Договор медицинского страхования".into()],
                requested_until: Some(date(2027, 6, 30)),
                representative: None,
            }),
        ),
        (
            "REC-2026-000101".into(),
            Form::Receipt(Receipt {
                kind: ReceiptKind::Rvp,
                case_number: "RVP-2026-000101".into(),
                filed_at: on(filed, 10, 15),
                accepted_on: filed,
                channel: "portal".into(),
                applicant: person(),
                party: Some(party()),
                purpose: Some(purpose()),
                documents: vec!["Заявление-анкета".into(), "Документ, удостоверяющий личность (паспорт)".into()],
                result_ready: Some(on(date(2026, 12, 8), 18, 30)),
                due_on: Some(date(2026, 12, 8)),
                calendar_expected: false,
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "RTA-2026-000102".into(),
            Form::RefusalToAccept(RefusalToAccept {
                kind: RefusalKind::Rvp,
                case_number: "RVP-2026-000102".into(),
                filed_at: on(filed, 11, 0),
                channel: "police_desk".into(),
                applicant: person(),
                grounds: vec![
                    Ground { citation: "п. 6; App. 1-1 п. 8".into(), text: "Не представлен: договор медицинского страхования".into() },
                    Ground { citation: "п. 6".into(), text: "Истёк срок действия: паспорт FA1234567 (01.03.2026)".into() },
                ],
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        ("RVP-2026-000101".into(), Form::Permit(permit(false))),
        ("RVX-2026-000009".into(), Form::Permit(permit(true))),
        (
            "REF-2026-000103".into(),
            Form::MotivatedRefusal(MotivatedRefusal {
                case_number: "RVP-2026-000103".into(),
                applicant: person(),
                party: Some(party()),
                purpose: purpose(),
                accepted_on: filed,
                decided_on: date(2026, 12, 4),
                grounds: vec![Ground {
                    citation: "п. 9-1 пп. 3".into(),
                    text: "Наличие непогашенной судимости (ответ ИС «Беркут» от 03.12.2026)".into(),
                }],
                reason: "По сведениям информационной системы у услугополучателя имеется непогашенная судимость; основание для отказа установлено проверкой, а не заявлением.".into(),
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "PRT-2026-000201".into(),
            Form::Receipt(Receipt {
                kind: ReceiptKind::PrTalon,
                case_number: "PR-2026-000201".into(),
                filed_at: on(filed, 9, 40),
                accepted_on: filed,
                channel: "police_desk".into(),
                applicant: person(),
                party: None,
                purpose: None,
                documents: vec!["Заявление".into(), "Документ, удостоверяющий личность (паспорт)".into()],
                result_ready: None,
                due_on: Some(date(2027, 3, 1)),
                calendar_expected: true,
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "PRC-2026-000205".into(),
            Form::Receipt(Receipt {
                kind: ReceiptKind::PrCon,
                case_number: "PR-2026-000205".into(),
                filed_at: on(filed, 11, 5),
                accepted_on: date(2026, 12, 2),
                channel: "con".into(),
                applicant: person(),
                party: None,
                purpose: None,
                documents: vec!["Заявление".into(), "Документ, удостоверяющий личность (паспорт)".into(), "Автобиография".into()],
                result_ready: None,
                due_on: Some(date(2027, 3, 2)),
                calendar_expected: true,
                body: con_branch(),
                officer: con_operator(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "PRR-2026-000202".into(),
            Form::RefusalToAccept(RefusalToAccept {
                kind: RefusalKind::PrTalon,
                case_number: "PR-2026-000202".into(),
                filed_at: on(filed, 9, 45),
                channel: "police_desk".into(),
                applicant: person(),
                grounds: vec![Ground { citation: "п. 12".into(), text: "Не представлен: документ о платёжеспособности".into() }],
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "CNR-2026-000203".into(),
            Form::RefusalToAccept(RefusalToAccept {
                kind: RefusalKind::Con,
                case_number: "PR-2026-000203".into(),
                filed_at: on(filed, 12, 5),
                channel: "con".into(),
                applicant: person(),
                grounds: vec![Ground { citation: "п. 13".into(), text: "Истёк срок действия: паспорт".into() }],
                body: Body { code: "CON-AST-03".into(), name: "Отдел № 3 филиала Государственной корпорации по городу Астане".into() },
                officer: Signer { post: "оператор".into(), name: "Байжанова Ө. І.".into() },
                rules_version: VERSION.into(),
            }),
        ),
        (
            "JRN-2026-12".into(),
            Form::Journal(Journal {
                body: body(),
                from: date(2026, 1, 1),
                to: date(2026, 12, 31),
                rows: (1..=60)
                    .map(|i| JournalRow {
                        serial: format!("{i}"),
                        full_name: format!("Қасымова Әйгерім {i}"),
                        birth_date: date(1985, 1, 1),
                        citizenship: "CHN — Китай".into(),
                        filed_on: date(2026, 2, 3),
                        case_number: format!("PR-2026-{i:06}"),
                        outcome: "выдано".into(),
                    })
                    .collect(),
            }),
        ),
        (
            "CON-2026-000201".into(),
            Form::PrConclusion(PrConclusion {
                issue: true,
                case_number: "PR-2026-000201".into(),
                applicant: person(),
                filed_on: filed,
                answers: vec![
                    AgencyAnswer { agency: "Органы национальной безопасности".into(), answer: "согласовано".into(), on: Some(date(2026, 12, 20)) },
                    AgencyAnswer { agency: "УМС ДП".into(), answer: "сведений, препятствующих выдаче, нет".into(), on: Some(date(2026, 12, 10)) },
                ],
                grounds: vec![],
                reasoning: "Оснований для отказа, предусмотренных статьёй 49 Закона, не установлено; согласование органов национальной безопасности получено.".into(),
                hearing: None,
                prepared_by: officer(),
                prepared_on: date(2026, 12, 22),
                approval: Some(Approval { by: head(), on: date(2026, 12, 23) }),
                body: body(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "CON-2026-000204".into(),
            Form::PrConclusion(PrConclusion {
                issue: false,
                case_number: "PR-2026-000204".into(),
                applicant: person(),
                filed_on: filed,
                answers: vec![
                    AgencyAnswer { agency: "Банк второго уровня".into(), answer: "подлинность справки не подтверждена".into(), on: Some(date(2026, 12, 9)) },
                    AgencyAnswer { agency: "Органы национальной безопасности".into(), answer: "согласовано".into(), on: Some(date(2026, 12, 20)) },
                ],
                grounds: vec![Ground { citation: "Закон о миграции ст. 49 п. 1 пп. 4".into(), text: "Не подтверждена платёжеспособность".into() }],
                reasoning: "Справка банка о наличии денег не подтверждена банком; иных документов о платёжеспособности не представлено.".into(),
                hearing: Some("Заслушивание 18.12.2026: заявитель с предварительным решением не согласен, новых документов не представил.".into()),
                prepared_by: officer(),
                prepared_on: date(2026, 12, 21),
                approval: Some(Approval { by: head(), on: date(2026, 12, 22) }),
                body: body(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "NTF-2026-000201".into(),
            Form::PrNotification(PrNotification {
                issue: true,
                case_number: "PR-2026-000201".into(),
                applicant: person(),
                permit_number: Some("PR-000201".into()),
                grounds: vec![],
                decided_on: date(2026, 12, 23),
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "NTF-2026-000204".into(),
            Form::PrNotification(PrNotification {
                issue: false,
                case_number: "PR-2026-000204".into(),
                applicant: person(),
                permit_number: None,
                grounds: vec![Ground { citation: "Закон о миграции ст. 49 п. 1 пп. 4".into(), text: "Не подтверждена платёжеспособность".into() }],
                decided_on: date(2026, 12, 23),
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "ANC-2026-000007".into(),
            Form::AnnulmentConclusion(AnnulmentConclusion {
                case_number: "PR-2025-000777".into(),
                holder: person(),
                permit_number: "PR-000777".into(),
                grounds: vec![Ground { citation: "Закон о миграции ст. 49 п. 1 пп. 5".into(), text: "Нарушение законодательства о правовом положении иностранцев".into() }],
                facts: "Постановление по делу об административном правонарушении от 12.11.2026 вступило в законную силу.".into(),
                prepared_by: officer(),
                prepared_on: date(2026, 12, 1),
                approval: Some(Approval { by: head(), on: date(2026, 12, 2) }),
                leave_by: Some(date(2027, 1, 1)),
                body: body(),
                rules_version: VERSION.into(),
            }),
        ),
        (
            "ANN-2026-000007".into(),
            Form::AnnulmentNotification(AnnulmentNotification {
                case_number: "PR-2025-000777".into(),
                holder: person(),
                permit_number: "PR-000777".into(),
                grounds: vec![Ground { citation: "Закон о миграции ст. 49 п. 1 пп. 5".into(), text: "Нарушение законодательства о правовом положении иностранцев".into() }],
                approved_on: date(2026, 12, 2),
                leave_by: date(2027, 1, 1),
                body: body(),
                officer: officer(),
                rules_version: VERSION.into(),
            }),
        ),
    ]
}

fn permit(exit: bool) -> Permit {
    Permit {
        exit,
        permit_number: if exit { "RVX-000009".into() } else { "RVP-000101".into() },
        case_number: "RVP-2026-000101".into(),
        holder: person(),
        purpose: purpose(),
        party: if exit { None } else { Some(party()) },
        valid_from: date(2026, 12, 8),
        valid_until: date(2027, 6, 30),
        decided_on: date(2026, 12, 8),
        body: body(),
        officer: officer(),
        citation: if exit { "п. 21".into() } else { "п. 9".into() },
        rules_version: VERSION.into(),
        family_of: None,
        calendar_expected: false,
    }
}

/// The seal payload of a permit form.
pub fn seal_payload(form: &Permit, code: &str, issued_on: Date) -> crate::seal::SealPayload {
    crate::seal::SealPayload {
        doc_type: if form.exit { "RVP-EXIT".into() } else { "RVP".into() },
        number: form.permit_number.clone(),
        code: code.into(),
        surname: form.holder.surname.clone(),
        given_names: form.holder.given_names.clone(),
        birth_date: form.holder.birth_date,
        valid_from: form.valid_from,
        valid_until: form.valid_until,
        purpose: form.purpose.id.clone(),
        issuer: form.body.code.clone(),
        issued_on,
    }
}
