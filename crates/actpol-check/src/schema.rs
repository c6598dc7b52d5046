//! The schema: enums, data classes, systems, entities, actions and the
//! context, from their declarations.
//!
//! Ids are assigned before any body is read, so a field may name an entity
//! declared later (or in another file). Where a declaration is wrong the
//! schema gets a placeholder and [`Tables`] remembers that nothing is known,
//! so reads of that field type as the error type and report nothing more.

use actpol_core::ids::{ActionId, DataClassId, EntityId, EnumId, NameId, SystemId};
use actpol_core::schema::{
    ActionDef, Bounds, Described, Destination, EntityDef, EnumDef, FieldDef, ReversibilityClass,
    TriggerDef,
};
use actpol_core::types::{Currency, Type};
use actpol_core::value::parse_duration;
use actpol_core::zones::Zone;
use actpol_syntax::ast::{
    ActionDecl, ActionMember, EntityDecl, EntityMember, Field, Ident, NameList, ReversibilityKind,
    Span, Trigger, TypeExpr, TypeExprKind,
};

use actpol_syntax::ast;
use rust_decimal::Decimal;

use crate::checker::Checker;
use crate::decls::{check_local_names, BUILTIN_TYPES};
use crate::diag::{list, suggest, CheckError};
use crate::literal;
use crate::members::Members;
use crate::zoned::declared_zone;

/// A field as the checker knows it: `ty` is `None` when its declared type
/// was wrong (already reported).
#[derive(Clone, Debug)]
pub(crate) struct FieldInfo {
    pub name: NameId,
    pub ty: Option<Type>,
    pub optional: bool,
    pub bounds: Option<Bounds>,
    pub zone: Option<Zone>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ActionInfo {
    /// `None` when missing or unknown (already reported).
    pub object: Option<EntityId>,
    pub system: Option<SystemId>,
    pub params: Vec<FieldInfo>,
    pub irreversible: bool,
}

/// What the checker knows of fields, beside the schema.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    /// Indexed by [`EntityId`].
    pub entities: Vec<Vec<FieldInfo>>,
    /// Indexed by [`ActionId`].
    pub actions: Vec<ActionInfo>,
    pub context: Vec<FieldInfo>,
    /// Indexed by [`actpol_core::ids::RecordId`].
    pub records: Vec<Vec<FieldInfo>>,
}

/// Named scalar types, as written.
const SCALARS: [(&str, Type); 6] = [
    ("Bool", Type::Bool),
    ("Int", Type::Int),
    ("Decimal", Type::Decimal),
    ("String", Type::String),
    ("Duration", Type::Duration),
    ("Timestamp", Type::Timestamp),
];

pub(crate) fn field_lookup(fields: &[FieldInfo], name: NameId) -> Option<&FieldInfo> {
    fields.iter().find(|f| f.name == name)
}

impl Checker<'_> {
    /// Fills the schema from the declarations.
    pub(crate) fn build_schema(&mut self) {
        self.declare_enums();
        let decls = &self.decls;
        for d in &decls.data_classes {
            let description = d.node.description.as_ref().map(|s| s.value.clone());
            self.schema
                .data_classes
                .insert(d.name.name.clone(), Described { description });
        }
        for d in &decls.systems {
            let description = d.node.description.as_ref().map(|s| s.value.clone());
            self.schema
                .systems
                .insert(d.name.name.clone(), Described { description });
        }
        // Names first, bodies after: bodies refer to each other.
        for d in &decls.entities {
            self.schema.entities.insert(
                d.name.name.clone(),
                EntityDef {
                    attrs: Vec::new(),
                    data_classes: Vec::new(),
                    system: None,
                },
            );
        }
        for d in &decls.records {
            self.schema.records.insert(
                d.name.name.clone(),
                actpol_core::schema::RecordDef { fields: Vec::new() },
            );
        }
        for d in &decls.actions {
            self.schema.actions.insert(
                d.name.name.clone(),
                ActionDef {
                    system: SystemId(0),
                    object: EntityId(0),
                    params: Vec::new(),
                    reversibility: ReversibilityClass::Reversible,
                    data_classes: Vec::new(),
                    reads: Vec::new(),
                    sends: Vec::new(),
                    triggers: Vec::new(),
                },
            );
        }
        self.record_bodies();
        for i in 0..self.decls.entities.len() {
            let (file, node) = (self.decls.entities[i].file, self.decls.entities[i].node);
            self.entity_body(EntityId::from_index(i), file, node);
        }
        for i in 0..self.decls.actions.len() {
            let (file, node) = (self.decls.actions[i].file, self.decls.actions[i].node);
            self.action_body(ActionId::from_index(i), file, node);
        }
        self.context();
    }

    fn declare_enums(&mut self) {
        for i in 0..self.decls.enums.len() {
            let d = &self.decls.enums[i];
            let (file, node) = (d.file, d.node);
            let unique = check_local_names(&mut self.unit, file, "variant", &node.variants);
            let variants = node
                .variants
                .iter()
                .zip(unique)
                .filter(|(_, keep)| *keep)
                .map(|(v, _)| v.name.clone())
                .collect();
            self.schema.enums.insert(
                node.name.name.clone(),
                EnumDef {
                    variants,
                    builtin: false,
                },
            );
        }
    }

    fn context(&mut self) {
        let Some(first) = self.decls.contexts.first() else {
            return;
        };
        let (file, node) = (first.file, first.node);
        let first_span = first.span;
        for extra in &self.decls.contexts[1..] {
            let first = (extra.file == file)
                .then(|| Span::new(first_span.start as usize, first_span.start as usize + 7));
            let help = if first.is_some() {
                "merge the fields into the first `context` block".to_string()
            } else {
                format!(
                    "merge the fields into the `context` block at {}",
                    self.unit.place(file, first_span)
                )
            };
            let diag = CheckError::DuplicateMember {
                member: "context".into(),
                owner: "the policy".into(),
                span: Span::new(extra.span.start as usize, extra.span.start as usize + 7).into(),
                first: first.map(Into::into),
                help,
            };
            self.unit.report(extra.file, diag);
        }
        let fields = self.fields(file, &node.fields, "context field", false);
        self.schema.context = fields.iter().map(schema_field).collect();
        self.tables.context = fields;
    }

    fn entity_body(&mut self, id: EntityId, file: u32, node: &EntityDecl) {
        let owner = format!("entity `{}`", node.name.name);
        let mut members = Members::new(&owner);
        let mut fields = Vec::new();
        let mut data_classes = Vec::new();
        let mut system = None;
        for m in &node.members {
            match m {
                EntityMember::Field(f) => fields.push(f.clone()),
                EntityMember::Data(names) => data_classes.extend(self.data_class_list(file, names)),
                EntityMember::System(name, span) => {
                    if members.once(&mut self.unit, file, "system", *span) {
                        system = self.system_id(file, name);
                    }
                }
            }
        }
        let infos = self.fields(file, &fields, "attribute", true);
        let def = &mut self.schema.entities[id.index()];
        def.attrs = infos.iter().map(schema_field).collect();
        def.data_classes = data_classes;
        def.system = system;
        self.tables.entities.push(infos);
    }

    fn action_body(&mut self, id: ActionId, file: u32, node: &ActionDecl) {
        let owner = format!("action `{}`", node.name.name);
        let mut members = Members::new(&owner);
        let mut info = ActionInfo::default();
        let mut reversibility = None;
        let mut data_classes = Vec::new();
        let (mut reads, mut sends) = (Vec::new(), Vec::new());
        let mut triggers = Vec::new();
        for m in &node.members {
            match m {
                ActionMember::System(name, span) => {
                    if members.once(&mut self.unit, file, "system", *span) {
                        info.system = self.system_id(file, name);
                    }
                }
                ActionMember::Object(name, span) => {
                    if members.once(&mut self.unit, file, "object", *span) {
                        info.object = self.entity_id(file, name);
                    }
                }
                ActionMember::Params(fields, span) => {
                    if members.once(&mut self.unit, file, "params", *span) {
                        info.params = self.fields(file, fields, "parameter", false);
                    }
                }
                ActionMember::Reversibility(r) => {
                    if members.once(&mut self.unit, file, "reversibility", r.span) {
                        reversibility = Some(self.reversibility(file, &r.kind));
                    }
                }
                ActionMember::Data(names) => {
                    if members.once(&mut self.unit, file, "data", names.span) {
                        data_classes = self.data_class_list(file, names);
                    }
                }
                ActionMember::Reads(names) => {
                    if members.once(&mut self.unit, file, "reads", names.span) {
                        reads = self.data_class_list(file, names);
                    }
                }
                ActionMember::Sends(names) => {
                    if members.once(&mut self.unit, file, "sends", names.span) {
                        sends = self.destinations(file, names);
                    }
                }
                ActionMember::Triggers(list, span) => {
                    if members.once(&mut self.unit, file, "triggers", *span) {
                        triggers = list.iter().filter_map(|t| self.trigger(file, t)).collect();
                    }
                }
            }
        }
        let required = [
            ("system", "system crm"),
            ("object", "object Account"),
            (
                "reversibility",
                "reversible`, `compensable by <action> within 15m` or `irreversible",
            ),
        ];
        members.require(&mut self.unit, file, node.name.span, &required, |example| {
            format!("add `{example}` to the action's body")
        });
        let reversibility = reversibility
            .flatten()
            .unwrap_or(ReversibilityClass::Reversible);
        info.irreversible = reversibility == ReversibilityClass::Irreversible;
        let def = &mut self.schema.actions[id.index()];
        def.system = info.system.unwrap_or(SystemId(0));
        def.object = info.object.unwrap_or(EntityId(0));
        def.params = info.params.iter().map(schema_field).collect();
        def.reversibility = reversibility;
        def.data_classes = data_classes;
        def.reads = reads;
        def.sends = sends;
        def.triggers = triggers;
        self.tables.actions.push(info);
    }

    fn reversibility(&mut self, file: u32, kind: &ReversibilityKind) -> Option<ReversibilityClass> {
        Some(match kind {
            ReversibilityKind::Reversible => ReversibilityClass::Reversible,
            ReversibilityKind::Irreversible => ReversibilityClass::Irreversible,
            ReversibilityKind::Compensable { by, within } => {
                let by = self.action_id(file, by)?;
                let within = match within {
                    Some(d) => Some(self.duration(file, &d.text, d.span)?),
                    None => None,
                };
                ReversibilityClass::Compensable { by, within }
            }
        })
    }

    fn trigger(&mut self, file: u32, trigger: &Trigger) -> Option<TriggerDef> {
        match trigger {
            Trigger::Action(name) => self.action_id(file, name).map(TriggerDef::Action),
            Trigger::System(name) => self.system_id(file, name).map(TriggerDef::System),
        }
    }

    /// Resolves a list of fields; duplicates are reported and dropped.
    pub(crate) fn fields(
        &mut self,
        file: u32,
        fields: &[Field],
        kind: &'static str,
        is_entity: bool,
    ) -> Vec<FieldInfo> {
        let unique = check_local_names(&mut self.unit, file, kind, fields.iter().map(|f| &f.name));
        let mut out = Vec::new();
        for (field, keep) in fields.iter().zip(unique) {
            if is_entity && field.name.name == "id" {
                self.unit.report(
                    file,
                    CheckError::DuplicateName {
                        message: "attribute `id` clashes with the id every entity has".into(),
                        span: field.name.span.into(),
                        first: None,
                        help: "rename the attribute: `object.id` already reads the envelope's id"
                            .into(),
                    },
                );
                continue;
            }
            let ty = self.resolve_type(file, &field.ty);
            let bounds = match (&field.bounds, &ty) {
                (Some(written), Some(ty)) => self.field_bounds(file, written, ty),
                _ => None,
            };
            if keep {
                out.push(FieldInfo {
                    name: self.schema.intern_field(&field.name.name),
                    ty,
                    optional: field.optional,
                    bounds,
                    zone: declared_zone(&field.ty),
                });
            }
        }
        out
    }

    /// A field's bounds as written, read in its type's unit; `None`
    /// (reported) when the type has no numbers, an end is not in its unit,
    /// or the bounds admit no value.
    fn field_bounds(&mut self, file: u32, written: &ast::Bounds, ty: &Type) -> Option<Bounds> {
        if !matches!(ty, Type::Int | Type::Decimal | Type::Money(_)) {
            let name = self.schema.type_name(ty);
            self.invalid_bounds(
                file,
                written.span,
                format!("a `{name}` cannot be bounded"),
                "bounds need a number",
                "bound an `Int`, a `Decimal` or a `Money` field, or drop `in …`".to_string(),
            );
            return None;
        }
        let mut end = |lit: &Option<ast::BoundLit>| match lit {
            None => Some(None),
            Some(lit) => self.bound_value(file, lit, ty).map(Some),
        };
        let (least, most) = (end(&written.least)?, end(&written.most)?);
        let bounds = Bounds { least, most };
        if let (Some(l), Some(m)) = (least, most) {
            if l > m {
                self.invalid_bounds(
                    file,
                    written.span,
                    format!("the bounds `{}` admit no value", bounds.text(ty)),
                    "the least is more than the most",
                    format!(
                        "write the least first: `in {}`",
                        Bounds {
                            least: most,
                            most: least
                        }
                        .text(ty)
                    ),
                );
                return None;
            }
        }
        Some(bounds)
    }

    /// One end of a field's bounds, in the field's unit.
    fn bound_value(&mut self, file: u32, lit: &ast::BoundLit, ty: &Type) -> Option<Decimal> {
        let name = self.schema.type_name(ty);
        let written = lit.text();
        let unit_error = |help: String| {
            (
                format!("`{written}` cannot bound a field of type `{name}`"),
                help,
            )
        };
        let problem = match (ty, &lit.currency) {
            (Type::Money(c), None) => Some(unit_error(format!(
                "write the amount in {c}: `{} {c}`",
                lit.amount
            ))),
            (Type::Money(c), Some(given)) if given != c.as_str() => Some(unit_error(format!(
                "write the amount in {c}, the field's currency: `{} {c}`",
                lit.amount
            ))),
            (Type::Int | Type::Decimal, Some(_)) => Some(unit_error(format!(
                "a `{name}` has no currency: write `{}`",
                lit.amount
            ))),
            (Type::Int, None) if lit.amount.contains('.') => Some(unit_error(
                "an `Int` is bounded by whole numbers, such as `0` or `10_000`".to_string(),
            )),
            _ => None,
        };
        if let Some((message, help)) = problem {
            self.invalid_bounds(file, lit.span, message, "not in the field's unit", help);
            return None;
        }
        let value = match ty {
            Type::Int => literal::int(&lit.amount).map(Decimal::from),
            _ => literal::decimal(&lit.amount),
        };
        match value {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.invalid_bounds(
                    file,
                    lit.span,
                    invalid.message,
                    invalid.label,
                    invalid.help.to_string(),
                );
                None
            }
        }
    }

    fn invalid_bounds(
        &mut self,
        file: u32,
        span: Span,
        message: String,
        label: &str,
        help: String,
    ) {
        self.unit.report(
            file,
            CheckError::InvalidBounds {
                message,
                span: span.into(),
                label: label.to_string(),
                help,
            },
        );
    }

    /// A type as written; `None` (reported) when it names nothing usable.
    pub(crate) fn resolve_type(&mut self, file: u32, te: &TypeExpr) -> Option<Type> {
        match &te.kind {
            TypeExprKind::Named(name) => self.named_type(file, name),
            TypeExprKind::Money(code) => match Currency::parse(&code.name) {
                Some(c) => Some(Type::Money(c)),
                None => {
                    self.invalid_type(
                        file,
                        code.span,
                        format!("`{}` is not a currency code", code.name),
                        "not a currency",
                        "write three capital letters, as in `Money<USD>`",
                    );
                    None
                }
            },
            TypeExprKind::Set(inner) => {
                let elem = self.resolve_type(file, inner)?;
                if elem.is_set_element() {
                    return Some(Type::Set(Box::new(elem)));
                }
                let name = self.schema.type_name(&elem);
                self.invalid_type(
                    file,
                    inner.span,
                    format!("a set cannot hold `{name}` values"),
                    "not a set element type",
                    "sets hold strings, numbers, money, durations, timestamps, enums, entities and records",
                );
                None
            }
            TypeExprKind::List(inner) => self.list_type(file, inner),
            TypeExprKind::Zoned(base, zone) => self.zoned_type(file, te, base, zone),
        }
    }

    fn named_type(&mut self, file: u32, name: &Ident) -> Option<Type> {
        let text = name.name.as_str();
        if let Some((_, ty)) = SCALARS.iter().find(|(n, _)| *n == text) {
            return Some(ty.clone());
        }
        if let Some(id) = self.schema.enums.get_index_of(text) {
            return Some(Type::Enum(EnumId::from_index(id)));
        }
        if let Some(id) = self.schema.entities.get_index_of(text) {
            return Some(Type::Entity(EntityId::from_index(id)));
        }
        if let Some(id) = self.schema.records.get_index_of(text) {
            return Some(Type::Record(actpol_core::ids::RecordId::from_index(id)));
        }
        let example = match text {
            "Money" => Some("Money<USD>"),
            "Set" => Some("Set<String>"),
            "List" => Some("List<String>"),
            _ => None,
        };
        if let Some(example) = example {
            self.invalid_type(
                file,
                name.span,
                format!("`{text}` needs a parameter"),
                "incomplete type",
                &format!("write it in full, as in `{example}`"),
            );
            return None;
        }
        let candidates: Vec<&str> = BUILTIN_TYPES
            .iter()
            .copied()
            .chain(self.schema.enums.keys().map(String::as_str))
            .chain(self.schema.entities.keys().map(String::as_str))
            .chain(self.schema.records.keys().map(String::as_str))
            .collect();
        let help = suggest(text, candidates.iter().copied(), || {
            format!("declare it with `enum {text} {{ … }}` or `entity {text} {{ … }}`, or use a built-in type such as `String` or `Int`")
        });
        self.unit.report(
            file,
            CheckError::UnknownType {
                name: text.to_string(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn invalid_type(
        &mut self,
        file: u32,
        span: Span,
        message: String,
        label: &str,
        help: &str,
    ) {
        self.unit.report(
            file,
            CheckError::InvalidType {
                message,
                span: span.into(),
                label: label.to_string(),
                help: help.to_string(),
            },
        );
    }

    fn data_class_list(&mut self, file: u32, names: &NameList) -> Vec<DataClassId> {
        names
            .names
            .iter()
            .filter_map(|n| self.data_class_id(file, n))
            .collect()
    }

    fn destinations(&mut self, file: u32, names: &NameList) -> Vec<Destination> {
        let mut found = Vec::new();
        for name in &names.names {
            if let Some(d) = self.destination(file, name) {
                if !found.contains(&d) {
                    found.push(d);
                }
            }
        }
        found
    }

    /// `internal` or `external`: where an action sends, or what a rule
    /// asks of it (`action.sends(external)`).
    pub(crate) fn destination(&mut self, file: u32, name: &Ident) -> Option<Destination> {
        if let Some(d) = Destination::from_name(&name.name) {
            return Some(d);
        }
        let help = suggest(
            &name.name,
            Destination::ALL.map(Destination::as_str),
            || {
                "write `external` for what leaves the organisation, `internal` for what stays in it"
                    .into()
            },
        );
        self.unit.report(
            file,
            CheckError::UnknownDestination {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn data_class_id(&mut self, file: u32, name: &Ident) -> Option<DataClassId> {
        if let Some(i) = self.schema.data_classes.get_index_of(&name.name) {
            return Some(DataClassId::from_index(i));
        }
        let help = suggest(
            &name.name,
            self.schema.data_classes.keys().map(String::as_str),
            || format!("declare it with `data_class {} \"…\"`", name.name),
        );
        self.unit.report(
            file,
            CheckError::UnknownDataClass {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn system_id(&mut self, file: u32, name: &Ident) -> Option<SystemId> {
        if let Some(i) = self.schema.systems.get_index_of(&name.name) {
            return Some(SystemId::from_index(i));
        }
        let help = suggest(
            &name.name,
            self.schema.systems.keys().map(String::as_str),
            || format!("declare it with `system {} \"…\"`", name.name),
        );
        self.unit.report(
            file,
            CheckError::UnknownSystem {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn entity_id(&mut self, file: u32, name: &Ident) -> Option<EntityId> {
        if let Some(i) = self.schema.entities.get_index_of(&name.name) {
            return Some(EntityId::from_index(i));
        }
        let help = suggest(
            &name.name,
            self.schema.entities.keys().map(String::as_str),
            || {
                let known = list(self.schema.entities.keys().map(String::as_str), 5);
                format!(
                    "declare it with `entity {} {{ … }}`; entities declared: {known}",
                    name.name
                )
            },
        );
        self.unit.report(
            file,
            CheckError::UnknownEntity {
                name: name.name.clone(),
                span: name.span.into(),
                help,
            },
        );
        None
    }

    pub(crate) fn action_id(&mut self, file: u32, name: &Ident) -> Option<ActionId> {
        if let Some(id) = self.schema.action_id(&name.name) {
            return Some(id);
        }
        self.unknown_action(file, &name.name, name.span);
        None
    }

    pub(crate) fn unknown_action(&mut self, file: u32, name: &str, span: Span) {
        let help = suggest(name, self.schema.actions.keys().map(String::as_str), || {
            format!("declare it with `action {name} {{ … }}`")
        });
        self.unit.report(
            file,
            CheckError::UnknownAction {
                name: name.to_string(),
                span: span.into(),
                help,
            },
        );
    }

    /// A duration literal in milliseconds, reported when out of range.
    pub(crate) fn duration(&mut self, file: u32, text: &str, span: Span) -> Option<i64> {
        let ms = parse_duration(text);
        if ms.is_none() {
            self.unit.report(
                file,
                CheckError::InvalidLiteral {
                    message: format!("duration `{text}` is out of range"),
                    span: span.into(),
                    label: "too long to count in milliseconds".into(),
                    help: "write a shorter duration, such as `30d` or `52w`".into(),
                },
            );
        }
        ms
    }
}

pub(crate) fn schema_field(f: &FieldInfo) -> FieldDef {
    FieldDef {
        name: f.name,
        // Only reached by the IR when nothing was reported; a wrong type
        // was reported where it was written.
        ty: f.ty.clone().unwrap_or(Type::Bool),
        optional: f.optional,
        bounds: f.bounds,
        zone: f.zone,
    }
}
