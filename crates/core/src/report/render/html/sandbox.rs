//! The sandbox custom HTML templates render in. A template is untrusted input: it travels
//! inside the package (`templates/`), and `verify` and `sign` render it again years later on
//! an auditor's machine. So a template
//! - cannot read anything but the report: the environment, files, the clock and chance are
//!   out of reach (tera's `get_env`, `now`, `get_random` and every other function but
//!   `range` and `throw` are removed), so no machine can change a verify result;
//! - cannot put raw markup into the report: report data is always escaped (no `safe`, no
//!   `{% filter %}` sections, no macros, no lists printed raw), the tables the tool drew come
//!   in through the `table` filter only, and the template's own markup is checked against an
//!   allow-list (no scripts, no event handlers, no external resources; see `markup`);
//! - cannot run for ever or grow without bound: every loop iteration and filter call is
//!   counted (`MAX_STEPS`), `range()` is capped (`MAX_RANGE`), a filter's result is capped
//!   (`MAX_VALUE_BYTES`) before the filter runs, from an upper bound of its size (checking
//!   after it returned let `replace(from="", to=x)` chains allocate gigabytes first), all
//!   filter results together are capped (`MAX_FILTERED_BYTES`), the output is capped
//!   (`OUTPUT_ALLOWANCE` beyond the drawn tables),
//!   and a wall-clock limit (`TIME_LIMIT`) backs them up. Each check runs inside tera's own
//!   calls (a counting function injected into every loop body, wrapped filters, a capped
//!   writer), so tera itself stops: no thread is left burning CPU.

mod markup;

use std::collections::HashMap;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tera::ast::{Expr, ExprVal, FunctionCall, LogicOperator, Node, WS};
use tera::{Filter, Function, Tera, Test, Value};

/// Loop iterations plus filter and test calls one rendering may take. Tables are drawn by
/// the tool, not looped over by the template, so the embedded template takes a few hundred
/// steps for any report; a million is thousands of times that and still stops a loop nest
/// over `range()` in well under a second.
pub const MAX_STEPS: u64 = 1_000_000;
/// The longest list `range()` may build. Building the list is one allocation that no step
/// count sees, so it is capped before it is made.
pub const MAX_RANGE: usize = 100_000;
/// The largest value (string bytes, list items) one filter or `~` may return: far above any
/// piece of a report (the tables, the only large parts, do not pass through filters; the
/// embedded template's filters return a few hundred bytes), and it stops chains like
/// `replace(from="", to=x)` that grow a value exponentially. It is 1 MiB, not more, because
/// tera copies a value for every mention in a list (`[a, a, a, …]`): a tag of 400 characters
/// can hold some 200 copies, 200 MiB at this size.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// All filter and `~` results of one rendering together: 256 values of the largest size,
/// and still far above the few kilobytes the embedded template's filters return. Without it a
/// loop could have a filter build a value of the largest size a million times.
pub const MAX_FILTERED_BYTES: u64 = 256 << 20;
/// How much a template may write beyond the tables the tool drew: the embedded template
/// writes about 10 KB around them, so 64 MiB is far above any real report.
pub const OUTPUT_ALLOWANCE: usize = 64 << 20;
/// A backstop for work between the counted steps. The steps above make every result
/// deterministic for any real template (which renders in milliseconds); this limit only
/// matters for a template built to be slow, which fails on every machine.
pub const TIME_LIMIT: Duration = Duration::from_secs(5);
/// The largest template file, and how deeply its blocks and brackets may nest: tera's parser
/// and renderer recurse, and a deeper template would overflow the stack (an abort, not an
/// error).
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;
pub const MAX_NESTING: usize = 64;
/// The longest tag (`{{ … }}`, `{% … %}`): tera parses and evaluates a chain of operators
/// (`1+1+1…`) recursively, and a long enough chain overflows the stack. The embedded
/// template's longest tag has under 60 characters.
pub const MAX_TAG_CHARS: usize = 400;

/// The only functions a template may call: `range` (capped) and `throw` (fails the render).
const FUNCTIONS: &[&str] = &["range", "throw"];
/// Injected at the start of every loop body to count its iterations.
const STEP_FUNCTION: &str = "__gxp_step";
/// Replaces tera's own `~` (string concatenation), which no filter cap sees: a loop over
/// `[a ~ a ~ …]` nested in another multiplied a value by the operand count per level.
const CONCAT_FUNCTION: &str = "__gxp_concat";
/// Appended to every `{{ }}` expression: refuses lists and objects (tera prints their strings
/// unescaped) and leaves strings to tera's autoescaping.
const PRINT_FILTER: &str = "__gxp_print";
/// The filter that prints a table the tool drew; its output is the tool's own markup.
pub const TABLE_FILTER: &str = "table";

/// What one rendering may still spend; shared by the counting function, the wrapped
/// filters and the output writer.
pub struct Budget {
    started: Instant,
    steps: AtomicU64,
    /// Bytes of all filter results so far (`value_size`).
    filtered: AtomicU64,
}

impl Budget {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            steps: AtomicU64::new(0),
            filtered: AtomicU64::new(0),
        })
    }

    fn step(&self) -> tera::Result<()> {
        let steps = self.steps.fetch_add(1, Ordering::Relaxed) + 1;
        if steps > MAX_STEPS {
            return Err(tera::Error::msg(format!(
                "stopped after {MAX_STEPS} loop iterations and filter calls, the limit for a template (is a loop endless?)"
            )));
        }
        self.check_time()
    }

    /// Refuses a filter call whose result could pass `MAX_VALUE_BYTES`, or take all filter
    /// results past `MAX_FILTERED_BYTES`, before it runs.
    fn admit_filter(&self, what: &str, bound: u64) -> tera::Result<()> {
        if bound > MAX_VALUE_BYTES as u64 {
            return Err(tera::Error::msg(format!(
                "{what} could return up to {bound} bytes here, more than the {MAX_VALUE_BYTES} bytes, the limit for one value"
            )));
        }
        if self.filtered.load(Ordering::Relaxed).saturating_add(bound) > MAX_FILTERED_BYTES {
            return Err(tera::Error::msg(format!(
                "filters returned more than {MAX_FILTERED_BYTES} bytes in all, the limit for a template"
            )));
        }
        Ok(())
    }

    fn spend_filtered(&self, bytes: usize) {
        self.filtered.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn check_time(&self) -> tera::Result<()> {
        if self.started.elapsed() > TIME_LIMIT {
            return Err(tera::Error::msg(format!(
                "stopped after {} s, the time limit for a template",
                TIME_LIMIT.as_secs()
            )));
        }
        Ok(())
    }
}

/// Why a template was refused before rendering, and where.
#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    /// Text of the template to point at (its first occurrence gives the line).
    pub near: Option<String>,
}

impl Refusal {
    pub fn new(message: impl Into<String>, near: impl Into<Option<String>>) -> Self {
        Self {
            message: message.into(),
            near: near.into(),
        }
    }

    /// `line L, column C: message` when the offending text can be found in `source`.
    pub fn describe(&self, source: &str) -> String {
        let position = self
            .near
            .as_deref()
            .filter(|near| !near.is_empty())
            .and_then(|near| source.find(near))
            .map(|offset| {
                let before = &source[..offset];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: ")
            });
        format!("{}{}", position.unwrap_or_default(), self.message)
    }
}

/// Checks a template's source before tera parses it: its size and how deeply it nests.
pub fn check_source(source: &str) -> Result<(), Refusal> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(Refusal::new(
            format!(
                "is {} bytes, more than the {MAX_TEMPLATE_BYTES} a template may have",
                source.len()
            ),
            None,
        ));
    }
    // ESC starts the escape sequences of ISO-2022-JP, in which a quote can vanish into a
    // two-byte character; no report needs control characters in its template.
    if let Some(control) = source
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(Refusal::new(
            format!(
                "has the control character U+{:04X}: a template may hold no control characters but tab and line breaks",
                control as u32
            ),
            Some(control.to_string()),
        ));
    }
    for opening in ["{{", "{%"] {
        let closing = if opening == "{{" { "}}" } else { "%}" };
        for (at, _) in source.match_indices(opening) {
            let tag = &source[at..];
            let length = tag.find(closing).unwrap_or(tag.len());
            if length > MAX_TAG_CHARS {
                return Err(Refusal::new(
                    format!("has a tag longer than {MAX_TAG_CHARS} characters"),
                    Some(tag.chars().take(20).collect()),
                ));
            }
        }
    }
    let mut depth = 0usize;
    let mut rest = source;
    while let Some(at) = rest.find(['(', '[', ')', ']', '{']) {
        let tail = &rest[at..];
        let tag = tail
            .strip_prefix("{%")
            .map(|t| t.trim_start_matches(['-', ' ', '\t', '\r', '\n']));
        match tail.as_bytes()[0] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => match tag {
                Some(t) if t.starts_with("end") => depth = depth.saturating_sub(1),
                Some(t)
                    if ["if", "for", "macro", "block", "filter", "raw"]
                        .iter()
                        .any(|k| t.starts_with(k)) =>
                {
                    depth += 1
                }
                _ => {}
            },
        }
        if depth > MAX_NESTING {
            return Err(Refusal::new(
                format!("nests blocks or brackets more than {MAX_NESTING} deep"),
                Some(tail.chars().take(20).collect()),
            ));
        }
        rest = &tail[1..];
    }
    Ok(())
}

/// The stylesheet is plain CSS: no template syntax, and nothing the CSS check refuses.
pub fn check_stylesheet(tera: &Tera, name: &str) -> Result<(), Refusal> {
    let Some(template) = tera.templates.get(name) else {
        return Ok(());
    };
    for node in &template.ast {
        match node {
            Node::Text(text) => markup::check_css(text)?,
            _ => {
                return Err(Refusal::new(
                    "is plain CSS: template tags ({{ }}, {% %}) are not allowed in it",
                    Some("{".to_string()),
                ));
            }
        }
    }
    Ok(())
}

/// Checks the HTML template against the rules above, then prepares it for a bounded
/// rendering: a counting call at the start of every loop body, the print check on every
/// expression. `stylesheet` is the one template it may include (inside `<style>`).
pub fn confine_template(tera: &mut Tera, name: &str, stylesheet: &str) -> Result<(), Refusal> {
    let filters: Vec<String> = tera.filters.keys().cloned().collect();
    let Some(template) = tera.templates.get_mut(name) else {
        return Ok(());
    };
    let rules = Rules {
        filters: &filters,
        stylesheet,
    };
    let mut scanner = markup::Scanner::default();
    rules.check_nodes(&template.ast, &mut scanner)?;
    scanner.finish()?;
    prepare(&mut template.ast);
    Ok(())
}

struct Rules<'a> {
    filters: &'a [String],
    stylesheet: &'a str,
}

impl Rules<'_> {
    fn check_nodes(&self, nodes: &[Node], scanner: &mut markup::Scanner) -> Result<(), Refusal> {
        for node in nodes {
            match node {
                Node::Text(text) | Node::Raw(_, text, _) => scanner.literal(text)?,
                Node::Comment(..) | Node::Break(_) | Node::Continue(_) => {}
                Node::VariableBlock(_, expr) => {
                    self.check_expr(expr)?;
                    if prints_table(expr) {
                        scanner.table()?;
                    } else {
                        scanner.data()?;
                    }
                }
                Node::If(branches, _) => {
                    for (_, condition, body) in &branches.conditions {
                        self.check_expr(condition)?;
                        self.check_block(body, scanner)?;
                    }
                    if let Some((_, body)) = &branches.otherwise {
                        self.check_block(body, scanner)?;
                    }
                }
                Node::Forloop(_, forloop, _) => {
                    self.check_expr(&forloop.container)?;
                    self.check_block(&forloop.body, scanner)?;
                    if let Some(body) = &forloop.empty_body {
                        self.check_block(body, scanner)?;
                    }
                }
                Node::Include(_, names, ignore_missing) => {
                    if *ignore_missing || names.len() != 1 || names[0] != self.stylesheet {
                        return Err(Refusal::new(
                            format!("may include only \"{}\", inside <style>", self.stylesheet),
                            Some("include".to_string()),
                        ));
                    }
                    scanner.stylesheet()?;
                }
                Node::Set(_, set) => {
                    return Err(refused_tag(
                        if set.global { "set_global" } else { "set" },
                        "variables are not allowed",
                    ));
                }
                Node::MacroDefinition(..) | Node::ImportMacro(..) => {
                    return Err(refused_tag("macro", "macros are not allowed"));
                }
                Node::Extends(..) | Node::Block(..) | Node::Super => {
                    return Err(refused_tag(
                        "block",
                        "template inheritance (extends, block, super) is not allowed",
                    ));
                }
                Node::FilterSection(..) => {
                    return Err(refused_tag(
                        "filter",
                        "filter sections are not allowed (apply filters inside {{ }})",
                    ));
                }
            }
        }
        Ok(())
    }

    /// A block body (if, for): its markup must start and end outside any tag, so no branch
    /// can leave a tag or an attribute half-written for data to land in.
    fn check_block(&self, body: &[Node], scanner: &mut markup::Scanner) -> Result<(), Refusal> {
        scanner.boundary()?;
        self.check_nodes(body, scanner)?;
        scanner.boundary()
    }

    fn check_expr(&self, expr: &Expr) -> Result<(), Refusal> {
        for filter in &expr.filters {
            if filter.name == "safe" {
                return Err(Refusal::new(
                    "the `safe` filter is not allowed: report data is always escaped (print a drawn table with `| table`)",
                    Some("safe".to_string()),
                ));
            }
            // `default` is no registered filter: tera reads it itself (a fallback value).
            if filter.name != "default" && !self.filters.contains(&filter.name) {
                return Err(Refusal::new(
                    format!("unknown filter `{}`", filter.name),
                    Some(filter.name.clone()),
                ));
            }
            self.check_args(&filter.args)?;
        }
        self.check_val(&expr.val)
    }

    fn check_val(&self, val: &ExprVal) -> Result<(), Refusal> {
        match val {
            ExprVal::String(_) | ExprVal::Int(_) | ExprVal::Float(_) | ExprVal::Bool(_) => Ok(()),
            ExprVal::Ident(ident) if ident.starts_with("__tera_context") => Err(Refusal::new(
                "`__tera_context` is not allowed: it prints every value unescaped",
                Some("__tera_context".to_string()),
            )),
            ExprVal::Ident(_) => Ok(()),
            ExprVal::Math(math) => {
                self.check_expr(&math.lhs)?;
                self.check_expr(&math.rhs)
            }
            ExprVal::Logic(logic) => {
                self.check_expr(&logic.lhs)?;
                self.check_expr(&logic.rhs)
            }
            ExprVal::In(within) => {
                self.check_expr(&within.lhs)?;
                self.check_expr(&within.rhs)
            }
            ExprVal::Test(test) => test.args.iter().try_for_each(|a| self.check_expr(a)),
            ExprVal::Array(items) => items.iter().try_for_each(|a| self.check_expr(a)),
            ExprVal::StringConcat(concat) => {
                concat.values.iter().try_for_each(|v| self.check_val(v))
            }
            ExprVal::MacroCall(call) => Err(Refusal::new(
                "macros are not allowed",
                Some(call.name.clone()),
            )),
            ExprVal::FunctionCall(call) => {
                if !FUNCTIONS.contains(&call.name.as_str()) {
                    return Err(Refusal::new(
                        format!(
                            "function `{}()` is not available: a template sees only the report (no environment, files, clock or random values); it may call only range() and throw()",
                            call.name
                        ),
                        Some(call.name.clone()),
                    ));
                }
                self.check_args(&call.args)
            }
        }
    }

    fn check_args(&self, args: &HashMap<String, Expr>) -> Result<(), Refusal> {
        args.values().try_for_each(|arg| self.check_expr(arg))
    }
}

fn refused_tag(tag: &str, why: &str) -> Refusal {
    Refusal::new(
        format!("`{{% {tag} %}}`: {why} in a template"),
        Some(tag.to_string()),
    )
}

/// Adds the counting call to every loop body and the print check to every expression, and
/// has every `~` concatenation go through the bounded `CONCAT_FUNCTION`.
fn prepare(nodes: &mut [Node]) {
    for node in nodes {
        match node {
            Node::VariableBlock(_, expr) => {
                bound_concats(expr);
                if !prints_table(expr) {
                    expr.filters.push(call(PRINT_FILTER));
                }
            }
            Node::If(branches, _) => {
                for (_, condition, body) in &mut branches.conditions {
                    bound_concats_in_condition(condition);
                    prepare(body);
                }
                if let Some((_, body)) = &mut branches.otherwise {
                    prepare(body);
                }
            }
            Node::Forloop(_, forloop, _) => {
                bound_concats(&mut forloop.container);
                prepare(&mut forloop.body);
                forloop.body.insert(
                    0,
                    Node::VariableBlock(
                        WS::default(),
                        Expr::new(ExprVal::FunctionCall(call(STEP_FUNCTION))),
                    ),
                );
                if let Some(body) = &mut forloop.empty_body {
                    prepare(body);
                }
            }
            _ => {}
        }
    }
}

/// Rewrites every `a ~ b ~ …` in `expr` into `__gxp_concat("0"=a, "1"=b, …)`, which refuses a
/// result above `MAX_VALUE_BYTES` before building it. Float literals become the text tera's
/// `~` gives them, so the result is the same.
fn bound_concats(expr: &mut Expr) {
    for filter in &mut expr.filters {
        filter.args.values_mut().for_each(bound_concats);
    }
    bound_concats_in_val(&mut expr.val);
}

fn bound_concats_in_val(val: &mut ExprVal) {
    match val {
        ExprVal::StringConcat(concat) => {
            let args = concat
                .values
                .drain(..)
                .enumerate()
                .map(|(at, mut operand)| {
                    bound_concats_in_val(&mut operand);
                    let operand = match operand {
                        ExprVal::Float(f) => ExprVal::String(format!("{f}")),
                        other => other,
                    };
                    (at.to_string(), Expr::new(operand))
                })
                .collect();
            *val = ExprVal::FunctionCall(FunctionCall {
                name: CONCAT_FUNCTION.to_string(),
                args,
            });
        }
        ExprVal::Math(math) => {
            bound_concats(&mut math.lhs);
            bound_concats(&mut math.rhs);
        }
        ExprVal::Logic(logic) => {
            bound_concats(&mut logic.lhs);
            bound_concats(&mut logic.rhs);
        }
        ExprVal::In(within) => {
            bound_concats(&mut within.lhs);
            bound_concats(&mut within.rhs);
        }
        ExprVal::Test(test) => test.args.iter_mut().for_each(bound_concats),
        ExprVal::Array(items) => items.iter_mut().for_each(bound_concats),
        ExprVal::FunctionCall(call) => call.args.values_mut().for_each(bound_concats),
        _ => {}
    }
}

/// `bound_concats` for an `if` condition. A `~` that is itself the condition (or a side of its
/// `and` / `or`) stays tera's: tera takes it as true when it is not empty (a function call
/// there must return a bool), and its result goes nowhere, so it cannot grow from level to
/// level; its operands are bounded values.
fn bound_concats_in_condition(condition: &mut Expr) {
    if !condition.filters.is_empty() {
        return bound_concats(condition);
    }
    match &mut condition.val {
        ExprVal::StringConcat(concat) => concat.values.iter_mut().for_each(|operand| {
            if let ExprVal::FunctionCall(call) = operand {
                call.args.values_mut().for_each(bound_concats);
            }
        }),
        ExprVal::Logic(logic)
            if matches!(logic.operator, LogicOperator::And | LogicOperator::Or) =>
        {
            bound_concats_in_condition(&mut logic.lhs);
            bound_concats_in_condition(&mut logic.rhs);
        }
        _ => bound_concats(condition),
    }
}

/// `{{ … | table }}`: prints the tool's own markup, so it is neither print-checked nor escaped.
fn prints_table(expr: &Expr) -> bool {
    expr.filters.last().is_some_and(|f| f.name == TABLE_FILTER)
}

fn call(name: &str) -> FunctionCall {
    FunctionCall {
        name: name.to_string(),
        args: HashMap::new(),
    }
}

/// Replaces tera's functions with the bounded few, and wraps every filter and test so it
/// counts as a step, cannot return a value above `MAX_VALUE_BYTES` and cannot panic the
/// renderer. Call after registering the report's own filters and before `table`.
pub fn confine_calls(tera: &mut Tera) -> Arc<Budget> {
    let budget = Budget::new();
    let functions = std::mem::take(&mut tera.functions);
    if let Some(range) = functions.get("range") {
        tera.functions.insert(
            "range".to_string(),
            Arc::new(BoundedRange {
                inner: range.clone(),
                budget: budget.clone(),
            }),
        );
    }
    if let Some(throw) = functions.get("throw") {
        tera.functions.insert("throw".to_string(), throw.clone());
    }
    let step_budget = budget.clone();
    tera.register_function(STEP_FUNCTION, move |_: &HashMap<String, Value>| {
        step_budget.step()?;
        Ok(Value::String(String::new()))
    });
    let filters = std::mem::take(&mut tera.filters);
    for (name, inner) in filters {
        tera.filters.insert(
            name.clone(),
            Arc::new(BoundedFilter {
                name,
                inner,
                budget: budget.clone(),
            }),
        );
    }
    let concat_budget = budget.clone();
    tera.register_function(CONCAT_FUNCTION, move |args: &HashMap<String, Value>| {
        concat_budget.step()?;
        concat(&concat_budget, args)
    });
    tera.register_filter(PRINT_FILTER, print_check);
    let testers = std::mem::take(&mut tera.testers);
    for (name, inner) in testers {
        tera.testers.insert(
            name,
            Arc::new(BoundedTest {
                inner,
                budget: budget.clone(),
            }),
        );
    }
    budget
}

/// `a ~ b ~ …` (rewritten by `bound_concats`): operands `"0"`, `"1"`, … in order, strings as
/// they are and numbers as their text, as tera's `~` does; refused before it is built if it
/// would pass `MAX_VALUE_BYTES`.
fn concat(budget: &Budget, args: &HashMap<String, Value>) -> tera::Result<Value> {
    let mut operands = Vec::with_capacity(args.len());
    for at in 0..args.len() {
        let text = match args.get(&at.to_string()) {
            Some(Value::String(s)) => std::borrow::Cow::Borrowed(s.as_str()),
            Some(Value::Number(n)) => std::borrow::Cow::Owned(n.to_string()),
            _ => {
                return Err(tera::Error::msg("`~` joins only strings and numbers"));
            }
        };
        operands.push(text);
    }
    let bound: usize = operands.iter().map(|t| t.len()).sum();
    budget.admit_filter("`~`", bound as u64)?;
    budget.spend_filtered(bound);
    Ok(Value::String(operands.concat()))
}

fn print_check(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    match value {
        Value::Array(_) | Value::Object(_) => Err(tera::Error::msg(
            "cannot print a list or an object (use join, or print its fields)",
        )),
        other => Ok(other.clone()),
    }
}

/// A panic inside a filter (a tera bug on odd input) becomes an error naming the filter.
fn unpanicking<T>(what: &str, run: impl FnOnce() -> tera::Result<T>) -> tera::Result<T> {
    catch_unwind(AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err(tera::Error::msg(format!("{what} failed on its input"))))
}

struct BoundedFilter {
    name: String,
    inner: Arc<dyn Filter>,
    budget: Arc<Budget>,
}

impl Filter for BoundedFilter {
    fn filter(&self, value: &Value, args: &HashMap<String, Value>) -> tera::Result<Value> {
        self.budget.step()?;
        self.budget.admit_filter(
            &format!("filter `{}`", self.name),
            result_bound(&self.name, value, args),
        )?;
        let out = unpanicking("a filter", || self.inner.filter(value, args))?;
        let size = value_size(&out, MAX_VALUE_BYTES);
        self.budget.spend_filtered(size);
        if size > MAX_VALUE_BYTES {
            return Err(tera::Error::msg(format!(
                "a filter returned more than {MAX_VALUE_BYTES} bytes, the limit for one value"
            )));
        }
        Ok(out)
    }
}

/// An upper bound of the size (`value_size`) of what filter `name` returns for these inputs,
/// computed without running it. The filters that can multiply their input get their own
/// formula; every other filter returns at most a few times its inputs (`visible` turns one
/// control byte into eight, `escape` one quote into six, a JSON escape is six bytes).
fn result_bound(name: &str, value: &Value, args: &HashMap<String, Value>) -> u64 {
    let cap = MAX_FILTERED_BYTES as usize;
    let size = |v: &Value| value_size(v, cap) as u64;
    let arg = |key: &str| args.get(key).map_or(0, size);
    let text = value.as_str().unwrap_or_default();
    let input = size(value);
    let args_total: u64 = args.values().map(size).sum();
    match name {
        "replace" => {
            let from = args.get("from").and_then(Value::as_str).unwrap_or_default();
            // An empty `from` matches before every character and at the end.
            let matches = if from.is_empty() {
                text.len() + 1
            } else {
                text.matches(from).count()
            };
            input.saturating_add((matches as u64).saturating_mul(arg("to")))
        }
        "indent" => {
            let prefix = args.get("prefix").map_or(4, size);
            let lines = text.matches('\n').count() as u64 + 1;
            input.saturating_add(lines.saturating_mul(prefix))
        }
        "join" => {
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            // A string joins as itself, anything else as its JSON text.
            let texts = items.iter().fold(0u64, |total, item| {
                total.saturating_add(match item {
                    Value::String(s) => s.len() as u64,
                    other => json_bound(other, 0),
                })
            });
            texts.saturating_add((items.len() as u64).saturating_mul(arg("sep")))
        }
        "concat" => input.saturating_add(arg("with")).saturating_add(1),
        // Exact, and cheap for the usual text with nothing to mark (borrowed, not copied): a
        // long system name must stay printable, not be refused on a loose bound.
        "visible" => match value {
            Value::String(text) => crate::report::format::visible_cow(text).len() as u64,
            other => json_bound(other, 0).saturating_mul(9),
        },
        "json_encode" | "as_str" => json_bound(value, 0),
        "length" | "wordcount" | "int" | "float" | "abs" | "round" | "filesizeformat" => {
            NUMBER_BYTES
        }
        // A part of the input, or the input reordered, or an argument (`default`).
        "first" | "last" | "nth" | "slice" | "sort" | "unique" | "reverse" | "filter" | "map"
        | "get" | "trim" | "trim_start" | "trim_end" | "trim_start_matches"
        | "trim_end_matches" | "striptags" | "spaceless" | "pluralize" => {
            input.saturating_add(args_total).saturating_add(64)
        }
        _ => input
            .saturating_add(args_total)
            .saturating_mul(8)
            .saturating_add(64),
    }
}

/// An upper bound of the length of `value` as (pretty) JSON at nesting `depth`: every string
/// byte escaped (`\u0000`), every item on its own indented line.
fn json_bound(value: &Value, depth: u64) -> u64 {
    let line = 2 * (depth + 1) + 4;
    let bound = match value {
        Value::String(s) => (s.len() as u64).saturating_mul(6),
        Value::Array(items) => items.iter().fold(0u64, |total, item| {
            total.saturating_add(json_bound(item, depth + 1).saturating_add(line))
        }),
        Value::Object(map) => map.iter().fold(0u64, |total, (key, item)| {
            total
                .saturating_add((key.len() as u64).saturating_mul(6))
                .saturating_add(json_bound(item, depth + 1).saturating_add(line))
        }),
        _ => NUMBER_BYTES,
    };
    bound.saturating_add(2 * depth + 8)
}

/// The longest text of a JSON number, bool or null (`-1.7976931348623157e308`).
const NUMBER_BYTES: u64 = 32;

struct BoundedTest {
    inner: Arc<dyn Test>,
    budget: Arc<Budget>,
}

impl Test for BoundedTest {
    fn test(&self, value: Option<&Value>, args: &[Value]) -> tera::Result<bool> {
        self.budget.step()?;
        unpanicking("a test", || self.inner.test(value, args))
    }
}

struct BoundedRange {
    inner: Arc<dyn Function>,
    budget: Arc<Budget>,
}

impl Function for BoundedRange {
    fn call(&self, args: &HashMap<String, Value>) -> tera::Result<Value> {
        self.budget.step()?;
        let number =
            |name: &str, default: u64| args.get(name).and_then(Value::as_u64).unwrap_or(default);
        let (start, end, step) = (number("start", 0), number("end", 0), number("step_by", 1));
        if step == 0 {
            return Err(tera::Error::msg("range() needs step_by of at least 1"));
        }
        if end.saturating_sub(start) / step > MAX_RANGE as u64 {
            return Err(tera::Error::msg(format!(
                "range() of more than {MAX_RANGE} numbers, the limit for a template"
            )));
        }
        unpanicking("range()", || self.inner.call(args))
    }
}

/// Bytes of strings plus one per item, counted up to `cap`.
fn value_size(value: &Value, cap: usize) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::Array(items) => {
            let mut total = items.len();
            for item in items {
                if total > cap {
                    break;
                }
                total += value_size(item, cap);
            }
            total
        }
        Value::Object(map) => {
            let mut total = map.len();
            for (key, item) in map {
                if total > cap {
                    break;
                }
                total += key.len() + value_size(item, cap);
            }
            total
        }
        _ => NUMBER_BYTES as usize,
    }
}

/// The rendered HTML, refusing to grow past its limit and stopping at the time limit.
pub struct BoundedOutput {
    pub bytes: Vec<u8>,
    limit: usize,
    budget: Arc<Budget>,
}

impl BoundedOutput {
    pub fn new(drawn_bytes: usize, budget: Arc<Budget>) -> Self {
        Self {
            bytes: Vec::new(),
            limit: drawn_bytes.saturating_add(OUTPUT_ALLOWANCE),
            budget,
        }
    }
}

impl Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(buf.len()) > self.limit {
            return Err(io::Error::other(format!(
                "the output passed {} bytes, the drawn tables plus the {OUTPUT_ALLOWANCE} bytes a template may add",
                self.limit
            )));
        }
        self.budget.check_time().map_err(io::Error::other)?;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confined(html: &str) -> Result<(), Refusal> {
        let mut tera = Tera::default();
        tera.add_raw_template("report.html", html).unwrap();
        confine_calls(&mut tera);
        confine_template(&mut tera, "report.html", "report.css")
    }

    #[test]
    fn functions_are_refused_wherever_they_hide() {
        for hidden in [
            "{{ get_env(name=\"HOME\") }}",
            "{{ x | default(value=get_env(name=\"HOME\")) }}",
            "{{ \"a\" ~ get_env(name=\"HOME\") }}",
            "{% if get_env(name=\"HOME\") == \"x\" %}{% endif %}",
            "{% for c in get_env(name=\"HOME\") %}{% endfor %}",
            "{{ [now()] | length }}",
        ] {
            let refusal = confined(hidden).expect_err(hidden);
            assert!(
                refusal.message.contains("is not available"),
                "{hidden}: {refusal:?}"
            );
        }
        assert!(confined("{{ x | default(value=\"y\") | upper }}").is_ok());
    }

    #[test]
    fn source_nesting_and_size_are_bounded_before_parsing() {
        assert!(check_source(&"(".repeat(MAX_NESTING + 1)).is_err());
        assert!(check_source(&"{% if x %}".repeat(MAX_NESTING + 1)).is_err());
        assert!(check_source(&"(x)".repeat(1000)).is_ok());
        assert!(check_source(&" ".repeat(MAX_TEMPLATE_BYTES + 1)).is_err());
        let long = format!("{{{{ 1{} }}}}", "+1".repeat(MAX_TAG_CHARS / 2));
        assert!(check_source(&long).is_err());
    }

    #[test]
    fn refusals_point_at_the_line() {
        let source = "<p>\n  {{ x | safe }}</p>";
        let refusal = confined(source).unwrap_err();
        assert!(
            refusal.describe(source).starts_with("line 2, column 10: "),
            "{}",
            refusal.describe(source)
        );
    }

    #[test]
    fn control_characters_are_refused_but_tabs_and_line_breaks() {
        assert!(check_source("<p>\ta\r\nb</p>").is_ok());
        for control in ['\u{1b}', '\u{0}', '\u{c}', '\u{7f}', '\u{85}'] {
            let source = format!("<p title=\"{control}$B\">x</p>");
            let refusal = check_source(&source).expect_err(&source);
            assert!(refusal.message.contains("control character"), "{refusal:?}");
        }
    }

    fn args(pairs: &[(&str, &str)]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    /// Each bound is at least what the filter returns, so refusing above the limit refuses
    /// only what would pass it.
    #[test]
    fn result_bounds_cover_what_filters_return() {
        let tera = Tera::default();
        let text = Value::String("a\nbb\n\nccc".to_string());
        let list = serde_json::json!(["x\u{0}\"", 12.5, ["y"], {"k": "v\n"}, null]);
        for (name, value, args) in [
            ("replace", &text, args(&[("from", ""), ("to", "xyz")])),
            ("replace", &text, args(&[("from", "b"), ("to", "xyz")])),
            ("indent", &text, args(&[("prefix", ">>")])),
            ("indent", &text, args(&[])),
            ("join", &list, args(&[("sep", ", ")])),
            (
                "json_encode",
                &list,
                HashMap::from([("pretty".to_string(), Value::Bool(true))]),
            ),
            ("as_str", &list, args(&[])),
            ("concat", &list, args(&[("with", "w")])),
            ("upper", &Value::String("ßŉΐ".to_string()), args(&[])),
            ("escape", &Value::String("\"'&/<>".to_string()), args(&[])),
            (
                "urlencode_strict",
                &Value::String("é/ ".to_string()),
                args(&[]),
            ),
            ("split", &text, args(&[("pat", "")])),
            (
                "truncate",
                &text,
                HashMap::from([("length".to_string(), Value::from(3))]),
            ),
        ] {
            let Some(filter) = tera.filters.get(name) else {
                continue;
            };
            let out = filter.filter(value, &args).expect(name);
            assert!(
                value_size(&out, usize::MAX) as u64 <= result_bound(name, value, &args),
                "{name}({value}, {args:?}) = {out}"
            );
        }
        let huge = Value::String("x".repeat(5000));
        let to = args(&[("from", ""), ("to", &"y".repeat(5000))]);
        assert!(result_bound("replace", &huge, &to) > MAX_VALUE_BYTES as u64);
    }

    fn render(html: &str) -> tera::Result<String> {
        let mut tera = Tera::default();
        tera.add_raw_template("report.html", html).unwrap();
        confine_calls(&mut tera);
        confine_template(&mut tera, "report.html", "report.css").unwrap();
        let mut context = tera::Context::new();
        context.insert("x", "<x>");
        context.insert("n", &7);
        context.insert("big", &"y".repeat(MAX_VALUE_BYTES / 2 + 1));
        tera.render("report.html", &context)
    }

    #[test]
    fn concatenation_gives_what_tera_gives_within_the_value_limit() {
        let same = "{{ \"a\" ~ 1 ~ 2.5 ~ 3.0 ~ x ~ n }}|{% for v in [x ~ x] %}{{ v }}{% endfor %}|{% if \"\" ~ \"\" %}yes{% else %}no{% endif %}{% if n > 1 and x ~ \"\" %}!{% endif %}";
        // Numbers as tera writes them (2.5, 3.0 as "3"), printed data escaped, an empty `~`
        // false in a condition.
        assert_eq!(
            render(same).unwrap(),
            "a12.53&lt;x&gt;7|&lt;x&gt;&lt;x&gt;|no!"
        );
        let error = render("{% for v in [big ~ big] %}{{ v | length }}{% endfor %}").unwrap_err();
        assert!(
            format!("{error:?}").contains("`~` could return up to"),
            "{error:?}"
        );
    }
}
