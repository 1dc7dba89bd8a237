//! The work queue (issue 17 items 1, 4): a unit's cases by legal deadline with their at-risk and
//! overdue marks, filtered (state, service, text, officer, last day, overdue), paged, exported
//! as CSV, and the bulk confirmation of clean cases.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;

use super::lang::{t, ts};
use super::{SignedIn, csrf_of, html_response, page, purpose_text, refused, service_label, status_text};
use crate::problem::Problem;
use crate::queue::QueueParams;
use crate::service::{Caller, Service};
use crate::session::Authed;

/// The page's filters as a query, for its next page and its CSV export (the cursor apart).
fn filter_query(state: &str, p: &QueueParams) -> Vec<(&'static str, String)> {
    let mut q: Vec<(&'static str, String)> = vec![("state", state.to_string())];
    let text = [
        ("service", &p.service),
        ("status", &p.status),
        ("unit", &p.unit),
        ("channel", &p.channel),
        ("purpose", &p.purpose),
        ("due_before", &p.due_before),
        ("q", &p.q),
        ("officer", &p.officer),
        ("sort", &p.sort),
    ];
    for (k, v) in text {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.push((k, v.to_string()));
        }
    }
    for (k, v) in [("overdue", p.overdue), ("at_risk", p.at_risk)] {
        if v == Some(true) {
            q.push((k, "true".into()));
        }
    }
    q
}

/// The list API's CSV export of the queue with the page's filters.
fn csv_link(state: &str, p: &QueueParams) -> String {
    let mut q = vec![("format", "csv".to_string())];
    q.extend(filter_query(state, p));
    format!(
        "/api/v1/applications?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

/// The next page of the queue with the page's filters.
fn next_link(state: &str, p: &QueueParams, cursor: &str) -> String {
    let mut q = filter_query(state, p);
    q.push(("cursor", cursor.to_string()));
    format!("/ui/queue?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
}

/// The officers whose cases the caller may ask for: its own ("me", for a person) and the
/// officers of the units it reaches.
async fn officers_in_reach(s: &Service, caller: &Caller) -> Vec<String> {
    let units = s.authz.served_units(&caller.unit);
    let mut names: Vec<String> = s
        .store
        .users()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u.role == "officer" && units.contains(&u.unit))
        .map(|u| u.username)
        .collect();
    names.sort();
    names.truncate(500);
    names
}

pub(super) async fn queue_page(
    State(s): State<Service>,
    caller: Result<Authed, Problem>,
    headers: HeaderMap,
    Query(p): Query<QueueParams>,
) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    let page_data = match s.queue_for(&caller, &p).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let state = p.state.clone().unwrap_or_else(|| "open".into());
    let officers = if s.authz.is_police(&caller.unit) {
        officers_in_reach(&s, &caller).await
    } else {
        Vec::new()
    };
    let csrf = csrf_of(&s, &headers).await;
    // An officer confirms clean cases together, with one reason (each still its own act).
    let bulk = csrf
        .clone()
        .filter(|_| s.authz.allow(&caller, "application.decide").is_ok())
        .filter(|_| page_data.items.iter().any(|i| i.status == "awaiting_confirmation"));
    // A wide table scrolls inside its region on a narrow screen instead of widening the page.
    let table = html! {
        div.scroll tabindex="0" role="region" aria-label=(ts("Список дел")) {
        table {
            caption.muted { (t("По сроку принятия решения, ближайшие первыми")) }
            thead { tr {
                @if bulk.is_some() { th scope="col" { span.visually-hidden { (t("Выбрать")) } } }
                th scope="col" { (t("Расписка")) } th scope="col" { (t("Услуга")) } th scope="col" { (t("Статус")) } th scope="col" { (t("Цель или основание")) } th scope="col" { (t("Срок решения")) } th scope="col" { (t("Подразделение")) }
            } }
            tbody {
                @for i in &page_data.items {
                    tr {
                        @if bulk.is_some() {
                            td {
                                @if i.status == "awaiting_confirmation" {
                                    input type="checkbox" name="id" value=(i.id) id={ "pick-" (i.id) } aria-label={ (ts("Выбрать ")) (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) };
                                }
                            }
                        }
                        td { a href={ "/ui/cases/" (i.id) } { (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) } }
                        td { (service_label(&i.service)) }
                        td { (status_text(&i.status)) }
                        td { (purpose_text(&s, &i.service, &i.purpose)) }
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
    let body = html! {
        h1 { (t("Очередь дел")) }
        form.filters method="get" action="/ui/queue" {
            div { label for="state" { (t("Дела")) }
                select #state name="state" {
                    option value="open" selected[state == "open"] { (t("В работе")) }
                    option value="closed" selected[state == "closed"] { (t("Завершенные")) }
                    option value="all" selected[state == "all"] { (t("Все")) }
                }
            }
            div { label for="service" { (t("Услуга")) }
                select #service name="service" {
                    option value="" { (t("Все")) }
                    option value="rvp" selected[p.service.as_deref() == Some("rvp")] { (t("РВП")) }
                    option value="pr" selected[p.service.as_deref() == Some("pr")] { (t("ПМЖ")) }
                }
            }
            div { label for="q" { (t("Номер или текст")) } input #q name="q" value=(p.q.clone().unwrap_or_default()); }
            @if caller.role == "officer" || !officers.is_empty() {
                div { label for="officer" { (t("Сотрудник")) }
                    select #officer name="officer" {
                        option value="" { (t("Все")) }
                        @if caller.token_id.starts_with("user:") && caller.role == "officer" {
                            option value="me" selected[p.officer.as_deref() == Some("me")] { (t("Мои дела")) }
                        }
                        @for name in &officers {
                            option value=(name) selected[p.officer.as_deref() == Some(name.as_str())] { (name) }
                        }
                    }
                }
            }
            div.checks {
                label { input type="checkbox" name="at_risk" value="true" checked[p.at_risk == Some(true)]; " " (t("Последний день")) }
                label { input type="checkbox" name="overdue" value="true" checked[p.overdue == Some(true)]; " " (t("Просрочено")) }
            }
            button type="submit" { (t("Показать")) }
        }
        p.muted {
            (t("Всего по фильтру: "))
            @for (status, n) in &page_data.counts { (status_text(status)) " — " (n) "; " }
        }
        // The filtered list as CSV (numbers, dates and statuses, no names), from the list API.
        p { a href=(csv_link(&state, &p)) download { (t("Скачать список (CSV)")) } }
        @if page_data.items.is_empty() {
            p { (t("Дел нет.")) }
        } @else {
            @if let Some(token) = &bulk {
                form method="post" action="/ui/queue/confirm" {
                    input type="hidden" name="csrf" value=(token);
                    (table)
                    p {
                        label for="bulk-comment" { (t("Основание для выбранных бесспорных дел (обязательно)")) }
                        input #bulk-comment name="comment" required minlength="3" maxlength="1000" size="60";
                    }
                    button type="submit" { (t("Подтвердить выбранные")) }
                }
            } @else {
                (table)
            }
            @if let Some(next) = &page_data.next {
                p { a href=(next_link(&state, &p, next)) { (t("Следующая страница")) } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        page(&ts("Очередь"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}
