//! A small page-layout engine over printpdf: wrapped paragraphs, headings and tables that
//! break across pages with repeated headers, on A4 landscape pages with a running header and
//! a "Page X of Y" footer added once the page count is known. It owns the type: which font
//! draws each character (DejaVu Sans, else the CJK fallback), measuring with the fonts' own
//! glyph widths, the subsets the PDF embeds, where lines may break (spaces, then a long
//! token's `:` and `/`, a word inside only when it cannot fit whole), and table columns sized
//! from their content so that identifiers stay on one line.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeSet;

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfFontHandle, Point, Pt, Rect,
    Rgb, TextItem,
};

pub const PAGE_WIDTH: f32 = 297.0;
pub const PAGE_HEIGHT: f32 = 210.0;
const MARGIN_X: f32 = 12.0;
const CONTENT_TOP: f32 = 18.0;
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 16.0;
pub const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const PT_TO_MM: f32 = 0.352_778;
const CELL_PAD: f32 = 1.2;

pub const BLACK: (f32, f32, f32) = (0.07, 0.07, 0.07);
pub const MUTED: (f32, f32, f32) = (0.35, 0.35, 0.35);
pub const RED: (f32, f32, f32) = (0.69, 0.0, 0.13);
pub const GREEN: (f32, f32, f32) = (0.11, 0.37, 0.13);
pub const AMBER: (f32, f32, f32) = (0.71, 0.33, 0.04);
const LINE_GREY: (f32, f32, f32) = (0.78, 0.8, 0.83);
const HEADER_FILL: (f32, f32, f32) = (0.92, 0.94, 0.96);

pub type Colour = (f32, f32, f32);

fn colour(c: Colour) -> Color {
    Color::Rgb(Rgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

/// An embedded font: its program, its character map and advance widths for measuring, and
/// the subset of it a document embeds.
pub struct MeasuredFont {
    pub id: FontId,
    /// The face's PostScript name, which the PDF shows after the subset tag.
    name: &'static str,
    source: &'static [u8],
    font: ParsedFont,
    /// Glyph id (0: the font has none) and advance in 1/1000 em, for code points below
    /// `FAST_RANGE`: nearly every character of a report, measured without a map lookup.
    fast: Vec<(u16, f32)>,
}

const FAST_RANGE: usize = 0x2600;

impl MeasuredFont {
    /// Parses the font program `source`; `None` if it is not a font printpdf can read.
    pub fn parse(id: &str, name: &'static str, source: &'static [u8]) -> Option<Self> {
        let font = ParsedFont::from_bytes(source, 0, &mut Vec::new())?;
        let mut measured = Self {
            id: FontId(id.to_string()),
            name,
            source,
            font,
            fast: Vec::new(),
        };
        measured.fast = (0..FAST_RANGE as u32)
            .map(|code| measured.lookup(code))
            .collect();
        Some(measured)
    }

    fn lookup(&self, code: u32) -> (u16, f32) {
        let glyph = self.font.lookup_glyph_index(code).unwrap_or(0);
        (glyph, self.glyph_advance(glyph))
    }

    fn glyph_advance(&self, glyph: u16) -> f32 {
        let units = f32::from(self.font.units_per_em.max(1));
        let width = self
            .font
            .get_glyph_width(glyph)
            .map(f32::from)
            .unwrap_or(units / 2.0);
        width * 1000.0 / units
    }

    /// The glyph for `ch` and its advance in 1/1000 em; glyph 0 when the font has none.
    fn glyph(&self, ch: char) -> (u16, f32) {
        match self.fast.get(ch as usize) {
            Some(known) => *known,
            None => self.lookup(ch as u32),
        }
    }

    /// The glyph id that draws `ch`; 0 (.notdef) when the font has none.
    pub fn glyph_id(&self, ch: char) -> u16 {
        self.glyph(ch).0
    }

    fn has_glyph(&self, ch: char) -> bool {
        self.glyph_id(ch) != 0
    }

    /// This font reduced to `glyphs` (plus .notdef), ready to embed. A whole DejaVu face is
    /// about 0.7 MB and the CJK fallback 4 MB; a report uses a few hundred glyphs of them.
    /// The subset keeps glyph widths and a Unicode cmap for the kept glyphs, so text is
    /// encoded and extracted as with the whole font; the same glyphs always give the same
    /// bytes, so the PDF stays reproducible.
    pub fn subset(&self, glyphs: &BTreeSet<u16>) -> Result<ParsedFont, String> {
        use allsorts::{
            binary::read::ReadScope,
            font_data::FontData,
            subset::{CmapTarget, SubsetProfile, subset},
        };
        let font_file = ReadScope::new(self.source)
            .read::<FontData<'_>>()
            .map_err(|err| err.to_string())?;
        let provider = font_file.table_provider(0).map_err(|err| err.to_string())?;
        // .notdef first, as the subsetter requires; it draws any character no font has.
        let ids: Vec<u16> = std::iter::once(0)
            .chain(glyphs.iter().copied().filter(|glyph| *glyph != 0))
            .collect();
        let bytes = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode)
            .map_err(|err| err.to_string())?;
        let mut font = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
            .ok_or("the subset is not a readable font")?;
        font.font_name = Some(format!("{}+{}", subset_tag(&ids), self.name));
        Ok(font)
    }
}

/// The six capital letters that name a subset font (ISO 32000-1 §9.6.4), derived from its
/// glyphs so that the same glyphs give the same name (reproducible bytes) and different
/// subsets of one face get different names (a reader caching fonts by name keeps them apart).
fn subset_tag(glyphs: &[u16]) -> String {
    // FNV-1a: small, stable across Rust versions (unlike `DefaultHasher`).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for glyph in glyphs {
        for byte in glyph.to_be_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (0..6)
        .map(|_| {
            let letter = b'A' + (hash % 26) as u8;
            hash /= 26;
            char::from(letter)
        })
        .collect()
}

/// The report's fonts: DejaVu Sans for the European scripts, and a fallback (Droid Sans
/// Fallback) for the characters DejaVu lacks, above all Chinese, Japanese and Korean — a
/// system name in Japanese must print as itself, not as empty boxes. The fallback is parsed
/// only when a report needs it.
pub struct Fonts {
    pub regular: MeasuredFont,
    pub bold: MeasuredFont,
    fallback: OnceCell<Option<MeasuredFont>>,
    load_fallback: fn() -> Option<MeasuredFont>,
}

impl Fonts {
    pub fn new(
        regular: MeasuredFont,
        bold: MeasuredFont,
        load_fallback: fn() -> Option<MeasuredFont>,
    ) -> Self {
        Self {
            regular,
            bold,
            fallback: OnceCell::new(),
            load_fallback,
        }
    }

    pub fn face(&self, bold: bool) -> Face<'_> {
        Face {
            primary: if bold { &self.bold } else { &self.regular },
            fonts: self,
        }
    }

    fn fallback(&self) -> Option<&MeasuredFont> {
        self.fallback.get_or_init(self.load_fallback).as_ref()
    }

    /// Every font that may have drawn text, by its resource id.
    pub fn loaded(&self) -> impl Iterator<Item = &MeasuredFont> {
        [&self.regular, &self.bold]
            .into_iter()
            .chain(self.fallback.get().and_then(Option::as_ref))
    }
}

/// A weight of the report's type: its primary font, and the fallback for what that lacks.
#[derive(Clone, Copy)]
pub struct Face<'f> {
    primary: &'f MeasuredFont,
    fonts: &'f Fonts,
}

impl<'f> Face<'f> {
    /// The font that draws `ch`: the primary when it has the glyph, else the fallback when
    /// that has it, else the primary (its .notdef box marks a character no font has).
    fn font_for(&self, ch: char) -> &'f MeasuredFont {
        if self.primary.has_glyph(ch) {
            return self.primary;
        }
        match self.fonts.fallback() {
            Some(fallback) if fallback.has_glyph(ch) => fallback,
            _ => self.primary,
        }
    }

    /// Width of `text` in millimetres at `size` points, each character in the font that
    /// draws it.
    pub fn width_mm(&self, text: &str, size: f32) -> f32 {
        self.width_em(text) * size * PT_TO_MM
    }

    /// Width of `text` in em (millimetres at 1 pt: `* size * PT_TO_MM` gives mm).
    fn width_em(&self, text: &str) -> f32 {
        let thousandths: f32 = text.chars().map(|ch| self.advance(ch)).sum();
        thousandths / 1000.0
    }

    fn advance(&self, ch: char) -> f32 {
        let (glyph, advance) = self.primary.glyph(ch);
        if glyph != 0 {
            return advance;
        }
        self.font_for(ch).glyph(ch).1
    }

    /// `text` cut into runs of characters drawn by the same font, in order.
    pub fn runs<'t>(&self, text: &'t str) -> Runs<'f, 't> {
        Runs { face: *self, text }
    }
}

/// The runs of [`Face::runs`].
pub struct Runs<'f, 't> {
    face: Face<'f>,
    text: &'t str,
}

impl<'f, 't> Iterator for Runs<'f, 't> {
    type Item = (&'f MeasuredFont, &'t str);

    fn next(&mut self) -> Option<Self::Item> {
        let mut chars = self.text.char_indices();
        let (_, first) = chars.next()?;
        let font = self.face.font_for(first);
        let end = chars
            .find(|(_, ch)| !std::ptr::eq(self.face.font_for(*ch), font))
            .map_or(self.text.len(), |(at, _)| at);
        let (run, rest) = self.text.split_at(end);
        self.text = rest;
        Some((font, run))
    }
}

/// How good a place to break a word too wide for its line is, after `ch`: 1 for the
/// separators of identifiers and paths (an ARN breaks at `:` and `/`), 2 inside their parts
/// (`-` of a key id, `.` of a host name, between CJK characters, which need no space to
/// break), none elsewhere.
fn break_after(ch: char) -> Option<u8> {
    match ch {
        '/' | ':' | ',' | ';' | '|' | '&' | '?' | '=' | ')' | ']' | '}' => Some(1),
        '-' | '_' | '.' | '@' | '+' | '\\' | '~' => Some(2),
        _ if is_cjk(ch) => Some(2),
        _ => None,
    }
}

fn is_cjk(ch: char) -> bool {
    matches!(ch as u32,
        0x2E80..=0x303F | 0x3040..=0x30FF | 0x3100..=0x31FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF
        | 0x20000..=0x3FFFF)
}

/// A combining mark belongs to the character before it: never break before one.
fn is_combining(ch: char) -> bool {
    matches!(ch as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A word with `:` or `/` wider than this (in em) is a long token — an ARN, a path, a user
/// agent, a JSON request — that may break after them rather than widen its column to its
/// full length. Shorter ones (a time, `kms:ListKeys`) stay whole.
const LONG_TOKEN_EM: f32 = 12.0;

/// The widest piece of text a column is ever made narrower than, in em: wider words (a
/// SHA-256, a hostile 10 kB name) break wherever they must. A KMS key id (36 characters,
/// about 22 em) and the longest AWS error codes are narrower, and stay whole.
const WIDEST_UNBREAKABLE_EM: f32 = 24.0;

/// `word` cut at its break points of `tier` (the break character stays with the part
/// before it).
fn split_after(word: &str, tier: u8) -> impl Iterator<Item = &str> {
    let mut rest = word;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .char_indices()
            .find(|(_, ch)| break_after(*ch).is_some_and(|t| t <= tier))
            .map_or(rest.len(), |(at, ch)| at + ch.len_utf8());
        let (part, tail) = rest.split_at(end);
        rest = tail;
        Some(part)
    })
}

/// The pieces a word too wide for `width` mm breaks into, each as wide as it may be: its
/// `:`/`/`-separated parts, those still too wide at their `-`, `.` and CJK characters, and
/// only what is still too wide at a character boundary (a hostile 10 kB name).
fn word_pieces<'w>(face: Face<'_>, word: &'w str, size: f32, width: f32) -> Vec<&'w str> {
    let mut pieces = Vec::new();
    for part in split_after(word, 1) {
        if face.width_mm(part, size) <= width {
            pieces.push(part);
            continue;
        }
        for piece in split_after(part, 2) {
            if face.width_mm(piece, size) <= width {
                pieces.push(piece);
                continue;
            }
            let mut start = 0;
            let mut used = 0.0;
            for (at, ch) in piece.char_indices() {
                let advance = face.advance(ch) / 1000.0 * size * PT_TO_MM;
                if used + advance > width && at > start && !is_combining(ch) {
                    pieces.push(&piece[start..at]);
                    start = at;
                    used = 0.0;
                }
                used += advance;
            }
            pieces.push(&piece[start..]);
        }
    }
    pieces
}

/// Breaks `text` into lines no wider than `width` mm. Lines break at spaces; a word is
/// never broken when it fits on a line of its own. A word wider than a line breaks at its
/// natural break points (see [`word_pieces`]), filling lines greedily.
pub fn wrap(face: Face<'_>, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let space = face.width_mm(" ", size);
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in paragraph.split(' ') {
            let word_width = face.width_mm(word, size);
            let gap = if line.is_empty() { 0.0 } else { space };
            if line_width + gap + word_width <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += gap + word_width;
                continue;
            }
            if word_width <= width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
                line_width = word_width;
                continue;
            }
            for (index, piece) in word_pieces(face, word, size, width).into_iter().enumerate() {
                let piece_width = face.width_mm(piece, size);
                let gap = if index == 0 && !line.is_empty() {
                    space
                } else {
                    0.0
                };
                if !line.is_empty() && line_width + gap + piece_width > width {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                } else if gap > 0.0 {
                    line.push(' ');
                    line_width += gap;
                }
                line.push_str(piece);
                line_width += piece_width;
            }
        }
        lines.push(line);
    }
    lines
}

/// What a table column needs, in em (millimetres at 1 pt) so that one measurement serves
/// every font size tried: `min`, the widest piece of text that must not break (a word, or a
/// long token's widest `:`/`/` part), and `max`, the widest line unwrapped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ColumnNeed {
    min: f32,
    max: f32,
}

impl ColumnNeed {
    fn add(&mut self, face: Face<'_>, text: &str) {
        for line in text.split('\n') {
            let mut line_width = 0.0;
            for (index, word) in line.split(' ').enumerate() {
                let word_width = face.width_em(word);
                line_width += word_width;
                if index > 0 {
                    line_width += face.width_em(" ");
                }
                let unbreakable = if word_width <= LONG_TOKEN_EM {
                    word_width
                } else {
                    split_after(word, 1)
                        .map(|part| face.width_em(part))
                        .fold(0.0, f32::max)
                };
                self.min = self.min.max(unbreakable.min(WIDEST_UNBREAKABLE_EM));
            }
            self.max = self.max.max(line_width);
        }
    }
}

/// The smallest size a table shrinks to so that its words fit whole in their columns.
const MIN_TABLE_SIZE: f32 = 5.0;

/// Font size and column widths (mm) for a table: the largest size from `size` down to
/// `MIN_TABLE_SIZE` at which every column holds its widest unbreakable text; then each
/// column gets at least that, at most its longest line where the page allows, and the rest
/// of the width by the table's width hints (`weights`). At the smallest size, if the words
/// still do not fit, the columns with the widest words are narrowed to one common width,
/// and only words wider than that break (last resort); the narrow columns — statuses,
/// account ids — keep theirs.
fn fit_columns(needs: &[ColumnNeed], weights: &[f32], size: f32, total: f32) -> (f32, Vec<f32>) {
    let pad = 2.0 * CELL_PAD;
    let mut size = size;
    let at = |size: f32, em: f32| em * size * PT_TO_MM + pad;
    while size > MIN_TABLE_SIZE && needs.iter().map(|n| at(size, n.min)).sum::<f32>() > total {
        size = (size - 0.5).max(MIN_TABLE_SIZE);
    }
    let mut min: Vec<f32> = needs.iter().map(|n| at(size, n.min)).collect();
    if min.iter().sum::<f32>() >= total {
        let cap = common_cap(&min, total);
        for width in &mut min {
            *width = width.min(cap);
        }
        return (size, min);
    }
    let max: Vec<f32> = needs
        .iter()
        .zip(&min)
        .map(|(n, min)| at(size, n.max).max(*min))
        .collect();
    let weight_total: f32 = weights.iter().sum::<f32>().max(f32::EPSILON);
    let mut widths: Vec<f32> = weights
        .iter()
        .zip(min.iter().zip(&max))
        .map(|(w, (min, max))| (w / weight_total * total).clamp(*min, *max))
        .collect();
    // Too wide: take the excess from the columns above their minimum, in proportion to
    // what each can give (it is enough: the minimums fit).
    let excess = widths.iter().sum::<f32>() - total;
    if excess > 0.0 {
        let slack: Vec<f32> = widths.iter().zip(&min).map(|(w, m)| w - m).collect();
        let slack_total: f32 = slack.iter().sum();
        for (width, slack) in widths.iter_mut().zip(slack) {
            *width -= excess * slack / slack_total;
        }
        return (size, widths);
    }
    // Room left: give it by weight to the columns whose text still wraps, up to their
    // longest line; once every line fits, to all columns by weight.
    let mut room = total - widths.iter().sum::<f32>();
    for _ in 0..widths.len() {
        let growing: Vec<usize> = (0..widths.len())
            .filter(|&i| widths[i] < max[i] - 0.01)
            .collect();
        let growing_weight: f32 = growing.iter().map(|&i| weights[i]).sum();
        if room <= 0.01 || growing.is_empty() || growing_weight <= 0.0 {
            break;
        }
        let mut given = 0.0;
        for &i in &growing {
            let share = (room * weights[i] / growing_weight).min(max[i] - widths[i]);
            widths[i] += share;
            given += share;
        }
        room -= given;
    }
    if room > 0.01 {
        for (width, weight) in widths.iter_mut().zip(weights) {
            *width += room * weight / weight_total;
        }
    }
    (size, widths)
}

/// The width `cap` at which the `widths`, each cut to at most `cap`, add up to `total`
/// (which is less than their sum).
fn common_cap(widths: &[f32], total: f32) -> f32 {
    let mut sorted = widths.to_vec();
    sorted.sort_by(f32::total_cmp);
    let mut below = 0.0;
    for (index, width) in sorted.iter().enumerate() {
        let capped_columns = (sorted.len() - index) as f32;
        if below + width * capped_columns >= total {
            return (total - below) / capped_columns;
        }
        below += width;
    }
    total / sorted.len().max(1) as f32
}

/// `text` on one line of at most `width` mm: whole when it fits, else its longest start
/// that fits followed by an ellipsis. Stops measuring at the first character that does not
/// fit, so a megabyte of text costs no more than a line of it.
pub fn fit_line<'t>(face: Face<'_>, text: &'t str, size: f32, width: f32) -> Cow<'t, str> {
    const ELLIPSIS: &str = "…";
    let room = width - face.width_mm(ELLIPSIS, size);
    let mut used = 0.0;
    let mut cut = None;
    for (at, ch) in text.char_indices() {
        if ch == '\n' {
            return Cow::Owned(format!("{}{ELLIPSIS}", &text[..cut.unwrap_or(at)]));
        }
        used += face.advance(ch) / 1000.0 * size * PT_TO_MM;
        if cut.is_none() && used > room {
            cut = Some(at);
        }
        if used > width {
            return Cow::Owned(format!("{}{ELLIPSIS}", &text[..cut.unwrap_or(at)]));
        }
    }
    Cow::Borrowed(text)
}

/// One table cell: text, with optional colour and weight.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub colour: Option<Colour>,
    pub bold: bool,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Default::default()
        }
    }

    pub fn coloured(text: impl Into<String>, colour: Colour) -> Self {
        Self {
            text: text.into(),
            colour: Some(colour),
            bold: true,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::plain(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::plain(text)
    }
}

/// Running header and footer texts, written on every page at the end.
pub struct PageFrame {
    pub header_left: String,
    pub header_right: String,
    pub footer_left: String,
    pub footer_signature: String,
}

pub struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Distance from the top of the page, in mm, of the next free line.
    y: f32,
    /// Graphics state already set on this page, so repeated settings are not emitted again
    /// (a large report has millions of text operations).
    fill: Option<Colour>,
    font: Option<(&'f FontId, u32)>,
    stroke: Option<(Colour, u32)>,
    /// Headings not drawn yet: each is drawn with the start of what follows it, so a heading
    /// never stands alone at the foot of a page.
    pending_headings: Vec<(String, u8)>,
}

impl<'f> Layout<'f> {
    pub fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: Vec::new(),
            ops: Vec::new(),
            y: CONTENT_TOP,
            fill: None,
            font: None,
            stroke: None,
            pending_headings: Vec::new(),
        }
    }

    fn set_fill(&mut self, c: Colour) {
        if self.fill != Some(c) {
            self.fill = Some(c);
            self.ops.push(Op::SetFillColor { col: colour(c) });
        }
    }

    fn reset_page_state(&mut self) {
        self.fill = None;
        self.font = None;
        self.stroke = None;
    }

    pub fn new_page(&mut self) {
        if !self.ops.is_empty() || !self.pages.is_empty() {
            let mut page = std::mem::take(&mut self.ops);
            page.shrink_to_fit();
            self.pages.push(page);
        }
        self.reset_page_state();
        self.y = CONTENT_TOP;
    }

    fn remaining(&self) -> f32 {
        CONTENT_BOTTOM - self.y
    }

    /// Starts a new page unless `height` mm still fit on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.remaining() < height && self.y > CONTENT_TOP {
            self.new_page();
        }
    }

    /// Reserves `height` mm of the content area for a figure (on a new page unless it fits
    /// on this one) and returns the figure's top left corner.
    pub fn reserve(&mut self, height: f32) -> (f32, f32) {
        self.flush_headings(height);
        self.ensure(height);
        let top = self.y;
        self.y += height;
        (MARGIN_X, top)
    }

    /// The width of `text` in mm at `size` points.
    pub fn text_width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.fonts.face(bold).width_mm(text, size)
    }

    pub fn space(&mut self, mm: f32) {
        self.flush_headings(mm);
        self.y += mm;
    }

    fn line_height(size: f32) -> f32 {
        size * 1.25 * PT_TO_MM
    }

    /// Draws one line of text with its top at `top` mm from the page top.
    pub fn text_at(
        &mut self,
        x: f32,
        top: f32,
        size: f32,
        bold: bool,
        colour_rgb: Colour,
        text: &str,
    ) {
        let baseline = top + size * 0.9 * PT_TO_MM;
        self.ops.push(Op::StartTextSection);
        self.set_fill(colour_rgb);
        let mut placed = false;
        // One text object, one show per font run: each show continues where the last ended,
        // and text extraction reads the line as one.
        for (font, run) in self.fonts.face(bold).runs(text) {
            // Text state (font and size) survives between text objects on a page.
            let font_key = (&font.id, size.to_bits());
            if self.font != Some(font_key) {
                self.font = Some(font_key);
                self.ops.push(Op::SetFont {
                    font: PdfFontHandle::External(font.id.clone()),
                    size: Pt(size),
                });
            }
            if !placed {
                placed = true;
                self.ops.push(Op::SetTextCursor {
                    pos: Point {
                        x: Mm(x).into(),
                        y: Mm(PAGE_HEIGHT - baseline).into(),
                    },
                });
            }
            self.ops.push(Op::ShowText {
                items: vec![TextItem::Text(run.to_string())],
            });
        }
        self.ops.push(Op::EndTextSection);
    }

    pub(super) fn fill_rect(&mut self, x: f32, top: f32, width: f32, height: f32, fill: Colour) {
        self.set_fill(fill);
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: Mm(x).into(),
                y: Mm(PAGE_HEIGHT - top - height).into(),
                width: Mm(width).into(),
                height: Mm(height).into(),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    fn hline(&mut self, x1: f32, x2: f32, top: f32, stroke: Colour, thickness: f32) {
        self.segment((x1, top), (x2, top), stroke, thickness);
    }

    pub(super) fn segment(
        &mut self,
        from: (f32, f32),
        to: (f32, f32),
        stroke: Colour,
        thickness: f32,
    ) {
        let point = |(x, top): (f32, f32)| LinePoint {
            p: Point {
                x: Mm(x).into(),
                y: Mm(PAGE_HEIGHT - top).into(),
            },
            bezier: false,
        };
        if self.stroke != Some((stroke, thickness.to_bits())) {
            self.stroke = Some((stroke, thickness.to_bits()));
            self.ops.push(Op::SetOutlineColor {
                col: colour(stroke),
            });
            self.ops.push(Op::SetOutlineThickness { pt: Pt(thickness) });
        }
        self.ops.extend([Op::DrawLine {
            line: Line {
                points: vec![point(from), point(to)],
                is_closed: false,
            },
        }]);
    }

    /// A wrapped paragraph over the full content width, flowing across pages.
    pub fn paragraph(&mut self, text: &str, size: f32, bold: bool, colour_rgb: Colour) {
        let lines = wrap(self.fonts.face(bold), text, size, CONTENT_WIDTH);
        let height = Self::line_height(size);
        self.flush_headings(height * lines.len().min(2) as f32);
        for line in lines {
            self.ensure(height);
            let top = self.y;
            self.text_at(MARGIN_X, top, size, bold, colour_rgb, &line);
            self.y += height;
        }
        self.y += height * 0.4;
    }

    /// A heading, drawn when what follows it is: on the page where the start of that fits.
    pub fn heading(&mut self, text: &str, level: u8) {
        self.pending_headings.push((text.to_string(), level));
    }

    fn heading_size(level: u8) -> f32 {
        match level {
            1 => 16.0,
            2 => 12.5,
            _ => 10.5,
        }
    }

    fn heading_height(&self, text: &str, level: u8) -> f32 {
        let size = Self::heading_size(level);
        let lines = wrap(self.fonts.face(true), text, size, CONTENT_WIDTH).len() as f32;
        let (before, after) = if level == 1 { (0.0, 1.5) } else { (2.0, 0.0) };
        before + Self::line_height(size) * (lines + 0.4) + after
    }

    /// Draws the pending headings where they and `next` mm of what follows fit together.
    fn flush_headings(&mut self, next: f32) {
        if self.pending_headings.is_empty() {
            return;
        }
        let headings = std::mem::take(&mut self.pending_headings);
        let height: f32 = headings
            .iter()
            .map(|(text, level)| self.heading_height(text, *level))
            .sum();
        self.ensure((height + next).min(CONTENT_BOTTOM - CONTENT_TOP));
        for (text, level) in headings {
            self.y += if level == 1 { 0.0 } else { 2.0 };
            self.paragraph(&text, Self::heading_size(level), true, BLACK);
            if level == 1 {
                let top = self.y - 1.0;
                self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, top, LINE_GREY, 0.8);
                self.y += 1.5;
            }
        }
    }

    /// A filled box with large centred text (the verdict on the cover page).
    pub fn banner(&mut self, text: &str, size: f32, fill: Colour) {
        let height = Self::line_height(size) + 6.0;
        self.flush_headings(height);
        self.ensure(height);
        let top = self.y;
        self.fill_rect(MARGIN_X, top, CONTENT_WIDTH, height, fill);
        let width = self.fonts.face(true).width_mm(text, size);
        let x = MARGIN_X + (CONTENT_WIDTH - width).max(0.0) / 2.0;
        self.text_at(x, top + 3.0, size, true, (1.0, 1.0, 1.0), text);
        self.y += height + 3.0;
    }

    /// A heading followed by a short table kept on one page with it (a legend split over two
    /// pages, or a heading left alone at a page's foot, reads as two different lists).
    pub fn heading_with_table(
        &mut self,
        heading: &str,
        headers: &[&str],
        widths: &[f32],
        rows: &[Vec<Cell>],
        size: f32,
    ) {
        self.heading(heading, 2);
        self.table_keeping(headers, widths, rows, size, rows.len());
    }

    /// A table at font size `size` or, where its words would not fit whole, smaller, with
    /// columns sized from their content and width hints `widths` (relative weights; see
    /// [`fit_columns`]), a header row repeated on every page the table reaches, and rows that
    /// wrap and, if taller than a page, split across pages.
    pub fn table(&mut self, headers: &[&str], widths: &[f32], rows: &[Vec<Cell>], size: f32) {
        self.table_keeping(headers, widths, rows, size, 1);
    }

    /// [`Layout::table`], starting on a new page unless its header and first `keep` rows fit
    /// on this one (they are kept together when they fit on a page at all).
    fn table_keeping(
        &mut self,
        headers: &[&str],
        widths: &[f32],
        rows: &[Vec<Cell>],
        size: f32,
        keep: usize,
    ) {
        let header_cells = header_cells(headers);
        // A table whose headers are all empty is a key/value list: no header row.
        let has_header = headers.iter().any(|h| !h.is_empty());
        let (size, columns) = fit_columns(
            &self.column_needs(&header_cells, rows, widths.len()),
            widths,
            size,
            CONTENT_WIDTH,
        );
        let line_height = Self::line_height(size);
        let header_lines = self.wrap_row(&header_cells, &columns, size);
        let header_height = if has_header {
            Self::row_height(&header_lines, line_height)
        } else {
            0.0
        };

        let header = has_header.then_some((header_cells.as_slice(), header_lines.as_slice()));

        // A header row never stands alone at a page's foot: it starts where its first row
        // (or its first `keep` rows, when they fit on a page) fits too.
        let heights: Vec<f32> = rows
            .iter()
            .take(keep.max(1))
            .map(|row| Self::row_height(&self.wrap_row(row, &columns, size), line_height))
            .collect();
        let first_row = heights
            .first()
            .copied()
            .unwrap_or(line_height + 2.0 * CELL_PAD);
        let kept: f32 = heights.iter().sum();
        let page = CONTENT_BOTTOM - CONTENT_TOP;
        let start = if header_height + kept <= page {
            header_height + kept
        } else if header_height + first_row <= page {
            header_height + first_row
        } else {
            // A first row taller than a page is split anyway: then a few of its lines will do.
            header_height + 3.0 * line_height + 2.0 * CELL_PAD
        };
        self.flush_headings(start);
        self.ensure(start);
        let mut segment_top = self.y;
        self.table_top(header, &columns, size);
        for row in rows {
            let lines = self.wrap_row(row, &columns, size);
            let mut first_line = 0;
            let row_lines = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
            while first_line < row_lines {
                let fitting = ((self.remaining() - 2.0 * CELL_PAD) / line_height)
                    .floor()
                    .max(0.0) as usize;
                let wanted = row_lines - first_line;
                // Split a row only when it cannot fit on a fresh page either.
                let fresh_page_lines =
                    ((CONTENT_BOTTOM - CONTENT_TOP - header_height - 2.0 * CELL_PAD) / line_height)
                        .floor() as usize;
                if fitting < wanted && (fitting == 0 || wanted <= fresh_page_lines) {
                    self.column_rules(&columns, segment_top, self.y);
                    self.new_page();
                    segment_top = self.y;
                    self.table_top(header, &columns, size);
                    continue;
                }
                let count = wanted.min(fitting);
                let slice: Vec<Vec<String>> = lines
                    .iter()
                    .map(|cell| cell.iter().skip(first_line).take(count).cloned().collect())
                    .collect();
                self.draw_row(row, &slice, &columns, size, None);
                first_line += count;
                if first_line < row_lines {
                    self.column_rules(&columns, segment_top, self.y);
                    self.new_page();
                    segment_top = self.y;
                    self.table_top(header, &columns, size);
                }
            }
        }
        self.column_rules(&columns, segment_top, self.y);
        self.y += 3.0;
    }

    /// The top of a table on a page: the header row, or a rule for a headerless table.
    fn table_top(&mut self, header: Option<(&[Cell], &[Vec<String>])>, columns: &[f32], size: f32) {
        match header {
            Some((cells, lines)) => self.draw_row(cells, lines, columns, size, Some(HEADER_FILL)),
            None => {
                let top = self.y;
                self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, top, LINE_GREY, 0.4);
            }
        }
    }

    fn column_needs(&self, header: &[Cell], rows: &[Vec<Cell>], columns: usize) -> Vec<ColumnNeed> {
        let mut needs = vec![ColumnNeed::default(); columns];
        for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
            for (need, cell) in needs.iter_mut().zip(row) {
                need.add(self.fonts.face(cell.bold), &cell.text);
            }
        }
        needs
    }

    fn wrap_row(&self, row: &[Cell], columns: &[f32], size: f32) -> Vec<Vec<String>> {
        columns
            .iter()
            .enumerate()
            .map(|(i, width)| {
                let cell = row.get(i).cloned().unwrap_or_default();
                wrap(
                    self.fonts.face(cell.bold),
                    &cell.text,
                    size,
                    width - 2.0 * CELL_PAD,
                )
            })
            .collect()
    }

    fn row_height(lines: &[Vec<String>], line_height: f32) -> f32 {
        lines.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32 * line_height + 2.0 * CELL_PAD
    }

    fn draw_row(
        &mut self,
        row: &[Cell],
        lines: &[Vec<String>],
        columns: &[f32],
        size: f32,
        fill: Option<Colour>,
    ) {
        let line_height = Self::line_height(size);
        let height = Self::row_height(lines, line_height);
        let top = self.y;
        if let Some(fill) = fill {
            self.fill_rect(MARGIN_X, top, CONTENT_WIDTH, height, fill);
        }
        let mut x = MARGIN_X;
        for (i, width) in columns.iter().enumerate() {
            let cell = row.get(i).cloned().unwrap_or_default();
            let colour_rgb = cell.colour.unwrap_or(BLACK);
            for (n, line) in lines[i].iter().enumerate() {
                if !line.is_empty() {
                    self.text_at(
                        x + CELL_PAD,
                        top + CELL_PAD + n as f32 * line_height,
                        size,
                        cell.bold,
                        colour_rgb,
                        line,
                    );
                }
            }
            x += width;
        }
        let bottom = top + height;
        self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, bottom, LINE_GREY, 0.4);
        if fill.is_some() {
            self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, top, LINE_GREY, 0.4);
        }
        self.y = bottom;
    }

    /// Vertical column rules from `top` to `bottom`, drawn once per page a table covers.
    fn column_rules(&mut self, columns: &[f32], top: f32, bottom: f32) {
        if bottom <= top {
            return;
        }
        let mut x = MARGIN_X;
        self.segment((x, top), (x, bottom), LINE_GREY, 0.4);
        for width in columns {
            x += width;
            self.segment((x, top), (x, bottom), LINE_GREY, 0.4);
        }
    }

    /// Finishes the document: adds header and footer with "Page X of Y" to every page.
    pub fn finish(mut self, frame: &PageFrame) -> Vec<Vec<Op>> {
        self.flush_headings(0.0);
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let mut finished = Vec::with_capacity(total);
        let right = |layout: &Layout, text: &str, size: f32| {
            PAGE_WIDTH - MARGIN_X - layout.fonts.face(false).width_mm(text, size)
        };
        // Measured and cut once, not once per page: a hostile 1 MB system name in the header
        // of each of a thousand pages made rendering quadratic (and ran off the page).
        let header_right_x = right(&self, &frame.header_right, 8.0);
        let header_left = fit_line(
            self.fonts.face(true),
            &frame.header_left,
            8.0,
            header_right_x - MARGIN_X - 4.0,
        );
        let signature_colour = if frame.footer_signature.starts_with("DRAFT") {
            RED
        } else {
            BLACK
        };
        let signature = fit_line(
            self.fonts.face(true),
            &frame.footer_signature,
            7.0,
            CONTENT_WIDTH * 0.8,
        );
        for (index, mut ops) in pages.into_iter().enumerate() {
            self.ops = Vec::new();
            // The frame is appended after the page's content, whose last state is unknown here.
            self.reset_page_state();
            self.text_at(MARGIN_X, 7.0, 8.0, true, MUTED, &header_left);
            self.text_at(header_right_x, 7.0, 8.0, false, MUTED, &frame.header_right);
            self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, 12.0, LINE_GREY, 0.6);
            self.hline(
                MARGIN_X,
                PAGE_WIDTH - MARGIN_X,
                PAGE_HEIGHT - 13.5,
                LINE_GREY,
                0.6,
            );
            self.text_at(
                MARGIN_X,
                PAGE_HEIGHT - 12.5,
                7.0,
                true,
                signature_colour,
                &signature,
            );
            self.text_at(
                MARGIN_X,
                PAGE_HEIGHT - 8.5,
                7.0,
                false,
                MUTED,
                &frame.footer_left,
            );
            let page_text = format!("Page {} of {total}", index + 1);
            let x = right(&self, &page_text, 8.0);
            self.text_at(x, PAGE_HEIGHT - 9.0, 8.0, true, BLACK, &page_text);
            // Exactly sized: a long report holds millions of operations until it is saved.
            ops.reserve_exact(self.ops.len());
            ops.append(&mut self.ops);
            finished.push(ops);
        }
        finished
    }
}

/// A table's header row: its column titles in bold.
fn header_cells(headers: &[&str]) -> Vec<Cell> {
    headers
        .iter()
        .map(|h| Cell {
            text: (*h).to_string(),
            colour: None,
            bold: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::pdf::{REGULAR_TTF, load_fallback_font};
    use super::*;

    fn fonts() -> Fonts {
        let regular = || MeasuredFont::parse("F1", "DejaVuSans", REGULAR_TTF).unwrap();
        Fonts::new(regular(), regular(), load_fallback_font)
    }

    /// The lines of `text` wrapped at `width` mm, 7 pt.
    fn wrapped(fonts: &Fonts, text: &str, width: f32) -> Vec<String> {
        wrap(fonts.face(false), text, 7.0, width)
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_every_character() {
        let fonts = fonts();
        let face = fonts.face(false);
        let text = "the quick brown fox jumps over the lazy dog";
        let lines = wrap(face, text, 10.0, 30.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| face.width_mm(l, 10.0) <= 30.0));
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(10_000);
        let lines = wrap(face, &long, 7.0, 40.0);
        assert!(lines.len() > 100);
        assert_eq!(lines.concat(), long);
    }

    #[test]
    fn wrap_never_breaks_a_word_that_fits_on_a_line_of_its_own() {
        let fonts = fonts();
        let face = fonts.face(false);
        let width = face.width_mm("NOT_APPLICABLE", 7.0) + 0.1;
        let lines = wrapped(&fonts, "status NOT_APPLICABLE", width);
        assert_eq!(lines, ["status", "NOT_APPLICABLE"]);
        let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let width = face.width_mm(key_id, 7.0) + 0.1;
        let lines = wrapped(&fonts, &format!("key {key_id} alias/prod-key"), width);
        assert!(lines.iter().any(|l| l == key_id), "{lines:?}");
        assert!(lines.iter().all(|l| face.width_mm(l, 7.0) <= width));
    }

    #[test]
    fn wrap_breaks_a_long_arn_only_after_its_colons_and_slashes() {
        let fonts = fonts();
        let arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let width = fonts
            .face(false)
            .width_mm("1234abcd-12ab-34cd-56ef-1234567890ab", 7.0)
            + 1.0;
        let lines = wrapped(&fonts, arn, width);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.concat(), arn);
        for line in &lines[..lines.len() - 1] {
            assert!(line.ends_with(':') || line.ends_with('/'), "{lines:?}");
        }
        assert_eq!(
            lines.last().unwrap(),
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        assert!(lines.iter().any(|l| l.contains("123456789012")));
    }

    #[test]
    fn wrap_breaks_a_part_still_too_wide_at_its_dashes_before_inside_it() {
        let fonts = fonts();
        let face = fonts.face(false);
        let width = face.width_mm("1234567890ab", 7.0) + 0.1;
        let lines = wrapped(&fonts, "1234abcd-12ab-34cd-56ef-1234567890ab", width);
        assert_eq!(lines.concat(), "1234abcd-12ab-34cd-56ef-1234567890ab");
        for line in &lines[..lines.len() - 1] {
            assert!(line.ends_with('-'), "{lines:?}");
        }
        // No break point at all: at a character boundary, as a last resort.
        let lines = wrapped(
            &fonts,
            "AccessDeniedException",
            face.width_mm("Access", 7.0),
        );
        assert!(lines.len() > 2 && lines.concat() == "AccessDeniedException");
    }

    #[test]
    fn characters_dejavu_lacks_are_measured_and_drawn_in_the_fallback_font() {
        let fonts = fonts();
        let face = fonts.face(false);
        let runs: Vec<(&str, &str)> = face
            .runs("LIMS 品質管理システム (Zürich)")
            .map(|(font, run)| (font.id.0.as_str(), run))
            .collect();
        assert_eq!(
            runs,
            [
                ("F1", "LIMS "),
                ("F3", "品質管理システム"),
                ("F1", " (Zürich)")
            ]
        );
        // An ideograph is about one em wide, not DejaVu's missing-glyph box.
        let ideograph = face.width_mm("品", 10.0) / (10.0 * PT_TO_MM);
        assert!((0.9..=1.1).contains(&ideograph), "{ideograph}");
        // A CJK name too wide for its line breaks between characters.
        let lines = wrapped(
            &fonts,
            "品質管理システム",
            face.width_mm("品質管理", 7.0) + 0.1,
        );
        assert_eq!(lines, ["品質管理", "システム"]);
    }

    #[test]
    fn fallback_font_is_loaded_only_when_a_character_needs_it() {
        let fonts = fonts();
        fonts.face(true).width_mm("Plain Latin, ä ß é ł — …", 9.0);
        assert_eq!(fonts.loaded().count(), 2);
        fonts.face(true).width_mm("品", 9.0);
        assert_eq!(fonts.loaded().count(), 3);
    }

    #[test]
    fn subset_keeps_the_used_glyphs_their_widths_and_their_characters() {
        let fonts = fonts();
        let text = "NOT_APPLICABLE Zürich";
        let glyphs: BTreeSet<u16> = text.chars().map(|ch| fonts.regular.glyph_id(ch)).collect();
        let subset = fonts.regular.subset(&glyphs).unwrap();
        assert!(subset.original_bytes.len() < REGULAR_TTF.len() / 20);
        for ch in text.chars() {
            let glyph = subset.lookup_glyph_index(ch as u32).unwrap();
            let original = fonts.regular.glyph_id(ch);
            assert_eq!(
                subset.get_glyph_width(glyph),
                fonts.regular.font.get_glyph_width(original),
                "{ch}"
            );
        }
        assert_eq!(subset.lookup_glyph_index('Q' as u32).unwrap_or(0), 0);
        let name = subset.font_name.clone().unwrap();
        assert!(name.ends_with("+DejaVuSans") && name[..6].chars().all(|c| c.is_ascii_uppercase()));
        let again = fonts.regular.subset(&glyphs).unwrap();
        assert_eq!(
            (again.original_bytes, again.font_name),
            (subset.original_bytes, Some(name))
        );
    }

    fn need(fonts: &Fonts, texts: &[&str]) -> ColumnNeed {
        let mut need = ColumnNeed::default();
        for text in texts {
            need.add(fonts.face(false), text);
        }
        need
    }

    #[test]
    fn columns_are_at_least_as_wide_as_their_widest_word() {
        let fonts = fonts();
        let needs = [
            need(&fonts, &["NOT_APPLICABLE", "PASS"]),
            need(
                &fonts,
                &["a long reason that wraps at its spaces "
                    .repeat(20)
                    .as_str()],
            ),
        ];
        // The hints would give the status column a tenth of the width: too narrow.
        let (size, widths) = fit_columns(&needs, &[1.0, 9.0], 7.0, 120.0);
        assert_eq!(size, 7.0);
        let status = fonts.face(false).width_mm("NOT_APPLICABLE", 7.0) + 2.0 * CELL_PAD;
        assert!(widths[0] >= status - 0.01, "{widths:?}");
        assert!((widths.iter().sum::<f32>() - 120.0).abs() < 0.01);
        // A long ARN does not claim its full length: it may break at its colons.
        let arn = need(
            &fonts,
            &["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        );
        assert!(arn.min < arn.max / 2.0, "{arn:?}");
    }

    #[test]
    fn a_table_whose_words_do_not_fit_is_set_smaller() {
        let fonts = fonts();
        let needs = vec![need(&fonts, &["NOT_APPLICABLE"]); 6];
        let room = 6.0 * (fonts.face(false).width_mm("NOT_APPLICABLE", 6.0) + 2.0 * CELL_PAD);
        let (size, widths) = fit_columns(&needs, &[1.0; 6], 8.0, room);
        assert_eq!(size, 6.0);
        assert!((widths.iter().sum::<f32>() - room).abs() < 0.01);
        // Not even at the smallest size: the widths still fill the table, the words break.
        let (size, widths) = fit_columns(&needs, &[1.0; 6], 8.0, room / 2.0);
        assert_eq!(size, MIN_TABLE_SIZE);
        assert!((widths.iter().sum::<f32>() - room / 2.0).abs() < 0.01);
    }

    #[test]
    fn when_nothing_fits_only_the_columns_with_the_widest_words_give_way() {
        let fonts = fonts();
        let account = need(&fonts, &["111122223333"]);
        let arn = need(
            &fonts,
            &["0a9b8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d/0a9b8c7d-6e5f-4a3b-8c1d"],
        );
        let needs = [account, arn, arn, arn];
        let (size, widths) = fit_columns(&needs, &[1.0; 4], 7.0, 100.0);
        assert_eq!(size, MIN_TABLE_SIZE);
        let account_width = account.min * MIN_TABLE_SIZE * PT_TO_MM + 2.0 * CELL_PAD;
        assert!((widths[0] - account_width).abs() < 0.01, "{widths:?}");
        assert!((widths[1] - widths[3]).abs() < 0.01 && widths[1] > account_width);
        assert!((widths.iter().sum::<f32>() - 100.0).abs() < 0.01);
    }

    #[test]
    fn measures_non_latin_text_with_real_glyph_widths() {
        let fonts = fonts();
        let face = fonts.face(false);
        assert!(face.width_mm("ä ß é ł", 10.0) > 0.0);
        assert!(face.width_mm("WWWW", 10.0) > face.width_mm("iiii", 10.0));
    }

    #[test]
    fn fit_line_keeps_what_fits_and_cuts_the_rest_with_an_ellipsis() {
        let fonts = fonts();
        let f = fonts.face(false);
        assert_eq!(fit_line(f, "short title", 8.0, 100.0), "short title");
        let long = "word ".repeat(200_000);
        let cut = fit_line(f, &long, 8.0, 100.0);
        assert!(cut.ends_with('…') && f.width_mm(&cut, 8.0) <= 100.0);
        assert!(long.starts_with(cut.trim_end_matches('…')));
        assert!(fit_line(f, "two\nlines", 8.0, 100.0).ends_with("two…"));
    }
}
