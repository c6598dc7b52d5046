//! Structs read from JSON objects only. serde's derived readers take a
//! struct from a JSON object or from an array of its fields in order
//! (`"agent": ["growth-bot", "maria", "outbound"]`); the envelope's contract
//! has objects, and the screen holds an array to other limits and paths than
//! an object. Both envelope readers read the envelope and its frame objects
//! through these, so neither takes an array for an object.

use serde::de::Visitor;
use serde::{Deserialize, Deserializer};

/// A deserializer whose structs are read from maps only.
pub(crate) struct ObjectOnly<D>(pub(crate) D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A `T` read from a JSON object only: `Option<Object<T>>` reads one or
/// `null`, `Vec<Object<T>>` a list of them.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(ObjectOnly(d)).map(Object)
    }
}

/// For `deserialize_with`: a `T` from an object only.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

/// For `deserialize_with`: a `T` from an object, or nothing from `null`.
pub(crate) fn optional<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// For `deserialize_with`: a list of `T`s, each from an object, or nothing
/// from `null`.
pub(crate) fn optional_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    let list = Option::<Vec<Object<T>>>::deserialize(d)?;
    Ok(list.map(|items| items.into_iter().map(|o| o.0).collect()))
}
