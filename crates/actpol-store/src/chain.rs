//! The hash chain of the decision log, whatever holds it.
//!
//! Record `n` is canonical JSON text ([`actpol_core::canonical`]) that
//! names its own position (`seq`); its hash is
//! `sha256(hash(n-1) "\n" text(n))`, with [`GENESIS`] before the first. So
//! editing a record breaks its hash, deleting or reordering records breaks
//! the positions and the links, and the store keeps the last position and
//! hash apart (the head), updated in the same transaction, so truncating
//! the tail is seen too. Verification reads the stored text as is: nothing
//! is re-serialised, so it does not depend on how JSON is printed.
//!
//! What a chain cannot prove on its own: that nobody with write access
//! rewrote every record and the head consistently. Against that, keep the
//! head elsewhere (`actpol audit verify` prints it) and compare.

use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of a record that follows `prev`.
pub fn link(prev: &str, record: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(b"\n");
    hasher.update(record.as_bytes());
    format!("sha256:{}", actpol_core::canonical::hex(&hasher.finalize()))
}

/// The columns a store keeps beside each record to filter and rank by.
/// Always derived from the record, so verification can hold them to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub kind: String,
    pub at: i64,
    pub agent: Option<String>,
    pub action: Option<String>,
    /// The decision's level, for decision records.
    pub level: Option<String>,
    /// The decision's rules, joined by `,`.
    pub rules: Option<String>,
    /// `Type/id` of the envelope's object.
    pub object: Option<String>,
}

impl Columns {
    pub fn of(record: &Json) -> Option<Columns> {
        let text = |v: &Json| v.as_str().map(str::to_string);
        let at = actpol_core::value::parse_timestamp(record.get("at")?.as_str()?)?;
        let kind = text(record.get("kind")?)?;
        let env = record.get("envelope").filter(|e| e.is_object());
        let decision = record.get("decision").filter(|d| d.is_object());
        let rules = decision
            .and_then(|d| d.get("rules"))
            .and_then(Json::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(Json::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            });
        Some(Columns {
            kind,
            at,
            agent: env.and_then(|e| e.pointer("/agent/id")).and_then(text),
            action: env.and_then(|e| e.pointer("/action/name")).and_then(text),
            level: decision.and_then(|d| d.get("decision")).and_then(text),
            rules,
            object: env.and_then(|e| {
                let ty = e.pointer("/object/type")?.as_str()?;
                let id = e.pointer("/object/id")?.as_str()?;
                Some(format!("{ty}/{id}"))
            }),
        })
    }
}

/// One stored record, as verification reads it.
#[derive(Debug)]
pub struct StoredRecord {
    pub seq: i64,
    pub prev: String,
    pub hash: String,
    pub text: String,
    pub columns: Columns,
}

/// The outcome of walking the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verification {
    /// Every record links to the one before, and the head is the last.
    Intact {
        records: u64,
        /// The last record's hash: keep it elsewhere to detect a rewrite.
        head: String,
    },
    /// The first position where the chain does not hold, and why.
    Broken { position: u64, reason: String },
}

/// Walks records in stored order.
#[derive(Debug)]
pub struct Walk {
    next: u64,
    last: String,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk::new()
    }
}

impl Walk {
    pub fn new() -> Walk {
        Walk {
            next: 1,
            last: GENESIS.to_string(),
        }
    }

    /// Checks the next stored record; the verdict if it breaks the chain.
    pub fn step(&mut self, row: &StoredRecord) -> Result<(), Verification> {
        let position = self.next;
        let broken = |reason: String| Verification::Broken { position, reason };
        if u64::try_from(row.seq).ok() != Some(position) {
            return Err(if row.seq > 0 && (row.seq as u64) > position {
                broken(format!(
                    "record {position} is missing (the next stored record is {})",
                    row.seq
                ))
            } else {
                broken(format!("record {} is stored out of order", row.seq))
            });
        }
        let record: Json = serde_json::from_str(&row.text)
            .map_err(|e| broken(format!("record {position} is not JSON: {e}")))?;
        if record.get("seq").and_then(Json::as_u64) != Some(position) {
            return Err(broken(format!(
                "record {position} says it is at another position: records were moved"
            )));
        }
        if row.prev != self.last {
            return Err(broken(format!(
                "record {position} does not follow record {}: its link to the previous hash is broken",
                position - 1
            )));
        }
        let expected = link(&self.last, &row.text);
        if row.hash != expected {
            return Err(broken(format!(
                "record {position} was changed: its hash does not match its content"
            )));
        }
        if Columns::of(&record).as_ref() != Some(&row.columns) {
            return Err(broken(format!(
                "record {position}'s indexed columns disagree with its content"
            )));
        }
        self.last = row.hash.clone();
        self.next += 1;
        Ok(())
    }

    /// The verdict once every record was read, against the stored head.
    pub fn finish(self, head: Option<(i64, String)>) -> Verification {
        let records = self.next - 1;
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS.to_string()));
        let head_seq = u64::try_from(head_seq).unwrap_or(0);
        if head_seq > records {
            return Verification::Broken {
                position: records + 1,
                reason: format!(
                    "the log was truncated: the head names record {head_seq}, and the log ends at {records}"
                ),
            };
        }
        if head_seq < records {
            return Verification::Broken {
                position: head_seq + 1,
                reason: format!(
                    "records after {head_seq} were appended outside the store (the head names record {head_seq})"
                ),
            };
        }
        if head_hash != self.last {
            return Verification::Broken {
                position: records.max(1),
                reason: "the head's hash is not the last record's".to_string(),
            };
        }
        Verification::Intact {
            records,
            head: self.last,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredRecord> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let text =
                    format!(r#"{{"at":"2026-11-25T14:00:00Z","kind":"commit","seq":{seq}}}"#);
                let hash = link(&prev, &text);
                let record: Json = serde_json::from_str(&text).unwrap();
                let row = StoredRecord {
                    seq,
                    prev: prev.clone(),
                    hash: hash.clone(),
                    text,
                    columns: Columns::of(&record).unwrap(),
                };
                prev = hash;
                row
            })
            .collect()
    }

    fn walk(rows: &[StoredRecord], head: Option<(i64, String)>) -> Verification {
        let mut w = Walk::new();
        for row in rows {
            if let Err(v) = w.step(row) {
                return v;
            }
        }
        w.finish(head)
    }

    fn position(v: Verification) -> u64 {
        match v {
            Verification::Broken { position, .. } => position,
            other => panic!("expected a break, got {other:?}"),
        }
    }

    #[test]
    fn an_untouched_chain_verifies_and_any_change_names_its_position() {
        let rows = chain(5);
        let head = Some((5, rows[4].hash.clone()));
        assert!(matches!(
            walk(&rows, head.clone()),
            Verification::Intact { records: 5, .. }
        ));

        let mut edited = chain(5);
        edited[2].text = edited[2].text.replace("commit", "release");
        edited[2].columns.kind = "release".into();
        assert_eq!(position(walk(&edited, head.clone())), 3);

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(position(walk(&deleted, head.clone())), 2);

        let mut swapped = chain(5);
        swapped.swap(3, 4);
        assert_eq!(position(walk(&swapped, head.clone())), 4);

        let truncated = chain(3);
        assert_eq!(position(walk(&truncated, head.clone())), 4);

        // Renumbering a record to hide a deletion is caught by its text.
        let mut renumbered = chain(5);
        renumbered.remove(1);
        for row in renumbered.iter_mut().skip(1) {
            row.seq -= 1;
        }
        assert_eq!(position(walk(&renumbered, head)), 2);
    }
}
