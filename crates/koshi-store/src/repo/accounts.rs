//! API tokens, people's accounts and sessions.

use crate::writer::{InsertShape, Op};

// ------------------------------------------------------------------ API tokens

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub token_hash: String,
    pub role: String,
    pub unit: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The inviting party (IIN or BIN) a portal token acts for, proven by its ЭЦП.
    pub party: Option<String>,
    /// When the token stops working (portal sign-ins); none for system tokens.
    pub expires_at: Option<String>,
}

pub fn insert_token(t: &TokenRow) -> Op {
    Op::insert(
        "issue token",
        InsertShape {
            head: "INSERT INTO api_tokens (id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at) VALUES",
            tail: "",
            columns: 9,
            rank: 0,
        },
        vec![
            t.id.clone().into(),
            t.token_hash.clone().into(),
            t.role.clone().into(),
            t.unit.clone().into(),
            t.label.clone().into(),
            t.created_at.clone().into(),
            t.revoked_at.clone().into(),
            t.party.clone().into(),
            t.expires_at.clone().into(),
        ],
    )
}

pub fn revoke_token(id: &str, at: &str) -> Op {
    Op::new(
        "revoke token",
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        vec![at.into(), id.into()],
    )
    .expecting(1)
}

// ------------------------------------------------------------------ users and sessions

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    /// PHC string (argon2id); never logged.
    pub password_hash: String,
    pub role: String,
    pub unit: String,
    pub post: String,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

/// A new password for an account (its hash).
pub fn set_password_hash(username: &str, password_hash: &str) -> Op {
    Op::new(
        "set password",
        "UPDATE users SET password_hash = $1 WHERE username = $2",
        vec![password_hash.into(), username.into()],
    )
    .expecting(1)
}

pub fn insert_user(u: &UserRow) -> Op {
    Op::insert(
        "add user",
        InsertShape {
            head: "INSERT INTO users (id, username, password_hash, role, unit, post, created_at, disabled_at) VALUES",
            tail: "",
            columns: 8,
            rank: 0,
        },
        vec![
            u.id.clone().into(),
            u.username.clone().into(),
            u.password_hash.clone().into(),
            u.role.clone().into(),
            u.unit.clone().into(),
            u.post.clone().into(),
            u.created_at.clone().into(),
            u.disabled_at.clone().into(),
        ],
    )
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the session secret held in the cookie.
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

pub fn insert_session(s: &SessionRow) -> Op {
    Op::insert(
        "open session",
        InsertShape {
            head: "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, revoked_at) VALUES",
            tail: "",
            columns: 6,
            rank: 1,
        },
        vec![
            s.id_hash.clone().into(),
            s.user_id.clone().into(),
            s.csrf_token.clone().into(),
            s.created_at.clone().into(),
            s.expires_at.clone().into(),
            s.revoked_at.clone().into(),
        ],
    )
}

/// Disables an account: it signs in no more, and its open sessions end (read with the account).
pub fn disable_user(id: &str, at: &str) -> Op {
    Op::new(
        "disable account",
        "UPDATE users SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL",
        vec![at.into(), id.into()],
    )
    .expecting(1)
}

pub fn revoke_session(id_hash: &str, at: &str) -> Op {
    Op::new(
        "close session",
        "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        vec![at.into(), id_hash.into()],
    )
}
