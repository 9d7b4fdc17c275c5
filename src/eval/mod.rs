//! Evaluation: relevance metrics and decision quality on labelled query sets.
//!
//! Two input forms: `queries.tsv` (qid, set, query) + `qrels.tsv` (qid, doc_id, rel; see
//! [`load_tsv`] for the other layouts read), where a doc id may be `path#anchor` and, in
//! graded qrels, rel 1 marks the query's own FAQ page (dropped from the ranking, with every
//! page that carries the same question); or JSONL tickets `{id, text, relevant, expect}`. Every set is split into dev (odd
//! qid number) and test (even). Scoring is at page level: a hit on `doc#anchor` counts for
//! `doc`, and near-duplicates collapsed into a hit count as that hit.

pub mod metrics;
pub mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::answer::{self, confidence, AnswerRequest, Ticket};
use crate::config::AnswerConfig;
use crate::index::Loaded;
use crate::search::{self, Mode, SearchRequest};
use metrics::QueryMetrics;

/// One labelled query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabelledQuery {
    /// Query id.
    pub id: String,
    /// Set name (faq_link, error_string, tickets …).
    pub set: String,
    /// Text.
    pub text: String,
    /// Relevant doc ids (rel 2).
    pub relevant: Vec<String>,
    /// Doc ids to drop from the ranking (rel 1).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// `answer` or `escalate` (tickets only).
    #[serde(default)]
    pub expect: Option<String>,
    /// Expected decision (tickets only).
    #[serde(default)]
    pub decision: Option<String>,
    /// Expected escalation reason (tickets only).
    #[serde(default)]
    pub reason: Option<String>,
    /// The ticket's category, when labelled (tickets only): the team a hand-off should reach.
    #[serde(default)]
    pub category: Option<String>,
}

impl LabelledQuery {
    /// dev (odd number in the id) or test (even).
    pub fn split(&self) -> &'static str {
        let digits: String = self
            .id
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        match digits.parse::<u64>() {
            Ok(n) if n % 2 == 1 => "dev",
            _ => "test",
        }
    }
}

/// Reads `queries.tsv` + `qrels.tsv`.
///
/// Queries: `qid<TAB>set<TAB>query`, or `qid<TAB>query` (every query in one set, named after
/// the file). Qrels: `qid doc_id rel`, or TREC's `qid 0 doc_id rel`, separated by tabs or
/// spaces. A header line is skipped when it is one (a qid column named `qid`, `id` or
/// `query_id`, a rel column that is no number); blank lines and `#` comments are skipped.
///
/// Grades: in a file that grades 2 and up, 2+ is an answer and 1 a partial hit, dropped from
/// the ranking (the shared data's convention: a query's own FAQ page); in a file of 0 and 1
/// only (binary, TREC's usual), 1 is an answer. 0 is a judged non-answer: it counts as any
/// page that is not an answer.
pub fn load_tsv(queries: &Path, qrels: &Path) -> anyhow::Result<Vec<LabelledQuery>> {
    let qtext = std::fs::read_to_string(queries)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", queries.display()))?;
    let rtext = std::fs::read_to_string(qrels)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", qrels.display()))?;
    let is_header_id = |c: &str| {
        matches!(
            c.trim().to_lowercase().as_str(),
            "qid" | "id" | "query_id" | "query-id" | "queryid" | "_id"
        )
    };
    let mut grades: Vec<(String, String, i64)> = Vec::new();
    for (n, line) in rtext.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let (qid, doc, rel) = match cols.as_slice() {
            [q, d, r] => (*q, *d, *r),
            [q, _, d, r] => (*q, *d, *r),
            _ => anyhow::bail!(
                "{}:{}: expected qid<TAB>doc_id<TAB>rel (or TREC's qid 0 doc_id rel)",
                qrels.display(),
                n + 1
            ),
        };
        match rel.parse::<i64>() {
            Ok(g) => grades.push((qid.to_string(), doc.to_string(), g)),
            Err(_) if grades.is_empty() && is_header_id(qid) => continue,
            Err(_) => anyhow::bail!(
                "{}:{}: rel `{rel}` is not a whole number",
                qrels.display(),
                n + 1
            ),
        }
    }
    let graded = grades.iter().any(|(_, _, g)| *g >= 2);
    let answer_grade = if graded { 2 } else { 1 };
    let mut rel: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for (qid, doc, g) in grades {
        let e = rel.entry(qid).or_default();
        if g >= answer_grade {
            e.0.push(doc);
        } else if g >= 1 {
            e.1.push(doc);
        }
    }
    let default_set = queries
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "queries".into());
    let mut out = Vec::new();
    for (n, line) in qtext.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.splitn(3, '\t').collect();
        if n == 0 && is_header_id(cols[0]) {
            continue;
        }
        let (id, set, text) = match cols.as_slice() {
            [id, set, text] => (*id, *set, *text),
            [id, text] => (*id, default_set.as_str(), *text),
            _ => anyhow::bail!(
                "{}:{}: expected qid<TAB>set<TAB>query or qid<TAB>query",
                queries.display(),
                n + 1
            ),
        };
        let (relevant, exclude) = rel.remove(id.trim()).unwrap_or_default();
        out.push(LabelledQuery {
            id: id.trim().into(),
            set: set.trim().into(),
            text: text.trim().into(),
            relevant,
            exclude,
            expect: None,
            decision: None,
            reason: None,
            category: None,
        });
    }
    Ok(out)
}

/// One labelled ticket. `qid` or `_id` may name the id, `query` or `body` the text; `relevant`
/// may be one id.
#[derive(Deserialize)]
struct TicketLine {
    #[serde(alias = "qid", alias = "_id")]
    id: serde_json::Value,
    #[serde(alias = "query", alias = "body")]
    text: String,
    #[serde(default, deserialize_with = "one_or_list")]
    relevant: Vec<String>,
    #[serde(default)]
    expect: Option<String>,
    #[serde(default)]
    decision: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

fn one_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrList {
        One(String),
        List(Vec<String>),
    }
    Ok(match Option::<OneOrList>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrList::One(s)) => vec![s],
        Some(OneOrList::List(v)) => v,
    })
}

/// Reads JSONL tickets; the set name is the file stem.
pub fn load_jsonl(path: &Path) -> anyhow::Result<Vec<LabelledQuery>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let set = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tickets".into());
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let t: TicketLine = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        let id = match t.id {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => anyhow::bail!(
                "{}:{}: id must be a string or a number, not {other}",
                path.display(),
                n + 1
            ),
        };
        out.push(LabelledQuery {
            id,
            set: set.clone(),
            text: t.text,
            relevant: t.relevant,
            exclude: Vec::new(),
            expect: t.expect,
            decision: t.decision,
            reason: t.reason,
            category: t.category,
        });
    }
    Ok(out)
}

/// The KB's FAQ questions: each question entry's near-duplicate key (its question and area,
/// [`crate::index::dupkey`], as a search collapses copies by), and the pages that carry each
/// key. The labels leave out a query's own FAQ page and "every FAQ page that carries the
/// same question"; a KB that keeps an old and a new layout of its docs carries a question
/// twice, and the labels miss copies whose heading differs in spacing or punctuation.
#[derive(Default)]
struct QuestionPages {
    key_of: HashMap<String, u64>,
    pages: HashMap<u64, Vec<String>>,
}

impl QuestionPages {
    fn read(loaded: &Loaded) -> anyhow::Result<QuestionPages> {
        let f = &loaded.fields;
        let searcher = loaded.reader.searcher();
        let mut out = QuestionPages::default();
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            let alive = seg.alive_bitset();
            for doc in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let d: tantivy::TantivyDocument =
                    searcher.doc(tantivy::DocAddress::new(ord as u32, doc))?;
                let text = |field| search::text(&d, field);
                if text(f.kind) != crate::ingest::EntryKind::Faq.as_str() {
                    continue;
                }
                let Some(key) = loaded.columns.dupkey[ord]
                    .as_ref()
                    .and_then(|c| c.first(doc))
                else {
                    continue;
                };
                let pages = out.pages.entry(key).or_default();
                let page = text(f.doc_id);
                if !pages.contains(&page) {
                    pages.push(page);
                }
                out.key_of.insert(text(f.id), key);
            }
        }
        Ok(out)
    }

    /// The pages that carry the question of entry `id` (none when it is not a question).
    fn carrying(&self, id: &str) -> &[String] {
        self.key_of
            .get(id)
            .and_then(|k| self.pages.get(k))
            .map_or(&[], Vec::as_slice)
    }
}

/// A doc id in matching form: the file ending (`.md`, `.mdx`) dropped before the anchor
/// (paths and ids then agree).
pub fn norm_id(s: &str) -> String {
    let (page, anchor) = match s.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (s, None),
    };
    let page = match crate::ingest::markdown_stem(page) {
        Some(p) if !p.is_empty() && !p.ends_with('/') => p,
        _ => page,
    };
    match anchor {
        Some(a) => format!("{page}#{a}"),
        None => page.to_string(),
    }
}

/// The anchor a Markdown renderer gives a heading that declares none, GitHub's way (as
/// labels made from rendered pages name such sections): lower case, punctuation other than
/// `-` and `_` dropped, each space a `-`. `TiDB 错误日志区分 TIMESTAMP 与 DATETIME 类型` →
/// `tidb-错误日志区分-timestamp-与-datetime-类型`.
pub fn heading_slug(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The other anchor labels give a heading that declares none: the first eight hex digits of
/// the MD5 of its text, as the Alibaba Cloud docs' labels name such sections (see their
/// README). A hit names the section when its anchor is either.
pub fn heading_hash(heading: &str) -> String {
    format!("{:x}", md5::compute(heading.as_bytes()))[..8].to_string()
}

fn page_of(s: &str) -> String {
    norm_id(s).split('#').next().unwrap_or_default().to_string()
}

/// The first 10 distinct pages of a ranking of hits (entry id, ids of its collapsed
/// copies), each with the index of the hit that stands for it. A hit stands for its copies:
/// if one of them is relevant, the hit is that page. A hit on a page an earlier hit already
/// stood for (another entry of a collapsed copy, say its lead) is the same answer again and
/// is skipped, as are excluded pages.
fn distinct_pages<'a>(
    hits: impl Iterator<Item = (&'a str, &'a [String])>,
    relevant: &HashSet<String>,
    exclude: &HashSet<String>,
) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (i, (id, duplicates)) in hits.enumerate() {
        let mut pages: Vec<String> = std::iter::once(page_of(id))
            .chain(duplicates.iter().map(|d| page_of(d)))
            .collect();
        pages.dedup();
        let page = pages
            .iter()
            .find(|p| relevant.contains(*p))
            .cloned()
            .unwrap_or_else(|| pages[0].clone());
        if exclude.contains(&page) || pages.iter().any(|p| seen.contains(p)) {
            continue;
        }
        seen.extend(pages);
        out.push((i, page));
        if out.len() == 10 {
            break;
        }
    }
    out
}

/// The outcome of one query.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    /// Query id.
    pub id: String,
    /// dev or test.
    pub split: String,
    /// The query text.
    pub text: String,
    /// Relevant pages.
    pub expected: Vec<String>,
    /// Pages ranked (top 10).
    pub got: Vec<String>,
    /// Titles of the ranked pages.
    pub got_titles: Vec<String>,
    /// Reciprocal rank.
    pub rr: f64,
    /// Metrics.
    #[serde(skip)]
    pub metrics: QueryMetrics,
    /// Milliseconds.
    pub ms: f64,
    /// Answer decision (tickets).
    pub decision: Option<String>,
    /// Expected `answer` / `escalate`.
    pub expect: Option<String>,
    /// Expected reason.
    pub reason: Option<String>,
    /// The decision the ticket is labelled with, when it has one (`clarify` for a vague
    /// ticket that two or more entries answer).
    pub expected_decision: Option<String>,
    /// Confidence of the top fix (tickets).
    pub confidence: Option<f32>,
    /// Top-1 right.
    pub top1_right: bool,
    /// Features of the top hit (tickets).
    pub features: Option<confidence::Features>,
    /// Whether the hit on a page labelled at one of its sections (`doc#anchor`, a page the
    /// engine keeps whole) names that section; None when no such hit is in the top 10.
    pub section_right: Option<bool>,
    /// The section that hit names (anchor, else heading), when it names one: a wrong one
    /// misleads more than none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_named: Option<String>,
    /// The team an escalated ticket was handed to (tickets).
    pub team: Option<String>,
    /// The team its labelled category belongs to (`AnswerConfig::team_for`).
    pub expected_team: Option<String>,
}

/// Runs every query; `answers` runs the full answer step (for ticket sets).
pub fn run(
    loaded: &Loaded,
    queries: &[LabelledQuery],
    mode: Mode,
    answers: bool,
    cfg: &AnswerConfig,
) -> anyhow::Result<Vec<QueryResult>> {
    let mut out = Vec::with_capacity(queries.len());
    let cfg = &AnswerConfig {
        weights: match mode {
            Mode::Ranked(w) => Some(w),
            Mode::Baseline => cfg.weights,
        },
        ..cfg.clone()
    };
    let questions = if queries.iter().any(|q| !q.exclude.is_empty()) {
        QuestionPages::read(loaded)?
    } else {
        QuestionPages::default()
    };
    for q in queries {
        let relevant: HashSet<String> = q.relevant.iter().map(|r| page_of(r)).collect();
        // The sections labelled, per page.
        let mut anchors: HashMap<String, HashSet<String>> = HashMap::new();
        for r in &q.relevant {
            if let Some((page, anchor)) = norm_id(r).split_once('#') {
                anchors
                    .entry(page.to_string())
                    .or_default()
                    .insert(anchor.to_string());
            }
        }
        // A question left out takes with it every page that carries it (by the key a search
        // collapses copies by), as the labels mean to.
        let exclude: HashSet<String> = q
            .exclude
            .iter()
            .flat_map(|r| {
                let more = questions.carrying(&norm_id(r)).iter().cloned();
                std::iter::once(page_of(r)).chain(more)
            })
            .filter(|p| !relevant.contains(p))
            .collect();
        let started = std::time::Instant::now();
        let mut req = SearchRequest::new(q.text.clone());
        // Metrics are per page: entries enough to fill the top 10 pages when a page has
        // several sections among them.
        req.limit = 30;
        // Left out of the ranking itself, not dropped from the results afterwards.
        req.filters.exclude_pages = exclude.iter().cloned().collect();
        req.mode = mode;
        req.facets = false;
        req.snippets = false;
        // As the answer step does: a long page's hit names the section the query names.
        req.sections = true;
        let resp = search::search(loaded, &req)?;
        let (mut decision, mut conf, mut features, mut team) = (None, None, None, None);
        if answers && matches!(mode, Mode::Ranked(_)) {
            let a = answer::answer(
                loaded,
                cfg,
                &AnswerRequest {
                    ticket: Ticket {
                        body: q.text.clone(),
                        ..Default::default()
                    },
                    options: None,
                },
            )?;
            decision = Some(a.decision.as_str().to_string());
            team = (a.decision == answer::Decision::Escalate).then(|| a.escalation.team.clone());
            conf = Some(a.confidence);
            features = a.fixes.first().map(|f| f.features);
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut got = Vec::new();
        let mut titles = Vec::new();
        let mut section_right = None;
        let mut section_named = None;
        let ids = resp
            .hits
            .iter()
            .map(|h| (h.id.as_str(), h.duplicates.as_slice()));
        for (i, page) in distinct_pages(ids, &relevant, &exclude) {
            let h = &resp.hits[i];
            if let Some(want) = anchors.get(&page).filter(|_| !h.id.contains('#')) {
                if section_right.is_none() {
                    section_named = h
                        .section
                        .as_ref()
                        .map(|s| s.anchor.clone().unwrap_or_else(|| s.heading.clone()));
                }
                section_right.get_or_insert_with(|| {
                    h.section.as_ref().is_some_and(|s| match &s.anchor {
                        Some(a) => want.contains(a),
                        None => {
                            want.contains(&heading_slug(&s.heading))
                                || want.contains(&heading_hash(&s.heading))
                        }
                    })
                });
            }
            got.push(page);
            titles.push(h.title.clone());
        }
        let m = metrics::score(&got, &relevant);
        out.push(QueryResult {
            id: q.id.clone(),
            split: q.split().into(),
            text: q.text.clone(),
            expected: relevant.into_iter().collect(),
            got,
            got_titles: titles,
            rr: m.rr10,
            metrics: m,
            ms,
            decision,
            expect: q.expect.clone(),
            reason: q.reason.clone(),
            expected_decision: q.decision.clone(),
            confidence: conf,
            top1_right: m.r1 > 0.0,
            features,
            section_right,
            section_named,
            team,
            expected_team: q
                .category
                .as_deref()
                .map(|c| cfg.team_for(Some(c)).to_string()),
        });
    }
    Ok(out)
}

/// Aggregates for one (set, split).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Set.
    pub set: String,
    /// dev, test or all.
    pub split: String,
    /// Queries scored (with at least one relevant page).
    pub n: usize,
    /// MRR@10.
    pub mrr10: f64,
    /// Recall@1.
    pub r1: f64,
    /// Recall@3.
    pub r3: f64,
    /// Recall@10.
    pub r10: f64,
    /// nDCG@10.
    pub ndcg10: f64,
    /// Latency p50, ms.
    pub p50_ms: f64,
    /// Latency p99, ms.
    pub p99_ms: f64,
    /// Of the hits on pages labelled at a section (see [`QueryResult::section_right`]), the
    /// share that name that section.
    pub section_acc: f64,
    /// Such hits.
    pub n_section: usize,
    /// Decision quality (tickets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionSummary>,
}

/// Decision quality over tickets.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionSummary {
    /// Tickets.
    pub n: usize,
    /// Share of auto-replies whose top fix is right.
    pub auto_precision: f64,
    /// Auto-replies / answerable tickets.
    pub auto_coverage: f64,
    /// Share of tickets answered with clarify.
    pub clarify_rate: f64,
    /// Share of the tickets labelled `clarify` (vague: more than one entry answers them)
    /// that were answered with a clarifying question. An auto-reply to such a ticket counts
    /// as right for precision when its guess is among the candidates; this shows whether
    /// the engine asked instead of guessing.
    pub clarify_recall: f64,
    /// Tickets labelled `clarify`.
    pub n_clarify: usize,
    /// Share of no-answer tickets escalated.
    pub escalation_recall_no_answer: f64,
    /// No-answer tickets.
    pub n_no_answer: usize,
    /// Share of P0 / security / human-request tickets escalated.
    pub escalation_recall_rules: f64,
    /// P0 / security / human-request tickets.
    pub n_rules: usize,
    /// Share of the escalated tickets with a labelled category handed to that category's
    /// team: a hand-off that reaches the general queue must be triaged again.
    pub routing: f64,
    /// Escalated tickets with a labelled category.
    pub n_routed: usize,
    /// ROC-AUC of confidence for "top fix right" vs not.
    pub auc_top1: f64,
    /// ROC-AUC of confidence for answerable vs no-answer tickets.
    pub auc_answerable: f64,
    /// Reliability: (bucket low, bucket high, n, mean predicted, share right).
    pub reliability: Vec<(f32, f32, usize, f64, f64)>,
    /// Precision-coverage: (threshold, coverage, precision).
    pub curve: Vec<(f32, f64, f64)>,
}

/// Summaries per set and split (dev, test, all).
pub fn summarize(results: &[QueryResult], set: &str) -> Vec<Summary> {
    let mut out = Vec::new();
    for split in ["dev", "test", "all"] {
        let rs: Vec<&QueryResult> = results
            .iter()
            .filter(|r| split == "all" || r.split == split)
            .collect();
        let scored: Vec<QueryMetrics> = rs
            .iter()
            .filter(|r| !r.expected.is_empty())
            .map(|r| r.metrics)
            .collect();
        let m = metrics::mean(&scored);
        let lat: Vec<f64> = rs.iter().map(|r| r.ms).collect();
        let sections: Vec<bool> = rs.iter().filter_map(|r| r.section_right).collect();
        let decisions = rs
            .iter()
            .any(|r| r.decision.is_some())
            .then(|| decision_summary(&rs));
        out.push(Summary {
            set: set.into(),
            split: split.into(),
            n: scored.len(),
            mrr10: m.rr10,
            r1: m.r1,
            r3: m.r3,
            r10: m.r10,
            ndcg10: m.ndcg10,
            p50_ms: metrics::percentile(&lat, 50.0),
            p99_ms: metrics::percentile(&lat, 99.0),
            section_acc: sections.iter().filter(|&&r| r).count() as f64
                / sections.len().max(1) as f64,
            n_section: sections.len(),
            decisions,
        });
    }
    out
}

fn decision_summary(rs: &[&QueryResult]) -> DecisionSummary {
    let answerable =
        |r: &&&QueryResult| r.expect.as_deref() == Some("answer") && !r.expected.is_empty();
    let autos: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| r.decision.as_deref() == Some("auto_reply"))
        .collect();
    let auto_right = autos.iter().filter(|r| r.top1_right).count();
    let n_answerable = rs.iter().filter(answerable).count();
    let no_answer: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| {
            r.reason.as_deref() == Some("no_match")
                || (r.expect.as_deref() == Some("escalate")
                    && r.expected.is_empty()
                    && r.reason.is_none())
        })
        .collect();
    let rule: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| {
            matches!(
                r.reason.as_deref(),
                Some(
                    "p0_incident" | "security_incident" | "customer_requested" | "billing_dispute"
                )
            )
        })
        .collect();
    let vague: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| r.expected_decision.as_deref() == Some("clarify"))
        .collect();
    let esc = |v: &[&&QueryResult]| {
        v.iter()
            .filter(|r| r.decision.as_deref() == Some("escalate"))
            .count() as f64
            / v.len().max(1) as f64
    };
    // Calibration is measured on tickets the model decides on by confidence alone.
    let by_conf: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| {
            r.confidence.is_some()
                && !matches!(
                    r.reason.as_deref(),
                    Some(
                        "p0_incident"
                            | "security_incident"
                            | "customer_requested"
                            | "billing_dispute"
                    )
                )
        })
        .collect();
    let scored: Vec<(f32, bool)> = by_conf
        .iter()
        .map(|r| (r.confidence.unwrap_or(0.0), r.top1_right))
        .collect();
    let answerable_scored: Vec<(f32, bool)> = by_conf
        .iter()
        .map(|r| (r.confidence.unwrap_or(0.0), !r.expected.is_empty()))
        .collect();
    let mut reliability = Vec::new();
    for b in 0..5 {
        let (lo, hi) = (b as f32 * 0.2, (b + 1) as f32 * 0.2);
        let inb: Vec<&(f32, bool)> = scored
            .iter()
            .filter(|(c, _)| *c >= lo && (*c < hi || (b == 4 && *c <= 1.0)))
            .collect();
        let n = inb.len();
        let mean = inb.iter().map(|(c, _)| *c as f64).sum::<f64>() / n.max(1) as f64;
        let acc = inb.iter().filter(|(_, y)| *y).count() as f64 / n.max(1) as f64;
        reliability.push((lo, hi, n, mean, acc));
    }
    let mut curve = Vec::new();
    for t in (0..=20).map(|i| i as f32 * 0.05) {
        let sel: Vec<&(f32, bool)> = scored.iter().filter(|(c, _)| *c >= t).collect();
        let prec = sel.iter().filter(|(_, y)| *y).count() as f64 / sel.len().max(1) as f64;
        curve.push((t, sel.len() as f64 / n_answerable.max(1) as f64, prec));
    }
    let routed: Vec<&&QueryResult> = rs
        .iter()
        .filter(|r| r.team.is_some() && r.expected_team.is_some())
        .collect();
    DecisionSummary {
        routing: routed.iter().filter(|r| r.team == r.expected_team).count() as f64
            / routed.len().max(1) as f64,
        n_routed: routed.len(),
        n: rs.len(),
        auto_precision: auto_right as f64 / autos.len().max(1) as f64,
        auto_coverage: autos.iter().filter(|r| r.top1_right).count() as f64
            / n_answerable.max(1) as f64,
        clarify_rate: rs
            .iter()
            .filter(|r| r.decision.as_deref() == Some("clarify"))
            .count() as f64
            / rs.len().max(1) as f64,
        clarify_recall: vague
            .iter()
            .filter(|r| r.decision.as_deref() == Some("clarify"))
            .count() as f64
            / vague.len().max(1) as f64,
        n_clarify: vague.len(),
        escalation_recall_no_answer: esc(&no_answer),
        n_no_answer: no_answer.len(),
        escalation_recall_rules: esc(&rule),
        n_rules: rule.len(),
        auc_top1: confidence::auc(&scored) as f64,
        auc_answerable: confidence::auc(&answerable_scored) as f64,
        reliability,
        curve,
    }
}

/// One ticket's outcome as the confidence model sees it: the top hit's features and whether
/// that hit was right. Read back from `--results` files, so tickets over other KBs can join a
/// fit.
#[derive(Debug, Clone, Deserialize)]
pub struct FitSample {
    /// dev or test.
    pub split: String,
    /// Expected reason (rule tickets are left out of fits).
    pub reason: Option<String>,
    /// Top-1 right.
    pub top1_right: bool,
    /// Features of the top hit.
    pub features: Option<confidence::Features>,
}

impl From<&QueryResult> for FitSample {
    fn from(r: &QueryResult) -> FitSample {
        FitSample {
            split: r.split.clone(),
            reason: r.reason.clone(),
            top1_right: r.top1_right,
            features: r.features,
        }
    }
}

/// Reads the ticket rows of a `--results` file.
pub fn load_fit_samples(path: &Path) -> anyhow::Result<Vec<FitSample>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("read {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let s: FitSample = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))?;
        if s.features.is_some() {
            out.push(s);
        }
    }
    Ok(out)
}

/// Fits the confidence model on the dev split of `samples` (label: top-1 right). Rule tickets
/// (incidents, explicit requests for a human) are escalated whatever the score, so they do
/// not take part.
pub fn fit_confidence(samples: &[FitSample]) -> [f32; confidence::NF + 1] {
    let samples: Vec<(confidence::Features, bool)> = samples
        .iter()
        .filter(|r| {
            r.split == "dev"
                && !matches!(
                    r.reason.as_deref(),
                    Some(
                        "p0_incident"
                            | "security_incident"
                            | "customer_requested"
                            | "billing_dispute"
                    )
                )
        })
        .filter_map(|r| r.features.map(|f| (f, r.top1_right)))
        .collect();
    confidence::fit(&samples)
}

/// A share for the table: `n/a` when there was nothing to count.
pub(crate) fn share(x: f64, n: usize) -> String {
    if n == 0 {
        "n/a".into()
    } else {
        format!("{x:.3}")
    }
}

/// A readable table of summaries.
pub fn table(summaries: &[Summary]) -> String {
    let mut s = format!(
        "{:<16} {:<5} {:>5} {:>7} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8}\n",
        "set", "split", "n", "MRR@10", "R@1", "R@3", "R@10", "nDCG@10", "p50 ms", "p99 ms"
    );
    for x in summaries {
        s.push_str(&format!(
            "{:<16} {:<5} {:>5} {:>7.3} {:>6.3} {:>6.3} {:>6.3} {:>8.3} {:>8.2} {:>8.2}\n",
            x.set, x.split, x.n, x.mrr10, x.r1, x.r3, x.r10, x.ndcg10, x.p50_ms, x.p99_ms
        ));
    }
    for x in summaries.iter().filter(|x| x.n_section > 0) {
        s.push_str(&format!(
            "sections {} {}: {} of {} hits on a page labelled at a section name that section ({:.3})\n",
            x.set,
            x.split,
            (x.section_acc * x.n_section as f64).round(),
            x.n_section,
            x.section_acc
        ));
    }
    for x in summaries.iter().filter(|x| x.decisions.is_some()) {
        let d = x.decisions.as_ref().expect("filtered");
        s.push_str(&format!(
            "decisions {} {}: n={} auto_reply precision {:.3} coverage {:.3}, clarify rate {:.3}, vague tickets asked {}, no-answer escalated {}, rule tickets escalated {}, escalations to the labelled team {}, AUC top-1 {:.3}, AUC answerable {:.3}\n",
            x.set, x.split, d.n, d.auto_precision, d.auto_coverage, d.clarify_rate,
            share(d.clarify_recall, d.n_clarify),
            share(d.escalation_recall_no_answer, d.n_no_answer),
            share(d.escalation_recall_rules, d.n_rules),
            share(d.routing, d.n_routed),
            d.auc_top1, d.auc_answerable
        ));
        s.push_str("  reliability (confidence bucket: n, mean predicted, share right):");
        for (lo, hi, n, p, a) in &d.reliability {
            s.push_str(&format!(" [{lo:.1},{hi:.1}) n={n} {p:.2}/{a:.2};"));
        }
        s.push('\n');
    }
    s
}

/// Groups results by set.
pub fn by_set(results: Vec<(String, Vec<QueryResult>)>) -> BTreeMap<String, Vec<QueryResult>> {
    let mut m: BTreeMap<String, Vec<QueryResult>> = BTreeMap::new();
    for (set, r) in results {
        m.entry(set).or_default().extend(r);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `queries` and `qrels` into a temporary directory and loads them.
    fn loaded(queries: &str, qrels: &str) -> anyhow::Result<Vec<LabelledQuery>> {
        let dir = tempfile::tempdir()?;
        let (q, r) = (dir.path().join("queries.tsv"), dir.path().join("qrels.tsv"));
        std::fs::write(&q, queries)?;
        std::fs::write(&r, qrels)?;
        load_tsv(&q, &r)
    }

    #[test]
    fn tickets_read_with_other_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.jsonl");
        std::fs::write(
            &p,
            "{\"qid\": 7, \"query\": \"ssh 连不上\", \"relevant\": \"ecs-ssh\"}\n\n\
             {\"id\": \"b\", \"body\": \"磁盘满了\", \"relevant\": null, \"expect\": \"escalate\"}\n",
        )
        .unwrap();
        let qs = load_jsonl(&p).unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!((qs[0].id.as_str(), qs[0].set.as_str()), ("7", "mine"));
        assert_eq!(qs[0].relevant, ["ecs-ssh"]);
        assert!(qs[1].relevant.is_empty());
        assert_eq!(qs[1].expect.as_deref(), Some("escalate"));
        std::fs::write(&p, "{\"id\": [1], \"text\": \"x\"}\n").unwrap();
        assert!(load_jsonl(&p)
            .unwrap_err()
            .to_string()
            .contains("mine.jsonl:1"));
    }

    #[test]
    fn graded_qrels_keep_partial_hits_apart() {
        let qs = loaded(
            "qid\tset\tquery\nq1\tfaq_link\t怎么扩容\n",
            "qid\tdoc_id\trel\nq1\tdisk/expand\t2\nq1\tfaq/disk\t1\nq1\tother\t0\n",
        )
        .unwrap();
        assert_eq!(qs.len(), 1);
        assert_eq!((qs[0].id.as_str(), qs[0].set.as_str()), ("q1", "faq_link"));
        assert_eq!(qs[0].relevant, ["disk/expand"]);
        assert_eq!(qs[0].exclude, ["faq/disk"]);
    }

    #[test]
    fn binary_and_trec_qrels_and_headerless_files_read() {
        // TREC qrels (qid 0 doc rel, spaces), no headers, two-column queries: 1 is an answer,
        // 0 a judged non-answer, and the first line is a query, not a header.
        let qs = loaded(
            "1\tssh 连不上\n2\t磁盘满了\n",
            "1 0 ecs/ssh 1\n1 0 ecs/other 0\n2 0 ecs/disk 1\n",
        )
        .unwrap();
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].set, "queries");
        assert_eq!(qs[0].relevant, ["ecs/ssh"]);
        assert!(qs[0].exclude.is_empty());
        assert_eq!(qs[1].relevant, ["ecs/disk"]);
        // A rel that is no number past the header is an error naming the line.
        let e = loaded("1\tq\n", "1\tdoc\t1\n2\tdoc\thigh\n").unwrap_err();
        assert!(e.to_string().contains("qrels.tsv:2"), "{e}");
        let e = loaded("1\tq\n", "1\tdoc\n").unwrap_err();
        assert!(e.to_string().contains("qrels.tsv:1"), "{e}");
    }

    fn result(split: &str, right: bool, coverage: f32) -> QueryResult {
        QueryResult {
            id: format!("{split}-{coverage}"),
            split: split.into(),
            text: "t".into(),
            expected: vec![],
            got: vec![],
            got_titles: vec![],
            rr: 0.0,
            metrics: QueryMetrics::default(),
            ms: 1.0,
            decision: None,
            expect: Some("answer".into()),
            reason: None,
            expected_decision: None,
            confidence: Some(0.5),
            top1_right: right,
            team: None,
            expected_team: None,
            features: Some(confidence::Features {
                coverage,
                title_coverage: coverage,
                margin: 0.5,
                code_match: 0.0,
                log_terms: 1.0,
                relative_score: coverage,
                title_precision: coverage,
            }),
            section_right: None,
            section_named: None,
        }
    }

    #[test]
    fn a_hit_on_a_copy_an_earlier_hit_stood_for_is_not_a_new_page() {
        use std::collections::HashSet;
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<String>>();
        let dups = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
        let (a, b, c, d) = (
            dups(&["old/faq#q1"]),
            dups(&[]),
            dups(&["new/faq"]),
            dups(&[]),
        );
        // new/faq#q1 stands for its collapsed copy old/faq#q1. Later come old/faq's lead
        // entry and old/faq#q2 (collapsed with new/faq's): the same two pages again.
        let hits = vec![
            ("new/faq#q1", a.as_slice()),
            ("old/faq", b.as_slice()),
            ("old/faq#q2", c.as_slice()),
            ("other", d.as_slice()),
        ];
        let relevant = set(&["old/faq"]);
        let got = super::distinct_pages(hits.clone().into_iter(), &relevant, &set(&[]));
        // The first hit is the relevant copy; the two later hits on either copy are skipped.
        assert_eq!(
            got,
            vec![(0, "old/faq".to_string()), (3, "other".to_string())]
        );
        // An excluded page's hit is skipped without marking its copies: a copy's own later
        // hit is still a page (a copy of the own question is excluded by its own id).
        let got = super::distinct_pages(hits.into_iter(), &set(&[]), &set(&["new/faq"]));
        assert_eq!(
            got,
            vec![(1, "old/faq".to_string()), (3, "other".to_string())]
        );
    }

    #[test]
    fn a_heading_without_an_anchor_is_named_as_a_renderer_slugs_it() {
        assert_eq!(
            heading_slug("TiDB 错误日志区分 TIMESTAMP 与 DATETIME 类型"),
            "tidb-错误日志区分-timestamp-与-datetime-类型"
        );
        assert_eq!(
            heading_slug("Connector 无法兼容 5.7.5 版本以下的服务端"),
            "connector-无法兼容-575-版本以下的服务端"
        );
        assert_eq!(
            heading_slug("useLocalTransactionState 和 rewriteBatchedStatements 同时开启"),
            "uselocaltransactionstate-和-rewritebatchedstatements-同时开启"
        );
        assert_eq!(heading_slug("What's new: v8.1 (LTS)"), "whats-new-v81-lts");
        // Labels that hash the heading's text, image Markdown and all.
        assert_eq!(heading_hash("案例：挂载时报错![](img/p1.png)"), "60b1b9af");
    }

    #[test]
    fn results_files_feed_a_fit_like_live_results() {
        let live: Vec<QueryResult> = (0..20)
            .map(|i| {
                result(
                    if i % 2 == 0 { "dev" } else { "test" },
                    i >= 10,
                    i as f32 / 20.0,
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.jsonl");
        let lines: Vec<String> = live
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let read = load_fit_samples(&path).unwrap();
        assert_eq!(read.len(), live.len());
        let from_live: Vec<FitSample> = live.iter().map(FitSample::from).collect();
        assert_eq!(fit_confidence(&read), fit_confidence(&from_live));
        // Only dev rows are fitted on: test rows that contradict them change nothing.
        let mut flipped = read.clone();
        for s in flipped.iter_mut().filter(|s| s.split == "test") {
            s.top1_right = !s.top1_right;
        }
        assert_eq!(fit_confidence(&flipped), fit_confidence(&read));
    }

    #[test]
    fn a_bad_results_line_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        std::fs::write(&path, "{\"split\":\"dev\",\"top1_right\":true}\nnot json\n").unwrap();
        let e = load_fit_samples(&path).unwrap_err().to_string();
        assert!(e.contains("r.jsonl:2"), "{e}");
    }
}
