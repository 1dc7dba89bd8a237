//! Deadline computations per second on one core: `cargo bench -p koshi-law`.
//!
//! Each iteration computes the service clock of п. 8/9 (acceptance day, then N working days)
//! for a different filing instant spread over the covered years.

use std::hint::black_box;
use std::time::Instant;

use jiff::civil::{DateTime, date};
use koshi_law::WorkingCalendar;

fn main() {
    let cal = match WorkingCalendar::builtin() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("calendar: {e}");
            std::process::exit(1);
        }
    };
    // 4,096 filing instants across 2024–2026, at varied times of day.
    let filings: Vec<(DateTime, u32)> = (0..4096i64)
        .map(|i| {
            let d = date(2024, 1, 1)
                .checked_add(jiff::Span::new().days((i * 7919) % 1050))
                .unwrap_or(date(2025, 1, 1));
            (d.at(((i * 5) % 24) as i8, ((i * 13) % 60) as i8, 0, 0), (i % 20) as u32)
        })
        .collect();
    let rounds = 5;
    let per_round = 20_000_000u64;
    let mut best = f64::MAX;
    let mut checksum = 0i64;
    for _ in 0..rounds {
        let start = Instant::now();
        for i in 0..per_round {
            let (filed, n) = filings[(i & 4095) as usize];
            if let Ok(d) = cal.deadline(black_box(filed), black_box(n)) {
                checksum = checksum.wrapping_add(i64::from(d.due_on.day()));
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rate = per_round as f64 / best;
    println!(
        "deadline computations: {per_round} in {best:.3} s (best of {rounds}) = {:.1} million/s on one core (checksum {checksum})",
        rate / 1e6
    );
}
