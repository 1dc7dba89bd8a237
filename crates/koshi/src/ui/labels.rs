//! How the pages name what the case core holds as codes: statuses, services, channels, the
//! checks of п. 9-1, purposes and grounds, and who is signed in — in the page's language.

use maud::{Markup, html};

use super::lang::{t, w};
use crate::service::{Caller, Service};

pub(crate) fn status_words(s: &str) -> Option<&'static str> {
    match s {
        "checking" => Some(w("Проверка")),
        "awaiting_confirmation" => Some(w("Ожидает решения сотрудника")),
        "awaiting_officer" => Some(w("Требует рассмотрения")),
        "issued" => Some(w("Выдано")),
        "refused" => Some(w("Отказано")),
        "refused_to_accept" => Some(w("Отказано в приеме")),
        "registered" => Some(w("Зарегистрировано")),
        "awaiting_answers" => Some(w("Запросы направлены")),
        "conclusion_due" => Some(w("Ожидает заключения")),
        "hearing_required" => Some(w("Требуется заслушивание")),
        "hearing_notified" => Some(w("Назначено заслушивание")),
        "conclusion_drafted" => Some(w("Заключение на утверждении")),
        "annulment_hearing_required" => Some(w("Аннулирование: требуется заслушивание")),
        "annulment_hearing_notified" => Some(w("Аннулирование: назначено заслушивание")),
        "annulment_drafted" => Some(w("Аннулирование на утверждении")),
        "annulled" => Some(w("Аннулировано")),
        "withdrawn" => Some(w("Отозвано")),
        _ => None,
    }
}

/// A status in the page's language.
pub(crate) fn status_label(s: &str) -> Option<Markup> {
    status_words(s).map(t)
}

/// An RVP purpose or a PR ground by its name in the requirements, with its code.
pub(super) fn purpose_text(s: &Service, service: &str, code: &str) -> String {
    let law = s.law();
    let name = if service == "pr" {
        law.requirements.pr_ground(code).map(|g| g.ru.clone())
    } else {
        law.requirements.purpose(code).map(|p| p.ru.clone())
    };
    match name {
        Some(n) => format!("{n} ({code})"),
        None => code.to_string(),
    }
}

/// Who is signed in, as a person reads it: the post a head holds (п. 15), else the role.
pub(super) fn role_label(c: &Caller) -> Markup {
    match c.post.as_deref().and_then(koshi_law::pr::Post::parse) {
        Some(p) if p != koshi_law::pr::Post::Other => html! { (p.ru()) },
        _ => match c.role.as_str() {
            "officer" => t("сотрудник миграционной полиции"),
            "con_operator" => t("работник Государственной корпорации"),
            "auditor" => t("аудитор"),
            "admin" => t("администратор"),
            other => html! { (other) },
        },
    }
}

/// The channel a filing came by (п. 3).
pub(super) fn channel_label(c: &str) -> Markup {
    match c {
        "police_desk" => t("Подразделение миграционной полиции"),
        "con" => t("Государственная корпорация (ЦОН)"),
        "portal" => t("Портал «электронного правительства»"),
        other => html! { (other) },
    }
}

pub(super) fn status_text(s: &str) -> Markup {
    status_label(s).unwrap_or_else(|| html! { (s) })
}

pub(super) fn check_label(c: &str) -> Markup {
    match c {
        "completeness" => t("Полнота пакета документов"),
        "border_crossings" => t("Законный въезд (пересечение границы)"),
        "records" => t("Судимость, розыск, неоплаченные штрафы"),
        "iin" => t("ИИН"),
        "household_quota" => t("Число РВП для домашнего труда"),
        "pending_pr" => t("Незавершенное заявление на ПМЖ"),
        "fingerprints" => t("Дактилоскопическая регистрация"),
        other => html! { (other) },
    }
}

pub(super) fn service_label(s: &str) -> Markup {
    match s {
        "rvp" => t("РВП"),
        "pr" => t("ПМЖ"),
        other => html! { (other) },
    }
}

/// A legal clock of the Rules by its term.
pub(super) fn clock_label(c: &koshi_law::clocks::LegalClock) -> Markup {
    use koshi_law::clocks::LegalClock as C;
    match c {
        C::RvpTerm => t("Рассмотрение заявления на РВП"),
        C::SendToUms => t("Направление дела в УМС ДП"),
        C::Conclusion => t("Заключение"),
        C::ServiceTerm => t("Срок оказания услуги"),
        C::AnswerDue(a) => html! { (t("Ответ органа: ")) (agency_label(a.code())) },
        C::Notification => t("Письменное уведомление заявителя"),
        C::ConDelivery => t("Передача результата в Госкорпорацию"),
        C::ExitDeadline => t("Выезд после аннулирования"),
        C::Age16(_) => t("Заявление по достижении 16 лет"),
    }
}

/// A clock's state: running, ended unmet, or stopped by its act.
pub(super) fn clock_state(s: &str) -> Markup {
    match s {
        "pending" => t("идёт"),
        "fired" => t("истёк"),
        "cancelled" => t("остановлен"),
        other => html! { (other) },
    }
}

/// An agency of п. 14 in words.
pub(super) fn agency_label(code: &str) -> Markup {
    match code {
        "ums_dp" => t("УМС ДП"),
        "bank" => t("Банк (платёжеспособность)"),
        "police_records" => t("Органы внутренних дел (учёты)"),
        "kpsisu" => t("КПСиСУ"),
        "national_security" => t("Органы национальной безопасности"),
        other => html! { (other) },
    }
}
