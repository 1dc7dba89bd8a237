//! Who may apply, with which documents, and whether a package is accepted on the day it is
//! handed in (п. 4–8, 11–13, 16-1; App. 1-1 п. 8; App. 3). The lists are configuration
//! (`data/requirements.toml`) because several entries rest on secondary sources.

use std::collections::{BTreeSet, HashMap};

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use crate::citation::Citation;

pub const BUILTIN_REQUIREMENTS: &str = include_str!("../data/requirements.toml");

/// How well a requirement is established (legal-facts conventions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    Secondary,
    NotFound,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceStatus::Ok => "ok",
            SourceStatus::Secondary => "secondary",
            SourceStatus::NotFound => "not_found",
        }
    }
}

/// The three channels of п. 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The territorial police body («услугодатель»), п. 6.
    PoliceDesk,
    /// The State Corporation (ЦОН), п. 7.
    Con,
    /// The e-gov portal with an ЭЦП, п. 8.
    Portal,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "police_desk" => Some(Channel::PoliceDesk),
            "con" => Some(Channel::Con),
            "portal" => Some(Channel::Portal),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::PoliceDesk => "police_desk",
            Channel::Con => "con",
            Channel::Portal => "portal",
        }
    }
    /// What the channel demands of a package, and why.
    pub fn rules(self) -> ChannelRules {
        match self {
            Channel::PoliceDesk => ChannelRules {
                requires_signature: false,
                requires_electronic_copies: false,
                registry_data_replaces_documents: false,
                allows_representative: true,
                citation: Citation::new("п. 5 абз. 2; п. 6"),
            },
            Channel::Con => ChannelRules {
                requires_signature: false,
                requires_electronic_copies: true,
                registry_data_replaces_documents: true,
                allows_representative: true,
                citation: Citation::new("п. 5 абз. 2–3; п. 7"),
            },
            Channel::Portal => ChannelRules {
                requires_signature: true,
                requires_electronic_copies: true,
                registry_data_replaces_documents: true,
                allows_representative: false,
                citation: Citation::new("п. 5 абз. 3; п. 8"),
            },
        }
    }
}

/// Channel differences: the portal needs an ЭЦП and scanned copies (п. 8); a ЦОН operator
/// attaches electronic copies (п. 7); where ИИС ЦОН or the portal is integrated with a registry
/// the data is taken from it and the document is not asked for (п. 5 абз. 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRules {
    pub requires_signature: bool,
    pub requires_electronic_copies: bool,
    pub registry_data_replaces_documents: bool,
    pub allows_representative: bool,
    pub citation: Citation,
}

/// Who the inviting party («принимающее лицо», п. 2 пп. 23, п. 4, Law art. 6-1) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    Citizen,
    PermanentResident,
    LegalEntity,
    EducationalOrganisation,
    HealthOrganisation,
    ReligiousOrganisation,
    LocalExecutiveBody,
    AifcAdministration,
}

impl PartyKind {
    pub const ALL: [PartyKind; 8] = [
        PartyKind::Citizen,
        PartyKind::PermanentResident,
        PartyKind::LegalEntity,
        PartyKind::EducationalOrganisation,
        PartyKind::HealthOrganisation,
        PartyKind::ReligiousOrganisation,
        PartyKind::LocalExecutiveBody,
        PartyKind::AifcAdministration,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PartyKind::Citizen => "citizen",
            PartyKind::PermanentResident => "permanent_resident",
            PartyKind::LegalEntity => "legal_entity",
            PartyKind::EducationalOrganisation => "educational_organisation",
            PartyKind::HealthOrganisation => "health_organisation",
            PartyKind::ReligiousOrganisation => "religious_organisation",
            PartyKind::LocalExecutiveBody => "local_executive_body",
            PartyKind::AifcAdministration => "aifc_administration",
        }
    }
    pub fn parse(s: &str) -> Option<PartyKind> {
        PartyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// Individuals are identified by IIN, everyone else by BIN.
    pub fn is_individual(self) -> bool {
        matches!(self, PartyKind::Citizen | PartyKind::PermanentResident)
    }
}

/// One document requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRequirement {
    pub kind: String,
    pub citation: Citation,
    pub status: SourceStatus,
    /// Required only when all these facts hold.
    pub when: Vec<String>,
    /// Not required when any of these facts holds.
    pub unless: Vec<String>,
    /// The registry whose data replaces the document where the channel is integrated.
    pub from_registry: Option<String>,
    /// `passport` or `basis`: the documents that bound the permit's validity.
    pub role: Option<String>,
    /// The document must remain valid at least this many days after filing.
    pub min_valid_days: Option<u32>,
    /// The document must have been issued at most this many days before filing.
    pub max_age_days: Option<u32>,
}

/// The most a permit for a purpose may run, where a source says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxTerm {
    pub months: u32,
    pub status: SourceStatus,
    pub source: String,
}

/// A purpose of stay (RVP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    pub id: String,
    pub ru: String,
    pub en: String,
    pub parties: Vec<PartyKind>,
    pub party_citation: Citation,
    pub documents: Vec<DocumentRequirement>,
    pub max_term: Option<MaxTerm>,
    /// Household work: the per-employer limit of п. 9-1 пп. 5 applies.
    pub household: bool,
    /// п. 4 абз. 2: the AIFC Administration invites only immigrants from visa-free states.
    pub requires_visa_free_state: bool,
}

/// A PR ground of п. 11.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrGround {
    pub id: String,
    pub ru: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentKind {
    pub kind: String,
    pub ru: String,
    pub en: String,
}

/// The loaded requirements.
#[derive(Debug, Clone)]
pub struct Requirements {
    pub documents: Vec<DocumentKind>,
    pub rvp_common: Vec<DocumentRequirement>,
    pub purposes: Vec<Purpose>,
    pub pr_common: Vec<DocumentRequirement>,
    pub pr_grounds: Vec<PrGround>,
    /// Grounds of law on which an officer refuses an RVP besides the seven checks of п. 9-1
    /// (п. 9-3; Law on Public Services art. 19-1), each with the status of its source.
    pub rvp_refusal_grounds: Vec<RefusalGround>,
    /// Who need not prove solvency for PR (Law on Migration art. 49 пп. 4), and by what proof.
    pub pr_solvency_exemptions: Vec<SolvencyExemption>,
}

/// A category exempt from the PR solvency requirement: it holds when the PR ground is one of
/// `grounds`, or a document of one of `documents` is in the package; never on the filer's word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolvencyExemption {
    pub id: String,
    pub citation: String,
    pub status: SourceStatus,
    pub grounds: Vec<String>,
    pub documents: Vec<String>,
}

/// A ground of refusal an officer may cite (`[[rvp.refusal_ground]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalGround {
    pub id: String,
    pub citation: String,
    pub status: SourceStatus,
    pub ru: String,
    pub en: String,
}

/// A requirements file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RequirementsFileError {
    pub line: usize,
    pub message: String,
}

/// A document handed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedDocument {
    pub kind: String,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    pub has_electronic_copy: bool,
}

/// What intake looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package<'a> {
    pub channel: Channel,
    pub filed_on: Date,
    /// Facts named in `when`/`unless` conditions.
    pub facts: &'a BTreeSet<String>,
    pub documents: &'a [SubmittedDocument],
    /// Registries integrated with the channel (ИИС ЦОН, the portal), from configuration.
    pub integrated_registries: &'a BTreeSet<String>,
}

/// Why a package is refused on the spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeGround {
    /// `missing_document`, `expired_document`, `document_too_old`, `validity_too_short`,
    /// `missing_electronic_copy`, `representative_not_allowed`.
    pub code: &'static str,
    pub document: String,
    pub citation: Citation,
    pub detail: String,
}

impl Requirements {
    pub fn builtin() -> Result<Requirements, RequirementsFileError> {
        Requirements::from_toml(BUILTIN_REQUIREMENTS)
    }

    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    pub fn pr_ground(&self, id: &str) -> Option<&PrGround> {
        self.pr_grounds.iter().find(|g| g.id == id)
    }

    pub fn document(&self, kind: &str) -> Option<&DocumentKind> {
        self.documents.iter().find(|d| d.kind == kind)
    }

    pub fn from_toml(text: &str) -> Result<Requirements, RequirementsFileError> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawRequirements = toml::from_str(text).map_err(|e| RequirementsFileError {
            line: e.span().map(|s| line_of(s.start)).unwrap_or(1),
            message: e.message().trim().to_string(),
        })?;
        let err = |span: std::ops::Range<usize>, message: String| RequirementsFileError {
            line: line_of(span.start),
            message,
        };
        if raw.schema != 1 {
            return Err(RequirementsFileError {
                line: 1,
                message: format!("unsupported schema {}", raw.schema),
            });
        }
        let mut kinds = HashMap::new();
        let mut documents = Vec::new();
        for d in raw.document {
            if kinds.insert(d.kind.get_ref().clone(), ()).is_some() {
                return Err(err(
                    d.kind.span(),
                    format!("document kind {:?} is declared twice", d.kind.get_ref()),
                ));
            }
            documents.push(DocumentKind {
                kind: d.kind.into_inner(),
                ru: d.ru,
                en: d.en,
            });
        }
        let conv = |list: Vec<RawDoc>| -> Result<Vec<DocumentRequirement>, RequirementsFileError> {
            list.into_iter()
                .map(|d| {
                    if !kinds.contains_key(d.kind.get_ref()) {
                        return Err(err(
                            d.kind.span(),
                            format!("unknown document kind {:?}", d.kind.get_ref()),
                        ));
                    }
                    if let Some(r) = &d.role
                        && r != "passport"
                        && r != "basis"
                    {
                        return Err(err(d.kind.span(), format!("role {r:?} is not passport or basis")));
                    }
                    Ok(DocumentRequirement {
                        kind: d.kind.into_inner(),
                        citation: Citation::owned(d.citation),
                        status: d.status,
                        when: d.when,
                        unless: d.unless,
                        from_registry: d.from_registry,
                        role: d.role,
                        min_valid_days: d.min_valid_days,
                        max_age_days: d.max_age_days,
                    })
                })
                .collect()
        };
        let rvp_common = conv(raw.rvp.common)?;
        let mut purposes = Vec::new();
        for p in raw.rvp.purpose {
            if purposes.iter().any(|q: &Purpose| q.id == *p.id.get_ref()) {
                return Err(err(
                    p.id.span(),
                    format!("purpose {:?} is declared twice", p.id.get_ref()),
                ));
            }
            if p.parties.is_empty() {
                return Err(err(
                    p.id.span(),
                    "a purpose needs at least one kind of inviting party".into(),
                ));
            }
            purposes.push(Purpose {
                id: p.id.into_inner(),
                ru: p.ru,
                en: p.en,
                parties: p.parties,
                party_citation: Citation::owned(p.party_citation),
                documents: conv(p.documents)?,
                max_term: p.max_term.map(|m| MaxTerm {
                    months: m.months,
                    status: m.status,
                    source: m.source,
                }),
                household: p.household,
                requires_visa_free_state: p.requires_visa_free_state,
            });
        }
        let rvp_refusal_grounds = raw
            .rvp
            .refusal_ground
            .into_iter()
            .map(|g| RefusalGround {
                id: g.id,
                citation: g.citation,
                status: g.status,
                ru: g.ru,
                en: g.en,
            })
            .collect();
        let mut pr_solvency_exemptions = Vec::new();
        for e in raw.pr.solvency_exemption {
            for kind in &e.documents {
                if !documents.iter().any(|d: &DocumentKind| &d.kind == kind) {
                    return Err(RequirementsFileError {
                        line: 1,
                        message: format!("solvency exemption {}: unknown document kind {kind}", e.id),
                    });
                }
            }
            pr_solvency_exemptions.push(SolvencyExemption {
                id: e.id,
                citation: e.citation,
                status: e.status,
                grounds: e.grounds,
                documents: e.documents,
            });
        }
        let pr_common = conv(raw.pr.common)?;
        let pr_grounds = raw
            .pr
            .ground
            .into_iter()
            .map(|g| PrGround {
                id: g.id,
                ru: g.ru,
                en: g.en,
            })
            .collect();
        Ok(Requirements {
            documents,
            rvp_common,
            purposes,
            pr_common,
            pr_grounds,
            rvp_refusal_grounds,
            pr_solvency_exemptions,
        })
    }

    /// The documents an RVP package for `purpose` must contain, given the facts and channel.
    pub fn rvp_required<'a>(&'a self, purpose: &'a Purpose) -> impl Iterator<Item = &'a DocumentRequirement> {
        self.rvp_common.iter().chain(purpose.documents.iter())
    }

    /// Checks an RVP package on the day it is handed in (п. 6, п. 7, п. 8).
    pub fn check_rvp_package(&self, purpose: &Purpose, pkg: &Package<'_>) -> Vec<IntakeGround> {
        check_package(
            self.rvp_required(purpose),
            pkg,
            Citation::new("п. 6"),
            Citation::new("п. 6 абз. 3"),
        )
    }

    /// Checks a PR package on the day it is handed in (п. 12, п. 13, п. 16-1).
    pub fn check_pr_package(&self, pkg: &Package<'_>) -> Vec<IntakeGround> {
        let (incomplete, expired) = match pkg.channel {
            Channel::Con => (Citation::new("п. 13"), Citation::new("п. 13")),
            _ => (Citation::new("п. 12; п. 16-1"), Citation::new("п. 12; п. 16-1")),
        };
        check_package(self.pr_common.iter(), pkg, incomplete, expired)
    }
}

fn applies(req: &DocumentRequirement, pkg: &Package<'_>) -> bool {
    req.when.iter().all(|f| pkg.facts.contains(f)) && !req.unless.iter().any(|f| pkg.facts.contains(f))
}

fn check_package<'a>(
    required: impl Iterator<Item = &'a DocumentRequirement>,
    pkg: &Package<'_>,
    incomplete: Citation,
    expired: Citation,
) -> Vec<IntakeGround> {
    let rules = pkg.channel.rules();
    let mut grounds = Vec::new();
    if !rules.allows_representative && pkg.facts.contains("filed_by_representative") {
        grounds.push(IntakeGround {
            code: "representative_not_allowed",
            document: String::new(),
            citation: rules.citation.clone(),
            detail: "a portal request is signed by the service recipient's own ЭЦП".into(),
        });
    }
    for req in required {
        if !applies(req, pkg) {
            continue;
        }
        if rules.registry_data_replaces_documents
            && req
                .from_registry
                .as_ref()
                .is_some_and(|r| pkg.integrated_registries.contains(r))
        {
            continue;
        }
        let Some(doc) = pkg.documents.iter().find(|d| d.kind == req.kind) else {
            grounds.push(IntakeGround {
                code: "missing_document",
                document: req.kind.clone(),
                citation: Citation::owned(format!("{}; {}", incomplete, req.citation)),
                detail: format!("the package lacks {}", req.kind),
            });
            continue;
        };
        if let Some(exp) = doc.expires_on {
            if exp < pkg.filed_on {
                grounds.push(IntakeGround {
                    code: "expired_document",
                    document: req.kind.clone(),
                    citation: expired.clone(),
                    detail: format!("{} expired on {exp}", req.kind),
                });
                continue;
            }
            if let Some(min) = req.min_valid_days {
                let need = pkg.filed_on.checked_add(i64::from(min).days()).unwrap_or(Date::MAX);
                if exp < need {
                    // Not expired: a ground to refuse the service (`is_service_ground`), not the
                    // acceptance; the requirement is not met (art. 19-1 пп. 2), decided after a
                    // hearing (п. 17).
                    grounds.push(IntakeGround {
                        code: "validity_too_short",
                        document: req.kind.clone(),
                        citation: Citation::owned(format!(
                            "п. 17; Law on Public Services art. 19-1 пп. 2; {}",
                            req.citation
                        )),
                        detail: format!(
                            "{} must be valid more than {} days after filing; it expires on {exp}",
                            req.kind,
                            min.saturating_sub(1)
                        ),
                    });
                    continue;
                }
            }
        }
        if let Some(max_age) = req.max_age_days {
            match doc.issued_on {
                Some(iss) if iss.checked_add(i64::from(max_age).days()).unwrap_or(Date::MAX) < pkg.filed_on => {
                    grounds.push(IntakeGround {
                        code: "document_too_old",
                        document: req.kind.clone(),
                        citation: Citation::owned(format!("{}; {}", expired, req.citation)),
                        detail: format!(
                            "{} was issued on {iss}, more than {max_age} days before filing",
                            req.kind
                        ),
                    });
                    continue;
                }
                None => {
                    grounds.push(IntakeGround {
                        code: "missing_document",
                        document: req.kind.clone(),
                        citation: Citation::owned(format!("{}; {}", incomplete, req.citation)),
                        detail: format!("{} has no issue date, so its age cannot be established", req.kind),
                    });
                    continue;
                }
                _ => {}
            }
        }
        if rules.requires_electronic_copies && !doc.has_electronic_copy {
            grounds.push(IntakeGround {
                code: "missing_electronic_copy",
                document: req.kind.clone(),
                citation: rules.citation.clone(),
                detail: format!("{} has no electronic copy", req.kind),
            });
        }
    }
    grounds
}

/// The facts of a PR filing that follow from its ground, the applicant's citizenship and its
/// documents (issue 14 item 2), which the filer cannot declare: a refugee's (no exit consent; the
/// refugee certificate in the package), an ethnic Kazakh's (the proof of Kazakh nationality in the
/// package), an ethnic Kazakh from the PRC's (no exit consent, no criminal-record certificate), a contracted
/// housing (no housing part of solvency), and a solvency exemption with the category that grants it.
pub const PR_DERIVED_FACTS: [&str; 5] = [
    "refugee_or_asylum",
    "ethnic_kazakh",
    "ethnic_kazakh_from_prc",
    "housing_contracted",
    "solvency_exempt",
];

impl Requirements {
    /// The derived facts of a PR filing (`PR_DERIVED_FACTS`) and the solvency exemption, if any.
    pub fn pr_derived_facts<'a>(
        &'a self,
        ground: &str,
        citizenship: &str,
        documents: &[SubmittedDocument],
    ) -> (Vec<&'static str>, Option<&'a SolvencyExemption>) {
        let has = |kind: &str| documents.iter().any(|d| d.kind == kind);
        let mut facts = Vec::new();
        if ground == "refugee" {
            facts.push("refugee_or_asylum");
        }
        if ground == "ethnic_kazakh" {
            facts.push("ethnic_kazakh");
            if citizenship.trim().eq_ignore_ascii_case("CHN") {
                facts.push("ethnic_kazakh_from_prc");
            }
        }
        if has("housing_provision_contract") {
            facts.push("housing_contracted");
        }
        let exemption = self
            .pr_solvency_exemptions
            .iter()
            .find(|e| e.grounds.iter().any(|g| g == ground) || e.documents.iter().any(|k| has(k)));
        if exemption.is_some() {
            facts.push("solvency_exempt");
        }
        (facts, exemption)
    }
}

/// The other member states of the Eurasian Economic Union (Treaty on the EAEU of 29.05.2014):
/// their citizens need no health insurance for an RVP (App. 1-1 п. 8) and no work permit.
pub const EAEU_MEMBERS: [&str; 4] = ["ARM", "BLR", "KGZ", "RUS"];

/// Is `citizenship` (ISO 3166-1 alpha-3) that of another EAEU member state?
pub fn is_eaeu_citizen(citizenship: &str) -> bool {
    EAEU_MEMBERS.contains(&citizenship.trim().to_uppercase().as_str())
}

/// Is a package finding a ground to refuse the service rather than the acceptance (issue 14
/// item 9)? The counter refuses only an incomplete package and expired documents (п. 6, 13,
/// 16-1): a passport that is valid, but for too short a time, is for the conclusion (п. 17).
pub fn is_service_ground(code: &str) -> bool {
    code == "validity_too_short"
}

/// Whether a party of this kind may invite for the purpose (п. 4; Law art. 6-1).
pub fn inviting_party_allowed(
    purpose: &Purpose,
    party: PartyKind,
    from_visa_free_state: bool,
) -> Result<Citation, Citation> {
    if purpose.requires_visa_free_state && !from_visa_free_state {
        return Err(Citation::new("п. 4 абз. 2"));
    }
    if purpose.parties.contains(&party) {
        Ok(purpose.party_citation.clone())
    } else {
        Err(purpose.party_citation.clone())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirements {
    schema: u32,
    document: Vec<RawKind>,
    rvp: RawRvp,
    pr: RawPr,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKind {
    kind: Spanned<String>,
    ru: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    kind: Spanned<String>,
    citation: String,
    status: SourceStatus,
    #[serde(default)]
    when: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    from_registry: Option<String>,
    role: Option<String>,
    min_valid_days: Option<u32>,
    max_age_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRvp {
    #[allow(dead_code)]
    citation: String,
    common: Vec<RawDoc>,
    purpose: Vec<RawPurpose>,
    #[serde(default)]
    refusal_ground: Vec<RawRefusalGround>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRefusalGround {
    id: String,
    citation: String,
    status: SourceStatus,
    ru: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaxTerm {
    months: u32,
    status: SourceStatus,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    id: Spanned<String>,
    ru: String,
    en: String,
    parties: Vec<PartyKind>,
    party_citation: String,
    #[serde(default)]
    documents: Vec<RawDoc>,
    max_term: Option<RawMaxTerm>,
    #[serde(default)]
    household: bool,
    #[serde(default)]
    requires_visa_free_state: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPr {
    #[allow(dead_code)]
    citation: String,
    common: Vec<RawDoc>,
    ground: Vec<RawGround>,
    #[serde(default)]
    solvency_exemption: Vec<RawExemption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExemption {
    id: String,
    citation: String,
    status: SourceStatus,
    #[serde(default)]
    grounds: Vec<String>,
    #[serde(default)]
    documents: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGround {
    id: String,
    ru: String,
    en: String,
}
