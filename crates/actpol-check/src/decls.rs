//! Gathering the declarations of a unit's files into one namespace per kind.
//! A name declared twice is reported and its second declaration dropped, so
//! every later phase sees at most one declaration per name.

use std::collections::HashMap;

use actpol_syntax::ast::{
    ActionDecl, AgentDecl, ApproverDecl, BudgetDecl, ContextDecl, DescribedDecl, EntityDecl,
    EnumDecl, Ident, ItemKind, PolicyDecl, RaiseDecl, RecordDecl, RiskDecl, RuleDecl, Span,
};

use crate::diag::CheckError;
use crate::unit::Unit;

/// One declaration: the file (an index into the unit's files) and the node.
#[derive(Debug)]
pub(crate) struct Decl<'a, T> {
    pub file: u32,
    pub name: &'a Ident,
    pub node: &'a T,
    pub doc: Option<&'a str>,
    /// The whole declaration.
    pub span: Span,
}

/// A block that has no name: the policy header, the context.
#[derive(Debug)]
pub(crate) struct Block<'a, T> {
    pub file: u32,
    pub node: &'a T,
    pub span: Span,
}

/// The built-in types, which user enums and entities may not redeclare.
pub(crate) const BUILTIN_TYPES: [&str; 11] = [
    "Bool",
    "Int",
    "Decimal",
    "String",
    "Money",
    "Duration",
    "Timestamp",
    "Set",
    "List",
    "Weekday",
    "Reversibility",
];

#[derive(Debug, Default)]
pub(crate) struct Decls<'a> {
    pub headers: Vec<Block<'a, PolicyDecl>>,
    pub contexts: Vec<Block<'a, ContextDecl>>,
    pub enums: Vec<Decl<'a, EnumDecl>>,
    pub entities: Vec<Decl<'a, EntityDecl>>,
    pub records: Vec<Decl<'a, RecordDecl>>,
    pub data_classes: Vec<Decl<'a, DescribedDecl>>,
    pub systems: Vec<Decl<'a, DescribedDecl>>,
    pub actions: Vec<Decl<'a, ActionDecl>>,
    pub agents: Vec<Decl<'a, AgentDecl>>,
    pub approvers: Vec<Decl<'a, ApproverDecl>>,
    pub budgets: Vec<Decl<'a, BudgetDecl>>,
    pub risks: Vec<Decl<'a, RiskDecl>>,
    /// Rules and raises share a namespace (both are named in a decision's
    /// `rules`); a duplicate is still checked, its name reported.
    pub rules: Vec<Decl<'a, RuleDecl>>,
    pub raises: Vec<Decl<'a, RaiseDecl>>,
}

/// Where each name of one kind was first declared; `None` for built-ins.
#[derive(Debug, Default)]
struct Namespace<'a> {
    kind: &'static str,
    seen: HashMap<&'a str, Option<(u32, Span)>>,
}

impl<'a> Namespace<'a> {
    fn new(kind: &'static str) -> Self {
        Namespace {
            kind,
            seen: HashMap::new(),
        }
    }

    /// Records `name`; reports and returns `false` if it was taken.
    fn claim(&mut self, unit: &mut Unit<'_>, file: u32, name: &'a Ident) -> bool {
        match self.seen.get(name.name.as_str()) {
            None => {
                self.seen.insert(&name.name, Some((file, name.span)));
                true
            }
            Some(first) => {
                report_duplicate(unit, self.kind, file, name, *first);
                false
            }
        }
    }
}

fn report_duplicate(
    unit: &mut Unit<'_>,
    kind: &str,
    file: u32,
    name: &Ident,
    first: Option<(u32, Span)>,
) {
    let (message, help, first_span) = match first {
        None => (
            format!("`{}` is a built-in type", name.name),
            "give this declaration another name".to_string(),
            None,
        ),
        Some((first_file, first_span)) => {
            let same_file = first_file == file;
            let help = if same_file {
                "rename one of them, or remove the repeated declaration".to_string()
            } else {
                format!(
                    "the first is at {}; rename one of them, or remove the repeated declaration",
                    unit.place(first_file, first_span)
                )
            };
            (
                format!("{kind} `{}` is declared twice", name.name),
                help,
                same_file.then(|| first_span.into()),
            )
        }
    };
    unit.report(
        file,
        CheckError::DuplicateName {
            message,
            span: name.span.into(),
            first: first_span,
            help,
        },
    );
}

/// A duplicate among names local to one declaration (fields, variants).
pub(crate) fn check_local_names<'n>(
    unit: &mut Unit<'_>,
    file: u32,
    kind: &'static str,
    names: impl IntoIterator<Item = &'n Ident>,
) -> Vec<bool> {
    let mut ns = Namespace::new(kind);
    names.into_iter().map(|n| ns.claim(unit, file, n)).collect()
}

impl<'a> Decls<'a> {
    /// Collects the declarations of every parsed file of the unit.
    pub(crate) fn collect(unit: &mut Unit<'a>) -> Decls<'a> {
        let mut decls = Decls::default();
        let mut types = Namespace::new("type");
        for builtin in BUILTIN_TYPES {
            types.seen.insert(builtin, None);
        }
        let mut spaces = Spaces {
            types,
            data_classes: Namespace::new("data class"),
            systems: Namespace::new("system"),
            actions: Namespace::new("action"),
            agents: Namespace::new("agent"),
            approvers: Namespace::new("approver"),
            budgets: Namespace::new("budget"),
            risks: Namespace::new("risk"),
            rules: Namespace::new("rule or raise"),
        };
        let db = unit.db;
        for (index, id) in unit.files.clone().into_iter().enumerate() {
            let Ok(file) = &db.file(id).parsed else {
                continue;
            };
            let file_ix = index as u32;
            for item in &file.items {
                let doc = item.doc.as_deref();
                decls.add(unit, &mut spaces, file_ix, &item.kind, item.span, doc);
            }
        }
        decls
    }

    fn add(
        &mut self,
        unit: &mut Unit<'_>,
        ns: &mut Spaces<'a>,
        file: u32,
        kind: &'a ItemKind,
        span: Span,
        doc: Option<&'a str>,
    ) {
        let decl = |name: &'a Ident| (file, name, doc, span);
        match kind {
            ItemKind::Import(_) => {}
            ItemKind::Policy(node) => self.headers.push(Block { file, node, span }),
            ItemKind::Context(node) => self.contexts.push(Block { file, node, span }),
            ItemKind::Enum(node) => {
                push(unit, &mut ns.types, &mut self.enums, decl(&node.name), node)
            }
            ItemKind::Entity(node) => push(
                unit,
                &mut ns.types,
                &mut self.entities,
                decl(&node.name),
                node,
            ),
            ItemKind::Record(node) => push(
                unit,
                &mut ns.types,
                &mut self.records,
                decl(&node.name),
                node,
            ),
            ItemKind::DataClass(node) => push(
                unit,
                &mut ns.data_classes,
                &mut self.data_classes,
                decl(&node.name),
                node,
            ),
            ItemKind::System(node) => push(
                unit,
                &mut ns.systems,
                &mut self.systems,
                decl(&node.name),
                node,
            ),
            ItemKind::Action(node) => push(
                unit,
                &mut ns.actions,
                &mut self.actions,
                decl(&node.name),
                node,
            ),
            ItemKind::Agent(node) => push(
                unit,
                &mut ns.agents,
                &mut self.agents,
                decl(&node.name),
                node,
            ),
            ItemKind::Approver(node) => push(
                unit,
                &mut ns.approvers,
                &mut self.approvers,
                decl(&node.name),
                node,
            ),
            ItemKind::Budget(node) => push(
                unit,
                &mut ns.budgets,
                &mut self.budgets,
                decl(&node.name),
                node,
            ),
            ItemKind::Risk(node) => {
                push(unit, &mut ns.risks, &mut self.risks, decl(&node.name), node)
            }
            ItemKind::Rule(node) => {
                ns.rules.claim(unit, file, &node.name);
                self.rules.push(Decl {
                    file,
                    name: &node.name,
                    node,
                    doc,
                    span,
                });
            }
            ItemKind::Raise(node) => {
                ns.rules.claim(unit, file, &node.name);
                self.raises.push(Decl {
                    file,
                    name: &node.name,
                    node,
                    doc,
                    span,
                });
            }
        }
    }
}

struct Spaces<'a> {
    types: Namespace<'a>,
    data_classes: Namespace<'a>,
    systems: Namespace<'a>,
    actions: Namespace<'a>,
    agents: Namespace<'a>,
    approvers: Namespace<'a>,
    budgets: Namespace<'a>,
    risks: Namespace<'a>,
    rules: Namespace<'a>,
}

/// Adds a declaration unless its name is taken in `ns`.
fn push<'a, T>(
    unit: &mut Unit<'_>,
    ns: &mut Namespace<'a>,
    list: &mut Vec<Decl<'a, T>>,
    (file, name, doc, span): (u32, &'a Ident, Option<&'a str>, Span),
    node: &'a T,
) {
    if ns.claim(unit, file, name) {
        list.push(Decl {
            file,
            name,
            node,
            doc,
            span,
        });
    }
}
