//! The markup a template may write around the report data, checked before rendering. The
//! README promises a self-contained report with no scripts, whoever wrote the template, so
//! the template's own text is read as HTML and held to an allow-list: known inert elements
//! and attributes only, no event handlers, links only within the document (`href="#…"`),
//! and CSS that can neither load anything (`url(`, `@import`, …) nor close its `<style>`.
//! It also fixes where report data may land: in text, or inside a quoted attribute value —
//! never in a tag or attribute name, an unquoted value, a style or a link target, where
//! HTML escaping alone would not keep it from becoming markup.
//!
//! Where a browser reads HTML differently from a plain tag scan, the template may not go:
//! no HTML comments (a browser also ends one at `--!>` or `<!-->`, so a "commented out"
//! `<script>` could run), nothing but text inside `<title>` (a browser reads everything up to
//! `</title>` as text, so `<p title="</title><script>…">` hides a script from a tag scan;
//! the other text-only elements — textarea, xmp, noscript, … — are not allowed at all), and
//! no character set but UTF-8 (in ISO-2022-JP an escape sequence swallows a quote).

use super::Refusal;

/// Elements a template may write: text structure and tables, nothing that runs, embeds or
/// loads anything.
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "body",
    "meta",
    "title",
    "style",
    "header",
    "footer",
    "main",
    "section",
    "article",
    "nav",
    "aside",
    "div",
    "span",
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "small",
    "code",
    "pre",
    "kbd",
    "samp",
    "sub",
    "sup",
    "mark",
    "abbr",
    "blockquote",
    "q",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "col",
    "colgroup",
    "figure",
    "figcaption",
    "details",
    "summary",
    "time",
    "address",
];

/// Attributes a template may write (besides `data-*` and `aria-*`).
const ATTRIBUTES: &[&str] = &[
    "class", "id", "title", "lang", "dir", "colspan", "rowspan", "scope", "headers", "charset",
    "name", "content", "href", "style", "open", "datetime", "span", "abbr", "role",
];

/// CSS functions and rules that load something from outside the report.
const CSS_LOADS: &[&str] = &[
    "url(",
    "@import",
    "image(",
    "image-set(",
    "src(",
    "expression(",
];

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Text,
    /// Just after `<` or `<!`: what follows decides.
    LessThan,
    Bang,
    TagName,
    InTag,
    SelfClosing,
    AttrName,
    AfterAttrName,
    BeforeValue,
    Value(Option<char>),
    Declaration,
    Style,
    /// Inside `<title>`: text only, up to `</title>`.
    Title,
}

/// Reads the template's literal text in document order, with report data, drawn tables,
/// the stylesheet and block boundaries as events between the pieces.
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
    end_tag: bool,
    tag: String,
    attr: String,
    value: String,
    value_has_data: bool,
    /// The text of the current declaration or style element so far, or of the `</title>`
    /// being read.
    run: String,
    /// The template's text in `<title>` since its start tag or the last data printed there,
    /// to point a refusal at.
    title_text: String,
}

impl Scanner {
    pub fn literal(&mut self, text: &str) -> Result<(), Refusal> {
        for c in text.chars() {
            self.char(c)?;
        }
        Ok(())
    }

    /// Report data (escaped by tera) is printed here.
    pub fn data(&mut self) -> Result<(), Refusal> {
        match self.state {
            State::Text => Ok(()),
            State::Title if self.run.is_empty() => {
                self.title_text.clear();
                Ok(())
            }
            State::Value(Some(_)) => {
                let attr = self.attr.as_str();
                if attr == "style" || (attr == "href" && !self.value.starts_with('#')) {
                    return Err(Refusal::new(
                        format!(
                            "report data may not be printed in a `{attr}` attribute (only `href=\"#…\"` links within the report)"
                        ),
                        Some(format!("{attr}=")),
                    ));
                }
                self.value_has_data = true;
                Ok(())
            }
            State::Style => Err(Refusal::new(
                "report data may not be printed inside <style>",
                Some("<style".to_string()),
            )),
            _ => Err(self.misplaced("report data")),
        }
    }

    /// A table the tool drew is printed here.
    pub fn table(&mut self) -> Result<(), Refusal> {
        match self.state {
            State::Text => Ok(()),
            _ => Err(self.misplaced("a `| table`")),
        }
    }

    /// The stylesheet is included here.
    pub fn stylesheet(&mut self) -> Result<(), Refusal> {
        match self.state {
            State::Style => Ok(()),
            _ => Err(Refusal::new(
                "the stylesheet may be included only inside <style>…</style>",
                Some("include".to_string()),
            )),
        }
    }

    /// The start or end of an if/for body.
    pub fn boundary(&mut self) -> Result<(), Refusal> {
        match self.state {
            State::Text => Ok(()),
            _ => Err(self.misplaced("an `{% if %}` or `{% for %}` tag")),
        }
    }

    pub fn finish(&self) -> Result<(), Refusal> {
        match self.state {
            State::Text => Ok(()),
            _ => Err(Refusal::new(
                format!("ends inside unfinished markup (<{}…)", self.tag),
                None,
            )),
        }
    }

    fn misplaced(&self, what: &str) -> Refusal {
        let near = (!self.tag.is_empty()).then(|| format!("<{}", self.tag));
        Refusal::new(
            format!(
                "{what} may appear only in text{}, not inside the markup of <{}…>",
                if what == "report data" {
                    " or in a quoted attribute value"
                } else {
                    ""
                },
                self.tag
            ),
            near,
        )
    }

    fn char(&mut self, c: char) -> Result<(), Refusal> {
        match self.state {
            State::Text => {
                if c == '<' {
                    self.state = State::LessThan;
                }
            }
            State::LessThan => match c {
                '!' => self.state = State::Bang,
                '/' => {
                    self.start_tag(true);
                }
                c if c.is_ascii_alphabetic() => {
                    self.start_tag(false);
                    self.tag.push(c.to_ascii_lowercase());
                }
                '?' => {
                    return Err(Refusal::new(
                        "`<?` is not allowed markup",
                        Some("<?".to_string()),
                    ));
                }
                _ => self.state = State::Text,
            },
            State::Bang => {
                if c == '-' {
                    return Err(Refusal::new(
                        "HTML comments (<!-- … -->) are not allowed: a browser also ends one at `--!>` or `<!-->`, so markup that looks commented out could run (use a template comment {# … #})",
                        Some("<!-".to_string()),
                    ));
                }
                self.run.clear();
                self.run.push(c);
                self.state = State::Declaration;
            }
            State::Declaration => {
                if c == '>' {
                    if !self.run.to_ascii_lowercase().starts_with("doctype") {
                        return Err(Refusal::new(
                            "only <!DOCTYPE …> and comments may start with <!",
                            Some(format!("<!{}", self.run)),
                        ));
                    }
                    self.state = State::Text;
                } else {
                    self.run.push(c);
                }
            }
            State::TagName => {
                if c.is_ascii_alphanumeric() || c == '-' {
                    self.tag.push(c.to_ascii_lowercase());
                } else {
                    self.check_element()?;
                    match c {
                        '>' => self.end_of_tag()?,
                        '/' if !self.end_tag => self.state = State::SelfClosing,
                        c if c.is_whitespace() => self.state = State::InTag,
                        _ => return Err(self.malformed(c)),
                    }
                }
            }
            State::InTag => match c {
                '>' => self.end_of_tag()?,
                '/' if !self.end_tag => self.state = State::SelfClosing,
                c if c.is_whitespace() => {}
                c if !self.end_tag && is_attr_char(c) => self.start_attr(c),
                _ => return Err(self.malformed(c)),
            },
            State::SelfClosing => match c {
                '>' => self.end_of_tag()?,
                _ => return Err(self.malformed(c)),
            },
            State::AttrName => match c {
                c if is_attr_char(c) => self.attr.push(c.to_ascii_lowercase()),
                '=' => self.state = State::BeforeValue,
                c if c.is_whitespace() => self.state = State::AfterAttrName,
                '>' => {
                    self.end_of_attr()?;
                    self.end_of_tag()?;
                }
                '/' => {
                    self.end_of_attr()?;
                    self.state = State::SelfClosing;
                }
                _ => return Err(self.malformed(c)),
            },
            State::AfterAttrName => match c {
                '=' => self.state = State::BeforeValue,
                c if c.is_whitespace() => {}
                '>' => {
                    self.end_of_attr()?;
                    self.end_of_tag()?;
                }
                c if is_attr_char(c) => {
                    self.end_of_attr()?;
                    self.start_attr(c);
                }
                _ => return Err(self.malformed(c)),
            },
            State::BeforeValue => match c {
                '"' | '\'' => self.state = State::Value(Some(c)),
                c if c.is_whitespace() => {}
                '>' | '<' | '=' | '`' => return Err(self.malformed(c)),
                c => {
                    self.value.push(c);
                    self.state = State::Value(None);
                }
            },
            State::Value(Some(quote)) => {
                if c == quote {
                    self.end_of_attr()?;
                    self.state = State::InTag;
                } else {
                    self.value.push(c);
                }
            }
            State::Value(None) => match c {
                c if c.is_whitespace() => {
                    self.end_of_attr()?;
                    self.state = State::InTag;
                }
                '>' => {
                    self.end_of_attr()?;
                    self.end_of_tag()?;
                }
                '"' | '\'' | '<' | '=' | '`' => return Err(self.malformed(c)),
                c => self.value.push(c),
            },
            State::Title => {
                self.title_text.push(c);
                if c == '<' || !self.run.is_empty() {
                    self.run.push(c.to_ascii_lowercase());
                    if !TITLE_END.starts_with(self.run.as_str()) {
                        return Err(Refusal::new(
                            "only text may be inside <title>…</title>, no `<`: a browser reads everything up to </title> as text, so markup there could hide a <script> from this check",
                            Some(self.title_text.clone()),
                        ));
                    }
                    if self.run == TITLE_END {
                        self.run.clear();
                        self.state = State::Text;
                    }
                }
            }
            State::Style => {
                self.run.push(c);
                if c == '>' {
                    let lower = self.run.to_ascii_lowercase();
                    if let Some(at) = lower.rfind("</style") {
                        let rest = lower[at + "</style".len()..lower.len() - 1].trim();
                        if rest.is_empty() {
                            check_css(&self.run[..at])?;
                            self.run.clear();
                            self.state = State::Text;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn start_tag(&mut self, end: bool) {
        self.tag.clear();
        self.end_tag = end;
        self.state = State::TagName;
    }

    fn start_attr(&mut self, c: char) {
        self.attr.clear();
        self.attr.push(c.to_ascii_lowercase());
        self.value.clear();
        self.value_has_data = false;
        self.state = State::AttrName;
    }

    fn malformed(&self, c: char) -> Refusal {
        Refusal::new(
            format!("unexpected {c:?} in the tag <{}…>", self.tag),
            Some(format!("<{}", self.tag)),
        )
    }

    fn check_element(&self) -> Result<(), Refusal> {
        if ELEMENTS.contains(&self.tag.as_str()) {
            return Ok(());
        }
        let why = match self.tag.as_str() {
            "script" | "noscript" => "no scripts",
            "iframe" | "frame" | "frameset" | "object" | "embed" | "applet" | "img" | "image"
            | "picture" | "video" | "audio" | "source" | "track" | "link" | "base" | "svg"
            | "math" | "portal" => "no embedded or external resources",
            _ => "not an element a report template may use",
        };
        Err(Refusal::new(
            format!("element <{}> is not allowed: {why}", self.tag),
            Some(format!("<{}", self.tag)),
        ))
    }

    fn end_of_attr(&mut self) -> Result<(), Refusal> {
        let (attr, value) = (self.attr.as_str(), self.value.as_str());
        let near = Some(format!("{attr}="));
        if attr.starts_with("on") {
            return Err(Refusal::new(
                format!("event handler attribute `{attr}` is not allowed: no scripts"),
                near,
            ));
        }
        if !(ATTRIBUTES.contains(&attr) || attr.starts_with("data-") || attr.starts_with("aria-")) {
            return Err(Refusal::new(
                format!("attribute `{attr}` is not allowed on <{}>", self.tag),
                near,
            ));
        }
        match attr {
            "href" if self.tag != "a" || !value.starts_with('#') => Err(Refusal::new(
                "`href` may only link within the report (`<a href=\"#…\">`): no external resources",
                near,
            )),
            "style" if value.contains('&') => Err(Refusal::new(
                "character references are not allowed in a `style` attribute",
                near,
            )),
            "style" => check_css(value),
            "charset"
                if self.tag != "meta"
                    || self.value_has_data
                    || !value.eq_ignore_ascii_case("utf-8") =>
            {
                Err(Refusal::new(
                    "the only character set is `<meta charset=\"utf-8\">`: the report is written in UTF-8, and in another (ISO-2022-JP) a byte sequence can swallow a quote and turn text into markup",
                    near,
                ))
            }
            _ => Ok(()),
        }
    }

    fn end_of_tag(&mut self) -> Result<(), Refusal> {
        self.run.clear();
        self.state = match self.tag.as_str() {
            _ if self.end_tag => State::Text,
            "style" => State::Style,
            "title" => {
                self.title_text = "<title>".to_string();
                State::Title
            }
            _ => State::Text,
        };
        Ok(())
    }
}

/// The one `<` allowed inside `<title>`, in lower case.
const TITLE_END: &str = "</title>";

fn is_attr_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
}

/// CSS that stays inside its `<style>` and loads nothing: no `<` at all (which rules out
/// `</style`, `<!--` and `<script` in any letter case), and none of `CSS_LOADS` once CSS
/// escapes (`\75 rl(` is `url(`) and comments are taken out.
pub fn check_css(css: &str) -> Result<(), Refusal> {
    if let Some(at) = css.find('<') {
        return Err(Refusal::new(
            "`<` is not allowed in CSS: it could close <style> and start markup (</style>, <script>, <!--)",
            Some(css[at..].chars().take(12).collect()),
        ));
    }
    let plain = css_plain(css);
    for load in CSS_LOADS {
        if plain.contains(load) {
            return Err(Refusal::new(
                format!("`{load}` is not allowed in CSS: a report loads no external resources"),
                css.to_ascii_lowercase()
                    .find(load)
                    .map(|at| css[at..at + load.len()].to_string()),
            ));
        }
    }
    Ok(())
}

/// The CSS as its tokenizer reads names: escapes decoded, comments removed, lower case.
fn css_plain(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '\\' => {
                let mut hex = String::new();
                while hex.len() < 6 && chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    hex.extend(chars.next());
                }
                if hex.is_empty() {
                    match chars.next() {
                        Some('\n') | None => {}
                        Some(other) => out.extend(other.to_lowercase()),
                    }
                } else {
                    let code = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
                    out.extend(char::from_u32(code).unwrap_or('\u{FFFD}').to_lowercase());
                    if chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
            }
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[Option<&str>]) -> Result<(), Refusal> {
        let mut scanner = Scanner::default();
        for piece in pieces {
            match piece {
                Some(text) => scanner.literal(text)?,
                None => scanner.data()?,
            }
        }
        scanner.finish()
    }

    #[test]
    fn data_lands_only_in_text_and_quoted_values() {
        assert!(scan(&[Some("<p class=\"a-"), None, Some("\">"), None, Some("</p>")]).is_ok());
        assert!(scan(&[Some("<a href=\"#c-"), None, Some("\">x</a>")]).is_ok());
        for bad in [
            vec![Some("<div "), None, Some(">")],
            vec![Some("<div class="), None, Some(">")],
            vec![Some("<"), None, Some(">")],
            vec![Some("<a href=\""), None, Some("\">")],
            vec![Some("<p style=\"color:"), None, Some("\">")],
            vec![Some("<style>"), None, Some("</style>")],
        ] {
            assert!(scan(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scripts_handlers_and_resources_are_refused() {
        for bad in [
            "<script>x</script>",
            "<SCRIPT>x</SCRIPT>",
            "<p onclick=\"x\">",
            "<p OnMouseOver=x>",
            "<img src=\"http://x/\">",
            "<a href=\"http://x/\">",
            "<a href=\"javascript:x\">",
            "<meta http-equiv=\"refresh\" content=\"0\">",
            "<link rel=stylesheet href=x>",
            "<p style=\"background:url(x)\">",
            "<style>p{background:u\\72l(x)}</style>",
            "<style>@import 'x';</style>",
            "<style></STYLE ><script>x</script>",
        ] {
            assert!(scan(&[Some(bad)]).is_err(), "{bad}");
        }
        assert!(scan(&[Some("<!DOCTYPE html><p>a < b</p><br/>")]).is_ok());
    }

    #[test]
    fn css_cannot_close_its_style_or_load_anything() {
        assert!(check_css("th::after { content: \" \\2195\"; }").is_ok());
        for bad in [
            "</style><script>",
            "</STYLE>",
            "<!--",
            "a{b:URL(x)}",
            "@IMPORT 'x'",
        ] {
            assert!(check_css(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_html_comment_a_browser_could_end_early() {
        for bad in [
            "<!-- x --!><script>alert(1)</script> -->",
            "<!--><script>alert(1)</script> -->",
            "<!---><script>alert(1)</script> -->",
            "<!-- note -->",
        ] {
            let refusal = scan(&[Some(bad)]).expect_err(bad);
            assert!(
                refusal.message.contains("HTML comments"),
                "{bad}: {refusal:?}"
            );
        }
    }

    #[test]
    fn title_holds_only_text_up_to_its_end_tag() {
        assert!(scan(&[Some("<title>a "), None, Some(" b</TITLE><p>x</p>")]).is_ok());
        for bad in [
            vec![Some(
                "<title><p title=\"</title><script>alert(1)</script>\"></p></title>",
            )],
            vec![Some("<title>a<b>b</b></title>")],
            vec![Some("<title>a</titlex>b</title>")],
            vec![Some("<title>a </tit"), None, Some("le>")],
        ] {
            assert!(scan(&bad).is_err(), "{bad:?}");
        }
        let source = "<title>t</title>\n<title>a <b>";
        let refusal = scan(&[Some(source)]).unwrap_err();
        assert!(
            refusal.describe(source).starts_with("line 2, column 1: "),
            "{refusal:?}"
        );
    }

    #[test]
    fn the_only_character_set_is_utf_8() {
        assert!(scan(&[Some("<meta charset=\"UTF-8\"><meta charset=utf-8>")]).is_ok());
        for bad in [
            vec![Some("<meta charset=\"iso-2022-jp\">")],
            vec![Some("<meta charset=\"utf-16\">")],
            vec![Some("<p charset=\"utf-8\">")],
            vec![Some("<meta charset=\""), None, Some("\">")],
        ] {
            let refusal = scan(&bad).expect_err(&format!("{bad:?}"));
            assert!(
                refusal.message.contains("character set"),
                "{bad:?}: {refusal:?}"
            );
        }
    }
}
