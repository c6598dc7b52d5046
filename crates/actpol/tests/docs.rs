//! The documentation refers to nothing outside the repository: every
//! relative link in `README.md` and `docs/` leads to a file that exists,
//! and no page points at an absolute path on someone's machine.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages
}

/// The targets of `[text](target)` links in `text`.
fn links(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn every_link_in_the_docs_leads_inside_the_repository() {
    let repo = root().canonicalize().expect("the repository");
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        let dir = page.parent().expect("in a directory");
        for link in links(&text) {
            let target = link.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = dir.join(target).canonicalize();
            if !resolved.is_ok_and(|p| p.starts_with(&repo)) {
                broken.push(format!("{}: ({link})", page.display()));
            }
        }
        for (number, line) in text.lines().enumerate() {
            if line.contains("/work/") || line.contains("/home/") {
                broken.push(format!("{}:{}: {line}", page.display(), number + 1));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links out of the repository:\n{}",
        broken.join("\n")
    );
}
