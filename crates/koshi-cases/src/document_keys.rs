//! The documents' signing key and the public keys Koshi has ever used (issue 16): the state a
//! running Koshi keeps for its documents, apart from the use cases (`documents`).

use std::sync::Arc;

use jiff::Timestamp;
use koshi_forms::seal::{DocumentKey, KeySet, PublishedKey};
use koshi_store::repo::{self, DocumentKeyRow};
use koshi_store::{Store, Unit, instant};

/// The signing key a deployment configures (`--document-key`), with the certificate its PKI
/// issued for it, if any.
#[derive(Clone)]
pub struct DocumentKeyConfig {
    pub pem: String,
    pub certificate: Option<String>,
}

/// Koshi's signing key and the public keys it has ever used.
pub struct Documents {
    key: DocumentKey,
    public_url: String,
    keys: arc_swap::ArcSwap<KeySet>,
}

impl Documents {
    /// The configured key (registered on first use with its certificate), or, outside production,
    /// the development key Koshi made and kept in the database the first time it ran.
    pub async fn open(
        store: &Store,
        configured: Option<&DocumentKeyConfig>,
        public_url: &str,
        now: Timestamp,
    ) -> anyhow::Result<Documents> {
        let rows = store.document_keys().await?;
        let subject = "CN=Koshi document signing,O=Migration Police,C=KZ";
        let (key, new_row) = match configured {
            Some(c) => {
                let key = DocumentKey::from_pkcs8_pem(&c.pem).map_err(|e| anyhow::anyhow!("document key: {e}"))?;
                if rows.iter().any(|r| r.kid == key.kid()) {
                    (key, None)
                } else {
                    let certificate = match &c.certificate {
                        Some(pem) => pem.clone(),
                        None => key
                            .self_signed_certificate(now, subject)
                            .map_err(|e| anyhow::anyhow!("document key: {e}"))?,
                    };
                    let row = DocumentKeyRow {
                        kid: key.kid().to_string(),
                        public_key: key.public_key().map_err(|e| anyhow::anyhow!("{e}"))?,
                        certificate,
                        private_key: None,
                        created_at: instant(now),
                    };
                    (key, Some(row))
                }
            }
            None => match rows.iter().rev().find_map(|r| r.private_key.as_deref()) {
                Some(pem) => (
                    DocumentKey::from_pkcs8_pem(pem).map_err(|e| anyhow::anyhow!("development document key: {e}"))?,
                    None,
                ),
                None => {
                    let (key, pem) = DocumentKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
                    let row = DocumentKeyRow {
                        kid: key.kid().to_string(),
                        public_key: key.public_key().map_err(|e| anyhow::anyhow!("{e}"))?,
                        certificate: key
                            .self_signed_certificate(now, "CN=Koshi development document signing (not for production)")
                            .map_err(|e| anyhow::anyhow!("{e}"))?,
                        private_key: Some(pem),
                        created_at: instant(now),
                    };
                    (key, Some(row))
                }
            },
        };
        if let Some(row) = new_row {
            store.write(Unit::new().with(repo::insert_document_key(&row))).await?;
        }
        let documents = Documents {
            key,
            public_url: public_url.trim_end_matches('/').to_string(),
            keys: arc_swap::ArcSwap::from_pointee(KeySet::default()),
        };
        documents.refresh(store).await?;
        Ok(documents)
    }

    /// Reloads the published keys (another instance may have registered one).
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<()> {
        let rows = store.document_keys().await?;
        let keys = rows
            .into_iter()
            .map(|r| PublishedKey {
                status: if r.kid == self.key.kid() { "current" } else { "retired" }.into(),
                kid: r.kid,
                alg: "ES256".into(),
                public_key: r.public_key,
                certificate: r.certificate,
            })
            .collect();
        self.keys.store(Arc::new(KeySet { keys }));
        Ok(())
    }

    /// Every public key Koshi has signed with (`/.well-known/koshi/document-keys.json`).
    pub fn key_set(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// The key that signs new documents.
    pub fn key(&self) -> &DocumentKey {
        &self.key
    }

    pub fn verify_url(&self, code: &str) -> String {
        format!("{}/verify/{code}", self.public_url)
    }
}
