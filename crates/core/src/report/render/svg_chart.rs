//! Writes a [`Figure`] as an inline SVG element for the HTML report: millimetre user units in
//! a `viewBox`, so it scales with the page and prints at the PDF's size; every number with two
//! decimals so the same model always gives the same bytes; all text escaped.

use std::fmt::Write;

use super::chart::{Anchor, Figure, Shape};

/// Escapes text for SVG character data and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The figure as `<svg …>…</svg>`.
pub fn svg(figure: &Figure) -> String {
    const PT_TO_MM: f32 = 0.352_778;
    let mut out = String::new();
    let description = escape(&crate::report::format::visible(&figure.description));
    // `write!` into a String cannot fail.
    let _ = write!(
        out,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {:.2} {:.2}\" role=\"img\" aria-label=\"{description}\">\n<title>{description}</title>\n",
        figure.width, figure.height
    );
    for shape in &figure.shapes {
        let _ = match shape {
            Shape::Rect {
                x,
                y,
                width,
                height,
                paint,
            } => writeln!(
                out,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{width:.2}\" height=\"{height:.2}\" fill=\"{}\"/>",
                paint.hex()
            ),
            Shape::Line {
                from,
                to,
                width,
                paint,
            } => writeln!(
                out,
                "<line x1=\"{:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"{}\" stroke-width=\"{width:.2}\"/>",
                from.0,
                from.1,
                to.0,
                to.1,
                paint.hex()
            ),
            Shape::Text {
                x,
                baseline,
                size,
                bold,
                anchor,
                paint,
                text,
            } => writeln!(
                out,
                "<text x=\"{x:.2}\" y=\"{baseline:.2}\" font-size=\"{:.2}\"{}{} fill=\"{}\">{}</text>",
                size * PT_TO_MM,
                if *bold { " font-weight=\"bold\"" } else { "" },
                match anchor {
                    Anchor::Start => "",
                    Anchor::Middle => " text-anchor=\"middle\"",
                    Anchor::End => " text-anchor=\"end\"",
                },
                paint.hex(),
                escape(&crate::report::format::visible(text))
            ),
        };
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::render::chart::Paint;

    #[test]
    fn text_is_escaped_and_numbers_have_two_decimals() {
        let figure = Figure {
            width: 100.0,
            height: 20.0,
            description: "a <b> & \"c\"".into(),
            shapes: vec![
                Shape::Text {
                    x: 1.0 / 3.0,
                    baseline: 2.0,
                    size: 8.0,
                    bold: true,
                    anchor: Anchor::End,
                    paint: Paint::Text,
                    text: "</svg><script>x</script>".into(),
                },
                Shape::Rect {
                    x: 0.1,
                    y: 0.2,
                    width: 3.0,
                    height: 4.0,
                    paint: Paint::Weakening,
                },
            ],
        };
        let svg = svg(&figure);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;&#x2F;svg&gt;") || svg.contains("&lt;/svg&gt;"));
        assert!(svg.contains("x=\"0.33\""));
        assert!(svg.contains("fill=\"#b00020\""));
        assert_eq!(svg.matches("<svg").count(), 1);
    }
}
