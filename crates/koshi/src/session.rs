//! Who is on the other end of a request: the client's address (for rate limits) and a person's
//! session cookie. Shared by the API and the web app.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

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
    let max_age = crate::accounts::SESSION_HOURS * 3600;
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
        .parse()
        .ok()
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn session_cleared_cookie() -> axum::http::HeaderValue {
    axum::http::HeaderValue::from_static("koshi_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
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
