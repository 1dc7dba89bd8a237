//! The administrator's page (issue 17 item 4): the calendar years with their status and source,
//! and the loading of an official year (or an MCI figure) while Koshi runs; the MCI and the
//! solvency parameters in force; every load made; the accounts and their posts, the tokens
//! (labels only, never a secret), and the units. Loading goes through the same use case as
//! `POST /api/v1/admin/law-data/{kind}`: validated, audited, applied at once, the open cases'
//! terms recomputed.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};

use super::lang::{t, ts};
use super::{SignedIn, csrf_of, html_response, page, refused, session_caller};
use crate::problem::Problem;
use crate::service::{Caller, Service};
use crate::session::Authed;

/// What the last load or account act did, or why it was refused.
enum Loaded {
    Done(String),
    Refused(String),
    Acted(Markup),
    Failed(String),
}

async fn admin_body(s: &Service, csrf: &str, loaded: Option<&Loaded>, text: &str) -> Result<Markup, Problem> {
    s.refresh_law().await?;
    let law = s.law();
    let loads = s.store.law_data_loads().await?;
    let users = s.store.users().await?;
    let tokens = s.store.tokens().await?;
    let acts = s.store.staff_events(20).await?;
    Ok(html! {
        h1 { (t("Администрирование")) }
        @match loaded {
            Some(Loaded::Done(summary)) => div.verdict.good role="status" { p.big { (t("Данные загружены и применены.")) } p { (summary) } },
            Some(Loaded::Refused(why)) => div.verdict.bad role="alert" { p.big { (t("Данные не загружены.")) } p { (why) } },
            Some(Loaded::Acted(what)) => div.verdict.good role="status" { (what) },
            Some(Loaded::Failed(why)) => div.verdict.bad role="alert" { p.big { (t("Не выполнено.")) } p { (why) } },
            None => {}
        }
        h2 #calendar-h { (t("Производственный календарь")) }
        div.scroll role="region" aria-labelledby="calendar-h" tabindex="0" {
            table {
                thead { tr {
                    th scope="col" { (t("Год")) } th scope="col" { (t("Статус")) } th scope="col" { (t("Курбан айт")) }
                    th scope="col" { (t("Переносы")) } th scope="col" { (t("Источник")) }
                } }
                tbody {
                    @for y in law.calendar.data_years() {
                        tr {
                            td { (y.year) } td { (y.status.code()) }
                            td.date { @if let Some(d) = y.kurban_ait { (d) } @else { "—" } }
                            td { (y.transfers.len()) } td { (y.source) }
                        }
                    }
                }
            }
        }
        p.muted { (t("Последующие годы — provisional: только праздники закона, без Курбан айта и переносов.")) }
        h2 { (t("Загрузить официальный год или МРП")) }
        form method="post" action="/ui/admin/law-data" {
            input type="hidden" name="csrf" value=(csrf);
            p {
                label for="kind" { (t("Что загружается")) }
                select #kind name="kind" {
                    option value="calendar" { (t("Год производственного календаря")) }
                    option value="mci" { (t("МРП")) }
                }
            }
            p {
                label for="file" { (t("Файл данных (TOML, schema = 1)")) }
                textarea #file name="file" rows="10" cols="70" required { (text) }
            }
            button type="submit" { (t("Загрузить")) }
        }
        h2 { (t("МРП и платежеспособность")) }
        table {
            thead { tr { th scope="col" { (t("Год")) } th scope="col" { (t("МРП, тенге")) } th scope="col" { (t("Статус")) } th scope="col" { (t("Источник")) } } }
            tbody { @for m in &law.params.mci { tr { td { (m.year) } td { (m.tenge) } td { (m.status.as_str()) } td { (m.source) } } } }
        }
        p { (t("Платежеспособность (прил. 3): ")) (law.params.solvency_mci_multiple) " × МРП; " (law.params.solvency_square_metres_per_member) " м²; " (law.params.solvency_status.as_str()) }
        h2 { (t("Загрузки данных")) }
        @if loads.is_empty() { p.muted { (t("Загрузок не было.")) } } @else {
            table {
                thead { tr { th scope="col" { (t("Когда")) } th scope="col" { (t("Что")) } th scope="col" { (t("Кто")) } th scope="col" { (t("Итог")) } } }
                tbody { @for l in loads.iter().rev() { tr { td.date { (super::local_time_s(s, &l.loaded_at)) } td { (l.kind) } td { (l.loaded_by) } td { (l.summary) } } } }
            }
        }
        h2 { (t("Учётные записи")) }
        table {
            thead { tr { th scope="col" { (t("Имя пользователя")) } th scope="col" { (t("Роль")) } th scope="col" { (t("Подразделение")) } th scope="col" { (t("Должность")) } th scope="col" { (t("Статус")) } th scope="col" { span.visually-hidden { (t("Действие")) } } } }
            tbody {
                @for u in &users {
                    tr {
                        td { (u.username) } td { (u.role) } td { (u.unit) } td { (u.post) }
                        td { @if u.disabled_at.is_some() { (t("отключена")) } @else { (t("действует")) } }
                        td {
                            @if u.disabled_at.is_none() && u.role != "portal" {
                                form method="post" action="/ui/admin/accounts/disable" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="username" value=(u.username);
                                    button.secondary type="submit" aria-label={ (ts("Отключить ")) (u.username) } { (t("Отключить")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 { (t("Добавить учётную запись")) }
        form.filters method="post" action="/ui/admin/accounts" {
            input type="hidden" name="csrf" value=(csrf);
            div { label for="new-username" { (t("Имя пользователя")) } input #new-username name="username" required maxlength="64" pattern="[A-Za-z0-9._-]+" autocomplete="off"; }
            div { label for="new-role" { (t("Роль")) }
                select #new-role name="role" {
                    @for r in crate::caller::ROLES.iter().filter(|r| **r != "portal") { option value=(r) { (r) } }
                }
            }
            div { label for="new-unit" { (t("Подразделение")) }
                select #new-unit name="unit" { @for u in s.authz.units() { option value=(u.id) { (u.id) " — " (u.name_ru) } } }
            }
            div { label for="new-post" { (t("Должность")) }
                select #new-post name="post" { @for p in crate::authz::POSTS { option value=(p) selected[p == "other"] { (p) } } }
            }
            button type="submit" { (t("Добавить")) }
        }
        p.muted { (t("Первый пароль создаётся случайно и показывается один раз.")) }
        h2 { (t("Токены систем")) }
        table {
            thead { tr { th scope="col" { (t("Метка")) } th scope="col" { (t("Роль")) } th scope="col" { (t("Подразделение")) } th scope="col" { (t("Выдан")) } th scope="col" { (t("Статус")) } th scope="col" { span.visually-hidden { (t("Действие")) } } } }
            tbody {
                @for k in tokens.iter().filter(|k| k.party.is_none()) {
                    tr {
                        td { (k.label) } td { (k.role) } td { (k.unit) } td.date { (super::local_time(s, &k.created_at)) }
                        td { @if k.revoked_at.is_some() { (t("отозван")) } @else { (t("действует")) } }
                        td {
                            @if k.revoked_at.is_none() {
                                form method="post" action="/ui/admin/tokens/revoke" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="id" value=(k.id);
                                    button.secondary type="submit" aria-label={ (ts("Отозвать ")) (k.label) } { (t("Отозвать")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t("Действия с учётными записями и токенами")) }
        @if acts.is_empty() { p.muted { (t("Действий не было.")) } } @else {
            table {
                thead { tr { th scope="col" { (t("Когда")) } th scope="col" { (t("Что")) } th scope="col" { (t("Кто")) } th scope="col" { (t("Подробности")) } } }
                tbody { @for e in &acts { tr { td.date { (super::local_time_s(s, &e.at)) } td { (e.action) } td { (e.actor) } td { code { (e.detail) } } } } }
            }
        }
        h2 { (t("Подразделения")) }
        table {
            thead { tr { th scope="col" { (t("Код")) } th scope="col" { (t("Вид")) } th scope="col" { (t("Входит в")) } th scope="col" { (t("Наименование")) } } }
            tbody { @for u in s.authz.units() { tr { td { (u.id) } td { (u.kind) } td { (u.parent.as_deref().unwrap_or("—")) } td { (u.name_ru) } } } }
        }
    })
}

fn allowed(s: &Service, caller: &Caller) -> Result<(), Problem> {
    s.authz.allow(caller, "admin.read").map(|_| ()).map_err(Problem::from)
}

pub(super) async fn admin_page(
    State(s): State<Service>,
    caller: Result<Authed, Problem>,
    headers: HeaderMap,
) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    if let Err(e) = allowed(&s, &caller) {
        return refused(e);
    }
    let csrf = csrf_of(&s, &headers).await.unwrap_or_default();
    match admin_body(&s, &csrf, None, "").await {
        Ok(body) => html_response(
            StatusCode::OK,
            page(
                &ts("Администрирование"),
                Some(SignedIn::new(&s, &caller, Some(csrf))),
                body,
            ),
        ),
        Err(e) => refused(e),
    }
}

#[derive(serde::Deserialize)]
struct LoadForm {
    csrf: String,
    kind: String,
    file: String,
}

pub(super) async fn load_law_data(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf, form) = match form_of::<LoadForm>(&s, &headers, &body, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = s.authz.allow(&caller, "law_data.load") {
        return refused(e);
    }
    // A law data file is bounded as the API bounds it; the page's text rules would refuse its
    // line breaks, so only the size is checked here (the file's own checks follow).
    if form.file.len() > 256 * 1024 {
        return refused(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "a law data file is at most 256 KiB",
        ));
    }
    let outcome = match s.load_law_data(&caller.actor(), &form.kind, &form.file).await {
        Ok(l) => Loaded::Done(l.summary),
        Err(e) => Loaded::Refused(format!("{} ({})", e.detail, e.code)),
    };
    let status = match outcome {
        Loaded::Refused(_) | Loaded::Failed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Loaded::Done(_) | Loaded::Acted(_) => StatusCode::OK,
    };
    let text = if matches!(outcome, Loaded::Refused(_)) {
        form.file.as_str()
    } else {
        ""
    };
    match admin_body(&s, &csrf, Some(&outcome), text).await {
        Ok(body) => html_response(
            status,
            page(
                &ts("Администрирование"),
                Some(SignedIn::new(&s, &caller, Some(csrf.clone()))),
                body,
            ),
        ),
        Err(e) => refused(e),
    }
}

#[derive(serde::Deserialize)]
struct AccountForm {
    csrf: String,
    username: String,
    role: String,
    unit: String,
    post: String,
}

#[derive(serde::Deserialize)]
struct NamedForm {
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    id: String,
}

/// The administrator's page after an act on accounts or tokens: what was done, or why not.
async fn after_act(s: &Service, caller: &Caller, csrf: &str, outcome: Loaded) -> Response {
    let status = match outcome {
        Loaded::Failed(_) | Loaded::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    match admin_body(s, csrf, Some(&outcome), "").await {
        Ok(body) => html_response(
            status,
            page(
                &ts("Администрирование"),
                Some(SignedIn::new(s, caller, Some(csrf.to_string()))),
                body,
            ),
        ),
        Err(e) => refused(e),
    }
}

/// The session's caller and the form, when the form carries the session's CSRF token.
async fn form_of<T: serde::de::DeserializeOwned>(
    s: &Service,
    headers: &HeaderMap,
    body: &[u8],
    csrf_of_form: impl Fn(&T) -> &str,
) -> Result<(Caller, String, T), Response> {
    let (caller, csrf) = session_caller(s, headers).await?;
    let form = serde_urlencoded::from_bytes::<T>(body).ok();
    let Some(form) = form.filter(|f| crate::accounts::same_secret(csrf_of_form(f), &csrf)) else {
        return Err(refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open the page again",
        )));
    };
    Ok((caller, csrf, form))
}

pub(super) async fn add_account(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf, f) = match form_of::<AccountForm>(&s, &headers, &body, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = s.authz.allow(&caller, "accounts.manage") {
        return refused(e);
    }
    if crate::edge::check_form_text(&[
        ("username", &f.username),
        ("role", &f.role),
        ("unit", &f.unit),
        ("post", &f.post),
    ])
    .is_err()
    {
        return after_act(
            &s,
            &caller,
            &csrf,
            Loaded::Failed(ts("Поля содержат недопустимые символы.")),
        )
        .await;
    }
    let outcome = match s.add_account(&caller, &f.username, &f.role, &f.unit, &f.post).await {
        Ok(added) => Loaded::Acted(html! {
            p.big { (t("Учётная запись создана: ")) strong { (added.username) } }
            p { (t("Первый пароль (показан один раз, передайте его сотруднику лично): ")) code.secret { (added.password) } }
        }),
        Err(e) => Loaded::Failed(format!("{} ({})", e.detail, e.code)),
    };
    after_act(&s, &caller, &csrf, outcome).await
}

pub(super) async fn disable_account(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf, f) = match form_of::<NamedForm>(&s, &headers, &body, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = s.authz.allow(&caller, "accounts.manage") {
        return refused(e);
    }
    let outcome = match s.disable_account(&caller, &f.username).await {
        Ok(()) => Loaded::Acted(html! { p.big { (t("Учётная запись отключена: ")) strong { (f.username) } } }),
        Err(e) => Loaded::Failed(format!("{} ({})", e.detail, e.code)),
    };
    after_act(&s, &caller, &csrf, outcome).await
}

pub(super) async fn revoke_token(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let (caller, csrf, f) = match form_of::<NamedForm>(&s, &headers, &body, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = s.authz.allow(&caller, "accounts.manage") {
        return refused(e);
    }
    let outcome = match s.revoke_system_token(&caller, &f.id).await {
        Ok(()) => Loaded::Acted(html! { p.big { (t("Токен отозван.")) } }),
        Err(e) => Loaded::Failed(format!("{} ({})", e.detail, e.code)),
    };
    after_act(&s, &caller, &csrf, outcome).await
}
