//! Prints the text of every Koshi 2D code found in PNG files: `cargo run --example decode_png -- PAGE.png`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
fn main() {
    for path in std::env::args().skip(1) {
        match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| koshi_forms::decode::decode_png(&b).map_err(|e| e.to_string()))
        {
            Ok(texts) => println!("{path}: {} code(s) {:?}", texts.len(), texts),
            Err(e) => println!("{path}: {e}"),
        }
    }
}
