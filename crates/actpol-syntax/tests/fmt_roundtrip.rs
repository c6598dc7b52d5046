//! Formatting real policies: the shipped examples, the checker's corpus and
//! the samples next to this file. For each, formatting must keep the tree
//! (spans aside) and every comment, and formatting the result again must
//! change nothing.

mod ast_shape;

use std::path::{Path, PathBuf};

use actpol_syntax::{format_source, parse_file};
use ast_shape::{comment_texts, shape};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.actpol` file under `dir`, in a stable order. A directory that does
/// not exist (yet) holds none.
fn actpol_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "actpol") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// What is wrong with formatting `source`, if anything.
fn round_trip_problems(source: &str) -> Vec<String> {
    let Ok(original) = parse_file(source) else {
        return vec!["does not parse".into()];
    };
    let formatted = match format_source(source) {
        Ok(text) => text,
        Err(e) => return vec![format!("format_source failed: {e}")],
    };
    let mut problems = layout_problems(&formatted);
    let reparsed = match parse_file(&formatted) {
        Ok(file) => file,
        Err(e) => {
            problems.push(format!("formatted text does not parse: {e}\n{formatted}"));
            return problems;
        }
    };
    if shape(&reparsed) != shape(&original) {
        problems.push(format!("the tree changed; formatted text:\n{formatted}"));
    }
    if comment_texts(&reparsed) != comment_texts(&original) {
        problems.push(format!(
            "comments changed: {:?} became {:?}",
            comment_texts(&original),
            comment_texts(&reparsed)
        ));
    }
    match format_source(&formatted) {
        Ok(again) if again == formatted => {}
        Ok(again) => problems.push(format!(
            "not a fixpoint; first:\n{formatted}\nsecond:\n{again}"
        )),
        Err(e) => problems.push(format!("formatting twice failed: {e}")),
    }
    problems
}

/// The promises every formatted text keeps, whatever went in.
fn layout_problems(formatted: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !formatted.is_empty() && (!formatted.ends_with('\n') || formatted.ends_with("\n\n")) {
        problems.push("does not end with exactly one line break".into());
    }
    if formatted.starts_with('\n') || formatted.contains("\n\n\n") {
        problems.push("holds a leading or doubled blank line".into());
    }
    for (i, line) in formatted.lines().enumerate() {
        if line.ends_with([' ', '\t']) {
            problems.push(format!("line {} ends in whitespace: {line:?}", i + 1));
        }
        if line.starts_with('\t') {
            problems.push(format!("line {} is indented with a tab", i + 1));
        }
    }
    problems
}

fn check_files(files: &[PathBuf]) -> (usize, Vec<String>) {
    let mut formatted = 0;
    let mut failures = Vec::new();
    for path in files {
        let Ok(source) = std::fs::read_to_string(path) else {
            continue;
        };
        // The checker's corpus holds files that are wrong on purpose; only
        // text in the grammar can be formatted.
        if parse_file(&source).is_err() {
            continue;
        }
        formatted += 1;
        for problem in round_trip_problems(&source) {
            failures.push(format!("{}: {problem}", path.display()));
        }
    }
    (formatted, failures)
}

#[test]
fn shipped_policies_survive_formatting() {
    let root = repo_root();
    let mut files = actpol_files(&root.join("examples"));
    files.extend(actpol_files(&root.join("tests/check")));
    let (_, failures) = check_files(&files);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn samples_survive_formatting() {
    let files = actpol_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples"));
    assert!(files.len() >= 4, "the samples are missing: {files:?}");
    for path in &files {
        let source = std::fs::read_to_string(path).expect("sample is readable");
        assert!(
            parse_file(&source).is_ok(),
            "sample {} does not parse",
            path.display()
        );
    }
    let (formatted, failures) = check_files(&files);
    assert_eq!(formatted, files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn windows_line_endings_format_like_unix_ones() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples/comment_hazards.actpol"),
    )
    .expect("sample is readable");
    let crlf = source.replace('\n', "\r\n");
    assert!(round_trip_problems(&crlf).is_empty());
    assert_eq!(format_source(&crlf), format_source(&source));
}

#[test]
fn an_empty_file_stays_empty() {
    assert_eq!(format_source("").as_deref(), Ok(""));
    assert_eq!(format_source(" \n\n\t\n").as_deref(), Ok(""));
    assert_eq!(format_source("\n\n// only\n\n").as_deref(), Ok("// only\n"));
}

/// Chains (`a + b + …`, `x.y.z…`) are trees as deep as they are long; the
/// formatter lays out the longest the parser accepts (a sum one operand per
/// line, a path whole, as it has nowhere to break), and the parser refuses
/// longer ones rather than build trees every later pass would recurse on.
#[test]
fn long_chains_format_without_deep_recursion() {
    let too_long = format!("risk r = x{}\n", " + y".repeat(5_000));
    let err = format_source(&too_long).expect_err("a 5,000-term chain is refused");
    assert!(err.to_string().contains("nests deeper"), "{err}");
    let terms = actpol_syntax::MAX_DEPTH - 1;
    let sum = format!("risk r = x{}\n", " + y".repeat(terms));
    let laid_out = format!("risk r = x{}\n", "\n  + y".repeat(terms));
    assert_eq!(format_source(&sum).as_deref(), Ok(laid_out.as_str()));
    assert_eq!(format_source(&laid_out).as_deref(), Ok(laid_out.as_str()));
    let path = format!("risk r = x{}\n", ".y".repeat(terms));
    assert_eq!(format_source(&path).as_deref(), Ok(path.as_str()));
    let messy = format!("risk r = x{}\n", "+\ny".repeat(terms));
    assert_eq!(format_source(&messy).as_deref(), Ok(laid_out.as_str()));
}

/// The comparison the other tests rest on: blind to layout, not to meaning.
#[test]
fn shape_ignores_layout_but_not_content() {
    let parse = |s: &str| parse_file(s).expect("test source parses");
    let a = parse("risk r = a + 1 // note\n");
    let b = parse("\n\nrisk   r =\n  a+1\n");
    let c = parse("risk r = a + 2\n");
    let d = parse("risk r = \"1..2\"\n");
    let e = parse("risk r = \"3..4\"\n");
    assert_eq!(shape(&a), shape(&b));
    assert_ne!(shape(&a), shape(&c));
    assert_ne!(shape(&d), shape(&e));
    assert_eq!(comment_texts(&a), vec!["// note".to_string()]);
}

/// Without its source a parsed tree loses its layout, but not its words:
/// each comment and each piece of documentation is printed once.
#[test]
fn a_tree_printed_without_its_source_keeps_every_comment_once() {
    let source = "/// documents r\nrisk r = 1 // one\n// two\nrule q on a.b { allow }\n";
    let file = parse_file(source).expect("test source parses");
    let printed = actpol_syntax::format_file(&file, "");
    let reparsed = parse_file(&printed).expect("printed text parses");
    assert_eq!(comment_texts(&reparsed), comment_texts(&file), "{printed}");
    assert_eq!(shape(&reparsed), shape(&file), "{printed}");
}
