//! The public check of a document: by its code, or by its number and the holder's IIN.

use super::*;

impl Service {
    /// The public check by verification code: genuine or not found, and the permit's standing.
    pub async fn verify_code(&self, code: &str) -> Result<Option<Verification>, CaseError> {
        let Some(code) = koshi_forms::normalise_code(code) else {
            return Ok(None);
        };
        let Some(doc) = self.store.document_by_code(&code).await? else {
            return Ok(None);
        };
        self.verification(&doc, false).await.map(Some)
    }

    /// egov.kz's check: a document's number and its holder's IIN, both right, or not found.
    pub async fn verify_number(&self, number: &str, iin: &str) -> Result<Option<Verification>, CaseError> {
        let (number, iin) = (number.trim(), iin.trim());
        if number.is_empty() || number.len() > 64 || iin.len() != 12 || !iin.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        for doc in self.store.document_by_number(number).await? {
            let form = self.form_of(&doc, None).await?;
            if holder_of(&form).and_then(|p| p.iin.as_deref()) == Some(iin) {
                return self.verification(&doc, true).await.map(Some);
            }
        }
        Ok(None)
    }

    async fn verification(&self, doc: &DocumentRow, full_name: bool) -> Result<Verification, CaseError> {
        let form = self.form_of(doc, None).await?;
        let today = self.today();
        let case_status = match &doc.application_id {
            Some(id) => self.store.application(id).await?.map(|a| a.status),
            None => None,
        };
        let (valid_from, valid_until) = match &form {
            Form::Permit(p) => (Some(p.valid_from), Some(p.valid_until)),
            _ => (None, None),
        };
        let status = match (&form, valid_from, valid_until) {
            (Form::Permit(p), Some(from), Some(until)) => {
                // The RVP for leaving (п. 21) is issued because of the annulment: it stands.
                if case_status.as_deref() == Some("annulled") && !p.exit {
                    "annulled"
                } else if today < from {
                    "not_yet_valid"
                } else if today > until {
                    "expired"
                } else {
                    "valid"
                }
            }
            (Form::PrNotification(n), _, _) if n.issue => {
                if case_status.as_deref() == Some("annulled") {
                    "annulled"
                } else {
                    "valid"
                }
            }
            _ => "issued",
        };
        let holder = holder_of(&form).map(|p| if full_name { p.full_name() } else { initials(p) });
        Ok(Verification {
            result: "genuine".into(),
            title: koshi_forms::i18n::t(Lang::Ru, form.title_key()).to_owned(),
            appendix: form.appendix().map(str::to_owned),
            number: doc.number.clone(),
            issued_on: doc.issued_on.clone(),
            issuer: self.body(&doc.unit).name,
            status: status.into(),
            valid_from: valid_from.map(|d| d.to_string()),
            valid_until: valid_until.map(|d| d.to_string()),
            holder,
            checked_at: instant(self.now()),
        })
    }
}

/// The person a document is about.
fn holder_of(form: &Form) -> Option<&forms::Person> {
    match form {
        Form::Application(f) => Some(&f.immigrant),
        Form::Receipt(f) => Some(&f.applicant),
        Form::RefusalToAccept(f) => Some(&f.applicant),
        Form::Permit(f) => Some(&f.holder),
        Form::MotivatedRefusal(f) => Some(&f.applicant),
        Form::PrConclusion(f) => Some(&f.applicant),
        Form::PrNotification(f) => Some(&f.applicant),
        Form::AnnulmentConclusion(f) => Some(&f.holder),
        Form::AnnulmentNotification(f) => Some(&f.holder),
        Form::Journal(_) => None,
    }
}

/// `Ә. Г. Ө.`: enough to match the paper in hand, too little to learn a name from a code.
fn initials(p: &forms::Person) -> String {
    p.surname
        .split(|c: char| c.is_whitespace() || c == '-')
        .chain(p.given_names.split_whitespace())
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}
