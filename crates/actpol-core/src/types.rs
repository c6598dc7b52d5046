//! The types of the language.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{EntityId, EnumId, RecordId};

/// A three-letter currency code (`USD`). Money of different currencies never
/// mixes: the checker rejects it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Currency(pub [u8; 3]);

impl Currency {
    /// Accepts exactly three ASCII capital letters.
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes = code.as_bytes();
        (bytes.len() == 3 && bytes.iter().all(u8::is_ascii_uppercase))
            .then(|| Currency([bytes[0], bytes[1], bytes[2]]))
    }

    pub fn as_str(&self) -> &str {
        // INVARIANT: built only from ASCII capitals by `parse`, or by
        // deserializing what `parse` built; `verify` on artifacts checks it.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    pub fn is_valid(&self) -> bool {
        self.0.iter().all(u8::is_ascii_uppercase)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Type {
    Bool,
    Int,
    Decimal,
    String,
    Money(Currency),
    /// Milliseconds.
    Duration,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
    /// Elements are any type [`Type::is_set_element`] admits; sorted,
    /// without duplicates.
    Set(Box<Type>),
    Enum(EnumId),
    /// A reference to an entity: its id.
    Entity(EntityId),
    /// Ordered, duplicates kept.
    List(Box<Type>),
    /// A value of a declared `record` type: named fields, some optional.
    Record(RecordId),
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal)
    }

    /// Types with an order: `<`, `<=`, `min`, `max` and constraint bounds apply.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Type::Int | Type::Decimal | Type::Money(_) | Type::Duration | Type::Timestamp
        )
    }

    /// Whether a set may hold values of this type: anything with an
    /// equality that is not itself a collection or a truth value.
    pub fn is_set_element(&self) -> bool {
        matches!(
            self,
            Type::String
                | Type::Int
                | Type::Decimal
                | Type::Money(_)
                | Type::Duration
                | Type::Timestamp
                | Type::Enum(_)
                | Type::Entity(_)
                | Type::Record(_)
        )
    }

    /// Whether a list may hold values of this type: anything a set may,
    /// and `Bool`.
    pub fn is_list_element(&self) -> bool {
        *self == Type::Bool || self.is_set_element()
    }

    /// The element type of a set or list.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::Set(elem) | Type::List(elem) => Some(elem),
            _ => None,
        }
    }
}

/// The derived form of [`Type`]; reading it goes through a depth guard so
/// a hostile artifact of deeply nested sets cannot exhaust the stack.
#[derive(Deserialize)]
#[serde(rename = "Type")]
enum TypeRepr {
    Bool,
    Int,
    Decimal,
    String,
    Money(Currency),
    Duration,
    Timestamp,
    Set(Box<Type>),
    Enum(EnumId),
    Entity(EntityId),
    List(Box<Type>),
    Record(RecordId),
}

impl<'de> Deserialize<'de> for Type {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _depth = crate::nesting::enter::<D::Error>()?;
        Ok(match TypeRepr::deserialize(d)? {
            TypeRepr::Bool => Type::Bool,
            TypeRepr::Int => Type::Int,
            TypeRepr::Decimal => Type::Decimal,
            TypeRepr::String => Type::String,
            TypeRepr::Money(c) => Type::Money(c),
            TypeRepr::Duration => Type::Duration,
            TypeRepr::Timestamp => Type::Timestamp,
            TypeRepr::Set(t) => Type::Set(t),
            TypeRepr::Enum(e) => Type::Enum(e),
            TypeRepr::Entity(e) => Type::Entity(e),
            TypeRepr::List(t) => Type::List(t),
            TypeRepr::Record(r) => Type::Record(r),
        })
    }
}
