//! Bulk confirmation from the work queue (issue 17 item 4): an officer ticks clean cases — those
//! whose proposed act (п. 9-1) is to issue, with no finding to weigh — and confirms them with one
//! reason. Each case is still its own act, decided by the same service call as on its page and
//! recorded with that reason; a case that is not clean, not the officer's or no longer waiting
//! is left as it is and reported.

use super::lang::{t, ts};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;

use super::{SignedIn, html_response, page, refused, session_caller};
use crate::problem::Problem;
use crate::service::Service;

/// At most this many cases in one confirmation (a page of the queue).
const MAX_CASES: usize = 100;

/// Whether a case's proposed act is to issue with no finding to weigh.
fn clean(decision: Option<&serde_json::Value>) -> bool {
    decision.is_some_and(|d| {
        d["proposed"]["outcome"] == "issued" && d["proposed"]["grounds"].as_array().is_none_or(|g| g.is_empty())
    })
}

pub(super) async fn confirm(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(fields) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return refused(Problem::bad_request("form_unreadable", "the form could not be read"));
    };
    let value = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim());
    if !value("csrf").is_some_and(|t| crate::accounts::same_secret(t, &csrf)) {
        return refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open the queue again",
        ));
    }
    if let Err(p) = s.authz.allow(&caller, "application.decide") {
        return refused(p);
    }
    let reason = value("comment").unwrap_or("").to_string();
    let texts: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    if let Err(p) = crate::edge::check_form_text(&texts) {
        return refused(p);
    }
    let ids: Vec<&str> = fields
        .iter()
        .filter(|(n, _)| n == "id")
        .map(|(_, v)| v.as_str())
        .collect();
    if reason.chars().count() < 3 {
        return refused(Problem::unprocessable(
            "reason_required",
            "/comment",
            "a decision needs its reason (at least 3 characters)",
        ));
    }
    if ids.is_empty() || ids.len() > MAX_CASES {
        return refused(Problem::unprocessable(
            "cases_required",
            "/id",
            format!("choose from 1 to {MAX_CASES} cases"),
        ));
    }
    let mut results = Vec::new();
    for id in ids {
        let outcome = match s.view_for(&caller, id).await {
            Err(p) => Err(p.detail.clone()),
            Ok(v) if v.status != "awaiting_confirmation" || !clean(v.decision.as_ref()) => {
                Err(ts("не бесспорное дело: решение принимается на странице дела"))
            }
            Ok(v) => {
                let d = crate::model::DecisionRequest {
                    action: "confirm".into(),
                    valid_until: None,
                    grounds: Vec::new(),
                    set_aside: Vec::new(),
                    comment: Some(reason.clone()),
                };
                match s.decide(&caller, id, d).await {
                    Ok(_) => Ok(v.receipt.number),
                    Err(p) => Err(p.detail.clone()),
                }
            }
        };
        results.push((id.to_string(), outcome));
    }
    let done = results.iter().filter(|(_, r)| r.is_ok()).count();
    let body = html! {
        p { a href="/ui/queue" { (t("← К очереди")) } }
        h1 { (t("Подтверждение выбранных дел")) }
        p role="status" { (t("Подтверждено: ")) (done) (t(" из ")) (results.len()) (t(". Основание: ")) (reason) }
        table {
            thead { tr { th scope="col" { (t("Дело")) } th scope="col" { (t("Результат")) } } }
            tbody {
                @for (id, r) in &results {
                    tr {
                        td { a href={ "/ui/cases/" (id) } { (id) } }
                        td { @match r { Ok(n) => { (t("Подтверждено (")) (n) ")" } Err(e) => { span.error { (t("Не подтверждено: ")) (e) } } } }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        page(&ts("Подтверждение"), Some(SignedIn::new(&s, &caller, Some(csrf))), body),
    )
}
