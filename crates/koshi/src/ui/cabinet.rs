//! The inviting party's cabinet (issue 17 item 5; п. 8): the party signs in with its ЭЦП (a
//! sign-in statement signed by its own tool and uploaded), files an RVP request with its
//! signature, follows each of its requests with the date and time the result will be ready, and
//! downloads the receipt, the permit or the refusal. Every read is the party's own: the portal
//! token its certificate proved, in a cookie of its own.

use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sha2::Digest;

use super::labels::{purpose_text, service_label, status_text};
use super::lang::{t, ts};
use super::{SignedIn, html_response, page};
use crate::model::ApplicationView;
use crate::problem::Problem;
use crate::queue::QueueParams;
use crate::service::{Caller, Service};
use crate::session::{cabinet_csrf, portal_cookie, token_caller};

pub fn routes() -> axum::Router<Service> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/cabinet", get(home))
        .route("/cabinet/statement", get(statement))
        .route("/cabinet/sign-in", post(sign_in))
        .route("/cabinet/sign-out", post(sign_out))
        .route("/cabinet/new", get(new_page))
        .route("/cabinet/requests", post(file_request))
        .route("/cabinet/requests/{id}", get(request_page))
}

/// The party signed in by the cabinet's cookie, and its CSRF token.
async fn party(s: &Service, headers: &HeaderMap) -> Option<(Caller, String)> {
    let secret = portal_cookie(headers)?;
    let caller = token_caller(s, &secret).await.ok()?;
    (caller.role == "portal" && caller.party.is_some()).then(|| (caller, cabinet_csrf(&secret)))
}

fn cabinet_page(title: &str, who: Option<(&Caller, &str)>, body: Markup) -> Markup {
    page(
        title,
        who.map(|(caller, csrf)| SignedIn {
            caller,
            csrf: Some(csrf.to_string()),
            approves: false,
        }),
        body,
    )
}

fn sign_in_page(error: Option<&str>) -> Markup {
    cabinet_page(
        &ts("Кабинет принимающей стороны"),
        None,
        html! {
            h1 { (t("Кабинет принимающей стороны")) }
            p { (t("Здесь принимающая сторона подаёт запрос на разрешение на временное проживание, следит за его рассмотрением и получает документы (п. 8 Правил).")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            h2 { (t("Вход с ЭЦП")) }
            ol {
                li {
                    (t("Скачайте заявление на вход: ")) a href="/cabinet/statement" { (t("для себя (по ИИН)")) }
                    " · " a href="/cabinet/statement?organisation=1" { (t("для организации (по БИН)")) }
                }
                li { (t("Подпишите его своей ЭЦП: отсоединённая подпись CMS (файл .p7s, двоичный или base64).")) }
                li { (t("Загрузите оба файла в течение пяти минут. Каждое заявление служит для входа один раз.")) }
            }
            form method="post" action="/cabinet/sign-in" enctype="multipart/form-data" {
                p { label for="statement" { (t("Заявление на вход")) } input #statement name="statement" type="file" accept="application/json,.json" required; }
                p { label for="signature" { (t("Подпись ЭЦП")) } input #signature name="signature" type="file" required; }
                button type="submit" { (t("Войти с ЭЦП")) }
            }
            p.muted { (t("Сотрудники входят на странице ")) a href="/ui/sign-in" { (t("входа для сотрудников")) } "." }
        },
    )
}

/// A fresh sign-in statement to sign: the purpose, now, and a random nonce.
async fn statement(State(s): State<Service>, Query(q): Query<StatementQuery>) -> Response {
    let body = serde_json::json!({
        "purpose": crate::portal::SIGN_IN_PURPOSE,
        "signed_at": koshi_store::instant(s.now()),
        "nonce": uuid::Uuid::new_v4().simple().to_string(),
        "as_organisation": q.organisation.as_deref() == Some("1"),
    });
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"koshi-sign-in.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct StatementQuery {
    organisation: Option<String>,
}

/// The files and fields of a cabinet form (multipart): at most a few, each within the body limit.
async fn read_files(req: axum::extract::Request) -> Result<std::collections::BTreeMap<String, Vec<u8>>, Problem> {
    let malformed = || Problem::bad_request("malformed_form", "the form cannot be read");
    let mut m = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|_| malformed())?;
    let mut out = std::collections::BTreeMap::new();
    let mut read = 0;
    while let Some(field) = m.next_field().await.map_err(|_| malformed())? {
        // Every field counts, a repeated name too (the map keeps one per name).
        read += 1;
        if read > 8 {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_many_fields",
                "the form has too many fields",
            ));
        }
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|_| malformed())?;
        out.insert(name, bytes.to_vec());
    }
    Ok(out)
}

/// A detached signature as a signing tool saves it: DER, base64, or PEM (`-----BEGIN CMS-----`,
/// `PKCS7`), read to its DER bytes.
fn signature_der(raw: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    if raw.first() == Some(&0x30) {
        return Some(raw.to_vec());
    }
    let text = std::str::from_utf8(raw).ok()?;
    let b64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .filter(|d| d.first() == Some(&0x30))
}

async fn sign_in(State(s): State<Service>, req: axum::extract::Request) -> Response {
    let refuse = |status: StatusCode, e: &str| html_response(status, sign_in_page(Some(e)));
    let files = match read_files(req).await {
        Ok(f) => f,
        Err(p) => return refuse(StatusCode::BAD_REQUEST, &p.detail),
    };
    let (Some(statement), Some(signature)) = (
        files.get("statement").filter(|b| !b.is_empty()),
        files.get("signature").filter(|b| !b.is_empty()),
    ) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ts("Загрузите заявление на вход и его подпись."),
        );
    };
    let Some(cms) = signature_der(signature) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ts("Файл подписи не читается: нужна отсоединённая подпись CMS (DER или base64)."),
        );
    };
    match s.portal_sign_in(statement, Some(&cms)).await {
        Ok(session) => {
            let mut r = Redirect::to("/cabinet").into_response();
            if let Some(v) = crate::session::portal_set_cookie(&session.token) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            let p = Problem::from(e);
            let status = p.status_code();
            refuse(status, &p.detail)
        }
    }
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn sign_out(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some((caller, csrf)) = party(&s, &headers).await else {
        return Redirect::to("/cabinet").into_response();
    };
    let given = serde_urlencoded::from_bytes::<CsrfForm>(&body)
        .map(|f| f.csrf)
        .unwrap_or_default();
    if !crate::accounts::same_secret(&given, &csrf) {
        return html_response(
            StatusCode::FORBIDDEN,
            cabinet_page(
                &ts("Отказано"),
                None,
                html! { p.error { (t("Форма устарела: откройте страницу заново.")) } },
            ),
        );
    }
    if let Err(e) = s.portal_sign_out(&caller).await {
        tracing::warn!(error = %e.detail, "cabinet sign-out: the token was not revoked");
    }
    let mut r = Redirect::to("/cabinet").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, crate::session::portal_cleared_cookie());
    r
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    cursor: Option<String>,
}

/// A request's status as its party reads it: the police's internal steps are all "under
/// consideration"; an outcome is named as such.
fn party_status(status: &str) -> Markup {
    if koshi_store::repo::queue::is_open(status) {
        t("На рассмотрении")
    } else {
        status_text(status)
    }
}

/// When the result of an open request will be ready (п. 8): the last day of its term, at the end
/// of that working day.
fn ready_at(s: &Service, status: &str, due_on: Option<&str>) -> Option<String> {
    let open = koshi_store::repo::queue::is_open(status);
    let due = due_on.filter(|_| open)?;
    Some(format!("{due} {}", s.law().calendar.hours().work_end.strftime("%H:%M")))
}

async fn home(State(s): State<Service>, headers: HeaderMap, Query(q): Query<ListQuery>) -> Response {
    let Some((caller, csrf)) = party(&s, &headers).await else {
        return html_response(StatusCode::OK, sign_in_page(None));
    };
    let params = QueueParams {
        state: Some("all".into()),
        sort: Some("filed".into()),
        cursor: q.cursor,
        limit: Some(50),
        ..QueueParams::default()
    };
    let read = async {
        Ok::<_, koshi_cases::CaseError>((s.queue_for(&caller, &params).await?, s.party_notices(&caller).await?))
    };
    let (list, notices) = match read.await {
        Ok(x) => x,
        Err(e) => {
            let p = Problem::from(e);
            return html_response(
                p.status_code(),
                cabinet_page(
                    &ts("Мои запросы"),
                    Some((&caller, &csrf)),
                    html! { p.error role="alert" { (p.detail) } },
                ),
            );
        }
    };
    let party_number = caller.party.clone().unwrap_or_default();
    let body = html! {
        h1 { (t("Мои запросы")) }
        p { (t("Принимающая сторона: ИИН/БИН ")) strong { (party_number) } }
        p { a.button href="/cabinet/new" { (t("Подать запрос")) } }
        @if list.items.is_empty() {
            p { (t("Запросов пока нет.")) }
        } @else {
            table {
                caption { (t("Запросы, поданные через портал, новые сверху")) }
                thead { tr {
                    th scope="col" { (t("Номер")) }
                    th scope="col" { (t("Цель")) }
                    th scope="col" { (t("Подан")) }
                    th scope="col" { (t("Статус")) }
                    th scope="col" { (t("Результат будет готов")) }
                } }
                tbody {
                    @for i in &list.items {
                        tr {
                            td { a href={ "/cabinet/requests/" (i.id) } { (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) } }
                            td { (purpose_text(&s, &i.service, &i.purpose)) }
                            td { (super::local_time(&s, &i.filed_at)) }
                            td { (party_status(&i.status)) }
                            td { (ready_at(&s, &i.status, i.due_on.as_deref()).unwrap_or_else(|| "—".into())) }
                        }
                    }
                }
            }
            @if let Some(next) = &list.next {
                p { a href={ "/cabinet?" (serde_urlencoded::to_string([("cursor", next)]).unwrap_or_default()) } { (t("Следующие")) } }
            }
        }
        @if !notices.is_empty() {
            (notices_section(&s, &notices))
        }
    };
    html_response(
        StatusCode::OK,
        cabinet_page(&ts("Мои запросы"), Some((&caller, &csrf)), body),
    )
}

/// The notices addressed to the party as the applicant for a PR (п. 17–19).
fn notices_section(s: &Service, notices: &[crate::portal::PartyNotice]) -> Markup {
    html! {
        h2 #notices { (t("Уведомления")) }
        p.muted { (t("Уведомления, адресованные вам как заявителю на разрешение на постоянное проживание (п. 17–19 Правил).")) }
        @for n in notices {
            section.notice aria-label=(ts("Уведомление")) {
                h3 {
                    @match (n.document.as_str(), n.on.as_deref()) {
                        ("hearing_notice", Some("annulment")) => { (t("Заслушивание перед аннулированием разрешения (п. 18)")) }
                        ("hearing_notice", _) => { (t("Заслушивание по предварительному решению об отказе (п. 17)")) }
                        ("notification", _) => { (t("Уведомление о выдаче или об отказе (прил. 10)")) }
                        _ => { (t("Уведомление об аннулировании (прил. 12)")) }
                    }
                }
                dl.summary {
                    dt { (t("Талон")) } dd { (n.talon) }
                    dt { (t("Направлено")) } dd { (super::local_time(s, &n.sent_at)) }
                    @if let Some(d) = &n.hearing_on {
                        dt { (t("День заслушивания")) } dd { strong { (d) } }
                    }
                    @if let Some(o) = &n.outcome {
                        dt { (t("Решение")) } dd { (status_text(o)) }
                    }
                    @if let Some(number) = &n.permit_number {
                        dt { (t("Номер разрешения")) } dd { (number) }
                    }
                    @if let Some(d) = &n.leave_by {
                        dt { (t("Выехать до")) } dd { (d) }
                    }
                    dt { (t("Норма")) } dd { (n.citation) }
                }
                @if !n.grounds.is_empty() {
                    p { (t("Основания:")) }
                    ul { @for (detail, citation) in &n.grounds { li { (detail) @if !citation.is_empty() { " — " (citation) } } } }
                }
                @if n.document == "hearing_notice" {
                    p { (t("Вы вправе выразить свою позицию устно на заслушивании или письменно до него.")) }
                }
            }
        }
    }
}

fn new_form(caller: &Caller, csrf: &str, error: Option<&str>) -> Markup {
    cabinet_page(
        &ts("Подать запрос"),
        Some((caller, csrf)),
        html! {
            p { a href="/cabinet" { (t("← Мои запросы")) } }
            h1 { (t("Подать запрос на разрешение на временное проживание")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p { (t("Запрос — заявление по приложению 1 к Правилам с документами по цели пребывания, в формате API Koshi (схема ApplicationRequest в ")) a href="/api/v1/openapi.json" { "OpenAPI" } (t("), подписанное ЭЦП принимающей стороны. Запрос, поданный в нерабочее время, в выходной или праздничный день, принимается следующим рабочим днём (п. 8).")) }
            form method="post" action="/cabinet/requests" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(csrf);
                p { label for="request" { (t("Запрос (JSON)")) } input #request name="request" type="file" accept="application/json,.json" required; }
                p { label for="signature" { (t("Подпись ЭЦП")) } input #signature name="signature" type="file" required; }
                button type="submit" { (t("Подать запрос")) }
            }
        },
    )
}

async fn new_page(State(s): State<Service>, headers: HeaderMap) -> Response {
    let Some((caller, csrf)) = party(&s, &headers).await else {
        return Redirect::to("/cabinet").into_response();
    };
    html_response(StatusCode::OK, new_form(&caller, &csrf, None))
}

async fn file_request(State(s): State<Service>, req: axum::extract::Request) -> Response {
    let Some((caller, csrf)) = party(&s, req.headers()).await else {
        return Redirect::to("/cabinet").into_response();
    };
    let refuse = |status: StatusCode, e: &str| html_response(status, new_form(&caller, &csrf, Some(e)));
    let files = match read_files(req).await {
        Ok(f) => f,
        Err(p) => return refuse(StatusCode::BAD_REQUEST, &p.detail),
    };
    let given = files
        .get("csrf")
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("");
    if !crate::accounts::same_secret(given, &csrf) {
        return refuse(StatusCode::FORBIDDEN, &ts("Форма устарела: откройте страницу заново."));
    }
    let (Some(body), Some(signature)) = (
        files.get("request").filter(|b| !b.is_empty()),
        files.get("signature").filter(|b| !b.is_empty()),
    ) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, &ts("Загрузите запрос и его подпись."));
    };
    let Some(cms) = signature_der(signature) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ts("Файл подписи не читается: нужна отсоединённая подпись CMS (DER или base64)."),
        );
    };
    let filed = async {
        let parsed: crate::model::ApplicationRequest = crate::edge::parse_body(body)?;
        let hash = hex::encode(sha2::Sha256::digest(body));
        let signed = crate::service::SignedBody {
            body,
            hash: hash.clone(),
            signature: Some(cms),
        };
        // The same signed request sent twice (a second click) files once.
        let key = format!("cabinet-{hash}");
        s.file(&caller, parsed, Some(&key), &signed)
            .await
            .map_err(Problem::from)
    }
    .await;
    match filed {
        Ok(created) => Redirect::to(&format!("/cabinet/requests/{}", created.id)).into_response(),
        Err(p) => refuse(p.status_code(), &p.detail),
    }
}

async fn request_page(State(s): State<Service>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some((caller, csrf)) = party(&s, &headers).await else {
        return Redirect::to("/cabinet").into_response();
    };
    let v = match s.view_for(&caller, &id).await {
        Ok(v) => v,
        Err(e) => {
            let p = Problem::from(e);
            return html_response(
                p.status_code(),
                cabinet_page(
                    &ts("Запрос"),
                    Some((&caller, &csrf)),
                    html! { h1 { (t("Запрос не найден")) } p { a href="/cabinet" { (t("← Мои запросы")) } } },
                ),
            );
        }
    };
    let documents = s.case_documents(&caller, &id).await.unwrap_or_default();
    let body = request_body(&s, &v, &documents);
    html_response(
        StatusCode::OK,
        cabinet_page(&ts("Запрос"), Some((&caller, &csrf)), body),
    )
}

fn request_body(s: &Service, v: &ApplicationView, documents: &[crate::model::DocumentView]) -> Markup {
    let ready = ready_at(s, &v.status, v.due_on.as_deref());
    let refusal_grounds: Vec<(String, String)> = v
        .decision
        .as_ref()
        .and_then(|d| d["grounds"].as_array())
        .map(|gs| {
            gs.iter()
                .map(|g| {
                    (
                        g["detail"].as_str().unwrap_or("").to_string(),
                        g["citation"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        p { a href="/cabinet" { (t("← Мои запросы")) } }
        h1 { (service_label(&v.kind)) " · " (v.receipt.number) }
        dl.summary {
            dt { (t("Статус")) } dd { (party_status(&v.status)) }
            dt { (t("Цель")) } dd { (purpose_text(s, &v.kind, &v.purpose)) }
            dt { (t("Подан")) } dd { (super::local_time(s, &v.filed_at)) }
            dt { (t("Принят")) } dd { (v.accepted_on.clone().unwrap_or_else(|| "—".into())) }
            @if let Some(r) = &ready {
                dt { (t("Результат будет готов (п. 8)")) }
                dd {
                    (r)
                    @if v.calendar_status.as_deref().is_some_and(|c| c != "official") {
                        " " span.badge { (t("по ожидаемому календарю")) }
                    }
                }
            }
        }
        @if v.status == "refused_to_accept" && !v.receipt.grounds.is_empty() {
            h2 { (t("Причины отказа в приёме")) }
            ul { @for g in &v.receipt.grounds { li { (g.detail) " — " (g.citation) } } }
        }
        @if v.status == "refused" && !refusal_grounds.is_empty() {
            h2 { (t("Основания отказа")) }
            ul { @for (detail, citation) in &refusal_grounds { li { (detail) " — " (citation) } } }
        }
        h2 { (t("Документы")) }
        @if documents.is_empty() {
            p { (t("Документов пока нет.")) }
        } @else {
            table {
                thead { tr { th scope="col" { (t("Документ")) } th scope="col" { (t("Номер")) } th scope="col" { (t("Код проверки")) } th scope="col" { (t("Скачать")) } } }
                tbody {
                    @for d in documents {
                        tr {
                            td { (d.title) @if let Some(a) = &d.appendix { (t(" (прил. ")) (a) ")" } }
                            td { (d.document.number) }
                            td { a href={ "/verify/" (d.document.code) } { (d.document.code) } }
                            td {
                                a href={ (d.document.href) "?lang=ru" } download { (t("PDF рус.")) }
                                " · "
                                a href={ (d.document.href) "?lang=kk" } lang="kk" download { (t("PDF қаз.")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signature_file_reads_as_der_base64_or_pem() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(super::signature_der(&der), Some(der.clone()));
        assert_eq!(super::signature_der(b"MAMCAQU=\n"), Some(der.clone()));
        assert_eq!(
            super::signature_der(b"-----BEGIN CMS-----\nMAMC\nAQU=\n-----END CMS-----\n"),
            Some(der.clone())
        );
        assert_eq!(super::signature_der(b"not a signature"), None);
        assert_eq!(super::signature_der(b"aGVsbG8="), None, "base64 of something not DER");
    }
}
