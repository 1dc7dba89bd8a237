//! Koshi's documents: every appendix of the Rules of Order No. 992 as a PDF in Russian or
//! Kazakh, each with a unique number, a short verification code and a QR code linking to
//! `/verify/{code}`; the permits also carry a signed seal in that code (COSE_Sign1, ES256) that
//! anyone can check offline against Koshi's published keys; every PDF has a detached signature.
//!
//! Heavy dependencies (PDF writing, fonts, 2D codes) live here, out of the crates edited most.

pub mod decode;
pub mod forms;
pub mod i18n;
mod layout;
pub mod samples;
pub mod seal;

use jiff::civil::Date;

pub use forms::Form;
pub use i18n::Lang;
pub use layout::covers;

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the document fonts cannot be read")]
    Font,
    #[error("the page layout failed")]
    Layout,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("the 2D code could not be made: {0}")]
    Code(String),
    #[error("signing key: {0}")]
    Key(String),
    #[error("seal: {0}")]
    Seal(String),
    #[error("the signing key {0} is not among the published keys")]
    UnknownKey(String),
    #[error("signature: {0}")]
    BadSignature(String),
    #[error("no Koshi 2D code was found in the picture")]
    NoCode,
    #[error("picture: {0}")]
    Picture(String),
}

/// What makes a printed document verifiable: its number, its code and the page that checks it.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The document's unique number.
    pub number: String,
    /// The short verification code (`XXXX-XXXX-XX`).
    pub code: String,
    /// The public verification page, `{public_url}/verify/{code}`.
    pub verify_url: String,
    /// The date the document is issued (Asia/Almaty).
    pub issued_on: Date,
    /// The signing key's id.
    pub kid: String,
    /// The permit's seal (COSE_Sign1), printed inside the 2D code.
    pub seal: Option<Vec<u8>>,
}

impl Stamp {
    /// The text of the document's 2D code.
    pub fn code_text(&self) -> String {
        match &self.seal {
            Some(seal) => seal::permit_code_text(&self.verify_url, seal),
            None => self.verify_url.clone(),
        }
    }
}

/// The alphabet of verification codes (Crockford's base 32: no I, L, O, U to misread).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new verification code, `XXXXX-XXXXX-XXXXX`: the millisecond it was made (nine base-32
/// digits of the milliseconds since 2024-01-01 UTC, as a UUIDv7 leads with its time), then 30
/// random bits. Leading with the time keeps the codes in the order they are made, so that each
/// new document adds to the end of the unique index of codes instead of dirtying a random page
/// of an index that grows with every document ever issued (a code random throughout cost the
/// straight-through bench on SQLite a third of its speed and 10 KiB written a case). A code
/// cannot be guessed: 2^30 in each millisecond, behind the public rate limit.
pub fn new_code(at: jiff::Timestamp) -> String {
    use rand::RngExt;
    let ms = (at.as_millisecond() - 1_704_067_200_000).clamp(0, (1 << 45) - 1) as u64;
    let mut rng = rand::rng();
    let mut chars: Vec<char> = (0..9)
        .rev()
        .map(|i| char::from(CODE_ALPHABET[((ms >> (5 * i)) & 31) as usize]))
        .collect();
    chars.extend((0..6).map(|_| char::from(CODE_ALPHABET[rng.random_range(0..32usize)])));
    let text: String = chars.into_iter().collect();
    format!("{}-{}-{}", &text[..5], &text[5..10], &text[10..])
}

/// Normalises a typed verification code (lower case, spaces, misreadable letters), or `None`
/// when it cannot be one.
pub fn normalise_code(input: &str) -> Option<String> {
    let cleaned: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if cleaned.len() != 15 || !cleaned.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(format!("{}-{}-{}", &cleaned[..5], &cleaned[5..10], &cleaned[10..]))
}

/// The QR code's modules, dark = true, without the quiet zone (error correction M: 15% of the
/// code may be lost to a fold or a stain).
pub fn qr_modules(text: &str) -> Result<Vec<Vec<bool>>, FormError> {
    let code = fast_qr::QRBuilder::new(text.as_bytes())
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|e| FormError::Code(format!("{e:?}")))?;
    Ok((0..code.size)
        .map(|row| code[row].iter().map(|m| m.value()).collect())
        .collect())
}

/// Renders a form as a PDF in `lang`, with its number, code and 2D code.
pub fn render(form: &Form, stamp: &Stamp, lang: Lang) -> Result<Vec<u8>, FormError> {
    let title = i18n::t(lang, form.title_key()).to_owned();
    let mut flow = layout::Flow::new(format!("№ {} · {}", stamp.number, stamp.code), title, lang.code());
    forms::layout(&mut flow, lang, form, &stamp.number, stamp.issued_on);
    let modules = qr_modules(&stamp.code_text())?;
    let lines = vec![
        (i18n::label(lang, "verify_title"), true),
        (format!("{}: {}", i18n::label(lang, "verify_code"), stamp.code), true),
        (stamp.verify_url.clone(), false),
        (i18n::t(lang, "verify_hint").to_owned(), false),
        (format!("{} {}", i18n::t(lang, "signed_by_key"), stamp.kid), false),
    ];
    flow.verification(&modules, &lines);
    flow.finish(i18n::t(lang, "page"), i18n::t(lang, "page_of"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_enough_and_read_back_from_what_people_type() {
        let at: jiff::Timestamp = "2026-12-08T05:15:07Z".parse().unwrap();
        let a = new_code(at);
        assert_eq!(a.len(), 17);
        assert_eq!(normalise_code(&a.to_lowercase()), Some(a.clone()));
        assert_eq!(normalise_code(&a.replace('-', " ")), Some(a.clone()));
        assert_ne!(new_code(at), a);
        // The codes of a millisecond share their time digits; a later millisecond's sort after.
        assert_eq!(new_code(at)[..10], a[..10]);
        let later = at.checked_add(jiff::SignedDuration::from_millis(1)).unwrap();
        assert!(*new_code(later) > *a);
        assert!(*new_code("2027-01-01T00:00:00Z".parse().unwrap()) > *a);
        assert_eq!(normalise_code("OOOOO-IIIII-LLLLL"), Some("00000-11111-11111".into()));
        assert_eq!(normalise_code("ABCDE-FGHJK"), None);
        assert_eq!(normalise_code("ABCDE-FGHJK-MNPQU"), None);
        assert_eq!(normalise_code("<script>"), None);
    }
}
