//! Exhaustive retrieval, term at a time: each clause's matches are added into one score per
//! document, then the best are taken.
//!
//! A search's retrieval is a union of term clauses (a long ticket's, a dozen or more) and
//! the top 100 or so candidates re-scoring needs leave block-max WAND little to skip, so it
//! visits every match. tantivy's union does that through a window of cursors, a bitset and
//! a collector call per match. Here a term clause's postings are decoded block by block straight into a score
//! array; other clauses (the whole-ticket phrase) run tantivy's own scorer over their
//! matches. The result is the one `searcher.search(&plan.to_query(lean), &(TopDocs, Count))`
//! gives, bit for bit: each term scored with tantivy's BM25 float operations
//! ([`crate::index::bm25`]), a document's clause scores added in clause order as the union
//! adds them, the count of live matching documents, and ties broken by the lower address.

use std::sync::Arc;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::TermInfo;
use tantivy::query::EnableScoring;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocSet, InvertedIndexReader, Searcher, Term, TERMINATED};

use super::query::Clause;
use crate::index::{bm25, Loaded};

/// What an exhaustive retrieval found.
pub struct Retrieved {
    /// The best matches (score, address), best first.
    pub top: Vec<(f32, DocAddress)>,
    /// Live documents matching any clause.
    pub count: u64,
    /// Per hit in `top`: bit `k` is set when it matched the `k`-th clause (the first 64).
    pub matched: Vec<u64>,
}

/// The best `fetch` matches of the union of `clauses`.
pub fn exhaustive<'a>(
    searcher: &Searcher,
    loaded: &Loaded,
    clauses: impl Iterator<Item = &'a Clause>,
    fetch: usize,
) -> tantivy::Result<Retrieved> {
    let clauses: Vec<&Clause> = clauses.collect();
    let readers = searcher.segment_readers();
    let norms = &loaded.bm25;
    // Per clause: how it is scored. A term clause needs its term info in every segment and
    // its document frequency over all of them (as tantivy's statistics give it).
    enum How<'c> {
        Term {
            field: tantivy::schema::Field,
            /// Per segment: the field's inverted index and the term's info, if it is there.
            infos: Vec<Option<(Arc<InvertedIndexReader>, TermInfo)>>,
            weight: f32,
            norm: &'c [f32; 256],
        },
        Scorer(Box<dyn tantivy::query::Weight>),
    }
    let mut plan = Vec::with_capacity(clauses.len());
    for c in &clauses {
        let term = c
            .term
            .as_ref()
            .and_then(|t| norms.of(t.field).map(|norm| (t, norm)));
        let how = match term {
            Some((t, norm)) => {
                let key = Term::from_field_text(t.field, &t.text);
                let mut infos = Vec::with_capacity(readers.len());
                let mut df = 0u64;
                for r in readers {
                    let inverted = r.inverted_index(t.field)?;
                    let info = inverted.get_term_info(&key)?;
                    df += info.as_ref().map_or(0, |i| u64::from(i.doc_freq));
                    infos.push(info.map(|i| (inverted, i)));
                }
                let weight = bm25::weight(df, norms.docs);
                How::Term {
                    field: t.field,
                    infos,
                    // As `Bm25Weight::boost_by`.
                    weight: if t.boost == 1.0 {
                        weight
                    } else {
                        weight * t.boost
                    },
                    norm,
                }
            }
            None => How::Scorer(
                c.query()
                    .weight(EnableScoring::enabled_from_searcher(searcher))?,
            ),
        };
        plan.push(how);
    }

    let mut best = TopN::new(fetch);
    let mut count = 0u64;
    // Per-document accumulators, reused across searches on this thread. They are all zero
    // between searches: each entry a search touches is reset as its hit is collected. An
    // error or panic midway drops them instead of returning them dirty.
    let mut acc = ACCUMULATORS.with(|a| a.take());
    for (seg_ord, reader) in readers.iter().enumerate() {
        let max_doc = reader.max_doc() as usize;
        acc.fit(max_doc);
        let Accumulators { scores, hit, mask } = &mut acc;
        for (k, how) in plan.iter().enumerate() {
            let bit = if k < 64 { 1u64 << k } else { 0 };
            match how {
                How::Term {
                    field,
                    infos,
                    weight,
                    norm,
                } => {
                    let Some((inverted, info)) = &infos[seg_ord] else {
                        continue;
                    };
                    // As `TermWeight`: a field without norms has them all 1.
                    let fieldnorms = reader
                        .fieldnorms_readers()
                        .get_field(*field)?
                        .unwrap_or_else(|| FieldNormReader::constant(reader.max_doc(), 1));
                    let mut block = inverted
                        .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
                    loop {
                        let docs = block.docs();
                        if docs.is_empty() {
                            break;
                        }
                        // A field indexed without frequencies counts each match once.
                        let freqs = block.freqs();
                        for (k, &d) in docs.iter().enumerate() {
                            let tf = freqs.get(k).map_or(1.0, |&f| f as f32);
                            let n = norm[fieldnorms.fieldnorm_id(d) as usize];
                            // As `Bm25Weight::score`: weight × tf / (tf + norm).
                            scores[d as usize] += weight * (tf / (tf + n));
                            hit[d as usize / 64] |= 1 << (d % 64);
                            mask[d as usize] |= bit;
                        }
                        block.advance();
                    }
                }
                How::Scorer(w) => {
                    let mut s = w.scorer(reader, 1.0)?;
                    let mut d = s.doc();
                    while d != TERMINATED {
                        scores[d as usize] += s.score();
                        hit[d as usize / 64] |= 1 << (d % 64);
                        mask[d as usize] |= bit;
                        d = s.advance();
                    }
                }
            }
        }
        let alive = reader.alive_bitset();
        for (i, word) in hit.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let d = (i * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                let score = std::mem::take(&mut scores[d as usize]);
                let matched = std::mem::take(&mut mask[d as usize]);
                if alive.is_none_or(|a| a.is_alive(d)) {
                    count += 1;
                    best.push(score, DocAddress::new(seg_ord as u32, d), matched);
                }
            }
        }
    }
    ACCUMULATORS.with(|a| a.replace(acc));
    let (top, matched) = best
        .into_sorted()
        .into_iter()
        .map(|(s, a, m)| ((s, a), m))
        .unzip();
    Ok(Retrieved {
        top,
        count,
        matched,
    })
}

/// One score, one hit bit and one clause mask per document of a segment.
#[derive(Default)]
struct Accumulators {
    scores: Vec<f32>,
    hit: Vec<u64>,
    mask: Vec<u64>,
}

impl Accumulators {
    /// Room for a segment of `max_doc` documents; what is added is zero.
    fn fit(&mut self, max_doc: usize) {
        if self.scores.len() < max_doc {
            self.scores.resize(max_doc, 0.0);
            self.mask.resize(max_doc, 0);
            self.hit.resize(max_doc.div_ceil(64), 0);
        }
    }
}

thread_local! {
    static ACCUMULATORS: std::cell::Cell<Accumulators> = std::cell::Cell::new(Accumulators::default());
}

/// A match: its score, its address and the clauses it matched.
type Match = (f32, DocAddress, u64);

/// Best score first; among equal scores the lower address, as tantivy's top-k keeps.
fn order(a: &Match, b: &Match) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
}

/// The best `n` of documents pushed in address order, as tantivy's `TopNComputer` keeps
/// them: a buffer of 2n is cut back to the best n when full, and the score it was cut at
/// becomes a bar a later document must pass (an equal score loses to the earlier address).
struct TopN {
    n: usize,
    cap: usize,
    buffer: Vec<Match>,
    bar: Option<f32>,
}

impl TopN {
    fn new(n: usize) -> TopN {
        TopN {
            n,
            cap: n.max(1) * 2,
            buffer: Vec::with_capacity(n.max(1) * 2),
            bar: None,
        }
    }

    #[inline]
    fn push(&mut self, score: f32, addr: DocAddress, matched: u64) {
        if self.bar.is_some_and(|bar| score <= bar) {
            return;
        }
        if self.buffer.len() == self.cap {
            self.cut();
        }
        self.buffer.push((score, addr, matched));
    }

    /// Keeps the best `n`; the best one dropped sets the bar.
    fn cut(&mut self) {
        if self.n == 0 {
            self.buffer.clear();
            self.bar = Some(f32::INFINITY);
            return;
        }
        self.buffer.select_nth_unstable_by(self.n, order);
        self.bar = Some(self.buffer[self.n].0);
        self.buffer.truncate(self.n);
    }

    fn into_sorted(mut self) -> Vec<Match> {
        if self.buffer.len() > self.n {
            self.cut();
        }
        self.buffer.sort_unstable_by(order);
        self.buffer
    }
}
