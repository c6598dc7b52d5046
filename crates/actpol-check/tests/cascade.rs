//! One mistake, one report: a file that does not parse, or an import that
//! cannot be read, must not make the names it would have declared unknown
//! in every file that uses them.

use actpol_check::{check, check_all, require_policy, Diagnostic, FileId, SourceDb};

const SCHEMA: &str = r#"
system crm "Salesforce"
enum Tier { gold, silver }
entity Account {
  name: String
  tier: Tier
  arr: Money<USD>
}
action crm.rename {
  system crm
  object Account
  params { name: String  count: Int }
  reversible
}
action crm.close {
  system crm
  object Account
  params { reason: String }
  irreversible
}
approver lead
agent bot { owner "ops" workflow growth scope { systems crm } }
budget renames: Int { limit 10 window 1d per agent }
"#;

const MAIN: &str = r#"import "schema.actpol"
import "rules1.actpol"
import "rules2.actpol"
policy acme { default deny "no rule matched" }
"#;

const RULES1: &str = r#"
rule big on crm.rename for agent bot {
  when params.count > 5 and object.tier == Tier.gold
  escalate to lead "many renames"
}
rule close_gold on crm.close { when object.arr > 100 USD deny "gold" }
"#;

const RULES2: &str = r#"
rule use on crm.rename { when object.name == "" deny "no name" consume renames by 1 }
rule g on crm.rename for workflow growth { when object.tier == Tier.silver allow }
"#;

/// Every diagnostic of a check of `main.actpol`, as the CLI reports them.
fn diagnostics(schema: Option<&str>, rules2: &str) -> Vec<Diagnostic> {
    let mut sources = vec![
        ("main.actpol", MAIN),
        ("rules1.actpol", RULES1),
        ("rules2.actpol", rules2),
    ];
    if let Some(schema) = schema {
        sources.push(("schema.actpol", schema));
    }
    let db = SourceDb::from_sources(sources);
    let entry = FileId(0);
    let checked = check(&db, entry);
    let mut all = check_all(&db);
    all.extend(require_policy(&db, entry, &checked));
    all
}

fn codes(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(Diagnostic::code).collect()
}

#[test]
fn the_schema_checks_clean_as_written() {
    assert_eq!(
        codes(&diagnostics(Some(SCHEMA), RULES2)),
        Vec::<String>::new()
    );
}

#[test]
fn a_syntax_error_in_an_imported_schema_is_one_diagnostic() {
    // A field without its type: the parser stops there, so nothing of the
    // schema is declared.
    let broken = SCHEMA.replace("count: Int }", "count: }");
    let diags = diagnostics(Some(&broken), RULES2);
    assert!(diags.len() <= 2, "{:?}", codes(&diags));
    assert_eq!(codes(&diags), ["actpol::syntax::unexpected"]);
}

#[test]
fn a_missing_schema_import_is_one_diagnostic() {
    let diags = diagnostics(None, RULES2);
    assert!(diags.len() <= 2, "{:?}", codes(&diags));
    assert_eq!(codes(&diags), ["actpol::check::unknown_import"]);
}

#[test]
fn a_name_the_broken_file_never_mentions_is_still_unknown() {
    let broken = SCHEMA.replace("count: Int }", "count: }");
    let rules2 = RULES2.replace("consume renames", "consume refunds");
    let diags = diagnostics(Some(&broken), &rules2);
    let mut found = codes(&diags);
    found.sort();
    assert_eq!(
        found,
        [
            "actpol::check::unknown_budget",
            "actpol::syntax::unexpected"
        ]
    );
}
