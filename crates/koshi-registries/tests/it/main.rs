//! Integration tests of the registry simulator and the HTTP adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fixtures;
mod http;
mod sim;

use std::sync::Arc;

use jiff::Timestamp;
use koshi_registries::PersonQuery;
use koshi_registries::clock::{Clock, ManualClock, SystemClock};
use koshi_registries::sim::{Fixtures, Simulator};

/// A simulator on the demo fixtures and the machine's clock.
pub fn demo_sim() -> Arc<Simulator> {
    Arc::new(Simulator::new(Fixtures::demo().unwrap(), Arc::new(SystemClock)))
}

/// A simulator on the demo fixtures and a manual clock set to `at`.
pub fn demo_sim_at(at: &str) -> (Arc<Simulator>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at.parse::<Timestamp>().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    (Arc::new(Simulator::new(Fixtures::demo().unwrap(), dyn_clock)), clock)
}

/// The query for a demo person, by document number.
pub fn query(document_number: &str) -> PersonQuery {
    Fixtures::demo()
        .unwrap()
        .person(document_number)
        .unwrap()
        .query()
        .unwrap()
}

/// Someone the fixtures do not know.
pub fn stranger() -> PersonQuery {
    PersonQuery {
        document_number: "ZZ0000001".into(),
        citizenship: "UZB".into(),
        birth_date: jiff::civil::date(1994, 4, 4),
        iin: None,
    }
}
