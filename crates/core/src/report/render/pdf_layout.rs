//! A small page-layout engine over printpdf: wrapped paragraphs, headings and tables that
//! break across pages with repeated headers, on A4 landscape pages with a running header and
//! a "Page X of Y" footer added once the page count is known. Text is measured with the
//! embedded font's own glyph widths, so wrapping is exact for any language the font covers.

use std::borrow::Cow;

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

/// A font with a width table for fast measuring.
pub struct MeasuredFont {
    pub id: FontId,
    font: ParsedFont,
    /// Advance widths in 1/1000 em for code points below `FAST_RANGE`.
    fast: Vec<f32>,
}

const FAST_RANGE: usize = 0x2600;

impl MeasuredFont {
    pub fn new(id: &str, font: ParsedFont) -> Self {
        let units = f32::from(font.units_per_em.max(1));
        let mut fast = vec![0.0; FAST_RANGE];
        for (code, width) in fast.iter_mut().enumerate() {
            *width = Self::lookup(&font, code as u32, units);
        }
        Self {
            id: FontId(id.to_string()),
            font,
            fast,
        }
    }

    fn lookup(font: &ParsedFont, code: u32, units: f32) -> f32 {
        let glyph = font.lookup_glyph_index(code).unwrap_or(0);
        let width = font
            .get_glyph_width(glyph)
            .map(f32::from)
            .unwrap_or(units / 2.0);
        width * 1000.0 / units
    }

    pub fn parsed(&self) -> &ParsedFont {
        &self.font
    }

    /// Width of `text` in millimetres at `size` points.
    pub fn width_mm(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.font.units_per_em.max(1));
        let thousandths: f32 = text
            .chars()
            .map(|ch| {
                let code = ch as usize;
                if code < FAST_RANGE {
                    self.fast[code]
                } else {
                    Self::lookup(&self.font, ch as u32, units)
                }
            })
            .sum();
        thousandths / 1000.0 * size * PT_TO_MM
    }
}

pub struct Fonts {
    pub regular: MeasuredFont,
    pub bold: MeasuredFont,
}

impl Fonts {
    fn get(&self, bold: bool) -> &MeasuredFont {
        if bold { &self.bold } else { &self.regular }
    }
}

/// Breaks `text` into lines no wider than `width` mm: at spaces where possible, inside a word
/// when a word alone is too wide (long ARNs, hostile 10 kB names).
pub fn wrap(font: &MeasuredFont, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0;
        let space = font.width_mm(" ", size);
        for word in paragraph.split(' ') {
            let word_width = font.width_mm(word, size);
            let needed = if line.is_empty() {
                word_width
            } else {
                line_width + space + word_width
            };
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                    line_width += space;
                }
                line.push_str(word);
                line_width += word_width;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            for ch in word.chars() {
                let mut buf = [0u8; 4];
                let ch_width = font.width_mm(ch.encode_utf8(&mut buf), size);
                if line_width + ch_width > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(ch);
                line_width += ch_width;
            }
        }
        lines.push(line);
    }
    lines
}

/// `text` on one line of at most `width` mm: whole when it fits, else its longest start
/// that fits followed by an ellipsis. Stops measuring at the first character that does not
/// fit, so a megabyte of text costs no more than a line of it.
pub fn fit_line<'t>(font: &MeasuredFont, text: &'t str, size: f32, width: f32) -> Cow<'t, str> {
    const ELLIPSIS: &str = "…";
    let room = width - font.width_mm(ELLIPSIS, size);
    let mut used = 0.0;
    let mut cut = None;
    for (at, ch) in text.char_indices() {
        if ch == '\n' {
            return Cow::Owned(format!("{}{ELLIPSIS}", &text[..cut.unwrap_or(at)]));
        }
        let mut buf = [0u8; 4];
        used += font.width_mm(ch.encode_utf8(&mut buf), size);
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
    font: Option<(bool, u32)>,
    stroke: Option<(Colour, u32)>,
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
        self.ensure(height);
        let top = self.y;
        self.y += height;
        (MARGIN_X, top)
    }

    /// The width of `text` in mm at `size` points.
    pub fn text_width(&self, text: &str, size: f32, bold: bool) -> f32 {
        self.fonts.get(bold).width_mm(text, size)
    }

    pub fn space(&mut self, mm: f32) {
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
        // Text state (font and size) survives between text objects on a page.
        let font_key = (bold, size.to_bits());
        if self.font != Some(font_key) {
            self.font = Some(font_key);
            let font = self.fonts.get(bold);
            self.ops.push(Op::SetFont {
                font: PdfFontHandle::External(font.id.clone()),
                size: Pt(size),
            });
        }
        self.ops.extend([
            Op::SetTextCursor {
                pos: Point {
                    x: Mm(x).into(),
                    y: Mm(PAGE_HEIGHT - baseline).into(),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
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
        let lines = wrap(self.fonts.get(bold), text, size, CONTENT_WIDTH);
        let height = Self::line_height(size);
        for line in lines {
            self.ensure(height);
            let top = self.y;
            self.text_at(MARGIN_X, top, size, bold, colour_rgb, &line);
            self.y += height;
        }
        self.y += height * 0.4;
    }

    pub fn heading(&mut self, text: &str, level: u8) {
        let size = match level {
            1 => 16.0,
            2 => 12.5,
            _ => 10.5,
        };
        // Keep a heading with at least a few lines of what follows.
        self.ensure(Self::line_height(size) + 18.0);
        self.y += if level == 1 { 0.0 } else { 2.0 };
        self.paragraph(text, size, true, BLACK);
        if level == 1 {
            let top = self.y - 1.0;
            self.hline(MARGIN_X, PAGE_WIDTH - MARGIN_X, top, LINE_GREY, 0.8);
            self.y += 1.5;
        }
    }

    /// A filled box with large centred text (the verdict on the cover page).
    pub fn banner(&mut self, text: &str, size: f32, fill: Colour) {
        let height = Self::line_height(size) + 6.0;
        self.ensure(height);
        let top = self.y;
        self.fill_rect(MARGIN_X, top, CONTENT_WIDTH, height, fill);
        let width = self.fonts.bold.width_mm(text, size);
        let x = MARGIN_X + (CONTENT_WIDTH - width).max(0.0) / 2.0;
        self.text_at(x, top + 3.0, size, true, (1.0, 1.0, 1.0), text);
        self.y += height + 3.0;
    }

    /// A table with column `widths` (relative weights), a header row repeated on every page
    /// the table reaches, and rows that wrap and, if taller than a page, split across pages.
    pub fn table(&mut self, headers: &[&str], widths: &[f32], rows: &[Vec<Cell>], size: f32) {
        let total: f32 = widths.iter().sum();
        let columns: Vec<f32> = widths.iter().map(|w| w / total * CONTENT_WIDTH).collect();
        let line_height = Self::line_height(size);
        let header_cells: Vec<Cell> = headers
            .iter()
            .map(|h| Cell {
                text: (*h).to_string(),
                colour: None,
                bold: true,
            })
            .collect();
        // A table whose headers are all empty is a key/value list: no header row.
        let has_header = headers.iter().any(|h| !h.is_empty());
        let header_lines = self.wrap_row(&header_cells, &columns, size);
        let header_height = if has_header {
            Self::row_height(&header_lines, line_height)
        } else {
            0.0
        };

        let header = has_header.then_some((header_cells.as_slice(), header_lines.as_slice()));

        self.ensure(header_height + line_height + 2.0 * CELL_PAD);
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

    fn wrap_row(&self, row: &[Cell], columns: &[f32], size: f32) -> Vec<Vec<String>> {
        columns
            .iter()
            .enumerate()
            .map(|(i, width)| {
                let cell = row.get(i).cloned().unwrap_or_default();
                wrap(
                    self.fonts.get(cell.bold),
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
        self.pages.push(std::mem::take(&mut self.ops));
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let mut finished = Vec::with_capacity(total);
        let right = |layout: &Layout, text: &str, size: f32| {
            PAGE_WIDTH - MARGIN_X - layout.fonts.regular.width_mm(text, size)
        };
        // Measured and cut once, not once per page: a hostile 1 MB system name in the header
        // of each of a thousand pages made rendering quadratic (and ran off the page).
        let header_right_x = right(&self, &frame.header_right, 8.0);
        let header_left = fit_line(
            &self.fonts.bold,
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
            &self.fonts.bold,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> MeasuredFont {
        let parsed =
            ParsedFont::from_bytes(super::super::pdf::REGULAR_TTF, 0, &mut Vec::new()).unwrap();
        MeasuredFont::new("F1", parsed)
    }

    #[test]
    fn wrap_keeps_words_and_breaks_long_tokens() {
        let f = font();
        let lines = wrap(
            &f,
            "the quick brown fox jumps over the lazy dog",
            10.0,
            30.0,
        );
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| f.width_mm(l, 10.0) <= 30.0));
        assert_eq!(
            lines.join(" "),
            "the quick brown fox jumps over the lazy dog"
        );
        let long = "x".repeat(10_000);
        let lines = wrap(&f, &long, 7.0, 40.0);
        assert!(lines.len() > 100);
        assert_eq!(lines.concat(), long);
    }

    #[test]
    fn measures_non_latin_text_with_real_glyph_widths() {
        let f = font();
        assert!(f.width_mm("ä ß é ł", 10.0) > 0.0);
        assert!(f.width_mm("WWWW", 10.0) > f.width_mm("iiii", 10.0));
    }

    #[test]
    fn fit_line_keeps_what_fits_and_cuts_the_rest_with_an_ellipsis() {
        let f = font();
        assert_eq!(fit_line(&f, "short title", 8.0, 100.0), "short title");
        let long = "word ".repeat(200_000);
        let cut = fit_line(&f, &long, 8.0, 100.0);
        assert!(cut.ends_with('…') && f.width_mm(&cut, 8.0) <= 100.0);
        assert!(long.starts_with(cut.trim_end_matches('…')));
        assert!(fit_line(&f, "two\nlines", 8.0, 100.0).ends_with("two…"));
    }
}
