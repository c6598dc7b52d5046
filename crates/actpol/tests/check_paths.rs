//! Checking files from disk: a set of files none of which has a `policy`
//! header is an error, not a silent pass; one with a header is checked as
//! before.

const SCHEMA: &str = "system crm \"the CRM\"\nentity Account { name: String }\n";

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a scratch directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("writes");
    }
    dir
}

#[test]
fn a_directory_without_a_policy_header_is_an_error() {
    let dir = dir_with(&[("schema.actpol", SCHEMA)]);
    let report = actpol::check_paths(&[dir.path()]).expect("the files load");
    assert!(report.has_errors(), "{}", report.render_text(100));
    let codes: Vec<String> = report.codes().collect();
    assert_eq!(codes, vec!["actpol::check::no_policy".to_string()]);
    assert!(report.render_text(100).contains("help:"));
}

#[test]
fn a_directory_with_a_header_checks_clean() {
    let dir = dir_with(&[
        ("schema.actpol", SCHEMA),
        (
            "main.actpol",
            "import \"schema.actpol\"\npolicy crm { default deny \"no rule matched\" }\n",
        ),
    ]);
    let report = actpol::check_paths(&[dir.path()]).expect("the files load");
    assert!(!report.has_errors(), "{}", report.render_text(100));
    assert_eq!(report.warning_count(), 0, "{}", report.render_text(100));
}
