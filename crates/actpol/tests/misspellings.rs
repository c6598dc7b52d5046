//! Misspelling any attribute, action or enum variant an example policy
//! uses makes `check` fail with a "did you mean" that names the right one.
//! Every name the examples use is misspelt in turn, at one place where the
//! policy uses it (not where it is declared).

use std::collections::BTreeSet;
use std::path::Path;

struct Set {
    name: &'static str,
    files: Vec<(String, String)>,
}

fn load(name: &'static str) -> Set {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "actpol"))
        .map(|p| {
            let file = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                format!("{name}/{file}"),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    Set { name, files }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Where `needle` stands in code (not in a comment or string), as a whole
/// name: the first such place in files other than `skip`.
fn first_use(
    set: &Set,
    needle: &str,
    whole: impl Fn(&str, usize) -> bool,
) -> Option<(usize, usize)> {
    for (i, (path, text)) in set.files.iter().enumerate() {
        if path.ends_with("schema.actpol") {
            continue;
        }
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let code_end = line.find("//").unwrap_or(line.len());
            let code = &line[..code_end];
            let mut from = 0;
            while let Some(at) = code[from..].find(needle) {
                let at = from + at;
                let in_string = code[..at].matches('"').count() % 2 == 1;
                if !in_string && whole(code, at) {
                    return Some((i, line_start + at));
                }
                from = at + needle.len();
            }
            line_start += line.len();
        }
    }
    None
}

/// The name with two neighbouring characters swapped: one edit away.
fn misspell(name: &str) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let mid = chars.len() / 2;
    let i = (mid.saturating_sub(1)..chars.len().saturating_sub(1))
        .find(|i| chars[*i] != chars[*i + 1])?;
    let mut out = chars.clone();
    out.swap(i, i + 1);
    Some(out.into_iter().collect())
}

/// Misspells `name` (at `offset` in file `index`, `len` bytes of it being
/// the name) and returns the check's diagnostics as text.
fn check_with(set: &Set, index: usize, offset: usize, name: &str, wrong: &str) -> (bool, String) {
    let mut files = set.files.clone();
    let text = &mut files[index].1;
    text.replace_range(offset..offset + name.len(), wrong);
    let report = actpol::check_sources(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    (report.has_errors(), report.render_text(200))
}

fn declared(set: &Set, keyword: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (_, text) in &set.files {
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix(keyword) {
                let name: String = rest
                    .chars()
                    .take_while(|c| is_name_char(*c) || *c == '.')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out.into_iter().collect()
}

fn variants(set: &Set) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (_, text) in &set.files {
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("enum ") else {
                continue;
            };
            let Some((name, body)) = rest.split_once('{') else {
                continue;
            };
            for v in body.trim_end_matches('}').split(',') {
                let v = v.trim().trim_end_matches('}').trim();
                if !v.is_empty() {
                    out.push((name.trim().to_string(), v.to_string()));
                }
            }
        }
    }
    out
}

fn attributes(set: &Set) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, text) in &set.files {
        if path.ends_with("schema.actpol") {
            continue;
        }
        for (at, _) in text.match_indices("object.") {
            let name: String = text[at + 7..]
                .chars()
                .take_while(|c| is_name_char(*c))
                .collect();
            if !name.is_empty() && name != "id" {
                out.insert(name);
            }
        }
    }
    out
}

/// Which part of a use a misspelling changes.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// The whole name (`crm.update_owner`); a `.` may not follow it.
    Whole,
    /// What follows the last dot (`object.x`, `Enum.v`); a method may follow.
    Last,
}

/// Asserts that misspelling each use (shown name, text to find) where the
/// policy first uses it fails the check with a suggestion of the shown name.
/// Returns how many it tried.
fn each_misspelt(set: &Set, kind: &str, uses: &[(String, String)], part: Part) -> usize {
    let mut tried = 0;
    for (shown, token) in uses {
        let whole = |code: &str, at: usize| {
            let before = code[..at].chars().next_back();
            let after = code[at + token.len()..].chars().next();
            let ends = |c: char| is_name_char(c) || (part == Part::Whole && c == '.');
            !before.is_some_and(|c| is_name_char(c) || c == '.') && !after.is_some_and(ends)
        };
        let Some((index, offset)) = first_use(set, token, whole) else {
            continue;
        };
        let (prefix, name) = match part {
            Part::Whole => ("", token.as_str()),
            Part::Last => token.rsplit_once('.').expect("a dotted use"),
        };
        let Some(wrong_name) = misspell(name) else {
            continue;
        };
        let wrong = if prefix.is_empty() {
            wrong_name
        } else {
            format!("{prefix}.{wrong_name}")
        };
        let (failed, text) = check_with(set, index, offset, token, &wrong);
        assert!(
            failed,
            "{}: misspelling {kind} `{shown}` as `{wrong}` passed the check",
            set.name
        );
        assert!(
            text.contains(&format!("did you mean `{shown}`?")),
            "{}: misspelling {kind} `{shown}` as `{wrong}` suggests something else:\n{text}",
            set.name
        );
        tried += 1;
    }
    tried
}

/// `attrs_least`: how many of the set's `object.x` reads must be tried (a
/// set that reads its facts from parameters has few).
fn misspell_everything(name: &'static str, attrs_least: usize) {
    let set = load(name);
    let actions: Vec<(String, String)> = declared(&set, "action ")
        .into_iter()
        .map(|a| (a.clone(), a))
        .collect();
    let attrs: Vec<(String, String)> = attributes(&set)
        .into_iter()
        .map(|a| (a.clone(), format!("object.{a}")))
        .collect();
    let variants: Vec<(String, String)> = variants(&set)
        .into_iter()
        .map(|(e, v)| (v.clone(), format!("{e}.{v}")))
        .collect();
    // A misspelt `object.x` reads as `object.` plus a misspelt `x`: the
    // name to misspell is the attribute, the one to find is `object.x`.
    let attrs_tried = each_misspelt(&set, "attribute", &attrs, Part::Last);
    let actions_tried = each_misspelt(&set, "action", &actions, Part::Whole);
    let variants_tried = each_misspelt(&set, "enum variant", &variants, Part::Last);
    assert!(
        actions_tried >= 5,
        "{name}: only {actions_tried} actions tried"
    );
    assert!(
        attrs_tried >= attrs_least,
        "{name}: only {attrs_tried} attributes tried"
    );
    assert!(
        variants_tried >= 5,
        "{name}: only {variants_tried} variants tried"
    );
}

#[test]
fn growth_misspellings_are_caught_and_corrected() {
    misspell_everything("growth", 10);
}

#[test]
fn support_misspellings_are_caught_and_corrected() {
    misspell_everything("support", 10);
}

#[test]
fn finance_misspellings_are_caught_and_corrected() {
    misspell_everything("finance", 10);
}

#[test]
fn assistant_misspellings_are_caught_and_corrected() {
    misspell_everything("assistant", 5);
}
