//! The fast-field columns a search reads for its candidates: entry ids (tie-breaks, the
//! ids of collapsed duplicates), duplicate keys and the problem-entry flag. A generation
//! never changes, so they are opened once when it is opened, not on every search: opening a
//! column reads its header and, for the ids, its term dictionary's index.

use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, Searcher};

/// Per segment of a generation, in segment order (`DocAddress::segment_ord`).
pub struct Columns {
    /// The `id` column; `None` where a segment lacks it.
    pub id: Vec<Option<StrColumn>>,
    /// The `area` column (the entry's product, else its top-level folder).
    pub area: Vec<Option<StrColumn>>,
    /// The `dupkey` column: entries with the same key are copies of one text.
    pub dupkey: Vec<Option<Column<u64>>>,
    /// The `problem` column: 1 for entries that describe a problem and its fix.
    pub problem: Vec<Option<Column<u64>>>,
    /// The `structured` column: percent of an entry's text in tables and code.
    pub structured: Vec<Option<Column<u64>>>,
}

/// The value of one of the u64 columns (`Columns::problem`, `Columns::structured`) for the
/// entry at `addr`; `None` where its segment lacks the column.
pub fn u64_at(column: &[Option<Column<u64>>], addr: DocAddress) -> Option<u64> {
    column
        .get(addr.segment_ord as usize)
        .and_then(|c| c.as_ref())
        .and_then(|c| c.first(addr.doc_id))
}

impl Columns {
    /// The columns of `searcher`'s segments.
    pub fn new(searcher: &Searcher) -> Columns {
        let readers = searcher.segment_readers();
        let u64s = |name: &str| -> Vec<Option<Column<u64>>> {
            readers
                .iter()
                .map(|r| r.fast_fields().u64(name).ok())
                .collect()
        };
        Columns {
            id: readers
                .iter()
                .map(|r| r.fast_fields().str("id").ok().flatten())
                .collect(),
            area: readers
                .iter()
                .map(|r| r.fast_fields().str("area").ok().flatten())
                .collect(),
            dupkey: u64s("dupkey"),
            problem: u64s("problem"),
            structured: u64s("structured"),
        }
    }
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("segments", &self.id.len())
            .finish_non_exhaustive()
    }
}
