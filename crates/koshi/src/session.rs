//! Who is on the other end of a request: the client's address (for rate limits) and a person's
//! session cookie, and the authenticated caller ([`Authed`]). Shared by the API and the web app.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::caller::{Caller, token_hash};
use crate::problem::Problem;
use crate::service::Service;

/// The client of a request: the connection's peer, or what the trusted proxies say it is
/// ([`crate::server::client_address`]). A client cannot choose it with `X-Forwarded-For`.
pub(crate) fn client_of(s: &Service, extensions: &axum::http::Extensions, headers: &HeaderMap) -> String {
    let peer = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    crate::server::client_address(peer, headers, &s.config.trusted_proxies)
}

/// The client of a request, for handlers.
pub struct Client(pub String);

impl FromRequestParts<Service> for Client {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, s: &Service) -> Result<Client, Problem> {
        Ok(Client(client_of(s, &parts.extensions, &parts.headers)))
    }
}

pub const SESSION_COOKIE: &str = "koshi_session";

/// The `Set-Cookie` value of a session just opened: HttpOnly, Secure, SameSite=Strict, for the
/// session's lifetime.
pub fn session_set_cookie(secret: &str) -> Option<axum::http::HeaderValue> {
    set_cookie(SESSION_COOKIE, secret, crate::accounts::SESSION_HOURS * 3600)
}

/// A secret's cookie: HttpOnly, Secure, SameSite=Strict, for `max_age` seconds.
fn set_cookie(name: &str, secret: &str, max_age: i64) -> Option<axum::http::HeaderValue> {
    format!("{name}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
        .parse()
        .ok()
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn session_cleared_cookie() -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_static("koshi_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The inviting party's cabinet (issue 17 item 5): the portal token its ЭЦП sign-in gave, kept
/// in a cookie of its own for the token's lifetime. It reads (the cabinet's pages, the party's
/// documents); every change comes with the cabinet's CSRF token ([`cabinet_csrf`]).
pub const PORTAL_COOKIE: &str = "koshi_portal";

pub(crate) fn portal_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, PORTAL_COOKIE)
}

pub fn portal_set_cookie(secret: &str) -> Option<axum::http::HeaderValue> {
    set_cookie(PORTAL_COOKIE, secret, crate::portal::TOKEN_LIFETIME.as_secs())
}

pub fn portal_cleared_cookie() -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_static("koshi_portal=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The cabinet's CSRF token: a digest of the token secret under a purpose of its own, which a
/// page of another site can neither read (the cookie is HttpOnly) nor compute.
pub(crate) fn cabinet_csrf(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!("koshi.cabinet.csrf\n{secret}")))
}

/// The caller a bearer token (or the cabinet's cookie) stands for.
pub(crate) async fn token_caller(service: &Service, token: &str) -> Result<Caller, Problem> {
    let hash = token_hash(token);
    let row = service
        .store
        .token_by_hash(&hash)
        .await?
        .ok_or_else(|| Problem::unauthorized("the token is not valid"))?;
    if row.revoked_at.is_some() {
        return Err(Problem::unauthorized("the token has been revoked"));
    }
    if let Some(end) = &row.expires_at
        && end.parse::<jiff::Timestamp>().map_or(true, |end| end <= service.now())
    {
        return Err(Problem::unauthorized("the token has expired: sign in again"));
    }
    // A portal token acts for the one inviting party its ЭЦП proved (issue 14 item 4);
    // one bound to no party (issued before) acts for nobody.
    if row.role == "portal" && row.party.is_none() {
        return Err(Problem::unauthorized(
            "this portal token is bound to no inviting party: sign in with the ЭЦП (POST /api/v1/portal/sessions)",
        ));
    }
    Ok(Caller {
        token_id: row.id,
        role: row.role,
        unit: row.unit,
        post: None,
        party: row.party,
    })
}

/// The authenticated caller of an API request, from `Authorization: Bearer …` (or the session
/// cookie): the edge's extractor of the case core's [`Caller`].
pub struct Authed(pub Caller);

impl FromRequestParts<Service> for Authed {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, service: &Service) -> Result<Authed, Problem> {
        caller_of(parts, service).await.map(Authed)
    }
}

async fn caller_of(parts: &mut Parts, service: &Service) -> Result<Caller, Problem> {
    if let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let header = header
            .to_str()
            .map_err(|_| Problem::unauthorized("the Authorization header is not text"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Problem::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
        return token_caller(service, token).await;
    }
    let safe = matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    // The inviting party's cabinet reads with its cookie (a document to download); it changes
    // nothing through the API.
    if safe
        && session_cookie(&parts.headers).is_none()
        && let Some(secret) = portal_cookie(&parts.headers)
    {
        return token_caller(service, &secret).await;
    }
    // A person's session: the cookie, and for every change the CSRF token in a header.
    let Some(secret) = session_cookie(&parts.headers) else {
        return Err(Problem::unauthorized("a bearer token or a session is required"));
    };
    let (session, user) = crate::accounts::session(&service.store, &secret, service.now())
        .await?
        .ok_or_else(|| Problem::unauthorized("the session has ended; sign in again"))?;
    if user.role == "portal" {
        return Err(Problem::unauthorized(
            "an inviting party signs in with its ЭЦП (POST /api/v1/portal/sessions), not with a password",
        ));
    }
    if !safe {
        let given = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !crate::accounts::same_secret(given, &session.csrf_token) {
            return Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "csrf_token_invalid",
                "a change made with a session needs its X-CSRF-Token header",
            ));
        }
    }
    Ok(Caller::of_account(user))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cleared_cookie_is_the_session_cookie() {
        let cleared = super::session_cleared_cookie();
        assert!(
            cleared
                .to_str()
                .unwrap()
                .starts_with(&format!("{}=;", super::SESSION_COOKIE))
        );
        let set = super::session_set_cookie("abc").unwrap();
        assert!(
            set.to_str()
                .unwrap()
                .starts_with(&format!("{}=abc;", super::SESSION_COOKIE))
        );
    }
}
