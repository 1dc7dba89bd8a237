//! The HTTP server with the limits a public service needs against hostile clients (issue 15
//! item 5): a deadline for a request's headers (a client that sends them byte by byte is cut
//! off), a deadline for the whole request with its body, a bound on open connections, and a
//! deadline for shutdown (connections still open then are closed). Each request carries its
//! peer address, which [`client_address`] turns into the client's, trusting `X-Forwarded-For`
//! only from the proxies configuration names.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

/// Limits of the server. The defaults suit a service behind a reverse proxy.
#[derive(Debug, Clone)]
pub struct Limits {
    /// From a connection's first byte (or the end of its previous request) to the end of a
    /// request's headers.
    pub header_read_timeout: Duration,
    /// From a request's headers to its answer, body included: a body trickled slower is cut
    /// off with 408.
    pub request_timeout: Duration,
    /// Connections open at once; further clients wait in the listen queue.
    pub max_connections: usize,
    /// After a stop signal: how long requests in flight may still finish.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_connections: 4096,
            shutdown_deadline: Duration::from_secs(20),
        }
    }
}

pub use koshi_cases::accounts::TrustedProxies;

/// The client a request comes from: the peer, unless the peer is a trusted proxy; then the
/// nearest address in `X-Forwarded-For` that is not a trusted proxy (a client cannot choose it by
/// sending the header itself: only what trusted proxies appended counts).
pub fn client_address(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    let mut client = peer.ip().to_canonical();
    if trusted.trusts(client) {
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !trusted.trusts(client) {
                        break;
                    }
                }
                // A malformed hop: the proxy did not write it; stop at the last good one.
                Err(_) => break,
            }
        }
    }
    client.to_string()
}

/// Serves `router` on `listener` until `stop` completes, within [`Limits`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    stop: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(crate::edge::problem_for_every_error));
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are a client's (a reset, a header deadline): nothing to report.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            deadline_s = limits.shutdown_deadline.as_secs(),
            "connections still open at the shutdown deadline were closed"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let none = TrustedProxies::default();
        let peer: SocketAddr = "203.0.113.7:5000".parse().unwrap();
        // A client sending the header itself does not change who it is.
        assert_eq!(client_address(Some(peer), &headers(&["1.2.3.4"]), &none), "203.0.113.7");
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.1".into()]).unwrap();
        let via_proxy: SocketAddr = "10.1.2.3:443".parse().unwrap();
        // The nearest untrusted hop: what the client wrote first is ignored.
        assert_eq!(
            client_address(
                Some(via_proxy),
                &headers(&["6.6.6.6, 198.51.100.9, 192.0.2.1"]),
                &proxies
            ),
            "198.51.100.9"
        );
        assert_eq!(client_address(Some(via_proxy), &headers(&[]), &proxies), "10.1.2.3");
        assert_eq!(
            client_address(Some(via_proxy), &headers(&["198.51.100.9", "10.9.9.9"]), &proxies),
            "198.51.100.9"
        );
        assert!(TrustedProxies::parse(&["not-an-ip".into()]).is_err());
    }
}
