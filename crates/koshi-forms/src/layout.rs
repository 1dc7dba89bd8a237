//! A small flow layout for official forms: wrapped paragraphs, label/value rows, tables, a QR
//! block, page breaks with a footer, then krilla writes the PDF (subsetted embedded fonts, a text
//! layer that `pdftotext` and screen readers read). No hyphenation in any language.

use std::sync::LazyLock;

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};

use crate::FormError;

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.7; // 20 mm
const RIGHT: f32 = 42.5; // 15 mm
const TOP: f32 = 42.5;
const BOTTOM: f32 = 56.7;
pub(crate) const WIDTH: f32 = PAGE_W - LEFT - RIGHT;
const LEADING: f32 = 1.28;

static REGULAR_BYTES: &[u8] = include_bytes!("../fonts/PTSerif-Regular.ttf");
static BOLD_BYTES: &[u8] = include_bytes!("../fonts/PTSerif-Bold.ttf");

struct Face {
    font: Option<Font>,
    metrics: Option<ttf_parser::Face<'static>>,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Face {
        Face {
            font: Font::new(bytes.into(), 0),
            metrics: ttf_parser::Face::parse(bytes, 0).ok(),
        }
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let Some(face) = &self.metrics else { return 0.0 };
        let per_unit = size / f32::from(face.units_per_em());
        text.chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(size * 0.5, |a| f32::from(a) * per_unit)
            })
            .sum()
    }
}

static REGULAR: LazyLock<Face> = LazyLock::new(|| Face::load(REGULAR_BYTES));
static BOLD: LazyLock<Face> = LazyLock::new(|| Face::load(BOLD_BYTES));

fn face(bold: bool) -> &'static Face {
    if bold { &BOLD } else { &REGULAR }
}

/// Whether every character of `text` has a glyph in the document fonts (a test holds the
/// Kazakh letters to it).
pub fn covers(text: &str) -> bool {
    [&*REGULAR, &*BOLD].iter().all(|f| {
        f.metrics.as_ref().is_some_and(|m| {
            text.chars()
                .filter(|c| !c.is_whitespace())
                .all(|c| m.glyph_index(c).is_some())
        })
    })
}

pub(crate) fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    face(bold).width(text, size)
}

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        grey: bool,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        grey: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
}

/// Breaks `text` into lines no wider than `width`: at spaces, and inside a word only when the
/// word alone is wider than the line (never with a hyphen).
pub(crate) fn wrap(text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, size, bold) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if text_width(word, size, bold) <= width {
                line = word.to_owned();
            } else {
                for c in word.chars() {
                    let mut next = line.clone();
                    next.push(c);
                    if text_width(&next, size, bold) > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    } else {
                        line = next;
                    }
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// The flow of one document: blocks placed top to bottom, new pages as needed.
pub(crate) struct Flow {
    pages: Vec<Vec<Op>>,
    y: f32,
    footer: String,
    title: String,
    lang: &'static str,
}

impl Flow {
    pub(crate) fn new(footer: String, title: String, lang: &'static str) -> Flow {
        Flow {
            pages: vec![Vec::new()],
            y: TOP,
            footer,
            title,
            lang,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - BOTTOM && self.y > TOP {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
    }

    pub(crate) fn gap(&mut self, height: f32) {
        self.y += height;
    }

    fn line_at(&mut self, x: f32, size: f32, bold: bool, grey: bool, text: String) {
        let baseline = self.y + size;
        self.ops().push(Op::Text {
            x,
            y: baseline,
            size,
            bold,
            grey,
            text,
        });
    }

    /// A wrapped paragraph across the full width.
    pub(crate) fn para(&mut self, text: &str, size: f32, bold: bool, align: Align) {
        for line in wrap(text, size, bold, WIDTH) {
            self.ensure(size * LEADING);
            let x = match align {
                Align::Left => LEFT,
                Align::Center => LEFT + (WIDTH - text_width(&line, size, bold)) / 2.0,
            };
            self.line_at(x, size, bold, false, line);
            self.y += size * LEADING;
        }
    }

    /// A block of small text at the right of the page (the appendix reference).
    pub(crate) fn right_note(&mut self, text: &str, size: f32) {
        let width = WIDTH * 0.45;
        let x = LEFT + WIDTH - width;
        for line in wrap(text, size, false, width) {
            self.line_at(x, size, false, true, line);
            self.y += size * LEADING;
        }
    }

    /// A horizontal rule.
    pub(crate) fn rule(&mut self, weight: f32) {
        let y = self.y;
        self.ops().push(Op::Rect {
            x: LEFT,
            y,
            w: WIDTH,
            h: weight,
            grey: false,
        });
        self.y += weight;
    }

    /// A label and its value on one row: the label in the left column, the value wrapped in
    /// the right one, a hairline under the row.
    pub(crate) fn field(&mut self, label: &str, value: &str) {
        let label_w = WIDTH * 0.36;
        let value_x = LEFT + label_w + 8.0;
        let value_w = WIDTH - label_w - 8.0;
        let labels = wrap(label, 8.5, false, label_w);
        let values = wrap(if value.is_empty() { "—" } else { value }, 10.0, false, value_w);
        let height = (labels.len() as f32 * 8.5 * LEADING).max(values.len() as f32 * 10.0 * LEADING) + 5.0;
        self.ensure(height);
        let top = self.y + 2.5;
        for (i, line) in labels.into_iter().enumerate() {
            let baseline = top + 8.5 + i as f32 * 8.5 * LEADING + 1.0;
            self.ops().push(Op::Text {
                x: LEFT,
                y: baseline,
                size: 8.5,
                bold: false,
                grey: true,
                text: line,
            });
        }
        for (i, line) in values.into_iter().enumerate() {
            let baseline = top + 10.0 + i as f32 * 10.0 * LEADING;
            self.ops().push(Op::Text {
                x: value_x,
                y: baseline,
                size: 10.0,
                bold: false,
                grey: false,
                text: line,
            });
        }
        self.y += height;
        let y = self.y - 1.0;
        self.ops().push(Op::Rect {
            x: LEFT,
            y,
            w: WIDTH,
            h: 0.3,
            grey: true,
        });
    }

    /// A section heading.
    pub(crate) fn heading(&mut self, text: &str) {
        self.ensure(40.0);
        self.gap(6.0);
        self.para(text, 10.5, true, Align::Left);
        self.gap(2.0);
    }

    /// A table with a header row (repeated after a page break) and wrapped cells.
    pub(crate) fn table(&mut self, columns: &[(&str, f32)], rows: &[Vec<String>]) {
        let total: f32 = columns.iter().map(|c| c.1).sum();
        let widths: Vec<f32> = columns.iter().map(|c| WIDTH * c.1 / total).collect();
        let header: Vec<String> = columns.iter().map(|c| c.0.to_owned()).collect();
        self.table_row(&widths, &header, true);
        for row in rows {
            let height = row_height(&widths, row, false);
            if self.y + height > PAGE_H - BOTTOM {
                self.ensure(height + 40.0);
                self.table_row(&widths, &header, true);
            }
            self.table_row(&widths, row, false);
        }
    }

    fn table_row(&mut self, widths: &[f32], cells: &[String], bold: bool) {
        let size = 8.0;
        let height = row_height(widths, cells, bold);
        self.ensure(height);
        let top = self.y;
        let mut x = LEFT;
        for (i, w) in widths.iter().enumerate() {
            let text = cells.get(i).map(String::as_str).unwrap_or("");
            for (n, line) in wrap(text, size, bold, w - 6.0).into_iter().enumerate() {
                let baseline = top + 3.0 + size + n as f32 * size * LEADING;
                self.ops().push(Op::Text {
                    x: x + 3.0,
                    y: baseline,
                    size,
                    bold,
                    grey: false,
                    text: line,
                });
            }
            self.ops().push(Op::Rect {
                x,
                y: top,
                w: 0.4,
                h: height,
                grey: false,
            });
            x += w;
        }
        self.ops().push(Op::Rect {
            x: LEFT + WIDTH - 0.4,
            y: top,
            w: 0.4,
            h: height,
            grey: false,
        });
        self.ops().push(Op::Rect {
            x: LEFT,
            y: top,
            w: WIDTH,
            h: 0.4,
            grey: false,
        });
        self.ops().push(Op::Rect {
            x: LEFT,
            y: top + height - 0.4,
            w: WIDTH,
            h: 0.4,
            grey: false,
        });
        self.y += height;
    }

    /// A signature line: the post and name at the left, a line for the hand signature.
    pub(crate) fn signature(&mut self, who: &str, name: &str, signature_label: &str) {
        self.ensure(48.0);
        self.gap(14.0);
        let left_w = WIDTH * 0.55;
        let lines = wrap(who, 9.5, false, left_w);
        let top = self.y;
        for (i, line) in lines.iter().enumerate() {
            let baseline = top + 9.5 + i as f32 * 9.5 * LEADING;
            self.ops().push(Op::Text {
                x: LEFT,
                y: baseline,
                size: 9.5,
                bold: false,
                grey: false,
                text: line.clone(),
            });
        }
        let x = LEFT + left_w + 10.0;
        let w = WIDTH - left_w - 10.0;
        let line_y = top + 14.0;
        self.ops().push(Op::Rect {
            x,
            y: line_y,
            w: w * 0.45,
            h: 0.5,
            grey: false,
        });
        self.ops().push(Op::Text {
            x,
            y: line_y + 9.0,
            size: 7.0,
            bold: false,
            grey: true,
            text: signature_label.to_owned(),
        });
        self.ops().push(Op::Text {
            x: x + w * 0.5,
            y: line_y - 2.0,
            size: 9.5,
            bold: false,
            grey: false,
            text: name.to_owned(),
        });
        self.y = top + (lines.len() as f32 * 9.5 * LEADING).max(28.0);
    }

    /// The verification block: the QR code at the left, the lines beside it.
    pub(crate) fn verification(&mut self, modules: &[Vec<bool>], lines: &[(String, bool)]) {
        let count = modules.len().max(1) as f32;
        // 2 pt (0.7 mm) a module: a phone reads it, and so does a 150 dpi scan.
        let side = 104.0_f32.max(count * 2.0);
        let text_lines: Vec<(String, bool)> = lines
            .iter()
            .flat_map(|(l, bold)| {
                wrap(l, 8.5, *bold, WIDTH - side - 14.0)
                    .into_iter()
                    .map(move |w| (w, *bold))
            })
            .collect();
        let height = side.max(text_lines.len() as f32 * 8.5 * LEADING) + 16.0;
        if self.y + height > PAGE_H - BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
        self.gap(10.0);
        self.rule(0.6);
        // The quiet zone above the code: at least four modules.
        self.gap(12.0);
        let top = self.y;
        let module = side / count;
        // One rectangle per horizontal run of dark modules, each overlapping the row below by
        // a hair: adjacent squares would leave anti-aliased seams that break a scan's reading.
        for (r, row) in modules.iter().enumerate() {
            let mut c = 0;
            while c < row.len() {
                if !row[c] {
                    c += 1;
                    continue;
                }
                let start = c;
                while c < row.len() && row[c] {
                    c += 1;
                }
                let (x, y) = (LEFT + start as f32 * module, top + r as f32 * module);
                let h = if r + 1 < modules.len() { module * 1.08 } else { module };
                self.ops().push(Op::Rect {
                    x,
                    y,
                    w: (c - start) as f32 * module,
                    h,
                    grey: false,
                });
            }
        }
        let x = LEFT + side + 14.0;
        for (i, (line, bold)) in text_lines.iter().enumerate() {
            let baseline = top + 8.5 + i as f32 * 8.5 * LEADING;
            self.ops().push(Op::Text {
                x,
                y: baseline,
                size: 8.5,
                bold: *bold,
                grey: false,
                text: line.clone(),
            });
        }
        self.y = top + height - 16.0;
    }

    /// Writes the PDF: every page with its footer ("page i of n" and the document number).
    pub(crate) fn finish(self, page_word: &str, of_word: &str) -> Result<Vec<u8>, FormError> {
        let regular = REGULAR.font.clone().ok_or(FormError::Font)?;
        let bold = BOLD.font.clone().ok_or(FormError::Font)?;
        let mut document = Document::new();
        document.set_metadata(
            Metadata::new()
                .title(self.title.clone())
                .language(self.lang.to_owned())
                .creator("Koshi".to_owned())
                .producer("Koshi (krilla)".to_owned()),
        );
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(FormError::Layout)?;
        let total = self.pages.len();
        for (index, ops) in self.pages.into_iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let footer = format!("{page_word} {} {of_word} {total} · {}", index + 1, self.footer);
            let footer_ops = [Op::Text {
                x: LEFT,
                y: PAGE_H - BOTTOM + 22.0,
                size: 7.5,
                bold: false,
                grey: true,
                text: footer,
            }];
            for grey in [false, true] {
                let mut path = PathBuilder::new();
                let mut any = false;
                for op in ops.iter() {
                    if let Op::Rect { x, y, w, h, grey: g } = op
                        && *g == grey
                        && let Some(rect) = Rect::from_xywh(*x, *y, *w, *h)
                    {
                        path.push_rect(rect);
                        any = true;
                    }
                }
                if any && let Some(path) = path.finish() {
                    surface.set_fill(Some(fill(grey)));
                    surface.draw_path(&path);
                }
            }
            for op in ops.iter().chain(footer_ops.iter()) {
                if let Op::Text {
                    x,
                    y,
                    size,
                    bold: is_bold,
                    grey,
                    text,
                } = op
                {
                    if text.is_empty() {
                        continue;
                    }
                    surface.set_fill(Some(fill(*grey)));
                    let font = if *is_bold { bold.clone() } else { regular.clone() };
                    surface.draw_text(Point::from_xy(*x, *y), font, *size, text, false, TextDirection::Auto);
                }
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| FormError::Pdf(format!("{e:?}")))
    }
}

fn row_height(widths: &[f32], cells: &[String], bold: bool) -> f32 {
    let size = 8.0;
    let lines = widths
        .iter()
        .enumerate()
        .map(|(i, w)| wrap(cells.get(i).map(String::as_str).unwrap_or(""), size, bold, w - 6.0).len())
        .max()
        .unwrap_or(1);
    lines as f32 * size * LEADING + 6.0
}

fn fill(grey: bool) -> Fill {
    let level = if grey { 90 } else { 0 };
    Fill {
        paint: luma::Color::new(level).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kazakh_letter_has_a_glyph_in_both_weights() {
        assert!(covers("ӘәҒғҚқҢңӨөҰұҮүҺһІі"));
        assert!(covers(
            "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя №«»—–"
        ));
    }

    #[test]
    fn wrapping_never_exceeds_the_width_and_never_hyphenates() {
        let text = "Қазақстан Республикасының Ішкі істер министрлігі көрсетілетін қызметті беруші өтініш-сауалнама";
        for width in [60.0, 120.0, 300.0] {
            let lines = wrap(text, 10.0, false, width);
            assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= width + 0.01));
            let joined: String = lines.join(" ");
            assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
            assert!(lines.iter().all(|l| !l.ends_with('-') || text.contains(l.as_str())));
        }
    }
}
