//! The public check of a document (issue 16): `/verify/{code}` (the QR code's address) and
//! `/verify` (the check by number and the holder's IIN). No sign-in, rate-limited with the other
//! public routes; shows less than the paper: a permit's standing, the holder's initials (the
//! full name only to someone who gives the IIN).

use super::lang::{t, ts};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::{html_response, page};
use crate::model::Verification;
use crate::service::Service;

fn status_ru(s: &str) -> Markup {
    match s {
        "valid" => t("Действительно"),
        "not_yet_valid" => t("Ещё не вступило в силу"),
        "expired" => t("Срок действия истёк"),
        "annulled" => t("Аннулировано"),
        "issued" => t("Выдан"),
        _ => html! { "—" },
    }
}

fn result(v: &Verification) -> Markup {
    let bad = matches!(v.status.as_str(), "expired" | "annulled");
    html! {
        div.verdict.(if bad { "bad" } else { "good" }) role="status" {
            p.big { (t("Документ подлинный: выдан в ИС МП")) }
            p.big { strong { (status_ru(&v.status)) } }
        }
        dl.summary {
            dt { (t("Документ")) } dd { (v.title) @if let Some(a) = &v.appendix { (t(" (приложение ")) (a) (t(" к Правилам)")) } }
            dt { (t("Номер")) } dd { (v.number) }
            dt { (t("Дата выдачи")) } dd { (v.issued_on) }
            dt { (t("Выдан")) } dd { (v.issuer) }
            @if let Some(from) = &v.valid_from { dt { (t("Действительно с")) } dd { (from) } }
            @if let Some(until) = &v.valid_until { dt { (t("Действительно по")) } dd { (until) } }
            @if let Some(h) = &v.holder { dt { (t("Владелец")) } dd { (h) } }
            dt { (t("Проверено")) } dd { (v.checked_at) }
        }
        p.muted { (t("Сверьте номер, даты и имя с документом и удостоверением личности владельца. Подпись документа проверяется офлайн по ключам /.well-known/koshi/document-keys.json (koshi verify).")) }
    }
}

fn not_found_page() -> Response {
    html_response(
        StatusCode::NOT_FOUND,
        page(
            &ts("Проверка документа"),
            None,
            html! {
                h1 { (t("Проверка документа")) }
                div.verdict.bad role="status" { p.big { (t("Документ не найден")) } }
                p { (t("Такой документ в ИС МП не выдавался. Проверьте код (или номер и ИИН) и попробуйте снова.")) }
                (form(None))
            },
        ),
    )
}

fn form(error: Option<&str>) -> Markup {
    html! {
        h2 { (t("Проверить по номеру документа и ИИН")) }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/verify" {
            p { label for="number" { (t("Номер документа")) } input #number name="number" required maxlength="64" autocomplete="off"; }
            p { label for="iin" { (t("ИИН владельца")) } input #iin name="iin" required inputmode="numeric" pattern="[0-9]{12}" maxlength="12" autocomplete="off"; }
            button type="submit" { (t("Проверить")) }
        }
    }
}

pub(super) async fn verify_page() -> Response {
    html_response(
        StatusCode::OK,
        page(
            &ts("Проверка документа"),
            None,
            html! {
                h1 { (t("Проверка документа")) }
                p { (t("Откройте адрес из QR-кода документа или введите его номер и ИИН владельца.")) }
                (form(None))
            },
        ),
    )
}

/// The page of a check's outcome: genuine, not found, or the reason it could not be made.
fn answer(outcome: Result<Option<Verification>, koshi_cases::CaseError>) -> Response {
    match outcome {
        Ok(Some(v)) => html_response(
            StatusCode::OK,
            page(
                &ts("Проверка документа"),
                None,
                html! { h1 { (t("Проверка документа")) } (result(&v)) },
            ),
        ),
        Ok(None) => not_found_page(),
        Err(e) => super::refused(e),
    }
}

pub(super) async fn verify_code_page(State(s): State<Service>, Path(code): Path<String>) -> Response {
    answer(s.verify_code(&code).await)
}

#[derive(Debug, Deserialize)]
pub(super) struct ByNumber {
    number: String,
    iin: String,
}

pub(super) async fn verify_number_page(State(s): State<Service>, body: Bytes) -> Response {
    let Ok(q) = serde_urlencoded::from_bytes::<ByNumber>(&body) else {
        return html_response(
            StatusCode::BAD_REQUEST,
            page(
                &ts("Проверка документа"),
                None,
                html! { h1 { (t("Проверка документа")) } (form(Some(&ts("Укажите номер документа и ИИН.")))) },
            ),
        );
    };
    answer(s.verify_number(&q.number, &q.iin).await)
}
