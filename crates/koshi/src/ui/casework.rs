//! The officer's work on a case page beyond the RVP decision (issue 17 item 4): for a PR, the
//! requests of п. 14 and the answers received, the conclusion (п. 14 пп. 4), the hearing notice
//! and the hearing's record (п. 17, 18); for an issued permit, a duplicate (п. 9-2). Each form
//! posts to one handler that calls the same use case as the API, with the session's CSRF token,
//! and comes back to the case (or says why not, with nothing written).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::labels::agency_label;
use super::lang::{t, ts};
use super::{SignedIn, html_response, page, session_caller};
use crate::model::ApplicationView;
use crate::problem::Problem;
use crate::service::{Caller, Service};

/// Whether the caller may take `action` on this case.
fn may(s: &Service, caller: &Caller, v: &ApplicationView, action: &str) -> bool {
    s.authz.allow_case(caller, action, &v.unit, &v.unit).is_ok()
}

/// The case-work section of a case page: what was asked of the agencies and answered, and the
/// form of the next step the case waits for, when the caller may take it.
pub(super) fn section(
    s: &Service,
    caller: &Caller,
    v: &ApplicationView,
    requests: &[koshi_store::repo::AgencyRequestRow],
    csrf: Option<&str>,
) -> Markup {
    let action = format!("/ui/cases/{}/act", v.id);
    let pr = v.kind == "pr";
    let may_request = pr && may(s, caller, v, "application.pr_requests");
    let may_conclude = pr && may(s, caller, v, "application.pr_conclusion");
    let may_duplicate = v.status == "issued" && may(s, caller, v, "application.duplicate");
    html! {
        @if pr && !requests.is_empty() {
            h2 { (t("Запросы в органы (п. 14)")) }
            table {
                thead { tr { th scope="col" { (t("Орган")) } th scope="col" { (t("Направлен")) } th scope="col" { (t("Срок ответа")) } th scope="col" { (t("Ответ")) } th scope="col" { (t("Когда")) } } }
                tbody {
                    @for r in requests {
                        tr {
                            td { (agency_label(&r.agency)) }
                            td.date { (super::local_time(s, &r.sent_at)) }
                            td.date { (r.due_on) }
                            td {
                                @match (r.state.as_str(), r.outcome.as_deref()) {
                                    ("answered", Some("positive")) => { (t("положительный")) }
                                    ("answered", Some("negative")) => { (t("отрицательный")) }
                                    ("answered", other) => { (other.unwrap_or("—")) }
                                    _ => { (t("ожидается")) }
                                }
                            }
                            td.date { @if let Some(at) = &r.answered_at { (super::local_time(s, at)) } @else { "—" } }
                        }
                    }
                }
            }
        }
        @if let Some(token) = csrf {
            @if may_request && v.status == "registered" {
                h2 { (t("Запросы (п. 14 пп. 2–3)")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="pr_requests";
                    button type="submit" { (t("Направить дело и запросы")) }
                }
            }
            @if may_conclude && v.status == "conclusion_due" {
                h2 { (t("Заключение (п. 14 пп. 4)")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="conclusion";
                    p { label for="outcome" { (t("Вывод")) }
                        select #outcome name="outcome" required {
                            option value="issue" { (t("О выдаче разрешения")) }
                            option value="refuse" { (t("Об отказе (после заслушивания, п. 17)")) }
                        }
                    }
                    p { label for="ground" { (t("Основание отказа (для отказа)")) }
                        select #ground name="ground" {
                            option value="" { (t("— нет —")) }
                            option value="art_49" { (t("Закон о миграции населения, ст. 49")) }
                            option value="art_19_1" { (t("Закон о государственных услугах, ст. 19-1")) }
                        }
                    }
                    p { label for="detail" { (t("Установленные обстоятельства (для отказа)")) } input #detail name="detail" maxlength="1000" size="60"; }
                    p { label for="comment" { (t("Комментарий")) } input #comment name="comment" maxlength="1000" size="60"; }
                    button type="submit" { (t("Составить заключение")) }
                }
            }
            @if may_conclude && matches!(v.status.as_str(), "hearing_required" | "annulment_hearing_required") {
                h2 { (t("Уведомление о заслушивании (п. 17)")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="hearing_notice";
                    p { label for="hearing_on" { (t("День заслушивания (не позднее 2 рабочих дней со дня уведомления)")) } input #hearing_on name="hearing_on" type="date" required; }
                    button type="submit" { (t("Направить уведомление")) }
                }
            }
            @if may_conclude && matches!(v.status.as_str(), "hearing_notified" | "annulment_hearing_notified") {
                h2 { (t("Письменная позиция заявителя")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="written_position";
                    p { label for="written" { (t("Позиция, поступившая письменно")) } input #written name="position" required minlength="3" maxlength="10000" size="60"; }
                    button type="submit" { (t("Приобщить")) }
                }
                h2 { (t("Протокол заслушивания (п. 17)")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="hearing";
                    p { label for="position" { (t("Позиция заявителя на заслушивании")) } input #position name="position" required minlength="3" maxlength="10000" size="60"; }
                    p { label for="result" { (t("Итог")) }
                        select #result name="result" required {
                            @if v.status == "hearing_notified" {
                                option value="continue" { (t("Продолжить рассмотрение")) }
                                option value="refuse" { (t("Направить заключение об отказе на утверждение")) }
                            } @else {
                                option value="keep" { (t("Сохранить разрешение")) }
                                option value="annul" { (t("Направить заключение об аннулировании на утверждение")) }
                            }
                        }
                    }
                    button type="submit" { (t("Записать итог заслушивания")) }
                }
            }
            @if may_duplicate {
                h2 { (t("Дубликат разрешения (п. 9-2)")) }
                form method="post" action=(action) {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="act" value="duplicate";
                    p { label for="dup-reason" { (t("Причина")) }
                        select #dup-reason name="reason" required {
                            option value="lost" { (t("Утеряно")) }
                            option value="damaged" { (t("Испорчено")) }
                        }
                    }
                    p { label for="statement" { (t("Заявление на имя начальника")) } input #statement name="statement" required minlength="3" maxlength="10000" size="60"; }
                    button type="submit" { (t("Выдать дубликат")) }
                }
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct ActForm {
    csrf: String,
    act: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    hearing_on: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    statement: String,
}

/// One step of the case taken from its page.
pub(super) async fn act(
    State(s): State<Service>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = serde_urlencoded::from_bytes::<ActForm>(&body).ok();
    let Some(f) = form.filter(|f| crate::accounts::same_secret(&f.csrf, &csrf)) else {
        return failed(
            &s,
            &caller,
            &csrf,
            &id,
            Problem::new(
                StatusCode::FORBIDDEN,
                "csrf_token_invalid",
                "the form is not this session's; open the page again",
            ),
        );
    };
    // A control character or an overlong text never reaches the case (as in every form).
    if let Err(e) = crate::edge::check_form_text(&[
        ("outcome", &f.outcome),
        ("ground", &f.ground),
        ("detail", &f.detail),
        ("comment", &f.comment),
        ("hearing_on", &f.hearing_on),
        ("position", &f.position),
        ("result", &f.result),
        ("reason", &f.reason),
        ("statement", &f.statement),
    ]) {
        return failed(&s, &caller, &csrf, &id, e.into());
    }
    let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let done: Result<(), Problem> = match f.act.as_str() {
        "pr_requests" => s
            .send_pr_requests(&caller, &id)
            .await
            .map(|_| ())
            .map_err(Problem::from),
        "conclusion" => {
            let grounds = match (some(&f.ground), some(&f.detail)) {
                (Some(check), Some(detail)) => vec![crate::model::OfficerGround { check, detail }],
                (None, None) => Vec::new(),
                _ => {
                    return failed(
                        &s,
                        &caller,
                        &csrf,
                        &id,
                        Problem::unprocessable(
                            "ground_incomplete",
                            "/detail",
                            "a ground of refusal names the law and the facts found",
                        ),
                    );
                }
            };
            let c = crate::model::ConclusionRequest {
                outcome: f.outcome.clone(),
                grounds,
                comment: some(&f.comment),
            };
            s.draft_conclusion(&caller, &id, c)
                .await
                .map(|_| ())
                .map_err(Problem::from)
        }
        "hearing_notice" => match crate::model::Day::parse(f.hearing_on.trim()) {
            Ok(hearing_on) => s
                .notify_hearing(&caller, &id, crate::model::HearingNoticeRequest { hearing_on })
                .await
                .map(|_| ())
                .map_err(Problem::from),
            Err(e) => Err(Problem::unprocessable("invalid_date", "/hearing_on", e)),
        },
        "written_position" => s
            .record_written_position(
                &caller,
                &id,
                crate::model::WrittenPositionRequest {
                    position: f.position.clone(),
                },
            )
            .await
            .map(|_| ())
            .map_err(Problem::from),
        "hearing" => s
            .hold_hearing(
                &caller,
                &id,
                crate::model::HearingRequest {
                    position: f.position.clone(),
                    result: f.result.clone(),
                },
            )
            .await
            .map(|_| ())
            .map_err(Problem::from),
        "duplicate" => s
            .duplicate(
                &caller,
                &id,
                crate::model::DuplicateRequest {
                    reason: f.reason.clone(),
                    statement: f.statement.clone(),
                },
            )
            .await
            .map(|_| ())
            .map_err(Problem::from),
        other => Err(Problem::unprocessable(
            "unknown_act",
            "/act",
            format!("{other:?} is no step of a case page"),
        )),
    };
    match done {
        Ok(()) => Redirect::to(&format!("/ui/cases/{id}")).into_response(),
        Err(p) => failed(&s, &caller, &csrf, &id, p),
    }
}

/// Why a step was not taken, with the way back to the case.
fn failed(s: &Service, caller: &Caller, csrf: &str, id: &str, p: Problem) -> Response {
    let status = p.status_code();
    html_response(
        status,
        page(
            &ts("Не выполнено"),
            Some(SignedIn::new(s, caller, Some(csrf.to_string()))),
            html! {
                h1 { (t("Не выполнено")) }
                p.error role="alert" { (p.detail) " (" (p.code) ")" }
                p { a href={ "/ui/cases/" (id) } { (t("← К делу")) } }
            },
        ),
    )
}
