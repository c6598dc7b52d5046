//! `record` declarations and `List<T>` types: the named shapes a list of
//! travellers or payments holds.

use actpol_core::ids::RecordId;
use actpol_core::types::Type;
use actpol_syntax::ast::TypeExpr;

use crate::checker::Checker;
use crate::schema::schema_field;

impl Checker<'_> {
    /// Resolves the fields of every record. A record holds no record
    /// (directly or in a collection): a record type can never contain
    /// itself, and a value's depth stays fixed.
    pub(crate) fn record_bodies(&mut self) {
        for i in 0..self.decls.records.len() {
            let (file, node) = (self.decls.records[i].file, self.decls.records[i].node);
            let mut infos = self.fields(file, &node.fields, "record field", false);
            for (field, info) in node.fields.iter().zip(infos.iter_mut()) {
                let holds_record = info.ty.as_ref().is_some_and(|t| {
                    matches!(t, Type::Record(_)) || matches!(t.element(), Some(Type::Record(_)))
                });
                if holds_record {
                    self.invalid_type(
                        file,
                        field.ty.span,
                        format!(
                            "record `{}` cannot hold a record in `{}`",
                            node.name.name, field.name.name
                        ),
                        "a record inside a record",
                        "give the record the inner record's fields, or carry the inner records in their own list",
                    );
                    info.ty = None;
                }
            }
            self.schema.records[i].fields = infos.iter().map(schema_field).collect();
            debug_assert_eq!(RecordId::from_index(i).index(), self.tables.records.len());
            self.tables.records.push(infos);
        }
    }

    /// `List<T>`: any element type but a collection.
    pub(crate) fn list_type(&mut self, file: u32, inner: &TypeExpr) -> Option<Type> {
        let elem = self.resolve_type(file, inner)?;
        if elem.is_list_element() {
            return Some(Type::List(Box::new(elem)));
        }
        let name = self.schema.type_name(&elem);
        self.invalid_type(
            file,
            inner.span,
            format!("a list cannot hold `{name}` values"),
            "not a list element type",
            "lists hold one value per element: a scalar, an enum, an entity or a record, not another collection",
        );
        None
    }
}
