//! The ЦОН operator's hand-over list (issue 17 item 4; п. 15): the results of the branch's own
//! filings — permits, refusals, refusals to accept — with their documents to print and hand to
//! the applicant, newest decision first. The same scope as every read: a branch sees what it
//! filed, nothing else.

use super::lang::{t, ts};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;

use super::{SignedIn, csrf_of, html_response, page, refused, service_label, status_text};
use crate::problem::Problem;
use crate::queue::QueueParams;
use crate::service::Service;
use crate::session::Authed;

pub(super) async fn results(State(s): State<Service>, caller: Result<Authed, Problem>, headers: HeaderMap) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    if caller.role != "con_operator" {
        return refused(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the hand-over list is a ЦОН branch's (п. 15)",
        ));
    }
    let p = QueueParams {
        state: Some("closed".into()),
        sort: Some("filed".into()),
        ..QueueParams::default()
    };
    let data = match s.queue_for(&caller, &p).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let mut rows = Vec::new();
    for item in &data.items {
        match s.case_documents(&caller, &item.id).await {
            Ok(docs) => rows.push((item, docs)),
            Err(e) => return refused(e),
        }
    }
    let body = html! {
        h1 { (t("Результаты к выдаче")) }
        p.muted { (t("Результаты по заявлениям, принятым вашим филиалом: разрешения, мотивированные отказы и расписки об отказе в приеме — распечатайте и выдайте заявителю (п. 15).")) }
        @if rows.is_empty() {
            p { (t("Результатов пока нет.")) }
        } @else {
            div.scroll tabindex="0" role="region" aria-label=(ts("Результаты к выдаче")) {
                table {
                    thead { tr { th scope="col" { (t("Расписка")) } th scope="col" { (t("Услуга")) } th scope="col" { (t("Результат")) } th scope="col" { (t("Документы")) } } }
                    tbody {
                        @for (i, docs) in &rows {
                            tr {
                                td { (i.receipt_number.clone().unwrap_or_else(|| i.id.clone())) }
                                td { (service_label(&i.service)) }
                                td { (status_text(&i.status)) @if let Some(n) = &i.permit_number { br; span.muted { (n) } } }
                                td {
                                    ul.plain {
                                        @for d in docs {
                                            li {
                                                (d.title) @if let Some(a) = &d.appendix { (t(" (прил. ")) (a) ")" } ": "
                                                a href={ (d.document.href) "?lang=ru" } { (t("PDF рус.")) }
                                                " · "
                                                a href={ (d.document.href) "?lang=kk" } lang="kk" { (t("PDF қаз.")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let csrf = csrf_of(&s, &headers).await;
    html_response(
        StatusCode::OK,
        page(&ts("К выдаче"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}
