//! The approving post's inbox (п. 15 абз. 2): the conclusions and annulments drafted in the
//! units a head may approve, and on the case page the draft with "approve" and "return with a
//! comment". The same service methods, scopes and CSRF rules as the API.

use super::lang::{t, ts};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::{SignedIn, csrf_of, html_response, page, refused, session_caller, status_text};
use crate::model::ApplicationView;
use crate::problem::Problem;
use crate::service::{Caller, Service};
use crate::session::Authed;

/// The statuses that wait for the approving post.
const AWAITING_APPROVAL: &str = "conclusion_drafted,annulment_drafted";

/// Whether this caller may approve (or return) this case: the permission, and п. 15's post
/// and unit.
pub(super) fn may_approve(s: &Service, caller: &Caller, v: &ApplicationView) -> bool {
    matches!(v.status.as_str(), "conclusion_drafted" | "annulment_drafted")
        && s.authz.allow(caller, "application.pr_approve").is_ok()
        && s.authz
            .may_approve(caller.post.as_deref(), &caller.unit, &v.unit)
            .is_ok()
}

/// The draft awaiting approval, with the two forms, on the case page.
pub(super) fn section(s: &Service, v: &ApplicationView, csrf: &str) -> Markup {
    let draft = v.decision.as_ref().map(|d| {
        if v.status == "annulment_drafted" {
            d["annulment"].clone()
        } else {
            d["conclusion"].clone()
        }
    });
    let draft = draft.unwrap_or_default();
    let outcome = match (v.status.as_str(), draft["outcome"].as_str()) {
        ("annulment_drafted", _) => ts("Аннулировать разрешение на постоянное проживание"),
        (_, Some("issue")) => ts("Выдать разрешение на постоянное проживание"),
        (_, Some("refuse")) => ts("Отказать в выдаче"),
        _ => "—".into(),
    };
    html! {
        section aria-labelledby="approval-h" {
            h2 #approval-h { (t("Заключение на утверждение (п. 15)")) }
            p { strong { (outcome) } " (" (draft["form"].as_str().unwrap_or("")) "; " (draft["citation"].as_str().unwrap_or("")) ")" }
            @if let Some(grounds) = draft["grounds"].as_array().filter(|g| !g.is_empty()) {
                ul { @for g in grounds { li { (g["detail"].as_str().or(g["check"].as_str()).unwrap_or("")) " — " (g["citation"].as_str().unwrap_or("")) } } }
            }
            @if let Some(c) = draft["comment"].as_str() { p { (t("Комментарий исполнителя: ")) (c) } }
            p.muted { (t("Подготовил: ")) (draft["drafted_by"].as_str().unwrap_or("—")) ", " (draft["drafted_at"].as_str().map(|at| super::local_time(s, at)).unwrap_or_default()) }
            form method="post" action={ "/ui/cases/" (v.id) "/approval" } {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { (t("Утвердить")) }
            }
            @if v.status == "conclusion_drafted" {
                form method="post" action={ "/ui/cases/" (v.id) "/approval/return" } {
                    input type="hidden" name="csrf" value=(csrf);
                    p {
                        label for="return-comment" { (t("Что исправить (обязательно)")) }
                        input #return-comment name="comment" required minlength="3" maxlength="1000" size="60";
                    }
                    button type="submit" { (t("Вернуть исполнителю")) }
                }
            }
        }
    }
}

/// The inbox: what waits for approval in the caller's units, by legal deadline.
pub(super) async fn inbox(State(s): State<Service>, caller: Result<Authed, Problem>, headers: HeaderMap) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    let data = match s.approval_queue(&caller, AWAITING_APPROVAL).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let body = html! {
        h1 { (t("На утверждение")) }
        p.muted { (t("Заключения о выдаче или отказе (прил. 9) и об аннулировании (прил. 11), подготовленные в подразделениях, которые вы утверждаете (п. 15 абз. 2).")) }
        @if data.items.is_empty() {
            p { (t("Нет заключений, ожидающих утверждения.")) }
        } @else {
            table {
                caption.muted { (t("По сроку оказания услуги, ближайшие первыми")) }
                thead { tr { th scope="col" { (t("Талон (прил. 6)")) } th scope="col" { (t("Статус")) } th scope="col" { (t("Основание")) } th scope="col" { (t("Срок")) } th scope="col" { (t("Подразделение")) } } }
                tbody {
                    @for i in &data.items {
                        tr {
                            td { a href={ "/ui/cases/" (i.id) } { (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) } }
                            td { (status_text(&i.status)) }
                            td { (super::purpose_text(&s, &i.service, &i.purpose)) }
                            td.due {
                                span.date { (i.due_on.clone().unwrap_or_else(|| "—".into())) }
                                @if i.overdue { " " span.badge.overdue { (t("Просрочено")) } }
                                @if i.at_risk { " " span.badge.at-risk { (t("Последний день")) } }
                            }
                            td { (i.unit) }
                        }
                    }
                }
            }
        }
    };
    let csrf = csrf_of(&s, &headers).await;
    html_response(
        StatusCode::OK,
        page(&ts("На утверждение"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}

#[derive(serde::Deserialize)]
struct ApprovalForm {
    csrf: String,
    #[serde(default)]
    comment: String,
}

/// The person behind the page's session and the form they sent, its CSRF token checked.
async fn signed_form(s: &Service, headers: &HeaderMap, body: &[u8]) -> Result<(Caller, ApprovalForm), Response> {
    let (caller, csrf) = session_caller(s, headers).await?;
    let form = serde_urlencoded::from_bytes::<ApprovalForm>(body).ok();
    let Some(form) = form.filter(|f| crate::accounts::same_secret(&f.csrf, &csrf)) else {
        return Err(refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open the case again",
        )));
    };
    if let Err(p) = s.authz.allow(&caller, "application.pr_approve") {
        return Err(refused(p));
    }
    if let Err(p) = crate::edge::check_form_text(&[("comment", &form.comment)]) {
        return Err(refused(p));
    }
    Ok((caller, form))
}

/// The head approves the draft (п. 15 абз. 2); back to the case.
pub(super) async fn approve(
    State(s): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (caller, _) = match signed_form(&s, &headers, &body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match s.approve_conclusion(&caller, &id).await {
        Ok(_) => Redirect::to(&format!("/ui/cases/{id}")).into_response(),
        Err(p) => refused(p),
    }
}

/// The head returns the draft to the officer with a comment; back to the inbox.
pub(super) async fn send_back(
    State(s): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (caller, form) = match signed_form(&s, &headers, &body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    match s.return_conclusion(&caller, &id, &form.comment).await {
        Ok(_) => Redirect::to("/ui/approvals").into_response(),
        Err(p) => refused(p),
    }
}
