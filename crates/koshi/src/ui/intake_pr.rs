//! Desk intake of a PR application at a police body (issue 17 item 4, п. 11–13, 16-1): the
//! officer chooses the ground of п. 11, sees at once which documents App. 3 asks for (with when
//! each is needed and its norm), enters the applicant, the documents, the solvency figures and
//! where notices reach the applicant, and checks the package before taking it — the counter's
//! own check (`Service::precheck_pr`: missing and expired documents, the п. 22 bar, and the
//! grounds a conclusion would decide after a hearing). Taking the documents files the case
//! through the API's use case: the talon (App. 6) or the recorded refusal to accept.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use koshi_law::requirements::DocumentRequirement;
use maud::{Markup, html};

use super::lang::{t, ts};
use super::{SignedIn, html_response, page, refused, session_caller};
use crate::model::{ContactInput, Ground, IdentityDocumentInput, PersonInput, PrApplicationRequest, SolvencyInput};
use crate::problem::Problem;
use crate::service::{Caller, Service};

use super::intake::{Values, day, document_inputs, document_row, field, opt, v};

/// A fact a PR document's need depends on, in words.
fn fact_words(f: &str) -> Markup {
    match f {
        "solvency_exempt" => t("освобождён от подтверждения платёжеспособности"),
        "joint_with_children_under_16" => t("подаёт вместе с детьми до 16 лет"),
        "child_14_to_18_applying" => t("подаёт ребёнок 14–18 лет"),
        "foreign_language_documents" => t("документы на иностранном языке"),
        "refugee_or_asylum" => t("беженец или лицо, получившее убежище"),
        "ethnic_kazakh" => t("этнический казах"),
        "ethnic_kazakh_from_prc" => t("этнический казах из КНР"),
        "filed_by_representative" => t("подаёт представитель"),
        "housing_contracted" => t("жильё по договору"),
        other => html! { (other) },
    }
}

/// When a document is needed, in words.
fn condition(d: &DocumentRequirement) -> Option<Markup> {
    if let Some(f) = d.when.first() {
        return Some(html! { (t("если: ")) (fact_words(f)) });
    }
    d.unless
        .first()
        .map(|f| html! { (t("не нужен, если: ")) (fact_words(f)) })
}

/// The documents App. 3 asks for, once each, the passport apart.
fn documents(law: &koshi_law::Law) -> Vec<&DocumentRequirement> {
    super::intake::once_each(law.requirements.pr_common.iter())
}

/// Tenge as typed (digits, spaces allowed) in tiyn.
fn tiyn(values: &Values, key: &str) -> Result<Option<i64>, Problem> {
    let text: String = v(values, key).chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .and_then(|n| n.checked_mul(100))
        .map(Some)
        .ok_or_else(|| Problem::unprocessable("invalid_amount", &format!("/{key}"), "an amount in whole tenge"))
}

/// The application the form describes, as the API takes it.
fn filing(values: &Values, law: &koshi_law::Law) -> Result<PrApplicationRequest, Problem> {
    let ground = law
        .requirements
        .pr_ground(v(values, "ground"))
        .ok_or_else(|| Problem::unprocessable("unknown_ground", "/ground", "choose the ground of п. 11"))?;
    let documents = document_inputs(values, documents(law), None)?;
    let solvency = match tiyn(values, "funds")? {
        Some(funds_tiyn) => Some(SolvencyInput {
            funds_tiyn,
            price_per_square_metre_tiyn: tiyn(values, "price_m2")?,
        }),
        None => None,
    };
    let contact = ContactInput {
        phone: opt(values, "phone"),
        email: opt(values, "email"),
        postal_address: opt(values, "postal_address"),
    };
    let any_contact = contact.phone.is_some() || contact.email.is_some() || contact.postal_address.is_some();
    Ok(PrApplicationRequest {
        kind: "pr".into(),
        channel: Some("police_desk".into()),
        police_unit: None,
        filed_at: None,
        paper_filing: None,
        ground: ground.id.clone(),
        applicant: PersonInput {
            surname: v(values, "surname").into(),
            given_names: v(values, "given_names").into(),
            birth_date: day(values, "birth_date", "/applicant/birth_date")?,
            citizenship: v(values, "citizenship").to_uppercase(),
            iin: opt(values, "iin"),
            document: IdentityDocumentInput {
                kind: "passport".into(),
                number: v(values, "passport_number").into(),
                issued_on: None,
                expires_on: day(values, "passport_expires", "/applicant/document/expires_on")?,
            },
            stay_until: None,
            from_visa_free_state: ground.id == "visa_free_state",
            turned_16_in_kazakhstan: false,
        },
        family: Vec::new(),
        documents,
        facts: if v(values, "foreign_language_documents") == "1" {
            vec!["foreign_language_documents".into()]
        } else {
            Vec::new()
        },
        representative: None,
        contact: any_contact.then_some(contact),
        solvency,
        schema: None,
    })
}

/// What the check found.
enum Checked {
    Whole,
    Grounds(Vec<Ground>),
    Refused(String),
}

fn form(s: &Service, values: &Values, csrf: &str, checked: Option<&Checked>) -> Markup {
    let law = s.law();
    let ground = law.requirements.pr_ground(v(values, "ground"));
    let name_of = |kind: &str| {
        law.requirements
            .document(kind)
            .map_or_else(|| kind.to_string(), |d| d.ru.clone())
    };
    let text = |name: &str, label: Markup, kind: &str, required: bool| field(values, name, label, kind, required);
    html! {
        p { a href="/ui/intake" { (t("← Приём документов на РВП")) } }
        h1 { (t("Приём документов на ПМЖ")) }
        form.filters method="get" action="/ui/intake/pr" {
            div {
                label for="ground" { (t("Основание (п. 11)")) }
                select #ground name="ground" {
                    option value="" { (t("— выберите —")) }
                    @for g in &law.requirements.pr_grounds {
                        option value=(g.id) selected[ground.is_some_and(|x| x.id == g.id)] { (g.ru) }
                    }
                }
            }
            button type="submit" { (t("Показать документы")) }
        }
        @if let Some(ground) = ground {
            @match checked {
                Some(Checked::Whole) => div.verdict.good role="status" {
                    p.big { (t("Пакет документов полный: документы можно принять.")) }
                },
                Some(Checked::Grounds(grounds)) => div.verdict.bad role="alert" {
                    p.big { (t("Найдены основания:")) }
                    ul { @for g in grounds { li { (name_of(g.document.as_deref().unwrap_or(""))) " — " (g.detail) " (" (g.citation) ")" } } }
                    p.muted { (t("Неполный пакет и просроченные документы — отказ в приёме (п. 16-1); иные основания решает заключение после заслушивания (п. 17).")) }
                },
                Some(Checked::Refused(why)) => div.verdict.bad role="alert" { p { (why) } },
                None => {}
            }
            form method="post" action="/ui/intake/pr" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="ground" value=(ground.id);
                h2 { (t("Заявитель")) }
                (text("surname", t("Фамилия"), "text", true))
                (text("given_names", t("Имя"), "text", true))
                (text("birth_date", t("Дата рождения"), "date", true))
                (text("citizenship", t("Гражданство (код ISO, XXX — без гражданства)"), "text", true))
                (text("iin", t("ИИН"), "text", false))
                (text("passport_number", t("Номер паспорта"), "text", true))
                (text("passport_expires", t("Паспорт действителен до"), "date", true))
                h2 #pr-docs-h { (t("Документы (приложение 3)")) }
                p.muted { (t("Отметьте представленные документы; сроки — как в документе.")) }
                div.scroll role="region" aria-labelledby="pr-docs-h" tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { (t("Представлен")) } th scope="col" { (t("Документ")) }
                            th scope="col" { (t("Выдан")) } th scope="col" { (t("Действителен до")) } th scope="col" { (t("Норма")) }
                        } }
                        tbody {
                            @for d in documents(&law) {
                                (document_row(values, &name_of(&d.kind), d, condition(d), false))
                            }
                        }
                    }
                }
                p { label { input name="foreign_language_documents" type="checkbox" value="1" checked[v(values, "foreign_language_documents") == "1"]; " " (t("Документы на иностранном языке")) } }
                h2 { (t("Платёжеспособность (приложение 3)")) }
                (text("funds", t("Сумма, подтверждённая банком, тенге"), "text", false))
                (text("price_m2", t("Средняя цена жилья в населённом пункте за м², тенге"), "text", false))
                h2 { (t("Куда направлять уведомления")) }
                (text("phone", t("Телефон"), "tel", false))
                (text("email", t("Электронная почта"), "email", false))
                (text("postal_address", t("Почтовый адрес"), "text", false))
                p {
                    button type="submit" name="action" value="check" { (t("Проверить пакет")) }
                    " "
                    button type="submit" name="action" value="file" { (t("Принять документы")) }
                }
            }
        }
    }
}

fn respond(
    s: &Service,
    caller: &Caller,
    csrf: &str,
    values: &Values,
    checked: Option<&Checked>,
    status: StatusCode,
) -> Response {
    html_response(
        status,
        page(
            &ts("Приём документов на ПМЖ"),
            Some(SignedIn::new(s, caller, Some(csrf.to_string()))),
            form(s, values, csrf, checked),
        ),
    )
}

/// PR documents are taken at a police body's desk on this page (a ЦОН's intake of a PR, with its
/// electronic copies and the ГБД ФЛ query, goes through the API).
fn desk(s: &Service, caller: &Caller) -> Result<(), Problem> {
    if caller.role != "officer" {
        return Err(Problem::forbidden(
            "a PR application is taken here at a police body's desk (п. 11)",
        ));
    }
    s.authz
        .allow(caller, "application.file")
        .map(|_| ())
        .map_err(Problem::from)
}

pub(super) async fn page_get(
    State(s): State<Service>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(p) = desk(&s, &caller) {
        return refused(p);
    }
    let values: Values = q.into_iter().filter(|(k, _)| k == "ground").collect();
    respond(&s, &caller, &csrf, &values, None, StatusCode::OK)
}

pub(super) async fn page_post(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return refused(Problem::bad_request("malformed_form", "the form cannot be read"));
    };
    if pairs.len() > 200 {
        return refused(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_fields",
            "the form has too many fields",
        ));
    }
    let values: Values = pairs.into_iter().collect();
    if !crate::accounts::same_secret(v(&values, "csrf"), &csrf) {
        return refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open it again",
        ));
    }
    let fields: Vec<(&str, &str)> = values.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
    if let Err(p) = crate::edge::check_form_text(&fields)
        .map_err(Problem::from)
        .and_then(|_| desk(&s, &caller))
    {
        return refused(p);
    }
    let again = |checked: Checked, status: StatusCode| respond(&s, &caller, &csrf, &values, Some(&checked), status);
    let req = match filing(&values, &s.law()) {
        Ok(r) => r,
        Err(p) => return again(Checked::Refused(p.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY),
    };
    if v(&values, "action") == "check" {
        return match s.precheck_pr(&caller, req).await {
            Ok(g) if g.is_empty() => again(Checked::Whole, StatusCode::OK),
            Ok(g) => again(Checked::Grounds(g), StatusCode::OK),
            Err(e) => again(Checked::Refused(e.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY),
        };
    }
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    match s.file_pr(&caller, req, None, &hash).await {
        Ok(created) => Redirect::to(&format!("/ui/cases/{}", created.id)).into_response(),
        Err(e) => again(Checked::Refused(e.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY),
    }
}
