//! What operations watch: `/metrics` in the Prometheus text format (OpenMetrics), read with a
//! token whose role may `metrics.read` (admin, auditor).
//!
//! Counted as it happens, per process: HTTP requests by route template and status with their
//! latency; filings and status changes per service; registry calls by registry and result with
//! their latency; delivery attempts by topic and result; the store writer's batches (units per
//! commit, commit latency). Read from the database at each scrape: cases by service and status,
//! the outbox backlog and its oldest message's age per topic, timers due and overdue, open
//! outages. Labels are route templates, codes and names of systems: never an id, a number or a
//! name of a person.

use std::fmt::Write as _;
use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FilingLabels {
    pub service: String,
    pub channel: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DocumentLabels {
    pub form: String,
    pub lang: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub service: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RegistryLabels {
    pub registry: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NameLabel {
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    pub topic: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabel {
    pub topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SystemLabel {
    pub system: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub filings: Family<FilingLabels, Counter>,
    pub documents_rendered: Family<DocumentLabels, Counter>,
    pub status_changes: Family<StatusLabels, Counter>,
    pub registry_calls: Family<RegistryLabels, Counter>,
    pub registry_latency: Family<NameLabel, Histogram, fn() -> Histogram>,
    pub deliveries: Family<TopicLabels, Counter>,
    pub writer_batch_units: Histogram,
    pub writer_commit_seconds: Histogram,
    pub writer_failed_batches: Counter,
    // Read from the database at each scrape.
    cases: Family<StatusLabels, Gauge>,
    outbox_backlog: Family<TopicLabel, Gauge>,
    outbox_oldest_age: Family<TopicLabel, Gauge>,
    timers_due: Family<KindLabel, Gauge>,
    timers_overdue: Family<KindLabel, Gauge>,
    outages_open: Family<SystemLabel, Gauge>,
    scrape_lock: tokio::sync::Mutex<()>,
    /// Per registry since the process started: calls, failures and their seconds in all (the
    /// SLA page's figures; the histogram above is the scrape's).
    registry_times: std::sync::Mutex<std::collections::BTreeMap<String, RegistryTimes>>,
}

/// A registry's calls since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RegistryTimes {
    pub calls: u64,
    pub failed: u64,
    pub seconds: f64,
    pub slowest: f64,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The process's metrics (created at first use; the store's commits report to them).
pub fn get() -> &'static Metrics {
    METRICS.get_or_init(|| {
        let m = Metrics::new();
        koshi_store::observe_commits(|units, took, committed| {
            let m = get();
            if committed {
                m.writer_batch_units.observe(units as f64);
                m.writer_commit_seconds.observe(took.as_secs_f64());
            } else {
                m.writer_failed_batches.inc();
            }
        });
        m
    })
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("koshi");
        let m = Metrics {
            http_requests: Family::default(),
            http_latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            filings: Family::default(),
            documents_rendered: Family::default(),
            status_changes: Family::default(),
            registry_calls: Family::default(),
            registry_latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            deliveries: Family::default(),
            writer_batch_units: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            writer_commit_seconds: latency_histogram(),
            writer_failed_batches: Counter::default(),
            cases: Family::default(),
            outbox_backlog: Family::default(),
            outbox_oldest_age: Family::default(),
            timers_due: Family::default(),
            timers_overdue: Family::default(),
            outages_open: Family::default(),
            scrape_lock: tokio::sync::Mutex::new(()),
            registry_times: std::sync::Mutex::new(std::collections::BTreeMap::new()),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            m.http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            m.http_latency.clone(),
        );
        registry.register(
            "filings",
            "Filings by service, channel and outcome (accepted, refused_to_accept)",
            m.filings.clone(),
        );
        registry.register(
            "documents_rendered",
            "Document files rendered and signed, by form and language",
            m.documents_rendered.clone(),
        );
        registry.register(
            "status_changes",
            "Status changes of cases by service and the status entered (decisions among them)",
            m.status_changes.clone(),
        );
        registry.register(
            "registry_calls",
            "Registry calls by registry and result",
            m.registry_calls.clone(),
        );
        registry.register(
            "registry_call_duration_seconds",
            "Registry call latency by registry",
            m.registry_latency.clone(),
        );
        registry.register(
            "delivery_attempts",
            "Outbox delivery attempts by topic and result (delivered, retry, rejected)",
            m.deliveries.clone(),
        );
        registry.register(
            "writer_batch_units",
            "Units committed together by the store writer",
            m.writer_batch_units.clone(),
        );
        registry.register(
            "writer_commit_seconds",
            "Store writer commit latency",
            m.writer_commit_seconds.clone(),
        );
        registry.register(
            "writer_failed_batches",
            "Store writer batches that did not commit",
            m.writer_failed_batches.clone(),
        );
        registry.register(
            "cases",
            "Cases by service and status (read at the scrape)",
            m.cases.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Outbox messages waiting, by topic",
            m.outbox_backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest waiting outbox message, by topic",
            m.outbox_oldest_age.clone(),
        );
        registry.register(
            "timers_due",
            "Legal clocks due and not yet fired, by kind",
            m.timers_due.clone(),
        );
        registry.register(
            "timers_overdue",
            "Legal clocks due more than a minute ago and not yet fired, by kind",
            m.timers_overdue.clone(),
        );
        registry.register(
            "outages_open",
            "Open outages of the п. 9-5 journal, by system",
            m.outages_open.clone(),
        );
        Metrics { registry, ..m }
    }

    /// One HTTP request (route: the matched template, never the path itself).
    pub fn http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.http_latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
                method: method.to_string(),
            })
            .observe(seconds);
    }

    pub fn filing(&self, service: &str, channel: &str, outcome: &str) {
        self.filings
            .get_or_create(&FilingLabels {
                service: service.to_string(),
                channel: channel.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn document_rendered(&self, form: &str, lang: &str) {
        self.documents_rendered
            .get_or_create(&DocumentLabels {
                form: form.to_string(),
                lang: lang.to_string(),
            })
            .inc();
    }

    pub fn status_change(&self, service: &str, to: &str) {
        self.status_changes
            .get_or_create(&StatusLabels {
                service: service.to_string(),
                status: to.to_string(),
            })
            .inc();
    }

    /// Each registry's calls since the process started, by name.
    pub fn registry_times(&self) -> Vec<(String, RegistryTimes)> {
        self.registry_times
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    pub fn registry_call(&self, registry: &str, result: &str, seconds: f64) {
        if let Ok(mut m) = self.registry_times.lock() {
            let t = m.entry(registry.to_string()).or_default();
            t.calls += 1;
            t.failed += u64::from(result != "answered");
            t.seconds += seconds;
            t.slowest = t.slowest.max(seconds);
        }
        self.registry_calls
            .get_or_create(&RegistryLabels {
                registry: registry.to_string(),
                result: result.to_string(),
            })
            .inc();
        self.registry_latency
            .get_or_create(&NameLabel {
                name: registry.to_string(),
            })
            .observe(seconds);
    }

    pub fn delivery(&self, topic: &str, result: &str, n: u64) {
        self.deliveries
            .get_or_create(&TopicLabels {
                topic: topic.to_string(),
                result: result.to_string(),
            })
            .inc_by(n);
    }

    /// The text of a scrape: the database's figures read now, then everything encoded.
    pub async fn render(
        &self,
        store: &koshi_store::Store,
        now: jiff::Timestamp,
    ) -> Result<String, koshi_store::StoreError> {
        let _one_at_a_time = self.scrape_lock.lock().await;
        let now_s = koshi_store::instant(now);
        let late = koshi_store::instant(now.checked_sub(jiff::SignedDuration::from_mins(1)).unwrap_or(now));
        let cases = store.cases_by_status().await?;
        let backlog = store.outbox_backlog().await?;
        let timers = store.timers_due(&now_s, &late).await?;
        let outages = store.open_outages().await?;
        self.cases.clear();
        for (kind, status, n) in cases {
            self.cases.get_or_create(&StatusLabels { service: kind, status }).set(n);
        }
        self.outbox_backlog.clear();
        self.outbox_oldest_age.clear();
        for (topic, n, oldest) in backlog {
            let age = koshi_store::parse_instant(&oldest)
                .map(|t| now.duration_since(t).as_secs().max(0))
                .unwrap_or(0);
            self.outbox_backlog
                .get_or_create(&TopicLabel { topic: topic.clone() })
                .set(n);
            self.outbox_oldest_age.get_or_create(&TopicLabel { topic }).set(age);
        }
        self.timers_due.clear();
        self.timers_overdue.clear();
        for (kind, due, overdue) in timers {
            self.timers_due
                .get_or_create(&KindLabel { kind: kind.clone() })
                .set(due);
            self.timers_overdue.get_or_create(&KindLabel { kind }).set(overdue);
        }
        self.outages_open.clear();
        for (system, n) in outages {
            self.outages_open.get_or_create(&SystemLabel { system }).set(n);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            let _ = writeln!(out, "# EOF");
        }
        Ok(out)
    }
}
