//! Property tests of the JSON intake: any mutation of a valid filing is answered 201 or with a
//! problem document in the 4xx range, never a 5xx or a panic; a refused request writes nothing.

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

/// Leaves of a JSON value, as pointer paths.
fn leaves(v: &Value, path: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, format!("{path}/{k}"), out);
            }
            out.push(path);
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{path}/{i}"), out);
            }
            out.push(path);
        }
        _ => out.push(path),
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "\\PC{0,40}".prop_map(Value::String),
        "[0-9]{10,13}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn json_intake_never_fails_with_5xx_and_refusals_write_nothing() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = rt
        .block_on(crate::harness::spawn(
            crate::harness::Backend::Sqlite,
            crate::harness::Options::default(),
        ))
        .unwrap();
    let good = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    let mut paths = Vec::new();
    leaves(&good, String::new(), &mut paths);
    let router = t.app.router();
    let token = t.tokens["officer"].clone();
    let cases = std::env::var("KOSHI_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (0..paths.len(), any_json(), any::<bool>(), any::<bool>());
    let result = runner.run(&strategy, |(i, replacement, delete, raw_garbage)| {
        let mut body = good.clone();
        let path = &paths[i];
        if path.is_empty() {
            body = replacement.clone();
        } else if let Some((parent, key)) = path.rsplit_once('/') {
            let target = if parent.is_empty() {
                Some(&mut body)
            } else {
                body.pointer_mut(parent)
            };
            match target {
                Some(Value::Object(m)) if delete => {
                    m.remove(key);
                }
                Some(Value::Object(m)) => {
                    m.insert(key.to_string(), replacement.clone());
                }
                Some(Value::Array(a)) => {
                    if let Ok(idx) = key.parse::<usize>()
                        && idx < a.len()
                    {
                        a[idx] = replacement.clone();
                    }
                }
                _ => {}
            }
        }
        let mut bytes = serde_json::to_vec(&body).unwrap();
        if raw_garbage {
            bytes.truncate(bytes.len() / 2);
        }
        let (status, written_ok) = rt.block_on(async {
            // Earlier accepted filings are processed in the background: let them finish first.
            t.app.service.settle().await;
            let before = t.counts().await;
            let req = Request::post("/api/v1/applications")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(bytes))
                .unwrap();
            let resp = router.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let after = t.counts().await;
            (status, status == 201 || before == after)
        });
        prop_assert!(
            status == 201 || (400..500).contains(&status),
            "status {status} for a mutation at {path}"
        );
        prop_assert!(
            written_ok,
            "a refused request ({status}) wrote something; mutation at {path}"
        );
        Ok(())
    });
    rt.block_on(async {
        t.app.service.settle().await;
    });
    rt.block_on(t.done());
    if let Err(e) = result {
        panic!("{e}");
    }
}
