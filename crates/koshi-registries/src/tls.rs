//! TLS for the HTTP connections Koshi opens (registry gateways, the GOST verifier, webhooks):
//! rustls with the ring provider, the platform's trusted roots, and the roots of a CA file the
//! deployment names (`--ca-file`, `KOSHI_CA_FILE`) for gateways under a private CA.
//! PostgreSQL's TLS is sqlx's (`sslmode`, `sslrootcert` in the database URL); NATS's is
//! async-nats's (`tls://`), with the same CA file.

use std::sync::RwLock;

static EXTRA_ROOTS: RwLock<Vec<reqwest::Certificate>> = RwLock::new(Vec::new());

/// Installs ring as the process's TLS provider (once; later calls change nothing).
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Trusts the certificates of a PEM bundle, besides the platform's roots, for clients built
/// from now on. Returns how many were added.
pub fn add_roots_pem(pem: &[u8]) -> Result<usize, String> {
    let certs =
        reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("not a PEM bundle of certificates: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file".into());
    }
    let n = certs.len();
    EXTRA_ROOTS.write().unwrap_or_else(|p| p.into_inner()).extend(certs);
    Ok(n)
}

/// A client builder with Koshi's TLS: rustls, the platform's roots and the added ones.
pub fn client_builder() -> reqwest::ClientBuilder {
    init();
    let roots = EXTRA_ROOTS.read().unwrap_or_else(|p| p.into_inner()).clone();
    let b = reqwest::Client::builder().tls_backend_rustls();
    if roots.is_empty() { b } else { b.tls_certs_merge(roots) }
}
