//! Time zones named in the text: the zone of a type
//! (`departs: Timestamp<"Europe/Paris">`, the zone an offset-less
//! timestamp of the field is local time in) and, through
//! [`Checker::known_zone`], the zone argument of a local-time method. Both
//! are resolved against the IANA database the runtime carries, so a
//! misspelt zone is a compile error, never a surprise at bind time.

use actpol_core::types::Type;
use actpol_core::zones::{self, Zone};
use actpol_syntax::ast::{Ident, Span, TypeExpr, TypeExprKind, ZoneArg};

use crate::checker::Checker;
use crate::diag::{suggest, CheckError};

impl Checker<'_> {
    /// `T<"zone">` as a type: a `Timestamp` with its zone checked. Another
    /// type, or a name not quoted, is reported; the type is still the one
    /// named, so the rest of the field checks as written.
    pub(crate) fn zoned_type(
        &mut self,
        file: u32,
        te: &TypeExpr,
        base: &Ident,
        zone: &ZoneArg,
    ) -> Option<Type> {
        if base.name != "Timestamp" {
            // `Money`, `Set` and `List` need a parameter of their own, which
            // this is not: only the zone is reported.
            let named = TypeExpr {
                kind: TypeExprKind::Named(base.clone()),
                span: base.span,
            };
            let ty = match base.name.as_str() {
                "Money" | "Set" | "List" => None,
                _ => self.resolve_type(file, &named),
            };
            self.invalid_type(
                file,
                te.span,
                format!("`{}` takes no time zone", base.name),
                "only a `Timestamp` takes a zone",
                &format!(
                    "declare the zone on a `Timestamp` field, as in `departs: \
                     Timestamp<\"Europe/Paris\">`, or write `{}` alone",
                    base.name
                ),
            );
            return ty;
        }
        if !zone.quoted {
            self.invalid_type(
                file,
                zone.span,
                format!("the time zone `{}` is not quoted", zone.name),
                "a zone is named by a string",
                &format!("quote the zone's name: `\"{}\"`", zone.name),
            );
        } else {
            // The name inside the quotes, which is what a "did you mean"
            // replaces.
            let name = Span {
                start: zone.span.start + 1,
                end: zone.span.end.saturating_sub(1),
            };
            self.known_zone(file, &zone.name, name);
        }
        Some(Type::Timestamp)
    }

    /// The zone `name` written at `span`; `None` (reported, with a "did you
    /// mean") when the IANA database has no such zone.
    pub(crate) fn known_zone(&mut self, file: u32, name: &str, span: Span) -> Option<Zone> {
        let zone = Zone::named(name);
        if zone.is_none() {
            let help = suggest(name, zones::zone_names(), || {
                "name an IANA zone such as `America/New_York`, `Europe/Paris` or `UTC`".into()
            });
            self.unit.report(
                file,
                CheckError::UnknownZone {
                    name: name.to_string(),
                    span: self.unit.tight(file, span).into(),
                    help,
                },
            );
        }
        zone
    }
}

/// The zone a field's type declares for its timestamps: its own, or its
/// list's or set's elements'. `None` where none is written or the one
/// written is not a known, quoted zone on a `Timestamp` (reported when the
/// type was resolved).
pub(crate) fn declared_zone(te: &TypeExpr) -> Option<Zone> {
    match &te.kind {
        TypeExprKind::Set(inner) | TypeExprKind::List(inner) => declared_zone(inner),
        TypeExprKind::Zoned(base, zone) if base.name == "Timestamp" && zone.quoted => {
            Zone::named(&zone.name)
        }
        _ => None,
    }
}
