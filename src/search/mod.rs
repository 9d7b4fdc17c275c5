//! Search: a ticket or a query → ranked, de-duplicated, explained hits with snippets and facets.

pub mod facets;
pub mod query;
pub mod retrieve;

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

pub use facets::FacetCounts;
pub use query::{Mode, Plan, Weights, DEFAULT_WEIGHTS};

use crate::index::stored::{FieldSource, StoredDoc};
use crate::index::{bm25, floor_char_boundary, Loaded};

/// Filters on exact fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Filters {
    /// Category (compute, network, …).
    pub category: Option<String>,
    /// Product, as declared in front matter.
    pub product: Option<String>,
    /// Area: the declared product, else the top-level folder (case-insensitive).
    pub area: Option<String>,
    /// Language: zh or en.
    pub lang: Option<String>,
    /// Every tag listed must be present.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Pages (doc ids) left out, as if the KB did not hold them. An evaluation leaves out a
    /// query's own FAQ page this way (qrels rel 1): dropping it from the results afterwards
    /// lets its other questions take places in the window, and lets it feed any stage that
    /// reads the top entries.
    #[serde(skip)]
    pub exclude_pages: Vec<String>,
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Query or ticket text.
    pub q: String,
    /// Hits to return.
    pub limit: usize,
    /// Hits to skip (pagination).
    pub offset: usize,
    /// Filters.
    pub filters: Filters,
    /// Include per-hit score breakdowns.
    pub explain: bool,
    /// Ranking mode.
    pub mode: Mode,
    /// Collapse near-duplicates (same title and product) into one hit.
    pub dedupe: bool,
    /// Compute facet counts and the exact total. This visits every match; without it only
    /// the documents that can reach the top are scored.
    pub facets: bool,
    /// Compute snippets.
    pub snippets: bool,
    /// Find, in each long hit, the section that holds the query (see [`Hit::section`]).
    pub sections: bool,
}

impl SearchRequest {
    /// A ranked search for `q` with default options.
    pub fn new(q: impl Into<String>) -> Self {
        SearchRequest {
            q: q.into(),
            limit: 10,
            offset: 0,
            filters: Filters::default(),
            explain: false,
            mode: Mode::Ranked(DEFAULT_WEIGHTS),
            dedupe: true,
            facets: false,
            snippets: true,
            sections: false,
        }
    }
}

/// One contribution to a hit's score.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScorePart {
    /// Which clause: `title:安全组`, `code:…`, `near(body):…`, `synonym(title):…`.
    pub clause: String,
    /// Points it added.
    pub score: f32,
}

/// One hit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// Entry id (`doc#anchor` for FAQ questions).
    pub id: String,
    /// Page id.
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// Title of the page (for FAQ questions).
    pub page_title: String,
    /// `article` or `faq`.
    pub kind: String,
    /// Category.
    pub category: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Area, lower case: the product, else the top-level folder.
    pub area: Option<String>,
    /// zh or en.
    pub lang: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Ranking score (not comparable across queries).
    pub score: f32,
    /// The BM25 part of the score, before coordination.
    pub bm25: f32,
    /// HTML snippet: escaped text with `<mark>` around matched terms.
    pub snippet: String,
    /// Path under the KB.
    pub path: String,
    /// Last update.
    pub updated: Option<String>,
    /// P0–P4.
    pub priority: Option<String>,
    /// Typical minutes to fix.
    pub avg_fix_minutes: Option<u64>,
    /// Automation action the article declares.
    pub automation: Option<String>,
    /// Related article ids.
    pub related: Vec<String>,
    /// Fix steps, plain text (for the answer step; not part of search responses).
    #[serde(skip)]
    pub steps: Vec<String>,
    /// Where the steps' Markdown is in the text store (`Loaded::steps_markdown`).
    #[serde(skip)]
    pub steps_record: Option<(u64, u64)>,
    /// Error codes of the entry that the query matched exactly.
    pub matched_codes: Vec<String>,
    /// The entry quotes the ticket's pasted message word for word (the verbatim prior).
    pub quotes_message: bool,
    /// Share of the query's information (IDF) this entry contains, 0–1.
    pub coverage: f32,
    /// Share of the query's information found in the title or aliases, 0–1.
    pub title_coverage: f32,
    /// Score breakdown (with `explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<ScorePart>>,
    /// Near-duplicate entries collapsed into this hit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// In a long entry, the section that holds most of the query (when the request asks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<HitSection>,
}

/// A section of a long entry: where in the page the answer is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HitSection {
    /// Its heading.
    pub heading: String,
    /// Its `{#id}` anchor, when the heading declares one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
}

/// The result of a search.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// Entries matching (before near-duplicates are collapsed). Exact when `total_exact`;
    /// otherwise a lower bound: the entries holding a rarer word of the query, when facets
    /// were not asked for and its common words only re-scored the candidates.
    pub total: u64,
    /// Whether `total` counts every match.
    pub total_exact: bool,
    /// Facet counts over all matches.
    pub facets: FacetCounts,
    /// Milliseconds spent.
    pub took_ms: f64,
    /// Terms searched (after stop words, synonyms, long-ticket reduction).
    pub terms: Vec<String>,
    /// Words of the ticket weighted down as chatter, to half their weight or less: rare in
    /// the KB only because documentation does not talk that way (知道, 到底). Among `terms`
    /// unless a long ticket's reduction dropped them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chatter: Vec<String>,
    /// Error codes matched exactly.
    pub codes: Vec<String>,
    /// Sum of the query's IDF, chatter at its reduced weight: how much the query says.
    pub information: f32,
    /// The query reports a problem: an error code, or failure wording
    /// (`entities::describes_problem`). What the problem-entry prior reads, and what the
    /// answer step asks follow-up questions by.
    pub problem: bool,
    /// The query names something (see `query::Plan::topical`): what the words of one that
    /// does not find says nothing of the customer's problem.
    #[serde(skip)]
    pub topical: bool,
    /// See `query::Plan::keyword`.
    #[serde(skip)]
    pub keyword: bool,
}

/// Search errors.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Tantivy failed.
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// An entry asked for by id is not in the index.
    #[error("no entry with id `{0}`")]
    UnknownEntry(String),
}

/// The areas the plan names, per segment as the term ordinals of its `area` column: one
/// lookup per named area and segment, then an entry is compared by its ordinal.
fn named_area_ords(loaded: &Loaded, areas: &[String]) -> Vec<Vec<u64>> {
    if areas.is_empty() {
        return Vec::new();
    }
    loaded
        .columns
        .area
        .iter()
        .map(|col| match col {
            Some(col) => areas
                .iter()
                .filter_map(|a| col.dictionary().term_ord(str::as_bytes(a)).ok().flatten())
                .collect(),
            None => Vec::new(),
        })
        .collect()
}

/// The term ordinal of the entry's area in its segment's `area` column.
fn area_ord(loaded: &Loaded, addr: DocAddress) -> Option<u64> {
    let col = loaded
        .columns
        .area
        .get(addr.segment_ord as usize)?
        .as_ref()?;
    col.term_ords(addr.doc_id).next()
}

/// Largest offset + limit served: deeper pages cost more than they are worth.
pub const MAX_WINDOW: usize = 1000;

/// Runs a search on a loaded index.
pub fn search(loaded: &Loaded, req: &SearchRequest) -> Result<SearchResponse, SearchError> {
    let started = Instant::now();
    let searcher = loaded.reader.searcher();
    let plan = query::build(loaded, &searcher, &req.q, req.mode, req.explain);
    let f = &loaded.fields;
    let mut resp = SearchResponse {
        hits: Vec::new(),
        total: 0,
        total_exact: true,
        facets: FacetCounts::new(),
        took_ms: 0.0,
        terms: plan.terms.iter().map(|t| t.text.clone()).collect(),
        chatter: plan.chatter.clone(),
        codes: plan.codes.clone(),
        information: plan.information(),
        problem: plan.problem,
        topical: plan.topical,
        keyword: plan.keyword,
    };
    if plan.is_empty() {
        resp.took_ms = started.elapsed().as_secs_f64() * 1000.0;
        return Ok(resp);
    }
    // Facets count every match; otherwise common words are scored on the candidates only
    // (see `query::Clause::common`).
    let mut lean = !req.facets && plan.defers_common();

    let window = (req.offset + req.limit).min(MAX_WINDOW);
    let dedupe = req.dedupe && !matches!(req.mode, Mode::Baseline);
    let rerank = match req.mode {
        Mode::Ranked(w) if w.coord > 0.0 => Some(w),
        _ => None,
    };
    let mut fetch = if dedupe {
        (window * 3 + 10).min(MAX_WINDOW * 3)
    } else {
        window
    };
    // Some clauses only re-score the candidates: there must be enough of them to re-order.
    // They are always the same `rerank_depth` best retrieved, whatever the window: a deeper
    // page lists the retrieved entries after them in retrieval order (`append_past_window`).
    let mut depth = None;
    if let Mode::Ranked(w) = req.mode {
        if rerank.is_some() || plan.rescoring(lean).next().is_some() {
            fetch = fetch.max(w.rerank_depth);
            depth = Some(w.rerank_depth.max(1));
        }
    }
    let fetch = fetch.max(1);
    // Facets need every match, and a filtered search runs as one tantivy query with the
    // filters; both count what they visit. An unfiltered search visits every match term at
    // a time (`retrieve::exhaustive`), which gives the same result. That beat tantivy's
    // block-max WAND even on the few-term queries WAND is for: on the full Alibaba corpus
    // and on ~100k entries, the top 100 candidates re-scoring needs leave little to skip,
    // and adding decoded blocks into a score array costs far less per posting than WAND's
    // cursor moves. A lean retrieval's total counts the entries holding a rarer word: a
    // lower bound.
    let filtered = !filter_clauses(loaded, &req.filters).is_empty();
    let retrieve = |lean: bool| -> tantivy::Result<_> {
        if !req.facets && !filtered {
            let r = retrieve::exhaustive(&searcher, loaded, plan.retrieval(lean), fetch)?;
            return Ok((r.top, r.count, !lean, FacetCounts::new(), Some(r.matched)));
        }
        let query = with_filters(loaded, Box::new(plan.to_query(lean)), &req.filters);
        let top = TopDocs::with_limit(fetch).order_by_score();
        Ok(if req.facets {
            let (t, c, fc) = searcher.search(&*query, &(top, Count, facets::FacetCollector))?;
            (t, c as u64, true, fc, None)
        } else {
            let (t, c) = searcher.search(&*query, &(top, Count))?;
            (t, c as u64, !lean, FacetCounts::new(), None)
        })
    };
    let (mut top_docs, mut total, mut total_exact, mut facet_counts, mut matched) = retrieve(lean)?;
    // The rarer words are in fewer entries than the candidates wanted: an entry holding
    // only the common words may still be among the best, so they retrieve too. Past the
    // re-ranked window, they only extend the list: the window is what a first page has.
    let head = depth.unwrap_or(fetch).min(fetch);
    if lean && top_docs.len() < head {
        lean = false;
        (top_docs, total, total_exact, facet_counts, matched) = retrieve(false)?;
    } else if lean && top_docs.len() < fetch {
        let (more, ..) = retrieve(false)?;
        let have: HashSet<DocAddress> = top_docs.iter().map(|(_, a)| *a).collect();
        top_docs.extend(more.into_iter().filter(|(_, a)| !have.contains(a)));
        top_docs.truncate(fetch);
    }
    resp.total = total;
    resp.total_exact = total_exact;
    resp.facets = facet_counts;
    let tail = if top_docs.len() > head {
        top_docs.split_off(head)
    } else {
        Vec::new()
    };
    let (rescored, coverage) = add_rescore(
        &searcher,
        loaded,
        &plan,
        lean,
        &mut top_docs,
        matched.as_deref(),
        rerank.is_some(),
    )?;
    // What re-ranking learnt of each candidate, for its hit: the score before it, the
    // coverage, and the points the problem-entry prior added (for explain). Only a page of
    // hits looks it up, so a scan of the ~100 candidates costs less than hashing them all.
    let mut noted: Vec<(DocAddress, Noted)> =
        Vec::with_capacity(if rerank.is_some() { top_docs.len() } else { 0 });
    // Stored documents the verbatim prior read, for the page of hits.
    let mut read: Vec<(DocAddress, StoredDoc)> = Vec::new();
    if let Some(w) = rerank {
        let mut cands: Vec<((f32, DocAddress), (f32, f32))> =
            top_docs.drain(..).zip(coverage).collect();
        if rescored {
            cands.sort_by(|a, b| b.0 .0.total_cmp(&a.0 .0));
        }
        let problem_col: &[_] = if plan.problem && w.problem > 0.0 {
            &loaded.columns.problem
        } else {
            &[]
        };
        // The areas the ticket names, as term ordinals of each segment's `area` column.
        let named_areas = named_area_ords(loaded, &plan.areas);
        for ((score, addr), cv) in cands.iter_mut() {
            let raw = *score;
            // Soft AND: an entry holding more of the query's information rises.
            *score *= cv.0.max(0.05).powf(w.coord);
            let is_problem = crate::index::columns::u64_at(problem_col, *addr) == Some(1);
            // A reference entry (parameter tables, template syntax, code) is rarely what a
            // ticket without an error code needs, though it holds every name the ticket uses.
            let mut reference = None;
            if w.reference > 0.0 && plan.codes.is_empty() {
                let share =
                    crate::index::columns::u64_at(&loaded.columns.structured, *addr).unwrap_or(0);
                if share as f32 >= w.reference_share {
                    reference = Some(-*score * w.reference);
                    *score *= 1.0 - w.reference;
                }
            }
            let mut prior = None;
            if is_problem {
                prior = Some(*score * w.problem);
                *score *= 1.0 + w.problem;
            }
            let mut area = None;
            if named_areas
                .get(addr.segment_ord as usize)
                .is_some_and(|ords| {
                    !ords.is_empty() && area_ord(loaded, *addr).is_some_and(|o| ords.contains(&o))
                })
            {
                area = Some(*score * w.area);
                *score *= 1.0 + w.area;
            }
            noted.push((
                *addr,
                Noted {
                    raw,
                    coverage: *cv,
                    prior,
                    reference,
                    area,
                    verbatim: None,
                },
            ));
        }
        top_docs = cands.into_iter().map(|(d, _)| d).collect();
        top_docs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (gained, docs) = verbatim_prior(
            &searcher,
            loaded,
            &plan,
            &w,
            &mut top_docs,
            &mut noted,
            window,
        )?;
        read = docs;
        if gained {
            top_docs.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
    } else if rescored {
        top_docs.sort_by(|a, b| b.0.total_cmp(&a.0));
    }
    let ids = Ids::new(loaded);
    break_ties(&ids, &mut top_docs);
    append_past_window(&mut top_docs, tail);

    // Collapse near-duplicates: the best-scored copy stands for the rest.
    let mut kept: Vec<(f32, DocAddress, Vec<DocAddress>)> = Vec::new();
    if dedupe {
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        let columns = &loaded.columns.dupkey;
        for (score, addr) in top_docs {
            let key = columns[addr.segment_ord as usize]
                .as_ref()
                .and_then(|c| c.first(addr.doc_id));
            match key.and_then(|k| seen.get(&k).copied()) {
                Some(i) => kept[i].2.push(addr),
                None => {
                    if let Some(k) = key {
                        seen.insert(k, kept.len());
                    }
                    kept.push((score, addr, Vec::new()));
                }
            }
        }
    } else {
        kept = top_docs
            .into_iter()
            .map(|(s, a)| (s, a, Vec::new()))
            .collect();
    }

    let page: Vec<_> = kept.into_iter().skip(req.offset).take(req.limit).collect();
    let snippet_gen = if req.snippets {
        Some(Snippets::new(&plan))
    } else {
        None
    };
    let mut query_lower: Option<String> = None;
    for (rank, (score, addr, dups)) in page.into_iter().enumerate() {
        let mut doc: StoredDoc = match read.iter().position(|(a, _)| *a == addr) {
            Some(i) => read.swap_remove(i).1,
            None => searcher.doc(addr)?,
        };
        let mut hit = to_hit(loaded, &mut doc, score);
        let noted = noted.iter().find(|(a, _)| *a == addr).map(|(_, n)| *n);
        hit.bm25 = noted.map_or(score, |n| n.raw);
        hit.quotes_message = noted.is_some_and(|n| n.verbatim.is_some());
        hit.duplicates = dups.into_iter().filter_map(|a| ids.id(a)).collect();
        if let Some(g) = &snippet_gen {
            hit.snippet = g.make(loaded.head(&doc).unwrap_or_default(), &hit.lang);
        }
        let headings = if req.sections {
            loaded.section_headings(&doc)
        } else {
            Vec::new()
        };
        if !headings.is_empty() {
            let query = query_lower.get_or_insert_with(|| {
                crate::analysis::normalize::normalize_str(&req.q).to_lowercase()
            });
            hit.section = named_section(&headings, query, |name| specific(loaded, &searcher, name));
            if hit.section.is_none() && req.offset + rank < DESCRIBED_RANKS {
                hit.section = loaded.markdown(&doc).and_then(|md| {
                    described_section(&md, &headings, &plan, |name| {
                        specific(loaded, &searcher, name)
                    })
                });
            }
        }
        let (cov, tcov) = noted.map_or_else(
            || candidate_pass(&searcher, loaded, &plan, &[], &[addr], None, true).coverage[0],
            |n| n.coverage,
        );
        hit.coverage = cov;
        hit.title_coverage = tcov;
        let codes: HashSet<String> = doc.take_texts(f.codes).into_iter().collect();
        hit.matched_codes = plan
            .codes
            .iter()
            .filter(|c| codes.contains(*c))
            .cloned()
            .collect();
        if req.explain {
            let mut parts = explain(&searcher, &plan, addr);
            // What the priors added or took, each under its name.
            if let Some(n) = noted {
                for (points, clause) in [
                    (n.prior, "prior:problem-entry"),
                    (n.reference, "prior:reference-entry"),
                    (n.area, "prior:named-area"),
                    (n.verbatim, "prior:verbatim"),
                ] {
                    if let Some(score) = points {
                        parts.push(ScorePart {
                            clause: clause.into(),
                            score,
                        });
                    }
                }
            }
            if rerank.is_some() && noted.is_none() {
                // Past the re-ranking window: listed in retrieval order (`append_past_window`).
                parts.push(ScorePart {
                    clause: "order:retrieval, past the re-ranked entries".into(),
                    score: 0.0,
                });
            }
            hit.explain = Some(parts);
        }
        resp.hits.push(hit);
    }
    resp.took_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(resp)
}

/// The verbatim prior ([`query::Weights::verbatim`]): the best `verbatim_depth` candidates,
/// in order, whose title, aliases or text hold one of the plan's pasted messages gain
/// score × `verbatim`; those past the first `window` only when that would lift them into
/// it. Only a ticket that pastes something reads the candidates' text. The stored documents
/// read are handed back, since the page of hits is mostly them, with true when an entry
/// gained and the candidates need sorting again.
fn verbatim_prior(
    searcher: &Searcher,
    loaded: &Loaded,
    plan: &query::Plan,
    w: &query::Weights,
    top_docs: &mut [(f32, DocAddress)],
    noted: &mut [(DocAddress, Noted)],
    window: usize,
) -> tantivy::Result<(bool, Vec<(DocAddress, StoredDoc)>)> {
    let mut read = Vec::new();
    if plan.verbatim.is_empty() || w.verbatim <= 0.0 {
        return Ok((false, read));
    }
    let f = &loaded.fields;
    // Each message's longest piece that folding leaves as it is but for case. Where an entry
    // holds a piece, the text around it is folded and compared with the message; an entry
    // holding none is passed over in one scan of its bytes, without decoding or folding.
    let mut messages: Vec<(&str, usize)> = Vec::new();
    let mut pieces: Vec<&str> = Vec::new();
    for v in &plan.verbatim {
        if let Some(p) = query::verbatim_piece(v) {
            // The piece is a slice of the message: its offset in it.
            messages.push((v.as_str(), p.as_ptr() as usize - v.as_ptr() as usize));
            pieces.push(p);
        }
    }
    if pieces.is_empty() {
        return Ok((false, read));
    }
    let Ok(finder) = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&pieces)
    else {
        return Ok((false, read));
    };
    let mut folded = String::new();
    // Does `text` hold a message where one of its pieces is? The text around a piece may be
    // longer than the message by Markdown marks and spacing, so the window is wider.
    let mut holds = |text: &[u8]| {
        finder.find_overlapping_iter(text).any(|m| {
            let (message, at) = messages[m.pattern().as_usize()];
            let from = m.start().saturating_sub(2 * at + 32);
            let to = (m.end() + 2 * (message.len() - at) + 32).min(text.len());
            folded.clear();
            query::verbatim_fold(&String::from_utf8_lossy(&text[from..to]), &mut folded);
            folded.contains(message)
        })
    };
    // The whole ticket as a phrase (slop 3) stands in for the message in the score: it
    // counts each near match, and more in a short entry, so an API page repeating `Invalid IP`
    // outscores the one page that quotes `invalid ip...`. Holding the message word for word is
    // better evidence of it than any near match, so an entry that quotes it scores on the
    // phrase no less than the candidates that do not, and then takes the prior's share.
    // Between entries that all quote it, the phrase decides as before.
    let depth = w.verbatim_depth.min(top_docs.len());
    let phrase = match plan.phrase {
        Some(c) if depth > 0 => {
            let addrs: Vec<DocAddress> = top_docs[..depth].iter().map(|d| d.1).collect();
            scorer_scores(
                searcher,
                &plan.clauses[c],
                &addrs,
                &by_segment(addrs.iter().copied()),
            )?
        }
        _ => vec![None; depth],
    };
    let phrase_at = |i: usize| phrase[i].unwrap_or(0.0);
    // A candidate's score before coordination and the priors (the sum of its clauses).
    let raw_of = |addr: DocAddress| {
        noted
            .iter()
            .find(|(a, _)| *a == addr)
            .map_or(0.0, |(_, n)| n.raw)
    };
    // What quoting the message makes of the score of candidate `i`, when the best phrase
    // score of a candidate not quoting it is `best`.
    let lifted = |i: usize, best: f32| {
        let (score, addr) = top_docs[i];
        let (raw, gap) = (raw_of(addr), best - phrase_at(i));
        let phrased = if raw > 0.0 && gap > 0.0 {
            score * (raw + gap) / raw
        } else {
            score
        };
        phrased * (1.0 + w.verbatim)
    };
    // Past the page, an entry matters only if the prior can lift it onto the page: the
    // candidates are in order, so the first that cannot, even past the best phrase score of
    // all, ends the scan.
    let all_best = (0..depth).map(phrase_at).fold(0f32, f32::max);
    let bar = top_docs.get(window.saturating_sub(1)).map(|d| d.0);
    let mut quoting = Vec::new();
    for (i, &(_, addr)) in top_docs.iter().enumerate().take(depth) {
        if i >= window && bar.is_some_and(|bar| lifted(i, all_best) <= bar) {
            break;
        }
        let doc: StoredDoc = searcher.doc(addr)?;
        if doc
            .texts(f.title)
            .chain(doc.texts(f.aliases))
            .any(|t| holds(t.as_bytes()))
            || loaded.markdown_bytes(&doc).is_some_and(|m| holds(&m))
        {
            quoting.push(i);
        }
        read.push((addr, doc));
    }
    let best = (0..read.len())
        .filter(|i| !quoting.contains(i))
        .map(phrase_at)
        .fold(0f32, f32::max);
    let lifts: Vec<(usize, f32)> = quoting.iter().map(|&i| (i, lifted(i, best))).collect();
    for &(i, to) in &lifts {
        let (score, addr) = top_docs[i];
        top_docs[i].0 = to;
        if let Some((_, n)) = noted.iter_mut().find(|(a, _)| *a == addr) {
            n.verbatim = Some(to - score);
        }
    }
    let found = !lifts.is_empty();
    Ok((found, read))
}

fn with_filters(loaded: &Loaded, text_query: Box<dyn Query>, filters: &Filters) -> Box<dyn Query> {
    let mut must = filter_clauses(loaded, filters);
    if must.is_empty() {
        return text_query;
    }
    must.push((Occur::Must, text_query));
    Box::new(BooleanQuery::new(must))
}

/// The clauses `filters` require (none when it sets nothing).
fn filter_clauses(loaded: &Loaded, filters: &Filters) -> Vec<(Occur, Box<dyn Query>)> {
    let f = &loaded.fields;
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let exact = |field, value: &str| -> Box<dyn Query> {
        let q = TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        );
        Box::new(BoostQuery::new(Box::new(q), 0.0))
    };
    if let Some(c) = filters.category.as_deref().filter(|s| !s.is_empty()) {
        must.push((Occur::Must, exact(f.category, &c.trim().to_lowercase())));
    }
    if let Some(p) = filters.product.as_deref().filter(|s| !s.is_empty()) {
        must.push((Occur::Must, exact(f.product, p.trim())));
    }
    if let Some(a) = filters.area.as_deref().filter(|s| !s.trim().is_empty()) {
        must.push((Occur::Must, exact(f.area, &a.trim().to_lowercase())));
    }
    if let Some(l) = filters.lang.as_deref().filter(|s| !s.is_empty()) {
        let code = crate::analysis::Lang::parse(l)
            .map(|l| l.index_code())
            .unwrap_or(l);
        must.push((Occur::Must, exact(f.lang, code)));
    }
    for t in &filters.tags {
        must.push((Occur::Must, exact(f.tags, t.trim())));
    }
    for p in &filters.exclude_pages {
        must.push((Occur::MustNot, exact(f.doc_id, p)));
    }
    must
}

/// Text of a stored field ("" when absent).
pub fn text(doc: &TantivyDocument, field: tantivy::schema::Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Builds a hit (without snippet, coverage or explain) from a stored document, taking its
/// strings where the document gives them up (see [`FieldSource`]).
pub fn to_hit(loaded: &Loaded, doc: &mut impl FieldSource, score: f32) -> Hit {
    let f = &loaded.fields;
    Hit {
        id: doc.take_text(f.id).unwrap_or_default(),
        doc_id: doc.take_text(f.doc_id).unwrap_or_default(),
        title: doc.take_text(f.title).unwrap_or_default(),
        page_title: doc.take_text(f.page_title).unwrap_or_default(),
        kind: doc.take_text(f.kind).unwrap_or_default(),
        category: doc.take_text(f.category),
        product: doc.take_text(f.product),
        area: doc.take_text(f.area),
        lang: doc.take_text(f.lang).unwrap_or_default(),
        tags: doc.take_texts(f.tags),
        score,
        bm25: score,
        snippet: String::new(),
        path: doc.take_text(f.path).unwrap_or_default(),
        updated: doc.take_text(f.updated),
        priority: doc.take_text(f.priority),
        avg_fix_minutes: doc.u64(f.avg_fix_minutes),
        automation: doc.take_text(f.automation),
        related: doc.take_texts(f.related),
        steps: doc.take_texts(f.steps),
        steps_record: doc
            .u64(f.steps_at)
            .zip(doc.u64(f.steps_len))
            .filter(|&(_, len)| len > 0),
        matched_codes: Vec::new(),
        quotes_message: false,
        coverage: 0.0,
        title_coverage: 0.0,
        explain: None,
        duplicates: Vec::new(),
        section: None,
    }
}

/// Snippet making for one query. Highlights are the query's terms found in the text by one
/// automaton pass (ASCII case-insensitive; English stems grow to the end of their word), so
/// a snippet costs no analysis: the analyzer's work on articles was done at index time.
/// Traditional-script articles get the terms' traditional forms, built on first need.
struct Snippets {
    terms: Vec<(String, f32)>,
    simplified: Option<Highlighter>,
    traditional: std::sync::OnceLock<Option<Highlighter>>,
}

/// Query terms (as found in text, ASCII in lower case) and a searcher over them. It runs
/// on text whose ASCII is lower-cased, so `ECS` in an article lights up for `ecs`.
struct Highlighter {
    finder: Finder,
    /// Per pattern: the term it stands for, and its weight.
    patterns: Vec<(usize, f32)>,
}

/// How a highlighter finds its terms. Built per query and run over a few KB per hit, so
/// the build counts as much as the search.
enum Finder {
    /// A vectorised multi-substring searcher (Teddy): cheap to build, fast over a few KB.
    /// It holds up to a few dozen terms: every query but the longest tickets.
    Packed(aho_corasick::packed::Searcher),
    /// An automaton for more terms than that.
    Automaton(aho_corasick::AhoCorasick),
}

impl Finder {
    fn find(&self, text: &[u8]) -> Option<aho_corasick::Match> {
        match self {
            Finder::Packed(s) => s.find(text),
            Finder::Automaton(a) => a.find(text),
        }
    }

    fn find_iter<'a>(
        &'a self,
        text: &'a [u8],
    ) -> Box<dyn Iterator<Item = aho_corasick::Match> + 'a> {
        match self {
            Finder::Packed(s) => Box::new(s.find_iter(text)),
            Finder::Automaton(a) => Box::new(a.find_iter(text)),
        }
    }
}

impl Highlighter {
    fn new(words: impl Iterator<Item = (usize, String, f32)>) -> Option<Highlighter> {
        let mut texts = Vec::new();
        let mut patterns = Vec::new();
        for (term, text, weight) in words {
            let text = text.to_ascii_lowercase();
            if !texts.contains(&text) {
                texts.push(text);
                patterns.push((term, weight));
            }
        }
        if texts.is_empty() {
            return None;
        }
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
            .builder()
            .extend(&texts)
            .build();
        let finder = match packed {
            Some(s) => Finder::Packed(s),
            // A contiguous NFA builds far faster than a DFA and searches a few KB as fast.
            None => Finder::Automaton(
                aho_corasick::AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    .prefilter(true)
                    .build(&texts)
                    .ok()?,
            ),
        };
        Some(Highlighter { finder, patterns })
    }

    /// Highlight ranges in `lower`, text with its ASCII lower-cased: (start, end, term,
    /// weight). An ASCII match must start a word and is extended to the word's end.
    fn ranges(&self, lower: &[u8]) -> Vec<(usize, usize, usize, f32)> {
        let bytes = lower;
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut out: Vec<(usize, usize, usize, f32)> = Vec::new();
        for m in self.finder.find_iter(lower) {
            let (mut a, mut b) = (m.start(), m.end());
            if bytes[a].is_ascii() && a > 0 && word(bytes[a - 1]) && word(bytes[a]) {
                continue;
            }
            // A stem (`connect`, `refus`) takes its word's ending (`ion`, `ed`); a short
            // word (`oss`) does not grow into a longer one (`ossutil`).
            if m.len() >= 4 && bytes[b - 1].is_ascii_alphabetic() {
                let rest = bytes[b..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                if rest <= 5 {
                    b += rest;
                }
            }
            if let Some(last) = out.last() {
                if a < last.1 {
                    a = last.1;
                }
            }
            if a < b {
                let (term, weight) = self.patterns[m.pattern().as_usize()];
                out.push((a, b, term, weight));
            }
        }
        out
    }
}

/// Bytes of body text searched for the best fragment: a window from just before the
/// first query word, so a long article costs no more than a short one.
const SNIPPET_WINDOW: usize = 640;

/// Longest fragment, in bytes.
const SNIPPET_FRAGMENT: usize = 180;

/// How far before its first highlighted word a snippet may begin, in bytes: the near reach
/// first, then the far one.
const SNIPPET_LEAD: [usize; 2] = [36, 60];

/// Bytes of an article's head read to tell its script: a traditional-script article shows it
/// in its first lines, and reading every hit's whole head for it cost more than finding the
/// snippet.
const TRADITIONAL_PROBE: usize = 600;

/// The section of a long entry, of `headings` (see `Loaded::section_headings`), that the
/// query names outright by its heading (`time_zone`, `MAX_EXECUTION_TIME(N)`: pages of variables, options, error
/// codes and API calls are headed by them), or by the message an error heading quotes
/// (`Error: Unprotected private key file`, see [`names_in`]); the longest such heading. `query` is the
/// normalised query text, lower case. None when no heading is named; a short entry, or one
/// of few sections, has none (its head tells the story).
/// (Choosing by the query's words in each section's text was tried: on long TiDB pages
/// it pointed at a wrong section about half the time.)
fn named_section(
    headings: &[(String, Option<String>)],
    query: &str,
    specific: impl Fn(&str) -> bool,
) -> Option<HitSection> {
    headings
        .iter()
        .filter(|(heading, _)| {
            let h = if heading.is_ascii() {
                heading.to_ascii_lowercase()
            } else {
                crate::analysis::normalize::normalize_str(heading).to_lowercase()
            };
            names_in(&h)
                .iter()
                .any(|name| names(name, query) && specific(name))
        })
        .max_by_key(|(heading, _)| heading.len())
        .map(|(heading, anchor)| HitSection {
            heading: heading.clone(),
            anchor: anchor.clone(),
        })
}

/// Hits, from the first, whose long page may name the section the query describes
/// ([`described_section`]): each costs a read of the page.
const DESCRIBED_RANKS: usize = 3;

/// The section of a long page that the query describes, when no heading is named outright
/// ([`named_section`]): a troubleshooting guide whose sections are headed by symptoms
/// (`Delayed instance termination`) answers `instance stuck in shutting-down for 3 hours`
/// in one of them. Each top-level section (with the sections under it) scores the query's
/// terms as BM25 does, IDF times saturated frequency, its heading counting as much again;
/// the best is named when it holds a good share of what the query says
/// ([`DESCRIBED_COVERAGE`]), stands out from the next ([`DESCRIBED_MARGIN`]), and is
/// headed by a name of its own ([`specific`]). A page whose sections all share the query's
/// words names none.
fn described_section(
    md: &str,
    headings: &[(String, Option<String>)],
    plan: &query::Plan,
    specific: impl Fn(&str) -> bool,
) -> Option<HitSection> {
    let spans = crate::ingest::markdown::section_spans(md);
    if spans.len() != headings.len() {
        return None;
    }
    let top = spans.iter().map(|s| s.0).min()?;
    // Per top-level section: its index in `headings`, its text (lower case, the sections
    // under it included), and the indices of those sections.
    let mut groups: Vec<(usize, String, Vec<usize>)> = Vec::new();
    for (i, &(level, from, to)) in spans.iter().enumerate() {
        if level == top {
            groups.push((i, String::new(), Vec::new()));
        }
        if let Some(g) = groups.last_mut() {
            g.1.push_str(&md[from..to].to_lowercase());
            if level != top {
                g.2.push(i);
            }
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let fold = |s: &str| crate::analysis::normalize::normalize_str(s).to_lowercase();
    let terms: Vec<(&str, f32)> = plan
        .terms
        .iter()
        .filter(|t| t.idf > 0.0 && t.weight > 0.0)
        .map(|t| (t.text.as_str(), t.idf * t.weight))
        .collect();
    let information: f32 = plan
        .terms
        .iter()
        .filter(|t| !t.secondary && t.idf > 0.0)
        .map(|t| t.idf * t.weight)
        .sum();
    if terms.is_empty() || information <= 0.0 {
        return None;
    }
    let avg = groups.iter().map(|g| g.1.len()).sum::<usize>() as f32 / groups.len() as f32;
    let (k1, b) = (1.2f32, 0.75f32);
    let mut scored: Vec<(f32, f32, usize)> = groups
        .iter()
        .enumerate()
        .map(|(g, (i, text, _))| {
            let heading = fold(&headings[*i].0);
            let norm = k1 * (1.0 - b + b * text.len() as f32 / avg.max(1.0));
            let (mut score, mut covered) = (0.0f32, 0.0f32);
            for (term, w) in &terms {
                let tf = occurrences(text, term) as f32;
                let in_heading = occurrences(&heading, term) > 0;
                if tf == 0.0 && !in_heading {
                    continue;
                }
                score += w * tf * (k1 + 1.0) / (tf + norm);
                if in_heading {
                    score += w;
                }
                if let Some(t) = plan.terms.iter().find(|t| t.text == *term) {
                    // A translation covers the words it stands for.
                    if !t.secondary || !t.stands_for.is_empty() {
                        covered += t.idf * t.weight;
                    }
                }
            }
            (score, covered.min(information) / information, g)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (best, coverage, g) = scored[0];
    let next = scored[1].0;
    // A heading that a good share of the KB repeats (`现象`, `解决方案`, `Resolution`: the
    // parts of a templated article) is where the ticket's words are, not what it asks.
    if !(best > 0.0
        && coverage >= DESCRIBED_COVERAGE
        && best >= DESCRIBED_MARGIN * next
        && specific(&fold(&headings[groups[g].0].0)))
    {
        return None;
    }
    // A sub-section whose heading says more of the query than any other names the place
    // more closely (an FAQ question under `## 通用`); headings such as `Potential causes`
    // say nothing of it, and the section stands.
    let heading_share = |i: usize| {
        let heading = fold(&headings[i].0);
        terms
            .iter()
            .filter(|(term, _)| occurrences(&heading, term) > 0)
            .map(|(_, w)| w)
            .sum::<f32>()
            / information
    };
    let mut subs: Vec<(f32, usize)> = groups[g]
        .2
        .iter()
        .map(|&i| (heading_share(i), i))
        .filter(|(share, _)| *share >= DESCRIBED_HEADING)
        .collect();
    subs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let named = match subs.as_slice() {
        [first, rest @ ..] if rest.first().is_none_or(|r| r.0 < first.0) => first.1,
        _ => groups[g].0,
    };
    let (heading, anchor) = headings[named].clone();
    Some(HitSection { heading, anchor })
}

/// Share of the query's information a sub-section's heading must hold to be named instead
/// of its section ([`described_section`]).
const DESCRIBED_HEADING: f32 = 0.3;

/// Share of the query's information a described section must hold ([`described_section`]).
const DESCRIBED_COVERAGE: f32 = 0.4;

/// How many times the next section's score the described one must score.
const DESCRIBED_MARGIN: f32 = 1.5;

/// Occurrences of an analysed term in folded text: an ASCII term where a word starts (its
/// stem is a prefix: `terminat` in `terminated`), any other anywhere.
fn occurrences(text: &str, term: &str) -> usize {
    if !term.is_ascii() {
        return text.matches(term).count();
    }
    text.match_indices(term)
        .filter(|(at, _)| {
            !text[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        })
        .count()
}

/// Whether a heading's name says which section it is: not one word that a good share of
/// the KB's entries hold (`解决方案`, `Resolution`, the headings every article of a
/// template repeats), which a ticket says without meaning that section. A name of several
/// words, or one rare word (`autocommit`), does.
fn specific(loaded: &Loaded, searcher: &Searcher, name: &str) -> bool {
    // An identifier (`time_zone`, `log-level`, `max_execution_time(n)`) is a name by its form.
    if name.contains(|c: char| c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | '(')) {
        return true;
    }
    let tokens = crate::analysis::resources::main_tokens(&loaded.analyzer, name);
    let [word] = tokens.as_slice() else {
        return true;
    };
    // At most 2% of the entries, or one in a KB of fewer than fifty.
    let most = (searcher.num_docs() / 50).max(1);
    let df = searcher
        .doc_freq(&Term::from_field_text(loaded.fields.body, word))
        .unwrap_or(0);
    df <= most
}

/// What a heading (normalised, lower case) may be named by: the whole heading; what follows
/// a short label (`error: unprotected private key file`, `报错:…`), as a pasted message
/// has no label; and each of two messages a heading joins with `or` (`server refused our
/// key or no supported authentication methods available`). Each must be long enough to
/// name one thing: six Han characters, or two words of ten letters and digits (`步骤一：创建实例`
/// is not named by every ticket that says 创建实例).
fn names_in(h: &str) -> Vec<&str> {
    let long = |s: &str| {
        let han = s
            .chars()
            .filter(|&c| crate::analysis::normalize::is_han(c))
            .count();
        let latin = s.chars().filter(char::is_ascii_alphanumeric).count();
        han >= 6 || (latin >= 10 && s.split_whitespace().count() >= 2)
    };
    let mut out = vec![h];
    let mut message = h;
    if let Some((label, rest)) = h.split_once(':') {
        let rest = rest.trim();
        if label.chars().count() <= 40 && long(rest) {
            out.push(rest);
            message = rest;
        }
    }
    let sides: Vec<&str> = message.split(" or ").map(str::trim).collect();
    if sides.len() == 2 && sides.iter().all(|s| long(s)) {
        out.extend(sides);
    }
    out
}

/// Whether `query` names a section by `name`. A name may hold placeholders (`[instance]`,
/// `<id>`, `...`, `xxxx`): the text between them must all be in the query, in order.
fn names(name: &str, query: &str) -> bool {
    // Reference headings carry more than the name: `max_execution_time(n)`,
    // `tidb_gc_life_time 从 v5.0 版本开始引入`. A leading identifier with `_` or `-` is a
    // name on its own; any leading identifier must be in the query for the whole heading to
    // be (most headings of a long page end here, unnormalised).
    let ident: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    let ident = ident.trim_end_matches(['.', '-']);
    if ident.len() >= 3 && !query.contains(ident) {
        return false;
    }
    if ident.len() >= 4 && ident.contains(['_', '-']) && contains_word(query, ident) {
        return true;
    }
    if name.chars().count() < 4 {
        return false;
    }
    if !PLACEHOLDER.is_match(name) {
        return contains_word(query, name);
    }
    let pieces: Vec<&str> = PLACEHOLDER
        .split(name)
        .map(|p| p.trim_matches(|c: char| c.is_whitespace() || c == '.'))
        .filter(|p| !p.is_empty())
        .collect();
    // The pieces, in order, each a whole word of what is left of the query.
    let mut rest = query;
    for p in &pieces {
        match find_word(rest, p) {
            Some(end) => rest = &rest[end..],
            None => return false,
        }
    }
    pieces.iter().map(|p| p.len()).sum::<usize>() >= 12
}

/// Placeholders in a heading that names a message: `[instance]`, `<id>`, `...`, `xxxx`.
static PLACEHOLDER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\[[^\]]{1,40}\]|<[^>]{1,40}>|\.{3,}|…+|\bx{3,}\b").expect("valid regex")
});

/// Whether `needle` occurs in `hay` and, where it starts or ends with a letter, digit or
/// `_`, not inside a longer word (`time_zone` is not in `system_time_zone`).
fn contains_word(hay: &str, needle: &str) -> bool {
    find_word(hay, needle).is_some()
}

/// Where the first whole-word occurrence of `needle` in `hay` ends (see [`contains_word`]).
fn find_word(hay: &str, needle: &str) -> Option<usize> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let (a, b) = (from + i, from + i + needle.len());
        let edge_a = !word(needle.chars().next()) || !word(hay[..a].chars().next_back());
        let edge_b = !word(needle.chars().next_back()) || !word(hay[b..].chars().next());
        if edge_a && edge_b {
            return Some(b);
        }
        from = a + needle.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Bytes of an article's head searched for the window: a snippet from its start reads
/// better than one from page forty, and the scan must not cost more than the search.
const SNIPPET_SCAN: usize = crate::index::BODY_HEAD;

impl Snippets {
    fn new(plan: &Plan) -> Snippets {
        // Single Han characters and single letters would light up half the text.
        let terms: Vec<(String, f32)> = plan
            .terms
            .iter()
            .filter(|t| t.text.chars().count() >= 2)
            .map(|t| (t.text.clone(), (t.idf * t.weight).max(0.01)))
            .collect();
        let simplified = Highlighter::new(
            terms
                .iter()
                .enumerate()
                .map(|(i, (t, w))| (i, t.clone(), *w)),
        );
        Snippets {
            terms,
            simplified,
            traditional: std::sync::OnceLock::new(),
        }
    }

    /// The automaton for a text: with the terms' traditional forms only when the text's first
    /// lines have traditional characters (the index keeps one code, `zh`, for both scripts).
    fn highlighter<'a>(&self, lang: &str, probe: impl FnOnce() -> &'a str) -> Option<&Highlighter> {
        if lang != crate::analysis::Lang::ZhHant.index_code()
            || !probe()
                .chars()
                .any(crate::analysis::normalize::is_traditional)
        {
            return self.simplified.as_ref();
        }
        self.traditional
            .get_or_init(|| {
                Highlighter::new(self.terms.iter().enumerate().flat_map(|(i, (t, w))| {
                    let trad = crate::analysis::normalize::to_traditional(t);
                    [(i, t.clone(), *w), (i, trad, *w)]
                }))
            })
            .as_ref()
    }

    /// The snippet of an entry in language `lang` from `body`, the head of its text (see
    /// `Loaded::head`). Only the bytes a snippet reads as text are checked to be UTF-8 (the
    /// probe, the window), as checking all 4 KB of every hit cost more than the snippet.
    fn make(&self, body: Vec<u8>, lang: &str) -> String {
        let prefix = |n: usize| utf8_prefix(&body[..floor_utf8_boundary(&body, n)]);
        let opening = || html_escape(&prefix(480).chars().take(120).collect::<String>());
        let Some(h) = self.highlighter(lang, || prefix(TRADITIONAL_PROBE)) else {
            return opening();
        };
        // The window: from a little before the first query word in the article's head.
        let lower = body[..floor_utf8_boundary(&body, SNIPPET_SCAN)].to_ascii_lowercase();
        let Some(first) = h.finder.find(&lower) else {
            return opening();
        };
        let a = floor_utf8_boundary(&body, first.start().saturating_sub(SNIPPET_FRAGMENT / 4));
        let b = floor_utf8_boundary(&lower, a + SNIPPET_WINDOW);
        let Ok(window) = simdutf8::basic::from_utf8(&body[a..b]) else {
            return opening();
        };
        let ranges = h.ranges(&lower[a..b]);
        if ranges.is_empty() {
            return opening();
        }
        // The fragment holding the most weight of distinct terms, starting at a match.
        let mut best = (0f32, 0usize);
        for (i, r) in ranges.iter().enumerate() {
            let end = r.0 + SNIPPET_FRAGMENT;
            let mut seen: Vec<usize> = Vec::new();
            let mut score = 0.0;
            for q in ranges[i..].iter().take_while(|q| q.1 <= end) {
                if !seen.contains(&q.2) {
                    seen.push(q.2);
                    score += q.3;
                }
            }
            if score > best.0 {
                best = (score, i);
            }
        }
        let start = ranges[best.1].0;
        // Begin at a natural break shortly before the first highlighted word: the nearest
        // clause break, or the article's start; looked for further back when there is none
        // close by, so a sentence is not cut in the middle of its subject.
        let from = SNIPPET_LEAD
            .iter()
            .find_map(|&reach| {
                let lo = floor_char_boundary(window, start.saturating_sub(reach));
                window[lo..start]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| {
                        matches!(
                            c,
                            '。' | '！' | '？' | '；' | '：' | '，' | '\n' | '.' | ',' | ';' | ':'
                        )
                    })
                    .map(|(i, c)| lo + i + c.len_utf8())
                    .or((lo == 0 && a == 0).then_some(0))
            })
            .unwrap_or(start);
        let from = start - window[from..start].trim_start().len();
        let to = floor_char_boundary(window, from + SNIPPET_FRAGMENT);
        let fragment = &window[from..to];
        let marks: Vec<std::ops::Range<usize>> = ranges
            .iter()
            .filter(|r| r.0 >= from && r.1 <= to)
            .map(|r| r.0 - from..r.1 - from)
            .collect();
        render_snippet(fragment.trim_end(), &marks)
    }
}

/// The largest index at or below `i` that does not split a UTF-8 sequence of `bytes`.
fn floor_utf8_boundary(bytes: &[u8], i: usize) -> usize {
    let mut i = i.min(bytes.len());
    // A continuation byte is 0b10xx_xxxx.
    while i > 0 && i < bytes.len() && bytes[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

/// The longest prefix of `bytes` that is valid UTF-8.
fn utf8_prefix(bytes: &[u8]) -> &str {
    match simdutf8::compat::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// Escaped HTML of `fragment` with `<mark>` around the highlighted byte ranges. Ranges are
/// clamped to the fragment, kept on char boundaries and merged: the analyzer emits
/// overlapping tokens (a compound code and its parts), and a fragment can end inside one.
pub fn render_snippet(fragment: &str, highlighted: &[std::ops::Range<usize>]) -> String {
    let len = fragment.len();
    let mut ranges: Vec<(usize, usize)> = highlighted
        .iter()
        .map(|r| (r.start.min(len), r.end.min(len)))
        .filter(|(a, b)| a < b && fragment.is_char_boundary(*a) && fragment.is_char_boundary(*b))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let mut out = String::with_capacity(len + merged.len() * 13);
    let mut at = 0;
    for (a, b) in merged {
        escape_into(&mut out, &fragment[at..a]);
        out.push_str("<mark>");
        escape_into(&mut out, &fragment[a..b]);
        out.push_str("</mark>");
        at = b;
    }
    escape_into(&mut out, &fragment[at..]);
    out
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped for HTML. The characters escaped are ASCII, so the runs
/// between them are copied whole, never split inside a UTF-8 sequence.
fn escape_into(out: &mut String, s: &str) {
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'&' => "&amp;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        out.push_str(escaped);
        run = i + 1;
    }
    out.push_str(&s[run..]);
}

/// Adds the re-scoring clauses' scores to the candidates (in clause order, as one union
/// would), and measures their coverage when `coverage` is asked for. Returns whether any
/// score was added.
fn add_rescore(
    searcher: &Searcher,
    loaded: &Loaded,
    plan: &Plan,
    lean: bool,
    top_docs: &mut [(f32, DocAddress)],
    matched: Option<&[u64]>,
    coverage: bool,
) -> tantivy::Result<(bool, Vec<(f32, f32)>)> {
    let addrs: Vec<DocAddress> = top_docs.iter().map(|(_, a)| *a).collect();
    let (scores, coverage) =
        clause_scores(searcher, loaded, plan, lean, &addrs, matched, coverage)?;
    let mut added = false;
    for clause in &scores {
        for (doc, s) in top_docs.iter_mut().zip(clause) {
            if let Some(s) = s {
                doc.0 += s;
                added = true;
            }
        }
    }
    Ok((added, coverage))
}

/// Each re-scoring clause's score on each of `addrs` (None: no match), in the plan's order:
/// the points re-scoring adds to the candidates. Each is the score the clause's own tantivy
/// query gives the entry, bit for bit.
pub fn rescoring_scores(
    searcher: &Searcher,
    loaded: &Loaded,
    plan: &Plan,
    lean: bool,
    addrs: &[DocAddress],
) -> tantivy::Result<ClauseScores> {
    Ok(clause_scores(searcher, loaded, plan, lean, addrs, None, false)?.0)
}

/// Per clause, its score on each candidate (`None`: no match).
pub type ClauseScores = Vec<Vec<Option<f32>>>;

/// [`rescoring_scores`], and the candidates' coverage when asked for. Term and proximity
/// clauses are scored by [`candidate_pass`], which reads each posting list once for all of
/// them and for coverage; the others (synonym phrases) go through their tantivy scorers,
/// which jump from candidate to candidate, checking positions only there.
fn clause_scores(
    searcher: &Searcher,
    loaded: &Loaded,
    plan: &Plan,
    lean: bool,
    addrs: &[DocAddress],
    matched: Option<&[u64]>,
    coverage: bool,
) -> tantivy::Result<(ClauseScores, Vec<(f32, f32)>)> {
    let own: Vec<Scored> = plan
        .rescoring(lean)
        .filter_map(|c| match (&c.term, &c.pair) {
            (Some(t), _) => Some(Scored::Term(t)),
            (None, Some(p)) => Some(Scored::Pair(p)),
            (None, None) => None,
        })
        .collect();
    // The body terms retrieval matched on each candidate: coverage need not read them again.
    let in_body = matched.map(|m| {
        let bits = plan
            .retrieval(lean)
            .take(64)
            .enumerate()
            .filter_map(|(k, c)| {
                let t = c.term.as_ref()?;
                (t.field == loaded.fields.body).then_some((t.text.as_str(), 1u64 << k))
            })
            .collect();
        BodyMatches { matched: m, bits }
    });
    let pass = candidate_pass(
        searcher,
        loaded,
        plan,
        &own,
        addrs,
        in_body.as_ref(),
        coverage,
    );
    let mut own_scores = pass.scores.into_iter();
    let mut scores = Vec::new();
    let mut by_seg = None;
    for clause in plan.rescoring(lean) {
        if clause.term.is_some() || clause.pair.is_some() {
            scores.push(own_scores.next().unwrap_or_default());
            continue;
        }
        let by_seg = by_seg.get_or_insert_with(|| by_segment(addrs.iter().copied()));
        scores.push(scorer_scores(searcher, clause, addrs, by_seg)?);
    }
    Ok((scores, pass.coverage))
}

/// A clause's score on each of `addrs` through its tantivy scorer.
fn scorer_scores(
    searcher: &Searcher,
    clause: &query::Clause,
    addrs: &[DocAddress],
    by_seg: &[(u32, Vec<usize>)],
) -> tantivy::Result<Vec<Option<f32>>> {
    let mut scores = vec![None; addrs.len()];
    let scoring = tantivy::query::EnableScoring::enabled_from_searcher(searcher);
    let weight = clause.query().weight(scoring)?;
    for &(seg_ord, ref idxs) in by_seg {
        let reader = searcher.segment_reader(seg_ord);
        let first = addrs[idxs[0]].doc_id;
        let (mut found, mut scorer) = weight.scorer_danger(reader, first, 1.0)?;
        // No match lies below `bound`: a candidate there is skipped, not sought.
        let mut bound = first;
        for (k, &i) in idxs.iter().enumerate() {
            let doc = addrs[i].doc_id;
            if doc < bound {
                continue;
            }
            if k > 0 {
                found = scorer.seek_danger(doc);
            }
            match found {
                tantivy::SeekDangerResult::Found => {
                    scores[i] = Some(scorer.score());
                    bound = doc + 1;
                }
                tantivy::SeekDangerResult::SeekLowerBound(d) if d == tantivy::TERMINATED => break,
                tantivy::SeekDangerResult::SeekLowerBound(d) => bound = d.max(doc + 1),
            }
        }
    }
    Ok(scores)
}

/// Indexes of the candidates per segment, each list in doc order: postings and scorers
/// only move forward.
fn by_segment(addrs: impl Iterator<Item = DocAddress>) -> Vec<(u32, Vec<usize>)> {
    let mut all: Vec<(u32, u32, usize)> = addrs
        .enumerate()
        .map(|(i, a)| (a.segment_ord, a.doc_id, i))
        .collect();
    all.sort_unstable();
    let mut by_seg: Vec<(u32, Vec<usize>)> = Vec::new();
    for (seg, _, i) in all {
        match by_seg.last_mut() {
            Some((s, idxs)) if *s == seg => idxs.push(i),
            _ => by_seg.push((seg, vec![i])),
        }
    }
    by_seg
}

/// Appends the retrieved entries past the re-ranking window to the re-ranked ones.
/// Re-scoring and re-ranking see the `rerank_depth` best retrieved entries, the same for
/// every page, so that pages do not overlap; the entries past them follow in retrieval order
/// (which a larger window only extends), their scores scaled below the window's lowest.
/// Before, a deeper page re-ranked a deeper pool: entries rose above ones already shown, and
/// the same entry came back on the next pages.
fn append_past_window(ranked: &mut Vec<(f32, DocAddress)>, mut tail: Vec<(f32, DocAddress)>) {
    if let (Some(floor), Some(top)) = (ranked.last().map(|d| d.0), tail.first().map(|d| d.0)) {
        if top >= floor && top > 0.0 {
            // Below the window's last, order and proportions kept.
            let scale = floor / top * 0.999;
            for d in &mut tail {
                d.0 *= scale;
            }
        }
    }
    // Entries that only common words retrieve come last and may score above the rarer
    // words' last: never above an entry listed before them.
    let mut cap = f32::INFINITY;
    for d in &mut tail {
        d.0 = d.0.min(cap);
        cap = d.0;
    }
    ranked.append(&mut tail);
}

/// What re-ranking learnt of a candidate (see `search`).
#[derive(Debug, Clone, Copy)]
struct Noted {
    /// Its score before coverage and the prior.
    raw: f32,
    /// Its coverage: all fields, title and aliases.
    coverage: (f32, f32),
    /// Points the problem-entry prior added.
    prior: Option<f32>,
    /// Points the reference-entry prior took (negative).
    reference: Option<f32>,
    /// Points the named-area prior added.
    area: Option<f32>,
    /// Points the verbatim prior added.
    verbatim: Option<f32>,
}

/// A clause [`candidate_pass`] scores from the postings it reads.
#[derive(Clone, Copy)]
enum Scored<'a> {
    Term(&'a query::TermClause),
    Pair(&'a query::PairClause),
}

/// What one [`candidate_pass`] found.
struct CandidatePass {
    /// Per clause, in the order given, its score on each candidate.
    scores: ClauseScores,
    /// Per candidate: the IDF-weighted share of the query's main terms found in the entry
    /// (any text field), and in its title or aliases. Zero when not asked for.
    coverage: Vec<(f32, f32)>,
}

/// Which body terms each candidate is known to hold, from an exhaustive retrieval.
struct BodyMatches<'a> {
    /// Per candidate, the retrieval clauses it matched (see `retrieve::Retrieved`).
    matched: &'a [u64],
    /// A body term clause's text and its bit.
    bits: Vec<(&'a str, u64)>,
}

/// One walk over the postings of every (field, term) the candidates need: the term and
/// proximity clauses that re-score them (`clauses`), and, when `coverage` is asked for, the
/// query's main terms in each text field. Each posting list is looked up and opened once per
/// segment and read forward over the candidates in doc order; no document is re-analysed.
///
/// Clauses are scored with BM25 exactly as tantivy scores a boosted term query or a two-term
/// phrase query with slop (the same statistics, the same occurrence count and the same float
/// operations in the same order), with each field's length normalisation table built once
/// per search instead of once per clause. A term in several proximity pairs has its
/// positions read once per candidate, not once per pair.
fn candidate_pass(
    searcher: &Searcher,
    loaded: &Loaded,
    plan: &Plan,
    clauses: &[Scored],
    addrs: &[DocAddress],
    in_body: Option<&BodyMatches>,
    coverage: bool,
) -> CandidatePass {
    let f = &loaded.fields;
    let mut pass = CandidatePass {
        scores: vec![vec![None; addrs.len()]; clauses.len()],
        coverage: vec![(0.0, 0.0); addrs.len()],
    };
    if addrs.is_empty() {
        return pass;
    }
    // The work: each distinct (field, term) once, with the term clauses it scores, whether
    // a pair needs its positions, and the coverage it counts for.
    struct Work<'a> {
        field: tantivy::schema::Field,
        text: &'a str,
        clauses: Vec<usize>,
        /// Its slot among the terms whose positions are kept.
        positions: Option<usize>,
        /// (main term index, counts for the title coverage): the main terms it covers.
        cover: Vec<(usize, bool)>,
    }
    // A few dozen items: a scan finds one faster than hashing its text.
    fn at<'a>(work: &mut Vec<Work<'a>>, field: tantivy::schema::Field, text: &'a str) -> usize {
        if let Some(i) = work.iter().position(|w| w.field == field && w.text == text) {
            return i;
        }
        work.push(Work {
            field,
            text,
            clauses: Vec::new(),
            positions: None,
            cover: Vec::new(),
        });
        work.len() - 1
    }
    let mut work: Vec<Work> = Vec::new();
    let mains: Vec<&query::QueryTerm> = plan.terms.iter().filter(|t| !t.secondary).collect();
    let all: f32 = mains.iter().map(|t| t.idf).sum();
    // Per (main term, candidate): found in the title or aliases, found anywhere.
    let n = addrs.len();
    let mut in_title = vec![false; mains.len() * n];
    let mut in_any = vec![false; mains.len() * n];
    if coverage && all > 0.0 {
        // A main term is covered by itself or by a translation standing for it.
        let covering = mains.iter().enumerate().flat_map(|(m, t)| {
            std::iter::once((m, t.text.as_str())).chain(
                plan.terms
                    .iter()
                    .filter(|a| a.stands_for.contains(&t.text))
                    .map(move |a| (m, a.text.as_str())),
            )
        });
        for (m, text) in covering {
            for (field, title) in [
                (f.title, true),
                (f.aliases, true),
                (f.page_title, false),
                (f.body, false),
            ] {
                let known = in_body.filter(|_| field == f.body).and_then(|b| {
                    let bit = b.bits.iter().find(|(x, _)| *x == text)?.1;
                    Some((b.matched, bit))
                });
                if let Some((matched, bit)) = known {
                    for (c, m_bits) in matched.iter().enumerate().take(addrs.len()) {
                        in_any[m * n + c] |= m_bits & bit != 0;
                    }
                    continue;
                }
                let w = at(&mut work, field, text);
                work[w].cover.push((m, title));
            }
        }
    }
    // Per pair clause: (its index in `clauses`, its two terms' work).
    let mut pairs: Vec<(usize, &query::PairClause, [usize; 2])> = Vec::new();
    let mut positional = 0;
    for (k, c) in clauses.iter().enumerate() {
        match c {
            Scored::Term(t) => {
                let w = at(&mut work, t.field, t.text.as_str());
                work[w].clauses.push(k);
            }
            Scored::Pair(p) => {
                let ws = [0, 1].map(|i| at(&mut work, p.field, p.terms[i].as_str()));
                for w in ws {
                    if work[w].positions.is_none() {
                        work[w].positions = Some(positional);
                        positional += 1;
                    }
                }
                pairs.push((k, p, ws));
            }
        }
    }
    if work.is_empty() {
        return pass;
    }

    // BM25 statistics of the generation, as tantivy's `Searcher` gives them.
    let readers = searcher.segment_readers();
    let norms = &loaded.bm25;
    // Each field's inverted index per segment (opening one takes a lock and a lookup), the
    // term infos per segment, and document frequencies summed over segments.
    let inverted: Vec<Vec<(tantivy::schema::Field, Option<std::sync::Arc<_>>)>> = readers
        .iter()
        .map(|r| {
            let mut fields: Vec<tantivy::schema::Field> = work.iter().map(|w| w.field).collect();
            fields.sort_unstable();
            fields.dedup();
            fields
                .into_iter()
                .map(|field| (field, r.inverted_index(field).ok()))
                .collect()
        })
        .collect();
    let inverted_of = |seg: usize, field| {
        inverted[seg]
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, i)| i.clone())
    };
    let infos: Vec<Vec<Option<tantivy::postings::TermInfo>>> = (0..readers.len())
        .map(|seg| {
            work.iter()
                .map(|w| {
                    let inv: std::sync::Arc<tantivy::InvertedIndexReader> =
                        inverted_of(seg, w.field)?;
                    inv.get_term_info(&Term::from_field_text(w.field, w.text))
                        .ok()
                        .flatten()
                })
                .collect()
        })
        .collect();
    let dfs: Vec<u64> = (0..work.len())
        .map(|i| {
            infos
                .iter()
                .filter_map(|s| s[i].as_ref())
                .map(|t| u64::from(t.doc_freq))
                .sum()
        })
        .collect();
    let weights: Vec<Option<(f32, &[f32; 256])>> = work
        .iter()
        .zip(&dfs)
        .map(|(w, &df)| {
            if w.clauses.is_empty() {
                return None;
            }
            Some((bm25::weight(df, norms.docs), norms.of(w.field)?))
        })
        .collect();
    // A pair's weight: as `Bm25Weight::for_terms`, then `Bm25Weight::boost_by`.
    let pair_weights: Vec<Option<(f32, &[f32; 256])>> = pairs
        .iter()
        .map(|(_, p, ws)| {
            let weight = bm25::phrase_weight(&ws.map(|w| dfs[w]), norms.docs);
            let boosted = if p.boost == 1.0 {
                weight
            } else {
                weight * p.boost
            };
            Some((boosted, norms.of(p.field)?))
        })
        .collect();
    // The positions of a term in a candidate: a range of `positions`, per (slot, candidate).
    let mut positions: Vec<u32> = Vec::new();
    let mut spans: Vec<Option<(u32, u32)>> = vec![None; positional * n];
    // Reading a term's positions costs more than finding it: they are read only where a
    // pair may still match, so the terms of pairs go last, rarest first. A term's positions
    // are read in a candidate unless every pair it is in has its other term absent there:
    // known from retrieval (a body term) or from having read that term already.
    let mut partners: Vec<Vec<usize>> = vec![Vec::new(); positional];
    let mut retrieved: Vec<Option<u64>> = vec![None; positional];
    for w in &work {
        if let (Some(slot), Some(b)) = (w.positions, in_body.filter(|_| w.field == f.body)) {
            retrieved[slot] = b
                .bits
                .iter()
                .find(|(x, _)| *x == w.text)
                .map(|(_, bit)| *bit);
        }
    }
    for (_, _, ws) in &pairs {
        let [a, b] = ws.map(|w| work[w].positions.unwrap_or(0));
        partners[a].push(b);
        partners[b].push(a);
    }
    let mut order: Vec<usize> = (0..work.len()).collect();
    order.sort_by_key(|&i| (work[i].positions.is_some(), dfs[i]));
    let mut read = vec![false; positional];

    for (seg_ord, idxs) in by_segment(addrs.iter().copied()) {
        let seg = searcher.segment_reader(seg_ord);
        read.iter_mut().for_each(|r| *r = false);
        for &i in &order {
            let w = &work[i];
            let Some(info) = &infos[seg_ord as usize][i] else {
                continue;
            };
            let Some(inv) = inverted_of(seg_ord as usize, w.field) else {
                continue;
            };
            let scoring = weights[i].as_ref();
            let option = if w.positions.is_some() {
                IndexRecordOption::WithFreqsAndPositions
            } else if scoring.is_some() {
                IndexRecordOption::WithFreqs
            } else {
                IndexRecordOption::Basic
            };
            let Ok(mut p) = inv.read_postings_from_terminfo(info, option) else {
                continue;
            };
            let fieldnorms = match scoring {
                Some(_) => seg.get_fieldnorms_reader(w.field).ok(),
                None => None,
            };
            for &c in &idxs {
                let d = addrs[c].doc_id;
                if tantivy::DocSet::doc(&p) < d
                    && tantivy::DocSet::seek(&mut p, d) == tantivy::TERMINATED
                {
                    break;
                }
                if tantivy::DocSet::doc(&p) != d {
                    continue;
                }
                for &(m, title) in &w.cover {
                    in_any[m * n + c] = true;
                    in_title[m * n + c] |= title;
                }
                if let Some(slot) = w.positions.filter(|&slot| {
                    partners[slot]
                        .iter()
                        .any(|&o| match (retrieved[o], in_body) {
                            (Some(bit), Some(b)) => b.matched.get(c).is_some_and(|m| m & bit != 0),
                            _ => !read[o] || spans[o * n + c].is_some(),
                        })
                }) {
                    let start = positions.len() as u32;
                    tantivy::postings::Postings::append_positions_with_offset(
                        &mut p,
                        0,
                        &mut positions,
                    );
                    spans[slot * n + c] = Some((start, positions.len() as u32));
                }
                if let (Some((weight, norm)), Some(fieldnorms)) = (scoring, &fieldnorms) {
                    let tf = tantivy::postings::Postings::term_freq(&p) as f32;
                    let norm = norm[fieldnorms.fieldnorm_id(d) as usize];
                    let tf_factor = tf / (tf + norm);
                    for &k in &w.clauses {
                        let Scored::Term(t) = clauses[k] else {
                            continue;
                        };
                        // As `Bm25Weight::boost_by`, then `Bm25Weight::score`.
                        let boosted = if t.boost == 1.0 {
                            *weight
                        } else {
                            weight * t.boost
                        };
                        pass.scores[k][c] = Some(boosted * tf_factor);
                    }
                }
            }
            if let Some(slot) = w.positions {
                read[slot] = true;
            }
        }
        // The pairs, from the positions just read.
        for ((k, p, ws), weight) in pairs.iter().zip(&pair_weights) {
            let Some((weight, norm)) = weight else {
                continue;
            };
            let Ok(fieldnorms) = seg.get_fieldnorms_reader(p.field) else {
                continue;
            };
            let [first, second] = ws.map(|w| work[w].positions.unwrap_or(0) * n);
            for &c in &idxs {
                let (Some(a), Some(b)) = (spans[first + c], spans[second + c]) else {
                    continue;
                };
                let count = near_count(
                    &positions[a.0 as usize..a.1 as usize],
                    &positions[b.0 as usize..b.1 as usize],
                    p.slop,
                );
                if count == 0 {
                    continue;
                }
                // As `Bm25Weight::score` with the count as the term frequency.
                let tf = count as f32;
                let norm = norm[fieldnorms.fieldnorm_id(addrs[c].doc_id) as usize];
                pass.scores[*k][c] = Some(weight * (tf / (tf + norm)));
            }
        }
    }
    if coverage && all > 0.0 {
        for (m, t) in mains.iter().enumerate() {
            for c in 0..n {
                if in_any[m * n + c] {
                    pass.coverage[c].0 += t.idf;
                }
                if in_title[m * n + c] {
                    pass.coverage[c].1 += t.idf;
                }
            }
        }
        for cv in &mut pass.coverage {
            *cv = (cv.0 / all, cv.1 / all);
        }
    }
    pass
}

/// How often `second` occurs within `slop` positions of where a two-word phrase puts it,
/// right after `first` (both sorted), counted as tantivy's phrase scorer counts a sloppy
/// two-term phrase: walking both lists in order, each match takes the last occurrence of
/// `first` that is not past the `second` it matches, and consumes both.
fn near_count(first: &[u32], second: &[u32], slop: u32) -> u32 {
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < first.len() && j < second.len() {
        // Where the phrase wants the second word.
        let want = first[i] + 1;
        let got = second[j];
        if want.abs_diff(got) <= slop {
            while i + 1 < first.len() && first[i + 1] < got {
                i += 1;
            }
            count += 1;
            i += 1;
            j += 1;
        } else if want < got {
            i += 1;
        } else {
            j += 1;
        }
    }
    count
}

fn explain(searcher: &Searcher, plan: &Plan, addr: DocAddress) -> Vec<ScorePart> {
    let mut parts: Vec<ScorePart> = plan
        .clauses
        .iter()
        .filter_map(|c| {
            let e = c.query().explain(searcher, addr).ok()?;
            (e.value() > 0.0).then(|| ScorePart {
                clause: c.label.clone(),
                score: e.value(),
            })
        })
        .collect();
    parts.sort_by(|a, b| b.score.total_cmp(&a.score));
    parts
}

/// A u64 fast field's column in each segment, opened once per search rather than once per
/// candidate (indexed by segment ordinal; `None` where a segment lacks the field).
/// Orders candidates of equal score by entry id. Identical copies of a page score exactly
/// alike, and documents are numbered in whatever order the indexing threads took them, so
/// without this two builds of one KB could rank (and collapse) such copies differently.
fn break_ties(ids: &Ids, top_docs: &mut [(f32, DocAddress)]) {
    let mut i = 0;
    while i < top_docs.len() {
        let mut j = i + 1;
        while j < top_docs.len() && top_docs[j].0 == top_docs[i].0 {
            j += 1;
        }
        if j - i > 1 {
            top_docs[i..j].sort_by_cached_key(|&(_, a)| ids.key(a));
        }
        i = j;
    }
}

/// Entry ids read from the `id` fast field (opened with the generation, see
/// `index::columns`), so no stored document is decoded.
struct Ids<'a> {
    columns: &'a [Option<tantivy::columnar::StrColumn>],
}

impl<'a> Ids<'a> {
    fn new(loaded: &'a Loaded) -> Ids<'a> {
        Ids {
            columns: &loaded.columns.id,
        }
    }

    fn column(&self, seg: u32) -> Option<&tantivy::columnar::StrColumn> {
        self.columns.get(seg as usize)?.as_ref()
    }

    /// The entry id of `a`.
    fn id(&self, a: DocAddress) -> Option<String> {
        let col = self.column(a.segment_ord)?;
        let ord = col.term_ords(a.doc_id).next()?;
        let mut s = String::new();
        col.ord_to_str(ord, &mut s).ok()?.then_some(s)
    }

    /// A key that sorts entries in id order. In a single segment (every built generation) the
    /// column's term ordinal is that order, and no id is spelled out.
    fn key(&self, a: DocAddress) -> (Option<u64>, Option<String>) {
        if self.columns.len() == 1 {
            let ord = self
                .column(a.segment_ord)
                .and_then(|c| c.term_ords(a.doc_id).next());
            (ord, None)
        } else {
            (None, self.id(a))
        }
    }
}

/// The stored document of entry `id`.
pub fn fetch(loaded: &Loaded, id: &str) -> Option<TantivyDocument> {
    let searcher = loaded.reader.searcher();
    let q = TermQuery::new(
        Term::from_field_text(loaded.fields.id, id),
        IndexRecordOption::Basic,
    );
    let top = searcher
        .search(&q, &TopDocs::with_limit(1).order_by_score())
        .ok()?;
    let (_, addr) = top.first()?;
    searcher.doc(*addr).ok()
}

#[cfg(test)]
mod tests {
    use super::{contains_word, named_section, near_count, render_snippet, Finder, Highlighter};

    /// The anchor of the section `ticket` names among `headings` (anchors `h0`, `h1`, …).
    fn named(headings: &[&str], ticket: &str) -> Option<String> {
        let headings: Vec<_> = headings
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_string(), Some(format!("h{i}"))))
            .collect();
        let query = crate::analysis::normalize::normalize_str(ticket).to_lowercase();
        named_section(&headings, &query, |_| true).and_then(|s| s.anchor)
    }

    #[test]
    fn a_pasted_message_names_the_error_heading_that_quotes_it() {
        let page = [
            "Common causes for connection issues",
            "Error connecting to your instance: Connection timed out",
            "Error: Permission denied or connection closed by [instance] port 22",
            "Error: Unprotected private key file",
            "Error: Server refused our key or No supported authentication methods available",
            "Error: unable to load key ... Expecting: ANY PRIVATE KEY",
            "步骤一：创建实例",
            "报错：Lock wait timeout exceeded; try restarting transaction",
        ];
        let cases = [
            // The message without the heading's label.
            (
                "ssh: connect to host 1.2.3.4 port 22: Connection timed out",
                Some("h1"),
            ),
            (
                "WARNING: UNPROTECTED PRIVATE KEY FILE! Permissions 0644 are too open",
                Some("h3"),
            ),
            (
                "执行 update 报 Lock wait timeout exceeded; try restarting transaction",
                Some("h7"),
            ),
            // Either message of a heading that joins two with `or`.
            (
                "PuTTY says: No supported authentication methods available",
                Some("h4"),
            ),
            ("ssh fails: Permission denied (publickey)", Some("h2")),
            // Placeholders stand for what the customer's copy holds there.
            ("Connection closed by 10.0.0.5 port 22", Some("h2")),
            ("Connection closed by 10.0.0.5", None),
            (
                "Unable to load key ./k.pem. Expecting: ANY PRIVATE KEY",
                Some("h5"),
            ),
            // A short step title is not named by every ticket that uses its words.
            ("创建实例的时候报错了", None),
            ("my instance has connection issues", None),
        ];
        for (ticket, want) in cases {
            assert_eq!(named(&page, ticket).as_deref(), want, "{ticket}");
        }
    }

    #[test]
    fn a_named_heading_is_a_whole_word_of_the_query() {
        assert!(contains_word("参数 time_zone 改成 +08:00", "time_zone"));
        assert!(!contains_word("改了 system_time_zone 没用", "time_zone"));
        assert!(contains_word(
            "改了 system_time_zone 和 time_zone",
            "time_zone"
        ));
        assert!(contains_word(
            "max_execution_time(n) 怎么用",
            "max_execution_time(n)"
        ));
        // Han text has no word boundaries to check.
        assert!(contains_word("数据库问题排查", "数据库问题"));
    }

    fn highlighted(h: &Highlighter, text: &str) -> Vec<String> {
        let lower = text.to_ascii_lowercase();
        h.ranges(lower.as_bytes())
            .iter()
            .map(|r| text[r.0..r.1].to_string())
            .collect()
    }

    #[test]
    fn highlights_match_ascii_in_any_case_and_english_word_endings() {
        let words = ["ECS", "实例", "connect", "oss"];
        let h = Highlighter::new(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (i, w.to_string(), 1.0)),
        )
        .unwrap();
        assert!(matches!(h.finder, Finder::Packed(_)));
        let text = "登录 Ecs 控制台，找到实例；Connection refused；OSSutil 与 oss 不同";
        assert_eq!(
            highlighted(&h, text),
            ["Ecs", "实例", "Connection", "OSS", "oss"],
            "a stem takes its word's ending, a short word is not grown (`OSS`util)"
        );
    }

    #[test]
    fn head_bytes_are_cut_on_characters_and_bad_bytes_end_the_text() {
        use super::{floor_utf8_boundary, utf8_prefix};
        let t = "云盘扩容".as_bytes();
        assert_eq!(floor_utf8_boundary(t, 4), 3);
        assert_eq!(floor_utf8_boundary(t, 6), 6);
        assert_eq!(floor_utf8_boundary(t, 99), t.len());
        assert_eq!(utf8_prefix(&t[..floor_utf8_boundary(t, 8)]), "云盘");
        let corrupt = [t, &[0xff, b'x']].concat();
        assert_eq!(utf8_prefix(&corrupt), "云盘扩容");
    }

    #[test]
    fn a_query_with_many_terms_highlights_the_same() {
        // Past the vectorised searcher's few dozen terms, the automaton takes over.
        let mut words: Vec<String> = (0..100).map(|i| format!("词{i}号")).collect();
        words.extend(["ECS", "实例"].map(String::from));
        let h =
            Highlighter::new(words.iter().enumerate().map(|(i, w)| (i, w.clone(), 1.0))).unwrap();
        assert!(matches!(h.finder, Finder::Automaton(_)));
        assert_eq!(
            highlighted(&h, "登录 ECS 控制台，找到实例与词7号"),
            ["ECS", "实例", "词7号"]
        );
    }

    #[test]
    fn snippet_ranges_past_the_fragment_end_are_clamped() {
        let f = "浏览器出现“ERR_CERT”报错";
        let end = f.len();
        // A compound token ending past the fragment, overlapping parts, a range splitting a char.
        let html = render_snippet(
            f,
            &[0..6, 3..9, (end - 6)..(end + 40), (end - 8)..end, 1..2],
        );
        assert!(html.starts_with("<mark>浏览器</mark>"), "{html}");
        assert!(html.ends_with("</mark>"), "{html}");
    }

    #[test]
    fn near_words_are_counted_as_a_sloppy_two_word_phrase() {
        // The second word is wanted one position after the first, give or take the slop.
        assert_eq!(near_count(&[4], &[5], 0), 1);
        assert_eq!(near_count(&[4], &[7], 2), 1);
        assert_eq!(near_count(&[4], &[8], 2), 0);
        // Before the first word counts too, as far as the slop reaches.
        assert_eq!(near_count(&[4], &[3], 2), 1);
        assert_eq!(near_count(&[4], &[2], 2), 0);
        // Each occurrence matches once: the second word's 6 takes the first word's 5 (the
        // last not past it), and 9 has no first word left near it.
        assert_eq!(near_count(&[1, 5], &[6, 9], 2), 1);
        assert_eq!(near_count(&[1, 5, 8], &[6, 9], 2), 2);
        assert_eq!(near_count(&[], &[1], 2), 0);
    }

    #[test]
    fn snippet_text_is_escaped() {
        assert_eq!(
            render_snippet("<b>x</b>", std::slice::from_ref(&(3..4))),
            "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"
        );
    }

    #[test]
    fn escaping_copies_runs_and_escapes_each_special_character() {
        // The character-by-character definition the run-copying escape must equal.
        let reference = |s: &str| -> String {
            s.chars()
                .map(|c| match c {
                    '<' => "&lt;".to_string(),
                    '>' => "&gt;".to_string(),
                    '&' => "&amp;".to_string(),
                    '"' => "&quot;".to_string(),
                    '\'' => "&#39;".to_string(),
                    c => c.to_string(),
                })
                .collect()
        };
        for s in [
            "",
            "<",
            "a&b",
            "纯中文没有特殊字符",
            "<<>>&&\"\"''",
            "报错 \"Access Denied\" <ECS> & 'OSS'：磁盘满了😀<end>",
            "😀&😀",
            "tail'",
        ] {
            assert_eq!(super::html_escape(s), reference(s), "{s}");
        }
    }
}
