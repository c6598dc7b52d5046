//! Envelope overrides: `set` a value at a dotted path (`action.params.
//! recipients`), or `unset` one. A case states only what differs from its
//! template, so the template stays the one place an envelope is spelt out.
//!
//! An override may add a key the envelope lacks (an optional parameter, a
//! `rollback` plan), but every object on its path must exist: a typo in the
//! middle of a path (`action.parms.recipients`) is an error, not a new
//! object the policy would then reject for a reason the test did not mean.
//! A table value merges into the object it lands on, key by key.

use std::ops::Range;

use actpol::values::did_you_mean;
use serde_json::Value as Json;

/// One change to an envelope, with the span of its path in the test file.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    Set {
        path: String,
        value: Json,
        span: Range<usize>,
    },
    Unset {
        path: String,
        span: Range<usize>,
    },
}

impl Edit {
    pub fn span(&self) -> Range<usize> {
        match self {
            Edit::Set { span, .. } | Edit::Unset { span, .. } => span.clone(),
        }
    }
}

/// Why an override cannot apply: a message and a help line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError {
    pub message: String,
    pub help: String,
}

/// Applies `edit` to `envelope`.
pub fn apply(envelope: &mut Json, edit: &Edit) -> Result<(), EditError> {
    match edit {
        Edit::Set { path, value, .. } => {
            let (parent, last) = parent_of(envelope, path)?;
            set(parent, last, value.clone(), path)
        }
        Edit::Unset { path, .. } => {
            let (parent, last) = parent_of(envelope, path)?;
            unset(parent, last, path)
        }
    }
}

/// The path's segments, when it is a well-formed dotted path.
pub fn segments(path: &str) -> Result<Vec<&str>, EditError> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(EditError {
            message: format!("`{path}` is not a dotted path"),
            help: "write a path such as `action.params.recipients`".to_string(),
        });
    }
    Ok(parts)
}

/// The container the path's last segment names a member of.
fn parent_of<'j, 'p>(
    envelope: &'j mut Json,
    path: &'p str,
) -> Result<(&'j mut Json, &'p str), EditError> {
    let parts = segments(path)?;
    let (last, walk) = parts.split_last().ok_or_else(|| EditError {
        message: "an override needs a path".to_string(),
        help: "write a path such as `action.params.recipients`".to_string(),
    })?;
    let mut here = envelope;
    for (depth, part) in walk.iter().enumerate() {
        let so_far = parts[..=depth].join(".");
        here = child(here, part).map_err(|known| missing(path, &so_far, part, &known))?;
    }
    Ok((here, last))
}

/// The member `part` of an object, or element of an array; otherwise the
/// names that are there, for the error.
fn child<'j>(here: &'j mut Json, part: &str) -> Result<&'j mut Json, Vec<String>> {
    match here {
        Json::Object(map) => {
            let known: Vec<String> = map.keys().cloned().collect();
            map.get_mut(part).ok_or(known)
        }
        Json::Array(items) => {
            let len = items.len();
            part.parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| (0..len).map(|i| i.to_string()).collect())
        }
        _ => Err(Vec::new()),
    }
}

fn missing(path: &str, so_far: &str, part: &str, known: &[String]) -> EditError {
    let help = match did_you_mean(part, known.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None if known.is_empty() => {
            "an override may add a key, but every object on its path must exist".to_string()
        }
        None => format!("there: {}", known.join(", ")),
    };
    EditError {
        message: format!(
            "override path `{path}` does not exist in the envelope: it has no `{so_far}`"
        ),
        help,
    }
}

fn set(parent: &mut Json, last: &str, value: Json, path: &str) -> Result<(), EditError> {
    match parent {
        Json::Object(map) => {
            match map.get_mut(last) {
                Some(existing) => merge(existing, value),
                None => {
                    map.insert(last.to_string(), value);
                }
            }
            Ok(())
        }
        Json::Array(items) => {
            let slot = last.parse::<usize>().ok().and_then(|i| items.get_mut(i));
            match slot {
                Some(slot) => {
                    merge(slot, value);
                    Ok(())
                }
                None => Err(EditError {
                    message: format!("override path `{path}`: the array has no element `{last}`"),
                    help: format!("the array has {} element(s), counted from 0", items.len()),
                }),
            }
        }
        _ => Err(not_a_container(path)),
    }
}

/// A table merges into an object key by key; anything else replaces.
fn merge(target: &mut Json, value: Json) {
    match (target, value) {
        (Json::Object(existing), Json::Object(incoming)) => {
            for (k, v) in incoming {
                match existing.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        existing.insert(k, v);
                    }
                }
            }
        }
        (target, value) => *target = value,
    }
}

fn unset(parent: &mut Json, last: &str, path: &str) -> Result<(), EditError> {
    let removed = match parent {
        Json::Object(map) => map.remove(last).is_some(),
        Json::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => return Err(not_a_container(path)),
    };
    if removed {
        Ok(())
    } else {
        Err(EditError {
            message: format!("nothing to unset: the envelope has no `{path}`"),
            help: "`unset` removes a key the envelope has; check the path".to_string(),
        })
    }
}

fn not_a_container(path: &str) -> EditError {
    EditError {
        message: format!(
            "override path `{path}` goes inside a value that is neither an object nor an array"
        ),
        help: "shorten the path to replace the value itself".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn envelope() -> Json {
        json!({
            "agent": {"id": "growth-bot"},
            "action": {"name": "outbound.send", "params": {"recipients": 120}},
            "object": {"attrs": {"tags": ["a", "b"]}}
        })
    }

    fn set_at(path: &str, value: Json) -> Edit {
        Edit::Set {
            path: path.into(),
            value,
            span: 0..0,
        }
    }

    #[test]
    fn set_replaces_and_adds_keys() {
        let mut env = envelope();
        apply(&mut env, &set_at("action.params.recipients", json!(1001))).unwrap();
        apply(&mut env, &set_at("action.params.discount", json!(0.1))).unwrap();
        apply(&mut env, &set_at("rollback", json!({"kind": "revert"}))).unwrap();
        apply(&mut env, &set_at("object.attrs.tags.1", json!("c"))).unwrap();
        assert_eq!(
            env["action"]["params"],
            json!({"recipients": 1001, "discount": 0.1})
        );
        assert_eq!(env["rollback"]["kind"], "revert");
        assert_eq!(env["object"]["attrs"]["tags"], json!(["a", "c"]));
    }

    #[test]
    fn tables_merge_key_by_key() {
        let mut env = envelope();
        apply(
            &mut env,
            &set_at("action", json!({"params": {"template": "t"}})),
        )
        .unwrap();
        assert_eq!(env["action"]["name"], "outbound.send");
        assert_eq!(
            env["action"]["params"],
            json!({"recipients": 120, "template": "t"})
        );
    }

    #[test]
    fn paths_through_missing_objects_are_errors() {
        let mut env = envelope();
        let err = apply(&mut env, &set_at("action.parms.recipients", json!(1))).unwrap_err();
        assert_eq!(
            err.message,
            "override path `action.parms.recipients` does not exist in the envelope: it has no `action.parms`"
        );
        assert_eq!(err.help, "did you mean `params`?");
        assert!(apply(&mut env, &set_at("agent.id.x", json!(1))).is_err());
        assert!(apply(&mut env, &set_at("a..b", json!(1))).is_err());
        assert!(apply(&mut env, &set_at("object.attrs.tags.5", json!(1))).is_err());
        assert_eq!(env, envelope());
    }

    #[test]
    fn unset_removes_what_exists() {
        let mut env = envelope();
        let unset = |path: &str| Edit::Unset {
            path: path.into(),
            span: 0..0,
        };
        apply(&mut env, &unset("action.params.recipients")).unwrap();
        assert_eq!(env["action"]["params"], json!({}));
        let err = apply(&mut env, &unset("rollback")).unwrap_err();
        assert!(err.message.contains("nothing to unset"));
    }
}
