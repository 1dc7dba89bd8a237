//! Permits rendered and signed per second on one core (issue 16): the App. 2 form with its seal
//! in the QR code, rendered to PDF and given its detached signature, one after another on this
//! thread. `cargo bench -p koshi-forms --bench render` (KOSHI_BENCH_N permits, default 300).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use jiff::civil::date;
use koshi_forms::forms::Form;
use koshi_forms::seal::DocumentKey;
use koshi_forms::{Lang, Stamp, render, samples};

fn main() {
    let n: usize = std::env::var("KOSHI_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (key, _) = DocumentKey::generate().unwrap();
    let (number, form) = samples::all()
        .into_iter()
        .find(|(_, f)| matches!(f, Form::Permit(p) if !p.exit))
        .unwrap();
    let Form::Permit(permit) = &form else { unreachable!() };
    for lang in [Lang::Ru, Lang::Kk] {
        // Warm up: the fonts parse once per process.
        render(&form, &stamp(&key, &number, permit), lang).unwrap();
        let mut times = Vec::with_capacity(n);
        let mut bytes = 0usize;
        let start = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let s = stamp(&key, &number, permit);
            let pdf = render(&form, &s, lang).unwrap();
            let sig = key.sign_detached(&pdf);
            std::hint::black_box(&sig);
            bytes += pdf.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let total = start.elapsed().as_secs_f64();
        times.sort_by(|a, b| a.total_cmp(b));
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
        println!(
            "permit ({}), seal + render + sign, one thread: {:.0} permits/s; per permit p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {:.0} KiB a PDF",
            lang.code(),
            n as f64 / total,
            p(0.5),
            p(0.99),
            times[times.len() - 1],
            bytes as f64 / n as f64 / 1024.0
        );
    }
}

fn stamp(key: &DocumentKey, number: &str, permit: &koshi_forms::forms::Permit) -> Stamp {
    let code = koshi_forms::new_code(jiff::Timestamp::now());
    let issued_on = date(2026, 12, 8);
    let seal = key.seal(&samples::seal_payload(permit, &code, issued_on)).unwrap();
    Stamp {
        number: number.into(),
        verify_url: format!("https://koshi.example.kz/verify/{code}"),
        code,
        issued_on,
        kid: key.kid().into(),
        seal: Some(seal),
    }
}
