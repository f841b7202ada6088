//! The PDF as a reader sees it: no identifier of the demo broken across lines of a table
//! cell, a system name in Japanese printed from the embedded fallback font (its glyphs in
//! the font subset, its text extractable), fonts embedded as subsets so the file stays
//! small, and the same bytes for the same evidence.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

/// A system name DejaVu Sans cannot draw: Japanese ("quality management system").
const CJK_NAME: &str = "品質管理システム";

/// Renders the demo evidence, with its system name replaced when `system_name` is given,
/// as a PDF; returns the package directory (inside `dir`).
fn render(dir: &Path, name: &str, system_name: Option<&str>) -> std::path::PathBuf {
    let mut evidence = demo_evidence();
    if let Some(system_name) = system_name {
        let mut json: serde_json::Value =
            serde_json::from_str(&read(&demo_evidence())).expect("demo evidence is JSON");
        json["system_name"] = serde_json::Value::from(system_name);
        evidence = dir.join(format!("{name}-evidence.json"));
        std::fs::write(&evidence, serde_json::to_vec(&json).unwrap()).unwrap();
    }
    let out = dir.join(name);
    let output = report(&evidence, &out, &["--format", "pdf"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    out
}

/// The identifiers a table shows that a reader copies or searches for: statuses, account
/// ids, regions, key ids and specs, event names, trail names and error codes; and some
/// table headers.
fn identifiers(results: &serde_json::Value) -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let mut add = |list: &str, fields: &[&str]| {
        for row in results[list].as_array().expect("a list") {
            for field in fields {
                if let Some(word) = row[field].as_str().filter(|w| !w.is_empty()) {
                    words.insert(word.to_string());
                }
            }
        }
    };
    add("findings", &["status", "account_id", "region"]);
    add("keys", &["key_id", "key_spec", "key_manager", "key_state"]);
    add("changes", &["event_name", "error_code", "account_id"]);
    add("trails", &["trail_name"]);
    add("evidence_gaps", &["error_code", "api"]);
    // Table headers: a header word sizes its column like any cell's.
    for header in [
        "Multi-region",
        "Organization",
        "Validation",
        "Encrypted",
        "Observation",
    ] {
        words.insert(header.to_string());
    }
    words
}

#[test]
fn no_identifier_in_the_demo_pdf_is_broken_across_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = render(dir.path(), "r", None);
    let pages = pdf_pages(&out.join("report.pdf"));
    let words = identifiers(&results(&out));
    assert!(words.contains("NOT_APPLICABLE") && words.contains("EVIDENCE_GAP"));
    assert!(words.len() > 40, "{words:?}");
    let mut broken = BTreeMap::new();
    let mut missing = Vec::new();
    for word in &words {
        let mut whole = 0;
        for (index, page) in pages.iter().enumerate() {
            // Every line of a cell is a line of the extracted text: a word found only once
            // the lines are joined was broken across them.
            let on_lines = page.matches(word.as_str()).count();
            let joined = page.replace('\n', "").matches(word.as_str()).count();
            whole += on_lines;
            if joined > on_lines {
                broken.insert(word.clone(), index + 1);
            }
        }
        if whole == 0 {
            missing.push(word);
        }
    }
    assert!(
        broken.is_empty(),
        "broken across lines (word: page): {broken:?}"
    );
    assert!(missing.is_empty(), "nowhere in the PDF: {missing:?}");
}

#[test]
fn a_japanese_system_name_prints_from_the_fallback_font_subset() {
    let dir = tempfile::tempdir().unwrap();
    let system_name = format!("{CJK_NAME} LIMS (東京)");
    let out = render(dir.path(), "r", Some(&system_name));
    let pdf = out.join("report.pdf");
    let pages = pdf_pages(&pdf);
    assert!(pages[0].contains(&system_name), "{}", pages[0]);
    assert!(
        pages.iter().all(|p| p.contains(&system_name)),
        "in every page header"
    );

    let doc = lopdf::Document::load(&pdf).unwrap();
    let fallback = embedded_fonts(&doc)
        .into_iter()
        .find(|font| font.name.ends_with("+DroidSansFallbackFull"))
        .expect("the fallback font is embedded, as a subset");
    assert!(fallback.glyph_count < 40, "{} glyphs", fallback.glyph_count);
    for ch in "品質管理システム東京".chars() {
        let glyph = fallback
            .glyph_of(ch)
            .unwrap_or_else(|| panic!("{ch} not in the subset's ToUnicode map"));
        assert!(
            fallback.has_outline(glyph),
            "{ch}: glyph {glyph} has no outline"
        );
    }
    // Latin text of the same name stays in DejaVu Sans.
    assert!(fallback.glyph_of('L').is_none());
}

#[test]
fn fonts_are_embedded_as_subsets_and_the_pdf_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let latin = render(dir.path(), "latin", None).join("report.pdf");
    let doc = lopdf::Document::load(&latin).unwrap();
    let fonts = embedded_fonts(&doc);
    let names: Vec<&str> = fonts.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names.len(),
        2,
        "{names:?}: no fallback font without a character for it"
    );
    for font in &fonts {
        let (tag, _) = font.name.split_once('+').expect("a subset tag");
        assert!(tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()));
        assert!(
            font.glyph_count < 300,
            "{}: {} glyphs",
            font.name,
            font.glyph_count
        );
    }
    // Whole DejaVu faces made the demo PDF about 837 kB; subset, it is about 130 kB.
    let size = std::fs::metadata(&latin).unwrap().len();
    assert!(size < 250_000, "{size} bytes");
    let cjk = render(dir.path(), "cjk", Some(CJK_NAME)).join("report.pdf");
    let size = std::fs::metadata(&cjk).unwrap().len();
    assert!(
        size < 260_000,
        "{size} bytes with the fallback font (4 MB whole)"
    );
}

#[test]
fn the_same_evidence_gives_the_same_pdf_bytes_with_the_fallback_font() {
    let dir = tempfile::tempdir().unwrap();
    let a = render(dir.path(), "a", Some(CJK_NAME)).join("report.pdf");
    let b = render(dir.path(), "b", Some(CJK_NAME)).join("report.pdf");
    assert!(std::fs::read(a).unwrap() == std::fs::read(b).unwrap());
}

/// An embedded font as the PDF has it: its name, its ToUnicode map and its TrueType program.
struct EmbeddedFont {
    name: String,
    /// Unicode character -> glyph id (the Identity-H code).
    glyphs: BTreeMap<char, u16>,
    glyph_count: u16,
    program: Vec<u8>,
}

impl EmbeddedFont {
    fn glyph_of(&self, ch: char) -> Option<u16> {
        self.glyphs.get(&ch).copied()
    }

    /// The TrueType table `tag` of the program.
    fn table(&self, tag: &[u8; 4]) -> &[u8] {
        let p = &self.program;
        let count = usize::from(u16::from_be_bytes([p[4], p[5]]));
        (0..count)
            .map(|i| &p[12 + 16 * i..28 + 16 * i])
            .find(|record| &record[..4] == tag)
            .map(|record| {
                let at = |o: usize| u32::from_be_bytes(record[o..o + 4].try_into().unwrap());
                &p[at(8) as usize..(at(8) + at(12)) as usize]
            })
            .unwrap_or_else(|| panic!("no {} table", String::from_utf8_lossy(tag)))
    }

    /// Whether `glyph` draws something: its `glyf` entry is not empty.
    fn has_outline(&self, glyph: u16) -> bool {
        let long_offsets = self.table(b"head")[51] == 1;
        let loca = self.table(b"loca");
        let offset = |g: usize| -> u32 {
            if long_offsets {
                u32::from_be_bytes(loca[4 * g..4 * g + 4].try_into().unwrap())
            } else {
                2 * u32::from(u16::from_be_bytes([loca[2 * g], loca[2 * g + 1]]))
            }
        };
        let glyph = usize::from(glyph);
        offset(glyph + 1) > offset(glyph)
    }
}

fn embedded_fonts(doc: &lopdf::Document) -> Vec<EmbeddedFont> {
    let deref = |object: &lopdf::Object| -> lopdf::Object {
        match object {
            lopdf::Object::Reference(id) => doc.get_object(*id).unwrap().clone(),
            other => other.clone(),
        }
    };
    let stream = |object: &lopdf::Object| -> Vec<u8> {
        let stream = deref(object).as_stream().unwrap().clone();
        stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone())
    };
    let mut fonts = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Type0".as_slice()) {
            continue;
        }
        let name = String::from_utf8_lossy(dict.get(b"BaseFont").unwrap().as_name().unwrap());
        let to_unicode = String::from_utf8(stream(dict.get(b"ToUnicode").unwrap())).unwrap();
        let descendant = deref(
            &deref(dict.get(b"DescendantFonts").unwrap())
                .as_array()
                .unwrap()[0],
        );
        let descriptor = deref(
            descendant
                .as_dict()
                .unwrap()
                .get(b"FontDescriptor")
                .unwrap(),
        );
        let program = stream(descriptor.as_dict().unwrap().get(b"FontFile2").unwrap());
        let mut font = EmbeddedFont {
            name: name.into_owned(),
            glyphs: bfchar_entries(&to_unicode),
            glyph_count: 0,
            program,
        };
        let maxp = font.table(b"maxp");
        font.glyph_count = u16::from_be_bytes([maxp[4], maxp[5]]);
        fonts.push(font);
    }
    fonts.sort_by(|a, b| a.name.cmp(&b.name));
    fonts
}

/// The `<glyph> <unicode>` lines of a ToUnicode CMap's bfchar sections.
fn bfchar_entries(cmap: &str) -> BTreeMap<char, u16> {
    let hex = |token: &str| u32::from_str_radix(token.trim_matches(['<', '>']), 16).ok();
    cmap.lines()
        .filter_map(|line| {
            let (glyph, unicode) = line.trim().split_once(' ')?;
            let glyph = u16::try_from(hex(glyph)?).ok()?;
            Some((char::from_u32(hex(unicode)?)?, glyph))
        })
        .collect()
}
