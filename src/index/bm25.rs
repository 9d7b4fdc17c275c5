//! BM25 as tantivy computes it, for scoring term clauses outside tantivy's scorers (see
//! `search::candidate_pass`): the same statistics and the same float operations, so a
//! score is bit for bit the one tantivy gives.

use tantivy::fieldnorm::FieldNormReader;
use tantivy::schema::Field;
use tantivy::Searcher;

/// tantivy's BM25 constants.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// The IDF of a term in `df` of `docs` documents.
pub fn idf(df: u64, docs: u64) -> f32 {
    let x = ((docs - df.min(docs)) as f32 + 0.5) / (df as f32 + 0.5);
    (1.0 + x).ln()
}

/// The BM25 weight of a term in `df` of `docs` documents: IDF × (1 + k1).
pub fn weight(df: u64, docs: u64) -> f32 {
    idf(df, docs) * (1.0 + K1)
}

/// The BM25 weight of several terms scored as one phrase (tantivy adds their IDFs).
pub fn phrase_weight(dfs: &[u64], docs: u64) -> f32 {
    let mut sum = 0.0f32;
    for &df in dfs {
        sum += idf(df, docs);
    }
    sum * (1.0 + K1)
}

/// The length normalisation of every indexed field, per fieldnorm id. A generation never
/// changes, so its tables are built once when it is opened, not once per query.
#[derive(Debug)]
pub struct Norms {
    /// Documents, deleted ones included (tantivy's `total_num_docs`).
    pub docs: u64,
    /// Per indexed field: its average tokens per document, and its table.
    fields: Vec<(Field, f32, Box<[f32; 256]>)>,
}

impl Norms {
    /// The tables of `searcher`'s generation.
    pub fn new(searcher: &Searcher) -> Norms {
        let readers = searcher.segment_readers();
        let docs: u64 = readers.iter().map(|r| u64::from(r.max_doc())).sum();
        let fields = searcher
            .schema()
            .fields()
            .filter(|(_, e)| e.is_indexed())
            .map(|(field, _)| {
                let tokens: u64 = readers
                    .iter()
                    .filter_map(|r| r.inverted_index(field).ok())
                    .map(|i| i.total_num_tokens())
                    .sum();
                let average = tokens as f32 / docs as f32;
                let mut norms = Box::new([0f32; 256]);
                for (id, n) in norms.iter_mut().enumerate() {
                    let fieldnorm = FieldNormReader::id_to_fieldnorm(id as u8);
                    *n = K1 * (1.0 - B + B * fieldnorm as f32 / average);
                }
                (field, average, norms)
            })
            .collect();
        Norms { docs, fields }
    }

    /// The average number of tokens `field` holds per document (0 when it is not indexed).
    pub fn average(&self, field: Field) -> f32 {
        self.fields
            .iter()
            .find(|(f, ..)| *f == field)
            .map_or(0.0, |(_, a, _)| *a)
    }

    /// The table of `field` (None when it is not indexed).
    pub fn of(&self, field: Field) -> Option<&[f32; 256]> {
        self.fields
            .iter()
            .find(|(f, ..)| *f == field)
            .map(|(.., n)| &**n)
    }
}
