//! PostgreSQL over TLS with a CA made in the test (issue 15 item 2). The test server's own
//! certificate is Debian's (`koshi-store`'s test checks the server's TLS end to end); here a
//! TLS endpoint of the test's own, speaking PostgreSQL's `SSLRequest`, holds a certificate for
//! `localhost` from a fresh CA and passes the decrypted stream to the test server, so that what
//! is checked is Koshi's client: it verifies the chain and the name as the URL says, and never
//! falls back to plain text.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use koshi_store::{Location, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::deliveries::test_pki;

/// PostgreSQL's `SSLRequest`: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// A TLS endpoint in front of `upstream`: answers `S` to an `SSLRequest`, completes the
/// handshake with `config`, then relays. A client that does not ask for TLS, or fails the
/// handshake, is cut off. Returns the port and what it saw.
async fn tls_front(config: Arc<rustls::ServerConfig>, upstream: String) -> (u16, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let seen = Arc::new(Seen::default());
    let count = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, count, upstream) = (acceptor.clone(), count.clone(), upstream.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 8];
                if tcp.read_exact(&mut first).await.is_err() || first != SSL_REQUEST {
                    count.plain.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                if tcp.write_all(b"S").await.is_err() {
                    return;
                }
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.handshakes.fetch_add(1, Ordering::SeqCst);
                let Ok(mut up) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    (port, seen)
}

/// What the TLS endpoint saw: completed handshakes, and connections that began in plain text.
#[derive(Default)]
struct Seen {
    handshakes: AtomicUsize,
    plain: AtomicUsize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_verifies_a_ca_made_in_the_test() {
    let Ok(url) = std::env::var("KOSHI_TEST_DATABASE_URL") else {
        return;
    };
    let parsed = reqwest::Url::parse(&url).unwrap();
    let upstream = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432));
    let pki = test_pki();
    let stranger = test_pki();
    let dir = std::env::temp_dir().join(format!("koshi-pgtls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, other_ca) = (dir.join("ca.pem"), dir.join("other-ca.pem"));
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    std::fs::write(&other_ca, &stranger.ca_pem).unwrap();
    let (port, seen) = tls_front(pki.config.clone(), upstream).await;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    koshi_store::create_test_schema(&url, &schema).await.unwrap();
    // The test's URL (user, password, database, parameters) with the endpoint's host and port.
    let at = |mode: &str, root: Option<&std::path::Path>| {
        let mut u = parsed.clone();
        u.set_host(Some("localhost")).unwrap();
        u.set_port(Some(port)).unwrap();
        u.query_pairs_mut().append_pair("sslmode", mode);
        if let Some(r) = root {
            u.query_pairs_mut().append_pair("sslrootcert", &r.display().to_string());
        }
        Location::Postgres {
            url: u.to_string(),
            schema: Some(schema.clone()),
        }
    };

    // The CA that signed the endpoint's certificate, the name it was issued for: Koshi opens
    // its store (migrations, then a read) over the encrypted connection.
    let store = Store::open(&at("verify-full", Some(&ca))).await.unwrap();
    assert!(store.outbox(None, 10).await.unwrap().is_empty());
    store.close().await;
    let trusted = seen.handshakes.load(Ordering::SeqCst);
    assert!(trusted >= 1, "the connection went through the TLS endpoint");

    // Another CA: the certificate is refused, and nothing is sent in the clear instead.
    let refused = match Store::open(&at("verify-full", Some(&other_ca))).await {
        Ok(_) => panic!("a certificate from an untrusted CA was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");
    assert_eq!(seen.handshakes.load(Ordering::SeqCst), trusted);
    assert_eq!(
        seen.plain.load(Ordering::SeqCst),
        0,
        "no connection began in plain text"
    );

    // `require` encrypts but does not verify; `disable` asks for no TLS, and an endpoint that
    // insists on it cuts the connection: the first succeeding proves the traffic was TLS.
    let store = Store::open(&at("require", None)).await.unwrap();
    store.close().await;
    assert!(seen.handshakes.load(Ordering::SeqCst) > trusted);
    assert!(Store::open(&at("disable", None)).await.is_err());
    assert!(seen.plain.load(Ordering::SeqCst) >= 1, "the endpoint saw the plain one");

    koshi_store::drop_test_schema(&url, &schema).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
