//! A case's expectations (`expect.*`): how they are read from a test file,
//! and how a decision is held to them.

use std::collections::BTreeMap;
use std::ops::Range;

use actpol::values::did_you_mean;
use actpol::Level;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use toml::de::DeTable;

use crate::diagnostic::Kind;
use crate::record::{self, Difference, Record};
use crate::shape::{
    check_keys, get, get_str, key, required, strings, to_json, Doc, KeySpec, Place, Shape,
};

pub(crate) const EXPECT_KEYS: &[KeySpec] = &[
    required(
        "decision",
        Shape::String,
        "add `expect.decision = \"allow\"` (or `constrain`, `escalate`, `deny`)",
    ),
    key("approver", Shape::String),
    key("rules", Shape::Array),
    key("reasons", Shape::Array),
    key("constraints", Shape::Array),
    key("budgets", Shape::Array),
    key("errors", Shape::Array),
    key("nodes", Shape::Table),
];

/// What `expect.nodes.<id>` may hold: a plan case's expectation of one node.
const NODE_KEYS: &[KeySpec] = &[
    required(
        "decision",
        Shape::String,
        "add `decision = \"allow\"` (or `constrain`, `escalate`, `deny`)",
    ),
    key("approver", Shape::String),
    key("rules", Shape::Array),
    key("reasons", Shape::Array),
    key("blocked_by", Shape::Array),
];

/// A field an expected entry may name, and the values it admits (`None`:
/// any value).
type Field = (&'static str, Option<&'static [&'static str]>);

/// What an entry as a whole must be, beyond its fields: `None` when sound,
/// else a message and a help line.
type FormCheck = fn(&Map<String, Json>) -> Option<(&'static str, &'static str)>;

const CONSTRAINT_FIELDS: &[Field] = &[
    ("param", None),
    ("op", Some(&["<=", "<", ">=", ">", "in"])),
    ("value", None),
    ("require", Some(&["dry_run", "rollback"])),
];

const BUDGET_FIELDS: &[Field] = &[
    ("name", None),
    ("key", None),
    ("limit", None),
    ("consumed", None),
    ("remaining", None),
    ("delta", None),
];

/// What a case expects of its decision. Only `decision` is required; every
/// other field, when given, must hold too.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expect {
    pub decision: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Exactly these rules, in any order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<String>>,
    /// Each a substring of some reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Each matches some constraint on the fields it names; empty: the
    /// decision has no constraint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Vec<Map<String, Json>>>,
    /// Each matches some budget entry on the fields it names; empty: the
    /// decision names no budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budgets: Option<Vec<Map<String, Json>>>,
    /// Each code is among the decision's errors. Absent: the decision must
    /// have no errors, so a broken envelope never passes unnoticed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// For a plan case: what some of its nodes must be, by node id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub nodes: BTreeMap<String, NodeExpect>,
}

/// What a plan case expects of one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeExpect {
    pub decision: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Exactly these rules, in any order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<String>>,
    /// Each a substring of some reason of the node.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Exactly these blocking nodes, nearest the start first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Vec<String>>,
}

impl Expect {
    /// One line: `escalate to growth-lead, by bulk_send`.
    pub fn headline(&self) -> String {
        let mut out = self.decision.to_string();
        if let Some(approver) = &self.approver {
            out.push_str(" to ");
            out.push_str(approver);
        }
        if let Some(rules) = &self.rules {
            out.push_str(&record::by_rules(rules));
        }
        out
    }

    /// Where `actual` falls short of the expectations; empty when it meets
    /// them all.
    pub fn check(&self, actual: &Record) -> Vec<Difference> {
        let mut out = Vec::new();
        if self.decision != actual.decision {
            out.push(Difference::new(
                "decision",
                self.decision.to_string(),
                actual.decision.to_string(),
            ));
        }
        if let Some(approver) = &self.approver {
            if actual.approver.as_ref() != Some(approver) {
                let got = actual.approver.clone().unwrap_or_else(|| "none".into());
                out.push(Difference::new("approver", approver.clone(), got));
            }
        }
        if let Some(rules) = &self.rules {
            if sorted(rules) != sorted(&actual.rules) {
                out.push(Difference::new(
                    "rules",
                    record::list(rules),
                    record::list(&actual.rules),
                ));
            }
        }
        self.check_reasons(actual, &mut out);
        self.check_constraints(actual, &mut out);
        self.check_budgets(actual, &mut out);
        self.check_errors(actual, &mut out);
        self.check_nodes(actual, &mut out);
        out
    }

    fn check_nodes(&self, actual: &Record, out: &mut Vec<Difference>) {
        for (id, want) in &self.nodes {
            let Some(node) = actual.nodes.iter().find(|n| &n.id == id) else {
                let ids: Vec<String> = actual.nodes.iter().map(|n| n.id.clone()).collect();
                out.push(Difference::new(
                    "nodes",
                    format!("a node `{id}`"),
                    format!("the nodes {}", record::list(&ids)),
                ));
                continue;
            };
            let mut differ = |what: &str, expected: String, got: String| {
                out.push(Difference::new(
                    "nodes",
                    format!("`{id}` {what} {expected}"),
                    format!("`{id}` {what} {got}"),
                ));
            };
            if want.decision != node.decision {
                differ(
                    "decided",
                    want.decision.to_string(),
                    node.decision.to_string(),
                );
            }
            if let Some(approver) = &want.approver {
                if node.approver.as_ref() != Some(approver) {
                    let got = node.approver.clone().unwrap_or_else(|| "none".into());
                    differ("escalated to", approver.clone(), got);
                }
            }
            if let Some(rules) = &want.rules {
                if sorted(rules) != sorted(&node.rules) {
                    differ("by", record::list(rules), record::list(&node.rules));
                }
            }
            for wanted in &want.reasons {
                if !node.reasons.iter().any(|r| r.contains(wanted.as_str())) {
                    differ(
                        "with",
                        format!("a reason containing {wanted:?}"),
                        record::quoted_list(&node.reasons),
                    );
                }
            }
            if let Some(blocked_by) = &want.blocked_by {
                if blocked_by != &node.blocked_by {
                    differ(
                        "blocked by",
                        record::list(blocked_by),
                        record::list(&node.blocked_by),
                    );
                }
            }
        }
    }

    fn check_reasons(&self, actual: &Record, out: &mut Vec<Difference>) {
        for wanted in &self.reasons {
            if !actual.reasons.iter().any(|r| r.contains(wanted.as_str())) {
                out.push(Difference::new(
                    "reasons",
                    format!("a reason containing {wanted:?}"),
                    record::quoted_list(&actual.reasons),
                ));
            }
        }
    }

    fn check_constraints(&self, actual: &Record, out: &mut Vec<Difference>) {
        let Some(constraints) = &self.constraints else {
            return;
        };
        if constraints.is_empty() && !actual.constraints.is_empty() {
            out.push(Difference::new(
                "constraints",
                "none",
                record::constraints_text(&actual.constraints),
            ));
        }
        let as_json: Vec<Json> = actual
            .constraints
            .iter()
            .filter_map(|c| serde_json::to_value(c).ok())
            .collect();
        for wanted in constraints {
            if !as_json.iter().any(|c| fields_match(wanted, c)) {
                out.push(Difference::new(
                    "constraints",
                    fields_text(wanted),
                    record::constraints_text(&actual.constraints),
                ));
            }
        }
    }

    fn check_budgets(&self, actual: &Record, out: &mut Vec<Difference>) {
        let Some(budgets) = &self.budgets else {
            return;
        };
        let shown = || {
            let items: Vec<String> = actual.budgets.iter().map(record::budget_text).collect();
            format!("[{}]", items.join("; "))
        };
        if budgets.is_empty() && !actual.budgets.is_empty() {
            out.push(Difference::new("budgets", "none", shown()));
        }
        let as_json: Vec<Json> = actual
            .budgets
            .iter()
            .filter_map(|b| serde_json::to_value(b).ok())
            .collect();
        for wanted in budgets {
            if !as_json.iter().any(|b| fields_match(wanted, b)) {
                out.push(Difference::new("budgets", fields_text(wanted), shown()));
            }
        }
    }

    fn check_errors(&self, actual: &Record, out: &mut Vec<Difference>) {
        match &self.errors {
            None if !actual.errors.is_empty() => out.push(Difference::new(
                "errors",
                "none",
                record::list(&actual.errors),
            )),
            None => {}
            Some(codes) => {
                for code in codes.iter().filter(|c| !actual.errors.contains(c)) {
                    out.push(Difference::new(
                        "errors",
                        format!("an error `{code}`"),
                        record::list(&actual.errors),
                    ));
                }
            }
        }
    }
}

fn sorted(items: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = items.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

/// Whether every field `wanted` names is in `actual` with a matching value.
fn fields_match(wanted: &Map<String, Json>, actual: &Json) -> bool {
    wanted.iter().all(|(k, v)| {
        actual
            .get(k)
            .is_some_and(|got| record::values_match(v, got))
    })
}

fn fields_text(fields: &Map<String, Json>) -> String {
    let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Reads an `expect` table. `None` when it has problems, each reported.
pub(crate) fn parse(
    doc: &mut Doc,
    table: &DeTable<'_>,
    span: Range<usize>,
    case: &str,
) -> Option<Expect> {
    let what = format!("case `{case}`");
    let place = Place {
        what: &what,
        prefix: "expect.",
    };
    if !check_keys(doc, table, span, place, EXPECT_KEYS) {
        return None;
    }
    let before = doc.diagnostics.len();
    let decision = parse_decision(doc, table)?;
    let list = |doc: &mut Doc, name: &str| string_list(doc, table, name);
    let expect = Expect {
        decision,
        approver: get_str(table, "approver").map(|(s, _)| s.to_string()),
        rules: list(doc, "rules"),
        reasons: list(doc, "reasons").unwrap_or_default(),
        constraints: get(table, "constraints").map(|_| {
            entries(
                doc,
                table,
                "constraints",
                CONSTRAINT_FIELDS,
                constraint_form,
            )
        }),
        budgets: get(table, "budgets")
            .map(|_| entries(doc, table, "budgets", BUDGET_FIELDS, any_form)),
        errors: list(doc, "errors"),
        nodes: parse_nodes(doc, table, case),
    };
    (doc.diagnostics.len() == before).then_some(expect)
}

/// The list of strings under `name` in `table`, if it is there.
fn string_list(doc: &mut Doc, table: &DeTable<'_>, name: &str) -> Option<Vec<String>> {
    get(table, name).map(|v| {
        strings(doc, v, name)
            .into_iter()
            .map(|s| s.into_inner())
            .collect()
    })
}

/// `expect.nodes`: per node id, what that node of the plan must be.
fn parse_nodes(doc: &mut Doc, table: &DeTable<'_>, case: &str) -> BTreeMap<String, NodeExpect> {
    let mut out = BTreeMap::new();
    let Some(nodes) = get(table, "nodes").and_then(|v| v.get_ref().as_table()) else {
        return out;
    };
    for (id, value) in nodes.iter() {
        let id = id.get_ref().to_string();
        let Some(node) = value.get_ref().as_table() else {
            doc.error(
                Kind::WrongType,
                value.span(),
                format!(
                    "`expect.nodes.{id}` holds a table such as `{{ decision = \"allow\" }}`, not {}",
                    crate::shape::describe(value.get_ref())
                ),
            );
            continue;
        };
        let what = format!("case `{case}`");
        let prefix = format!("expect.nodes.{id}.");
        let place = Place {
            what: &what,
            prefix: &prefix,
        };
        if !check_keys(doc, node, value.span(), place, NODE_KEYS) {
            continue;
        }
        let Some(decision) = parse_decision(doc, node) else {
            continue;
        };
        let list = |doc: &mut Doc, name: &str| string_list(doc, node, name);
        let expect = NodeExpect {
            decision,
            approver: get_str(node, "approver").map(|(s, _)| s.to_string()),
            rules: list(doc, "rules"),
            reasons: list(doc, "reasons").unwrap_or_default(),
            blocked_by: list(doc, "blocked_by"),
        };
        out.insert(id, expect);
    }
    out
}

fn parse_decision(doc: &mut Doc, table: &DeTable<'_>) -> Option<Level> {
    let (text, span) = get_str(table, "decision")?;
    if let Some(level) = Level::ALL.into_iter().find(|l| l.as_str() == text) {
        return Some(level);
    }
    let names = Level::ALL.map(Level::as_str);
    let mut d = doc.diagnostic(
        Kind::UnknownDecision,
        span,
        format!("unknown decision `{text}`"),
    );
    if let Some(best) = did_you_mean(&text.to_lowercase(), names) {
        d = d.with_help(format!(
            "did you mean `{best}`? a decision is one of `allow`, `constrain`, `escalate`, `deny`"
        ));
    }
    doc.push(d);
    None
}

/// The tables of an array such as `constraints`, each holding only the
/// named fields, with values from their lists where they have one.
fn entries(
    doc: &mut Doc,
    table: &DeTable<'_>,
    name: &str,
    fields: &[Field],
    form: FormCheck,
) -> Vec<Map<String, Json>> {
    let Some(items) = get(table, name).and_then(|v| v.get_ref().as_array()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        let Some(entry) = item.get_ref().as_table() else {
            doc.error(
                Kind::WrongType,
                item.span(),
                format!(
                    "`{name}` holds tables such as `{{ {} = … }}`, not {}",
                    fields[0].0,
                    crate::shape::describe(item.get_ref())
                ),
            );
            continue;
        };
        let before = doc.diagnostics.len();
        let mut map = Map::new();
        for (k, v) in entry.iter() {
            let field: &str = k.get_ref();
            let Some((_, allowed)) = fields.iter().find(|(f, _)| *f == field) else {
                let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                let d = doc
                    .diagnostic(
                        Kind::UnknownKey,
                        k.span(),
                        format!("unknown field `{field}` in `{name}`"),
                    )
                    .with_help(match did_you_mean(field, names.iter().copied()) {
                        Some(best) => format!("did you mean `{best}`?"),
                        None => format!("an entry of `{name}` holds: {}", names.join(", ")),
                    });
                doc.push(d);
                continue;
            };
            let Some(value) = to_json(doc, v) else {
                continue;
            };
            if let Some(allowed) = allowed {
                if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
                    let d = doc
                        .diagnostic(
                            Kind::InvalidValue,
                            v.span(),
                            format!("`{field}` cannot be {value}"),
                        )
                        .with_help(format!("`{field}` is one of {}", allowed.join(", ")));
                    doc.push(d);
                    continue;
                }
            }
            map.insert(field.to_string(), value);
        }
        // An entry with a misspelt field is reported once, for the field.
        let sound = doc.diagnostics.len() == before;
        if let Some((problem, help)) = form(&map).filter(|_| sound) {
            let d = doc
                .diagnostic(Kind::InvalidValue, item.span(), problem.to_string())
                .with_help(help);
            doc.push(d);
        }
        out.push(map);
    }
    out
}

/// An expected constraint is either on a parameter or a requirement.
fn constraint_form(entry: &Map<String, Json>) -> Option<(&'static str, &'static str)> {
    (entry.contains_key("param") == entry.contains_key("require")).then_some((
        "an expected constraint names either `param` or `require`",
        "write `{ param = \"recipients\", op = \"<=\", value = 100 }` or `{ require = \"dry_run\" }`",
    ))
}

/// Any combination of budget fields narrows the match.
fn any_form(_: &Map<String, Json>) -> Option<(&'static str, &'static str)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use actpol::ErrorCode;
    use serde_json::json;

    /// A constraint as the decision JSON writes it.
    fn param(param: &str, op: &str, value: Json) -> actpol::ConstraintOut {
        serde_json::from_value(json!({"param": param, "op": op, "value": value})).unwrap()
    }
    use std::sync::Arc;

    fn expect_from(text: &str) -> (Option<Expect>, Vec<String>) {
        let mut doc = Doc::new("t", Arc::from(text));
        let table = DeTable::parse(text).unwrap();
        let e = parse(&mut doc, table.get_ref(), 0..0, "c");
        (
            e,
            doc.diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code(), d.message))
                .collect(),
        )
    }

    fn actual() -> Record {
        Record {
            decision: Level::Constrain,
            approver: None,
            rules: vec!["cap".into(), "dry".into()],
            reasons: vec!["sends are capped to the remaining daily budget".into()],
            constraints: vec![
                param("recipients", "<=", json!(380)),
                serde_json::from_value(json!({"require": "dry_run"})).unwrap(),
            ],
            budgets: vec![],
            errors: vec![],
            nodes: vec![],
        }
    }

    #[test]
    fn a_full_expectation_passes_and_each_field_can_fail() {
        let (e, diags) = expect_from(
            r#"decision = "constrain"
rules = ["dry", "cap"]
reasons = ["capped"]
constraints = [{ param = "recipients", op = "<=", value = 380 }, { require = "dry_run" }]
"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        let e = e.unwrap();
        assert!(e.check(&actual()).is_empty());

        let mut other = actual();
        other.decision = Level::Allow;
        other.rules = vec!["cap".into()];
        other.reasons = vec!["fine".into()];
        other.constraints.remove(0);
        other.errors = vec![ErrorCode::EvalAbsent.to_string()];
        let fields: Vec<&str> = e.check(&other).iter().map(|d| d.field).collect();
        assert_eq!(
            fields,
            ["decision", "rules", "reasons", "constraints", "errors"]
        );
    }

    #[test]
    fn an_empty_list_expects_none() {
        let (e, _) = expect_from("decision = \"constrain\"\nconstraints = []\nbudgets = []\n");
        let e = e.unwrap();
        let mut got = actual();
        let fields: Vec<&str> = e.check(&got).iter().map(|d| d.field).collect();
        assert_eq!(fields, ["constraints"]);
        got.constraints.clear();
        assert!(e.check(&got).is_empty());
        got.budgets.push(actpol::decision::BudgetUse {
            name: "sends".into(),
            key: "agent:a".into(),
            limit: 10.into(),
            consumed: 0.into(),
            remaining: 10.into(),
            delta: 0.into(),
        });
        assert_eq!(e.check(&got)[0].field, "budgets");
        let (loose, _) = expect_from("decision = \"constrain\"\n");
        assert!(loose.unwrap().check(&got).is_empty());
    }

    #[test]
    fn expected_errors_must_be_present() {
        let wrong_type = ErrorCode::EnvelopeWrongType;
        let (e, _) = expect_from(&format!(
            "decision = \"deny\"\nerrors = [\"{wrong_type}\"]\n"
        ));
        let mut got = actual();
        got.decision = Level::Deny;
        got.constraints.clear();
        got.errors = vec![wrong_type.to_string()];
        assert!(e.clone().unwrap().check(&got).is_empty());
        got.errors.clear();
        assert_eq!(e.unwrap().check(&got)[0].field, "errors");
    }

    #[test]
    fn unknown_decisions_suggest_the_closest() {
        let (e, diags) = expect_from("decision = \"escalte\"\n");
        assert!(e.is_none());
        assert_eq!(
            diags,
            ["actpol::test::unknown_decision: unknown decision `escalte`"]
        );
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let (e, diags) = expect_from(
            "decision = \"allow\"\nconstraints = [{ parm = \"x\" }, { op = \"~\" , param = \"x\"}, 3]\n",
        );
        assert!(e.is_none());
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert!(diags[0].contains("unknown field `parm`"));
        assert!(diags[1].contains("`op` cannot be \"~\""));
        assert!(diags[2].contains("holds tables"));
    }

    #[test]
    fn a_constraint_names_a_param_or_a_requirement() {
        let (e, diags) = expect_from("decision = \"allow\"\nconstraints = [{ op = \"<=\" }]\n");
        assert!(e.is_none());
        assert!(
            diags[0].contains("either `param` or `require`"),
            "{diags:?}"
        );
    }
}
