//! Desk intake of an RVP application (issue 17 item 4, п. 5–8), at a police body or at a ЦОН
//! branch (which chooses the police body of the place of registration and attaches each
//! document's electronic copy, п. 5, 7): the person at the desk chooses the purpose,
//! sees at once which documents it needs (the requirements in force, with their conditions and
//! norms), enters the filing, and checks the package before taking it — the same counter check
//! the filing runs (`Service::precheck_rvp`): missing and expired documents, a late filing.
//! Taking the documents files the case through the same use case as the API; an incomplete
//! package is refused at the counter with its receipt (App. 1-3), as the law says. No script:
//! choosing the purpose reloads the form (GET), checking and taking it are POSTs with the
//! session's CSRF token.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use koshi_law::requirements::{DocumentRequirement, PartyKind};
use maud::{Markup, html};

use super::lang::{t, ts};
use super::{SignedIn, html_response, page, refused, session_caller};
use base64::Engine;

use crate::model::{
    ApplicationRequest, AttachmentInput, Day, DocumentInput, Ground, IdentityDocumentInput, InvitingPartyInput,
    PaperFilingInput, PersonInput,
};
use crate::problem::Problem;
use crate::service::{Caller, Service};

/// The form's fields as sent (a document's fields are `doc.KIND`, `issued.KIND`, `expires.KIND`).
pub(super) type Values = BTreeMap<String, String>;

pub(super) fn v<'a>(values: &'a Values, key: &str) -> &'a str {
    values.get(key).map_or("", |s| s.trim())
}

pub(super) fn opt(values: &Values, key: &str) -> Option<String> {
    Some(v(values, key).to_string()).filter(|s| !s.is_empty())
}

/// The documents the form marks as handed in, in the order listed, with their dates read as the
/// API reads them (a wrong one names its `/documents/{i}/…` field) and, at a ЦОН, their copies.
pub(super) fn document_inputs(
    values: &Values,
    listed: Vec<&DocumentRequirement>,
    copies: Option<&Copies>,
) -> Result<Vec<DocumentInput>, Problem> {
    listed
        .into_iter()
        .filter(|d| v(values, &format!("doc.{}", d.kind)) == "1")
        .enumerate()
        .map(|(i, d)| {
            Ok(DocumentInput {
                kind: d.kind.clone(),
                number: None,
                issued_on: opt_day(
                    values,
                    &format!("issued.{}", d.kind),
                    &format!("/documents/{i}/issued_on"),
                )?,
                expires_on: opt_day(
                    values,
                    &format!("expires.{}", d.kind),
                    &format!("/documents/{i}/expires_on"),
                )?,
                attachment: copies
                    .and_then(|c| c.get(&d.kind))
                    .map(|(media, bytes)| AttachmentInput {
                        media_type: media.clone(),
                        content_base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                        sha256: None,
                    }),
            })
        })
        .collect()
}

/// A date field of the form read as the API reads the field `pointer` names: `YYYY-MM-DD`.
pub(super) fn day(values: &Values, key: &str, pointer: &str) -> Result<Day, Problem> {
    Day::parse(v(values, key)).map_err(|e| Problem::unprocessable("invalid_date", pointer, e))
}

/// As [`day`], for a field that may be left empty.
fn opt_day(values: &Values, key: &str, pointer: &str) -> Result<Option<Day>, Problem> {
    opt(values, key).map(|_| day(values, key, pointer)).transpose()
}

/// A labelled input of the form, as filled in.
pub(super) fn field(values: &Values, name: &str, label: Markup, kind: &str, required: bool) -> Markup {
    html! {
        p {
            label for=(name) { (label) }
            @if required { input #(name) name=(name) type=(kind) value=(v(values, name)) required; }
            @else { input #(name) name=(name) type=(kind) value=(v(values, name)); }
        }
    }
}

/// A document's row of the intake table: presented, when issued, valid until, (at a ЦОН) its
/// electronic copy, and its norm.
pub(super) fn document_row(
    values: &Values,
    name: &str,
    d: &DocumentRequirement,
    when: Option<Markup>,
    copy: bool,
) -> Markup {
    let id = format!("doc.{}", d.kind);
    html! {
        tr {
            td { input #(id) name=(id) type="checkbox" value="1" checked[v(values, &id) == "1"]; }
            td { label for=(id) { (name) } @if let Some(c) = when { br; span.muted { (c) } } }
            td { input name={ "issued." (d.kind) } type="date" aria-label={ (ts("Выдан")) ": " (name) } value=(v(values, &format!("issued.{}", d.kind))); }
            td { input name={ "expires." (d.kind) } type="date" aria-label={ (ts("Действителен до")) ": " (name) } value=(v(values, &format!("expires.{}", d.kind))); }
            @if copy {
                td { input name={ "copy." (d.kind) } type="file" accept="application/pdf,image/jpeg,image/png" aria-label={ (ts("Электронная копия")) ": " (name) }; }
            }
            td { (d.citation) }
        }
    }
}

/// The inviting party's kind in words.
fn party_label(k: PartyKind) -> Markup {
    match k {
        PartyKind::Citizen => t("гражданин Республики Казахстан"),
        PartyKind::PermanentResident => t("постоянно проживающий в Республике Казахстан"),
        PartyKind::LegalEntity => t("юридическое лицо"),
        PartyKind::EducationalOrganisation => t("организация образования"),
        PartyKind::HealthOrganisation => t("организация здравоохранения"),
        PartyKind::ReligiousOrganisation => t("религиозное объединение"),
        PartyKind::LocalExecutiveBody => t("местный исполнительный орган"),
        PartyKind::AifcAdministration => t("администрация МФЦА"),
    }
}

/// When a document is needed, in words (the requirements' conditions).
fn condition(req: &DocumentRequirement) -> Option<Markup> {
    let fact = |f: &str| match f {
        "eaeu_citizen" => Some(t("не нужен гражданину государства ЕАЭС")),
        "host_not_owner" => Some(t("если жильё не принадлежит принимающей стороне")),
        "filed_by_representative" => Some(t("если подаёт представитель")),
        "with_family" => Some(t("если въезжают члены семьи")),
        _ => None,
    };
    req.unless.iter().chain(&req.when).find_map(|f| fact(f)).or_else(|| {
        req.from_registry
            .as_ref()
            .map(|_| t("у ЦОН и портала — из базы данных"))
    })
}

/// The documents a purpose needs, once each (a document the purpose always needs wins over the
/// same document needed only in some case), the passport apart (entered with the person).
fn documents_for<'a>(
    s: &'a koshi_law::requirements::Requirements,
    purpose: &'a koshi_law::requirements::Purpose,
) -> Vec<&'a DocumentRequirement> {
    once_each(s.rvp_required(purpose))
}

/// Requirements once per document kind, the passport apart: one always needed wins over the
/// same document needed only in some case. (RVP purposes and App. 3 alike.)
pub(super) fn once_each<'a>(reqs: impl Iterator<Item = &'a DocumentRequirement>) -> Vec<&'a DocumentRequirement> {
    let mut out: Vec<&DocumentRequirement> = Vec::new();
    for d in reqs.filter(|d| d.kind != "identity_document") {
        match out.iter().position(|x| x.kind == d.kind) {
            None => out.push(d),
            Some(i) if d.when.is_empty() && d.unless.is_empty() => out[i] = d,
            Some(_) => {}
        }
    }
    out
}

/// The electronic copies a ЦОН attaches, by document kind: (media type, bytes).
type Copies = BTreeMap<String, (String, Vec<u8>)>;

/// The application the form describes, as the API takes it (a ЦОН's with its copies).
fn filing(s: &Service, caller: &Caller, values: &Values, copies: &Copies) -> Result<ApplicationRequest, Problem> {
    let con = caller.role == "con_operator";
    let law = s.law();
    let purpose = law
        .requirements
        .purpose(v(values, "purpose"))
        .ok_or_else(|| Problem::unprocessable("unknown_purpose", "/purpose", "choose the purpose of stay"))?;
    let party = PartyKind::parse(v(values, "party_kind")).unwrap_or(PartyKind::Citizen);
    let (filed_at, paper_filing) = match opt(values, "paper_received").filter(|_| !con) {
        None => (None, None),
        Some(at) => {
            let civil: jiff::civil::DateTime = at.parse().map_err(|_| {
                Problem::unprocessable("invalid_date", "/paper_received", "the time the paper was received")
            })?;
            let instant = law
                .calendar
                .time_zone()
                .to_timestamp(civil)
                .map_err(|e| Problem::unprocessable("invalid_date", "/paper_received", e.to_string()))?;
            (
                Some(instant.to_string()),
                Some(PaperFilingInput {
                    receipt_number: v(values, "paper_receipt").to_string(),
                    reason: v(values, "paper_reason").to_string(),
                }),
            )
        }
    };
    let documents = document_inputs(values, documents_for(&law.requirements, purpose), Some(copies))?;
    Ok(ApplicationRequest {
        kind: "rvp".into(),
        channel: Some(if con { "con" } else { "police_desk" }.into()),
        police_unit: if con { opt(values, "police_unit") } else { None },
        filed_at,
        paper_filing,
        purpose: purpose.id.clone(),
        inviting_party: InvitingPartyInput {
            kind: party.as_str().into(),
            iin: party.is_individual().then(|| v(values, "party_id").to_string()),
            bin: (!party.is_individual()).then(|| v(values, "party_id").to_string()),
            name: v(values, "party_name").into(),
            address: v(values, "party_address").into(),
            rka: v(values, "party_rka").into(),
            owns_housing: v(values, "owns_housing") == "1",
        },
        immigrant: PersonInput {
            surname: v(values, "surname").into(),
            given_names: v(values, "given_names").into(),
            birth_date: day(values, "birth_date", "/immigrant/birth_date")?,
            citizenship: v(values, "citizenship").to_uppercase(),
            iin: if con { opt(values, "iin") } else { None },
            document: IdentityDocumentInput {
                kind: "passport".into(),
                number: v(values, "passport_number").into(),
                issued_on: None,
                expires_on: day(values, "passport_expires", "/immigrant/document/expires_on")?,
            },
            stay_until: opt_day(values, "stay_until", "/immigrant/stay_until")?,
            from_visa_free_state: v(values, "visa_free") == "1",
            turned_16_in_kazakhstan: false,
        },
        family: Vec::new(),
        family_of: None,
        schema: None,
        documents,
        representative: None,
        late_exception: None,
        requested_until: None,
        deliver_to: None,
    })
}

/// What the check found: the package is whole, or the grounds of a refusal to accept.
enum Checked {
    Whole,
    Grounds(Vec<Ground>),
    Refused(String),
    /// What ГБД ФЛ answered for the person (a ЦОН's query, п. 5 абз. 3).
    Gbd(Option<String>),
}

fn form(s: &Service, caller: &Caller, values: &Values, csrf: &str, checked: Option<&Checked>) -> Markup {
    let law = s.law();
    let con = caller.role == "con_operator";
    let police: Vec<_> = s.authz.units().filter(|u| u.kind == "city_district_police").collect();
    let purpose = law.requirements.purpose(v(values, "purpose"));
    let name_of = |kind: &str| {
        law.requirements
            .document(kind)
            .map_or_else(|| kind.to_string(), |d| d.ru.clone())
    };
    let text = |name: &str, label: Markup, kind: &str, required: bool| field(values, name, label, kind, required);
    html! {
        p { a href="/ui/queue" { (t("← К очереди")) } }
        h1 { (t("Приём документов на РВП")) }
        @if caller.role == "officer" {
            p { a href="/ui/intake/pr" { (t("Приём документов на ПМЖ →")) } }
        }
        form.filters method="get" action="/ui/intake" {
            div {
                label for="purpose" { (t("Цель")) }
                select #purpose name="purpose" {
                    option value="" { (t("— выберите —")) }
                    @for p in &law.requirements.purposes {
                        option value=(p.id) selected[purpose.is_some_and(|x| x.id == p.id)] { (p.ru) }
                    }
                }
            }
            button type="submit" { (t("Показать документы")) }
        }
        @if let Some(purpose) = purpose {
            @match checked {
                Some(Checked::Whole) => div.verdict.good role="status" {
                    p.big { (t("Пакет документов полный: документы можно принять.")) }
                },
                Some(Checked::Grounds(grounds)) => div.verdict.bad role="alert" {
                    p.big { (t("Документы не могут быть приняты (отказ в приеме, п. 6):")) }
                    ul { @for g in grounds { li { (name_of(g.document.as_deref().unwrap_or(""))) " — " (g.detail) " (" (g.citation) ")" } } }
                },
                Some(Checked::Refused(why)) => div.verdict.bad role="alert" { p { (why) } },
                Some(Checked::Gbd(Some(iin))) => div.verdict.good role="status" { p { (t("ИИН из ГБД ФЛ: ")) (iin) } },
                Some(Checked::Gbd(None)) => div.verdict.bad role="status" { p { (t("ГБД ФЛ не знает ИИН этого человека.")) } },
                None => {}
            }
            form method="post" action="/ui/intake" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="purpose" value=(purpose.id);
                @if con {
                    p {
                        label for="police_unit" { (t("Орган полиции по месту регистрации")) }
                        select #police_unit name="police_unit" required {
                            option value="" { (t("— выберите —")) }
                            @for u in &police {
                                option value=(u.id) selected[v(values, "police_unit") == u.id] { (u.name_ru) }
                            }
                        }
                    }
                }
                h2 { (t("Принимающая сторона")) }
                p {
                    label for="party_kind" { (t("Кто приглашает")) }
                    select #party_kind name="party_kind" {
                        @for k in &purpose.parties {
                            option value=(k.as_str()) selected[v(values, "party_kind") == k.as_str()] { (party_label(*k)) }
                        }
                    }
                }
                (text("party_id", t("ИИН или БИН"), "text", true))
                (text("party_name", t("Наименование или ФИО"), "text", true))
                (text("party_address", t("Адрес"), "text", true))
                (text("party_rka", t("Регистрационный код адреса (РКА)"), "text", true))
                p { label { input name="owns_housing" type="checkbox" value="1" checked[v(values, "owns_housing") == "1" || !values.contains_key("csrf")]; " " (t("Жильё принадлежит принимающей стороне")) } }
                h2 { (t("Иностранец или лицо без гражданства")) }
                (text("surname", t("Фамилия"), "text", true))
                (text("given_names", t("Имя"), "text", true))
                (text("birth_date", t("Дата рождения"), "date", true))
                (text("citizenship", t("Гражданство (код ISO, XXX — без гражданства)"), "text", true))
                (text("passport_number", t("Номер паспорта"), "text", true))
                (text("passport_expires", t("Паспорт действителен до"), "date", true))
                @if con {
                    @if let Some(iin) = opt(values, "iin") { input type="hidden" name="iin" value=(iin); }
                    p { button type="submit" name="action" value="gbd" formnovalidate { (t("Запросить ИИН в ГБД ФЛ")) } }
                }
                (text("stay_until", t("Законное пребывание до"), "date", false))
                p { label { input name="visa_free" type="checkbox" value="1" checked[v(values, "visa_free") == "1"]; " " (t("Прибыл из государства с безвизовым порядком")) } }
                h2 #docs-h { (t("Документы для этой цели")) }
                p.muted { (t("Отметьте представленные документы; сроки — как в документе.")) }
                div.scroll role="region" aria-labelledby="docs-h" tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { (t("Представлен")) } th scope="col" { (t("Документ")) }
                            th scope="col" { (t("Выдан")) } th scope="col" { (t("Действителен до")) }
                            @if con { th scope="col" { (t("Электронная копия")) } }
                            th scope="col" { (t("Норма")) }
                        } }
                        tbody {
                            @for d in documents_for(&law.requirements, purpose) {
                                (document_row(values, &name_of(&d.kind), d, condition(d), con))
                            }
                        }
                    }
                }
                @if !con {
                    h2 { (t("Заявление, принятое ранее на бумаге")) }
                    p.muted { (t("Только если документы получены раньше и вносятся сейчас: время получения, номер бумажной расписки и причина.")) }
                    (text("paper_received", t("Получено (время Астаны)"), "datetime-local", false))
                    (text("paper_receipt", t("Номер бумажной расписки"), "text", false))
                    (text("paper_reason", t("Причина внесения позже"), "text", false))
                }
                p {
                    button type="submit" name="action" value="check" { (t("Проверить пакет")) }
                    " "
                    button type="submit" name="action" value="file" { (t("Принять документы")) }
                }
            }
        }
    }
}

/// Who takes documents at a desk: an officer of a police body, or a ЦОН operator (п. 5).
fn desk(caller: &Caller) -> Result<(), Problem> {
    match caller.role.as_str() {
        "officer" | "con_operator" => Ok(()),
        _ => Err(Problem::forbidden(
            "documents are taken at a police body's or a ЦОН's desk (п. 5)",
        )),
    }
}

pub(super) async fn intake_page(
    State(s): State<Service>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(p) = desk(&caller).and_then(|_| s.authz.allow(&caller, "application.file").map_err(Problem::from)) {
        return refused(p);
    }
    let values: Values = q.into_iter().filter(|(k, _)| k == "purpose").collect();
    intake_response(&s, &caller, &csrf, &values, None, StatusCode::OK)
}

/// The intake page with the form as filled in, and what the last step found.
fn intake_response(
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
            &ts("Приём документов на РВП"),
            Some(SignedIn::new(s, caller, Some(csrf.to_string()))),
            form(s, caller, values, csrf, checked),
        ),
    )
}

/// The most fields a form may carry (a document's four and a copy each, the party and the person).
const MAX_FIELDS: usize = 200;

/// The form's fields and copies, sent as a page posts them: multipart (with copies) or urlencoded.
async fn read_form(req: axum::extract::Request) -> Result<(Values, Copies), Problem> {
    use axum::extract::FromRequest;
    let multipart = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let malformed = || Problem::bad_request("malformed_form", "the form cannot be read");
    let too_many = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_fields",
            "the form has too many fields",
        )
    };
    let mut values = Values::new();
    let mut copies = Copies::new();
    if multipart {
        let mut m = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|_| malformed())?;
        let mut n = 0;
        while let Some(field) = m.next_field().await.map_err(|_| malformed())? {
            n += 1;
            if n > MAX_FIELDS {
                return Err(too_many());
            }
            let name = field.name().unwrap_or_default().to_string();
            let media = field.content_type().map(str::to_owned);
            let is_file = field.file_name().is_some();
            let bytes = field.bytes().await.map_err(|_| malformed())?;
            match name.strip_prefix("copy.") {
                Some(kind) if is_file => {
                    if !bytes.is_empty() {
                        copies.insert(kind.to_string(), (media.unwrap_or_default(), bytes.to_vec()));
                    }
                }
                _ => {
                    let text = String::from_utf8(bytes.to_vec()).map_err(|_| malformed())?;
                    values.insert(name, text);
                }
            }
        }
    } else {
        let body = axum::body::Bytes::from_request(req, &())
            .await
            .map_err(|_| malformed())?;
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).map_err(|_| malformed())?;
        if pairs.len() > MAX_FIELDS {
            return Err(too_many());
        }
        values = pairs.into_iter().collect();
    }
    Ok((values, copies))
}

pub(super) async fn intake_post(State(s): State<Service>, req: axum::extract::Request) -> Response {
    let (caller, csrf) = match session_caller(&s, req.headers()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (values, copies) = match read_form(req).await {
        Ok(f) => f,
        Err(p) => return refused(p),
    };
    if !crate::accounts::same_secret(v(&values, "csrf"), &csrf) {
        return refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open it again",
        ));
    }
    let fields: Vec<(&str, &str)> = values.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
    if let Err(p) = crate::edge::check_form_text(&fields) {
        return refused(p);
    }
    if let Err(p) = desk(&caller) {
        return refused(p);
    }
    let again =
        |checked: Checked, status: StatusCode| intake_response(&s, &caller, &csrf, &values, Some(&checked), status);
    if v(&values, "action") == "gbd" {
        let birth = v(&values, "birth_date").parse::<jiff::civil::Date>();
        let Ok(birth) = birth else {
            return again(
                Checked::Refused(ts("Для запроса нужны номер паспорта, гражданство и дата рождения.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        };
        let q = koshi_registries::PersonQuery {
            document_number: v(&values, "passport_number").to_uppercase(),
            citizenship: v(&values, "citizenship").to_uppercase(),
            birth_date: birth,
            iin: None,
        };
        return match s.iin_from_gbd_fl(&caller, &q).await {
            Ok(iin) => {
                let mut values = values.clone();
                values.remove("iin");
                if let Some(i) = &iin {
                    values.insert("iin".into(), i.clone());
                }
                intake_response(&s, &caller, &csrf, &values, Some(&Checked::Gbd(iin)), StatusCode::OK)
            }
            Err(e) => {
                let p = Problem::from(e);
                let status = p.status_code();
                again(Checked::Refused(p.detail.clone()), status)
            }
        };
    }
    // A field the form cannot give as the API takes it (a date) is shown on the form again.
    let req = match filing(&s, &caller, &values, &copies) {
        Ok(r) => r,
        Err(p) if p.status == 422 => {
            return again(Checked::Refused(p.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY);
        }
        Err(p) => return refused(p),
    };
    if v(&values, "action") == "check" {
        return match s.precheck_rvp(&caller, &req).await {
            Ok(g) if g.is_empty() => again(Checked::Whole, StatusCode::OK),
            Ok(g) => again(Checked::Grounds(g), StatusCode::OK),
            Err(e) => again(Checked::Refused(e.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY),
        };
    }
    match s.file(&caller, req, None, &crate::service::SignedBody::default()).await {
        Ok(created) => Redirect::to(&format!("/ui/cases/{}", created.id)).into_response(),
        Err(e) => again(Checked::Refused(e.detail.clone()), StatusCode::UNPROCESSABLE_ENTITY),
    }
}
