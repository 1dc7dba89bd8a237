//! The durable-timer drill (`koshi drill-timers`): several OS processes on one database fire the
//! same timers; each must fire exactly once. Used by scripts/timer-drill.sh.

use koshi_store::repo::{self, EventRow};
use koshi_store::{Store, StoreError, Unit, instant, timers};

const KIND: &str = "drill";

pub async fn run(store: &Store, step: &str, count: usize, owner: &str) -> anyhow::Result<String> {
    let now = jiff::Timestamp::now();
    match step {
        "schedule" => {
            let at = instant(now);
            let mut unit = Unit::new();
            for i in 0..count {
                unit.push(timers::schedule(
                    &format!("drill-{i:06}"),
                    KIND,
                    &format!("drill-subject-{i:06}"),
                    &at,
                    "{}",
                ));
                if unit.len() == 500 {
                    store.write(std::mem::take(&mut unit)).await?;
                }
            }
            store.write(unit).await?;
            Ok(format!("scheduled {count} timers"))
        }
        "fire" => {
            let mut fired = 0usize;
            let mut lost = 0usize;
            let started = std::time::Instant::now();
            loop {
                let now = jiff::Timestamp::now();
                let lease = instant(now.checked_add(jiff::SignedDuration::from_mins(2)).unwrap_or(now));
                let batch = store.claim_due_timers(owner, &instant(now), &lease, 200).await?;
                if batch.is_empty() {
                    break;
                }
                let mut tasks = tokio::task::JoinSet::new();
                for t in batch {
                    let s = store.clone();
                    let owner = owner.to_string();
                    tasks.spawn(async move {
                        let at = instant(jiff::Timestamp::now());
                        let effect = EventRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            application_id: Some(t.subject.clone()),
                            at: at.clone(),
                            actor: owner.clone(),
                            action: "drill.fired".into(),
                            citation: "п. 14".into(),
                            rules_version: "992/2024-12-08".into(),
                            detail: serde_json::json!({"timer": t.id}).to_string(),
                        };
                        s.write(
                            Unit::new()
                                .with(repo::insert_event(effect))
                                .with(timers::fired(&t.id, &owner, &at)),
                        )
                        .await
                    });
                }
                while let Some(r) = tasks.join_next().await {
                    match r? {
                        Ok(()) => fired += 1,
                        Err(StoreError::Conflict(_)) => lost += 1,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            let secs = started.elapsed().as_secs_f64();
            Ok(format!(
                "{owner}: fired {fired} (lost {lost} to another process) in {secs:.2} s: {:.0} timers/s",
                fired as f64 / secs.max(1e-9)
            ))
        }
        "verify" => {
            let counts = store.timer_counts().await?;
            let (effects, distinct) = store.drill_effects().await?;
            let audit = store.verify_audit().await?;
            let ok = effects == distinct && counts.iter().all(|(s, _)| s == "fired") && audit.first_broken.is_none();
            Ok(format!(
                "timers by state {counts:?}; effects {effects}, distinct timers {distinct}; audit chain {}; {}",
                if audit.first_broken.is_none() {
                    "intact"
                } else {
                    "BROKEN"
                },
                if ok { "each timer fired exactly once" } else { "FAILED" }
            ))
        }
        other => anyhow::bail!("unknown step {other:?}: schedule, fire or verify"),
    }
}
