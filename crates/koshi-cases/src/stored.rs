//! A case's filing as stored (`application_filings.data`), read in one place: the filing was
//! parsed and checked at the edge when it was received, and is read back by every later step
//! (the checks, forming, decisions, documents, PR conclusions). A stored filing that does not read
//! stops the step for a person (`stored_record_unreadable`, 409) — never an internal error
//! answered as if Koshi had failed, and never a default.

use crate::CaseError;
use crate::model::{ApplicationRequest, PrApplicationRequest};

/// The version of the stored filing's shape that this Koshi writes; filings stored before the
/// version was kept carry none and read as the same shape.
pub const SCHEMA: u32 = 1;

fn known(schema: Option<u32>) -> Result<(), CaseError> {
    match schema {
        None | Some(SCHEMA) => Ok(()),
        Some(v) => Err(CaseError::unreadable(&format!(
            "filing (its shape, version {v}, is unknown to this Koshi)"
        ))),
    }
}

/// An RVP case's filing.
pub(crate) fn rvp_filing(data: &str) -> Result<ApplicationRequest, CaseError> {
    let f: ApplicationRequest = serde_json::from_str(data).map_err(|_| CaseError::unreadable("filing"))?;
    known(f.schema)?;
    Ok(f)
}

/// A PR case's filing.
pub(crate) fn pr_filing(data: &str) -> Result<PrApplicationRequest, CaseError> {
    let f: PrApplicationRequest = serde_json::from_str(data).map_err(|_| CaseError::unreadable("filing"))?;
    known(f.schema)?;
    Ok(f)
}

/// The filing as it is stored: marked with this Koshi's version of its shape.
pub(crate) fn rvp_data(f: &ApplicationRequest) -> Result<String, CaseError> {
    let mut f = f.clone();
    f.schema = Some(SCHEMA);
    serde_json::to_string(&f).map_err(|e| CaseError::internal(&e))
}

/// As [`rvp_data`], for a PR filing.
pub(crate) fn pr_data(f: &PrApplicationRequest) -> Result<String, CaseError> {
    let mut f = f.clone();
    f.schema = Some(SCHEMA);
    serde_json::to_string(&f).map_err(|e| CaseError::internal(&e))
}

/// A filer never marks a filing's shape: Koshi does, when it stores it.
pub(crate) fn refuse_schema(schema: Option<u32>) -> Result<(), CaseError> {
    match schema {
        None => Ok(()),
        Some(_) => Err(CaseError::unprocessable(
            "invalid_body",
            "/schema",
            "schema is Koshi's own mark on a stored filing; a filer never sets it",
        )),
    }
}

/// The inviting party of an RVP request filed on the portal: it follows the request, reads the
/// case and downloads its documents (п. 8).
pub(crate) const INVITING_PARTY: &str = "inviting_party";
/// The applicant for a PR by the IIN the filing gives: receives the notices addressed to the
/// applicant (the hearing, п. 17–18; the notification, App. 10; the annulment, App. 12) in the
/// cabinet, and reads nothing else of the case (docs/interpretations.md, "Cabinet notices").
pub(crate) const APPLICANT: &str = "applicant";

/// Who besides the police may follow a case, by the number an ЭЦП proves, and how: the inviting
/// party of an RVP request filed on the portal (п. 8), by the number of its kind (an
/// individual's IIN, an organisation's BIN); the applicant for a PR, by the IIN the filing gives.
/// The one rule for the `case_parties` rows written at filing (migrations 28 and 29 wrote the same
/// for the filings stored before) and for every party's read. The stored filing is read only for
/// the kinds and channels a party follows; one that does not read is an error for the caller.
pub(crate) fn parties(
    kind: &str,
    channel: &str,
    filing: &str,
) -> Result<Vec<(String, &'static str)>, serde_json::Error> {
    let number = |v: &serde_json::Value| v.as_str().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    Ok(match kind {
        "rvp" if channel == "portal" => {
            let data: serde_json::Value = serde_json::from_str(filing)?;
            let ip = &data["inviting_party"];
            let individual = ip["kind"]
                .as_str()
                .and_then(koshi_law::requirements::PartyKind::parse)
                .map(|k| k.is_individual());
            let n = match individual {
                Some(true) => number(&ip["iin"]),
                Some(false) => number(&ip["bin"]),
                None => None,
            };
            n.map(|n| vec![(n, INVITING_PARTY)]).unwrap_or_default()
        }
        "pr" => {
            let data: serde_json::Value = serde_json::from_str(filing)?;
            number(&data["applicant"]["iin"])
                .map(|n| vec![(n, APPLICANT)])
                .unwrap_or_default()
        }
        _ => Vec::new(),
    })
}

/// The `case_parties` rows of a case being written.
pub(crate) fn party_ops(row: &koshi_store::repo::ApplicationRow) -> Result<Vec<koshi_store::Op>, CaseError> {
    Ok(parties(&row.kind, &row.channel, &row.data)
        .map_err(|e| CaseError::internal(&e))?
        .into_iter()
        .map(|(party, relation)| koshi_store::repo::insert_case_party(&party, &row.id, relation))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_filing_of_an_unknown_shape_stops_the_step_and_an_old_one_reads() {
        let mut f: crate::model::ApplicationRequest = serde_json::from_str(OLD).unwrap();
        assert!(
            super::rvp_filing(OLD).is_ok(),
            "a filing stored before the version was kept"
        );
        f.schema = Some(super::SCHEMA + 1);
        let newer = serde_json::to_string(&f).unwrap();
        let e = super::rvp_filing(&newer).unwrap_err();
        assert_eq!(e.code, "stored_record_unreadable");
        assert!(e.detail.contains("version 2"), "{}", e.detail);
        let stored = super::rvp_data(&serde_json::from_str(OLD).unwrap()).unwrap();
        assert!(stored.contains("\"schema\":1"), "{stored}");
        assert_eq!(super::rvp_filing(&stored).unwrap().schema, Some(super::SCHEMA));
    }

    const OLD: &str = r#"{"kind":"rvp","purpose":"labour_contract","inviting_party":{"kind":"legal_entity","bin":"160540012347","name":"ТОО","address":"Алматы","rka":"0201400123456789"},"immigrant":{"surname":"DEMO","given_names":"PERSON","birth_date":"1990-01-01","citizenship":"UZB","document":{"number":"FA1234567","expires_on":"2031-01-01"}}}"#;

    #[test]
    fn a_filing_that_does_not_read_stops_the_step() {
        for bad in ["", "{}", "{\"kind\": \"rvp\"}", "[1, 2]"] {
            assert_eq!(super::rvp_filing(bad).unwrap_err().code, "stored_record_unreadable");
            assert_eq!(super::pr_filing(bad).unwrap_err().code, "stored_record_unreadable");
        }
        // The days a filing stores were checked when it was received; one that no longer reads as
        // a day (a row edited by hand) stops the step instead of being read as no date.
        let edited = OLD.replace("\"1990-01-01\"", "\"1990-02-30\"");
        assert_eq!(super::rvp_filing(&edited).unwrap_err().code, "stored_record_unreadable");
        let f = super::rvp_filing(OLD).unwrap();
        assert_eq!(f.immigrant.document.expires_on.to_string(), "2031-01-01");
    }
}
