//! One table model: every detail table of the report is defined once here — its columns,
//! what each format shows of them, and how each cell is read from the model's rows — and
//! the PDF, HTML and CSV renderers draw any [`Table`] generically.
//!
//! A column says, in one place, its CSV name, its HTML header and its PDF header and width;
//! a missing one hides the column in that format (CSV carries every field, PDF and HTML a
//! readable subset, sometimes joining fields into one cell). Adding a column is one entry in
//! a table's column list; adding a table is one definition here plus one line in
//! [`ReportModel::tables`].

use std::borrow::Cow;

use crate::controls::change_records::{RecordOutcome, RecordState};
use crate::controls::cloudwatch_logs::LogGroupRef;
use crate::controls::selection::NotEvaluated;
use crate::controls::{
    ChangeClass, ChangeRow, Finding, Status, Verdict, View,
    apigateway::{MethodRow, StageRow},
    catalog,
    cloudtrail::{LoggingGap, TrailRow},
    elasticache::ReplicationGroupRow,
    kms::KeyRow,
    s3::BucketRow,
};
use crate::evidence::{EvidenceGap, Timestamp};
use crate::report::accounts::AccountSummary;
use crate::report::render::Format;
use crate::report::{
    ChangeGroup, LookupQueryRow, ReportModel, Signoff, ViewPair, format::visible_cow,
};

/// Which rows the tables carry: every row (the CSV files), or what people read (PDF and HTML:
/// a change register longer than `max_changes` lists weakening changes and failed calls in
/// full and summarises the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Machine,
    Human { max_changes: usize },
}

/// One column: what each format shows of it.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The CSV column name; `None`: not in the CSV file.
    pub csv: Option<&'static str>,
    /// The HTML header; `None`: not in the HTML table.
    pub html: Option<&'static str>,
    /// The PDF header and relative width; `None`: not in the PDF table.
    pub pdf: Option<(&'static str, f32)>,
    /// HTML: a class on every cell of the column (a cell's own class wins).
    pub html_class: Option<&'static str>,
    /// HTML: the cell starts a new line of the row's markup.
    pub html_line: bool,
}

/// The blank column, to build from: `C.csv("account_id").human("Account", 1.6)`.
pub const C: Column = Column {
    csv: None,
    html: None,
    pdf: None,
    html_class: None,
    html_line: false,
};

impl Column {
    pub const fn csv(self, name: &'static str) -> Self {
        Column {
            csv: Some(name),
            ..self
        }
    }
    pub const fn html(self, header: &'static str) -> Self {
        Column {
            html: Some(header),
            ..self
        }
    }
    pub const fn pdf(self, header: &'static str, width: f32) -> Self {
        Column {
            pdf: Some((header, width)),
            ..self
        }
    }
    /// The same header in HTML and PDF.
    pub const fn human(self, header: &'static str, pdf_width: f32) -> Self {
        self.html(header).pdf(header, pdf_width)
    }
    pub const fn small(self) -> Self {
        Column {
            html_class: Some("small"),
            ..self
        }
    }
    pub const fn line(self) -> Self {
        Column {
            html_line: true,
            ..self
        }
    }
    pub fn shown_in(&self, format: Format) -> bool {
        match format {
            Format::Csv => self.csv.is_some(),
            Format::Html => self.html.is_some(),
            Format::Pdf => self.pdf.is_some(),
            // One record per finding, not a table: these renderers draw no columns.
            Format::Ocsf | Format::Junit => false,
        }
    }
}

/// What a table's rows are: usually `&T` ([`Ref`]), or a few references joined.
pub trait RowKind: 'static {
    type Row<'a>: Copy;
}

/// Rows that are references to `T`.
pub struct Ref<T>(std::marker::PhantomData<T>);

impl<T: 'static> RowKind for Ref<T> {
    type Row<'a> = &'a T;
}

/// One row as a column's cell reader sees it (dereferences to the row).
pub struct R<'a, K: RowKind>(K::Row<'a>, std::marker::PhantomData<&'a ()>);

impl<'a, K: RowKind> std::ops::Deref for R<'a, K> {
    type Target = K::Row<'a>;
    fn deref(&self) -> &K::Row<'a> {
        &self.0
    }
}

/// A column with the reading of its cell from one row.
pub struct Col<K: RowKind> {
    pub column: Column,
    pub cell: for<'a> fn(R<'a, K>) -> Cell<'a>,
}

const fn col<K: RowKind>(column: Column, cell: for<'a> fn(R<'a, K>) -> Cell<'a>) -> Col<K> {
    Col { column, cell }
}

/// How a cell is emphasised where a format can (the PDF's colours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    #[default]
    Plain,
    Good,
    Bad,
    Warn,
    Muted,
}

/// One part of a cell of several parts; `small` parts are set smaller in HTML.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub text: Cow<'a, str>,
    pub small: bool,
    /// What comes between the part before and this one: `"\n"` (a new line) or a fixed
    /// separator such as `" / "`.
    pub sep: &'static str,
}

/// A cell's typed value. Its wording ([`Cell::text`]) is the same in every format.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Text(Cow<'a, str>),
    /// Parts shown one under the other or joined by a fixed separator.
    Lines(Vec<Line<'a>>),
    /// `None`: no result (`—`).
    Status(Option<Status>),
    /// `yes`, `no`, or `unknown`.
    YesNo(Option<bool>),
    /// Date and time in UTC, or `—`.
    Time(Option<Timestamp>),
    /// The date, or `—`.
    Date(Option<Timestamp>),
    /// RFC 3339 for machines, or empty.
    Stamp(Option<Timestamp>),
    /// A number, or `—`.
    Number(Option<u64>),
}

#[derive(Debug, Clone)]
pub struct Cell<'a> {
    pub value: Value<'a>,
    pub tone: Tone,
    pub bold: bool,
    /// HTML: the cell's class (a status or change class).
    pub class: Option<String>,
}

impl<'a> Cell<'a> {
    fn of(value: Value<'a>) -> Self {
        Cell {
            value,
            tone: Tone::Plain,
            bold: false,
            class: None,
        }
    }
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Self::of(Value::Text(text.into()))
    }
    pub fn lines(lines: impl IntoIterator<Item = (Cow<'a, str>, bool)>) -> Self {
        Self::of(Value::Lines(
            lines
                .into_iter()
                .map(|(text, small)| Line {
                    text,
                    small,
                    sep: "\n",
                })
                .collect(),
        ))
    }
    /// Parts joined by `sep`, a fixed text (HTML prints it as markup, unescaped).
    pub fn joined(parts: impl IntoIterator<Item = Cow<'a, str>>, sep: &'static str) -> Self {
        Self::of(Value::Lines(
            parts
                .into_iter()
                .map(|text| Line {
                    text,
                    small: false,
                    sep,
                })
                .collect(),
        ))
    }
    pub fn status(status: Status) -> Self {
        Self::status_of(Some(status))
    }
    /// A status, coloured; `None` (no result) shows `—`.
    pub fn status_of(status: Option<Status>) -> Self {
        let Some(s) = status else {
            return Self::of(Value::Status(None));
        };
        let tone = match s {
            Status::Pass | Status::Controlled => Tone::Good,
            Status::Fail => Tone::Bad,
            Status::EvidenceGap => Tone::Warn,
            Status::NotApplicable | Status::NoResources => Tone::Muted,
        };
        Cell {
            value: Value::Status(Some(s)),
            tone,
            bold: true,
            class: Some(format!("status status-{}", s.as_str())),
        }
    }
    pub fn yes_no(value: Option<bool>) -> Self {
        Self::of(Value::YesNo(value))
    }
    pub fn time(value: Option<Timestamp>) -> Self {
        Self::of(Value::Time(value))
    }
    pub fn date(value: Option<Timestamp>) -> Self {
        Self::of(Value::Date(value))
    }
    pub fn stamp(value: Option<Timestamp>) -> Self {
        Self::of(Value::Stamp(value))
    }
    pub fn number(value: Option<u64>) -> Self {
        Self::of(Value::Number(value))
    }
    pub fn tone(self, tone: Tone, bold: bool) -> Self {
        Cell { tone, bold, ..self }
    }
    pub fn class(self, class: String) -> Self {
        Cell {
            class: Some(class),
            ..self
        }
    }

    pub fn into_owned(self) -> Cell<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        let value = match self.value {
            Value::Text(t) => Value::Text(own(t)),
            Value::Lines(lines) => Value::Lines(
                lines
                    .into_iter()
                    .map(|l| Line {
                        text: own(l.text),
                        small: l.small,
                        sep: l.sep,
                    })
                    .collect(),
            ),
            Value::Status(s) => Value::Status(s),
            Value::YesNo(v) => Value::YesNo(v),
            Value::Time(v) => Value::Time(v),
            Value::Date(v) => Value::Date(v),
            Value::Stamp(v) => Value::Stamp(v),
            Value::Number(v) => Value::Number(v),
        };
        Cell {
            value,
            tone: self.tone,
            bold: self.bold,
            class: self.class,
        }
    }

    /// The cell's wording for people: hidden characters made visible, lines joined with a
    /// newline. (The CSV renderer also neutralises what a spreadsheet would run.)
    pub fn text_shown(&self) -> Cow<'_, str> {
        match &self.value {
            Value::Text(t) => visible_cow(t),
            Value::Lines(lines) => {
                let mut text = String::new();
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        text.push_str(line.sep);
                    }
                    text.push_str(&visible_cow(&line.text));
                }
                Cow::Owned(text)
            }
            Value::Status(s) => Cow::Borrowed(s.map(Status::as_str).unwrap_or("—")),
            Value::YesNo(v) => Cow::Borrowed(super::format::opt_yes_no(*v)),
            Value::Time(t) => Cow::Owned(super::format::time(*t)),
            Value::Date(t) => Cow::Owned(super::format::date(*t)),
            Value::Stamp(t) => Cow::Owned(t.map(|t| t.to_rfc3339()).unwrap_or_default()),
            Value::Number(n) => {
                Cow::Owned(n.map(|n| n.to_string()).unwrap_or_else(|| "—".to_string()))
            }
        }
    }

    /// The cell's wording for a spreadsheet or a script: as [`Cell::text_shown`], except that
    /// every time is RFC 3339 UTC (one format a machine parses in every column, whatever the
    /// PDF shows) and a missing number, time or status is an empty cell (a `—` in a numeric
    /// column turns the whole column into text in Excel).
    pub fn text_for_machines(&self) -> Cow<'_, str> {
        match &self.value {
            Value::Time(t) | Value::Date(t) | Value::Stamp(t) => {
                Cow::Owned(t.map(|t| t.to_rfc3339()).unwrap_or_default())
            }
            Value::Number(None) | Value::Status(None) => Cow::Borrowed(""),
            _ => self.text_shown(),
        }
    }
}

fn t<'a>(text: &'a str) -> Cell<'a> {
    Cell::text(text)
}

fn owned<'a>(text: String) -> Cell<'a> {
    Cell::text(text)
}

fn n<'a>(value: impl Into<u64>) -> Cell<'a> {
    Cell::number(Some(value.into()))
}

/// Rows of one type read through a column list, behind a type-free face.
trait Rows<'a> {
    fn len(&self) -> usize;
    fn cell(&self, row: usize, column: usize) -> Cell<'a>;
}

struct Typed<'a, K: RowKind> {
    rows: Vec<K::Row<'a>>,
    columns: &'static [Col<K>],
}

impl<'a, K: RowKind> Rows<'a> for Typed<'a, K> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn cell(&self, row: usize, column: usize) -> Cell<'a> {
        (self.columns[column].cell)(R(self.rows[row], std::marker::PhantomData))
    }
}

/// One detail table of the report, ready to draw in any format.
pub struct Table<'a> {
    /// Stable id: the CSV file's stem or the place in the report (`changes`, `keys`, …).
    pub id: &'static str,
    /// The control whose section shows the table, if any.
    pub control: Option<&'static str>,
    /// The heading above the table in PDF and HTML (empty: none).
    pub title: &'static str,
    /// The CSV file that holds the table, if any.
    pub csv_file: Option<&'static str>,
    /// PDF font size.
    pub pdf_size: f32,
    /// HTML: each row on one line of markup.
    pub html_compact: bool,
    /// What PDF and HTML say instead of an empty table (`None`: draw the empty table).
    pub empty_text: Option<&'static str>,
    columns: Vec<Column>,
    rows: Box<dyn Rows<'a> + 'a>,
}

/// The static part of a table's definition.
struct Def<K: RowKind> {
    id: &'static str,
    control: Option<&'static str>,
    title: &'static str,
    csv_file: Option<&'static str>,
    pdf_size: f32,
    html_compact: bool,
    empty_text: Option<&'static str>,
    columns: &'static [Col<K>],
}

const TABLE_SIZE: f32 = 7.0;

const fn def<K: RowKind>(id: &'static str, columns: &'static [Col<K>]) -> Def<K> {
    Def {
        id,
        control: None,
        title: "",
        csv_file: None,
        pdf_size: TABLE_SIZE,
        html_compact: false,
        empty_text: None,
        columns,
    }
}

/// Rows the table owns (computed for the report, like the view pairs): cells are copied out.
struct Owned<T: 'static> {
    rows: Vec<T>,
    columns: &'static [Col<Ref<T>>],
}

impl<'a, T: 'static> Rows<'a> for Owned<T> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn cell(&self, row: usize, column: usize) -> Cell<'a> {
        (self.columns[column].cell)(R(&self.rows[row], std::marker::PhantomData)).into_owned()
    }
}

impl<T: 'static> Def<Ref<T>> {
    fn owned_table<'a>(&self, rows: Vec<T>) -> Table<'a> {
        self.with_rows(Box::new(Owned {
            rows,
            columns: self.columns,
        }))
    }
}

impl<K: RowKind> Def<K> {
    fn table<'a>(&self, rows: impl IntoIterator<Item = K::Row<'a>>) -> Table<'a> {
        self.with_rows(Box::new(Typed {
            rows: rows.into_iter().collect(),
            columns: self.columns,
        }))
    }

    fn with_rows<'a>(&self, rows: Box<dyn Rows<'a> + 'a>) -> Table<'a> {
        Table {
            id: self.id,
            control: self.control,
            title: self.title,
            csv_file: self.csv_file,
            pdf_size: self.pdf_size,
            html_compact: self.html_compact,
            empty_text: self.empty_text,
            columns: self.columns.iter().map(|c| c.column).collect(),
            rows,
        }
    }
}

impl<'a> Table<'a> {
    /// Shows the CSV column `csv_name` in no format (a column a package's layout predates).
    fn hide_column(&mut self, csv_name: &str) {
        for column in &mut self.columns {
            if column.csv == Some(csv_name) {
                *column = C;
            }
        }
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }
    /// The columns `format` shows, in order.
    pub fn columns(&self, format: Format) -> impl Iterator<Item = &Column> + '_ {
        self.columns.iter().filter(move |c| c.shown_in(format))
    }
    /// The rows with the cells `format` shows, read one row at a time.
    pub fn rows(&self, format: Format) -> impl Iterator<Item = Vec<Cell<'a>>> + '_ {
        let shown: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.columns[i].shown_in(format))
            .collect();
        (0..self.rows.len()).map(move |row| shown.iter().map(|&c| self.rows.cell(row, c)).collect())
    }
}

// ---------------------------------------------------------------------------------------
// The tables.

const ACCOUNT: Column = C.csv("account_id").human("Account", 1.6);
const REGION: Column = C.csv("region").human("Region", 1.5);

static FINDINGS: Def<Ref<Finding>> = Def {
    csv_file: Some("findings.csv"),
    ..def(
        "findings",
        &[
            col(C.csv(FINDING_ID_COLUMN), |f| owned(f.id())),
            col(C.csv("control_id"), |f| t(&f.control_id)),
            col(C.csv("control_title"), |f| {
                t(catalog::find(&f.control_id).map(|c| c.title).unwrap_or(""))
            }),
            col(ACCOUNT.line(), |f| t(&f.account_id)),
            col(REGION, |f| t(&f.region)),
            col(C.csv("resource").human("Resource", 3.2), |f| t(&f.resource)),
            col(C.csv("view"), |f| t(f.view.map(View::as_str).unwrap_or(""))),
            col(C.csv("status").human("Status", 1.9).line(), |f| {
                Cell::status(f.status)
            }),
            col(C.csv("reason"), |f| t(&f.reason)),
            col(C.human("Reason", 6.0), |f| {
                reason_with_fix(&f.reason, &f.remediation)
            }),
            col(C.csv("remediation"), |f| t(&f.remediation)),
        ],
    )
};

/// The CSV column of a finding's stable id (results format 2 on).
pub const FINDING_ID_COLUMN: &str = "finding_id";

/// What people read of a result: the reason, and under it, smaller, the fix of a FAIL.
fn reason_with_fix<'a>(reason: &'a str, remediation: &'a str) -> Cell<'a> {
    if remediation.is_empty() {
        return t(reason);
    }
    Cell::lines([
        (Cow::Borrowed(reason), false),
        (Cow::Owned(format!("{FIX_LABEL}{remediation}")), true),
    ])
}

/// How the fix of a FAIL is introduced under its reason in PDF and HTML.
pub const FIX_LABEL: &str = "Remediation: ";

/// Both readings of a two-view control for one resource (see [`ReportModel::view_pairs`]).
pub struct PairRow {
    account_id: String,
    region: String,
    resource: String,
    /// Per view: status, reason, remediation.
    readings: [Option<(Status, String, String)>; 2],
}

impl From<ViewPair<'_>> for PairRow {
    fn from(p: ViewPair<'_>) -> Self {
        let reading =
            |f: Option<&Finding>| f.map(|f| (f.status, f.reason.clone(), f.remediation.clone()));
        PairRow {
            account_id: p.account_id.to_string(),
            region: p.region.to_string(),
            resource: p.resource.to_string(),
            readings: [reading(p.security_hub), reading(p.aws_config)],
        }
    }
}

fn pair_status(p: &PairRow, view: usize) -> Cell<'_> {
    Cell::status_of(p.readings[view].as_ref().map(|r| r.0))
}

fn pair_reason(p: &PairRow, view: usize) -> Cell<'_> {
    match &p.readings[view] {
        Some((_, reason, remediation)) => reason_with_fix(reason, remediation),
        None => t(""),
    }
}

static VIEW_PAIRS: Def<Ref<PairRow>> = def(
    "view-pairs",
    &[
        col(ACCOUNT.line(), |p| t(&p.account_id)),
        col(REGION, |p| t(&p.region)),
        col(C.human("Resource", 2.6), |p| t(&p.resource)),
        col(C.human("Security Hub (lenient)", 1.5).line(), |p| {
            pair_status(*p, 0)
        }),
        col(C.human("AWS Config (strict)", 1.5).line(), |p| {
            pair_status(*p, 1)
        }),
        col(C.human("Security Hub reason", 4.0).line(), |p| {
            pair_reason(*p, 0)
        }),
        col(C.human("AWS Config reason", 4.0), |p| pair_reason(*p, 1)),
    ],
);

/// A method with its stage's context (the CSV carries both).
#[derive(Clone, Copy)]
pub struct MethodJoin<'a> {
    method: &'a MethodRow,
    stage: Option<&'a StageRow>,
}

pub struct Methods;

impl RowKind for Methods {
    type Row<'a> = MethodJoin<'a>;
}

fn stage_text<'a>(m: &MethodJoin<'a>, get: fn(&'a StageRow) -> &'a str) -> Cell<'a> {
    t(m.stage.map(get).unwrap_or(""))
}

static METHODS: Def<Methods> = Def {
    control: Some(catalog::APIGW_CACHE_ENCRYPTION),
    title: "Per-method cache settings at collection time (the results judge the whole period)",
    csv_file: Some("methods.csv"),
    ..def(
        "methods",
        &[
            col(ACCOUNT.line(), |m| t(&m.method.account_id)),
            col(REGION, |m| t(&m.method.region)),
            col(C.csv("api_id"), |m| t(&m.method.api_id)),
            col(C.csv("api_name"), |m| t(&m.method.api_name)),
            col(C.human("API", 2.0), |m| {
                owned(format!("{} ({})", m.method.api_name, m.method.api_id))
            }),
            col(C.csv("stage").human("Stage", 0.8), |m| t(&m.method.stage)),
            col(C.csv("resource_path"), |m| t(&m.method.resource_path)),
            col(C.csv("http_method"), |m| t(&m.method.http_method)),
            col(C.human("Method", 2.2).line(), |m| {
                owned(format!(
                    "{} {}",
                    m.method.http_method, m.method.resource_path
                ))
            }),
            col(C.csv("setting_source").human("Setting from", 2.2), |m| {
                t(&m.method.setting_source)
            }),
            col(
                C.csv("cache_cluster_enabled").human("Cluster", 1.0).line(),
                |m| Cell::yes_no(m.method.cache_cluster_enabled),
            ),
            col(C.csv("caching_enabled").human("Caching", 1.0), |m| {
                Cell::yes_no(m.method.caching_enabled)
            }),
            col(C.csv("cache_data_encrypted").human("Encrypted", 1.1), |m| {
                Cell::yes_no(m.method.cache_data_encrypted)
            }),
            col(
                C.csv("security_hub_status")
                    .human("Security Hub", 1.2)
                    .line(),
                |m| Cell::status(m.method.security_hub),
            ),
            col(C.csv("aws_config_status").human("AWS Config", 1.2), |m| {
                Cell::status(m.method.aws_config)
            }),
            col(C.csv("logging_level"), |m| t(&m.method.logging_level)),
            col(C.csv("authorization_type"), |m| {
                t(&m.method.authorization_type)
            }),
            col(C.csv("api_key_required"), |m| {
                Cell::yes_no(Some(m.method.api_key_required))
            }),
            col(C.csv("access_logging"), |m| {
                stage_text(&m, |s| &s.access_logging)
            }),
            col(C.csv("xray_tracing"), |m| match m.stage {
                Some(s) => Cell::yes_no(Some(s.xray_tracing)),
                None => t(""),
            }),
            col(C.csv("waf_web_acl"), |m| stage_text(&m, |s| &s.waf_web_acl)),
            col(C.csv("client_certificate"), |m| {
                stage_text(&m, |s| &s.client_certificate)
            }),
            col(
                C.csv("observation")
                    .human("Observation", 2.4)
                    .small()
                    .line(),
                |m| t(&m.method.observation),
            ),
        ],
    )
};

static STAGES: Def<Ref<StageRow>> = Def {
    control: Some(catalog::APIGW_LOGGING),
    title: "Stage context at collection time",
    ..def(
        "stages",
        &[
            col(ACCOUNT.line(), |s| t(&s.account_id)),
            col(REGION, |s| t(&s.region)),
            col(C.html("API"), |s| {
                owned(format!("{} ({})", s.api_name, s.api_id))
            }),
            col(C.html("Stage"), |s| t(&s.stage)),
            col(C.pdf("Stage", 2.4), |s| {
                owned(format!("{} ({}) {}", s.api_name, s.api_id, s.stage))
            }),
            col(C.human("Execution logging (*/*)", 1.2).line(), |s| {
                t(&s.execution_logging)
            }),
            col(C.human("Access logging", 2.4).small(), |s| {
                t(&s.access_logging)
            }),
            col(C.human("X-Ray", 0.7), |s| {
                Cell::yes_no(Some(s.xray_tracing))
            }),
            col(C.human("WAF web ACL", 2.4).small().line(), |s| {
                t(&s.waf_web_acl)
            }),
            col(C.html("Client certificate").pdf("Client cert.", 1.1), |s| {
                t(&s.client_certificate)
            }),
            col(C.human("Open methods (no auth, no API key)", 2.0), |s| {
                owned(s.open_methods.join(", "))
            }),
            col(C.html("Status").pdf("Logging", 1.2).line(), |s| {
                Cell::status(s.logging_status)
            }),
        ],
    )
};

static KEYS: Def<Ref<KeyRow>> = Def {
    control: Some(catalog::KMS_KEY_ROTATION),
    title: "Keys at collection time",
    csv_file: Some("keys.csv"),
    ..def(
        "keys",
        &[
            col(ACCOUNT.line(), |k| t(&k.account_id)),
            col(REGION, |k| t(&k.region)),
            col(C.csv("key_id").html("Key").small(), |k| t(&k.key_id)),
            col(C.pdf("Key / aliases", 2.9), |k| {
                owned(format!("{}\n{}", k.key_id, k.aliases.join(", ")))
            }),
            col(C.csv("key_arn"), |k| t(&k.key_arn)),
            col(C.csv("aliases"), |k| owned(k.aliases.join(";"))),
            col(C.html("Aliases"), |k| owned(k.aliases.join(", "))),
            col(C.csv("key_manager").html("Manager").line(), |k| {
                t(&k.key_manager)
            }),
            col(C.pdf("Manager / spec", 2.0), |k| {
                owned(format!("{} / {}", k.key_manager, k.key_spec))
            }),
            col(C.csv("key_spec").html("Spec"), |k| t(&k.key_spec)),
            col(C.csv("key_usage"), |k| t(&k.key_usage)),
            col(C.csv("origin").html("Origin"), |k| t(&k.origin)),
            col(C.csv("key_state").html("State"), |k| t(&k.key_state)),
            col(C.pdf("Origin / state", 1.7), |k| {
                owned(format!("{} / {}", k.origin, k.key_state))
            }),
            col(
                C.csv("rotation_enabled").human("Rotation", 1.1).line(),
                |k| Cell::yes_no(k.rotation_enabled),
            ),
            col(
                C.csv("rotation_period_days").human("Period (days)", 0.9),
                |k| Cell::number(k.rotation_period_days.map(u64::from)),
            ),
            col(C.csv("next_rotation_date").pdf("Next rotation", 1.3), |k| {
                Cell::date(k.next_rotation_date)
            }),
            col(C.html("Next rotation").line(), |k| {
                Cell::time(k.next_rotation_date)
            }),
            col(
                C.csv("last_rotation_date").human("Last rotation", 1.5),
                |k| Cell::time(k.last_rotation_date),
            ),
            col(C.csv("automatic_rotations_in_period"), |k| {
                n(k.automatic_rotations_in_period)
            }),
            col(C.csv("on_demand_rotations_in_period"), |k| {
                n(k.on_demand_rotations_in_period)
            }),
            col(
                C.human("Rotations in period (auto / on-demand)", 1.3)
                    .line(),
                |k| {
                    Cell::joined(
                        [
                            Cow::Owned(k.automatic_rotations_in_period.to_string()),
                            Cow::Owned(k.on_demand_rotations_in_period.to_string()),
                        ],
                        " / ",
                    )
                },
            ),
            col(
                C.csv("key_policy_exposure")
                    .human("Key policy open to", 1.4)
                    .line(),
                |k| t(&k.policy_exposure),
            ),
            col(C.csv("status").human("Status", 2.1).line(), |k| {
                Cell::status(k.status)
            }),
            col(C.csv("reason").human("Reason", 2.8), |k| t(&k.reason)),
        ],
    )
};

static TRAILS: Def<Ref<TrailRow>> = Def {
    control: Some(catalog::CLOUDTRAIL_MULTI_REGION),
    title: "Trails at collection time",
    csv_file: Some("trails.csv"),
    ..def(
        "trails",
        &[
            col(ACCOUNT.line(), |t_| t(&t_.account_id)),
            col(C.csv("trail_name").html("Trail"), |t_| t(&t_.trail_name)),
            col(C.pdf("Trail", 4.0), |t_| {
                owned(format!("{}\n{}", t_.trail_name, t_.trail_arn))
            }),
            col(C.csv("trail_arn"), |t_| t(&t_.trail_arn)),
            col(C.csv("home_region").human("Home region", 1.3), |t_| {
                t(&t_.home_region)
            }),
            col(C.csv("multi_region").human("Multi-region", 1.0), |t_| {
                Cell::yes_no(t_.multi_region)
            }),
            col(
                C.csv("organization_trail").human("Organization", 1.1),
                |t_| Cell::yes_no(t_.organization_trail),
            ),
            col(C.csv("is_logging").human("Logging", 0.9).line(), |t_| {
                Cell::yes_no(t_.is_logging)
            }),
            col(
                C.csv("log_file_validation").human("Validation", 1.0),
                |t_| Cell::yes_no(t_.log_file_validation),
            ),
            col(C.csv("kms_key_id"), |t_| t(&t_.kms_key_id)),
            col(C.human("KMS key", 3.4).small(), |t_| {
                t(if t_.kms_key_id.is_empty() {
                    "none"
                } else {
                    &t_.kms_key_id
                })
            }),
            col(
                C.csv("management_events")
                    .human("Management events", 1.2)
                    .line(),
                |t_| t(&t_.management_events),
            ),
            col(
                C.csv("kms_events_excluded")
                    .human("KMS events excluded", 1.1),
                |t_| {
                    let cell = Cell::yes_no(Some(t_.kms_events_excluded));
                    if t_.kms_events_excluded {
                        cell.tone(Tone::Bad, true)
                    } else {
                        cell
                    }
                },
            ),
            col(
                C.csv("latest_delivery").human("Latest delivery", 1.6),
                |t_| Cell::time(t_.latest_delivery),
            ),
            col(C.csv("cloudwatch_log_group"), |t_| {
                t(&t_.cloudwatch_log_group)
            }),
            col(C.csv("cloudwatch_logs_role_arn"), |t_| {
                t(&t_.cloudwatch_logs_role_arn)
            }),
            col(
                C.csv("log_group_retention"),
                |t_| t(&t_.log_group_retention),
            ),
            col(C.csv("log_group_kms_key"), |t_| t(&t_.log_group_kms_key)),
            col(C.csv("latest_cloudwatch_logs_delivery"), |t_| {
                Cell::time(t_.latest_cloudwatch_logs_delivery)
            }),
            col(C.csv("cloudwatch_logs_delivery_error"), |t_| {
                t(&t_.cloudwatch_logs_delivery_error)
            }),
            col(C.human("CloudWatch Logs", 2.6).small(), |t_| {
                owned(cloudwatch_logs_cell(&t_))
            }),
        ],
    )
};

/// The trail's CloudWatch Logs delivery in one cell: group, retention, key, last delivery.
fn cloudwatch_logs_cell(row: &TrailRow) -> String {
    let Some(group) = LogGroupRef::parse(&row.cloudwatch_log_group) else {
        return "none".to_string();
    };
    let key = match row.log_group_kms_key.as_str() {
        "none" => "no KMS key".to_string(),
        key if key.starts_with("arn:") || key.len() > 20 => "KMS key".to_string(),
        other => other.to_string(),
    };
    let delivered = match (
        &row.latest_cloudwatch_logs_delivery,
        row.cloudwatch_logs_delivery_error.as_str(),
    ) {
        (_, error) if !error.is_empty() => format!("delivery error {error}"),
        (Some(at), _) => format!("delivered {}", at.display_utc()),
        (None, _) => "no delivery reported".to_string(),
    };
    format!(
        "{}\n{} · {key}\n{delivered}",
        group.name, row.log_group_retention
    )
}

static REPLICATION_GROUPS: Def<Ref<ReplicationGroupRow>> = Def {
    control: Some(catalog::ELASTICACHE_ENCRYPTION_AT_REST),
    title: "ElastiCache replication groups at collection time",
    csv_file: Some("replication_groups.csv"),
    ..def(
        "replication-groups",
        &[
            col(ACCOUNT.line(), |g| t(&g.account_id)),
            col(REGION, |g| t(&g.region)),
            col(
                C.csv("replication_group_id").html("Replication group"),
                |g| t(&g.replication_group_id),
            ),
            col(C.pdf("Replication group / engine", 2.4), |g| {
                owned(format!("{}\n{}", g.replication_group_id, g.engine))
            }),
            col(C.csv("arn"), |g| t(&g.arn)),
            col(C.csv("engine").html("Engine"), |g| t(&g.engine)),
            col(C.csv("group_status"), |g| t(&g.group_status)),
            col(
                C.csv("at_rest_encryption_enabled")
                    .human("Encrypted at rest", 1.0)
                    .line(),
                |g| Cell::yes_no(g.at_rest_encryption_enabled),
            ),
            col(C.csv("storage_encryption_type"), |g| {
                t(&g.storage_encryption_type)
            }),
            col(C.csv("kms_key").human("Key", 3.0).small(), |g| {
                t(if g.kms_key.is_empty() {
                    "none"
                } else {
                    &g.kms_key
                })
            }),
            col(
                C.csv("in_transit_encryption")
                    .human("In transit", 1.4)
                    .line(),
                |g| t(&g.in_transit),
            ),
            col(C.csv("access_control").human("AUTH / RBAC", 1.8), |g| {
                t(&g.access_control)
            }),
            col(C.csv("status").human("Status", 1.4).line(), |g| {
                Cell::status(g.status)
            }),
            col(C.csv("reason").human("Reason", 2.8), |g| t(&g.reason)),
        ],
    )
};

static BUCKETS: Def<Ref<BucketRow>> = Def {
    control: Some(catalog::CLOUDTRAIL_BUCKET_PROTECTION),
    title: "Trail buckets at collection time",
    csv_file: Some("trail_buckets.csv"),
    ..def(
        "trail-buckets",
        &[
            col(ACCOUNT.line(), |b| t(&b.account_id)),
            col(C.csv("bucket").human("Bucket", 2.4), |b| t(&b.bucket)),
            col(C.csv("region").human("Region", 1.1), |b| t(&b.region)),
            col(C.csv("trails").human("Trails", 1.8).small(), |b| {
                owned(b.trails.join(", "))
            }),
            col(
                C.csv("bucket_policy").human("Policy", 1.3),
                |b| t(&b.policy),
            ),
            col(C.csv("acl").human("ACL", 1.1), |b| t(&b.acl)),
            col(
                C.csv("bucket_public_access_block")
                    .human("Block Public Access (bucket)", 1.4)
                    .small(),
                |b| t(&b.bucket_block),
            ),
            col(
                C.csv("account_public_access_block")
                    .human("Block Public Access (account)", 1.4)
                    .small(),
                |b| t(&b.account_block),
            ),
            col(
                C.csv("access_logging").human("Access logging", 1.4).small(),
                |b| t(&b.access_logging),
            ),
            col(C.csv("object_lock").human("Object Lock", 1.3), |b| {
                t(&b.object_lock)
            }),
            col(C.csv("mfa_delete").human("MFA delete", 0.9), |b| {
                t(&b.mfa_delete)
            }),
            col(C.csv("lifecycle").human("Lifecycle", 1.1), |b| {
                t(&b.lifecycle)
            }),
            col(C.csv("status").human("Status", 2.1).line(), |b| {
                Cell::status(b.status)
            }),
        ],
    )
};

static LOGGING_GAPS: Def<Ref<LoggingGap>> = Def {
    control: Some(catalog::CLOUDTRAIL_CONTINUITY),
    title: "Logging gaps",
    empty_text: Some("No logging gaps in the period."),
    ..def(
        "logging-gaps",
        &[
            col(ACCOUNT.line(), |g| t(&g.account_id)),
            col(REGION, |g| t(&g.region)),
            col(C.human("Trail", 1.6), |g| t(&g.trail_name)),
            col(C.human("Cause", 1.4), |g| t(&g.cause)),
            col(C.human("From", 1.6), |g| Cell::time(Some(g.started_at))),
            col(C.human("Stopped by", 3.0).small(), |g| t(&g.started_by)),
            col(C.human("Until", 1.6).line(), |g| match g.ended_at {
                Some(at) => Cell::time(Some(at)),
                None => t("not resumed before the end of the period"),
            }),
            col(C.human("Resumed by", 3.0).small(), |g| t(&g.ended_by)),
            col(C.html("Duration"), |g| owned(format!("{} min", g.minutes))),
            col(C.pdf("Duration", 1.2), |g| owned(g.duration_text())),
        ],
    )
};

/// A failed call changed nothing, so it is shown as a failed call, in grey, with its error
/// code, never in the red of a weakening change: an inspector must not read a refused
/// `DisableKeyRotation` as a control broken (what it would have done stays in the reason).
fn change_class(c: &ChangeRow) -> Cell<'_> {
    if !c.took_effect() {
        return Cell::lines([
            (Cow::Borrowed(FAILED_CALL), false),
            (Cow::Borrowed(c.classification_reason.as_str()), true),
        ])
        .tone(Tone::Muted, false)
        .class("class-FAILED_CALL".to_string());
    }
    let tone = match c.classification {
        ChangeClass::Weakening => Tone::Bad,
        ChangeClass::Strengthening => Tone::Good,
        ChangeClass::Neutral => Tone::Plain,
    };
    Cell::lines([
        (Cow::Borrowed(c.classification.as_str()), false),
        (Cow::Borrowed(c.classification_reason.as_str()), true),
    ])
    .tone(tone, false)
    .class(format!("class-{}", c.classification.as_str()))
}

/// How the change register names a call that failed and changed nothing.
pub const FAILED_CALL: &str = "FAILED CALL";

/// User agents are long and rarely decisive; the PDF shortens them (changes.csv has them whole).
fn short_user_agent(agent: &str) -> Cow<'_, str> {
    const KEEP: usize = 60;
    if agent.chars().count() <= KEEP {
        Cow::Borrowed(agent)
    } else {
        Cow::Owned(format!("{}…", agent.chars().take(KEEP).collect::<String>()))
    }
}

fn html_actor(c: &ChangeRow) -> Cell<'_> {
    let mut lines = vec![
        (Cow::Borrowed(c.actor.as_str()), false),
        (Cow::Borrowed(c.actor_type.as_str()), false),
    ];
    if !c.session_issuer.is_empty() {
        lines.push((Cow::Owned(format!("issuer {}", c.session_issuer)), false));
    }
    if !c.invoked_by.is_empty() {
        lines.push((Cow::Owned(format!("via {}", c.invoked_by)), false));
    }
    Cell::lines(lines)
}

fn pdf_actor(c: &ChangeRow) -> Cell<'_> {
    let mut actor = format!("{} ({})", c.actor, c.actor_type);
    if !c.invoked_by.is_empty() && c.invoked_by != c.actor {
        actor.push_str(&format!("\nvia {}", c.invoked_by));
    }
    owned(actor)
}

static CHANGES: Def<Ref<ChangeRow>> = Def {
    csv_file: Some("changes.csv"),
    pdf_size: 6.5,
    ..def(
        "changes",
        &[
            col(C.csv("event_time"), |c| Cell::stamp(Some(c.event_time))),
            col(C.human("Time (UTC)", 1.3).line(), |c| {
                Cell::time(Some(c.event_time))
            }),
            col(C.csv("account_id").html("Account"), |c| t(&c.account_id)),
            col(C.csv("region").html("Region"), |c| t(&c.region)),
            col(C.pdf("Account / region", 1.6), |c| {
                owned(format!("{}\n{}", c.account_id, c.region))
            }),
            col(C.csv("event_source"), |c| t(&c.event_source)),
            col(C.csv("event_name"), |c| t(&c.event_name)),
            col(C.html("Event"), |c| {
                Cell::lines([
                    (Cow::Borrowed(c.event_name.as_str()), false),
                    (Cow::Borrowed(c.event_source.as_str()), true),
                ])
            }),
            col(C.pdf("Event", 1.9), |c| {
                owned(format!(
                    "{}\n{}",
                    c.event_name,
                    c.event_source.trim_end_matches(".amazonaws.com")
                ))
            }),
            col(C.csv("classification"), |c| t(c.classification.as_str())),
            col(C.csv("classification_reason"), |c| {
                t(&c.classification_reason)
            }),
            col(C.human("Class", 2.0).line(), |c| change_class(*c)),
            col(C.csv("outcome"), |c| {
                t(if c.took_effect() { "applied" } else { "failed" })
            }),
            col(C.human("Outcome", 1.3).line(), |c| {
                if c.took_effect() {
                    t("applied")
                } else {
                    // The error code is in the Class cell ("the call failed (CODE)"): a long
                    // code here only squeezed the register's narrowest column.
                    t("failed").tone(Tone::Muted, true)
                }
            }),
            col(C.csv("error_code"), |c| t(&c.error_code)),
            col(C.csv("error_message"), |c| t(&c.error_message)),
            col(C.csv("actor"), |c| t(&c.actor)),
            col(C.csv("actor_type"), |c| t(&c.actor_type)),
            col(C.csv("invoked_by"), |c| t(&c.invoked_by)),
            col(C.csv("session_issuer"), |c| t(&c.session_issuer)),
            col(C.html("Actor").small().line(), |c| html_actor(*c)),
            col(C.pdf("Actor", 2.8), |c| pdf_actor(*c)),
            col(C.csv("source_ip").html("Source IP").line(), |c| {
                t(&c.source_ip)
            }),
            col(C.pdf("Source IP / user agent", 2.1), |c| {
                owned(format!(
                    "{}\n{}",
                    c.source_ip,
                    short_user_agent(&c.user_agent)
                ))
            }),
            col(C.csv("user_agent"), |c| t(&c.user_agent)),
            col(C.csv("resource").human("Resource", 2.2).small(), |c| {
                t(&c.resource)
            }),
            col(
                C.csv("request_summary").human("Request", 2.7).small(),
                |c| t(&c.request_summary),
            ),
            col(C.html("User agent").small(), |c| t(&c.user_agent)),
            col(C.csv("event_id"), |c| t(&c.event_id)),
            col(C.csv("change_record_id"), |c| {
                t(c.change_record
                    .as_ref()
                    .map_or("", |r| r.record_id.as_str()))
            }),
            col(C.csv("change_record_approved_before"), |c| {
                match &c.change_record {
                    Some(r) => t(super::format::yes_no(r.approved_before)),
                    None => t(""),
                }
            }),
            col(C.human("Change record", 1.6), change_record_cell),
        ],
    )
};

/// The record beside a change: its id, flagged when it was approved after the change.
fn change_record_cell<'a>(c: R<'a, Ref<ChangeRow>>) -> Cell<'a> {
    let c: &'a ChangeRow = *c;
    match &c.change_record {
        Some(r) if r.approved_before => t(&r.record_id).tone(Tone::Good, false),
        Some(r) => Cell::lines([
            (Cow::Borrowed(r.record_id.as_str()), false),
            (Cow::Borrowed("approved after the change"), true),
        ])
        .tone(Tone::Bad, false),
        None => t(""),
    }
}

fn record_state(r: &RecordOutcome) -> Cell<'_> {
    let tone = match r.outcome {
        RecordState::Matched => Tone::Good,
        RecordState::ApprovedAfterChange => Tone::Bad,
        RecordState::NotSeen => Tone::Warn,
    };
    t(r.outcome.as_str())
        .tone(tone, true)
        .class(format!("record-{}", r.outcome.as_str()))
}

static CHANGE_RECORDS: Def<Ref<RecordOutcome>> = Def {
    title: "Change records reconciled with the register",
    csv_file: Some("change-record-reconciliation.csv"),
    empty_text: Some(
        "No change records were reconciled (give them with report --change-records FILE).",
    ),
    ..def(
        "change-records",
        &[
            col(C.csv("record_id").human("Record", 1.4), |r| t(&r.record_id)),
            col(C.csv("title").human("Title", 2.6), |r| t(&r.title)),
            col(C.csv("approved_by").human("Approved by", 1.6), |r| {
                t(&r.approved_by)
            }),
            col(C.csv("approved_at"), |r| Cell::stamp(r.approved_at)),
            col(C.csv("approved_on"), |r| {
                owned(r.approved_on.clone().unwrap_or_default())
            }),
            col(C.human("Approved", 2.1), |r| {
                match (r.approved_at, &r.approved_on) {
                    (Some(at), _) => Cell::time(Some(at)),
                    (None, Some(day)) => owned(format!("{day} (date only)")),
                    (None, None) => owned(String::new()),
                }
            }),
            col(C.human("Match", 3.2).small(), |r| t(&r.scope)),
            col(C.csv("event_id"), |r| t(&r.event_id)),
            col(C.csv("account_id"), |r| t(&r.account_id)),
            col(C.csv("resource"), |r| t(&r.resource)),
            col(C.csv("from"), |r| Cell::stamp(r.from)),
            col(C.csv("to"), |r| Cell::stamp(r.to)),
            col(C.csv("outcome").human("Outcome", 2.6), |r| record_state(*r)),
            col(C.csv("matched_event_ids"), |r| {
                owned(r.matched_event_ids.join(" "))
            }),
            col(C.csv("note").human("Note", 3.0).small(), |r| t(&r.note)),
        ],
    )
};

/// The controls of the catalog a report with a control selection did not evaluate: one row
/// each, so a CSV reader cannot take their absence from findings.csv for a clean result.
static NOT_EVALUATED: Def<Ref<NotEvaluated>> = Def {
    title: "Controls NOT evaluated (the requester's choice)",
    csv_file: Some("controls-not-evaluated.csv"),
    ..def(
        "controls-not-evaluated",
        &[
            col(C.csv("control_id").human("Control", 1.6), |r| {
                t(r.control_id)
            }),
            col(C.csv("title").human("Title", 3.0), |r| t(r.title)),
            col(C.csv("evaluated"), |_| t("no")),
            col(C.csv("reason"), |r| t(r.reason.as_str())),
            col(C.csv("note").human("Why", 3.0), |r| t(r.reason_text)),
        ],
    )
};

static CHANGE_GROUPS: Def<Ref<ChangeGroup>> = Def {
    title: "Other changes, summarised (full list in changes.csv)",
    html_compact: true,
    ..def(
        "change-groups",
        &[
            col(C.human("Event source", 2.0), |g| t(&g.event_source)),
            col(C.human("Event", 2.0), |g| t(&g.event_name)),
            col(C.human("Class", 1.4), |g| {
                t(g.classification.as_str()).class(format!("class-{}", g.classification.as_str()))
            }),
            col(C.human("Count", 0.8), |g| n(g.count as u64)),
            col(C.human("First", 1.6), |g| Cell::time(Some(g.first))),
            col(C.human("Last", 1.6), |g| Cell::time(Some(g.last))),
        ],
    )
};

static LOOKUP_QUERIES: Def<Ref<LookupQueryRow>> = Def {
    title: "What was searched (LookupEvents queries)",
    html_compact: true,
    ..def(
        "lookup-queries",
        &[
            col(C.html("Account"), |q| t(&q.account_id)),
            col(C.html("Region"), |q| t(&q.region)),
            col(C.html("Lookup attribute"), |q| t(&q.attribute)),
            col(C.html("Calls"), |q| n(q.calls)),
            col(C.html("Events returned"), |q| n(q.events_returned)),
            col(C.html("Events kept"), |q| n(q.events_kept)),
        ],
    )
};

/// The LookupEvents queries per account, region and kind of query, the per-event-name
/// queries summed (the PDF's short form of the lookup plan).
pub struct LookupSummaryRow {
    account_id: String,
    region: String,
    kind: String,
    queries: u64,
    calls: u64,
    events_returned: u64,
    events_kept: u64,
}

fn lookup_summary(queries: &[LookupQueryRow]) -> Vec<LookupSummaryRow> {
    let mut groups: std::collections::BTreeMap<(&str, &str, String), LookupSummaryRow> =
        Default::default();
    for q in queries {
        let kind = match q.attribute.split_once('=') {
            Some(("EventName", _)) => "EventName = one query per write operation name".to_string(),
            _ => q.attribute.clone(),
        };
        let entry = groups
            .entry((&q.account_id, &q.region, kind.clone()))
            .or_insert_with(|| LookupSummaryRow {
                account_id: q.account_id.clone(),
                region: q.region.clone(),
                kind,
                queries: 0,
                calls: 0,
                events_returned: 0,
                events_kept: 0,
            });
        entry.queries += 1;
        entry.calls += q.calls;
        entry.events_returned += q.events_returned;
        entry.events_kept += q.events_kept;
    }
    groups.into_values().collect()
}

static LOOKUP_SUMMARY: Def<Ref<LookupSummaryRow>> = Def {
    title: "What was searched (LookupEvents queries)",
    ..def(
        "lookup-summary",
        &[
            col(C.pdf("Account", 1.3), |q| t(&q.account_id)),
            col(C.pdf("Region", 1.2), |q| t(&q.region)),
            col(C.pdf("Lookup attribute", 3.0), |q| t(&q.kind)),
            col(C.pdf("Queries", 0.8), |q| n(q.queries)),
            col(C.pdf("Calls", 0.8), |q| n(q.calls)),
            col(C.pdf("Events returned", 1.0), |q| n(q.events_returned)),
            col(C.pdf("Write events kept", 1.0), |q| n(q.events_kept)),
        ],
    )
};

/// One resource in scope, by its full ARN (the "Resources in scope" inventory).
pub struct InventoryRow {
    resource_type: &'static str,
    account_id: String,
    region: String,
    name: String,
    arn: String,
}

fn inventory(model: &ReportModel) -> Vec<InventoryRow> {
    let stages = model.stages.iter().map(|s| InventoryRow {
        resource_type: "API Gateway stage",
        account_id: s.account_id.clone(),
        region: s.region.clone(),
        name: format!("{} / {}", s.api_name, s.stage),
        arn: crate::report::document::stage_arn(&s.region, &s.api_id, &s.stage),
    });
    let keys = model.keys.iter().map(|k| InventoryRow {
        resource_type: "KMS key",
        account_id: k.account_id.clone(),
        region: k.region.clone(),
        name: k
            .aliases
            .first()
            .cloned()
            .unwrap_or_else(|| k.key_id.clone()),
        arn: k.key_arn.clone(),
    });
    let trails = model.trails.iter().map(|t| InventoryRow {
        resource_type: "CloudTrail trail",
        account_id: t.account_id.clone(),
        region: t.home_region.clone(),
        name: t.trail_name.clone(),
        arn: t.trail_arn.clone(),
    });
    let replication_groups = model.replication_groups.iter().map(|g| InventoryRow {
        resource_type: "ElastiCache replication group",
        account_id: g.account_id.clone(),
        region: g.region.clone(),
        name: g.replication_group_id.clone(),
        arn: g.arn.clone(),
    });
    let buckets = model.buckets.iter().map(|b| InventoryRow {
        resource_type: "S3 bucket (audit trail)",
        account_id: b.account_id.clone(),
        region: b.region.clone(),
        name: b.bucket.clone(),
        arn: crate::controls::s3::bucket_arn(&b.bucket),
    });
    stages
        .chain(keys)
        .chain(trails)
        .chain(replication_groups)
        .chain(buckets)
        .collect()
}

static INVENTORY: Def<Ref<InventoryRow>> = Def {
    title: "Resources in scope",
    empty_text: Some(
        "No API Gateway stage, KMS key, CloudTrail trail, trail bucket or ElastiCache replication group was found in scope.",
    ),
    ..def(
        "inventory",
        &[
            col(C.human("Type", 1.4), |r| t(r.resource_type)),
            col(C.human("Account", 1.3), |r| t(&r.account_id)),
            col(C.human("Region", 1.2), |r| t(&r.region)),
            col(C.human("Name", 2.0), |r| t(&r.name)),
            col(C.human("ARN", 5.5), |r| t(&r.arn)),
        ],
    )
};

static EVIDENCE_GAPS: Def<Ref<EvidenceGap>> = Def {
    html_compact: true,
    ..def(
        "evidence-gaps",
        &[
            col(C.human("Account", 1.6), |g| t(&g.account_id)),
            col(C.human("Region", 1.5), |g| {
                t(g.region.as_deref().unwrap_or("all"))
            }),
            col(C.human("Service", 1.1), |g| t(&g.service)),
            col(C.human("API", 1.6), |g| t(&g.api)),
            col(C.human("Resource", 2.0), |g| {
                t(g.resource.as_deref().unwrap_or(""))
            }),
            col(C.human("Error", 1.9), |g| {
                t(&g.error_code).tone(Tone::Warn, true)
            }),
            col(C.human("Message", 5.0), |g| t(&g.message)),
        ],
    )
};

/// A row of gaps.csv: a logging gap or an evidence gap.
#[derive(Clone, Copy)]
pub enum GapRef<'a> {
    Logging(&'a LoggingGap),
    Evidence(&'a EvidenceGap),
}

pub struct Gaps;

impl RowKind for Gaps {
    type Row<'a> = GapRef<'a>;
}

static GAPS: Def<Gaps> = Def {
    csv_file: Some("gaps.csv"),
    ..def(
        "gaps",
        &[
            col(C.csv("gap_type"), |g| match *g {
                GapRef::Logging(_) => t("logging"),
                GapRef::Evidence(_) => t("evidence"),
            }),
            col(C.csv("account_id"), |g| match *g {
                GapRef::Logging(l) => t(&l.account_id),
                GapRef::Evidence(e) => t(&e.account_id),
            }),
            col(C.csv("region"), |g| match *g {
                GapRef::Logging(l) => t(&l.region),
                GapRef::Evidence(e) => t(e.region.as_deref().unwrap_or("all")),
            }),
            col(C.csv("subject"), |g| match *g {
                GapRef::Logging(l) => owned(format!("trail {}", l.trail_name)),
                GapRef::Evidence(e) => {
                    let mut subject = format!("{}:{}", e.service, e.api);
                    if let Some(resource) = &e.resource {
                        subject.push_str(&format!(" {resource}"));
                    }
                    owned(subject)
                }
            }),
            col(C.csv("started_at"), |g| match *g {
                GapRef::Logging(l) => Cell::stamp(Some(l.started_at)),
                GapRef::Evidence(_) => Cell::stamp(None),
            }),
            col(C.csv("ended_at"), |g| match *g {
                GapRef::Logging(l) => Cell::stamp(l.ended_at),
                GapRef::Evidence(_) => Cell::stamp(None),
            }),
            col(C.csv("duration_minutes"), |g| match *g {
                GapRef::Logging(l) => Cell::number(u64::try_from(l.minutes).ok()),
                GapRef::Evidence(_) => Cell::number(None),
            }),
            col(C.csv("started_by"), |g| match *g {
                GapRef::Logging(l) => t(&l.started_by),
                GapRef::Evidence(_) => t(""),
            }),
            col(C.csv("ended_by"), |g| match *g {
                GapRef::Logging(l) => t(&l.ended_by),
                GapRef::Evidence(_) => t(""),
            }),
            col(C.csv("error_code"), |g| match *g {
                GapRef::Logging(_) => t(""),
                GapRef::Evidence(e) => t(&e.error_code),
            }),
            col(C.csv("message"), |g| match *g {
                GapRef::Logging(l) => t(&l.cause),
                GapRef::Evidence(e) => t(&e.message),
            }),
        ],
    )
};

static SIGNOFFS: Def<Ref<Signoff>> = Def {
    csv_file: Some("signoffs.csv"),
    pdf_size: 9.0,
    html_compact: true,
    ..def(
        "signoffs",
        &[
            col(C.csv("sequence").human("#", 0.4), |s| n(s.sequence)),
            col(C.csv("printed_name").human("Printed name", 2.2), |s| {
                t(&s.printed_name)
            }),
            col(C.csv("user_id").human("User id", 1.4), |s| t(&s.user_id)),
            col(C.csv("role").human("Role", 1.6), |s| t(&s.role)),
            col(C.csv("meaning").human("Meaning", 1.2), |s| {
                t(&s.meaning).tone(Tone::Plain, true)
            }),
            col(C.csv("signed_at"), |s| Cell::stamp(Some(s.signed_at))),
            col(C.human("Signed (UTC)", 1.6), |s| {
                Cell::time(Some(s.signed_at))
            }),
            col(C.csv("key_fingerprint"), |s| t(&s.key_fingerprint)),
            col(C.csv("key_kind"), |s| t(&s.key_kind)),
            col(C.human("Key", 4.0).small(), |s| {
                owned(format!("{} {}", s.key_kind, s.key_fingerprint))
            }),
            col(C.csv("evidence_sha256"), |s| t(&s.evidence_sha256)),
            col(C.csv("results_sha256"), |s| t(&s.results_sha256)),
            col(C.csv("previous_signoff_sha256"), |s| {
                t(&s.previous_signoff_sha256)
            }),
            col(C.csv("signoff_sha256"), |s| t(&s.signoff_sha256)),
        ],
    )
};

// The per-account summary of a scope of several accounts (see `report::accounts`).

fn verdict_cell<'a>(verdict: Verdict) -> Cell<'a> {
    // Coloured as the status that decides it, with the status styles of the stylesheet.
    let (tone, status) = match verdict {
        Verdict::Compliant => (Tone::Good, Status::Pass),
        Verdict::NonCompliant => (Tone::Bad, Status::Fail),
        Verdict::Incomplete => (Tone::Warn, Status::EvidenceGap),
    };
    t(verdict.as_str())
        .tone(tone, true)
        .class(format!("status status-{}", status.as_str()))
}

/// A status count, in the status's colour when there is any (a FAIL or a gap stands out in a
/// column of 200 zeros).
fn count_cell<'a>(count: usize, status: Status) -> Cell<'a> {
    let cell = n(count as u64);
    match status {
        _ if count == 0 => cell,
        Status::Fail => cell
            .tone(Tone::Bad, true)
            .class("status status-FAIL".to_string()),
        Status::EvidenceGap => cell
            .tone(Tone::Warn, true)
            .class("status status-EVIDENCE_GAP".to_string()),
        _ => cell,
    }
}

const fn account_count(status: Status) -> Column {
    match status {
        Status::Pass => C.csv("pass").human("PASS", 0.8),
        Status::Controlled => C.csv("controlled").human("CTRL", 0.9),
        Status::Fail => C.csv("fail").human("FAIL", 0.8),
        Status::NotApplicable => C.csv("not_applicable").human("N/A", 0.7),
        Status::NoResources => C.csv("no_resources").human("NO RES.", 0.8),
        Status::EvidenceGap => C.csv("evidence_gap").human("GAP", 0.8),
    }
}

static ACCOUNTS: Def<Ref<AccountSummary>> = Def {
    title: "Per account",
    csv_file: Some("accounts.csv"),
    pdf_size: TABLE_SIZE,
    ..def(
        "accounts",
        &[
            col(ACCOUNT.line(), |a| t(&a.account_id)),
            col(C.csv("regions_in_scope"), |a| n(a.regions_in_scope as u64)),
            col(C.csv("regions_collected"), |a| {
                owned(a.regions_collected.join(";"))
            }),
            col(C.human("Regions collected", 2.2), |a| {
                let cell = owned(a.regions_text());
                if a.nothing_collected() {
                    cell.tone(Tone::Warn, true)
                } else {
                    cell
                }
            }),
            col(account_count(Status::Pass).line(), |a| {
                count_cell(a.counts.pass, Status::Pass)
            }),
            col(account_count(Status::Controlled), |a| {
                count_cell(a.counts.controlled, Status::Controlled)
            }),
            col(account_count(Status::Fail), |a| {
                count_cell(a.counts.fail, Status::Fail)
            }),
            col(account_count(Status::NotApplicable), |a| {
                count_cell(a.counts.not_applicable, Status::NotApplicable)
            }),
            col(account_count(Status::NoResources), |a| {
                count_cell(a.counts.no_resources, Status::NoResources)
            }),
            col(account_count(Status::EvidenceGap), |a| {
                count_cell(a.counts.evidence_gap, Status::EvidenceGap)
            }),
            col(C.csv("failed_calls"), |a| {
                owned(a.failed_call_lines().join(";"))
            }),
            col(C.human("Failed calls", 2.4).small().line(), |a| {
                owned(a.failed_call_lines().join("\n"))
            }),
            col(C.csv("failing_controls"), |a| {
                owned(a.failing_controls.join(";"))
            }),
            col(C.csv("evidence_gap_controls"), |a| {
                owned(a.gap_controls.join(";"))
            }),
            col(
                C.human("Controls with FAIL / EVIDENCE_GAP", 3.2).small(),
                |a| {
                    Cell::lines(
                        [
                            ("FAIL", &a.failing_controls),
                            ("EVIDENCE_GAP", &a.gap_controls),
                        ]
                        .into_iter()
                        .filter(|(_, controls)| !controls.is_empty())
                        .map(|(status, controls)| {
                            (
                                Cow::Owned(format!("{status}: {}", controls.join(", "))),
                                false,
                            )
                        }),
                    )
                },
            ),
            col(C.csv("verdict").human("Verdict", 1.7).line(), |a| {
                verdict_cell(a.verdict)
            }),
        ],
    )
};

impl ReportModel {
    /// Every detail table of the report, in the order the CSV files are written and the PDF
    /// and HTML sections show them. `Audience::Machine`: the CSV files' tables with every
    /// row; `Audience::Human`: what PDF and HTML show (per-control results and detail
    /// tables, the bounded change register, the lookup plan, evidence gaps, sign-offs).
    pub fn tables(&self, audience: Audience) -> Vec<Table<'_>> {
        match audience {
            Audience::Machine => {
                let stages: std::collections::HashMap<_, _> =
                    self.stages.iter().map(|s| (s.sort_key(), s)).collect();
                let mut findings = FINDINGS.table(&self.findings);
                if !self.findings.with_ids() {
                    findings.hide_column(FINDING_ID_COLUMN);
                }
                let mut tables = vec![findings];
                // Only a report over several accounts has accounts.csv: a single-account
                // package holds the files it always did.
                if !self.account_summaries.is_empty() {
                    tables.push(ACCOUNTS.table(&self.account_summaries));
                }
                tables.extend([
                    METHODS.table(self.methods.iter().map(|m| {
                        MethodJoin {
                            method: m,
                            stage: stages
                                .get(&(&*m.account_id, &*m.region, &*m.api_id, &*m.stage))
                                .copied(),
                        }
                    })),
                    KEYS.table(&self.keys),
                    TRAILS.table(&self.trails),
                    REPLICATION_GROUPS.table(&self.replication_groups),
                    BUCKETS.table(&self.buckets),
                    CHANGES.table(&self.changes),
                ]);
                // Only a report given change records has their reconciliation file: a
                // package without records holds the files it always did.
                if self.change_records_file.is_some() {
                    tables.push(CHANGE_RECORDS.table(&self.change_records));
                }
                // Only a report with a control selection has it: a full report holds the
                // files it always did.
                if let Some(selection) = &self.document.control_selection {
                    tables.push(NOT_EVALUATED.table(&selection.not_evaluated));
                }
                tables.extend([
                    GAPS.table(
                        self.logging_gaps
                            .iter()
                            .map(GapRef::Logging)
                            .chain(self.evidence_gaps.iter().map(GapRef::Evidence)),
                    ),
                    SIGNOFFS.table(&self.signoffs),
                ]);
                tables
            }
            Audience::Human { max_changes } => {
                let mut tables = Vec::new();
                if !self.account_summaries.is_empty() {
                    tables.push(ACCOUNTS.table(&self.account_summaries));
                }
                for control in &self.controls {
                    tables.push(self.results_table(control.id, control.two_views));
                }
                tables.extend([
                    METHODS.table(self.methods.iter().map(|m| MethodJoin {
                        method: m,
                        stage: None,
                    })),
                    STAGES.table(&self.stages),
                    KEYS.table(&self.keys),
                    TRAILS.table(&self.trails),
                    BUCKETS.table(&self.buckets),
                    LOGGING_GAPS.table(&self.logging_gaps),
                    REPLICATION_GROUPS.table(&self.replication_groups),
                ]);
                let register = self.register_view(max_changes);
                tables.push(CHANGES.table(register.listed));
                if register.summarised {
                    tables.push(CHANGE_GROUPS.owned_table(register.groups));
                }
                tables.push(CHANGE_RECORDS.table(&self.change_records));
                tables.extend([
                    INVENTORY.owned_table(inventory(self)),
                    LOOKUP_QUERIES.table(&self.lookup_queries),
                    LOOKUP_SUMMARY.owned_table(lookup_summary(&self.lookup_queries)),
                    EVIDENCE_GAPS.table(&self.evidence_gaps),
                    SIGNOFFS.table(&self.signoffs),
                ]);
                tables
            }
        }
    }

    /// A control's results: one row per finding, or both readings side by side.
    fn results_table(&self, control_id: &'static str, two_views: bool) -> Table<'_> {
        let mut table = if two_views {
            VIEW_PAIRS.owned_table(
                self.view_pairs(control_id)
                    .into_iter()
                    .map(PairRow::from)
                    .collect(),
            )
        } else {
            FINDINGS.table(self.findings_of(control_id))
        };
        table.id = "results";
        table.control = Some(control_id);
        table.csv_file = None;
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo_model as demo;

    /// Every column is shown somewhere, CSV names are unique per file, PDF widths positive,
    /// and every row has one cell per shown column.
    #[test]
    fn every_table_is_well_formed_in_every_format() {
        let model = demo();
        let machine = model.tables(Audience::Machine);
        let human = model.tables(Audience::Human { max_changes: 2 });
        for table in machine.iter().chain(&human) {
            for column in &table.columns {
                assert!(
                    column.csv.is_some() || column.html.is_some() || column.pdf.is_some(),
                    "{}: a column no format shows",
                    table.id
                );
                if let Some((header, width)) = column.pdf {
                    assert!(width > 0.0, "{}: {header}", table.id);
                }
            }
            let names: Vec<_> = table.columns(Format::Csv).filter_map(|c| c.csv).collect();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{}: CSV names repeat", table.id);
            for format in [Format::Csv, Format::Html, Format::Pdf] {
                let shown = table.columns(format).count();
                assert!(table.rows(format).all(|row| row.len() == shown));
            }
        }
        assert!(machine.iter().all(|t| t.csv_file.is_some()));
        assert!(human.iter().any(|t| t.id == "change-groups"));
    }
}
