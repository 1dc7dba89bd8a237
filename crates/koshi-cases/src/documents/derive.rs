//! The facts of a document: kept, or taken from the case's records of its act.

use super::*;

impl Service {
    /// The facts of a document: kept, or taken now from the case's records of its act and kept.
    pub(crate) async fn form_of(&self, doc: &DocumentRow, app: Option<&ApplicationRow>) -> Result<Form, CaseError> {
        if let Some(facts) = &doc.facts {
            return serde_json::from_str(facts).map_err(|e| {
                CaseError::conflict(
                    "unreadable_document",
                    format!(
                        "the facts of document {} cannot be read ({e}); an officer must look at it",
                        doc.number
                    ),
                )
            });
        }
        let owned;
        let app = match app {
            Some(a) => a,
            None => {
                let id = doc
                    .application_id
                    .as_deref()
                    .ok_or_else(|| CaseError::not_found("document"))?;
                owned = self
                    .store
                    .application(id)
                    .await?
                    .ok_or_else(|| CaseError::not_found("application"))?;
                &owned
            }
        };
        let form = if app.kind == "pr" {
            self.derive_pr_form(doc, app).await?
        } else {
            self.derive_rvp_form(doc, app).await?
        };
        let facts = serde_json::to_string(&form).map_err(|e| CaseError::internal(&e))?;
        self.store
            .write(Unit::new().with(repo::set_document_facts(&doc.id, &facts)))
            .await?;
        Ok(form)
    }

    /// An RVP document's facts from the case's records of its act: the filing, the receipt, the
    /// decision (none of which an act changes afterwards).
    async fn derive_rvp_form(&self, doc: &DocumentRow, app: &ApplicationRow) -> Result<Form, CaseError> {
        let req: ApplicationRequest = serde_json::from_str(&app.data).map_err(|e| unreadable(doc, &e))?;
        let receipt: Receipt = serde_json::from_str(&app.receipt).map_err(|e| unreadable(doc, &e))?;
        let decision: Value = app
            .decision
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| unreadable(doc, &e))?
            .unwrap_or(Value::Null);
        let law = self.law();
        let purpose = forms::Purpose {
            id: app.purpose.clone(),
            ru: law
                .requirements
                .purpose(&app.purpose)
                .map_or_else(|| app.purpose.clone(), |p| p.ru.clone()),
        };
        let filed_at = law.calendar.civil(parse_instant(&app.filed_at, doc)?);
        let body = self.body(&app.unit);
        let version = rules_version(&app.rules_version);
        let holder = person(&req.immigrant)?;
        let date = |s: Option<&str>| -> Result<Date, CaseError> {
            s.ok_or_else(|| unreadable(doc, &"a date is missing"))?
                .parse()
                .map_err(|e| unreadable(doc, &e))
        };
        let form = match doc.form.as_str() {
            "receipt" => Form::Receipt(forms::Receipt {
                kind: forms::ReceiptKind::Rvp,
                case_number: app.id.clone(),
                filed_at,
                accepted_on: date(app.accepted_on.as_deref())?,
                channel: app.channel.clone(),
                applicant: holder,
                party: Some(party(&req.inviting_party)),
                purpose: Some(purpose),
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                result_ready: receipt
                    .result_ready_at
                    .as_deref()
                    .and_then(|s| s.parse::<jiff::civil::DateTime>().ok()),
                due_on: app.due_on.as_deref().and_then(|s| s.parse().ok()),
                calendar_expected: receipt.calendar_status.is_some(),
                body,
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "refusal_to_accept" => Form::RefusalToAccept(forms::RefusalToAccept {
                kind: forms::RefusalKind::Rvp,
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                applicant: holder,
                grounds: receipt.grounds.iter().map(|g| ground_ru(self, g)).collect(),
                body,
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "permit" => Form::Permit(forms::Permit {
                exit: false,
                permit_number: doc.number.clone(),
                case_number: app.id.clone(),
                holder,
                purpose,
                party: Some(party(&req.inviting_party)),
                valid_from: date(app.valid_from.as_deref())?,
                valid_until: date(app.valid_until.as_deref())?,
                decided_on: law
                    .calendar
                    .civil(parse_instant(
                        decision["decided_at"].as_str().unwrap_or(&doc.issued_at),
                        doc,
                    )?)
                    .date(),
                body,
                officer: self.signer(decision["decided_by"].as_str().unwrap_or("system")).await?,
                citation: decision["citation"].as_str().unwrap_or("п. 9-1").to_string(),
                rules_version: version,
                family_of: req.family_of.as_ref().map(|f| f.principal_id.clone()),
                calendar_expected: receipt.calendar_status.is_some(),
            }),
            "application" => Form::Application(forms::Application {
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                body,
                party: party(&req.inviting_party),
                immigrant: holder,
                family: req
                    .family
                    .iter()
                    .map(|m| {
                        Ok(forms::FamilyMember {
                            person: person(&m.person)?,
                            relationship: m.relationship.clone(),
                        })
                    })
                    .collect::<Result<_, CaseError>>()?,
                purpose,
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                requested_until: req.requested_until.map(Day::date),
                representative: req.representative.as_ref().map(|r| r.name.clone()),
            }),
            "motivated_refusal" => Form::MotivatedRefusal(forms::MotivatedRefusal {
                case_number: app.id.clone(),
                applicant: holder,
                party: Some(party(&req.inviting_party)),
                purpose,
                accepted_on: date(app.accepted_on.as_deref())?,
                decided_on: law
                    .calendar
                    .civil(parse_instant(
                        decision["decided_at"].as_str().unwrap_or(&doc.issued_at),
                        doc,
                    )?)
                    .date(),
                grounds: decision["grounds"]
                    .as_array()
                    .map(|gs| gs.iter().map(|g| decision_ground_ru(self, g)).collect())
                    .unwrap_or_default(),
                reason: decision["comment"].as_str().unwrap_or("").to_string(),
                body,
                officer: self.signer(decision["decided_by"].as_str().unwrap_or("system")).await?,
                rules_version: version,
            }),
            other => {
                return Err(CaseError::conflict(
                    "unreadable_document",
                    format!(
                        "document {} of form {other:?} has no facts; an officer must look at it",
                        doc.number
                    ),
                ));
            }
        };
        Ok(form)
    }

    /// A PR document's facts from the case's records of its act (the receipt and the filing).
    async fn derive_pr_form(&self, doc: &DocumentRow, app: &ApplicationRow) -> Result<Form, CaseError> {
        let req: crate::model::PrApplicationRequest =
            serde_json::from_str(&app.data).map_err(|e| unreadable(doc, &e))?;
        let receipt: Receipt = serde_json::from_str(&app.receipt).map_err(|e| unreadable(doc, &e))?;
        let law = self.law();
        let filed_at = law.calendar.civil(parse_instant(&app.filed_at, doc)?);
        let con = app.channel == "con";
        let version = rules_version(&app.rules_version);
        let form = match doc.form.as_str() {
            "receipt" => Form::Receipt(forms::Receipt {
                kind: if con {
                    forms::ReceiptKind::PrCon
                } else {
                    forms::ReceiptKind::PrTalon
                },
                case_number: app.id.clone(),
                filed_at,
                accepted_on: app
                    .accepted_on
                    .as_deref()
                    .ok_or_else(|| unreadable(doc, &"no acceptance day"))?
                    .parse()
                    .map_err(|e| unreadable(doc, &e))?,
                channel: app.channel.clone(),
                applicant: person(&req.applicant)?,
                party: None,
                purpose: None,
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                result_ready: None,
                due_on: app.due_on.as_deref().and_then(|s| s.parse().ok()),
                calendar_expected: receipt.calendar_status.is_some(),
                body: self.body(if con { &app.filed_unit } else { &app.unit }),
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "refusal_to_accept" => Form::RefusalToAccept(forms::RefusalToAccept {
                kind: if con {
                    forms::RefusalKind::Con
                } else {
                    forms::RefusalKind::PrTalon
                },
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                applicant: person(&req.applicant)?,
                grounds: receipt.grounds.iter().map(|g| ground_ru(self, g)).collect(),
                body: self.body(if con { &app.filed_unit } else { &app.unit }),
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            other => {
                return Err(CaseError::conflict(
                    "unreadable_document",
                    format!(
                        "document {} of form {other:?} has no facts; an officer must look at it",
                        doc.number
                    ),
                ));
            }
        };
        Ok(form)
    }
}

pub(super) fn unreadable(doc: &DocumentRow, e: &dyn std::fmt::Display) -> CaseError {
    CaseError::conflict(
        "unreadable_document",
        format!(
            "the records of document {} cannot be read ({e}); an officer must look at it",
            doc.number
        ),
    )
}

pub(super) fn parse_instant(s: &str, doc: &DocumentRow) -> Result<Timestamp, CaseError> {
    s.parse::<Timestamp>().map_err(|e| unreadable(doc, &e))
}

pub(super) fn rules_version(id: &str) -> String {
    format!("Правила № 992, редакция {id}")
}

/// A person of the filing as the documents print them.
pub(crate) fn person(p: &PersonInput) -> Result<forms::Person, CaseError> {
    Ok(forms::Person {
        surname: p.surname.trim().to_string(),
        given_names: p.given_names.trim().to_string(),
        birth_date: p.birth_date.date(),
        citizenship: if p.citizenship.trim().eq_ignore_ascii_case("XXX") {
            String::new()
        } else {
            p.citizenship.trim().to_uppercase()
        },
        iin: p.iin.clone(),
        document: Some(forms::IdentityDocument {
            kind: match p.document.kind.as_str() {
                "stateless_certificate" => "удостоверение лица без гражданства".into(),
                _ => "паспорт".into(),
            },
            number: p.document.number.trim().to_uppercase(),
            issued_on: p.document.issued_on.map(Day::date),
            expires_on: Some(p.document.expires_on.date()),
        }),
    })
}

/// The inviting party as the documents print it.
pub(crate) fn party(p: &InvitingPartyInput) -> forms::Party {
    forms::Party {
        name: p.name.trim().to_string(),
        iin: p.iin.clone(),
        bin: p.bin.clone(),
        address: p.address.trim().to_string(),
        rka: Some(p.rka.clone()).filter(|r| !r.is_empty()),
    }
}

/// A ground of a receipt in Russian, as the paper states it (the detail kept for the API is
/// English).
pub(super) fn ground_ru(s: &Service, g: &crate::model::Ground) -> forms::Ground {
    let law = s.law();
    let doc = g
        .document
        .as_deref()
        .map(|k| {
            law.requirements
                .document(k)
                .map_or_else(|| k.to_string(), |d| d.ru.clone())
        })
        .unwrap_or_default();
    let text = match g.code.as_str() {
        "missing_document" => format!("Не представлен документ: {doc}"),
        "expired_document" => format!("Истёк срок действия документа: {doc}"),
        "document_too_old" => format!("Документ выдан ранее допустимого срока: {doc}"),
        "missing_electronic_copy" => format!("Нет электронной копии документа: {doc}"),
        "validity_too_short" => format!("Недостаточный срок действия документа: {doc}"),
        "representative_not_allowed" => "Запрос через портал подписывается ЭЦП самого услугополучателя".into(),
        "late_application" | "stay_expired" => "Срок пребывания истёк; исключения п. 9-1 не подтверждены".into(),
        other => format!("Основание {other}: {}", g.detail),
    };
    forms::Ground {
        citation: g.citation.clone(),
        text,
    }
}

/// A ground of a refusal (App. 2-1) in Russian: the check or ground of law, and the facts stated.
pub(super) fn decision_ground_ru(s: &Service, g: &Value) -> forms::Ground {
    let law = s.law();
    let what = if let Some(id) = g["ground"].as_str() {
        law.requirements
            .rvp_refusal_grounds
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_string(), |x| x.ru.clone())
    } else if let Some(check) = g["check"].as_str().and_then(koshi_law::rvp::Check::parse) {
        check_ru(check).to_string()
    } else {
        g["code"].as_str().unwrap_or("").to_string()
    };
    let detail = g["detail"].as_str().unwrap_or("");
    forms::Ground {
        citation: g["citation"].as_str().unwrap_or("п. 9-3").to_string(),
        text: if detail.is_empty() {
            what
        } else {
            format!("{what}: {detail}")
        },
    }
}

/// A PR ground (of the conclusion or the annulment) in Russian, with its norm.
pub(super) fn pr_ground_ru(g: &crate::pr_record::RecordedGround) -> forms::Ground {
    let what = g.ground.as_deref().unwrap_or("");
    let detail = g.detail.as_str();
    let citation = g
        .citation
        .clone()
        .unwrap_or_else(|| "Закон «О миграции населения», ст. 49".to_string());
    let text = match (what, detail) {
        ("", d) => d.to_string(),
        (w, "") => format!("Основание {w}"),
        (w, d) => format!("Основание {w}: {d}"),
    };
    forms::Ground { citation, text }
}

/// A case's status as the journal prints it.
pub(super) fn status_ru(status: &str) -> &str {
    match status {
        "issued" => "выдано",
        "refused" => "отказано",
        "annulled" => "аннулировано",
        "refused_to_accept" => "отказано в приёме",
        "withdrawn" => "отозвано",
        _ => "на рассмотрении",
    }
}

/// The bodies of п. 14 in Russian.
pub(super) fn agency_ru(code: &str) -> &str {
    match code {
        "ums_dp" => "УМС ДП (согласование дела)",
        "bank" => "Банк (подлинность документов о платёжеспособности)",
        "police_records" => "Учёты органов внутренних дел",
        "kpsisu" => "КПСиСУ Генеральной прокуратуры",
        "national_security" => "Органы национальной безопасности (ЕИС «Беркут»)",
        other => other,
    }
}

/// The checks of п. 9-1 in the Rules' words.
pub(super) fn check_ru(c: koshi_law::rvp::Check) -> &'static str {
    use koshi_law::rvp::Check;
    match c {
        Check::Completeness => "Полнота документов (п. 9-1 пп. 1)",
        Check::BorderCrossings => "Сведения о пересечении границы, ЕИС «Беркут» (п. 9-1 пп. 2)",
        Check::Records => "Судимость, розыск, неуплаченные штрафы (п. 9-1 пп. 3)",
        Check::Iin => "ИИН иностранца и членов семьи (п. 9-1 пп. 4)",
        Check::HouseholdQuota => {
            "Разрешения на трудовую деятельность в домашнем хозяйстве у работодателя (п. 9-1 пп. 5)"
        }
        Check::PendingPr => "Заявка на разрешение на постоянное жительство (п. 9-1 пп. 6)",
        Check::Fingerprints => "Дактилоскопическая регистрация (п. 9-1 пп. 7)",
    }
}
