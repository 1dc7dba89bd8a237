//! The CLI contract other tools rely on: JSON shapes, exit codes, one-line errors.

use std::process::{Command, Output};

fn koshi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_koshi"))
        .args(args)
        .env_remove("KOSHI_CALENDAR")
        .env_remove("KOSHI_REQUIREMENTS")
        .env_remove("KOSHI_PARAMETERS")
        .env_remove("KOSHI_DELIVER")
        .env_remove("KOSHI_WEBHOOK_SECRET")
        .env_remove("KOSHI_REGISTRY_URL")
        .output()
        .expect("run koshi")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = koshi(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn fails_with_one_line(args: &[&str], needle: &str) {
    let out = koshi(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn p8_deadline_after_hours_on_new_years_eve() {
    let v = json(&[
        "calendar",
        "deadline",
        "--filed",
        "2025-12-31T19:00",
        "--working-days",
        "1",
        "--json",
    ]);
    assert_eq!(v["filed"], "2025-12-31T19:00");
    assert_eq!(v["accepted_on"], "2026-01-05");
    assert_eq!(v["due_on"], "2026-01-06");
    let skipped: Vec<_> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(skipped, ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]);
    assert!(v["skipped"][0]["reason"].as_str().unwrap().contains("New Year"));
    assert_eq!(v["rules_version"], "992/2024-12-08");
}

#[test]
fn is_working_reports_the_reason() {
    let v = json(&["calendar", "is-working", "2026-03-24", "--json"]);
    assert_eq!(v["working"], false);
    assert!(v["reason"].as_str().unwrap().contains("Nauryz"));
    let v = json(&["calendar", "is-working", "2024-05-04", "--json"]);
    assert_eq!(v["working"], true);
    assert_eq!(v["reason_code"], "working_by_transfer");
    let v = json(&["calendar", "is-working", "2026-05-27", "--json"]);
    assert_eq!(v["working"], false);
    assert!(v["reason"].as_str().unwrap().contains("Kurban"));
}

#[test]
fn rules_lists_every_rule_with_a_citation() {
    let v = json(&["rules", "--json"]);
    let list = v.as_array().unwrap();
    assert!(list.len() >= 30);
    for r in list {
        assert!(r["id"].is_string() && r["citation"].is_string() && r["summary"].is_string());
    }
    assert!(
        list.iter()
            .any(|r| r["id"] == "pr.reapplication_bar" && r["citation"] == "п. 22")
    );
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_2() {
    fails_with_one_line(&["calendar", "is-working", "2025-02-30"], "invalid date \"2025-02-30\"");
    fails_with_one_line(&["calendar", "is-working", "tomorrow"], "expected YYYY-MM-DD");
    fails_with_one_line(
        &["calendar", "deadline", "--filed", "2025-12-31", "--working-days", "1"],
        "YYYY-MM-DDTHH:MM",
    );
    fails_with_one_line(
        &[
            "calendar",
            "deadline",
            "--filed",
            "2025-12-31T25:00",
            "--working-days",
            "1",
        ],
        "invalid date and time",
    );
    fails_with_one_line(
        &[
            "calendar",
            "deadline",
            "--filed",
            "2025-12-31T10:00",
            "--working-days",
            "-1",
        ],
        "error",
    );
    fails_with_one_line(&["calendar", "is-working", "2026-01-01", "--bogus"], "--bogus");
    fails_with_one_line(
        &["calendar", "is-working", "2023-06-01"],
        "no working calendar for 2023-06-01",
    );
}

#[test]
fn a_calendar_file_with_a_bad_line_is_refused_naming_it() {
    let dir = std::env::temp_dir().join(format!("koshi-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("calendar.toml");
    let good = include_str!("../../../koshi-law/data/calendar.toml");
    let bad = good.replacen("off_on = \"2024-05-08\"", "off_on = \"2024-05-09\"", 1);
    let line = bad[..bad.find("off_on = \"2024-05-09\"").unwrap()]
        .matches('\n')
        .count()
        + 1;
    std::fs::write(&path, bad).unwrap();
    let p = path.to_str().unwrap();
    fails_with_one_line(
        &["--calendar", p, "calendar", "is-working", "2026-01-05"],
        &format!("line {line}:"),
    );
    fails_with_one_line(
        &[
            "--calendar",
            "/nonexistent/cal.toml",
            "calendar",
            "is-working",
            "2026-01-05",
        ],
        "cannot read the calendar file",
    );
    // A good replacement is used: declare 8 May 2024 a working day by removing the transfer.
    let no_transfer = good.replacen("[[year.transfer]]\nwork_on = \"2024-05-04\"\noff_on = \"2024-05-08\"\nbasis = \"Order of the Minister of Labour and Social Protection, April 2024\"\n", "", 1);
    std::fs::write(&path, no_transfer).unwrap();
    let v = json(&["--calendar", p, "calendar", "is-working", "2024-05-08", "--json"]);
    assert_eq!(v["working"], true);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn user_add_takes_the_password_from_the_environment_and_refuses_weak_ones() {
    let dir = std::env::temp_dir().join(format!("koshi-user-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let run = |pw: &str, name: &str| {
        Command::new(env!("CARGO_BIN_EXE_koshi"))
            .args([
                "user",
                "add",
                "--username",
                name,
                "--role",
                "officer",
                "--unit",
                "ALM-01",
                "--post",
                "head_of_city_district_police",
                "--data-dir",
                d,
            ])
            .env("KOSHI_USER_PASSWORD", pw)
            .env_remove("KOSHI_DATABASE_URL")
            .output()
            .unwrap()
    };
    let ok = run("достаточно-длинный-пароль", "d.officer");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let again = run("достаточно-длинный-пароль", "d.officer");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));
    let weak = run("short", "e.officer");
    assert_eq!(weak.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `koshi.toml` (issue 15 item 3): its settings are the KOSHI_* names in lower case; a flag wins
/// over the environment, the environment over the file, the file over Koshi's defaults; an
/// unknown key or a secret in the file is one clear line.
#[test]
fn the_configuration_file_yields_to_the_environment_and_the_flags() {
    let root = std::env::temp_dir().join(format!("koshi-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&root).unwrap();
    let (from_file, from_env, from_flag) = (root.join("file"), root.join("env"), root.join("flag"));
    let config = root.join("koshi.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\nworker_threads = 1\n", from_file.to_str().unwrap()),
    )
    .unwrap();
    let run = |env: Option<&std::path::Path>, flag: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_koshi"));
        c.args(["token", "issue", "--role", "officer", "--unit", "ALM-01", "--config"])
            .arg(&config)
            .env_remove("KOSHI_DATA_DIR")
            .env_remove("KOSHI_DATABASE_URL");
        if let Some(e) = env {
            c.env("KOSHI_DATA_DIR", e);
        }
        if let Some(f) = flag {
            c.arg("--data-dir").arg(f);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(None, None);
    assert!(from_file.join("koshi.db").exists(), "the file's data_dir");
    run(Some(&from_env), None);
    assert!(from_env.join("koshi.db").exists(), "the environment over the file");
    run(Some(&from_env), Some(&from_flag));
    assert!(from_flag.join("koshi.db").exists(), "the flag over the environment");

    std::fs::write(&config, "data_dirr = \"/tmp/x\"\n").unwrap();
    fails_with_one_line(
        &["token", "list", "--config", config.to_str().unwrap()],
        "unknown setting `data_dirr`",
    );
    std::fs::write(&config, "webhook_secret = \"s3cret\"\n").unwrap();
    fails_with_one_line(
        &["token", "list", "--config", config.to_str().unwrap()],
        "environment only",
    );
    std::fs::write(&config, "data_dir = [\n").unwrap();
    fails_with_one_line(&["token", "list", "--config", config.to_str().unwrap()], "koshi.toml");
    std::fs::remove_dir_all(root).ok();
}

/// `koshi serve` in production mode refuses to start, in one line and before it opens or writes
/// anything, while a topic has no real destination, a webhook could not sign what it sends, or
/// the registries are the simulator (issue 15 item 1).
#[test]
fn serve_in_production_refuses_what_would_lose_or_fake_anything() {
    let dir = std::env::temp_dir().join(format!("koshi-production-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let base = [
        "serve",
        "--production",
        "true",
        "--data-dir",
        d,
        "--listen",
        "127.0.0.1:0",
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> { base.iter().copied().chain(extra.iter().copied()).collect() };
    fails_with_one_line(&with(&[]), "has no destination");
    fails_with_one_line(&with(&["--deliver", "*=memory"]), "keeps nothing");
    fails_with_one_line(&with(&["--deliver", "*=http://127.0.0.1:9/in"]), "KOSHI_WEBHOOK_SECRET");
    let out = Command::new(env!("CARGO_BIN_EXE_koshi"))
        .args(with(&["--deliver", "*=http://127.0.0.1:9/in"]))
        .env("KOSHI_WEBHOOK_SECRET", "0123456789abcdef0123456789abcdef")
        .env_remove("KOSHI_REGISTRY_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("registries are simulated"));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    std::fs::remove_dir_all(&dir).ok();
}
