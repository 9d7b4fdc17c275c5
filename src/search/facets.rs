//! Facet counts (category, product, area, lang, tags) over every matching entry.

use std::collections::BTreeMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The faceted fields.
pub const FACET_FIELDS: [&str; 5] = ["category", "product", "area", "lang", "tags"];

/// Facet name → value → count.
pub type FacetCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Counts facet values of matching documents from the fast fields.
pub struct FacetCollector;

/// Per-segment state.
pub struct FacetSegment {
    columns: Vec<(usize, StrColumn, Vec<u64>)>,
}

impl Collector for FacetCollector {
    type Fruit = FacetCounts;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let mut columns = Vec::new();
        for (i, name) in FACET_FIELDS.iter().enumerate() {
            if let Some(col) = reader.fast_fields().str(name)? {
                let n = col.num_terms();
                columns.push((i, col, vec![0u64; n]));
            }
        }
        Ok(FacetSegment { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let mut out = FacetCounts::new();
        for f in fruits {
            for (k, vals) in f {
                let e = out.entry(k).or_default();
                for (v, n) in vals {
                    *e.entry(v).or_insert(0) += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (_, col, counts) in &mut self.columns {
            for ord in col.term_ords(doc) {
                if let Some(c) = counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetCounts {
        let mut out = FacetCounts::new();
        for (i, col, counts) in self.columns {
            let e = out.entry(FACET_FIELDS[i].to_string()).or_default();
            let mut s = String::new();
            for (ord, n) in counts.into_iter().enumerate() {
                if n > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                    *e.entry(s.clone()).or_insert(0) += n;
                }
            }
        }
        out
    }
}
