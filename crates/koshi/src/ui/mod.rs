//! The web app (issue 17), first slice: a person signs in with an account, sees the work queue
//! of the units they serve by legal deadline (with filters and the overdue and at-risk marks),
//! and opens a case: its summary, checks with their sources, and its timeline. Server-rendered
//! HTML (maud), no JavaScript, one stylesheet of Koshi's own; the same services, scopes and
//! audit as the API (reading a case through a page is recorded as a read). Russian for now.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};

use crate::problem::Problem;
use crate::queue::QueueParams;
use crate::service::{Caller, Service};
use crate::session::Client;

/// The stylesheet, compiled in (nothing is loaded from outside).
const CSS: &str = include_str!("../../assets/koshi.css");

pub fn routes() -> axum::Router<Service> {
    use axum::routing::get;
    axum::Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/queue") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/queue") }))
        .route("/ui/sign-in", get(sign_in_page).post(sign_in))
        .route("/ui/queue", get(queue_page))
        .route("/ui/cases/{id}", get(case_page))
        .route("/ui/assets/koshi.css", get(css))
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

fn page(title: &str, signed_in: Option<&Caller>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ru" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Koshi" }
                link rel="stylesheet" href="/ui/assets/koshi.css";
            }
            body {
                a.skip href="#main" { "К содержанию" }
                header.site {
                    strong { "Koshi · ИС МП" }
                    @if let Some(c) = signed_in {
                        a href="/ui/queue" { "Очередь" }
                        span.muted { (c.role) " · " (c.unit) }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

fn html_response(status: StatusCode, m: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

/// A page's answer to a refused read: sign in again, or the reason.
fn refused(p: Problem) -> Response {
    if p.status == 401 {
        return Redirect::to("/ui/sign-in").into_response();
    }
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    html_response(
        status,
        page(
            "Отказано",
            None,
            html! { h1 { "Не удалось" } p.error { (p.detail) } p { a href="/ui/queue" { "К очереди" } } },
        ),
    )
}

fn sign_in_form(error: Option<&str>) -> Markup {
    page(
        "Вход",
        None,
        html! {
            h1 { "Вход для сотрудников" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/ui/sign-in" {
                p { label for="username" { "Имя пользователя" } input #username name="username" autocomplete="username" required; }
                p { label for="password" { "Пароль" } input #password name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { "Войти" }
            }
        },
    )
}

async fn sign_in_page() -> Response {
    html_response(StatusCode::OK, sign_in_form(None))
}

#[derive(serde::Deserialize)]
struct SignInForm {
    username: String,
    password: String,
}

async fn sign_in(State(s): State<Service>, Client(client): Client, body: axum::body::Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<SignInForm>(&body) else {
        return html_response(StatusCode::BAD_REQUEST, sign_in_form(Some("Заполните имя и пароль.")));
    };
    match crate::accounts::sign_in(
        &s.store,
        &s.sign_in_limiter,
        &form.username,
        &form.password,
        &client,
        s.now(),
    )
    .await
    {
        Ok(opened) => {
            let max_age = crate::accounts::SESSION_HOURS * 3600;
            let cookie = format!(
                "{}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}",
                crate::session::SESSION_COOKIE,
                opened.secret
            );
            let mut r = Redirect::to("/ui/queue").into_response();
            if let Ok(v) = cookie.parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(p) if p.status == 429 => html_response(StatusCode::TOO_MANY_REQUESTS, sign_in_form(Some(&p.detail))),
        Err(_) => html_response(
            StatusCode::UNAUTHORIZED,
            sign_in_form(Some("Неверное имя пользователя или пароль.")),
        ),
    }
}

fn status_label(s: &str) -> &'static str {
    match s {
        "checking" => "Проверка",
        "awaiting_confirmation" => "Ожидает решения сотрудника",
        "awaiting_officer" => "Требует рассмотрения",
        "issued" => "Выдано",
        "refused" => "Отказано",
        "refused_to_accept" => "Отказано в приеме",
        "registered" => "Зарегистрировано",
        "awaiting_answers" => "Запросы направлены",
        "annulled" => "Аннулировано",
        "withdrawn" => "Отозвано",
        _ => "",
    }
}

fn status_text(s: &str) -> String {
    match status_label(s) {
        "" => s.to_string(),
        l => l.to_string(),
    }
}

fn service_label(s: &str) -> &str {
    match s {
        "rvp" => "РВП",
        "pr" => "ПМЖ",
        other => other,
    }
}

async fn queue_page(
    State(s): State<Service>,
    caller: Result<Caller, Problem>,
    Query(p): Query<QueueParams>,
) -> Response {
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let page_data = match s.queue_for(&caller, &p).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let state = p.state.clone().unwrap_or_else(|| "open".into());
    let body = html! {
        h1 { "Очередь дел" }
        form.filters method="get" action="/ui/queue" {
            div { label for="state" { "Дела" }
                select #state name="state" {
                    option value="open" selected[state == "open"] { "В работе" }
                    option value="closed" selected[state == "closed"] { "Завершенные" }
                    option value="all" selected[state == "all"] { "Все" }
                }
            }
            div { label for="service" { "Услуга" }
                select #service name="service" {
                    option value="" { "Все" }
                    option value="rvp" selected[p.service.as_deref() == Some("rvp")] { "РВП" }
                    option value="pr" selected[p.service.as_deref() == Some("pr")] { "ПМЖ" }
                }
            }
            div { label for="q" { "Номер или текст" } input #q name="q" value=(p.q.clone().unwrap_or_default()); }
            button type="submit" { "Показать" }
        }
        p.muted {
            "Всего по фильтру: "
            @for (status, n) in &page_data.counts { (status_text(status)) " — " (n) "; " }
        }
        @if page_data.items.is_empty() {
            p { "Дел нет." }
        } @else {
            table {
                caption.muted { "По сроку принятия решения, ближайшие первыми" }
                thead { tr { th scope="col" { "Расписка" } th scope="col" { "Услуга" } th scope="col" { "Статус" } th scope="col" { "Цель" } th scope="col" { "Срок решения" } th scope="col" { "Подразделение" } } }
                tbody {
                    @for i in &page_data.items {
                        tr {
                            td { a href={ "/ui/cases/" (i.id) } { (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) } }
                            td { (service_label(&i.service)) }
                            td { (status_text(&i.status)) }
                            td { (i.purpose) }
                            td {
                                (i.due_on.clone().unwrap_or_else(|| "—".into()))
                                @if i.overdue { " " span.badge.overdue { "Просрочено" } }
                                @if i.at_risk { " " span.badge.at-risk { "Последний день" } }
                            }
                            td { (i.unit) }
                        }
                    }
                }
            }
            @if let Some(next) = &page_data.next {
                p { a href={ "/ui/queue?state=" (state) "&cursor=" (next.replace('|', "%7C")) } { "Следующая страница" } }
            }
        }
    };
    html_response(StatusCode::OK, page("Очередь", Some(&caller), body))
}

async fn case_page(
    State(s): State<Service>,
    caller: Result<Caller, Problem>,
    Path(id): Path<String>,
    _headers: HeaderMap,
) -> Response {
    let caller = match caller {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let v = match s.view_for(&caller, &id).await {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    let body = html! {
        p { a href="/ui/queue" { "← К очереди" } }
        h1 { (service_label(&v.kind)) " · " (v.receipt.number) }
        dl.summary {
            dt { "Статус" } dd { (status_text(&v.status)) @if v.overdue { " " span.badge.overdue { "Просрочено" } } }
            dt { "Цель" } dd { (v.purpose) }
            dt { "Канал" } dd { (v.channel) }
            dt { "Подразделение" } dd { (v.unit) }
            dt { "Подано" } dd { (v.filed_at) }
            dt { "Принято" } dd { (v.accepted_on.clone().unwrap_or_else(|| "—".into())) }
            dt { "Срок решения" } dd { (v.due_on.clone().unwrap_or_else(|| "—".into())) }
            dt { "Редакция Правил" } dd { (v.rules_version) }
        }
        @if !v.checks.is_empty() {
            h2 { "Проверки (п. 9-1)" }
            table {
                thead { tr { th scope="col" { "Проверка" } th scope="col" { "Результат" } th scope="col" { "Источник" } th scope="col" { "Когда" } th scope="col" { "Норма" } } }
                tbody {
                    @for c in &v.checks {
                        tr { td { (c.check) } td { (c.state) } td { (c.source) } td { (c.checked_at.clone().unwrap_or_default()) } td { (c.citation) } }
                    }
                }
            }
        }
        h2 { "Ход дела" }
        table {
            thead { tr { th scope="col" { "Когда" } th scope="col" { "Действие" } th scope="col" { "Кто" } th scope="col" { "Норма" } } }
            tbody {
                @for e in &v.events {
                    tr { td { (e.at) } td { (e.action) } td { (e.actor) } td { (e.citation) } }
                }
            }
        }
    };
    html_response(StatusCode::OK, page("Дело", Some(&caller), body))
}
