//! Related entities: the records an envelope carries beside its object
//! (`"entities": [{"type": "Vendor", "id": "v-1", "attrs": {…}}]`), as an
//! entity store keyed by type and id. A reference attribute (`vendor:
//! Vendor`) holds an id; reading through it (`object.vendor.status`) looks
//! the entity up here, and an entity the envelope does not carry is absent.
//!
//! Binding checks each entity against its declaration: a type the schema
//! does not declare, two entities of one type and id, or attributes that do
//! not fit are envelope errors naming their JSON path.

use std::sync::Arc;

use crate::envelope::{EnvelopeError, FieldReader, Fields, Parts};
use crate::error::ErrorCode;
use crate::ids::EntityId;
use crate::schema::Schema;
use crate::suggest::did_you_mean;
use crate::value::Value;

/// The related entities of one envelope, sorted by type and id, each with
/// its attributes as a record value (one slot per declared attribute).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Related {
    entries: Vec<(EntityId, Arc<str>, Value)>,
}

impl Related {
    /// Whether the envelope carries no related entity.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many related entities the envelope carries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The attributes of the entity of this type and id, as a record value;
    /// `None` when the envelope does not carry it.
    #[inline]
    pub fn get(&self, entity: EntityId, id: &str) -> Option<&Value> {
        if self.entries.is_empty() {
            return None;
        }
        self.entries
            .binary_search_by(|(e, i, _)| e.cmp(&entity).then_with(|| (**i).cmp(id)))
            .ok()
            .map(|at| &self.entries[at].2)
    }
}

/// Binds the envelope's related entities: each type must be declared, each
/// (type, id) given once, and each entity's attributes must fit its
/// declaration (`read` binds them, as it binds the object's).
pub(crate) fn bind<E: From<EnvelopeError>>(
    p: &Parts<'_>,
    schema: &Schema,
    read: FieldReader<'_, E>,
) -> Result<Related, E> {
    if p.entities.is_empty() {
        return Ok(Related::default());
    }
    let mut entries = Vec::with_capacity(p.entities.len());
    for (at, (ty, id)) in p.entities.iter().enumerate() {
        let entity = schema
            .entities
            .get_index_of(*ty)
            .map(EntityId::from_index)
            .ok_or_else(|| unknown_entity(at, ty, schema))?;
        let attrs = read(Fields::Entity(at), &schema.entity(entity).attrs)?;
        entries.push((
            entity,
            Arc::<str>::from(*id),
            Value::Record(attrs.into()),
            at,
        ));
    }
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    if let Some(pair) = entries
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1)
    {
        let (first, again) = (pair[0].3.min(pair[1].3), pair[0].3.max(pair[1].3));
        let (ty, id) = p.entities[again];
        return Err(E::from(
            EnvelopeError::new(
                ErrorCode::EnvelopeDuplicateEntity,
                format!("$.entities[{again}]"),
                format!("entity `{ty}` `{id}` is given twice (first at `$.entities[{first}]`)"),
            )
            .help("give each related entity once, with all of its attributes"),
        ));
    }
    Ok(Related {
        entries: entries
            .into_iter()
            .map(|(entity, id, attrs, _)| (entity, id, attrs))
            .collect(),
    })
}

fn unknown_entity(at: usize, ty: &str, schema: &Schema) -> EnvelopeError {
    let names = schema.entities.keys().map(String::as_str);
    let help = match did_you_mean(ty, names) {
        Some(best) => format!("did you mean `{best}`?"),
        None => "a related entity's `type` must be an entity the policy's schema declares".into(),
    };
    EnvelopeError::new(
        ErrorCode::EnvelopeUnknownEntity,
        format!("$.entities[{at}].type"),
        format!("unknown entity type `{ty}`"),
    )
    .help(help)
}
