//! The SLA dashboard (issue 17 item 4): within the caller's reach, as the work queue — open cases
//! by stage, the cases at risk and overdue by police body, how long each registry takes (since
//! this instance started), and the outage journal of п. 9-5. Charts are SVG drawn on the server
//! (no script), each with its figures in a table beside it; no personal data.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::lang::{t, ts};
use super::{SignedIn, csrf_of, html_response, page, refused, status_words};
use crate::problem::Problem;
use crate::queue::QueueParams;
use crate::service::{Caller, Service};
use crate::session::Authed;

/// A horizontal bar chart: one bar a row, scaled to the largest; its figures in a table too.
fn bars(id: &str, caption: Markup, unit: &str, rows: &[(String, f64)]) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max).max(1e-9);
    let height = 8 + 28 * rows.len();
    html! {
        figure.chart {
            figcaption #(id) { (caption) }
            @if rows.is_empty() {
                p.muted { (t("Нет данных.")) }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 640 {height}")) role="img" aria-labelledby=(id) {
                    @for (i, (label, n)) in rows.iter().enumerate() {
                        @let y = 4 + 28 * i;
                        @let w = (n / max * 330.0).round().max(1.0);
                        text x="0" y=(y + 15) { (label) }
                        rect.bar x="250" y=(y) width=(w) height="20" {}
                        text x=(256.0 + w) y=(y + 15) { (figure(*n)) " " (unit) }
                    }
                }
                // The same figures for a screen reader (the picture is one image to it).
                table.visually-hidden {
                    caption { (caption) }
                    tbody { @for (label, n) in rows { tr { th scope="row" { (label) } td { (figure(*n)) " " (unit) } } } }
                }
            }
        }
    }
}

fn figure(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

/// An agency's latest answers: how many, their hours from the request in all, and how many came
/// after the answer's last day.
#[derive(Default)]
struct AgencyTimes {
    answers: u64,
    hours: f64,
    late: u64,
    /// Answers whose stored instants do not read: counted and shown, never taken as on time.
    unreadable: u64,
}

/// How long each agency of п. 14 takes, over its latest 500 answers (no case is named).
async fn agency_times(s: &Service) -> Result<BTreeMap<String, AgencyTimes>, Problem> {
    let cal = &s.law().calendar;
    let mut out: BTreeMap<String, AgencyTimes> = BTreeMap::new();
    for a in s.store.latest_agency_answers(500).await? {
        let x = out.entry(a.agency.clone()).or_default();
        let (Ok(sent), Some(Ok(answered))) = (
            koshi_store::parse_instant(&a.sent_at),
            a.answered_at.as_deref().map(koshi_store::parse_instant),
        ) else {
            x.unreadable += 1;
            continue;
        };
        x.answers += 1;
        x.hours += answered.duration_since(sent).as_secs_f64() / 3600.0;
        x.late += u64::from(a.due_on.as_str() < cal.civil(answered).date().to_string().as_str());
    }
    Ok(out)
}

/// The open cases the filters select, counted by police body (every page of them, at most 10,000).
async fn by_unit(s: &Service, caller: &Caller, overdue: bool) -> Result<BTreeMap<String, i64>, Problem> {
    let mut out = BTreeMap::new();
    let mut cursor = None;
    for _ in 0..50 {
        let p = QueueParams {
            state: Some("open".into()),
            overdue: overdue.then_some(true),
            at_risk: (!overdue).then_some(true),
            limit: Some(200),
            cursor: cursor.take(),
            ..QueueParams::default()
        };
        let page = s.queue_for(caller, &p).await?;
        for i in &page.items {
            *out.entry(i.unit.clone()).or_insert(0) += 1;
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    Ok(out)
}

pub(super) async fn sla_page(
    State(s): State<Service>,
    caller: Result<Authed, Problem>,
    headers: HeaderMap,
) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    if let Err(e) = s.authz.allow(&caller, "sla.read") {
        return refused(e);
    }
    let open = QueueParams {
        state: Some("open".into()),
        limit: Some(1),
        ..QueueParams::default()
    };
    let stages = match s.queue_for(&caller, &open).await {
        Ok(p) => p.counts,
        Err(e) => return refused(e),
    };
    let (overdue, at_risk) = match (by_unit(&s, &caller, true).await, by_unit(&s, &caller, false).await) {
        (Ok(o), Ok(r)) => (o, r),
        (Err(e), _) | (_, Err(e)) => return refused(e),
    };
    let outages = if s.authz.allow(&caller, "outages.read").is_ok() {
        match s.store.outages(20).await {
            Ok(o) => Some(o),
            Err(e) => return refused(Problem::from(e)),
        }
    } else {
        None
    };
    let registries = crate::metrics::get().registry_times();
    let agencies = match agency_times(&s).await {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let stage_rows: Vec<(String, f64)> = stages
        .iter()
        .map(|(st, n)| (status_words(st).map_or_else(|| st.clone(), ts), *n as f64))
        .collect();
    let mut units: Vec<&String> = overdue.keys().chain(at_risk.keys()).collect();
    units.sort();
    units.dedup();
    let body = html! {
        h1 { (t("Сроки и нагрузка")) }
        p.muted { (t("Дела в вашем ведении; реестры — с запуска этого экземпляра.")) }
        (bars("stages-h", t("Открытые дела по этапам"), "", &stage_rows))
        h2 { (t("Под угрозой и просроченные по подразделениям")) }
        @if units.is_empty() {
            p { (t("Просроченных дел и дел последнего дня нет.")) }
        } @else {
            table {
                thead { tr { th scope="col" { (t("Подразделение")) } th scope="col" { (t("Последний день")) } th scope="col" { (t("Просрочено")) } } }
                tbody {
                    @for u in &units {
                        tr {
                            td { (u) }
                            td { (at_risk.get(*u).copied().unwrap_or(0)) }
                            td { (overdue.get(*u).copied().unwrap_or(0)) }
                        }
                    }
                }
            }
            (bars("overdue-h", t("Просрочено"), "", &overdue.iter().map(|(u, n)| (u.clone(), *n as f64)).collect::<Vec<_>>()))
        }
        h2 { (t("Время ответа реестров")) }
        @if registries.is_empty() {
            p.muted { (t("Нет данных.")) }
        } @else {
            (bars(
                "registries-h",
                t("Среднее время ответа, мс"),
                &ts("мс"),
                &registries.iter().map(|(r, x)| (r.clone(), x.seconds / x.calls.max(1) as f64 * 1000.0)).collect::<Vec<_>>(),
            ))
            table {
                thead { tr {
                    th scope="col" { (t("Реестр")) } th scope="col" { (t("Запросов")) } th scope="col" { (t("Без ответа")) }
                    th scope="col" { (t("Среднее, мс")) } th scope="col" { (t("Дольше всего, мс")) }
                } }
                tbody {
                    @for (r, x) in &registries {
                        tr {
                            td { (r) } td { (x.calls) } td { (x.failed) }
                            td { (figure(x.seconds / x.calls.max(1) as f64 * 1000.0)) }
                            td { (figure(x.slowest * 1000.0)) }
                        }
                    }
                }
            }
        }
        h2 { (t("Время ответа органов (п. 14)")) }
        @if agencies.is_empty() {
            p.muted { (t("Нет данных.")) }
        } @else {
            (bars(
                "agencies-h",
                t("Среднее время ответа, ч"),
                &ts("ч"),
                &agencies.iter().map(|(a, x)| (a.clone(), x.hours / x.answers.max(1) as f64)).collect::<Vec<_>>(),
            ))
            table {
                thead { tr {
                    th scope="col" { (t("Орган")) } th scope="col" { (t("Ответов")) }
                    th scope="col" { (t("Среднее, ч")) } th scope="col" { (t("Позже срока")) } th scope="col" { (t("Не прочитано")) }
                } }
                tbody {
                    @for (a, x) in &agencies {
                        tr { td { (a) } td { (x.answers) } td { (figure(x.hours / x.answers.max(1) as f64)) } td { (x.late) } td { (x.unreadable) } }
                    }
                }
            }
            p.muted { (t("По последним 500 ответам.")) }
        }
        @if let Some(outages) = &outages {
            h2 { (t("Журнал сбоев (п. 9-5)")) }
            @if outages.is_empty() {
                p { (t("Сбоев не было.")) }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { (t("Система")) } th scope="col" { (t("Начало")) } th scope="col" { (t("Конец")) }
                        th scope="col" { (t("Задержано")) } th scope="col" { (t("Что сделано")) }
                    } }
                    tbody {
                        @for o in outages {
                            tr {
                                td { (o.registry) } td.date { (o.started_at) }
                                td.date { @if let Some(e) = &o.ended_at { (e) } @else { strong { (t("продолжается")) } } }
                                td { (o.delayed) } td { (o.action) }
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
        page(&ts("Сроки и нагрузка"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}
