//! Reading a TOML tree whose every key and value keeps its span: which keys
//! a table may hold and of what shape (as data: [`KeySpec`] tables), and
//! TOML values as JSON. Every problem becomes a diagnostic pointing into
//! the file; nothing here panics on what a user wrote.

use std::ops::Range;
use std::sync::Arc;

use actpol::values::did_you_mean;
use serde_json::Value as Json;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::{Kind, TestDiagnostic};

/// What a key's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    String,
    Table,
    Array,
    /// A path to a file, or the data inline.
    StringOrTable,
}

impl Shape {
    fn admits(self, value: &DeValue<'_>) -> bool {
        match self {
            Shape::String => value.is_str(),
            Shape::Table => value.is_table(),
            Shape::Array => value.is_array(),
            Shape::StringOrTable => value.is_str() || value.is_table(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::String => "a string",
            Shape::Table => "a table",
            Shape::Array => "an array",
            Shape::StringOrTable => "a path (string) or an inline table",
        }
    }
}

/// One key a table may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeySpec {
    pub name: &'static str,
    pub shape: Shape,
    /// For a required key, how to add it.
    pub required: Option<&'static str>,
}

pub(crate) const fn key(name: &'static str, shape: Shape) -> KeySpec {
    KeySpec {
        name,
        shape,
        required: None,
    }
}

pub(crate) const fn required(name: &'static str, shape: Shape, how: &'static str) -> KeySpec {
    KeySpec {
        name,
        shape,
        required: Some(how),
    }
}

/// A table being checked: how messages name it, and the dotted prefix of
/// its keys (`expect.`), so messages name keys as they are written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place<'a> {
    pub what: &'a str,
    pub prefix: &'a str,
}

/// The file being read and the diagnostics found so far.
#[derive(Debug)]
pub(crate) struct Doc {
    pub file: String,
    pub source: Arc<str>,
    pub diagnostics: Vec<TestDiagnostic>,
}

impl Doc {
    pub fn new(file: impl Into<String>, source: Arc<str>) -> Self {
        Doc {
            file: file.into(),
            source,
            diagnostics: Vec::new(),
        }
    }

    pub fn diagnostic(&self, kind: Kind, span: Range<usize>, message: String) -> TestDiagnostic {
        let label = match kind {
            Kind::UnknownKey => "unknown key",
            Kind::MissingKey => "in this table",
            Kind::RowLength => "this row",
            _ => "here",
        };
        TestDiagnostic::new(kind, self.file.clone(), message).at(&self.source, span, label)
    }

    pub fn error(&mut self, kind: Kind, span: Range<usize>, message: String) {
        let d = self.diagnostic(kind, span, message);
        self.push(d);
    }

    pub fn push(&mut self, diagnostic: TestDiagnostic) {
        // A table column's problem shows once, not once per row.
        let seen = self.diagnostics.iter().any(|d| {
            d.span == diagnostic.span
                && d.message == diagnostic.message
                && d.kind == diagnostic.kind
        });
        if !seen {
            self.diagnostics.push(diagnostic);
        }
    }
}

/// Checks that `table` holds only the keys of `specs`, each of its shape,
/// and all the required ones. Returns whether the table is fit to read.
pub(crate) fn check_keys(
    doc: &mut Doc,
    table: &DeTable<'_>,
    span: Range<usize>,
    place: Place<'_>,
    specs: &[KeySpec],
) -> bool {
    let Place { what, prefix } = place;
    let before = doc.diagnostics.len();
    for (k, v) in table.iter() {
        let name: &str = k.get_ref();
        match specs.iter().find(|s| s.name == name) {
            None => {
                let known = specs.iter().map(|s| s.name);
                let help = match did_you_mean(name, known) {
                    Some(best) => format!("did you mean `{prefix}{best}`?"),
                    None => format!(
                        "{what} may hold: {}",
                        specs
                            .iter()
                            .map(|s| format!("{prefix}{}", s.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let d = doc
                    .diagnostic(
                        Kind::UnknownKey,
                        k.span(),
                        format!("unknown key `{prefix}{name}` in {what}"),
                    )
                    .with_help(help);
                doc.push(d);
            }
            Some(spec) if !spec.shape.admits(v.get_ref()) => doc.error(
                Kind::WrongType,
                v.span(),
                format!(
                    "`{prefix}{name}` must be {}, not {}",
                    spec.shape.describe(),
                    describe(v.get_ref())
                ),
            ),
            Some(_) => {}
        }
    }
    for spec in specs {
        let Some(how) = spec.required else { continue };
        if table.get(spec.name).is_none() {
            let d = doc
                .diagnostic(
                    Kind::MissingKey,
                    span.clone(),
                    format!("{what} has no `{prefix}{}`", spec.name),
                )
                .with_help(how);
            doc.push(d);
        }
    }
    doc.diagnostics.len() == before
}

/// "a string", "an integer": what a value is, for messages.
pub(crate) fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub(crate) fn get<'t, 'i>(table: &'t DeTable<'i>, name: &str) -> Option<&'t Spanned<DeValue<'i>>> {
    table.get(name)
}

pub(crate) fn get_str<'t>(table: &'t DeTable<'_>, name: &str) -> Option<(&'t str, Range<usize>)> {
    let v = table.get(name)?;
    Some((v.get_ref().as_str()?, v.span()))
}

/// The strings of an array; a non-string element is reported.
pub(crate) fn strings(
    doc: &mut Doc,
    value: &Spanned<DeValue<'_>>,
    name: &str,
) -> Vec<Spanned<String>> {
    let Some(items) = value.get_ref().as_array() else {
        doc.error(
            Kind::WrongType,
            value.span(),
            format!(
                "`{name}` must be an array of strings, not {}",
                describe(value.get_ref())
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref().as_str() {
            Some(s) => out.push(Spanned::new(item.span(), s.to_string())),
            None => doc.error(
                Kind::WrongType,
                item.span(),
                format!("`{name}` holds strings, not {}", describe(item.get_ref())),
            ),
        }
    }
    out
}

/// A TOML value as JSON. Date-times become their RFC 3339 text, as an
/// envelope's `time` expects.
pub(crate) fn to_json(doc: &mut Doc, value: &Spanned<DeValue<'_>>) -> Option<Json> {
    match value.get_ref() {
        DeValue::String(s) => Some(Json::String(s.to_string())),
        DeValue::Boolean(b) => Some(Json::Bool(*b)),
        DeValue::Datetime(dt) => Some(Json::String(dt.to_string())),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => Some(Json::from(n)),
                Err(_) => {
                    doc.error(
                        Kind::InvalidValue,
                        value.span(),
                        format!("integer `{i}` does not fit in 64 bits"),
                    );
                    None
                }
            }
        }
        DeValue::Float(f) => {
            let number = f
                .as_str()
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64);
            if number.is_none() {
                doc.error(
                    Kind::InvalidValue,
                    value.span(),
                    format!("`{f}` has no JSON form"),
                );
            }
            number.map(Json::Number)
        }
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(to_json(doc, item)?);
            }
            Some(Json::Array(out))
        }
        DeValue::Table(table) => {
            let mut out = serde_json::Map::new();
            for (k, v) in table.iter() {
                out.insert(k.get_ref().to_string(), to_json(doc, v)?);
            }
            Some(Json::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[KeySpec] = &[
        required("name", Shape::String, "add `name = \"…\"`"),
        key("rows", Shape::Array),
    ];
    const CASE: Place<'static> = Place {
        what: "a case",
        prefix: "",
    };

    fn parse(text: &str) -> (Doc, Spanned<DeTable<'_>>) {
        let doc = Doc::new("t.test.toml", Arc::from(text));
        (doc, DeTable::parse(text).expect("valid toml"))
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let (mut doc, table) = parse("nmae = \"x\"\n");
        assert!(!check_keys(&mut doc, table.get_ref(), 0..0, CASE, SPECS));
        let unknown = &doc.diagnostics[0];
        assert_eq!(unknown.code(), "actpol::test::unknown_key");
        assert_eq!(unknown.span, Some(0..4));
        assert_eq!(unknown.help_text(), "did you mean `name`?");
        assert_eq!(doc.diagnostics[1].code(), "actpol::test::missing_key");
    }

    #[test]
    fn wrong_shapes_name_what_was_found() {
        let (mut doc, table) = parse("name = 3\nrows = \"r\"\n");
        check_keys(&mut doc, table.get_ref(), 0..0, CASE, SPECS);
        let messages: Vec<&str> = doc.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`name` must be a string, not an integer",
                "`rows` must be an array, not a string"
            ]
        );
    }

    #[test]
    fn values_convert_to_json() {
        let (mut doc, table) = parse(
            "a = 1_000\nb = 0x10\nc = 0.75\nd = 2026-11-25T14:00:00Z\ne = [true, {f = \"g\"}]\n",
        );
        let t = table.get_ref();
        let json: Vec<Json> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|k| to_json(&mut doc, get(t, k).unwrap()).unwrap())
            .collect();
        assert_eq!(json[0], 1000);
        assert_eq!(json[1], 16);
        assert_eq!(json[2], 0.75);
        assert_eq!(json[3], "2026-11-25T14:00:00Z");
        assert_eq!(json[4], serde_json::json!([true, {"f": "g"}]));
        assert!(doc.diagnostics.is_empty());
    }

    #[test]
    fn values_without_json_form_are_reported() {
        let (mut doc, table) = parse("a = nan\nb = 99999999999999999999\n");
        let t = table.get_ref();
        assert!(to_json(&mut doc, get(t, "a").unwrap()).is_none());
        assert!(to_json(&mut doc, get(t, "b").unwrap()).is_none());
        assert_eq!(doc.diagnostics.len(), 2);
    }
}
