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
use crate::service::{Caller, Service};
use crate::session::Authed;
use crate::session::Client;

mod admin;
mod approvals;
mod bulk;
mod cabinet;
mod casework;
mod handover;
mod intake;
mod intake_pr;
mod labels;
pub mod lang;
mod queue;
mod sla;
mod verify;

pub(crate) use labels::status_words;
use labels::{
    channel_label, check_label, clock_label, clock_state, purpose_text, role_label, service_label, status_text,
};
use lang::{t, ts};

/// The stylesheet, compiled in (nothing is loaded from outside).
const CSS: &str = include_str!("../../assets/koshi.css");

pub fn routes() -> axum::Router<Service> {
    use axum::routing::get;
    axum::Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/queue") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/queue") }))
        .route("/ui/sign-in", get(sign_in_page).post(sign_in))
        .route("/ui/queue", get(queue::queue_page))
        .route("/ui/intake", get(intake::intake_page).post(intake::intake_post))
        .route("/ui/intake/pr", get(intake_pr::page_get).post(intake_pr::page_post))
        .route("/ui/sla", get(sla::sla_page))
        .route("/ui/admin", get(admin::admin_page))
        .route("/ui/admin/law-data", axum::routing::post(admin::load_law_data))
        .route("/ui/admin/accounts", axum::routing::post(admin::add_account))
        .route(
            "/ui/admin/accounts/disable",
            axum::routing::post(admin::disable_account),
        )
        .route("/ui/admin/tokens/revoke", axum::routing::post(admin::revoke_token))
        .route("/ui/cases/{id}", get(case_page))
        .route("/ui/cases/{id}/decision", axum::routing::post(confirm_decision))
        .route("/ui/cases/{id}/act", axum::routing::post(casework::act))
        .route("/ui/sign-out", axum::routing::post(sign_out))
        .route("/ui/approvals", get(approvals::inbox))
        .route("/ui/queue/confirm", axum::routing::post(bulk::confirm))
        .route("/ui/handover", get(handover::results))
        .route("/ui/cases/{id}/approval", axum::routing::post(approvals::approve))
        .route(
            "/ui/cases/{id}/approval/return",
            axum::routing::post(approvals::send_back),
        )
        .route("/ui/audit", get(audit_page))
        .route("/ui/cases/{id}/readers", get(readers_page))
        .route("/ui/assets/koshi.css", get(css))
        .route("/verify", get(verify::verify_page).post(verify::verify_number_page))
        .route("/verify/{code}", get(verify::verify_code_page))
        .merge(cabinet::routes())
        .layer(axum::middleware::from_fn(lang::scoped))
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// Who is signed in, and the session's CSRF token for the sign-out form.
struct SignedIn<'a> {
    caller: &'a Caller,
    csrf: Option<String>,
    /// Holds a post that approves conclusions (п. 15 абз. 2): the header links the inbox.
    approves: bool,
}

impl<'a> SignedIn<'a> {
    fn new(s: &Service, caller: &'a Caller, csrf: Option<String>) -> Self {
        let approves = s.authz.allow(caller, "application.pr_approve").is_ok()
            && s.authz.approval_root(caller.post.as_deref(), &caller.unit).is_ok();
        SignedIn { caller, csrf, approves }
    }
}

fn page(title: &str, signed_in: Option<SignedIn<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang::lang().code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Koshi" }
                link rel="stylesheet" href="/ui/assets/koshi.css";
            }
            body {
                a.skip href="#main" { (t("К содержанию")) }
                header.site {
                    strong { (t("Koshi · ИС МП")) }
                    nav.lang aria-label="Язык · Тіл" {
                        @if lang::lang() == koshi_forms::Lang::Kk {
                            a href="?lang=ru" lang="ru" hreflang="ru" { "Русский" }
                            span aria-current="true" lang="kk" { "Қазақша" }
                        } @else {
                            span aria-current="true" lang="ru" { "Русский" }
                            a href="?lang=kk" lang="kk" hreflang="kk" { "Қазақша" }
                        }
                    }
                    @if let Some(who) = signed_in.as_ref().filter(|w| w.caller.role == "portal") {
                        a href="/cabinet" { (t("Мои запросы")) }
                        a href="/cabinet/new" { (t("Подать запрос")) }
                        span { (t("Принимающая сторона")) " · " (who.caller.party.clone().unwrap_or_default()) }
                        @if let Some(token) = &who.csrf {
                            form.sign-out method="post" action="/cabinet/sign-out" {
                                input type="hidden" name="csrf" value=(token);
                                button type="submit" { (t("Выйти")) }
                            }
                        }
                    } @else if let Some(who) = &signed_in {
                        @if who.caller.role != "admin" {
                            a href="/ui/queue" { (t("Очередь")) }
                        }
                        @if matches!(who.caller.role.as_str(), "officer" | "con_operator") {
                            a href="/ui/intake" { (t("Приём документов")) }
                        }
                        @if who.caller.role == "con_operator" {
                            a href="/ui/handover" { (t("К выдаче")) }
                        }
                        @if matches!(who.caller.role.as_str(), "officer" | "con_operator" | "auditor") {
                            a href="/ui/sla" { (t("Сроки")) }
                        }
                        @if who.approves {
                            a href="/ui/approvals" { (t("На утверждение")) }
                        }
                        @if who.caller.role == "admin" {
                            a href="/ui/admin" { (t("Администрирование")) }
                        }
                        @if matches!(who.caller.role.as_str(), "auditor" | "admin") {
                            a href="/ui/audit" { (t("Журнал аудита")) }
                        }
                        span { (role_label(who.caller)) " · " (who.caller.unit) }
                        @if let Some(token) = &who.csrf {
                            form.sign-out method="post" action="/ui/sign-out" {
                                input type="hidden" name="csrf" value=(token);
                                button type="submit" { (t("Выйти")) }
                            }
                        }
                    }
                }
                main #main { (body) }
                @if lang::lang() == koshi_forms::Lang::Kk {
                    footer.site lang="kk" {
                        p.muted {
                            span.unverified { "Нүктелі сызықпен" }
                            " белгіленген сөздердің қазақша аудармасы ресми мәтінмен әлі салыстырылмаған; "
                            "ресми терминдер глоссарий бойынша берілген. "
                            span lang="ru" { "Подчёркнутые пунктиром слова — непроверенный перевод." }
                        }
                    }
                }
            }
        }
    }
}

/// An instant as people read it: Almaty civil time, to the minute.
fn local_time(s: &Service, instant: &str) -> String {
    civil_text(s, instant, "%Y-%m-%d %H:%M")
}

/// An instant in Almaty civil time to the second (a case's timeline, its reads).
fn local_time_s(s: &Service, instant: &str) -> String {
    civil_text(s, instant, "%Y-%m-%d %H:%M:%S")
}

fn civil_text(s: &Service, instant: &str, format: &str) -> String {
    instant
        .parse::<jiff::Timestamp>()
        .map(|at| s.law().calendar.civil(at).strftime(format).to_string())
        .unwrap_or_else(|_| instant.to_string())
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
fn refused(p: impl Into<Problem>) -> Response {
    let p: Problem = p.into();
    if p.status == 401 {
        return Redirect::to("/ui/sign-in").into_response();
    }
    let status = p.status_code();
    html_response(
        status,
        page(
            &ts("Отказано"),
            None,
            html! { h1 { (t("Не удалось")) } p.error { (p.detail) } p { a href="/ui/queue" { (t("К очереди")) } } },
        ),
    )
}

fn sign_in_form(error: Option<&str>) -> Markup {
    page(
        &ts("Вход"),
        None,
        html! {
            h1 { (t("Вход для сотрудников")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/ui/sign-in" {
                p { label for="username" { (t("Имя пользователя")) } input #username name="username" autocomplete="username" required; }
                p { label for="password" { (t("Пароль")) } input #password name="password" type="password" autocomplete="current-password" required; }
                button type="submit" { (t("Войти")) }
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
        return html_response(
            StatusCode::BAD_REQUEST,
            sign_in_form(Some(&ts("Заполните имя и пароль."))),
        );
    };
    // A control character or an overlong text never reaches the accounts (a NUL failed on PostgreSQL).
    if crate::edge::check_form_text(&[("username", &form.username), ("password", &form.password)]).is_err() {
        return html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            sign_in_form(Some(&ts("Имя или пароль содержат недопустимые символы."))),
        );
    }
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
            // Each person lands on the page of their work: an administrator reads no cases.
            let home = if opened.user.role == "admin" {
                "/ui/admin"
            } else {
                "/ui/queue"
            };
            let mut r = Redirect::to(home).into_response();
            if let Some(v) = crate::session::session_set_cookie(&opened.secret) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(p) if p.kind == koshi_cases::Kind::TooMany => {
            html_response(StatusCode::TOO_MANY_REQUESTS, sign_in_form(Some(&p.detail)))
        }
        Err(_) => html_response(
            StatusCode::UNAUTHORIZED,
            sign_in_form(Some(&ts("Неверное имя пользователя или пароль."))),
        ),
    }
}

/// The person behind a page's session and the session's CSRF token, or the answer to give instead.
async fn session_caller(s: &Service, headers: &HeaderMap) -> Result<(Caller, String), Response> {
    let Some(secret) = crate::session::session_cookie(headers) else {
        return Err(Redirect::to("/ui/sign-in").into_response());
    };
    let Ok(Some((session, user))) = crate::accounts::session(&s.store, &secret, s.now()).await else {
        return Err(Redirect::to("/ui/sign-in").into_response());
    };
    Ok((Caller::of_account(user), session.csrf_token))
}

/// The session behind a page's cookie: its CSRF token, for the forms the page shows.
async fn csrf_of(s: &Service, headers: &HeaderMap) -> Option<String> {
    let secret = crate::session::session_cookie(headers)?;
    crate::accounts::session(&s.store, &secret, s.now())
        .await
        .ok()
        .flatten()
        .map(|(session, _)| session.csrf_token)
}

/// The auditor's record of who read a case's personal data, newest first, a page at a time.
async fn readers_page(
    State(s): State<Service>,
    caller: Result<Authed, Problem>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<std::collections::BTreeMap<String, String>>,
) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    let (rows, next) = match s
        .access_log(&caller, &id, q.get("before").map(String::as_str), 100)
        .await
    {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let body = html! {
        p { a href={ "/ui/cases/" (id) } { (t("← К делу")) } }
        h1 { (t("Кто читал дело")) }
        @if rows.is_empty() {
            p { (t("Чтений нет.")) }
        } @else {
            table {
                thead { tr { th scope="col" { (t("Когда")) } th scope="col" { (t("Кто")) } } }
                tbody { @for e in &rows { tr { td.date { (local_time_s(&s, &e.at)) } td { (e.actor) } } } }
            }
        }
        @if let Some(n) = &next {
            p { a href={ "/ui/cases/" (id) "/readers?before=" (n.replace('|', "%7C")) } { (t("Следующая страница")) } }
        }
    };
    let csrf = csrf_of(&s, &headers).await;
    html_response(
        StatusCode::OK,
        page(&ts("Кто читал дело"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}

async fn case_page(
    State(s): State<Service>,
    caller: Result<Authed, Problem>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    let v = match s.view_for(&caller, &id).await {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    // An officer may form the proposed act (п. 9-1): shown with its grounds, confirmed with a
    // reason, protected by the session's CSRF token.
    let proposed = v
        .decision
        .as_ref()
        .map(|d| d["proposed"].clone())
        .filter(|p| p.is_object());
    let may_decide = matches!(v.status.as_str(), "awaiting_confirmation" | "awaiting_officer")
        && s.authz
            .allow_case(&caller, "application.decide", &v.unit, &v.unit)
            .is_ok();
    let session_csrf = csrf_of(&s, &headers).await;
    let csrf = if may_decide { session_csrf.clone() } else { None };
    let approval = if approvals::may_approve(&s, &caller, &v) {
        session_csrf.as_deref().map(|token| approvals::section(&s, &v, token))
    } else {
        None
    };
    let law = s.law();
    // The auditor sees who read the case (the latest 50; the API pages the rest).
    let reads = if s.authz.allow(&caller, "access_log.read").is_ok() {
        match s.access_log(&caller, &v.id, None, 50).await {
            Ok((r, _)) => Some(r),
            Err(e) => return refused(e),
        }
    } else {
        None
    };
    let documents = s.case_documents(&caller, &id).await.unwrap_or_default();
    let clocks = match s.case_clocks(&caller, &id).await {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    let requests = if v.kind == "pr" {
        match s.agency_requests_of(&caller, &id).await {
            Ok(r) => r,
            Err(e) => return refused(e),
        }
    } else {
        Vec::new()
    };
    let work = casework::section(&s, &caller, &v, &requests, session_csrf.as_deref());
    let body = html! {
        p { a href="/ui/queue" { (t("← К очереди")) } }
        h1 { (service_label(&v.kind)) " · " (v.receipt.number) }
        dl.summary {
            dt { (t("Статус")) } dd { (status_text(&v.status)) @if v.overdue { " " span.badge.overdue { (t("Просрочено")) } } }
            dt { @if v.kind == "pr" { (t("Основание")) } @else { (t("Цель")) } } dd { (purpose_text(&s, &v.kind, &v.purpose)) }
            dt { (t("Канал")) } dd { (channel_label(&v.channel)) }
            dt { (t("Подразделение")) } dd { (v.unit) }
            dt { (t("Подано")) } dd { (local_time(&s, &v.filed_at)) }
            dt { (t("Принято")) } dd { (v.accepted_on.clone().unwrap_or_else(|| "—".into())) }
            dt { (t("Срок решения")) } dd { (v.due_on.clone().unwrap_or_else(|| "—".into())) }
            dt { (t("Редакция Правил")) } dd { (v.rules_version) }
        }
        @if let Some(a) = &approval { (a) }
        @if let Some(p) = &proposed {
            h2 { (t("Предложенное решение")) }
            p {
                strong { (match p["outcome"].as_str() { Some("issued") => ts("Выдать разрешение"), Some("refused") => ts("Отказать"), _ => "—".into() }) }
                " (" ([p["citation"].as_str(), p["form"].as_str()].into_iter().flatten().filter(|x| !x.is_empty()).collect::<Vec<_>>().join(", ")) ")"
            }
            @if let Some(grounds) = p["grounds"].as_array() {
                @if !grounds.is_empty() {
                    ul {
                        @for g in grounds {
                            li { (g["detail"].as_str().unwrap_or("")) " — " (g["citation"].as_str().unwrap_or("")) }
                        }
                    }
                }
            }
            @if let Some(token) = &csrf {
                form method="post" action={ "/ui/cases/" (v.id) "/decision" } {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="action" value="confirm";
                    p {
                        label for="comment" { (t("Основание решения (обязательно)")) }
                        input #comment name="comment" required minlength="3" maxlength="1000" size="60";
                    }
                    button type="submit" { (t("Подтвердить решение")) }
                }
            }
        }
        @if let Some(token) = &csrf {
            h2 { (t("Отказать по основанию закона")) }
            form method="post" action={ "/ui/cases/" (v.id) "/decision" } {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="action" value="refuse";
                p {
                    label for="ground" { (t("Основание")) }
                    select #ground name="ground" required {
                        option value="" { (t("— выберите —")) }
                        @for c in koshi_law::rvp::Check::ALL {
                            option value=(c.as_str()) { (check_label(c.as_str())) " (" (c.citation()) ")" }
                        }
                        @for g in &law.requirements.rvp_refusal_grounds {
                            option value=(g.id) {
                                (g.ru) " (" (g.citation) ")"
                                @if g.status.as_str() != "ok" { (t(" [источник: ")) (g.status.as_str()) "]" }
                            }
                        }
                    }
                }
                p { label for="detail" { (t("Установленные обстоятельства")) } input #detail name="detail" required minlength="3" maxlength="1000" size="60"; }
                p { label for="refuse-comment" { (t("Причина отказа (обязательно)")) } input #refuse-comment name="comment" required minlength="3" maxlength="1000" size="60"; }
                button type="submit" { (t("Отказать")) }
            }
        }
        @if !documents.is_empty() {
            h2 { (t("Документы")) }
            table {
                thead { tr { th scope="col" { (t("Документ")) } th scope="col" { (t("Номер")) } th scope="col" { (t("Код проверки")) } th scope="col" { (t("Печать")) } } }
                tbody {
                    @for d in &documents {
                        tr {
                            td { (d.title) @if let Some(a) = &d.appendix { (t(" (прил. ")) (a) ")" } }
                            td { (d.document.number) }
                            td { a href={ "/verify/" (d.document.code) } { (d.document.code) } }
                            td {
                                a href={ (d.document.href) "?lang=ru" } { (t("PDF рус.")) }
                                " · "
                                a href={ (d.document.href) "?lang=kk" } lang="kk" { (t("PDF қаз.")) }
                            }
                        }
                    }
                }
            }
        }
        (work)
        @if !clocks.is_empty() {
            h2 { (t("Сроки дела")) }
            table {
                thead { tr { th scope="col" { (t("Срок")) } th scope="col" { (t("Норма")) } th scope="col" { (t("Истекает")) } th scope="col" { (t("Состояние")) } } }
                tbody {
                    @for c in &clocks {
                        tr { td { (clock_label(&c.clock)) } td { (c.clock.citation()) } td.date { (local_time(&s, &c.due_at)) } td { (clock_state(&c.state)) } }
                    }
                }
            }
        }
        @if !v.checks.is_empty() {
            h2 { (t("Проверки (п. 9-1)")) }
            table {
                thead { tr { th scope="col" { (t("Проверка")) } th scope="col" { (t("Результат")) } th scope="col" { (t("Источник")) } th scope="col" { (t("Когда")) } th scope="col" { (t("Норма")) } } }
                tbody {
                    @for c in &v.checks {
                        tr { td { (check_label(&c.check)) } td { (c.state) } td { (c.source) } td { (c.checked_at.as_deref().map(|at| local_time(&s, at)).unwrap_or_default()) } td { (c.citation) } }
                    }
                }
            }
        }
        @if let Some(reads) = &reads {
            h2 { (t("Кто читал дело")) }
            table {
                thead { tr { th scope="col" { (t("Когда")) } th scope="col" { (t("Кто")) } } }
                tbody { @for e in reads { tr { td { (local_time_s(&s, &e.at)) } td { (e.actor) } } } }
            }
            p { a href={ "/ui/cases/" (v.id) "/readers" } { (t("Все чтения дела")) } }
        }
        h2 { (t("Ход дела")) }
        table {
            thead { tr { th scope="col" { (t("Когда")) } th scope="col" { (t("Действие")) } th scope="col" { (t("Кто")) } th scope="col" { (t("Норма")) } } }
            tbody {
                @for e in &v.events {
                    tr { td { (local_time_s(&s, &e.at)) } td { (e.action) } td { (e.actor) } td { (e.citation) } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        page(&ts("Дело"), Some(SignedIn::new(&s, &caller, session_csrf)), body),
    )
}

#[derive(serde::Deserialize)]
struct DecisionForm {
    csrf: String,
    action: String,
    comment: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    detail: String,
}

/// The officer confirms the proposed act from the case page: the session's CSRF token must come
/// with the form, and a reason with the decision; then back to the case.
async fn confirm_decision(
    State(s): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (caller, csrf) = match session_caller(&s, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = serde_urlencoded::from_bytes::<DecisionForm>(&body).ok();
    let Some(form) = form.filter(|f| crate::accounts::same_secret(&f.csrf, &csrf)) else {
        return refused(Problem::new(
            StatusCode::FORBIDDEN,
            "csrf_token_invalid",
            "the form is not this session's; open the case again",
        ));
    };
    if let Err(p) = crate::edge::check_form_text(&[
        ("comment", &form.comment),
        ("ground", &form.ground),
        ("detail", &form.detail),
    ]) {
        return refused(p);
    }
    let comment = form.comment.trim().to_string();
    if comment.chars().count() < 3 || !matches!(form.action.as_str(), "confirm" | "refuse") {
        return refused(Problem::unprocessable(
            "reason_required",
            "/comment",
            "a decision needs its reason (at least 3 characters)",
        ));
    }
    // A refusal names its ground of law and the facts found (п. 9-3); the service checks both.
    let grounds = if form.action == "refuse" {
        vec![crate::model::OfficerGround {
            check: form.ground.trim().to_string(),
            detail: form.detail.trim().to_string(),
        }]
    } else {
        Vec::new()
    };
    if let Err(p) = s.authz.allow(&caller, "application.decide") {
        return refused(p);
    }
    let d = crate::model::DecisionRequest {
        action: form.action.clone(),
        valid_until: None,
        grounds,
        set_aside: Vec::new(),
        comment: Some(comment),
    };
    match s.decide(&caller, &id, d).await {
        Ok(_) => Redirect::to(&format!("/ui/cases/{id}")).into_response(),
        Err(p) => refused(p),
    }
}

#[derive(serde::Deserialize)]
struct SignOutForm {
    csrf: String,
}

/// Ends the session (with its CSRF token, so that another site cannot sign a person out) and
/// clears the cookie.
async fn sign_out(State(s): State<Service>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let mut r = Redirect::to("/ui/sign-in").into_response();
    if let Some(secret) = crate::session::session_cookie(&headers)
        && let Ok(Some((session, _))) = crate::accounts::session(&s.store, &secret, s.now()).await
    {
        let valid = serde_urlencoded::from_bytes::<SignOutForm>(&body)
            .is_ok_and(|f| crate::accounts::same_secret(&f.csrf, &session.csrf_token));
        if !valid {
            return refused(Problem::new(
                StatusCode::FORBIDDEN,
                "csrf_token_invalid",
                "the form is not this session's",
            ));
        }
        if let Err(p) = crate::accounts::sign_out(&s.store, &secret, s.now()).await {
            return refused(p);
        }
    }
    r.headers_mut()
        .insert(header::SET_COOKIE, crate::session::session_cleared_cookie());
    r
}

/// The auditor's page: the whole audit chain verified now (hash by hash, in order).
async fn audit_page(State(s): State<Service>, caller: Result<Authed, Problem>, headers: HeaderMap) -> Response {
    let caller = match caller {
        Ok(Authed(c)) => c,
        Err(e) => return refused(e),
    };
    if let Err(p) = s.authz.allow(&caller, "audit.verify") {
        return refused(p);
    }
    let report = match s.store.verify_audit().await {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    let body = html! {
        h1 { (t("Журнал аудита")) }
        @match &report.first_broken {
            None => p { strong { (t("Цепочка не нарушена.")) } (t(" Проверено записей: ")) (report.entries) "." },
            Some(b) => p.error role="alert" { (t("Цепочка нарушена на записи ")) (b.seq) " (" (b.id) "): " (b.reason) },
        }
        p.muted { (t("Хэш последней записи: ")) code { (report.head_hash) } }
    };
    let csrf = csrf_of(&s, &headers).await;
    html_response(
        StatusCode::OK,
        page(&ts("Журнал аудита"), Some(SignedIn::new(&s, &caller, csrf)), body),
    )
}

#[cfg(test)]
mod tests {
    /// Every status a case can have is shown in Russian, never as its code.
    #[test]
    fn every_status_has_a_russian_label() {
        for status in koshi_law::status::Status::ALL {
            let code = status.as_str();
            assert!(super::labels::status_label(code).is_some(), "{code} has no label");
        }
    }
}
