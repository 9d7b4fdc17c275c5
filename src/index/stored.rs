//! Stored documents as a search reads them for its hits. tantivy's own document type
//! copies every value into an arena as it is read, and a hit then copied each string out
//! again; here each value is read once into its own string, and a hit takes it by move.
//! On the full Alibaba corpus, decoding the ten stored documents of a page of hits was ~8%
//! of a search's instructions, most of it those copies.

use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer, ValueVisitor,
};
use tantivy::schema::{Field, Value};
use tantivy::TantivyDocument;

/// One stored value. The schema stores text and u64 values only. Other scalars (null, i64,
/// f64, bool) are kept as `Other`; a type the schema cannot hold (facet, bytes, date, IP,
/// object) fails the read with tantivy's unsupported-type error, as a schema mismatch should.
#[derive(Debug)]
enum Stored {
    Text(String),
    U64(u64),
    Other,
}

impl ValueDeserialize for Stored {
    fn deserialize<'de, D>(deserializer: D) -> Result<Self, DeserializeError>
    where
        D: ValueDeserializer<'de>,
    {
        struct Visitor;
        impl ValueVisitor for Visitor {
            type Value = Stored;
            fn visit_string(&self, val: String) -> Result<Stored, DeserializeError> {
                Ok(Stored::Text(val))
            }
            fn visit_u64(&self, val: u64) -> Result<Stored, DeserializeError> {
                Ok(Stored::U64(val))
            }
            fn visit_null(&self) -> Result<Stored, DeserializeError> {
                Ok(Stored::Other)
            }
            fn visit_i64(&self, _: i64) -> Result<Stored, DeserializeError> {
                Ok(Stored::Other)
            }
            fn visit_f64(&self, _: f64) -> Result<Stored, DeserializeError> {
                Ok(Stored::Other)
            }
            fn visit_bool(&self, _: bool) -> Result<Stored, DeserializeError> {
                Ok(Stored::Other)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A stored document, its values in stored order.
#[derive(Debug, Default)]
pub struct StoredDoc {
    values: Vec<(Field, Stored)>,
}

impl DocumentDeserialize for StoredDoc {
    fn deserialize<'de, D>(mut deserializer: D) -> Result<Self, DeserializeError>
    where
        D: DocumentDeserializer<'de>,
    {
        let mut values = Vec::with_capacity(deserializer.size_hint());
        while let Some((field, value)) = deserializer.next_field::<Stored>()? {
            values.push((field, value));
        }
        Ok(StoredDoc { values })
    }
}

impl StoredDoc {
    /// Every text value of `field`, in stored order, left in place.
    pub fn texts(&self, field: Field) -> impl Iterator<Item = &str> {
        self.values.iter().filter_map(move |(f, v)| match v {
            Stored::Text(s) if *f == field => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Where a hit's fields come from: a [`StoredDoc`], which gives its strings up (a second
/// take of a field finds it empty), or a `TantivyDocument`, which copies them.
pub trait FieldSource {
    /// The first text value of `field`.
    fn take_text(&mut self, field: Field) -> Option<String>;
    /// Every text value of `field`, in stored order.
    fn take_texts(&mut self, field: Field) -> Vec<String>;
    /// The first u64 value of `field`.
    fn u64(&self, field: Field) -> Option<u64>;
}

impl FieldSource for StoredDoc {
    fn take_text(&mut self, field: Field) -> Option<String> {
        self.values.iter_mut().find_map(|(f, v)| match v {
            Stored::Text(s) if *f == field => Some(std::mem::take(s)),
            _ => None,
        })
    }

    fn take_texts(&mut self, field: Field) -> Vec<String> {
        self.values
            .iter_mut()
            .filter_map(|(f, v)| match v {
                Stored::Text(s) if *f == field => Some(std::mem::take(s)),
                _ => None,
            })
            .collect()
    }

    fn u64(&self, field: Field) -> Option<u64> {
        self.values.iter().find_map(|(f, v)| match v {
            Stored::U64(x) if *f == field => Some(*x),
            _ => None,
        })
    }
}

impl FieldSource for TantivyDocument {
    fn take_text(&mut self, field: Field) -> Option<String> {
        self.get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    fn take_texts(&mut self, field: Field) -> Vec<String> {
        self.get_all(field)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    fn u64(&self, field: Field) -> Option<u64> {
        self.get_first(field).and_then(|v| v.as_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::DocSetCollector;
    use tantivy::query::AllQuery;
    use tantivy::schema::{NumericOptions, Schema, STORED, STRING};
    use tantivy::{doc, Index};

    /// Every field read through a `StoredDoc` is what the `TantivyDocument` of the same
    /// entry holds: first values, all values in order, numbers, and absent fields.
    #[test]
    fn a_stored_doc_reads_what_tantivys_document_holds() {
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING | STORED);
        let tags = b.add_text_field("tags", STRING | STORED);
        let at = b.add_u64_field("at", NumericOptions::default().set_stored());
        let absent = b.add_text_field("absent", STRING | STORED);
        let index = Index::create_in_ram(b.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.add_document(doc!(id => "ecs-ssh", tags => "ssh", tags => "网络", at => 42u64))
            .unwrap();
        w.add_document(doc!(id => "空的")).unwrap();
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let addrs = searcher.search(&AllQuery, &DocSetCollector).unwrap();
        assert_eq!(addrs.len(), 2);
        for addr in addrs {
            let full: TantivyDocument = searcher.doc(addr).unwrap();
            let mut stored: StoredDoc = searcher.doc(addr).unwrap();
            let mut copy = full.clone();
            for field in [id, tags, absent] {
                assert_eq!(stored.u64(field), None);
                assert_eq!(stored.take_texts(field), copy.take_texts(field));
            }
            assert_eq!(stored.u64(at), copy.u64(at));
            let mut stored: StoredDoc = searcher.doc(addr).unwrap();
            assert_eq!(stored.take_text(id), copy.take_text(id));
            assert_eq!(stored.take_text(absent), None);
        }
    }
}
