//! People's accounts: argon2id passwords, sessions in secure cookies with a CSRF token, sign-in
//! rate limits. Systems use API tokens instead (see `api`).

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use jiff::{SignedDuration, Timestamp};
use koshi_store::repo::{self, SessionRow, UserRow};
use koshi_store::{Store, Unit, instant};
use sha2::{Digest, Sha256};

use crate::CaseError;

/// How long a session lives (a working day and a half at most; sign-out ends it earlier).
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins allowed per window, per username and per client address.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 12;
pub use crate::authz::POSTS;

/// argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn random_hex() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).map_err(|e| e.to_string())?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Constant-time comparison of two secrets' texts.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A first password for an account an administrator adds: 24 random hex characters (96 bits).
pub fn first_password() -> String {
    random_hex().chars().take(24).collect()
}

/// Adds a person's account.
pub async fn add_user(
    store: &Store,
    username: &str,
    password: &str,
    role: &str,
    unit: &str,
    post: &str,
    now: Timestamp,
) -> anyhow::Result<String> {
    let username = username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        anyhow::bail!("a username is 1–64 of the characters A–Z a–z 0–9 . _ -");
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        anyhow::bail!("a password has at least {MIN_PASSWORD_CHARS} characters");
    }
    if !crate::caller::ROLES.contains(&role) {
        anyhow::bail!("unknown role {role:?}; roles: {}", crate::caller::ROLES.join(", "));
    }
    if !POSTS.contains(&post) {
        anyhow::bail!("unknown post {post:?}; posts: {}", POSTS.join(", "));
    }
    if role == "portal" {
        anyhow::bail!("an inviting party signs in on the portal with its ЭЦП, not with a password account");
    }
    crate::authz::Authz::load()
        .and_then(|a| a.role_fits_unit(role, unit))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = uuid::Uuid::now_v7().to_string();
    let row = UserRow {
        id: id.clone(),
        username: username.into(),
        password_hash: hash_password(password).map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?,
        role: role.into(),
        unit: unit.into(),
        post: post.into(),
        created_at: instant(now),
        disabled_at: None,
    };
    store
        .write(Unit::new().with(repo::insert_user(&row)))
        .await
        .map_err(|e| match e {
            koshi_store::StoreError::Conflict(_) => anyhow::anyhow!("the username {username:?} is taken"),
            other => anyhow::anyhow!("{other}"),
        })?;
    Ok(id)
}

/// A session just opened: the secret goes into the cookie, the CSRF token to the client.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub secret: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    pub user: UserRow,
}

/// Failed sign-ins per key (username or client address) in the current window.
#[derive(Debug, Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, (Timestamp, u32)>>,
}

impl SignInLimiter {
    /// `Err(retry_after_seconds)` when the key has used up its failures in the window.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), i64> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((start, n)) if *n >= MAX_FAILURES => {
                let end = start
                    .checked_add(SignedDuration::from_mins(FAILURE_WINDOW_MINUTES))
                    .unwrap_or(*start);
                if now < end {
                    Err(end.duration_since(now).as_secs().max(1))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, now: Timestamp) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let window = SignedDuration::from_mins(FAILURE_WINDOW_MINUTES);
        let e = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) > window {
            *e = (now, 0);
        }
        e.1 += 1;
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) <= window);
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Requests per client per minute on public endpoints (health, OpenAPI, sign-in) and with a token
/// that does not authenticate.
pub const PUBLIC_REQUESTS_PER_MINUTE: u32 = 120;

/// A fixed-window counter per client for public endpoints (operational time, not legal time).
#[derive(Debug, Default)]
pub struct PublicLimiter {
    windows: Mutex<HashMap<String, (std::time::Instant, u32)>>,
}

impl PublicLimiter {
    /// `Err(retry_after_seconds)` once the client has used its requests in the current minute.
    pub fn hit(&self, client: &str) -> Result<(), u64> {
        let now = std::time::Instant::now();
        let minute = std::time::Duration::from_secs(60);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < minute);
        }
        let e = map.entry(client.to_string()).or_insert((now, 0));
        if now.duration_since(e.0) >= minute {
            *e = (now, 0);
        }
        e.1 += 1;
        if e.1 > PUBLIC_REQUESTS_PER_MINUTE {
            Err(minute.saturating_sub(now.duration_since(e.0)).as_secs().max(1))
        } else {
            Ok(())
        }
    }
}

/// Password checks running at once. Each takes 19 MiB and tens of milliseconds of a core: on the
/// async workers a flood of sign-ins would stall every request, so they run on the blocking pool,
/// a few at a time; the rest wait their turn (and the sign-in limits apply before any of it).
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Verifies a password on the blocking pool, at most [`HASHING`]'s permits at once.
async fn verify_off_the_workers(password: String, phc: String) -> Result<bool, CaseError> {
    let _turn = HASHING.acquire().await.map_err(|e| CaseError::internal(&e))?;
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| CaseError::internal(&e))
}

/// Signs in: the same answer for an unknown user and a wrong password.
pub async fn sign_in(
    store: &Store,
    limiter: &SignInLimiter,
    username: &str,
    password: &str,
    client: &str,
    now: Timestamp,
) -> Result<OpenedSession, CaseError> {
    let user_key = format!("user:{}", username.trim().to_lowercase());
    let client_key = format!("client:{client}");
    for key in [&user_key, &client_key] {
        if let Err(retry) = limiter.check(key, now) {
            let mut p = CaseError::new(
                crate::Kind::TooMany,
                "too_many_sign_in_attempts",
                format!("too many failed sign-ins; try again in {retry} seconds"),
            );
            p.errors.clear();
            return Err(p);
        }
    }
    let user = store.user_by_name(username.trim()).await?;
    // Verify against a dummy hash when the user is unknown, so timing does not tell.
    let (phc, real) = match &user {
        Some(u) if u.disabled_at.is_none() => (u.password_hash.clone(), true),
        _ => (dummy_hash().to_string(), false),
    };
    let ok = verify_off_the_workers(password.to_string(), phc).await? && real;
    let Some(user) = user.filter(|_| ok) else {
        limiter.failed(&user_key, now);
        limiter.failed(&client_key, now);
        return Err(CaseError::unauthorized("the username or the password is wrong"));
    };
    limiter.succeeded(&user_key);
    let secret = random_hex();
    let csrf_token = random_hex();
    let expires_at = now
        .checked_add(SignedDuration::from_hours(SESSION_HOURS))
        .unwrap_or(now);
    let row = SessionRow {
        id_hash: sha256_hex(&secret),
        user_id: user.id.clone(),
        csrf_token: csrf_token.clone(),
        created_at: instant(now),
        expires_at: instant(expires_at),
        revoked_at: None,
    };
    store.write(Unit::new().with(repo::insert_session(&row))).await?;
    Ok(OpenedSession {
        secret,
        csrf_token,
        expires_at,
        user,
    })
}

/// A hash of a random password, so that an unknown user costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_hex()).unwrap_or_default())
}

/// The live session of a cookie secret: (session, user), or `None` when unknown, expired,
/// revoked or the user is disabled.
pub async fn session(store: &Store, secret: &str, now: Timestamp) -> Result<Option<(SessionRow, UserRow)>, CaseError> {
    let Some(s) = store.session(&sha256_hex(secret)).await? else {
        return Ok(None);
    };
    if s.revoked_at.is_some() || koshi_store::parse_instant(&s.expires_at)? <= now {
        return Ok(None);
    }
    let Some(u) = store.user(&s.user_id).await? else {
        return Ok(None);
    };
    if u.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some((s, u)))
}

pub async fn sign_out(store: &Store, secret: &str, now: Timestamp) -> Result<(), CaseError> {
    store
        .write(Unit::new().with(repo::revoke_session(&sha256_hex(secret), &instant(now))))
        .await?;
    Ok(())
}

/// Proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`, `KOSHI_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`).
    pub fn parse(items: &[String]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let net = match item.parse::<ipnet::IpNet>() {
                Ok(n) => n,
                Err(_) => match item.parse::<std::net::IpAddr>() {
                    Ok(ip) => ipnet::IpNet::from(ip),
                    Err(_) => return Err(format!("--trusted-proxy {item:?}: not an IP address or network")),
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_and_differ_by_salt() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("correct horse batterY", &a));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn sign_in_limiter_blocks_after_five_failures_for_the_window() {
        let l = SignInLimiter::default();
        let t0: Timestamp = "2026-02-02T05:00:00Z".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(l.check("k", t0).is_ok());
            l.failed("k", t0);
        }
        assert!(l.check("k", t0).is_err());
        let later = t0
            .checked_add(SignedDuration::from_mins(FAILURE_WINDOW_MINUTES + 1))
            .unwrap();
        assert!(l.check("k", later).is_ok());
    }

    #[test]
    fn secrets_compare_in_constant_time_and_correctly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
