//! `koshi verify FILE` — checks a Koshi document offline, as a border guard's or a bank's tool
//! would: reads the 2D code from the rendered page (a PNG or JPEG-free scan as PNG, or a PDF
//! rasterised with poppler's `pdftoppm`), verifies a permit's seal against the published keys,
//! and, with the detached signature beside a PDF (`FILE.pdf.sig`, from
//! `GET /api/v1/documents/{id}/signature`), the PDF's own signature. `koshi document-key FILE`
//! makes a signing key for `--document-key`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use koshi_forms::seal::{self, DetachedSignature, DocumentKey, KeySet};

/// What `koshi verify` found, for `--json`.
#[derive(Debug, serde::Serialize)]
struct Report {
    file: String,
    /// The PDF's detached signature: `valid`, or `not checked` without a signature file.
    pdf_signature: String,
    codes: Vec<CodeReport>,
}

#[derive(Debug, serde::Serialize)]
struct CodeReport {
    verification_code: String,
    /// The online check (number and code only; the seal below is the offline proof).
    verify_url: String,
    seal: Option<seal::VerifiedSeal>,
}

pub fn verify(file: &Path, keys: &Path, signature: Option<&Path>, json: bool) -> Result<ExitCode> {
    let keys: KeySet = serde_json::from_str(
        &std::fs::read_to_string(keys).with_context(|| format!("cannot read the key set {}", keys.display()))?,
    )
    .with_context(|| {
        format!(
            "{} is not a key set (/.well-known/koshi/document-keys.json)",
            keys.display()
        )
    })?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let is_pdf = bytes.starts_with(b"%PDF");
    let pdf_signature = if is_pdf {
        let sig_path = signature.map(Path::to_path_buf).unwrap_or_else(|| {
            let mut p = file.as_os_str().to_owned();
            p.push(".sig");
            PathBuf::from(p)
        });
        match std::fs::read_to_string(&sig_path) {
            Ok(text) => {
                let sig: DetachedSignature = serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a detached signature", sig_path.display()))?;
                sig.verify(&bytes, &keys)
                    .map_err(|e| anyhow::anyhow!("the PDF is not as Koshi signed it: {e}"))?;
                format!("valid (key {})", sig.kid)
            }
            Err(_) if signature.is_some() => bail!("cannot read the signature {}", sig_path.display()),
            Err(_) => "not checked (no signature file beside the PDF)".to_string(),
        }
    } else {
        "not a PDF".to_string()
    };
    let texts = if is_pdf {
        pdf_codes(file)?
    } else {
        koshi_forms::decode::decode_png(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    if texts.is_empty() {
        bail!("no 2D code was found in {}", file.display());
    }
    let mut codes = Vec::new();
    for text in texts {
        let (code, sealed) = seal::parse_code_text(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let seal = match sealed {
            Some(s) => Some(seal::verify_seal(&s, &keys).map_err(|e| anyhow::anyhow!("the seal is not genuine: {e}"))?),
            None => None,
        };
        if let Some(s) = &seal
            && s.payload.code != code
        {
            bail!(
                "the seal was made for code {}, not the {code} the page shows",
                s.payload.code
            );
        }
        codes.push(CodeReport {
            verification_code: code,
            verify_url: text.split('#').next().unwrap_or("").to_string(),
            seal,
        });
    }
    let report = Report {
        file: file.display().to_string(),
        pdf_signature,
        codes,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}: PDF signature {}", report.file, report.pdf_signature);
        for c in &report.codes {
            println!("code {} — check online: {}", c.verification_code, c.verify_url);
            match &c.seal {
                Some(s) => {
                    let p = &s.payload;
                    println!(
                        "seal: GENUINE (key {}): {} {} — {} {}, born {}, valid {} to {}, purpose {}, issued by {} on {}",
                        s.kid,
                        p.doc_type,
                        p.number,
                        p.surname,
                        p.given_names,
                        p.birth_date,
                        p.valid_from,
                        p.valid_until,
                        p.purpose,
                        p.issuer,
                        p.issued_on
                    );
                    println!("  an annulment after printing shows only online: check the address above when you can");
                }
                None => println!("no seal (not a permit): the online check says whether it is genuine"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The 2D codes of every page of a PDF, rasterised at 200 dpi with `pdftoppm` (poppler-utils).
fn pdf_codes(file: &Path) -> Result<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("koshi-verify-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let prefix = dir.join("page");
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "200", "-png"])
        .arg(file)
        .arg(&prefix)
        .output()
        .context("reading a PDF needs pdftoppm (apt install poppler-utils); or give a PNG of the page")?;
    if !out.status.success() {
        std::fs::remove_dir_all(&dir).ok();
        bail!(
            "pdftoppm could not render {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    let mut texts = Vec::new();
    for page in pages {
        let png = std::fs::read(&page)?;
        texts.extend(koshi_forms::decode::decode_png(&png).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(texts)
}

/// Writes a new P-256 signing key (PKCS#8 PEM, readable by its owner only) and prints its id.
pub fn new_key(file: &Path) -> Result<ExitCode> {
    if file.exists() {
        bail!("{} exists: a signing key is never overwritten", file.display());
    }
    let (key, pem) = DocumentKey::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    options
        .open(file)
        .and_then(|mut f| f.write_all(pem.as_bytes()))
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "document signing key {} written to {} (use --document-key)",
        key.kid(),
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}
