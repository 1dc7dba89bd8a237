//! The documented shapes are the case core's, field for field: a field added, renamed or
//! retyped there and not here (or the reverse) fails this test, so OpenAPI never describes a
//! shape Koshi does not send or read.

use std::collections::BTreeMap;

const DTO: [&str; 2] = [include_str!("mod.rs"), include_str!("beside.rs")];
const SOURCES: [(&str, &str); 4] = [
    ("koshi_cases::model", include_str!("../../../koshi-cases/src/model.rs")),
    ("queue", include_str!("../../../koshi-cases/src/queue.rs")),
    ("portal", include_str!("../../../koshi-cases/src/portal.rs")),
    ("lawdata", include_str!("../../../koshi-cases/src/lawdata.rs")),
];

/// Each public struct and enum of `src`: its attributes and body without comments, the
/// OpenAPI-only derives and attributes, and whitespace.
fn types(src: &str) -> BTreeMap<String, String> {
    let lines: Vec<&str> = src.lines().take_while(|l| !l.starts_with("#[cfg(test)]")).collect();
    let mut out = BTreeMap::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line
            .strip_prefix("pub struct ")
            .or_else(|| line.strip_prefix("pub enum "))
        else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let mut start = i;
        while start > 0 && (lines[start - 1].starts_with("#[") || lines[start - 1].starts_with("///")) {
            start -= 1;
        }
        let end = (i..lines.len())
            .find(|&k| lines[k] == "}" || lines[k].ends_with(';'))
            .unwrap_or(i);
        let shape: String = lines[start..=end]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with("//") && !l.starts_with("#[schema(") && !l.starts_with("#[into_params("))
            .map(|l| l.replace(", ToSchema", "").replace(", IntoParams", ""))
            .collect::<Vec<_>>()
            .join("")
            .split_whitespace()
            .collect();
        out.insert(name, shape);
    }
    out
}

/// The case core's scalar types, documented on each field that has one (`Day`: a string of
/// `format: date`), not as a shape of their own.
const SCALARS: [&str; 1] = ["Day"];

#[test]
fn every_documented_shape_is_the_case_core_s() {
    let documented: BTreeMap<String, String> = DTO.iter().flat_map(|d| types(d)).collect();
    let mut seen = 0;
    for (module, src) in SOURCES {
        for (name, shape) in types(src) {
            if let Some(doc) = documented.get(&name) {
                assert_eq!(doc, &shape, "dto::{name} differs from {module}::{name}");
                seen += 1;
            } else if module == "koshi_cases::model" && !SCALARS.contains(&name.as_str()) {
                panic!("{module}::{name} has no documented shape in dto.rs");
            }
        }
    }
    assert_eq!(
        seen,
        documented.len(),
        "a type in dto.rs documents nothing the case core has"
    );
}

#[test]
fn a_changed_field_is_noticed() {
    let dto: BTreeMap<String, String> = DTO.iter().flat_map(|d| types(d)).collect();
    let model = types(SOURCES[0].1);
    let changed = model["ReturnRequest"].replace("pubcomment:String", "pubcomment:Option<String>");
    assert_ne!(dto["ReturnRequest"], changed);
    assert_eq!(dto["ReturnRequest"], model["ReturnRequest"]);
}
