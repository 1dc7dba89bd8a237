//! A Koshi per test: its own database (SQLite file or PostgreSQL schema), simulated registries,
//! a manual clock, an HTTP server on port 0, and a token per role.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use koshi::app::{App, RegistrySource};
use koshi::demo;
use koshi::model::ApplicationRequest;
use koshi::service::ServiceConfig;
use koshi_law::Law;
use koshi_registries::clock::ManualClock;
use koshi_registries::sim::Fixtures;
use koshi_store::Location;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub app: App,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub tokens: HashMap<&'static str, String>,
    pub law: Arc<Law>,
    pub fixtures: Fixtures,
    cleanup: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
    server: tokio::task::JoinHandle<()>,
    location: Location,
    config: ServiceConfig,
}

/// Monday 2 February 2026, 10:00 in Almaty.
pub const T0: &str = "2026-02-02T05:00:00Z";

pub struct Options {
    pub straight_through: bool,
    pub household_limit: Option<u32>,
    pub trust_store: Option<Arc<koshi_sign::TrustStore>>,
    pub gost_verifier: Option<Arc<dyn koshi::gost::GostVerifier>>,
    pub process_on_intake: bool,
    /// Name the demo's duty officers for ALM-01 and ALM-02 (п. 9-1): clean cases are formed in
    /// their name in working time; without them they wait for an officer.
    pub duty_officers: bool,
    /// Where outbox messages go; by default every topic to the in-memory receiver.
    pub deliveries: koshi::delivery::Deliveries,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// The HTTP server's limits; the defaults of `koshi serve` unless given.
    pub limits: Option<koshi::server::Limits>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            straight_through: true,
            household_limit: Some(3),
            trust_store: None,
            gost_verifier: None,
            process_on_intake: true,
            duty_officers: true,
            deliveries: koshi::delivery::Deliveries::default(),
            trusted_proxies: Vec::new(),
            limits: None,
        }
    }
}

/// A Koshi on SQLite in `dir` (kept after the test, for tools that inspect it).
pub async fn spawn_at(dir: &std::path::Path) -> TestApp {
    let mut t = spawn_with(
        Location::SqliteFile(dir.join("koshi.db")),
        None,
        None,
        Options::default(),
    )
    .await;
    t.dir = None;
    t
}

/// A test app whose outbox messages go to `deliveries` (the rest as [`Options::default`]).
pub async fn spawn_delivering(backend: Backend, deliveries: koshi::delivery::Deliveries) -> Option<TestApp> {
    spawn(
        backend,
        Options {
            deliveries,
            ..Default::default()
        },
    )
    .await
}

pub async fn spawn(backend: Backend, opts: Options) -> Option<TestApp> {
    let (location, cleanup, dir) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!("koshi-it-{}", uuid::Uuid::new_v4()));
            (Location::SqliteFile(dir.join("koshi.db")), None, Some(dir))
        }
        Backend::Postgres => {
            let url = std::env::var("KOSHI_TEST_DATABASE_URL").ok()?;
            let schema = format!("it_{}", uuid::Uuid::new_v4().simple());
            let loc = koshi_store::create_test_schema(&url, &schema).await.unwrap();
            (loc, Some((url, schema)), None)
        }
    };
    Some(spawn_with(location, cleanup, dir, opts).await)
}

async fn spawn_with(
    location: Location,
    cleanup: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
    opts: Options,
) -> TestApp {
    let mut law = Law::builtin().unwrap();
    law.params.household_limit_per_employer = opts.household_limit;
    let law = Arc::new(law);
    let clock = Arc::new(ManualClock::new(T0.parse().unwrap()));
    let fixtures = Fixtures::demo().unwrap();
    let config = ServiceConfig {
        straight_through: opts.straight_through,
        trust_store: opts.trust_store.clone(),
        gost_verifier: opts.gost_verifier.clone(),
        process_on_intake: opts.process_on_intake,
        duty_officers: koshi::demo::DUTY_OFFICERS
            .iter()
            .filter(|_| opts.duty_officers)
            .map(|(u, a)| (u.to_string(), a.to_string()))
            .collect(),
        deliveries: opts.deliveries.clone(),
        trusted_proxies: koshi::server::TrustedProxies::parse(&opts.trusted_proxies).unwrap(),
        ..Default::default()
    };
    let app = App::build(
        &location,
        law.clone(),
        RegistrySource::Simulated(fixtures.clone()),
        clock.clone(),
        config.clone(),
    )
    .await
    .unwrap();
    let mut app = app;
    if let Some(l) = &opts.limits {
        app.limits = l.clone();
    }
    koshi::demo::duty_officer_accounts(&app).await.unwrap();
    koshi::app::check_duty_officers(&app.service).await.unwrap();
    let mut tokens = HashMap::new();
    // Each role at a unit of its kind; the portal token acts for the demo company (BIN), as an
    // ЭЦП sign-in of its director would make it.
    for role in koshi::api::ROLES {
        let t = match role {
            "portal" => {
                koshi::app::issue_party_token(&app.service.store, "EGOV", koshi::demo::COMPANY_BIN, "test").await
            }
            "con_operator" => koshi::app::issue_token(&app.service.store, role, "CON-ALM-01", "test").await,
            "auditor" => koshi::app::issue_token(&app.service.store, role, "MVD", "test").await,
            "agency" => koshi::app::issue_token(&app.service.store, role, "AG-BANK", "test").await,
            _ => koshi::app::issue_token(&app.service.store, role, "ALM-01", "test").await,
        };
        tokens.insert(role, t.unwrap().1);
    }
    // The bodies of п. 14, each answering through its own identity (tokens keyed by the agency):
    // the УМС ДП by one of its officers, the others by their system tokens.
    for (agency, role, unit) in [
        ("ums_dp", "officer", "UMS-ALM"),
        ("bank", "agency", "AG-BANK"),
        ("police_records", "agency", "AG-POLICE-RECORDS"),
        ("kpsisu", "agency", "AG-KPSISU"),
        ("national_security", "agency", "AG-KNB"),
    ] {
        let (_, t) = koshi::app::issue_token(&app.service.store, role, unit, "test")
            .await
            .unwrap();
        tokens.insert(agency, t);
    }
    let (base, server) = serve(&app).await;
    TestApp {
        app,
        base,
        http: koshi_registries::tls::client_builder().build().unwrap(),
        clock,
        tokens,
        law,
        fixtures,
        cleanup,
        dir,
        server,
        location,
        config,
    }
}

/// Serves the app's API on a free local port: its base URL and the server task.
async fn serve(app: &App) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let limits = app.limits.clone();
    let server = tokio::spawn(async move {
        koshi::server::serve(listener, router, limits, std::future::pending())
            .await
            .unwrap();
    });
    (base, server)
}

impl TestApp {
    /// Stops this Koshi and starts a new one on the same database (the clock goes on): what a
    /// restart or a crash between requests looks like. Tokens live in the database.
    pub async fn restart(self) -> TestApp {
        self.server.abort();
        self.app.service.settle().await;
        self.app.service.store.close().await;
        let app = App::build(
            &self.location,
            self.law.clone(),
            RegistrySource::Simulated(self.fixtures.clone()),
            self.clock.clone(),
            self.config.clone(),
        )
        .await
        .unwrap();
        let (base, server) = serve(&app).await;
        TestApp {
            app,
            base,
            server,
            ..self
        }
    }

    /// Restarts with a configured document signing key (a rotation).
    pub async fn restart_with_document_key(mut self, key: koshi::document_keys::DocumentKeyConfig) -> TestApp {
        self.config.document_key = Some(key);
        self.restart().await
    }

    pub fn request(&self, document_number: &str, purpose: &str) -> ApplicationRequest {
        demo::request(&self.law, &self.fixtures, document_number, purpose)
    }

    pub async fn post(&self, role: &str, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(role, path, serde_json::to_vec(body).unwrap(), None).await
    }

    pub async fn post_raw(&self, role: &str, path: &str, body: Vec<u8>, key: Option<&str>) -> (u16, Value) {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = self.tokens.get(role) {
            r = r.bearer_auth(t);
        } else if !role.is_empty() {
            r = r.bearer_auth(role);
        }
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if status >= 400 {
            assert_eq!(ct, "application/problem+json", "{status} {v}");
            assert!(v["type"].as_str().unwrap().starts_with("urn:koshi:problem:"), "{v}");
        }
        (status, v)
    }

    pub async fn get(&self, role: &str, path: &str) -> (u16, Value) {
        let mut r = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = self.tokens.get(role) {
            r = r.bearer_auth(t);
        }
        let resp = r.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    /// Files and returns (status, body).
    pub async fn file(&self, req: &ApplicationRequest) -> (u16, Value) {
        self.post("officer", "/api/v1/applications", &serde_json::to_value(req).unwrap())
            .await
    }

    /// Files, lets the background work run, and returns the case.
    pub async fn file_and_process(&self, req: &ApplicationRequest) -> Value {
        let (s, v) = self.file(req).await;
        assert_eq!(s, 201, "{v}");
        self.app.service.tick().await.unwrap();
        self.case(v["id"].as_str().unwrap()).await
    }

    pub async fn case(&self, id: &str) -> Value {
        let (s, v) = self.get("officer", &format!("/api/v1/applications/{id}")).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn counts(&self) -> Vec<(String, i64)> {
        self.app.service.store.table_counts().await.unwrap()
    }

    pub fn advance(&self, minutes: i64) {
        self.clock.advance(jiff::SignedDuration::from_mins(minutes));
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn now(&self) -> Timestamp {
        use koshi_registries::clock::Clock;
        self.clock.now()
    }

    pub async fn done(self) {
        self.server.abort();
        self.app.service.settle().await;
        self.app.service.store.close().await;
        if let Some((url, schema)) = self.cleanup {
            koshi_store::drop_test_schema(&url, &schema).await.unwrap();
        }
        if let Some(d) = self.dir {
            std::fs::remove_dir_all(d).ok();
        }
    }
}

/// How many audit events of a case view record `action`.
pub fn count_actions(case: &Value, action: &str) -> usize {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .count()
}

/// Runs the same async test body on SQLite and PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $opts:expr, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::harness::spawn($crate::harness::Backend::Sqlite, $opts)
                    .await
                    .unwrap();
                super::$body(&t).await;
                t.done().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::harness::spawn($crate::harness::Backend::Postgres, $opts).await else {
                    return;
                };
                super::$body(&t).await;
                t.done().await;
            }
        }
    };
}

/// An HTTP client that does not follow redirects: a page's 303 and its Location are what a test
/// looks at.
pub fn no_redirects() -> reqwest::Client {
    koshi_registries::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` a response's `Set-Cookie` sets.
pub fn cookie_of(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}
