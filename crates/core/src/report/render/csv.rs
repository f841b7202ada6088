//! CSV renderer: one RFC 4180 UTF-8 file per table, stable column order, every row carrying
//! the report id, times in RFC 3339 UTC, missing values as empty cells, cells that a
//! spreadsheet would run as a formula neutralised, and (by default) a UTF-8 byte order mark.

use crate::report::ReportModel;
use crate::report::render::{Format, RenderError, RenderOptions, RenderedFile};
use crate::report::table::{Audience, Table};
use std::borrow::Cow;
use std::io::{self, Write};

/// Spreadsheets execute cells starting with these; a leading `'` makes them text (OWASP).
/// `shown` is a cell's text as people see it (hidden characters already made visible).
fn neutralise(shown: Cow<'_, str>) -> Cow<'_, str> {
    match shown.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{shown}")),
        _ => shown,
    }
}

/// The UTF-8 byte order mark. Excel opens a CSV file without it in the machine's legacy code
/// page, so `Müller` or `東京` in a name or an ARN shows as mojibake to the QA reviewer.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// One file per table that has one (`Table::csv_file`), with the table's CSV columns.
pub fn render(
    model: &ReportModel,
    options: &RenderOptions,
) -> Result<Vec<RenderedFile>, RenderError> {
    tables(model)
        .iter()
        .map(|table| {
            let mut bytes = Vec::new();
            write_table(model, table, options.csv_bom, &mut bytes)
                .map_err(|err| RenderError::Csv(err.to_string()))?;
            Ok(RenderedFile {
                name: file_name(table).to_string(),
                bytes,
            })
        })
        .collect()
}

/// The tables of `model` that have a CSV file, in the order the files are written.
pub fn tables(model: &ReportModel) -> Vec<Table<'_>> {
    model
        .tables(Audience::Machine)
        .into_iter()
        .filter(|table| table.csv_file.is_some())
        .collect()
}

/// The name of the CSV file that holds `table`.
pub fn file_name(table: &Table) -> &'static str {
    table.csv_file.unwrap_or(table.id)
}

/// Writes one table's CSV file into `out`, row by row (the change register alone is tens of
/// MB in a busy month), after a byte order mark if `bom`. A failure names the file.
pub fn write_table(
    model: &ReportModel,
    table: &Table,
    bom: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = file_name(table);
    if bom {
        out.write_all(UTF8_BOM)
            .map_err(|err| io::Error::new(err.kind(), format!("{name}: {err}")))?;
    }
    let csv_error = |err: ::csv::Error| io::Error::other(format!("{name}: {err}"));
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    let header = table.columns(Format::Csv).filter_map(|c| c.csv);
    writer
        .write_record(std::iter::once("report_id").chain(header))
        .map_err(csv_error)?;
    for row in table.rows(Format::Csv) {
        writer.write_field(&model.report_id).map_err(csv_error)?;
        for cell in row.iter() {
            writer
                .write_field(neutralise(cell.text_for_machines()).as_bytes())
                .map_err(csv_error)?;
        }
        writer.write_record(None::<&[u8]>).map_err(csv_error)?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        let neutralised = |text: &'static str| neutralise(Cow::Borrowed(text)).into_owned();
        assert_eq!(
            neutralised("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralised("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralised("-1"), "'-1");
        assert_eq!(neutralised("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralised("plain"), "plain");
    }
}
