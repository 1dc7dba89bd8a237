//! Who acts: the caller of a request (a token or a person's session), the roles there are, and
//! how a token is kept (its digest). Shared by the edge, authorisation and the use cases; it
//! imports none of them.

use sha2::{Digest, Sha256};

/// The roles a token or an account holds.
pub const ROLES: [&str; 6] = ["officer", "con_operator", "portal", "agency", "auditor", "admin"];

/// Who is calling (from the bearer token or the session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: String,
    pub role: String,
    pub unit: String,
    /// The person's post (п. 15); system tokens hold none.
    pub post: Option<String>,
    /// The inviting party (IIN or BIN) a portal caller acts for, proven by its ЭЦП at sign-in.
    pub party: Option<String>,
}

impl Caller {
    /// Whose Idempotency-Keys a request's key is among: an inviting party's own across its
    /// sign-ins (each gives a new token, and the same request sent again from a new session is
    /// the same request), anyone else's per token or account.
    pub fn idempotency_subject(&self) -> String {
        match (&self.party, self.role.as_str()) {
            (Some(party), "portal") => format!("party:{party}"),
            _ => self.token_id.clone(),
        }
    }

    /// A person acting through their account's session.
    pub fn of_account(user: koshi_store::repo::UserRow) -> Caller {
        Caller {
            token_id: format!("user:{}", user.id),
            role: user.role,
            unit: user.unit,
            post: Some(user.post),
            party: None,
        }
    }

    pub fn actor(&self) -> String {
        format!("{}@{}:{}", self.role, self.unit, self.token_id)
    }
}

/// A new bearer token's secret (shown once; stored only as its digest).
pub fn new_token_secret() -> String {
    format!("ksh_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Tokens are stored as SHA-256 digests: a leaked table reveals no usable token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
