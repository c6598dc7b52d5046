//! A test file read from TOML into cases, with spans, and nothing yet read
//! from disk. Table rows become cases here: a row is turned into the case
//! table it stands for, and read by the same code as a `[[case]]`, so both
//! forms accept and reject exactly the same things.

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value as Json;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::Kind;
use crate::expect::{self, Expect};
use crate::overrides::{self, Edit};
use crate::shape::{
    check_keys, describe, get, get_str, key, required, strings, to_json, Doc, KeySpec, Place, Shape,
};

const FILE_KEYS: &[KeySpec] = &[
    key("policy", Shape::String),
    key("state", Shape::StringOrTable),
    key("template", Shape::Table),
    key("case", Shape::Array),
    key("table", Shape::Array),
    key("equivalent", Shape::Array),
];

const EQUIVALENT_KEYS: &[KeySpec] = &[
    required(
        "mutant",
        Shape::String,
        "add `mutant = \"…\"`: a survivor's id as `actpol test --mutants` prints it",
    ),
    required(
        "reason",
        Shape::String,
        "add `reason = \"…\"`: why no envelope can tell this mutant from the policy",
    ),
];

const TEMPLATE_KEYS: &[KeySpec] = &[required(
    "envelope",
    Shape::StringOrTable,
    "add `envelope = \"path/to/envelope.json\"`, relative to this file",
)];

const CASE_KEYS: &[KeySpec] = &[
    required(
        "name",
        Shape::String,
        "add `name = \"…\"`: results and `--filter` name cases by it",
    ),
    key("envelope", Shape::StringOrTable),
    key("plan", Shape::StringOrTable),
    key("set", Shape::Table),
    key("unset", Shape::Array),
    key("state", Shape::StringOrTable),
    required(
        "expect",
        Shape::Table,
        "add `expect.decision = \"allow\"` (or `constrain`, `escalate`, `deny`)",
    ),
];

const TABLE_KEYS: &[KeySpec] = &[
    required(
        "name",
        Shape::String,
        "add `name = \"…\"`: each row's case is named after it",
    ),
    key("envelope", Shape::StringOrTable),
    key("set", Shape::Table),
    key("unset", Shape::Array),
    key("state", Shape::StringOrTable),
    key("expect", Shape::Table),
    required(
        "columns",
        Shape::Array,
        "add `columns = [\"action.params.recipients\", \"expect.decision\"]`",
    ),
    required(
        "rows",
        Shape::Array,
        "add `rows = [[\"name\", value per column…], …]`",
    ),
];

/// Keys of a case a table column may fill besides `expect.*`; any other
/// column is an envelope path.
const CASE_COLUMNS: &[&str] = &["envelope", "state", "unset"];

/// A file's data, or the path to it, relative to the test file.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Path(String),
    Inline(Json),
}

/// A test file as written.
#[derive(Clone, Debug, Default)]
pub struct FileSpec {
    pub policy: Option<Spanned<String>>,
    pub state: Option<Spanned<Source>>,
    pub template: Option<Spanned<Source>>,
    pub cases: Vec<CaseSpec>,
    /// `[[equivalent]]`: mutants no envelope can kill, and why.
    pub equivalent: Vec<MarkSpec>,
}

/// A mutant marked equivalent to the policy, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkSpec {
    /// The mutant's id (`outbound.actpol:92:47: `50` → `51``).
    pub mutant: String,
    pub reason: String,
    /// The `[[equivalent]]` table.
    pub span: Range<usize>,
}

/// One case as written (a `[[case]]` or a table row).
#[derive(Clone, Debug)]
pub struct CaseSpec {
    pub name: String,
    /// The case's header, or its row.
    pub span: Range<usize>,
    /// `None`: the template.
    pub envelope: Option<Spanned<Source>>,
    /// A plan case: the plan decided in place of an envelope.
    pub plan: Option<Spanned<Source>>,
    pub edits: Vec<Edit>,
    /// `None`: the file's state.
    pub state: Option<Spanned<Source>>,
    pub expect: Expect,
}

/// Reads the test file in `doc`. Problems are left in `doc`; a file with a
/// TOML syntax error yields nothing else.
pub(crate) fn parse(doc: &mut Doc) -> FileSpec {
    let source = doc.source.clone();
    let root = match DeTable::parse(&source) {
        Ok(root) => root,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let message = format!("invalid TOML: {}", err.message().trim_end());
            doc.error(Kind::TomlSyntax, span, message);
            return FileSpec::default();
        }
    };
    let table = root.get_ref();
    check_keys(doc, table, 0..0, place("a test file"), FILE_KEYS);
    let mut spec = FileSpec {
        policy: get_str(table, "policy").map(|(s, span)| Spanned::new(span, s.to_string())),
        state: source_of(doc, table, "state"),
        template: None,
        cases: Vec::new(),
        equivalent: Vec::new(),
    };
    if let Some(template) = get(table, "template") {
        if let Some(t) = template.get_ref().as_table() {
            if check_keys(doc, t, template.span(), place("`template`"), TEMPLATE_KEYS) {
                spec.template = source_of(doc, t, "envelope");
            }
        }
    }
    // Every case's name, sound or not, so a duplicate shows with the
    // rest of a file's problems rather than after they are fixed.
    let mut names = Vec::new();
    for case in tables_of(doc, table, "case") {
        if let Some(c) = parse_case(doc, case.get_ref(), case.span(), &mut names) {
            spec.cases.push(c);
        }
    }
    for t in tables_of(doc, table, "table") {
        spec.cases
            .extend(parse_table(doc, t.get_ref(), t.span(), &mut names));
    }
    report_duplicates(doc, &names);
    for mark in tables_of(doc, table, "equivalent") {
        spec.equivalent
            .extend(parse_mark(doc, mark.get_ref(), mark.span()));
    }
    spec
}

/// An `[[equivalent]]` mark: a mutant's id and a reason that says why no
/// envelope can kill it.
fn parse_mark(doc: &mut Doc, table: &DeTable<'_>, span: Range<usize>) -> Option<MarkSpec> {
    if !check_keys(
        doc,
        table,
        span.clone(),
        place("`equivalent`"),
        EQUIVALENT_KEYS,
    ) {
        return None;
    }
    let (mutant, _) = get_str(table, "mutant")?;
    let (reason, reason_span) = get_str(table, "reason")?;
    if reason.trim().is_empty() {
        let d = doc
            .diagnostic(
                Kind::InvalidValue,
                reason_span,
                "an equivalent mutant needs a reason".to_string(),
            )
            .with_help("say why no envelope can tell the mutant from the policy");
        doc.push(d);
        return None;
    }
    Some(MarkSpec {
        mutant: mutant.to_string(),
        reason: reason.to_string(),
        span,
    })
}

fn place(what: &str) -> Place<'_> {
    Place { what, prefix: "" }
}

/// The tables of an array of tables (`[[case]]`); other elements are
/// reported.
fn tables_of<'t, 'i>(
    doc: &mut Doc,
    table: &'t DeTable<'i>,
    name: &str,
) -> Vec<Spanned<&'t DeTable<'i>>> {
    let Some(items) = get(table, name).and_then(|v| v.get_ref().as_array()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref().as_table() {
            Some(t) => out.push(Spanned::new(item.span(), t)),
            None => doc.error(
                Kind::WrongType,
                item.span(),
                format!(
                    "`{name}` holds tables (`[[{name}]]`), not {}",
                    describe(item.get_ref())
                ),
            ),
        }
    }
    out
}

/// A path or inline table under `name`.
fn source_of(doc: &mut Doc, table: &DeTable<'_>, name: &str) -> Option<Spanned<Source>> {
    let value = get(table, name)?;
    let source = match value.get_ref() {
        DeValue::String(s) => Source::Path(s.to_string()),
        DeValue::Table(_) => Source::Inline(to_json(doc, value)?),
        // `check_keys` reported the wrong shape.
        _ => return None,
    };
    Some(Spanned::new(value.span(), source))
}

/// A name and where its case is.
type Named = (String, Range<usize>);

fn parse_case(
    doc: &mut Doc,
    table: &DeTable<'_>,
    span: Range<usize>,
    names: &mut Vec<Named>,
) -> Option<CaseSpec> {
    let name = get_str(table, "name").map(|(s, _)| s.to_string());
    if let Some(n) = &name {
        names.push((n.clone(), span.clone()));
    }
    let what = match &name {
        Some(n) => format!("case `{n}`"),
        None => "a case".to_string(),
    };
    let ok = check_keys(doc, table, span.clone(), place(&what), CASE_KEYS);
    let name = name?;
    let expect_value = get(table, "expect")?;
    let expect = expect_value
        .get_ref()
        .as_table()
        .and_then(|t| expect::parse(doc, t, expect_value.span(), &name));
    let edits = edits_of(doc, table);
    let plan = source_of(doc, table, "plan");
    let expect = expect?;
    let sound = plan_case_holds_together(doc, table, span.clone(), &name, plan.is_some(), &expect);
    let case = CaseSpec {
        name,
        span,
        envelope: source_of(doc, table, "envelope"),
        plan,
        edits,
        state: source_of(doc, table, "state"),
        expect,
    };
    (ok && sound).then_some(case)
}

/// A plan case gives its steps in the plan, so no envelope or override;
/// and only a plan case has nodes to expect.
fn plan_case_holds_together(
    doc: &mut Doc,
    table: &DeTable<'_>,
    span: Range<usize>,
    name: &str,
    is_plan: bool,
    expect: &Expect,
) -> bool {
    if is_plan {
        let envelope_keys: Vec<&str> = ["envelope", "set", "unset"]
            .into_iter()
            .filter(|k| get(table, k).is_some())
            .collect();
        let Some(first) = envelope_keys.first() else {
            return true;
        };
        let at = get(table, first).map_or(span, |v| v.span());
        let d = doc
            .diagnostic(
                Kind::InvalidValue,
                at,
                format!("case `{name}` decides a plan, which has no `{first}`"),
            )
            .with_help("give each step's envelope in the plan file, or make this an envelope case without `plan`");
        doc.push(d);
        return false;
    }
    if expect.nodes.is_empty() {
        return true;
    }
    let d = doc
        .diagnostic(
            Kind::InvalidValue,
            span,
            format!("case `{name}` expects plan nodes but decides no plan"),
        )
        .with_help("add `plan = \"path/to/plan.json\"`, or drop `expect.nodes`");
    doc.push(d);
    false
}

/// `unset` first, then `set`: so `unset = ["action.params"]` with a `set`
/// of new params replaces the object rather than merging into it.
fn edits_of(doc: &mut Doc, table: &DeTable<'_>) -> Vec<Edit> {
    let mut edits = Vec::new();
    if let Some(unset) = get(table, "unset") {
        for path in strings(doc, unset, "unset") {
            edits.push(Edit::Unset {
                span: path.span(),
                path: path.into_inner(),
            });
        }
    }
    let Some(set) = get(table, "set").and_then(|v| v.get_ref().as_table()) else {
        return edits;
    };
    for (k, v) in set.iter() {
        let path = k.get_ref().to_string();
        if let Err(e) = overrides::segments(&path) {
            let d = doc
                .diagnostic(Kind::BadOverride, k.span(), e.message)
                .with_help(e.help);
            doc.push(d);
            continue;
        }
        if let Some(value) = to_json(doc, v) {
            edits.push(Edit::Set {
                path,
                value,
                span: k.span(),
            });
        }
    }
    edits
}

/// The cases of a `[[table]]`, one per row.
fn parse_table(
    doc: &mut Doc,
    table: &DeTable<'_>,
    span: Range<usize>,
    names: &mut Vec<Named>,
) -> Vec<CaseSpec> {
    let name = get_str(table, "name").map(|(s, _)| s.to_string());
    let what = match &name {
        Some(n) => format!("table `{n}`"),
        None => "a table".to_string(),
    };
    if !check_keys(doc, table, span, place(&what), TABLE_KEYS) {
        return Vec::new();
    }
    let (Some(name), Some(columns), Some(rows)) = (name, get(table, "columns"), get(table, "rows"))
    else {
        return Vec::new();
    };
    let columns = strings(doc, columns, "columns");
    let Some(rows) = rows.get_ref().as_array() else {
        return Vec::new();
    };
    let mut cases = Vec::new();
    for row in rows.iter() {
        let Some(case_table) = row_case(doc, table, &name, &columns, row) else {
            continue;
        };
        if let Some(case) = parse_case(doc, &case_table, row.span(), names) {
            cases.push(case);
        }
    }
    cases
}

/// The case table a row stands for: the table's defaults, its name, and
/// one entry per column.
fn row_case<'i>(
    doc: &mut Doc,
    table: &DeTable<'i>,
    table_name: &str,
    columns: &[Spanned<String>],
    row: &Spanned<DeValue<'i>>,
) -> Option<DeTable<'i>> {
    let Some(cells) = row.get_ref().as_array() else {
        doc.error(
            Kind::WrongType,
            row.span(),
            format!(
                "a row of table `{table_name}` must be an array, not {}",
                describe(row.get_ref())
            ),
        );
        return None;
    };
    if cells.len() != columns.len() + 1 {
        let d = doc
            .diagnostic(
                Kind::RowLength,
                row.span(),
                format!(
                    "a row of table `{table_name}` has {} value(s), but {} column(s) need {}",
                    cells.len(),
                    columns.len(),
                    columns.len() + 1
                ),
            )
            .with_help("a row holds its name, then one value per column");
        doc.push(d);
        return None;
    }
    let row_name = &cells[0];
    let Some(row_label) = row_name.get_ref().as_str() else {
        doc.error(
            Kind::WrongType,
            row_name.span(),
            format!(
                "a row starts with its name, a string, not {}",
                describe(row_name.get_ref())
            ),
        );
        return None;
    };
    let mut case = DeTable::new();
    for default in ["envelope", "state", "set", "unset", "expect"] {
        if let Some((k, v)) = table.get_key_value(default) {
            case.insert(k.clone(), v.clone());
        }
    }
    let full = format!("{table_name} / {row_label}");
    case.insert(
        Spanned::new(row_name.span(), Cow::Borrowed("name")),
        Spanned::new(row_name.span(), DeValue::String(Cow::Owned(full))),
    );
    for (column, cell) in columns.iter().zip(cells.iter().skip(1)) {
        place_cell(&mut case, column, cell.clone(), row.span());
    }
    Some(case)
}

/// Puts a row's cell where its column says: under `expect`, as a case key,
/// or as an envelope override under `set`.
fn place_cell<'i>(
    case: &mut DeTable<'i>,
    column: &Spanned<String>,
    cell: Spanned<DeValue<'i>>,
    row: Range<usize>,
) {
    let name: &str = column.get_ref();
    let key = |k: &str| Spanned::new(column.span(), Cow::Owned(k.to_string()));
    let (parent, field) = match name.strip_prefix("expect.") {
        Some(field) => ("expect", field),
        None if CASE_COLUMNS.contains(&name) => {
            case.insert(key(name), cell);
            return;
        }
        None => ("set", name),
    };
    let slot = case
        .entry(Spanned::new(row.clone(), Cow::Owned(parent.to_string())))
        .or_insert_with(|| Spanned::new(row.clone(), DeValue::Table(DeTable::new())));
    // A table default (say, `set` on the table) may be there already; a
    // non-table there was reported when the table's keys were checked.
    if let DeValue::Table(t) = slot.get_mut() {
        t.insert(key(field), cell);
    }
}

fn report_duplicates(doc: &mut Doc, names: &[Named]) {
    for (i, (name, span)) in names.iter().enumerate() {
        if names[..i].iter().any(|(n, _)| n == name) {
            let d = doc.diagnostic(
                Kind::DuplicateCase,
                span.clone(),
                format!("two cases are named `{name}`"),
            );
            doc.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol::Level;
    use serde_json::json;
    use std::sync::Arc;

    fn read(text: &str) -> (FileSpec, Vec<String>) {
        let mut doc = Doc::new("t.test.toml", Arc::from(text));
        let spec = parse(&mut doc);
        let diags = doc
            .diagnostics
            .iter()
            .map(|d| format!("{} {:?}: {}", d.code(), d.span, d.message))
            .collect();
        (spec, diags)
    }

    #[test]
    fn cases_and_rows_read_alike() {
        let (spec, diags) = read(
            r#"
policy = ".."
state = "../state/quiet.json"
[template]
envelope = "../envelopes/send.json"

[[case]]
name = "routine"
set = { "action.params.recipients" = 120 }
unset = ["rollback"]
expect.decision = "allow"
expect.rules = ["routine"]

[[table]]
name = "size"
set.time = 2026-11-25T14:00:00Z
expect.rules = ["bulk"]
columns = ["action.params.recipients", "expect.decision", "state"]
rows = [
  ["small", 10, "allow", "a.json"],
  ["large", 1001, "escalate", { budgets = [] }],
]
"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.policy.unwrap().into_inner(), "..");
        assert_eq!(
            spec.template.unwrap().into_inner(),
            Source::Path("../envelopes/send.json".into())
        );
        let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["routine", "size / small", "size / large"]);
        let routine = &spec.cases[0];
        assert_eq!(routine.edits.len(), 2);
        assert!(matches!(&routine.edits[0], Edit::Unset { path, .. } if path == "rollback"));
        let large = &spec.cases[2];
        assert_eq!(large.expect.decision, Level::Escalate);
        assert_eq!(
            large.expect.rules.as_deref(),
            Some(&["bulk".to_string()][..])
        );
        let paths: Vec<(&str, &Json)> = large
            .edits
            .iter()
            .filter_map(|e| match e {
                Edit::Set { path, value, .. } => Some((path.as_str(), value)),
                Edit::Unset { .. } => None,
            })
            .collect();
        assert_eq!(
            paths,
            [
                ("time", &json!("2026-11-25T14:00:00Z")),
                ("action.params.recipients", &json!(1001))
            ]
        );
        assert_eq!(
            large.state.as_ref().unwrap().get_ref(),
            &Source::Inline(json!({"budgets": []}))
        );
    }

    #[test]
    fn syntax_errors_point_into_the_file() {
        let (spec, diags) = read("[[case]\nname = 1\n");
        assert!(spec.cases.is_empty());
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].starts_with("actpol::test::toml_syntax Some("),
            "{diags:?}"
        );
    }

    #[test]
    fn broken_cases_are_reported_each() {
        let (spec, diags) = read(
            r#"
[[case]]
name = "a"
expect.decision = "alow"

[[case]]
name = "b"
envelop = "x.json"
expect.decision = "deny"

[[case]]
name = "c"

[[case]]
name = "a"
expect.decision = "deny"
"#,
        );
        assert_eq!(spec.cases.len(), 1, "only the second `a` is sound");
        let codes: Vec<&str> = diags.iter().map(|d| d.split(' ').next().unwrap()).collect();
        assert_eq!(
            codes,
            [
                "actpol::test::unknown_decision",
                "actpol::test::unknown_key",
                "actpol::test::missing_key",
                "actpol::test::duplicate_case",
            ]
        );
    }

    #[test]
    fn rows_must_fit_their_columns() {
        let (spec, diags) = read(
            r#"
[[table]]
name = "t"
columns = ["action.params.recipients", "expect.decision", "expect.decisoin"]
rows = [["short", 1], [3, 1, "allow", "x"], ["ok", 1, "allow", "deny"]]
"#,
        );
        assert!(spec.cases.is_empty());
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert!(diags[0].starts_with("actpol::test::row_length"));
        assert!(diags[0].contains("has 2 value(s), but 3 column(s) need 4"));
        assert!(diags[1].contains("a row starts with its name"));
        assert!(
            diags[2].contains("unknown key `expect.decisoin`"),
            "{diags:?}"
        );
    }

    #[test]
    fn duplicate_names_are_reported() {
        let (_, diags) = read(
            "[[case]]\nname = \"x\"\nexpect.decision = \"allow\"\n[[case]]\nname = \"x\"\nexpect.decision = \"deny\"\n",
        );
        assert_eq!(diags.len(), 1);
        assert!(diags[0].starts_with("actpol::test::duplicate_case"));
    }
}
