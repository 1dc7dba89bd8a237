//! How often a rendered permit's 2D code reads back from a raster of the page: N permits with
//! fresh codes, rasterised with pdftoppm at each resolution given.
//! `cargo run --release -p koshi-forms --example qr_robustness -- 40 150 200 300`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::date;
use koshi_forms::forms::Form;
use koshi_forms::seal::DocumentKey;
use koshi_forms::{Lang, Stamp, decode, render, samples};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let dpis: Vec<String> = args.iter().skip(1).cloned().collect();
    let (key, _) = DocumentKey::generate().unwrap();
    let (number, form) = samples::all()
        .into_iter()
        .find(|(_, f)| matches!(f, Form::Permit(p) if !p.exit))
        .unwrap();
    let Form::Permit(permit) = &form else { unreachable!() };
    let dir = std::env::temp_dir().join("koshi-qr-robustness");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failed = vec![0usize; dpis.len()];
    for _ in 0..n {
        let code = koshi_forms::new_code(jiff::Timestamp::now());
        let seal = key
            .seal(&samples::seal_payload(permit, &code, date(2026, 12, 8)))
            .unwrap();
        let stamp = Stamp {
            number: number.clone(),
            verify_url: format!("https://koshi.example.kz/verify/{code}"),
            code,
            issued_on: date(2026, 12, 8),
            kid: key.kid().into(),
            seal: Some(seal),
        };
        let pdf = render(&form, &stamp, Lang::Ru).unwrap();
        let path = dir.join("p.pdf");
        std::fs::write(&path, &pdf).unwrap();
        for (i, dpi) in dpis.iter().enumerate() {
            let prefix = dir.join("p");
            std::process::Command::new("pdftoppm")
                .args([
                    "-r",
                    dpi,
                    "-png",
                    "-singlefile",
                    path.to_str().unwrap(),
                    prefix.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            let png = std::fs::read(dir.join("p.png")).unwrap();
            if decode::decode_png(&png).unwrap() != vec![stamp.code_text()] {
                failed[i] += 1;
            }
        }
    }
    for (dpi, f) in dpis.iter().zip(failed) {
        println!("{dpi} dpi: {f} of {n} unread");
    }
}
