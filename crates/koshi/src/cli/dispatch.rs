//! What each command does: the commands that need no runtime, and the rest on one.

use super::*;

pub fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Rules { json } => {
            rules(*json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            file,
            keys,
            signature,
            json,
        } => crate::verify_cmd::verify(file, keys, signature.as_deref(), *json),
        Command::DocumentKey { file } => crate::verify_cmd::new_key(file),
        Command::Calendar(calendar_cmd::CalendarCommand::Load { .. })
        | Command::Mci(_)
        | Command::Serve { .. }
        | Command::Demo { .. }
        | Command::Token(_)
        | Command::Audit(_)
        | Command::User(_)
        | Command::DrillTimers { .. }
        | Command::DrillCrash { .. }
        | Command::DrillOutage { .. }
        | Command::RegistrySim { .. } => {
            let law = std::sync::Arc::new(load_law(&cli)?);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(crate::worker_threads(cli.worker_threads.map(usize::from)))
                .enable_all()
                .build()
                .context("cannot start the runtime")?;
            rt.block_on(run_async(cli, law))
        }
        Command::Calendar(cmd) => {
            let law = load_law(&cli)?;
            calendar_cmd::run(&law, cmd)
        }
    }
}

/// Logs to stderr: text for people, or one JSON object a line (`KOSHI_LOG_FORMAT=json`) for a
/// log collector, each with the span of its request (`request_id`, method). `KOSHI_LOG` filters.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KOSHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("KOSHI_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.try_init()
    };
}

fn fixtures(path: &Option<PathBuf>) -> Result<koshi_registries::sim::Fixtures> {
    match path {
        Some(p) => koshi_registries::sim::Fixtures::from_toml(&read(p, "fixtures")?)
            .map_err(|e| anyhow::anyhow!("fixtures file {}: {e}", p.display())),
        None => koshi_registries::sim::Fixtures::demo().map_err(|e| anyhow::anyhow!("demo fixtures: {e}")),
    }
}

async fn run_async(cli: Cli, law: std::sync::Arc<Law>) -> Result<ExitCode> {
    use koshi_registries::clock::{Clock, SystemClock};
    use std::sync::Arc;
    match cli.command {
        Command::Serve {
            listen,
            data,
            registry_url,
            fixtures: fx,
            straight_through,
            duty_officers,
            trust_store,
            gost_verifier_url,
            deliver,
            nats_stream,
            nats_prefix,
            production,
            trusted_proxies,
            ca_file,
            public_url,
            document_key,
            document_certificate,
            limits,
            clock,
        } => {
            init_logging();
            if let Some(ca) = &ca_file {
                koshi_registries::tls::add_roots_pem(read(ca, "CA file")?.as_bytes())
                    .map_err(|e| anyhow::anyhow!("CA file {}: {e}", ca.display()))?;
            }
            let mut deliveries = crate::delivery::Deliveries::parse(&deliver).map_err(|e| anyhow::anyhow!(e))?;
            deliveries.ca_file = ca_file.clone();
            deliveries.stream = nats_stream;
            deliveries.subject_prefix = nats_prefix;
            // The key of the webhooks' signatures: from the environment only, never a flag (a
            // flag shows in the process list).
            deliveries.webhook_secret = std::env::var("KOSHI_WEBHOOK_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
                .map(String::into_bytes);
            if production {
                deliveries.check_production().map_err(|e| anyhow::anyhow!(e))?;
                if registry_url.is_none() {
                    anyhow::bail!("production: the registries are simulated (--registry-url names the gateway)");
                }
                if clock.drill().is_some() {
                    anyhow::bail!("production: the clock is simulated");
                }
                if document_key.is_none() {
                    anyhow::bail!(
                        "production: documents need a signing key (--document-key FILE; `koshi document-key FILE` makes one)"
                    );
                }
                if public_url.is_none() {
                    anyhow::bail!("production: the documents' QR codes need the public address (--public-url)");
                }
            }
            let document_key = match document_key {
                Some(p) => Some(crate::document_keys::DocumentKeyConfig {
                    pem: read(&p, "document key")?,
                    certificate: document_certificate
                        .map(|c| read(&c, "document certificate"))
                        .transpose()?,
                }),
                None => None,
            };
            let drill = clock.drill();
            let gost_verifier: Option<Arc<dyn crate::gost::GostVerifier>> = match gost_verifier_url {
                Some(u) => Some(Arc::new(
                    crate::gost::HttpGostVerifier::new(&u, std::time::Duration::from_secs(10))
                        .map_err(|e| anyhow::anyhow!(e))?,
                )),
                None => None,
            };
            let trust_store = match trust_store {
                Some(p) => Some(Arc::new(
                    koshi_sign::TrustStore::from_pem(&read(&p, "trust store")?)
                        .map_err(|e| anyhow::anyhow!("trust store {}: {e}", p.display()))?,
                )),
                None => None,
            };
            let source = match registry_url {
                Some(u) => app::RegistrySource::Http(u),
                None => app::RegistrySource::Simulated(fixtures(&fx)?),
            };
            let config = crate::service::ServiceConfig {
                straight_through,
                duty_officers: app::parse_duty_officers(&duty_officers)?,
                trust_store,
                gost_verifier,
                drill_clock: drill.clone(),
                deliveries,
                trusted_proxies: crate::server::TrustedProxies::parse(&trusted_proxies)
                    .map_err(|e| anyhow::anyhow!(e))?,
                public_url: public_url.unwrap_or_else(|| format!("http://{listen}")),
                document_key,
                ..Default::default()
            };
            let location = app::location(&data)?;
            // Several instances may share a PostgreSQL: a case just filed is its instance's to
            // check for half a minute (`ServiceConfig::fresh_checks_grace`).
            let config = crate::service::ServiceConfig {
                fresh_checks_grace: match location {
                    koshi_store::Location::Postgres { .. } => std::time::Duration::from_secs(30),
                    _ => std::time::Duration::ZERO,
                },
                ..config
            };
            let mut a = app::App::build(&location, law, source, ClockArgs::clock(&drill), config).await?;
            app::check_duty_officers(&a.service).await?;
            a.limits = limits.limits();
            if drill.is_some() {
                tracing::warn!(now = %a.service.now(), "DRILL MODE: the clock is simulated; never serve applicants from this process");
            }
            let addr = app::parse_listen(&listen)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!(address = %listener.local_addr()?, backend = a.service.store.backend(), "Koshi is serving /api/v1");
            a.serve(listener).await?;
        }
        Command::Demo { listen, data, clock } => {
            init_logging();
            let drill = clock.drill();
            // The demo company's director signs in to the cabinet with a demo ЭЦП.
            let pki = crate::demo_pki::make(
                &data.data_dir.join("demo-pki"),
                jiff::Timestamp::now()
                    .to_string()
                    .get(..4)
                    .and_then(|y| y.parse().ok())
                    .unwrap_or(2026),
            )?;
            let trust_store = koshi_sign::TrustStore::from_pem(&pki.root_pem)
                .map_err(|e| anyhow::anyhow!("the demo's certifying centre: {e}"))?;
            let a = app::App::build(
                &app::location(&data)?,
                law,
                app::RegistrySource::Simulated(fixtures(&None)?),
                ClockArgs::clock(&drill),
                crate::service::ServiceConfig {
                    drill_clock: drill.clone(),
                    public_url: format!("http://{listen}"),
                    duty_officers: crate::demo::DUTY_OFFICERS
                        .iter()
                        .map(|(u, a)| (u.to_string(), a.to_string()))
                        .collect(),
                    trust_store: Some(Arc::new(trust_store)),
                    ..Default::default()
                },
            )
            .await?;
            crate::demo::duty_officer_accounts(&a).await?;
            app::check_duty_officers(&a.service).await?;
            if drill.is_some() {
                println!(
                    "DRILL MODE: the clock is simulated (now {}); move it with POST /api/v1/admin/clock",
                    a.service.now()
                );
            }
            let addr = app::parse_listen(&listen)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            // A token per role at a unit of its kind; the portal one acts for the demo company,
            // standing in for its director's ЭЦП sign-in (POST /api/v1/portal/sessions).
            let mut tokens = Vec::new();
            for (role, unit) in [
                ("officer", "ALM-01"),
                ("con_operator", "CON-ALM-01"),
                ("portal", "EGOV"),
                ("auditor", "MVD"),
                ("admin", "MVD"),
            ] {
                let (_, t) = if role == "portal" {
                    app::issue_party_token(&a.service.store, unit, crate::demo::COMPANY_BIN, "demo").await?
                } else {
                    app::issue_token(&a.service.store, role, unit, "demo").await?
                };
                tokens.push((role, unit, t));
            }
            let seeded = crate::demo::seed(&a).await?;
            println!("Koshi demo: http://{local}/api/v1 (OpenAPI: http://{local}/api/v1/openapi.json)");
            println!(
                "database: {} ({} demo applications filed now)",
                a.service.store.backend(),
                seeded
            );
            println!("tokens:");
            for (role, unit, t) in &tokens {
                println!("  {role:13} {t}  ({unit})");
            }
            let (user, password) = crate::demo::officer_account(&a).await?;
            println!("web app: http://{local}/ui/ (sign in as {user} with password {password})");
            let (head, head_password) = crate::demo::head_account(&a).await?;
            println!("approver: {head} with password {head_password} (head of the ALM-01 district police, п. 15)");
            let (admin, admin_password) = crate::demo::admin_account(&a).await?;
            println!("administrator: {admin} with password {admin_password} (calendar years, law data, accounts)");
            let sample = pki.dir.join("request.json");
            let body = serde_json::to_vec_pretty(&crate::demo::portal_request(
                &a.service.law(),
                koshi_registries::sim::Fixtures::demo()
                    .as_ref()
                    .map_err(|e| anyhow::anyhow!("demo fixtures: {e}"))?,
            ))?;
            std::fs::write(&sample, body).with_context(|| format!("cannot write {}", sample.display()))?;
            println!(
                "inviting party's cabinet: http://{local}/cabinet (the demo company's ЭЦП: certificate {} key {}; a request to file: {}; sign a file with: openssl cms -sign -binary -outform DER -signer {} -inkey {} -in FILE -out FILE.p7s)",
                pki.certificate().display(),
                pki.key().display(),
                sample.display(),
                pki.certificate().display(),
                pki.key().display()
            );
            println!(
                "try: curl -H 'Authorization: Bearer {}' http://{local}/api/v1/monitoring/deliveries",
                tokens[3].2
            );
            a.serve(listener).await?;
        }
        Command::DrillCrash {
            rounds,
            instances,
            data,
        } => {
            crate::drill_crash::run(&data, rounds, instances, law).await?;
        }
        Command::DrillOutage { cases, data } => {
            let report = crate::drill_outage::run(&app::location(&data)?, cases, law).await?;
            println!("{report}");
            if !report.passed() {
                anyhow::bail!("the outage drill failed: {report}");
            }
            println!("passed: no case failed, every outage journaled and closed, every message delivered");
        }
        Command::Token(TokenCommand::Issue {
            role,
            unit,
            label,
            data,
        }) => {
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            let (id, secret) = app::issue_token(&store, &role, &unit, &label).await?;
            eprintln!("token {id} for {role} at {unit} (shown once):");
            println!("{secret}");
            store.close().await;
        }
        Command::Token(TokenCommand::Revoke { id, data }) => {
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            app::revoke_token(&store, &id).await?;
            println!("revoked {id}");
            store.close().await;
        }
        Command::Token(TokenCommand::List { data }) => {
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            for t in store.tokens().await? {
                println!(
                    "{} {:13} {:10} {} {}",
                    t.id,
                    t.role,
                    t.unit,
                    t.created_at,
                    t.revoked_at.map(|r| format!("revoked {r}")).unwrap_or_default()
                );
            }
            store.close().await;
        }
        Command::User(UserCommand::Add {
            username,
            role,
            unit,
            post,
            data,
        }) => {
            let password = match std::env::var("KOSHI_USER_PASSWORD").ok().filter(|p| !p.is_empty()) {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("cannot read the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            let id =
                crate::accounts::add_user(&store, &username, &password, &role, &unit, &post, SystemClock.now()).await;
            store.close().await;
            println!("user {} added ({role} at {unit}, post {post})", id?);
        }
        Command::Audit(AuditCommand::Verify { json, data }) => {
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            let report = store.verify_audit().await?;
            store.close().await;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "intact": report.first_broken.is_none(),
                        "entries_verified": report.entries,
                        "head_hash": report.head_hash,
                        "first_broken": report.first_broken.as_ref().map(|b| serde_json::json!({"seq": b.seq, "id": b.id, "reason": b.reason})),
                    })
                );
            }
            return Ok(match report.first_broken {
                None => {
                    if !json {
                        println!(
                            "audit trail intact: {} entries, head {}",
                            report.entries, report.head_hash
                        );
                    }
                    ExitCode::SUCCESS
                }
                Some(b) => {
                    if !json {
                        println!(
                            "audit trail BROKEN at entry {} (id {}): {}; {} entries before it verified",
                            b.seq, b.id, b.reason, report.entries
                        );
                    }
                    ExitCode::from(1)
                }
            });
        }
        Command::DrillTimers {
            step,
            count,
            owner,
            data,
        } => {
            let store = koshi_store::Store::open(&app::location(&data)?).await?;
            let out = crate::drill::run(&store, &step, count, &owner).await;
            store.close().await;
            println!("{}", out?);
        }
        Command::RegistrySim { listen, fixtures: fx } => {
            init_logging();
            let sim = Arc::new(koshi_registries::sim::Simulator::new(
                fixtures(&fx)?,
                Arc::new(SystemClock),
            ));
            let addr = app::parse_listen(&listen)?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            println!("registry simulator: http://{}", listener.local_addr()?);
            koshi_registries::sim_server::serve(listener, sim).await?;
        }
        Command::Calendar(calendar_cmd::CalendarCommand::Load { file, data, json }) => {
            return calendar_cmd::load(law, "calendar", &file, &data, json).await;
        }
        Command::Mci(MciCommand::Load { file, data, json }) => {
            return calendar_cmd::load(law, "mci", &file, &data, json).await;
        }
        Command::Calendar(_) | Command::Rules { .. } | Command::Verify { .. } | Command::DocumentKey { .. } => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn rules(json: bool) {
    let rules = koshi_law::rules::RULES;
    if json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "citation": r.citation,
                    "summary": r.summary,
                    "implemented_in": format!("koshi_law::{}", r.implemented_in),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for r in rules {
            println!("{:width$}  {}  — {}", r.id, r.citation, r.summary);
        }
    }
}
