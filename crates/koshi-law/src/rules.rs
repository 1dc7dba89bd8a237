//! The catalogue of implemented rules: what `koshi rules` lists and the traceability table
//! (docs/traceability.md) follows.

/// One implemented rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: &'static str,
    pub citation: &'static str,
    pub summary: &'static str,
    /// The function (module path) that implements it.
    pub implemented_in: &'static str,
}

pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "rules.version",
        citation: "п. 1",
        summary: "Each outcome carries the version of the Rules in force on its date; amendments take effect on the 11th day after publication",
        implemented_in: "citation::version_on",
    },
    RuleInfo {
        id: "ident.iin",
        citation: "п. 2 пп. 16",
        summary: "IIN: 12 digits, check digit (two weight passes), birth date, century and sex when consistent",
        implemented_in: "ident::Iin::parse",
    },
    RuleInfo {
        id: "ident.bin",
        citation: "п. 2 пп. 23",
        summary: "BIN of a legal-entity inviting party: 12 digits, check digit, registration month",
        implemented_in: "ident::Bin::parse",
    },
    RuleInfo {
        id: "calendar.working_day",
        citation: "App. 1-1 п. 7; Law No. 267-II; Labour Code art. 84–85",
        summary: "Working days from dated data: holidays, weekend carry-over (not for 7 January and Kurban Ait), ministerial transfers",
        implemented_in: "calendar::WorkingCalendar::status",
    },
    RuleInfo {
        id: "calendar.service_clock",
        citation: "п. 7 абз. 2; п. 8",
        summary: "A filing after 18:30, on a weekend or a holiday is taken on the next working day; the day of acceptance is not counted",
        implemented_in: "calendar::WorkingCalendar::deadline",
    },
    RuleInfo {
        id: "rvp.term",
        citation: "п. 9",
        summary: "The RVP is decided within one working day after the day of acceptance",
        implemented_in: "terms::RVP_TERM_WORKING_DAYS",
    },
    RuleInfo {
        id: "rvp.inviting_party",
        citation: "п. 4; п. 2 пп. 23; Law on Migration art. 6-1",
        summary: "Who may invite for each purpose: individuals, legal entities, the AIFC Administration (visa-free states only), the local executive body (trafficking victims, business immigrants)",
        implemented_in: "requirements::inviting_party_allowed",
    },
    RuleInfo {
        id: "rvp.purposes",
        citation: "п. 5; App. 1-1 п. 8",
        summary: "Purposes of stay with their basis documents (configuration: requirements.toml)",
        implemented_in: "requirements::Requirements::purposes",
    },
    RuleInfo {
        id: "rvp.intake",
        citation: "п. 6; п. 7; App. 1-1 п. 8",
        summary: "Complete and unexpired package → receipt of acceptance (App. 1-2); otherwise refusal to accept (App. 1-3) naming each missing or expired document",
        implemented_in: "requirements::Requirements::check_rvp_package",
    },
    RuleInfo {
        id: "rvp.channel",
        citation: "п. 5 абз. 2–3; п. 7; п. 8",
        summary: "Portal needs an ЭЦП and scanned copies, no representative; ЦОН attaches electronic copies; registry data replaces documents where integrated",
        implemented_in: "requirements::Channel::rules",
    },
    RuleInfo {
        id: "rvp.age16",
        citation: "п. 5 абз. 4",
        summary: "An immigrant turning 16 in Kazakhstan applies within 10 calendar days of the birthday",
        implemented_in: "terms::age16",
    },
    RuleInfo {
        id: "rvp.late_application",
        citation: "п. 9-1 абз. 12–14",
        summary: "After the stay expired, documents are accepted only with an outage act or an art. 517 fine for at most 10 days of overstay",
        implemented_in: "rvp::late_application",
    },
    RuleInfo {
        id: "rvp.check.border",
        citation: "п. 9-1 пп. 2",
        summary: "«Беркут» must hold a lawful entry",
        implemented_in: "rvp::judge_border",
    },
    RuleInfo {
        id: "rvp.check.records",
        citation: "п. 9-1 пп. 3",
        summary: "No conviction, wanted status or unpaid penalty from an earlier stay",
        implemented_in: "rvp::judge_records",
    },
    RuleInfo {
        id: "rvp.check.iin",
        citation: "п. 9-1 пп. 4",
        summary: "The immigrant and family members arriving together have IINs",
        implemented_in: "rvp::judge_iin",
    },
    RuleInfo {
        id: "rvp.check.household_quota",
        citation: "п. 9-1 пп. 5; Law on Migration art. 43-2 п. 5",
        summary: "The employer's valid household-work RVPs stay under the configured limit (the law's figure is configuration)",
        implemented_in: "rvp::judge_household_quota",
    },
    RuleInfo {
        id: "rvp.check.pending_pr",
        citation: "п. 9-1 пп. 6",
        summary: "No pending PR application",
        implemented_in: "rvp::judge_pending_pr",
    },
    RuleInfo {
        id: "rvp.check.fingerprints",
        citation: "п. 9-1 пп. 7",
        summary: "Fingerprint registration exists",
        implemented_in: "rvp::judge_fingerprints",
    },
    RuleInfo {
        id: "rvp.decision",
        citation: "п. 9-1 абз. 8; п. 9-3",
        summary: "No ground → the RVP is formed (App. 2); any ground → motivated refusal (App. 2-1) citing each ground",
        implemented_in: "rvp::decide",
    },
    RuleInfo {
        id: "rvp.validity",
        citation: "п. 2 пп. 32; п. 2 пп. 19; App. 1-1 п. 8",
        summary: "Validity from purpose, basis document and request, never beyond the passport",
        implemented_in: "rvp::validity",
    },
    RuleInfo {
        id: "rvp.outage_journal",
        citation: "п. 9-5",
        summary: "An outage delaying messages by more than one hour goes into the special journal",
        implemented_in: "terms::outage_must_be_journaled",
    },
    RuleInfo {
        id: "pr.grounds",
        citation: "п. 11",
        summary: "PR grounds: PR visa, investor visa, in-demand profession visa, visa-free state, refugee, ethnic Kazakh",
        implemented_in: "requirements::Requirements::pr_grounds",
    },
    RuleInfo {
        id: "pr.intake",
        citation: "п. 12; п. 13; п. 16-1; App. 3",
        summary: "Complete package, passport valid more than 180 days, certificates at most 180 days old; otherwise refusal to accept (App. 6 / App. 7)",
        implemented_in: "requirements::Requirements::check_pr_package",
    },
    RuleInfo {
        id: "pr.stage_terms",
        citation: "п. 14",
        summary: "Stage terms 2, 5, 7 days; national security 25 days; conclusion 10 days after the last answer; notice 3 days; each from its starting event, capped by the service term",
        implemented_in: "terms::pr_stage_due",
    },
    RuleInfo {
        id: "pr.service_term",
        citation: "App. 3 п. 3",
        summary: "The PR service term is 60 calendar days (parameter)",
        implemented_in: "terms::pr_service_due",
    },
    RuleInfo {
        id: "pr.con_delivery",
        citation: "п. 15 абз. 1",
        summary: "Via a ЦОН the result reaches it at least one day before the term ends",
        implemented_in: "terms::con_delivery_due",
    },
    RuleInfo {
        id: "pr.approval_authority",
        citation: "п. 15 абз. 2",
        summary: "Only the head of the police department or a deputy, the head of a city/district police body or the head of УМС ДП approves a conclusion",
        implemented_in: "pr::may_approve",
    },
    RuleInfo {
        id: "pr.solvency",
        citation: "App. 3; Law on Migration art. 49 пп. 4",
        summary: "1,320 MCI plus 15 m² per family member unless housing is contracted; exempt categories",
        implemented_in: "pr::solvency",
    },
    RuleInfo {
        id: "pr.hearing",
        citation: "п. 17",
        summary: "Hearing notice at least 3 working days before the act; hearing within 2 working days of the notice",
        implemented_in: "terms::check_hearing_date",
    },
    RuleInfo {
        id: "pr.annulment_exit",
        citation: "п. 20",
        summary: "Leave within 30 calendar days of the approval of the annulment",
        implemented_in: "terms::annulment_exit_by",
    },
    RuleInfo {
        id: "pr.exit_rvp",
        citation: "п. 21",
        summary: "An RVP for the time needed to leave",
        implemented_in: "rvp::exit_rvp",
    },
    RuleInfo {
        id: "pr.reapplication_bar",
        citation: "п. 22",
        summary: "A new application not earlier than one year after a refusal or annulment (the anniversary is allowed)",
        implemented_in: "terms::reapplication_earliest",
    },
];
