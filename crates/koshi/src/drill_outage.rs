//! `koshi drill-outage`: every registry of п. 9-1 and every receiver of Koshi's messages down for
//! two hours of simulated time, then back (issue 15 item 7, п. 9-5). The proof: no case failed
//! for it (each is issued once its checks could run), every outage longer than an hour is in the
//! special journal and closed, and every message held back is delivered after, none left behind.
//!
//! It runs in this process on a clock of its own (the next working day from 10:00 Almaty), with
//! the simulated registries and the in-memory receiver, on a database that holds no case.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use jiff::{SignedDuration, Timestamp};
use koshi_registries::RegistryKind;
use koshi_registries::clock::{Clock, ManualClock};

use crate::app::{App, RegistrySource};
use crate::service::{Caller, ServiceConfig};

/// How long everything is down.
const OUTAGE: SignedDuration = SignedDuration::from_hours(2);
/// One step of the drill's clock; the background pass runs after each.
const STEP: SignedDuration = SignedDuration::from_mins(10);
/// The drill gives up this long after the outage ends.
const CATCH_UP: SignedDuration = SignedDuration::from_hours(8);

/// What the drill found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub cases: usize,
    pub issued: i64,
    /// Registries whose outage was recorded (those the cases asked while they were down), and
    /// how many of those are journaled and closed.
    pub registry_outages: usize,
    pub registry_outages_journaled_and_closed: usize,
    /// Message topics whose receiver's outage was recorded, and how many are journaled and closed.
    pub delivery_outages: usize,
    pub delivery_outages_journaled_and_closed: usize,
    /// Messages queued, delivered (by the receiver's count of distinct ids), still waiting.
    pub messages: usize,
    pub delivered: usize,
    pub waiting: i64,
    pub audit_intact: bool,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.issued == self.cases as i64
            && self.registry_outages > 0
            && self.registry_outages_journaled_and_closed == self.registry_outages
            && self.delivery_outages > 0
            && self.delivery_outages_journaled_and_closed == self.delivery_outages
            && self.delivered == self.messages
            && self.waiting == 0
            && self.audit_intact
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cases {}, issued {}; registry outages {} (journaled and closed {}); receiver outages {} (journaled and closed {}); messages {}, delivered {}, waiting {}; audit chain {}",
            self.cases,
            self.issued,
            self.registry_outages,
            self.registry_outages_journaled_and_closed,
            self.delivery_outages,
            self.delivery_outages_journaled_and_closed,
            self.messages,
            self.delivered,
            self.waiting,
            if self.audit_intact { "intact" } else { "BROKEN" }
        )
    }
}

/// 10:00 in Almaty on the first working day after `now`, by the law's calendar.
fn next_working_morning(law: &koshi_law::Law, now: Timestamp) -> Result<Timestamp> {
    let cal = &law.calendar;
    let day = cal
        .working_day_on_or_after(cal.civil(now).date().tomorrow()?)
        .map_err(|e| anyhow::anyhow!("the working calendar: {e}"))?;
    Ok(cal.time_zone().to_timestamp(day.at(10, 0, 0, 0))?)
}

pub async fn run(location: &koshi_store::Location, cases: usize, law: Arc<koshi_law::Law>) -> Result<Report> {
    let start = next_working_morning(&law, Timestamp::now())?;
    let clock = Arc::new(ManualClock::new(start));
    let fixtures = koshi_registries::sim::Fixtures::demo().map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = App::build(
        location,
        law.clone(),
        RegistrySource::Simulated(fixtures.clone()),
        clock.clone(),
        ServiceConfig {
            duty_officers: [("ALM-01".to_string(), "duty.alm01".to_string())].into(),
            ..ServiceConfig::default()
        },
    )
    .await?;
    if app.service.store.count_applications().await? > 0 {
        app.service.store.close().await;
        bail!("the database holds cases: a drill runs on a database of its own");
    }
    crate::demo::duty_officer_accounts(&app).await?;
    let sim = app.sim.as_ref().context("the drill needs the simulated registries")?;
    let end = start.checked_add(OUTAGE)?;
    for k in RegistryKind::ALL {
        sim.set_down(k, Some((start, end)));
    }
    let topics = crate::delivery::topics();
    for t in &topics {
        app.sink.set_failing(t, true);
    }
    let officer = Caller {
        token_id: "drill-outage".into(),
        role: "officer".into(),
        unit: "ALM-01".into(),
        post: None,
        party: None,
    };
    let request = crate::demo::request(&law, sim.fixtures(), "FA1234567", "labour_contract");
    for _ in 0..cases {
        app.service
            .file_and_process(&officer, request.clone())
            .await
            .map_err(|p| anyhow::anyhow!("a filing was refused: {}", p.detail))?;
    }
    let svc = &app.service;
    let give_up = end.checked_add(CATCH_UP)?;
    loop {
        clock.advance(STEP);
        if clock.now() >= end {
            for t in &topics {
                app.sink.set_failing(t, false);
            }
        }
        svc.tick().await.map_err(|p| anyhow::anyhow!("{}", p.detail))?;
        let waiting: i64 = svc.store.outbox_backlog().await?.iter().map(|b| b.1).sum();
        let issued = svc.store.count_in_status("issued").await?;
        if clock.now() > end && waiting == 0 && issued == cases as i64 {
            break;
        }
        if clock.now() > give_up {
            break;
        }
    }
    let outages = svc.store.outages(10_000).await?;
    let (deliveries, registries): (Vec<_>, Vec<_>) = outages.iter().partition(|o| o.registry.starts_with("outbox:"));
    let settled = |v: &[&koshi_store::repo::OutageRow]| {
        v.iter()
            .filter(|o| o.journaled_at.is_some() && o.ended_at.is_some())
            .count()
    };
    let messages = svc.store.outbox(None, 1_000_000).await?;
    let report = Report {
        cases,
        issued: svc.store.count_in_status("issued").await?,
        registry_outages: registries.len(),
        registry_outages_journaled_and_closed: settled(&registries),
        delivery_outages: deliveries.len(),
        delivery_outages_journaled_and_closed: settled(&deliveries),
        messages: messages.len(),
        delivered: app.sink.received().len(),
        waiting: svc.store.outbox_backlog().await?.iter().map(|b| b.1).sum(),
        audit_intact: svc.store.verify_audit().await?.first_broken.is_none(),
    };
    svc.settle().await;
    svc.store.close().await;
    Ok(report)
}
