//! Property fuzzing: whatever the bytes, verification returns a verdict and never panics.
//!
//! The case count is 2,000 per property by default; `KOSHI_FUZZ_CASES` raises it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use koshi_sign::{Verified, verify_detached};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};

use crate::pki::{CmsOpts, at, pki};

const CONTENT: &[u8] = b"fuzzed request body";

fn cases() -> u32 {
    std::env::var("KOSHI_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
        .max(2_000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn valid() -> &'static (Vec<u8>, Verified) {
    static VALID: OnceLock<(Vec<u8>, Verified)> = OnceLock::new();
    VALID.get_or_init(|| {
        let pki = pki();
        let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
        let verified = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap();
        (cms, verified)
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(Index, u8),
    FlipBit(Index, u8),
    Truncate(Index),
    Insert(Index, u8),
    Remove(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Remove),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Set(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Mutation::FlipBit(i, bit) => {
            let i = i.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Mutation::Remove(i) => {
            bytes.remove(i.index(bytes.len()));
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let trust = pki().trust();
    let run = AtomicU32::new(0);
    runner()
        .run(&vec(any::<u8>(), 0..2048), |bytes| {
            run.fetch_add(1, Ordering::Relaxed);
            prop_assert!(verify_detached(&bytes, CONTENT, &trust, at()).is_err());
            Ok(())
        })
        .unwrap();
    eprintln!("fuzz random_bytes_never_panic: {} cases", run.load(Ordering::Relaxed));
    assert!(run.load(Ordering::Relaxed) >= cases());
}

#[test]
fn mutated_cms_never_panics_nor_changes_the_signer() {
    let trust = pki().trust();
    let (cms, expected) = valid();
    let run = AtomicU32::new(0);
    let accepted_changed = AtomicU32::new(0);
    runner()
        .run(&vec(mutation(), 1..6), |mutations| {
            run.fetch_add(1, Ordering::Relaxed);
            let mut bytes = cms.clone();
            for m in &mutations {
                apply(&mut bytes, m);
            }
            if let Ok(v) = verify_detached(&bytes, CONTENT, &trust, at()) {
                // A mutation may land on bytes no signature covers (e.g. the unsigned
                // digestAlgorithms set); it must never change who is said to have signed.
                prop_assert_eq!(&v, expected);
                if &bytes != cms {
                    accepted_changed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "fuzz mutated_cms_never_panics_nor_changes_the_signer: {} cases, {} altered CMS still accepted (same signer)",
        run.load(Ordering::Relaxed),
        accepted_changed.load(Ordering::Relaxed)
    );
    assert!(run.load(Ordering::Relaxed) >= cases());
}

/// Deterministic complement to the random mutations: every byte of a valid CMS flipped once.
/// Only the bytes no signature covers may be altered and still accepted: the SignedData version
/// (within the values RFC 5652 allows) and the informational digestAlgorithms set.
#[test]
fn every_byte_flipped_is_refused_unless_unsigned() {
    use x509_cert::der::Encode;
    use x509_cert::der::asn1::SetOfVec;
    use x509_cert::spki::AlgorithmIdentifierOwned;

    let trust = pki().trust();
    let (cms, expected) = valid();
    let set = SetOfVec::try_from(vec![AlgorithmIdentifierOwned {
        oid: crate::pki::SHA256_OID,
        parameters: None,
    }])
    .unwrap()
    .to_der()
    .unwrap();
    let start = cms.windows(set.len()).position(|w| w == set.as_slice()).unwrap();
    // `02 01 vv` (version) immediately precedes the set.
    let unsigned = start - 1..start + set.len();
    let mut accepted = 0;
    for i in 0..cms.len() {
        let mut bytes = cms.clone();
        bytes[i] ^= 1 << (i % 8);
        if let Ok(v) = verify_detached(&bytes, CONTENT, &trust, at()) {
            assert!(unsigned.contains(&i), "flip at byte {i} of {} accepted", cms.len());
            assert_eq!(&v, expected);
            accepted += 1;
        }
    }
    eprintln!(
        "bit flips: {} positions, {accepted} accepted, all in unsigned bytes {unsigned:?}",
        cms.len()
    );
}
