//! JetStream as a receiver that goes away and comes back, and over TLS (issue 15 items 1–2).
//! Each test runs a `nats-server` of its own (the binary `.ci/run` installs), so that it can be
//! stopped, started again on the same store, and given a certificate made in the test.
//! Like the other JetStream tests they run when `KOSHI_TEST_NATS_URL` is set (CI), and fail
//! there when no `nats-server` can be found.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use koshi::delivery::jetstream::JetStream;
use koshi::delivery::{Deliveries, Failure, Message, Sink};

use crate::deliveries::{TestPki, file_clean_case, nats_url, outbox, relay, stream_by_id, test_pki};
use crate::harness::{Backend, spawn_delivering};

/// A `nats-server` of the test's own, with JetStream on a store directory that outlives a stop.
struct NatsServer {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    /// Certificate and key files: the server then requires TLS.
    tls: Option<(PathBuf, PathBuf)>,
    child: Option<Child>,
}

/// The `nats-server` binary: `KOSHI_TEST_NATS_SERVER`, else on the PATH, else Debian's.
/// `None` (the test does not run) when JetStream tests are not configured; configured, a missing
/// binary fails the test.
fn nats_binary() -> Option<PathBuf> {
    nats_url()?;
    let named = std::env::var_os("KOSHI_TEST_NATS_SERVER").map(PathBuf::from);
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nats-server"))
            .find(|f| f.is_file())
    });
    let found = named
        .or(on_path)
        .or_else(|| Some(PathBuf::from("/usr/sbin/nats-server")).filter(|p| p.is_file()));
    Some(found.expect("KOSHI_TEST_NATS_URL is set but no nats-server binary was found"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl NatsServer {
    fn new(bin: PathBuf, tls: Option<&TestPki>) -> NatsServer {
        let dir = std::env::temp_dir().join(format!("koshi-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let tls = tls.map(|pki| {
            let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
            std::fs::write(&cert, &pki.cert_pem).unwrap();
            std::fs::write(&key, &pki.key_pem).unwrap();
            (cert, key)
        });
        let mut s = NatsServer {
            bin,
            port: free_port(),
            dir,
            tls,
            child: None,
        };
        s.start();
        s
    }

    /// Starts the server (again, on the same port and store) and waits until it listens.
    fn start(&mut self) {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(self.dir.join("store"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((cert, key)) = &self.tls {
            cmd.arg("--tls").arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
        }
        self.child = Some(cmd.spawn().unwrap());
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nats-server did not listen on port {} within 10 s", self.port);
    }

    /// Stops the server as a crash would (SIGKILL): its store stays.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How many copies of each message the stream holds, by `Nats-Msg-Id`.
async fn stream_copies(client: async_nats::Client, stream: &str) -> BTreeMap<String, usize> {
    stream_by_id(client, stream)
        .await
        .into_iter()
        .map(|(id, (_, n, _))| (id, n))
        .collect()
}

/// The JetStream server goes down (killed) while cases are filed and comes back on its store:
/// the messages of the outage wait, retried and saying why, and arrive after; the consumer
/// finds every message of the run once per id, those sent before the outage included.
async fn jetstream_down_then_back(backend: Backend) {
    let Some(bin) = nats_binary() else {
        return;
    };
    let mut server = NatsServer::new(bin, None);
    let url = format!("nats://127.0.0.1:{}", server.port);
    let deliveries = Deliveries::parse(&[format!("*={url}")]).unwrap();
    let Some(t) = spawn_delivering(backend, deliveries.clone()).await else {
        return;
    };
    file_clean_case(&t, "FA1234567").await;
    relay(&t).await;
    let before = outbox(&t).await;
    assert!(before.iter().all(|m| m.state == "delivered"), "{before:?}");

    server.stop();
    file_clean_case(&t, "751234567").await;
    relay(&t).await;
    let waiting: Vec<_> = outbox(&t).await.into_iter().filter(|m| m.state == "pending").collect();
    assert!(!waiting.is_empty(), "the second case's messages wait");
    assert!(
        waiting.iter().all(|m| m.attempts >= 1 && m.last_error.is_some()),
        "{waiting:?}"
    );

    server.start();
    // The client reconnects in the background; each pass after the backoff tries again.
    let mut all = Vec::new();
    // Up to 30 s: the client waits up to 4 s between attempts to reconnect.
    for _ in 0..60 {
        t.advance(5);
        relay(&t).await;
        all = outbox(&t).await;
        if all.iter().all(|m| m.state == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(all.iter().all(|m| m.state == "delivered"), "{all:?}");
    assert!(all.len() > before.len());

    let client = async_nats::connect(&url).await.unwrap();
    let copies = stream_copies(client, &deliveries.stream).await;
    assert_eq!(copies.len(), all.len(), "{copies:?}");
    for m in &all {
        assert_eq!(copies.get(&m.id), Some(&1), "{} once", m.id);
    }
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_down_then_back_sqlite() {
    jetstream_down_then_back(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_down_then_back_postgres() {
    jetstream_down_then_back(Backend::Postgres).await;
}

/// NATS over TLS (`tls://`, issue 15 item 2), with a CA made in the test: a publisher that does
/// not trust the server's certificate delivers nothing; one given the CA file delivers, and the
/// stream holds the message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_over_tls_trusts_the_named_ca_and_no_other() {
    let Some(bin) = nats_binary() else {
        return;
    };
    let pki = test_pki();
    let server = NatsServer::new(bin, Some(&pki));
    let ca = server.path("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let url = format!("tls://localhost:{}", server.port);
    let m = Message {
        id: "m-nats-tls-1",
        payload: r#"{"stage":"accepted"}"#,
        request_id: None,
    };

    let untrusting = JetStream::connect(&url, "KOSHI", "koshi", None).await.unwrap();
    match untrusting.deliver("monitoring", m).await {
        Err(Failure::Retry(_)) => {}
        other => panic!("a server with an untrusted certificate took the message: {other:?}"),
    }
    let trusting = JetStream::connect(&url, "KOSHI", "koshi", Some(&ca)).await.unwrap();
    trusting.deliver("monitoring", m).await.unwrap();

    let client = async_nats::ConnectOptions::new()
        .add_root_certificates(ca.clone())
        .require_tls(true)
        .connect(&url)
        .await
        .unwrap();
    let copies = stream_copies(client, "KOSHI").await;
    assert_eq!(copies, BTreeMap::from([("m-nats-tls-1".to_string(), 1)]));
    // A client that trusts only the system's roots is refused.
    assert!(
        async_nats::connect(format!("nats://127.0.0.1:{}", server.port))
            .await
            .is_err()
    );
}
