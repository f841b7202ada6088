//! CSV renderer: one RFC 4180 UTF-8 file per table, stable column order, every row carrying
//! the report id, and cells that a spreadsheet would run as a formula neutralised.

use crate::report::ReportModel;
use crate::report::format::visible;
use crate::report::render::{Format, RenderError, RenderedFile};
use crate::report::table::Audience;

/// Spreadsheets execute cells starting with these; a leading `'` makes them text (OWASP).
fn neutralise(cell: &str) -> String {
    let shown = visible(cell);
    match shown.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{shown}"),
        _ => shown,
    }
}

/// One file per table that has one (`Table::csv_file`), with the table's CSV columns.
pub fn render(model: &ReportModel) -> Result<Vec<RenderedFile>, RenderError> {
    let mut files = Vec::new();
    render_each(model, |file| {
        files.push(file);
        Ok::<_, RenderError>(())
    })?;
    Ok(files)
}

/// `render`, handing each file to `emit` as soon as it is drawn, so a caller can write it out
/// and free it before the next (the change register alone is tens of MB in a busy month).
pub fn render_each<E: From<RenderError>>(
    model: &ReportModel,
    mut emit: impl FnMut(RenderedFile) -> Result<(), E>,
) -> Result<(), E> {
    model
        .tables(Audience::Machine)
        .iter()
        .filter_map(|table| table.csv_file.map(|name| (name, table)))
        .try_for_each(|(name, table)| {
            let mut writer = ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let csv_error = |err: ::csv::Error| RenderError::Csv(format!("{name}: {err}"));
            let header = table.columns(Format::Csv).filter_map(|c| c.csv);
            writer
                .write_record(std::iter::once("report_id").chain(header))
                .map_err(csv_error)?;
            for row in table.rows(Format::Csv) {
                let record = std::iter::once(model.report_id.clone())
                    .chain(row.iter().map(|cell| neutralise(&cell.text_shown())));
                writer.write_record(record).map_err(csv_error)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|err| RenderError::Csv(format!("{name}: {err}")))?;
            emit(RenderedFile {
                name: name.to_string(),
                bytes,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            neutralise("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(neutralise("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(neutralise("-1"), "'-1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("plain"), "plain");
    }
}
