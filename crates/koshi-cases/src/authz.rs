//! Authorisation as data: units (who serves whom) and the permission matrix (role × action ×
//! unit scope). Every API route names its action and asks [`Authz`]; nothing else grants access.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::CaseError;
use crate::caller::{Caller, ROLES};

pub const BUILTIN_UNITS: &str = include_str!("../data/units.toml");
pub const BUILTIN_PERMISSIONS: &str = include_str!("../data/permissions.toml");

/// Posts of п. 15 and an ordinary one.
pub const POSTS: [&str; 5] = [
    "head_of_police_department",
    "deputy_head_of_police_department",
    "head_of_city_district_police",
    "head_of_ums",
    "other",
];

/// Unit kinds that are police bodies (they decide cases).
pub const POLICE_KINDS: [&str; 3] = ["police_department", "ums_dp", "city_district_police"];

/// How far an allowed action reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The caller's unit and every unit below it.
    OwnUnits,
    /// Every unit.
    All,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitInfo {
    pub id: String,
    pub kind: String,
    #[serde(default)]
    pub parent: Option<String>,
    pub name_ru: String,
    /// For a unit of kind `agency`: the body of п. 14 it answers for (`koshi_law::agencies`).
    #[serde(default)]
    pub agency: Option<String>,
    /// For a police body: the addresses it is the body of the place of registration for, as
    /// leading digits of their registration code (РКА, п. 2 пп. 27); the longest match wins.
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// How far an approving post reaches (п. 15 абз. 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    OwnUnits,
    ParentUnits,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub post: String,
    pub unit_kinds: Vec<String>,
    pub reach: Reach,
}

#[derive(Debug, Clone)]
pub struct Authz {
    units: BTreeMap<String, UnitInfo>,
    matrix: BTreeMap<(String, String), Scope>,
    actions: BTreeSet<String>,
    approvals: Vec<Approval>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnits {
    schema: u32,
    unit: Vec<UnitInfo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermissions {
    schema: u32,
    permission: Vec<RawPermission>,
    #[serde(default)]
    approval: Vec<Approval>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPermission {
    action: String,
    #[allow(dead_code)]
    citation: String,
    roles: BTreeMap<String, Scope>,
}

impl Authz {
    pub fn builtin() -> Result<Authz, String> {
        Authz::from_toml(BUILTIN_UNITS, BUILTIN_PERMISSIONS)
    }

    pub fn from_toml(units: &str, permissions: &str) -> Result<Authz, String> {
        let u: RawUnits = toml::from_str(units).map_err(|e| format!("units: {e}"))?;
        let p: RawPermissions = toml::from_str(permissions).map_err(|e| format!("permissions: {e}"))?;
        if u.schema != 1 || p.schema != 1 {
            return Err("units and permissions files must be schema 1".into());
        }
        let mut map = BTreeMap::new();
        for unit in u.unit {
            if map.insert(unit.id.clone(), unit.clone()).is_some() {
                return Err(format!("units: {} is declared twice", unit.id));
            }
        }
        for unit in map.values() {
            if let Some(parent) = &unit.parent
                && !map.contains_key(parent)
            {
                return Err(format!("units: {} names an unknown parent {parent}", unit.id));
            }
        }
        for unit in map.values() {
            match (unit.kind.as_str(), unit.agency.as_deref()) {
                ("agency", Some(a)) if koshi_law::agencies::Agency::parse(a).is_some() => {}
                ("agency", _) => return Err(format!("units: {} names no agency of п. 14", unit.id)),
                (_, Some(_)) => return Err(format!("units: {} is not of kind agency but names one", unit.id)),
                _ => {}
            }
        }
        let mut prefixes = BTreeMap::new();
        for unit in map.values() {
            for a in &unit.addresses {
                if !POLICE_KINDS.contains(&unit.kind.as_str()) {
                    return Err(format!("units: {} is no police body but names addresses", unit.id));
                }
                if a.is_empty() || !a.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "units: {} names an address code {a:?} that is not digits",
                        unit.id
                    ));
                }
                if let Some(other) = prefixes.insert(a.clone(), unit.id.clone()) {
                    return Err(format!(
                        "units: the addresses {a} belong to both {other} and {}",
                        unit.id
                    ));
                }
            }
        }
        // No cycles: every chain of parents ends.
        for id in map.keys() {
            let mut seen = BTreeSet::new();
            let mut cur = Some(id.clone());
            while let Some(c) = cur {
                if !seen.insert(c.clone()) {
                    return Err(format!("units: the parents of {id} form a cycle"));
                }
                cur = map.get(&c).and_then(|u| u.parent.clone());
            }
        }
        let roles: BTreeSet<&str> = ROLES.into_iter().collect();
        let mut matrix = BTreeMap::new();
        let mut actions = BTreeSet::new();
        for perm in p.permission {
            if !actions.insert(perm.action.clone()) {
                return Err(format!("permissions: {} is declared twice", perm.action));
            }
            for (role, scope) in perm.roles {
                if !roles.contains(role.as_str()) {
                    return Err(format!("permissions: {}: unknown role {role}", perm.action));
                }
                matrix.insert((role, perm.action.clone()), scope);
            }
        }
        for a in &p.approval {
            if !POSTS.contains(&a.post.as_str()) || a.post == "other" {
                return Err(format!("permissions: approval by unknown post {}", a.post));
            }
        }
        Ok(Authz {
            units: map,
            matrix,
            actions,
            approvals: p.approval,
        })
    }

    /// Units and permissions: shipped data unless `KOSHI_UNITS` / `KOSHI_PERMISSIONS` name files.
    pub fn load() -> Result<Authz, String> {
        let read = |var: &str, builtin: &'static str| -> Result<String, String> {
            match std::env::var(var).ok().filter(|s| !s.trim().is_empty()) {
                Some(path) => std::fs::read_to_string(&path).map_err(|e| format!("cannot read {var} file {path}: {e}")),
                None => Ok(builtin.to_string()),
            }
        };
        Authz::from_toml(
            &read("KOSHI_UNITS", BUILTIN_UNITS)?,
            &read("KOSHI_PERMISSIONS", BUILTIN_PERMISSIONS)?,
        )
    }

    /// The unit kinds a role's tokens and accounts belong to: an officer to a police body, a ЦОН
    /// operator to a ЦОН branch, the portal to the portal (and, for a token, to one inviting
    /// party), an agency to its agency unit; auditors and administrators to any unit.
    pub fn role_fits_unit(&self, role: &str, unit: &str) -> Result<(), String> {
        let Some(info) = self.unit(unit) else {
            return Err(format!(
                "unknown unit {unit:?}: units are configured in the units file (KOSHI_UNITS)"
            ));
        };
        let fits = match role {
            "officer" => POLICE_KINDS.contains(&info.kind.as_str()),
            "con_operator" => info.kind == "con_branch",
            "portal" => info.kind == "portal",
            "agency" => info.kind == "agency",
            _ => true,
        };
        if fits {
            Ok(())
        } else {
            Err(format!(
                "a {role} belongs to a unit of another kind than {unit} ({})",
                info.kind
            ))
        }
    }

    /// Every unit, by id.
    pub fn units(&self) -> impl Iterator<Item = &UnitInfo> {
        self.units.values()
    }

    pub fn unit(&self, id: &str) -> Option<&UnitInfo> {
        self.units.get(id)
    }

    pub fn is_police(&self, id: &str) -> bool {
        self.units
            .get(id)
            .is_some_and(|u| POLICE_KINDS.contains(&u.kind.as_str()))
    }

    /// The police body of the place of registration of the address with registration code `rka`
    /// (п. 5, п. 7 абз. 5): the body whose address codes begin it, the longest such code winning;
    /// none if no body's do.
    pub fn police_body_of_address(&self, rka: &str) -> Option<&str> {
        let rka = rka.trim();
        self.units
            .values()
            .flat_map(|u| u.addresses.iter().map(move |a| (a, u)))
            .filter(|(a, _)| rka.starts_with(a.as_str()))
            .max_by_key(|(a, _)| a.len())
            .map(|(_, u)| u.id.as_str())
    }

    /// The units `unit` serves: itself and every unit below it.
    pub fn served_units(&self, unit: &str) -> Vec<String> {
        self.units.keys().filter(|u| self.serves(unit, u)).cloned().collect()
    }

    /// Does `unit` serve `other` (itself, or an ancestor of it)?
    pub fn serves(&self, unit: &str, other: &str) -> bool {
        let mut cur = Some(other.to_string());
        let mut steps = 0;
        while let Some(c) = cur {
            if c == unit {
                return true;
            }
            steps += 1;
            if steps > self.units.len() {
                return false;
            }
            cur = self.units.get(&c).and_then(|u| u.parent.clone());
        }
        false
    }

    /// The scope of `action` for the caller's role, or 403.
    pub fn allow(&self, caller: &Caller, action: &str) -> Result<Scope, CaseError> {
        debug_assert!(self.actions.contains(action), "unknown action {action}");
        self.matrix
            .get(&(caller.role.clone(), action.to_string()))
            .copied()
            .ok_or_else(|| CaseError::forbidden(format!("the {} role may not {action}", caller.role)))
    }

    /// As [`Authz::allow`], for one case of `case_unit` filed at `filed_unit`.
    pub fn allow_case(
        &self,
        caller: &Caller,
        action: &str,
        case_unit: &str,
        filed_unit: &str,
    ) -> Result<(), CaseError> {
        match self.allow(caller, action)? {
            Scope::All => Ok(()),
            Scope::OwnUnits if self.serves(&caller.unit, case_unit) => Ok(()),
            // A ЦОН branch (or the portal) reaches what it filed; a police body only the cases it
            // owns, so a case transferred away (п. 17-1) leaves the body that filed it.
            Scope::OwnUnits if !self.is_police(&caller.unit) && self.serves(&caller.unit, filed_unit) => Ok(()),
            Scope::OwnUnits => Err(CaseError::forbidden(format!(
                "the case belongs to unit {case_unit}, which unit {} does not serve",
                caller.unit
            ))),
        }
    }

    /// п. 15 абз. 2: may a person holding `post` at `approver_unit` approve a conclusion on a case
    /// of `case_unit`? Only the heads the paragraph names, each for the units it reaches.
    pub fn may_approve(&self, post: Option<&str>, approver_unit: &str, case_unit: &str) -> Result<(), CaseError> {
        let root = self.approval_root(post, approver_unit)?;
        match root {
            Some(r) if self.serves(&r, case_unit) => Ok(()),
            _ => Err(no_approval_authority(format!(
                "unit {approver_unit} does not reach unit {case_unit}"
            ))),
        }
    }

    /// п. 15 абз. 2: does a person holding `post` at `approver_unit` approve conclusions at all?
    /// Then the unit whose cases the post reaches (its own, or its parent's).
    pub fn approval_root(&self, post: Option<&str>, approver_unit: &str) -> Result<Option<String>, CaseError> {
        let deny = |why: String| Err(no_approval_authority(why));
        let Some(post) = post else {
            return deny("an approval is given by a person holding a post, not by a system token".into());
        };
        let kind = self.units.get(approver_unit).map(|u| u.kind.as_str()).unwrap_or("");
        let Some(rule) = self
            .approvals
            .iter()
            .find(|a| a.post == post && a.unit_kinds.iter().any(|k| k == kind))
        else {
            return deny(format!(
                "the post {post} at unit {approver_unit} does not approve conclusions"
            ));
        };
        Ok(match rule.reach {
            Reach::OwnUnits => Some(approver_unit.to_string()),
            Reach::ParentUnits => self.units.get(approver_unit).and_then(|u| u.parent.clone()),
        })
    }

    /// Every (role, action) pair and whether it is allowed: the matrix the route tests walk.
    pub fn matrix(&self) -> Vec<(String, String, Option<Scope>)> {
        let mut out = Vec::new();
        for role in ROLES {
            for action in &self.actions {
                out.push((
                    role.to_string(),
                    action.clone(),
                    self.matrix.get(&(role.to_string(), action.clone())).copied(),
                ));
            }
        }
        out
    }

    pub fn actions(&self) -> impl Iterator<Item = &String> {
        self.actions.iter()
    }
}

fn no_approval_authority(why: String) -> CaseError {
    CaseError::new(
        crate::Kind::Forbidden,
        "no_approval_authority",
        format!("{why} (п. 15 абз. 2)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_units_and_permissions_load() {
        let a = Authz::builtin().unwrap();
        assert!(a.serves("DP-ALM", "ALM-01"));
        assert!(a.serves("ALM-01", "ALM-01"));
        assert!(!a.serves("ALM-01", "ALM-02"));
        assert!(!a.serves("ALM-01", "DP-ALM"));
        assert!(a.is_police("ALM-01") && !a.is_police("CON-ALM-01"));
    }

    #[test]
    fn p15_approval_authority_by_post_and_unit() {
        let a = Authz::builtin().unwrap();
        let cases = [
            (Some("head_of_police_department"), "DP-ALM", "ALM-01", true),
            (Some("deputy_head_of_police_department"), "DP-ALM", "ALM-02", true),
            (Some("head_of_city_district_police"), "ALM-01", "ALM-01", true),
            (Some("head_of_city_district_police"), "ALM-01", "ALM-02", false),
            (Some("head_of_ums"), "UMS-ALM", "ALM-02", true),
            (Some("head_of_ums"), "ALM-01", "ALM-01", false),
            (Some("head_of_police_department"), "ALM-01", "ALM-01", false),
            (Some("other"), "DP-ALM", "ALM-01", false),
            (None, "DP-ALM", "ALM-01", false),
        ];
        for (post, unit, case_unit, ok) in cases {
            assert_eq!(
                a.may_approve(post, unit, case_unit).is_ok(),
                ok,
                "{post:?} {unit} {case_unit}"
            );
        }
        let e = a.may_approve(Some("other"), "ALM-01", "ALM-01").unwrap_err();
        assert_eq!(e.code, "no_approval_authority");
    }

    #[test]
    fn the_police_body_of_an_address_is_the_one_of_its_longest_code() {
        let units = "schema = 1\n[[unit]]\nid = \"CITY\"\nkind = \"police_department\"\nname_ru = \"c\"\naddresses = [\"02\"]\n[[unit]]\nid = \"D1\"\nkind = \"city_district_police\"\nname_ru = \"d\"\nparent = \"CITY\"\naddresses = [\"02014\", \"02016\"]\n";
        let a = Authz::from_toml(units, BUILTIN_PERMISSIONS).unwrap();
        assert_eq!(a.police_body_of_address("0201400123456789"), Some("D1"));
        assert_eq!(a.police_body_of_address(" 0201600000000001 "), Some("D1"));
        assert_eq!(a.police_body_of_address("0201500000000001"), Some("CITY"));
        assert_eq!(a.police_body_of_address("0301400000000001"), None);
        let shipped = Authz::builtin().unwrap();
        assert_eq!(shipped.police_body_of_address("0201400123456789"), Some("ALM-01"));
    }

    #[test]
    fn bad_files_are_refused() {
        let p = BUILTIN_PERMISSIONS;
        assert!(
            Authz::from_toml(
                "schema = 1\n[[unit]]\nid = \"A\"\nkind = \"x\"\nname_ru = \"a\"\nparent = \"B\"\n",
                p
            )
            .is_err()
        );
        let cyc = "schema = 1\n[[unit]]\nid = \"A\"\nkind = \"x\"\nname_ru = \"a\"\nparent = \"B\"\n[[unit]]\nid = \"B\"\nkind = \"x\"\nname_ru = \"b\"\nparent = \"A\"\n";
        assert!(Authz::from_toml(cyc, p).unwrap_err().contains("cycle"));
        // Address codes: only a police body's, digits only, each of one body.
        let unit = |id: &str, kind: &str, addresses: &str| {
            format!("[[unit]]\nid = \"{id}\"\nkind = \"{kind}\"\nname_ru = \"x\"\naddresses = {addresses}\n")
        };
        for (units, fault) in [
            (unit("C", "con_branch", "[\"02\"]"), "no police body"),
            (unit("P", "city_district_police", "[\"02A\"]"), "not digits"),
            (
                unit("P", "city_district_police", "[\"02\"]") + &unit("Q", "city_district_police", "[\"02\"]"),
                "both",
            ),
        ] {
            let e = Authz::from_toml(&format!("schema = 1\n{units}"), p).unwrap_err();
            assert!(e.contains(fault), "{e}");
        }
        let bad_role = p.replace("auditor = \"all\" }", "janitor = \"all\" }");
        assert!(
            Authz::from_toml(BUILTIN_UNITS, &bad_role)
                .unwrap_err()
                .contains("unknown role")
        );
    }
}
