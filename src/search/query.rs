//! From ticket text to a Tantivy query, built by hand.
//!
//! The stock QueryParser turns unspaced Chinese into one phrase and finds nothing on ticket
//! prose, so the query is assembled from the analyzer's tokens: every informative term is a
//! `Should` clause in each weighted field (BM25 per field), error codes match exactly in their
//! own field, adjacent terms add a proximity bonus, and synonyms add down-weighted
//! alternatives. Every clause keeps a label so a hit can explain its score.
//!
//! Scoring has two phases. The body clauses, codes and the whole-ticket phrase retrieve the
//! candidates (term at a time, see `retrieve`); the title, alias and
//! page-title clauses and the proximity pairs then add their points to those candidates only.
//! A candidate's score is the same sum as one union of every clause would give it; an entry
//! is simply never found by its title alone, as the body holds the title too.

use std::collections::HashMap;

use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::analysis::normalize::{canonical_code, normalize_str};
use crate::analysis::{entities, Analyzer};
use crate::index::Loaded;

/// Ranking knobs. Defaults are tuned on the dev halves of the labelled sets (`deflect eval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Title field.
    pub title: f32,
    /// Aliases field.
    pub aliases: f32,
    /// Page title (of an FAQ entry).
    pub page_title: f32,
    /// All text.
    pub body: f32,
    /// Exact error-code match.
    pub code: f32,
    /// Adjacent query terms near each other (per pair).
    pub proximity: f32,
    /// Multiplier for synonym expansions.
    pub synonym: f32,
    /// Multiplier for the Chinese renderings of a ticket's English words (the glossary).
    pub translation: f32,
    /// The same for an English ticket of [`SENTENCE_WORDS`] words or more. A short English
    /// query is mostly a pasted error or a name that a Chinese KB keeps in English too
    /// (TiDB's `Region is Unavailable`), where the English words should decide; a customer's
    /// English sentence on a Chinese KB is answered by a page that says it in Chinese, and
    /// at the short text's weight its English words found the API and template pages whose
    /// code samples hold English prose instead.
    pub translation_sentence: f32,
    /// A Chinese ticket's English word is searched in its Chinese rendering too when the KB
    /// writes that rendering at least this many times as often as the word (`timeout` where the KB
    /// says 超时); 0: never. A word the KB itself keeps in English (TiDB's `region`) stays
    /// as it is.
    pub mixed_translation: f32,
    /// Reference entries lose this share of their score for a ticket without an error code:
    /// those whose text is at least [`Weights::reference_share`] percent tables and code
    /// (API parameters, template syntax, metric lists). They hold every name a ticket uses,
    /// while the fix is in a page that explains.
    pub reference: f32,
    /// Percent of an entry's text in tables and fenced code from which it is reference
    /// (`ingest::markdown::structured_share`).
    pub reference_share: f32,
    /// An English word with a rendering takes the rendering's IDF when that is lower
    /// (1 on, 0 off): on a Chinese KB, `instance` is rare only because the KB writes 实例,
    /// and at its own IDF it made `ALIYUN::ECS::Instance` the answer to any English ticket
    /// about an instance.
    pub concept_idf: f32,
    /// Chatter: a Chinese word of the ticket that the KB uses far less than general writing
    /// would predict is weighted down ([`chatter_weight`]). 知道, 到底, 里面 are rare in
    /// documentation only because documentation does not talk like a customer; 监听 and
    /// 健康检查 are far more common in the KB than in general writing. The value is how many
    /// nats (ln) below the predicted use a word sits at `chatter_floor`; from there its weight
    /// rises linearly to 1 over `chatter_span` nats. 0 = off.
    pub chatter: f32,
    /// See `chatter`.
    pub chatter_span: f32,
    /// See `chatter`.
    pub chatter_floor: f32,
    /// Multiplier for sub-words (安全组 inside 安全组规则).
    pub sub_word: f32,
    /// Most informative terms kept from a long ticket.
    pub max_terms: usize,
    /// The ticket's words as one phrase (slop 3) in the body: pasted error messages.
    pub phrase: f32,
    /// Coordination: candidates are re-scored by score × coverage^coord, where coverage is
    /// the IDF-weighted share of the query's words the entry contains (0 turns it off).
    pub coord: f32,
    /// Candidates re-scored by coordination.
    pub rerank_depth: usize,
    /// Body terms with an IDF below this are common: when the query has rarer words, they
    /// do not retrieve candidates but are scored on them (see [`Clause::common`]). 0 = off.
    pub common_idf: f32,
    /// When the query describes a problem (`entities::describes_problem`, or an error code),
    /// entries that read as a problem and its fix (`Entry::problem`) are re-scored by
    /// score × (1 + problem) among the candidates: a ticket about a failure is answered by
    /// a troubleshooting entry or FAQ more often than by a product overview or API page
    /// sharing its words.
    pub problem: f32,
    /// When the ticket names areas of the KB (a product's name, or the top-level folder of a
    /// KB organised by product: `MongoDB磁盘用满了`, `SLS日志怎么下载`), entries of those
    /// areas are re-scored by score × (1 + area) among the candidates: a page of another
    /// product that shares the ticket's words answers it less often than one of the product
    /// it names.
    pub area: f32,
    /// A pasted message found word for word: among the `verbatim_depth` best candidates,
    /// entries whose text holds the ticket's pasted message as written (punctuation
    /// included, case and spacing aside: [`verbatim_fold`]) first score on the whole-ticket
    /// phrase no less than the best of those candidates that do not hold it (holding the
    /// message is better evidence of it than a near match), then are re-scored by
    /// score × (1 + verbatim).
    /// Words and phrases lose what tells a message from its neighbours: `invalid ip...` is
    /// quoted by one page, while `Invalid IP` is in hundreds; `“type is invalid` by one page,
    /// while its words are in every API error table.
    pub verbatim: f32,
    /// See `verbatim`.
    pub verbatim_depth: usize,
}

/// Default ranking weights.
pub const DEFAULT_WEIGHTS: Weights = Weights {
    title: 2.5,
    aliases: 2.5,
    page_title: 0.8,
    body: 1.0,
    code: 6.0,
    proximity: 0.6,
    synonym: 0.6,
    translation: 0.6,
    translation_sentence: 1.5,
    mixed_translation: 0.5,
    reference: 0.1,
    reference_share: 70.0,
    concept_idf: 1.0,
    chatter: 2.25,
    chatter_span: 3.0,
    chatter_floor: 0.25,
    sub_word: 0.35,
    max_terms: 24,
    phrase: 5.0,
    coord: 1.0,
    rerank_depth: 100,
    common_idf: 2.0,
    problem: 0.3,
    area: 0.1,
    verbatim: 0.5,
    verbatim_depth: 10,
};

impl Weights {
    /// Applies `name=value` overrides separated by commas (for tuning with `deflect eval`).
    pub fn with_overrides(mut self, spec: &str) -> Result<Weights, String> {
        for kv in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("`{kv}`: expected name=value"))?;
            let x: f32 = v
                .trim()
                .parse()
                .map_err(|_| format!("`{kv}`: not a number"))?;
            match k.trim() {
                "title" => self.title = x,
                "aliases" => self.aliases = x,
                "page_title" => self.page_title = x,
                "body" => self.body = x,
                "code" => self.code = x,
                "proximity" => self.proximity = x,
                "synonym" => self.synonym = x,
                "translation" => self.translation = x,
                "translation_sentence" => self.translation_sentence = x,
                "mixed_translation" => self.mixed_translation = x,
                "reference" => self.reference = x,
                "reference_share" => self.reference_share = x,
                "concept_idf" => self.concept_idf = x,
                "chatter" => self.chatter = x,
                "chatter_span" => self.chatter_span = x,
                "chatter_floor" => self.chatter_floor = x,
                "sub_word" => self.sub_word = x,
                "max_terms" => self.max_terms = x as usize,
                "coord" => self.coord = x,
                "phrase" => self.phrase = x,
                "rerank_depth" => self.rerank_depth = x as usize,
                "common_idf" => self.common_idf = x,
                "problem" => self.problem = x,
                "area" => self.area = x,
                "verbatim" => self.verbatim = x,
                "verbatim_depth" => self.verbatim_depth = x as usize,
                other => return Err(format!("unknown weight `{other}`")),
            }
        }
        Ok(self)
    }
}

/// How the query is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// The full ranking.
    Ranked(Weights),
    /// Plain BM25 over the body field: every token, no boosts, synonyms, stop words or dedupe.
    Baseline,
}

/// How far apart two adjacent words of a query may be found for a proximity point.
pub const PAIR_SLOP: u32 = 2;

/// One scoring clause with its label (for explain).
pub struct Clause {
    /// What it is: `title:安全组`, `code:…`, `near(body):安全组 规则`, `synonym(title):无法连接`.
    /// Empty unless the plan was built for explain: formatting a label per clause was a
    /// tenth of a short query's allocations.
    pub label: String,
    /// The query of a clause that is neither a term nor a pair (a phrase); the others
    /// build theirs when asked ([`Clause::query`]): most searches never need it.
    pub phrase: Option<Box<dyn Query>>,
    /// A phrase or proximity clause (reads positions).
    pub positional: bool,
    /// Scored on the retrieved candidates only, never retrieving an entry by itself: terms
    /// in the title, aliases and page title, proximity pairs and synonym phrases. Retrieval
    /// is the body (which holds the title and aliases too), error codes and the
    /// whole-ticket phrase: a pasted error's page can rank low on its words alone.
    pub rescore: bool,
    /// A body clause of a common word (IDF below [`Weights::common_idf`]) in a query that
    /// has rarer ones. A lean search (no facets) scores it on the candidates the rarer words
    /// retrieve instead of walking its long posting list: an entry holding only common words
    /// of a ticket cannot rank, and those lists were most of a long ticket's work. The
    /// candidates' scores are the same as in the full union.
    pub common: bool,
    /// The single term it scores, when it is a plain term clause: re-scoring scores those
    /// straight from the postings it reads for coverage (see `search::candidate_pass`).
    pub term: Option<TermClause>,
    /// The two terms it scores, when it is a proximity pair: re-scoring counts their
    /// occurrences near each other from the positions it reads (see `search::candidate_pass`).
    pub pair: Option<PairClause>,
}

/// A clause scoring two terms of one field found within `slop` positions of each other,
/// the second after the first, as tantivy's phrase query with that slop scores them: BM25
/// of the number of such occurrences, with the two terms' IDFs added, times a boost.
#[derive(Debug, Clone, PartialEq)]
pub struct PairClause {
    /// The field.
    pub field: Field,
    /// The analysed terms, in the query's order.
    pub terms: [String; 2],
    /// Positions the second term may be away from where the phrase puts it.
    pub slop: u32,
    /// The boost its BM25 score is multiplied by.
    pub boost: f32,
}

/// A clause scoring one term in one field with BM25, times a boost.
#[derive(Debug, Clone, PartialEq)]
pub struct TermClause {
    /// The field.
    pub field: Field,
    /// The analysed term.
    pub text: String,
    /// The boost its BM25 score is multiplied by.
    pub boost: f32,
}

impl TermClause {
    fn new(field: Field, text: &str, boost: f32) -> TermClause {
        TermClause {
            field,
            text: text.to_string(),
            boost,
        }
    }
}

/// A query term chosen from the ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// The analysed term.
    pub text: String,
    /// Its weight multiplier: 1 for a main word, below 1 for a main word read as chatter
    /// ([`Weights::chatter`]) and for secondary terms.
    pub weight: f32,
    /// Inverse document frequency in the body field.
    pub idf: f32,
    /// A sub-word, synonym or translation rather than a word of the ticket.
    pub secondary: bool,
    /// The ticket's words this one stands for (a translation): an entry holding it covers
    /// them.
    pub stands_for: Vec<String>,
}

/// The query built from a ticket.
pub struct Plan {
    /// Scoring clauses.
    pub clauses: Vec<Clause>,
    /// Terms used (main words first).
    pub terms: Vec<QueryTerm>,
    /// Canonical error codes matched exactly.
    pub codes: Vec<String>,
    /// Main words weighted down as chatter ([`chatter_weight`]) to half or less, before a long
    /// ticket's reduction.
    pub chatter: Vec<String>,
    /// The ticket describes a problem (see [`Weights::problem`]).
    pub problem: bool,
    /// The ticket names something: an error code, or a word of its own that is not chatter.
    /// `你好，我有个问题想咨询一下` and `出问题了，急` name nothing. Nor does a ticket whose only
    /// word is one a third of the KB uses ([`broad`]): `我的服务器有问题` and `my server has a
    /// problem` find entries that mention a server, which are no more its answer than any
    /// other. (Words common in the KB together still name something: `ecs不小心释放了 还能恢复不`
    /// holds no rare word, yet its words say exactly what happened.) Nor do words that only
    /// report a failure ([`entities::is_problem_word`]): `还是不行` says that something does
    /// not work, not what.
    pub topical: bool,
    /// The ticket is one word of its own and no more, with no code and no problem told
    /// (`备案`, `发票`, `ssh`): it names a topic and asks nothing of it.
    pub keyword: bool,
    /// The KB's areas (products, or top-level folders) the ticket names, as the `area`
    /// column holds them: what the named-area prior ([`Weights::area`]) reads.
    pub areas: Vec<String>,
    /// What the ticket pastes, folded by [`verbatim_fold`], for the verbatim prior
    /// ([`Weights::verbatim`]): the whole ticket when it is one message rather than a
    /// question ([`pasted`]), and the error lines found inside it.
    pub verbatim: Vec<String>,
    /// The index in `clauses` of the whole ticket as a phrase, when there is one: an entry
    /// that quotes the pasted message takes the best score it gives a candidate.
    pub phrase: Option<usize>,
}

impl Plan {
    /// True when nothing in the ticket can be searched (only stop words, punctuation, emoji).
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The retrieval query: one Boolean union of every clause but the re-scoring ones
    /// (proximity pairs, synonym phrases), which only add to the candidates this query finds
    /// (see `search::add_rescore`): reading positions for every match of a long ticket cost
    /// more than all the term scoring.
    ///
    /// `lean`: common words' clauses are left to re-scoring (see [`Clause::common`]); a
    /// search that counts every match (facets) keeps them.
    pub fn to_query(&self, lean: bool) -> BooleanQuery {
        BooleanQuery::new(
            self.retrieval(lean)
                .map(|c| (Occur::Should, c.query()))
                .collect(),
        )
    }

    /// The clauses `to_query` unites.
    pub fn retrieval(&self, lean: bool) -> impl Iterator<Item = &Clause> + Clone {
        self.clauses
            .iter()
            .filter(move |c| !(c.rescore || (lean && c.common)))
    }

    /// The clauses scored on the candidates only.
    pub fn rescoring(&self, lean: bool) -> impl Iterator<Item = &Clause> {
        self.clauses
            .iter()
            .filter(move |c| c.rescore || (lean && c.common))
    }

    /// Whether a lean retrieval leaves some common words' clauses out, so that it does not
    /// count every entry holding a word of the query.
    pub fn defers_common(&self) -> bool {
        self.clauses.iter().any(|c| c.common && !c.rescore)
    }

    /// Sum of IDF of the ticket's main terms, each at its weight: how much the ticket says.
    /// Chatter counts at its reduced weight, as it scores: a chatty ticket says no more
    /// than its topic words, and the highest score it can reach is that of those.
    pub fn information(&self) -> f32 {
        self.terms
            .iter()
            .filter(|t| !t.secondary)
            .map(|t| t.idf * t.weight)
            .sum()
    }
}

/// The weight a main word keeps as possible chatter ([`Weights::chatter`]). A word with
/// general IDF `g` (its share of the words of general Chinese is e^−g) would be in a share
/// e^−g × `avg_len` of entries `avg_len` words long if the KB wrote like everyone else; its
/// excess is ln(actual share / that), ≈ `g` − ln(`avg_len`) − `idf`. Positive for the KB's
/// own vocabulary (监听 +4), strongly negative for words customers use and documentation
/// does not (知道 −4, 到底 −5). Only Chinese words: the general counts are jieba's, and
/// English words keep their weight.
pub fn chatter_weight(w: &Weights, text: &str, idf: f32, avg_len: f32) -> f32 {
    if w.chatter <= 0.0 || avg_len < 1.0 || !text.chars().any(crate::analysis::normalize::is_han) {
        return 1.0;
    }
    let excess = crate::analysis::tokenizer::general_idf(text) - avg_len.ln() - idf;
    ((excess + w.chatter) / w.chatter_span.max(0.01)).clamp(w.chatter_floor.min(1.0), 1.0)
}

/// Words (stop words included) from which an English ticket reads as a sentence rather than
/// a pasted error or a name: see [`Weights::translation_sentence`].
pub const SENTENCE_WORDS: usize = 8;

/// A word that can carry meaning alone: anything but a lone Chinese character (用, 上).
fn informative(s: &str) -> bool {
    s.chars().count() >= 2 || !s.chars().all(crate::analysis::normalize::is_han)
}

fn idf(searcher: &Searcher, field: Field, text: &str) -> f32 {
    let n = searcher.num_docs().max(1) as f32;
    let df = searcher
        .doc_freq(&Term::from_field_text(field, text))
        .unwrap_or(0) as f32;
    ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
}

/// Function characters (particles, pronouns, negation, measure words; Cantonese ones as
/// normalisation leaves them) that mark a word jieba's HMM glued rather than found.
const GLUE_CHARS: &str = "的了吗呢吧啊呀嘛啦哈嗯哦么都也还又就再是有在和与或及把给让想这那里咋啥哪不没个得着过被要会能我你他它咪嘅咗唔冇喺嚟啲咩佢哋噉咁乜嘢晒嗰系";

/// The codes of a ticket with those that name one error twice (`HTTP 504` and `504 Gateway
/// Time-out`, `InvalidAccessKeyId` and `InvalidAccessKeyId.NotFound`) kept once, in their
/// longest form: the ticket says it once, and an entry listing both forms would otherwise
/// score it twice.
fn one_per_error(codes: Vec<String>) -> Vec<String> {
    let words = |c: &str| -> Vec<String> {
        c.split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    // The first number of a code is the error's (`ERROR 1062 (23000)` and `ERROR 1452
    // (23000)` are two errors of one SQLSTATE).
    let number = |ws: &[String]| {
        ws.iter()
            .find(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .filter(|w| w.len() >= 3)
            .cloned()
    };
    let same = |a: &[String], b: &[String]| {
        number(a).is_some_and(|n| number(b) == Some(n))
            || a.iter().all(|w| b.contains(w))
            || b.iter().all(|w| a.contains(w))
    };
    let ws: Vec<Vec<String>> = codes.iter().map(|c| words(c)).collect();
    (0..codes.len())
        .filter(|&i| {
            !(0..codes.len()).any(|j| {
                j != i
                    && same(&ws[i], &ws[j])
                    && (codes[j].len() > codes[i].len()
                        || (codes[j].len() == codes[i].len() && j < i))
            })
        })
        .map(|i| codes[i].clone())
        .collect()
}

/// Whether `text` asks something: a question word or mark (`怎么开发票`, `能开发票吗`, "how do I
/// get an invoice"), as against a bare keyword (`发票`).
fn asks(text: &str) -> bool {
    re!(
        QUESTION,
        r"(?i)[?？]|怎么|怎样|怎麼|如何|咋|能否|能不能|可不可以|可以|是否|吗|嗎|呢|么|麼|哪|什么|什麼|为什么|為什麼|多久|多少|几|幾|(?-u:\b)(?:how|what|why|where|when|which|can|could|is|are|do|does|should)(?-u:\b)"
    );
    QUESTION.is_match(text)
}

/// A word so common in the KB that entries holding it are not about it: in a third of the
/// entries, and in at least [`BROAD_MIN_DOCS`] of them (in a KB of a few entries every word
/// is in a third).
fn broad(searcher: &Searcher, t: &QueryTerm) -> bool {
    let n = searcher.num_docs() as f32;
    // The document frequency the IDF was computed from (see [`idf`]).
    let df = (n + 1.0) / t.idf.exp() - 0.5;
    df >= (n / 3.0).max(BROAD_MIN_DOCS)
}

/// See [`broad`].
const BROAD_MIN_DOCS: f32 = 20.0;

/// The IDF of a word no entry contains (df = 0 in [`idf`]).
fn unseen_idf(searcher: &Searcher) -> f32 {
    let n = searcher.num_docs().max(1) as f32;
    ((n + 0.5) / 0.5 + 1.0).ln() - 1e-4
}

fn term_query(t: &TermClause) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(t.field, &t.text),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(q), t.boost))
}

fn pair_query(p: &PairClause) -> Box<dyn Query> {
    let mut q = PhraseQuery::new(
        p.terms
            .iter()
            .map(|t| Term::from_field_text(p.field, t))
            .collect(),
    );
    q.set_slop(p.slop);
    Box::new(BoostQuery::new(Box::new(q), p.boost))
}

impl Clause {
    /// The clause as a tantivy query: a boosted term query, a boosted two-term phrase query
    /// with slop, or its phrase.
    pub fn query(&self) -> Box<dyn Query> {
        match (&self.term, &self.pair, &self.phrase) {
            (Some(t), _, _) => term_query(t),
            (None, Some(p), _) => pair_query(p),
            (None, None, Some(q)) => q.box_clone(),
            (None, None, None) => Box::new(tantivy::query::EmptyQuery),
        }
    }
}

/// The English words of `text` that stand alone: letters only (not an identifier such as
/// `innodb_lock_wait_timeout` or `v6.5`), with no other Latin word beside them but across
/// Chinese text or punctuation.
fn lone_english_words(text: &str) -> impl Iterator<Item = &str> {
    static RUN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[A-Za-z0-9][A-Za-z0-9_.'-]*(?:[ \t]+[A-Za-z0-9][A-Za-z0-9_.'-]*)*")
            .expect("valid regex")
    });
    RUN.find_iter(text)
        .map(|m| m.as_str())
        .filter(|r| r.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// Builds the query for `text`.
pub fn build(loaded: &Loaded, searcher: &Searcher, text: &str, mode: Mode, explain: bool) -> Plan {
    let label = |a: std::fmt::Arguments| {
        if explain {
            a.to_string()
        } else {
            String::new()
        }
    };
    let f = &loaded.fields;
    let tokens = loaded.analyzer.analyze(text);
    let mut clauses = Vec::new();
    let w = match mode {
        Mode::Baseline => {
            let mut seen = HashMap::new();
            for t in &tokens {
                *seen.entry(t.text.clone()).or_insert(0) += 1;
            }
            let mut terms: Vec<QueryTerm> = Vec::new();
            for (t, _) in seen {
                let idf = idf(searcher, f.body, &t);
                clauses.push(Clause {
                    label: label(format_args!("body:{t}")),
                    phrase: None,
                    positional: false,
                    rescore: false,
                    common: false,
                    term: Some(TermClause::new(f.body, &t, 1.0)),
                    pair: None,
                });
                terms.push(QueryTerm {
                    text: t,
                    weight: 1.0,
                    idf,
                    secondary: false,
                    stands_for: Vec::new(),
                });
            }
            return Plan {
                topical: !terms.is_empty(),
                keyword: false,
                areas: Vec::new(),
                verbatim: Vec::new(),
                phrase: None,
                clauses,
                terms,
                codes: Vec::new(),
                chatter: Vec::new(),
                problem: false,
            };
        }
        Mode::Ranked(w) => w,
    };
    let res = &loaded.resources;
    let mut codes = entities::canonical_codes(text);

    // Identifiers the index has never seen (instance ids, IPs, order numbers, timestamps) are
    // not what the ticket is about: they would match nothing, yet count as the rarest words
    // in how much the ticket says and in which words a long ticket keeps. Words inside an
    // error code stay: an unknown code is what the KB lacks.
    let unseen_id = |t: &str| {
        entities::is_identifier(t)
            && !codes.iter().any(|c| c.contains(t))
            && searcher
                .doc_freq(&Term::from_field_text(f.body, t))
                .unwrap_or(0)
                == 0
    };
    // Words jieba's HMM glues from single characters around a function word: `在哪关` cut as
    // 在 哪关, `不续了` as 不续 了, Cantonese `係邊個` as 系边 个. In no dictionary and unseen
    // in the KB, they would count as the ticket's rarest words, and as what no entry covers.
    // The HMM glues only characters the dictionary leaves single, so nothing of such a word
    // is a word a KB is searched by: it goes.
    let glued = |t: &str| {
        let n = t.chars().count();
        (2..=4).contains(&n)
            && t.chars().all(crate::analysis::normalize::is_han)
            && t.chars().any(|c| GLUE_CHARS.contains(c))
            && !loaded.analyzer.has_word(t)
            && searcher
                .doc_freq(&Term::from_field_text(f.body, t))
                .unwrap_or(0)
                == 0
    };
    let tokens: Vec<_> = tokens
        .into_iter()
        .filter(|t| !unseen_id(&t.text) && !glued(&t.text))
        .collect();

    // Main words of the ticket, in order: no sub-words, stop words included (the whole-ticket
    // phrase matches them word for word).
    let mains: Vec<&str> = tokens
        .iter()
        .filter(|t| !t.sub)
        .map(|t| t.text.as_str())
        .collect();
    let mut terms: Vec<QueryTerm> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut add = |terms: &mut Vec<QueryTerm>, text: &str, weight: f32, secondary: bool| {
        if let Some(&i) = index_of.get(text) {
            let t: &mut QueryTerm = &mut terms[i];
            if weight > t.weight {
                t.weight = weight;
                t.secondary = secondary;
            }
            return;
        }
        index_of.insert(text.to_string(), terms.len());
        terms.push(QueryTerm {
            text: text.to_string(),
            weight,
            idf: idf(searcher, f.body, text),
            secondary,
            stands_for: Vec::new(),
        });
    };
    for t in &tokens {
        if res.is_stop(&t.text) {
            continue;
        }
        add(
            &mut terms,
            &t.text,
            if t.sub { w.sub_word } else { 1.0 },
            t.sub,
        );
    }
    // Chatter: customer words documentation does not use (知道, 到底, 里面) are rare in the KB
    // for that reason alone, and by IDF would count as its most telling words.
    let mut chatter = Vec::new();
    let avg_len = loaded.bm25.average(f.body);
    for t in terms.iter_mut().filter(|t| !t.secondary) {
        t.weight *= chatter_weight(&w, &t.text, t.idf, avg_len);
        if t.weight <= 0.5 {
            chatter.push(t.text.clone());
        }
    }
    // A long ticket is reduced to its most informative words: IDF times a dampened count.
    // Words the index has never seen take no place: they cannot match, and the rarest-first
    // order would fill the cap with them (chat words jieba glues together, 台前, 只放) and
    // drop the ticket's topic words. They stay in the plan as information no entry holds.
    // Unseen words are capped on their own, so a pasted blob of unknown words cannot grow
    // the query without bound.
    let unseen = unseen_idf(searcher);
    let mut unseen_left = w.max_terms;
    terms.retain(|t| {
        if t.secondary || t.idf < unseen {
            return true;
        }
        let kept = unseen_left > 0;
        unseen_left -= usize::from(kept);
        kept
    });
    let mains_kept: Vec<&QueryTerm> = terms
        .iter()
        .filter(|t| !t.secondary && t.idf < unseen)
        .collect();
    if mains_kept.len() > w.max_terms {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for m in &mains {
            *counts.entry(m).or_insert(0) += 1;
        }
        let mut ranked: Vec<(f32, String)> = mains_kept
            .iter()
            .map(|t| {
                (
                    t.idf
                        * t.weight
                        * (1.0 + (counts.get(t.text.as_str()).copied().unwrap_or(1) as f32).ln()),
                    t.text.clone(),
                )
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let keep: std::collections::HashSet<String> = ranked
            .into_iter()
            .take(w.max_terms)
            .map(|(_, t)| t)
            .collect();
        // Sub-words go too: a long ticket has words enough.
        terms.retain(|t| keep.contains(&t.text) || (!t.secondary && t.idf >= unseen));
    }

    let fields: [(&str, Field, f32); 4] = [
        ("title", f.title, w.title),
        ("aliases", f.aliases, w.aliases),
        ("page_title", f.page_title, w.page_title),
        ("body", f.body, w.body),
    ];
    let common = |idf: f32| idf < w.common_idf;
    let mut rare_word = false;
    for t in &terms {
        rare_word |= w.body > 0.0 && !common(t.idf) && t.idf < unseen;
        for (name, field, boost) in fields {
            if boost > 0.0 {
                clauses.push(Clause {
                    label: label(format_args!("{name}:{}", t.text)),
                    phrase: None,
                    positional: false,
                    rescore: name != "body",
                    common: name == "body" && common(t.idf),
                    term: Some(TermClause::new(field, &t.text, boost * t.weight)),
                    pair: None,
                });
            }
        }
    }

    // Synonyms: other phrasings of what the ticket says.
    let main_seq: Vec<&str> = mains.iter().copied().filter(|m| !res.is_stop(m)).collect();
    for m in res.find_synonyms(&main_seq) {
        for exp in m.expansions {
            let words = exp.join(" ");
            if exp.len() == 1 {
                if index_of.contains_key(&exp[0]) {
                    continue;
                }
                let idf = idf(searcher, f.body, &exp[0]);
                rare_word |= w.body > 0.0 && !common(idf) && idf < unseen;
                for (name, field, boost) in fields {
                    if boost > 0.0 && matches!(name, "title" | "aliases" | "body") {
                        clauses.push(Clause {
                            label: label(format_args!("synonym({name}):{words}")),
                            phrase: None,
                            positional: false,
                            rescore: name != "body",
                            common: name == "body" && common(idf),
                            term: Some(TermClause::new(field, &exp[0], boost * w.synonym)),
                            pair: None,
                        });
                    }
                }
                terms.push(QueryTerm {
                    text: exp[0].clone(),
                    weight: w.synonym,
                    idf,
                    secondary: true,
                    // A synonym adds to the score but not to coverage: an entry that says
                    // 无法连接 where the ticket says 连不上 scores, yet covers the ticket no
                    // better than one that says neither (measured: coverage through
                    // synonyms made near-ties on kb/ look decided).
                    stands_for: Vec::new(),
                });
            } else {
                for (name, field, boost) in [
                    ("title", f.title, w.title),
                    ("aliases", f.aliases, w.aliases),
                    ("body", f.body, w.body),
                ] {
                    let pq = PhraseQuery::new(
                        exp.iter()
                            .map(|e| Term::from_field_text(field, e))
                            .collect(),
                    );
                    clauses.push(Clause {
                        label: label(format_args!("synonym({name}):{words}")),
                        phrase: Some(Box::new(BoostQuery::new(Box::new(pq), boost * w.synonym))),
                        positional: true,
                        rescore: true,
                        common: false,
                        term: None,
                        pair: None,
                    });
                }
            }
        }
    }

    // Translations: the Chinese an article uses for an English ticket's words, word by word
    // (a rendering jieba splits is searched as its words, not as a phrase, so that it can
    // retrieve), each standing for the English words it renders. Words no entry holds are
    // left out: on an English KB the glossary adds nothing. In a Chinese ticket, only the
    // English words it uses alone as vocabulary (`一直 timeout`) are rendered, and only those
    // the KB itself writes in Chinese often enough ([`Weights::mixed_translation`]); the rest
    // are names (TiDB's `region`), commands and pasted messages, which the KB quotes as is.
    let en_ticket = crate::analysis::lang::detect(text) == crate::analysis::lang::Lang::En;
    // A Chinese ticket without a lone English word skips the glossary pass altogether.
    let mixed =
        !en_ticket && w.mixed_translation > 0.0 && lone_english_words(text).next().is_some();
    if w.translation > 0.0 && (en_ticket || mixed) {
        let kept: std::collections::HashSet<String> = terms
            .iter()
            .filter(|t| !t.secondary)
            .map(|t| t.text.clone())
            .collect();
        // A Chinese ticket's English words that stand alone in its Chinese prose.
        let lone: std::collections::HashSet<String> = if en_ticket {
            Default::default()
        } else {
            lone_english_words(text)
                .flat_map(|m| loaded.analyzer.analyze(m))
                .map(|t| t.text)
                .collect()
        };
        let mut added: HashMap<String, usize> = HashMap::new();
        let mut en_scale: HashMap<String, f32> = HashMap::new();
        let tw = if en_ticket && mains.len() >= SENTENCE_WORDS {
            w.translation_sentence
        } else {
            w.translation
        };
        // Matched over the words without their stop words (`close my account` is `close
        // account`), and then over all main words for the glossary phrases that hold a stop
        // word (`how long`, `log in`, `pay as you go`, `read only instance`), which the first
        // pass cannot see. A match of stop words alone is none.
        let with_stops = res
            .find_translations(&mains)
            .into_iter()
            .map(|m| (&mains[m.start..m.end], m))
            .filter(|(words, _)| {
                words.iter().any(|t| res.is_stop(t)) && !words.iter().all(|t| res.is_stop(t))
            });
        let matches: Vec<_> = res
            .find_translations(&main_seq)
            .into_iter()
            .map(|m| (&main_seq[m.start..m.end], m))
            .chain(with_stops)
            .collect();
        for (words, m) in matches {
            if !words.iter().any(|t| kept.contains(*t)) {
                continue;
            }
            // How informative the concept is in this KB: its most specific rendering word.
            // The English spelling's own rarity there says only that the KB is in Chinese.
            let concept = m
                .expansions
                .iter()
                .take(2)
                .flatten()
                .filter(|zh| informative(zh))
                .map(|zh| idf(searcher, f.body, zh))
                .filter(|&i| i < unseen)
                .fold(None, |a: Option<f32>, i| Some(a.map_or(i, |a| a.max(i))));
            if !en_ticket {
                // In a Chinese ticket, only an English word used alone in Chinese prose
                // (`pip install 一直 timeout`, `用 kill 命令`), and only one the KB writes in
                // Chinese often enough. A run of English words is a name, a command or a
                // pasted message (`tiup cluster deploy`, `MySQL variables`, `Lock wait
                // timeout exceeded`), which the KB quotes as it is written.
                if !words.iter().all(|wd| lone.contains(*wd)) {
                    continue;
                }
                let english = words
                    .iter()
                    .filter_map(|wd| terms.iter().find(|t| t.text == *wd && !t.secondary))
                    .map(|t| t.idf)
                    .fold(f32::INFINITY, f32::min);
                match concept {
                    Some(c) if english.is_finite() && english > c + w.mixed_translation.ln() => {}
                    _ => continue,
                }
            }
            if w.concept_idf > 0.0 {
                if let Some(concept) = concept {
                    for word in words {
                        if let Some(t) = terms.iter_mut().find(|t| t.text == *word && !t.secondary)
                        {
                            if concept < t.idf {
                                let e = en_scale.entry(word.to_string()).or_insert(1.0f32);
                                *e = e.min(concept / t.idf);
                            }
                        }
                    }
                }
            }
            for exp in m.expansions.iter().take(2) {
                let aligned = res.align_rendering(words, exp);
                for (zh, stands) in exp.iter().zip(&aligned) {
                    if res.is_stop(zh) || kept.contains(zh) {
                        continue;
                    }
                    let stands: Vec<&str> = stands.iter().map(|&i| words[i]).collect();
                    if let Some(i) = added
                        .get(zh)
                        .copied()
                        .or_else(|| terms.iter().position(|t| &t.text == zh))
                    {
                        let t: &mut QueryTerm = &mut terms[i];
                        for word in &stands {
                            if !t.stands_for.iter().any(|s| s == word) {
                                t.stands_for.push(word.to_string());
                            }
                        }
                        continue;
                    }
                    let idf = idf(searcher, f.body, zh);
                    // A word no entry holds, a common lone character (用 of 不可用), or one so
                    // common it says nothing beside the ticket's rarer words. A rarer lone
                    // character stays: jieba splits some renderings into characters only an
                    // entry about the concept holds (钉钉 → 钉 钉, 分布键 → 分布 键).
                    if idf >= unseen
                        || (!informative(zh) && common(idf))
                        || (common(idf) && rare_word)
                        || added.len() >= w.max_terms
                    {
                        continue;
                    }
                    rare_word |= w.body > 0.0 && !common(idf);
                    for (name, field, boost) in fields {
                        if boost > 0.0 && matches!(name, "title" | "aliases" | "body") {
                            clauses.push(Clause {
                                label: label(format_args!(
                                    "translation({name}):{zh}←{}",
                                    stands.join(" ")
                                )),
                                phrase: None,
                                positional: false,
                                rescore: name != "body",
                                common: name == "body" && common(idf),
                                term: Some(TermClause::new(field, zh, boost * tw)),
                                pair: None,
                            });
                        }
                    }
                    added.insert(zh.clone(), terms.len());
                    terms.push(QueryTerm {
                        text: zh.clone(),
                        weight: tw,
                        idf,
                        secondary: true,
                        stands_for: stands.iter().map(|s| s.to_string()).collect(),
                    });
                }
            }
        }
        for (word, scale) in &en_scale {
            for c in clauses.iter_mut() {
                if let Some(t) = c
                    .term
                    .as_mut()
                    .filter(|t| t.text == *word && t.field != f.codes)
                {
                    t.boost *= scale;
                }
            }
            if let Some(t) = terms.iter_mut().find(|t| t.text == *word && !t.secondary) {
                t.idf *= scale;
            }
        }
    }

    // Proximity: adjacent informative words of the ticket found close together.
    let mut pairs = 0;
    for win in main_seq.windows(2) {
        if pairs >= 12 || win[0] == win[1] {
            continue;
        }
        if !informative(win[0]) || !informative(win[1]) {
            continue;
        }
        pairs += 1;
        for (name, field) in [("title", f.title), ("body", f.body)] {
            clauses.push(Clause {
                label: label(format_args!("near({name}):{} {}", win[0], win[1])),
                phrase: None,
                positional: true,
                rescore: true,
                common: false,
                term: None,
                pair: Some(PairClause {
                    field,
                    terms: [win[0].to_string(), win[1].to_string()],
                    slop: PAIR_SLOP,
                    boost: w.proximity,
                }),
            });
        }
    }

    // The whole ticket as a phrase: a pasted error appears word for word in its article, its
    // stop words included ("type is invalid"). Two words are enough: the proximity pair only
    // re-scores the candidates, and a long page holding `invalid ip…` once is not among them
    // on its two common words alone.
    let mut phrase = None;
    if w.phrase > 0.0 && (2..=16).contains(&mains.len()) && main_seq.len() >= 2 {
        let mut pq = PhraseQuery::new(
            mains
                .iter()
                .map(|t| Term::from_field_text(f.body, t))
                .collect(),
        );
        pq.set_slop(3);
        phrase = Some(clauses.len());
        clauses.push(Clause {
            label: label(format_args!("phrase(body)")),
            phrase: Some(Box::new(BoostQuery::new(Box::new(pq), w.phrase))),
            positional: true,
            rescore: false,
            common: false,
            term: None,
            pair: None,
        });
    }

    // Error codes: those with a code's shape, and known phrase codes the ticket contains.
    let norm = normalize_str(text);
    let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
    // The KB's areas the ticket names (for the named-area prior).
    let areas: Vec<String> = if w.area > 0.0 {
        loaded
            .area_routes
            .iter()
            .map(|(a, _)| a)
            .filter(|a| crate::analysis::normalize::mentions(&norm, a))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    for pc in loaded.phrase_codes.found_in(&norm) {
        if !codes.iter().any(|c| c == pc) {
            codes.push(pc.to_string());
        }
    }
    codes.retain(|c| !c.is_empty());
    let codes = one_per_error(codes);
    for c in &codes {
        clauses.push(Clause {
            label: label(format_args!("code:{c}")),
            phrase: None,
            positional: false,
            rescore: false,
            common: false,
            term: Some(TermClause::new(f.codes, &canonical_code(c), w.code)),
            pair: None,
        });
    }
    // No rarer word that some entry holds: the common words are what retrieves (a phrase or
    // a code clause retrieves exact matches only, it cannot stand in for the words).
    if !rare_word {
        for c in &mut clauses {
            c.common = false;
        }
    }
    let problem = !codes.is_empty() || entities::describes_problem(text);
    let main: Vec<&QueryTerm> = terms
        .iter()
        .filter(|t| !t.secondary && !chatter.contains(&t.text))
        .collect();
    // Words that only say something fails (`还是不行`, `又报错了`) name nothing that fails.
    let topical = !codes.is_empty()
        || (main.iter().any(|t| !entities::is_problem_word(&t.text))
            && match main.as_slice() {
                [] => false,
                [one] => !broad(searcher, one),
                _ => true,
            });
    let keyword = main.len() == 1 && codes.is_empty() && !problem && !asks(text);
    let verbatim = if w.verbatim > 0.0 && !keyword {
        verbatim_spans(&loaded.analyzer, text)
    } else {
        Vec::new()
    };
    Plan {
        clauses,
        terms,
        codes,
        chatter,
        problem,
        topical,
        keyword,
        areas,
        verbatim,
        phrase,
    }
}

/// The most messages one ticket is searched for word for word.
const MAX_VERBATIM_SPANS: usize = 8;

/// The shortest and longest pasted message the verbatim prior looks for, in bytes folded.
/// Shorter, a message is a word; longer, it is a ticket.
const VERBATIM_BYTES: std::ops::RangeInclusive<usize> = 8..=400;

/// What `text` pastes, folded ([`verbatim_fold`]): the whole of it when it reads as one
/// message ([`pasted`]), else each error line inside it (`entities::error_messages`). The
/// lines of a message are parts of it: `type is invalid` is in every API error table, while
/// the `“type is invalid` a customer copied with its quote is in one page.
fn verbatim_spans(analyzer: &Analyzer, text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    if text.len() <= 2 * VERBATIM_BYTES.end() && pasted(text) {
        push_span(analyzer, &mut spans, text);
    }
    if spans.is_empty() {
        for m in entities::error_messages(text) {
            push_span(analyzer, &mut spans, &m);
        }
        // What the customer put in quotes is quoted as it is (`提示“该证件已认证的账号数量超过
        // 上限”`): as a search engine reads a quoted phrase.
        re!(QUOTED, r#"[“"「『]([^“”"「」『』\n]{2,200})[”"」』]"#);
        for c in QUOTED.captures_iter(text) {
            // A pasted JSON document quotes every key and value: the first few are enough.
            if spans.len() >= MAX_VERBATIM_SPANS {
                break;
            }
            push_span(analyzer, &mut spans, &c[1]);
        }
    }
    spans
}

/// Adds `s` folded to `spans`, unless it is too short or long to be a message, is there
/// already, or is one word. What the analyzer reads as one word (`session.timeout.ms`,
/// `AccessDenied`) the term and code clauses match as it is: found word for word, it says
/// nothing more. `host...version...error` is three words, and its dots tell it apart.
fn push_span(analyzer: &Analyzer, spans: &mut Vec<String>, s: &str) {
    let mut folded = String::with_capacity(s.len());
    verbatim_fold(s, &mut folded);
    if VERBATIM_BYTES.contains(&folded.len())
        && !spans.contains(&folded)
        && analyzer.analyze(&folded).iter().filter(|t| !t.sub).count() > 1
    {
        spans.push(folded);
    }
}

/// True when `text` reads as one message pasted as it is rather than a question about one
/// or a customer's account of a problem: one line, one sentence (no `，。！；`, and no `.`,
/// `!` or `;` with more words after it), no question mark or Chinese question word, and no
/// English question word to open it.
/// `当前ES集群配置不支持该操作`, `invalid ip...` and `type is invalid` are messages (the `is`
/// of an English message is no question). `一个账号可以申请多少个EIP？` is a question, and a
/// page quoting it is an FAQ twin, not an answer; `网站打不开了，报 502` is a ticket, which no
/// page quotes, and the error lines inside it are looked for instead.
fn pasted(text: &str) -> bool {
    re!(SENTENCE_BREAK, r"[\n，。！；]|[.!;]\s+\w");
    if SENTENCE_BREAK.is_match(text.trim()) {
        return false;
    }
    re!(
        QUESTION_ZH,
        r"[?？]|怎么|怎样|怎麼|如何|咋|能否|能不能|可不可以|可以|是否|吗|嗎|呢|什么|什麼|为什么|為什麼|哪|多久|多少"
    );
    re!(
        QUESTION_EN,
        r"(?i)^\W*(?:how|what|why|where|when|which|who|can|could|is|are|do|does|did|should|would|will)(?-u:\b)"
    );
    !QUESTION_ZH.is_match(text) && !QUESTION_EN.is_match(text)
}

/// The longest piece of a folded message ([`verbatim_fold`]) that a text holding the message
/// holds too, in ASCII lower case, before folding: a run of ASCII letters and digits and of
/// other characters that folding keeps as they are. Spaces, punctuation (a full-width `：`
/// folds to `:`) and quotes end a piece. None when the message has no such character.
pub fn verbatim_piece(folded: &str) -> Option<&str> {
    folded
        .split(|c: char| {
            c.is_ascii() && !c.is_ascii_alphanumeric()
                || c.is_whitespace()
                || matches!(c, '\u{FF01}'..='\u{FF5E}' | '“' | '”' | '‘' | '’')
        })
        .max_by_key(|p| p.len())
        .filter(|p| !p.is_empty())
}

/// `s` as the verbatim prior compares it, appended to `out`: ASCII letters in lower case,
/// full-width forms as ASCII, curly quotes straight, Markdown's emphasis, code marks and
/// escapes (`` ` ``, `*`, `\`) left out, and every run of spaces and line breaks one space.
/// A message a customer pastes from a console and the same message quoted in a page's
/// Markdown fold alike.
pub fn verbatim_fold(s: &str, out: &mut String) {
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '`' | '*' | '\\' => continue,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '“' | '”' => '"',
            '‘' | '’' => '\'',
            c => c,
        };
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c.to_ascii_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::{
        chatter_weight, one_per_error, pasted, verbatim_fold, verbatim_piece, verbatim_spans,
        DEFAULT_WEIGHTS,
    };

    #[test]
    fn verbatim_spans_are_the_message_or_the_quoted_and_error_parts() {
        let a = crate::analysis::Analyzer::new(&[]);
        // One message: itself, not its error line too.
        assert_eq!(
            verbatim_spans(&a, "“type is invalid"),
            ["\"type is invalid"]
        );
        // A ticket: its error lines and what it puts in quotes.
        assert_eq!(
            verbatim_spans(
                &a,
                "配 DTS 同步，点测试连接一直提示“不允许使用内网IP实例”，账号密码没错"
            ),
            ["不允许使用内网ip实例"]
        );
        assert_eq!(
            verbatim_spans(&a, "ssh 登录报错 Permission denied (publickey)，怎么办"),
            ["permission denied (publickey)"]
        );
        // One word, quoted or not, is left to the term clauses; a question is no message.
        assert!(
            verbatim_spans(&a, "点了“确定”以后 session.timeout.ms 报 timeout，怎么办").is_empty()
        );
        assert!(verbatim_spans(&a, "一个账号可以申请多少个EIP？").is_empty());
    }

    #[test]
    fn pasted_messages_are_told_from_questions_and_tickets() {
        for message in [
            "当前ES集群配置不支持该操作",
            "invalid ip...",
            "“type is invalid",
            "Execution failed：ERROR: permission denied for table orders",
            "The specified parameter is invalid, please check it.",
            "kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
        ] {
            assert!(pasted(message), "{message}");
        }
        for other in [
            "一个账号可以申请多少个EIP？",
            "为什么报 invalid ip",
            "How do I reset the root password",
            "Is it possible to enable MFA",
            "网站打不开了，报 502",
            "第一行\n第二行",
            "Our database came back empty after maintenance. Business is down",
        ] {
            assert!(!pasted(other), "{other}");
        }
    }

    #[test]
    fn verbatim_fold_leaves_out_what_a_paste_and_markdown_differ_in() {
        let fold = |s: &str| {
            let mut out = String::new();
            verbatim_fold(s, &mut out);
            out
        };
        assert_eq!(fold("  Type is\n\t Invalid  "), "type is invalid");
        assert_eq!(
            fold("报错 `invalid ip...`：检查"),
            "报错 invalid ip...:检查"
        );
        assert_eq!(fold("**AccessDenied** \\_x"), "accessdenied _x");
        assert_eq!(fold("“type is invalid”"), "\"type is invalid\"");
        assert_eq!(fold("ＥＲＲＯＲ　１０４０"), "error 1040");
        // A piece a text holding the message holds in lower case before folding.
        assert_eq!(verbatim_piece("host...version...error"), Some("version"));
        assert_eq!(
            verbatim_piece("当前es集群配置不支持该操作"),
            Some("当前es集群配置不支持该操作")
        );
        assert_eq!(verbatim_piece("... !"), None);
    }

    #[test]
    fn one_error_in_two_forms_is_one_code() {
        let kept = |codes: &[&str]| one_per_error(codes.iter().map(|c| c.to_string()).collect());
        assert_eq!(
            kept(&["http 504", "504 gateway time-out"]),
            ["504 gateway time-out"]
        );
        assert_eq!(
            kept(&["invalidaccesskeyid", "invalidaccesskeyid.notfound"]),
            ["invalidaccesskeyid.notfound"]
        );
        // Two errors stay two, even of one SQLSTATE or one status class.
        assert_eq!(
            kept(&["error 1062 (23000)", "error 1452 (23000)"]),
            ["error 1062 (23000)", "error 1452 (23000)"]
        );
        assert_eq!(kept(&["http 502", "http 504"]), ["http 502", "http 504"]);
    }
    use crate::analysis::tokenizer::general_idf;

    /// The KB IDF of a word that is in a share `share` of the entries.
    fn idf_at(share: f32) -> f32 {
        (1.0 / share).ln()
    }

    #[test]
    fn chatter_is_judged_against_the_use_the_kb_s_entry_length_predicts() {
        let w = DEFAULT_WEIGHTS;
        // A word used as often as general writing predicts for entries of that length keeps
        // the same weight whether the KB's entries are short FAQ answers or long guides.
        for word in ["配置", "知道", "监听"] {
            let at = |len: f32| {
                let share = (-general_idf(word)).exp() * len;
                chatter_weight(&w, word, idf_at(share), len)
            };
            assert!((at(80.0) - at(1500.0)).abs() < 1e-3, "{word}");
            assert!(at(500.0) > 0.5, "{word} {}", at(500.0));
        }
        // 知道 in 1 entry of 200 (kb/ has 3), and 监听 in 1 of 50.
        assert_eq!(
            chatter_weight(&w, "知道", idf_at(1.0 / 200.0), 560.0),
            w.chatter_floor
        );
        assert_eq!(chatter_weight(&w, "监听", idf_at(1.0 / 50.0), 560.0), 1.0);
        // English words, and the switch.
        assert_eq!(chatter_weight(&w, "know", 9.0, 560.0), 1.0);
        let off = super::Weights { chatter: 0.0, ..w };
        assert_eq!(chatter_weight(&off, "知道", 9.0, 560.0), 1.0);
    }
}
