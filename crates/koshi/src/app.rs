//! Building and running Koshi: store, law, registries, service, HTTP server and background work.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use koshi_law::Law;
use koshi_registries::Registries;
use koshi_registries::clock::{Clock, SystemClock};
use koshi_registries::http::HttpRegistries;
use koshi_registries::sim::{Fixtures, Simulator};
use koshi_store::repo::{self, TokenRow};
use koshi_store::{Location, Store, Unit, instant};

use crate::authz::Authz;
use crate::delivery::MemorySink;
use crate::service::{Service, ServiceConfig};

/// Where registry answers come from.
#[derive(Clone)]
pub enum RegistrySource {
    /// The built-in simulators, from fixtures.
    Simulated(Fixtures),
    /// An HTTP gateway with the registry contract (e.g. `koshi registry-sim`).
    Http(String),
}

/// A running Koshi: the service and, when simulated, handles on the simulators.
pub struct App {
    pub service: Service,
    /// The HTTP server's limits (header and request deadlines, connections, shutdown).
    pub limits: crate::server::Limits,
    pub sim: Option<Arc<Simulator>>,
    pub sink: Arc<MemorySink>,
}

impl App {
    pub async fn build(
        location: &Location,
        law: Arc<Law>,
        registries: RegistrySource,
        clock: Arc<dyn Clock>,
        config: ServiceConfig,
    ) -> Result<App> {
        koshi_registries::tls::init();
        let store = Store::open(location).await.context("cannot open the database")?;
        check_clock(&store, config.drill_clock.as_deref()).await?;
        let (regs, sim) = match registries {
            RegistrySource::Simulated(f) => {
                let sim = Arc::new(Simulator::new(f, clock.clone()));
                (Registries::all(sim.clone()), Some(sim))
            }
            RegistrySource::Http(url) => {
                let http = HttpRegistries::new(&url, config.registry_timeout)
                    .map_err(|e| anyhow::anyhow!("registry gateway {url}: {e}"))?;
                (Registries::all(Arc::new(http)), None)
            }
        };
        let sink = Arc::new(MemorySink::new());
        let routed = config
            .deliveries
            .connect(sink.clone())
            .await
            .map_err(|e| anyhow::anyhow!("deliveries: {e}"))?;
        let authz = Arc::new(load_authz()?);
        let documents = Arc::new(
            crate::document_keys::Documents::open(
                &store,
                config.document_key.as_ref(),
                &config.public_url,
                clock.now(),
            )
            .await
            .context("document signing key")?,
        );
        let service = Service::new(crate::service::ServiceParts {
            law,
            store,
            registries: regs,
            clock,
            sink: routed,
            config,
            authz,
            documents,
        });
        // Official years and MCI figures loaded while an earlier process ran: a load that cannot
        // be applied stops the start, rather than serving on a law older than the one announced.
        service
            .refresh_law()
            .await
            .map_err(|e| anyhow::anyhow!("law data in the database: {}", e.detail))?;
        Ok(App {
            service,
            sim,
            sink,
            limits: crate::server::Limits::default(),
        })
    }

    pub fn router(&self) -> axum::Router {
        crate::api::router(self.service.clone())
    }

    /// Serves HTTP and runs the background work (check retries, deliveries) every second.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> Result<()> {
        let service = self.service.clone();
        let worker = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                if let Err(e) = service.tick().await {
                    tracing::warn!(error = %e.detail, "background pass failed; retrying");
                }
            }
        });
        // The relay: keeps up with intake by claiming the next batch at once while batches
        // come full, and looks again every 200 ms otherwise; several passes at once, so that one
        // sends while another waits for the database.
        let mut relay = tokio::task::JoinSet::new();
        for _ in 0..crate::rvp::background::RELAY_WORKERS {
            let service = self.service.clone();
            relay.spawn(async move {
                loop {
                    match service.deliver_due().await {
                        Ok(n) if n as i64 >= crate::rvp::background::OUTBOX_BATCH => continue,
                        Ok(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                        Err(e) => {
                            tracing::warn!(error = %e.detail, "delivery pass failed; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            });
        }
        let router = self.router();
        let r = crate::server::serve(listener, router, self.limits.clone(), shutdown()).await;
        worker.abort();
        relay.abort_all();
        self.service.settle().await;
        // The writer commits what is queued, and the WAL is copied back into the database.
        self.service.store.close().await;
        r.context("the HTTP server stopped")
    }
}

/// A drill's simulated clock and the real clock never share a database: a database that holds
/// cases filed on the real clock refuses a simulated one, and a drill's database (it keeps the
/// drill clock's offset) refuses the real clock. A drill resumes its clock where it stopped.
async fn check_clock(store: &Store, drill: Option<&koshi_registries::clock::SimulatedClock>) -> Result<()> {
    let offset = store.drill_clock().await?;
    match (drill, offset) {
        (Some(clock), Some(offset)) => {
            if offset > clock.offset_ms() {
                clock
                    .advance(jiff::SignedDuration::from_millis(offset - clock.offset_ms()))
                    .map_err(|e| anyhow::anyhow!(e))?;
            }
            Ok(())
        }
        (Some(clock), None) => {
            if store.count_applications().await? > 0 {
                anyhow::bail!(
                    "this database holds cases filed on the real clock: a simulated clock is refused (a drill runs on a database of its own)"
                );
            }
            store
                .write(Unit::new().with(repo::set_drill_clock(clock.offset_ms(), &instant(SystemClock.now()))))
                .await?;
            Ok(())
        }
        (None, Some(_)) => anyhow::bail!(
            "this database was used for a drill with a simulated clock: Koshi will not serve it on the real clock"
        ),
        (None, None) => Ok(()),
    }
}

/// Ctrl-C, or SIGTERM (what service managers send to stop a process).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Units and permissions: shipped data unless `KOSHI_UNITS` / `KOSHI_PERMISSIONS` name files.
pub fn load_authz() -> Result<Authz> {
    Authz::load().map_err(|e| anyhow::anyhow!("{e}"))
}

/// `UNIT=ACCOUNT` pairs naming each police body's duty officer account (п. 9-1).
pub fn parse_duty_officers(items: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let Some((unit, account)) = item.split_once('=') else {
            anyhow::bail!("--duty-officer {item:?}: expected UNIT=ACCOUNT");
        };
        if out
            .insert(unit.trim().to_string(), account.trim().to_string())
            .is_some()
        {
            anyhow::bail!("--duty-officer: unit {unit} is named twice");
        }
    }
    Ok(out)
}

/// Every configured duty officer is an officer's account of a police body that serves the unit
/// it forms acts for; otherwise Koshi does not start.
pub async fn check_duty_officers(service: &Service) -> Result<()> {
    for (unit, account) in &service.config.duty_officers {
        if !service.authz.is_police(unit) {
            anyhow::bail!("duty officer {account}: {unit} is not a police body");
        }
        let Some(user) = service.store.user_by_name(account).await? else {
            anyhow::bail!("duty officer {account} for {unit}: no such account (koshi user add)");
        };
        if user.disabled_at.is_some() {
            anyhow::bail!("duty officer {account} for {unit}: the account is disabled");
        }
        if user.role != "officer" || !service.authz.serves(&user.unit, unit) {
            anyhow::bail!(
                "duty officer {account} for {unit}: the account is a {} of {}, not an officer of a body serving {unit}",
                user.role,
                user.unit
            );
        }
    }
    Ok(())
}

/// The unit kinds a role belongs to ([`Authz::role_fits_unit`]).
pub fn role_fits_unit(authz: &Authz, role: &str, unit: &str) -> Result<()> {
    authz.role_fits_unit(role, unit).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Issues an API token: printed once, stored only as its SHA-256. Portal tokens are bound to an
/// inviting party proven by its ЭЦП and come only from [`issue_party_token`].
pub async fn issue_token(store: &Store, role: &str, unit: &str, label: &str) -> Result<(String, String)> {
    if !crate::caller::ROLES.contains(&role) {
        anyhow::bail!("unknown role {role:?}; roles: {}", crate::caller::ROLES.join(", "));
    }
    if role == "portal" {
        anyhow::bail!(
            "portal tokens are bound to the inviting party its ЭЦП proves: sign in with POST /api/v1/portal/sessions"
        );
    }
    role_fits_unit(&load_authz()?, role, unit)?;
    let secret = crate::caller::new_token_secret();
    let id = uuid::Uuid::now_v7().to_string();
    let row = TokenRow {
        id: id.clone(),
        token_hash: crate::caller::token_hash(&secret),
        role: role.into(),
        unit: unit.into(),
        label: label.into(),
        created_at: instant(SystemClock.now()),
        revoked_at: None,
        party: None,
        expires_at: None,
    };
    store.write(Unit::new().with(repo::insert_token(&row))).await?;
    Ok((id, secret))
}

/// A portal token acting for `party` (an IIN or BIN an ЭЦП certificate proved), at the portal
/// unit `unit`, for [`crate::portal::TOKEN_LIFETIME`]. The sign-in endpoint is the way in; this
/// serves the demo and the tests, which stand in for a sign-in.
pub async fn issue_party_token(store: &Store, unit: &str, party: &str, label: &str) -> Result<(String, String)> {
    role_fits_unit(&load_authz()?, "portal", unit)?;
    if party.len() != 12 || !party.bytes().all(|b| b.is_ascii_digit()) {
        anyhow::bail!("a portal party is an IIN or a BIN of 12 digits");
    }
    let id = uuid::Uuid::now_v7().to_string();
    let (row, secret) = crate::portal::party_token(id.clone(), unit, party, label, SystemClock.now());
    store.write(Unit::new().with(repo::insert_token(&row))).await?;
    Ok((id, secret))
}

pub async fn revoke_token(store: &Store, id: &str) -> Result<()> {
    store
        .write(Unit::new().with(repo::revoke_token(id, &instant(SystemClock.now()))))
        .await
        .map_err(|_| anyhow::anyhow!("no active token with id {id}"))
}

/// The data location every data command honours: `KOSHI_DATABASE_URL`, else `--data-dir`.
pub fn location(data: &crate::config::DataArgs) -> Result<Location> {
    let url = data.database_url.as_deref().filter(|s| !s.trim().is_empty());
    Location::resolve(url, &data.data_dir).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn parse_listen(s: &str) -> Result<SocketAddr> {
    s.parse()
        .with_context(|| format!("--listen {s:?} is not an address like 127.0.0.1:8080"))
}
