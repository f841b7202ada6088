//! CSV renderer: one RFC 4180 UTF-8 file per table, stable column order, every row carrying
//! the report id, and cells that a spreadsheet would run as a formula neutralised.

use crate::report::ReportModel;
use crate::report::render::{Format, RenderError, RenderedFile};
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

/// One file per table that has one (`Table::csv_file`), with the table's CSV columns.
pub fn render(model: &ReportModel) -> Result<Vec<RenderedFile>, RenderError> {
    tables(model)
        .iter()
        .map(|table| {
            let mut bytes = Vec::new();
            write_table(model, table, &mut bytes)
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
/// MB in a busy month). A failure names the file.
pub fn write_table(model: &ReportModel, table: &Table, out: &mut dyn Write) -> io::Result<()> {
    let name = file_name(table);
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
                .write_field(neutralise(cell.text_shown()).as_bytes())
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
