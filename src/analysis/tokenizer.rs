//! The deflect analyzer: one segmentation for indexing and querying.
//!
//! Pipeline: [`normalize`](super::normalize) → split into Han runs and Latin/digit runs →
//! jieba (default mode, HMM on) for Han runs plus search-mode sub-words, and compound-aware
//! word splitting with English stemming for Latin runs. Each main token takes the next
//! position; its sub-words (安全组规则 → 安全组, 规则; `err_connection_refused` → `err`,
//! `connect`, `refus`) share that position, so phrase and proximity queries still line up.

use std::sync::Arc;

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::normalize::{is_han, normalize, normalize_with, Normalized};

/// Tokens longer than this (base64 blobs, hashes) are dropped: they match nothing useful.
const MAX_TOKEN_BYTES: usize = 64;

/// Chars that join two alphanumeric runs into one compound (`tlsv1.2`, `err_conn`, `ora-12541`).
fn is_connector(c: char) -> bool {
    matches!(c, '.' | '_' | '-' | '/' | ':' | '+' | '#')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// One analysed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzedToken {
    /// The term as indexed.
    pub text: String,
    /// Byte range in the original (un-normalised) text.
    pub from: usize,
    /// End of the byte range in the original text.
    pub to: usize,
    /// Token ordinal; sub-words share their word's position.
    pub position: u32,
    /// A sub-word of a longer token (search-mode gram or compound part).
    pub sub: bool,
}

/// The analyzer: jieba with the KB's user dictionary, and the English stemmer.
pub struct Analyzer {
    jieba: Jieba,
    stemmer: Stemmer,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").finish_non_exhaustive()
    }
}

/// A word for jieba's dictionary, from the KB's user dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWord {
    /// The word (normalised before it is added).
    pub word: String,
    /// Frequency; `None` lets jieba pick one that keeps the word whole.
    pub freq: Option<usize>,
}

impl Analyzer {
    /// Builds an analyzer with jieba's default dictionary plus `user_words`.
    pub fn new(user_words: &[UserWord]) -> Analyzer {
        let mut jieba = base_jieba().clone();
        for w in user_words {
            let word = normalize(&w.word).text;
            if word.chars().any(is_han) {
                jieba.add_word(&word, w.freq, None);
            }
        }
        Analyzer {
            jieba,
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// Analyses `text` into tokens with original offsets.
    pub fn analyze(&self, text: &str) -> Vec<AnalyzedToken> {
        let norm = normalize(text);
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.tokens(&norm, &mut |t, a, b, position, sub| {
            let (from, to) = norm.original_range(a, b);
            out.push(AnalyzedToken {
                text: t.to_string(),
                from,
                to,
                position,
                sub,
            });
        });
        out
    }

    /// Analyses `text` straight into the [`encode`]d form the index writer reads (the same
    /// tokens as [`Analyzer::analyze`]): no offsets, no token allocated.
    pub fn analyze_encoded(&self, text: &str, out: &mut String) {
        let norm = normalize_with(text, false);
        let mut prev = None;
        self.tokens(&norm, &mut |t, _, _, position, _| {
            encode_one(out, &mut prev, t, position)
        });
    }

    /// Calls `emit(text, from, to, position, sub)` for every token of `norm`, in order;
    /// `from..to` is the token's byte range in the normalised text.
    fn tokens(&self, norm: &Normalized, emit: &mut impl FnMut(&str, usize, usize, u32, bool)) {
        let out = emit;
        let mut pos: u32 = 0;
        let s = norm.text.as_str();
        let mut chars = s.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            if is_han(c) {
                let mut end = start + c.len_utf8();
                while let Some(&(i, n)) = chars.peek() {
                    if !is_han(n) {
                        break;
                    }
                    end = i + n.len_utf8();
                    chars.next();
                }
                self.han_run(norm, start, end, &mut pos, out);
            } else if is_word_char(c) {
                // A Latin/digit run, with single connectors between word chars.
                let mut end = start + c.len_utf8();
                loop {
                    let mut look = chars.clone();
                    match look.next() {
                        Some((i, n)) if is_word_char(n) => {
                            end = i + n.len_utf8();
                            chars.next();
                        }
                        Some((_, n)) if is_connector(n) => match look.next() {
                            Some((j, m)) if is_word_char(m) => {
                                end = j + m.len_utf8();
                                chars.next();
                                chars.next();
                            }
                            _ => break,
                        },
                        _ => break,
                    }
                }
                self.word_run(norm, start, end, &mut pos, out);
            }
        }
    }

    fn han_run(
        &self,
        norm: &Normalized,
        start: usize,
        end: usize,
        pos: &mut u32,
        out: &mut impl FnMut(&str, usize, usize, u32, bool),
    ) {
        let run = &norm.text[start..end];
        for tok in self.jieba.cut(run, true) {
            let (a, b) = (start + tok.byte_start, start + tok.byte_end);
            let position = *pos;
            *pos += 1;
            out(tok.word, a, b, position, false);
            let n = tok.end - tok.start;
            if n > 2 {
                // Search-mode sub-words: dictionary 2-grams and 3-grams inside a longer word.
                let idx: Vec<usize> = tok
                    .word
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([tok.word.len()])
                    .collect();
                for len in [2usize, 3] {
                    if n <= len {
                        continue;
                    }
                    for i in 0..=n - len {
                        let gram = &tok.word[idx[i]..idx[i + len]];
                        if self.jieba.has_word(gram) {
                            out(gram, a + idx[i], a + idx[i + len], position, true);
                        }
                    }
                }
            }
        }
    }

    fn word_run(
        &self,
        norm: &Normalized,
        start: usize,
        end: usize,
        pos: &mut u32,
        out: &mut impl FnMut(&str, usize, usize, u32, bool),
    ) {
        let word = &norm.text[start..end];
        if word.len() > MAX_TOKEN_BYTES {
            return;
        }
        let position = *pos;
        *pos += 1;
        if !word.contains(is_connector) {
            self.with_stem(word, |stemmed| out(stemmed, start, end, position, false));
            return;
        }
        // A compound: the whole, kept exact (codes, versions, paths), then its lettered parts.
        out(word, start, end, position, false);
        let mut offset = 0;
        for part in word.split(is_connector) {
            if part.chars().count() >= 2 && part.chars().any(|c| c.is_alphabetic()) {
                let (a, b) = (start + offset, start + offset + part.len());
                self.with_stem(part, |stemmed| out(stemmed, a, b, position, true));
            }
            offset += part.len() + 1;
        }
    }

    /// Calls `f` with the stem of `word` (English words; anything else as it is).
    fn with_stem<R>(&self, word: &str, f: impl FnOnce(&str) -> R) -> R {
        if word.len() > 3 && word.bytes().all(|b| b.is_ascii_lowercase()) {
            // Docs repeat their English words; the Snowball stemmer was a fifth of analysis.
            STEMS.with_borrow_mut(|cache| {
                if let Some(s) = cache.get(word) {
                    return f(s);
                }
                let s = self.stemmer.stem(word).into_owned();
                if cache.len() >= STEM_CACHE_WORDS {
                    cache.clear();
                }
                let r = f(&s);
                cache.insert(word.to_string(), s);
                r
            })
        } else {
            f(word)
        }
    }

    /// True when jieba's dictionary (with the user words) holds `word`.
    pub fn has_word(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }
}

/// Stems (and general IDFs) per thread; cleared when full (a bound, not an LRU).
const STEM_CACHE_WORDS: usize = 50_000;

thread_local! {
    static STEMS: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
    static GENERAL_IDFS: std::cell::RefCell<std::collections::HashMap<String, f32>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Words in the corpus jieba's default dictionary counts (its total frequency).
const GENERAL_WORDS: f64 = 60_101_967.0;

/// How rare a Chinese word is in general writing: ln(total / count), with the count from
/// jieba's default dictionary, built from a general corpus (news, web text). A word the
/// dictionary lacks gets the count its parts would have together (jieba's
/// `suggest_freq`), so 空着 is rarer than 空 and 着 but not unknown. 知道 is 7.2, 一直 8.1,
/// 配置 10.5, 监听 13.1, 健康检查 16.5. A KB's own user words do not count: this reads the
/// default dictionary only.
pub fn general_idf(word: &str) -> f32 {
    // jieba segments the word to price it (a fifth of a long ticket's search when uncached);
    // tickets repeat their vocabulary, so each thread keeps the words it has priced.
    GENERAL_IDFS.with_borrow_mut(|cache| {
        if let Some(&v) = cache.get(word) {
            return v;
        }
        let f = base_jieba().suggest_freq(word).max(1) as f64;
        let v = (GENERAL_WORDS / f).ln().max(0.0) as f32;
        if cache.len() >= STEM_CACHE_WORDS {
            cache.clear();
        }
        cache.insert(word.to_string(), v);
        v
    })
}

/// jieba with its default dictionary, loaded once per process (150–700 ms) and cloned for
/// each analyzer that adds user words.
fn base_jieba() -> &'static Jieba {
    static BASE: std::sync::LazyLock<Jieba> = std::sync::LazyLock::new(Jieba::new);
    &BASE
}

/// The analyzer as a Tantivy tokenizer. Cloning is cheap: Tantivy clones tokenizers on every
/// use, so the analyzer (and its dictionary) sits behind an `Arc`.
#[derive(Clone, Debug)]
pub struct DeflectTokenizer {
    analyzer: Arc<Analyzer>,
}

impl DeflectTokenizer {
    /// Wraps a shared analyzer.
    pub fn new(analyzer: Arc<Analyzer>) -> Self {
        DeflectTokenizer { analyzer }
    }
}

/// Marks a token that shares its predecessor's position (a sub-word) in [`encode`]d text.
const SAME_POSITION: u8 = 1;
/// Marks one step of position in [`encode`]d text.
const NEXT_POSITION: u8 = 2;

/// Writes analysed tokens in the compact form [`PreTokenizedTokenizer`] reads back: each
/// token's text after one marker per step of position (or one same-position marker). Index
/// builds analyse in their parse workers, on every core, and hand the writer this form, so
/// a single writer thread builds one segment that needs no merge. The index path writes it
/// straight from the analysis ([`Analyzer::analyze_encoded`]); this form is for tests.
#[cfg(test)]
pub fn encode(tokens: &[AnalyzedToken], out: &mut String) {
    let mut prev = None;
    for t in tokens {
        encode_one(out, &mut prev, &t.text, t.position);
    }
}

/// Appends one token to [`encode`]d text; `prev` is the position of the last one written.
fn encode_one(out: &mut String, prev: &mut Option<u32>, text: &str, position: u32) {
    if text.is_empty()
        || text
            .bytes()
            .any(|b| b == SAME_POSITION || b == NEXT_POSITION)
    {
        return;
    }
    let steps = match *prev {
        None => position as usize + 1,
        Some(p) => position.saturating_sub(p) as usize,
    };
    if steps == 0 {
        out.push(SAME_POSITION as char);
    }
    for _ in 0..steps {
        out.push(NEXT_POSITION as char);
    }
    out.push_str(text);
    *prev = Some(position);
}

/// The index-time tokenizer of [`encode`]d text: it only splits, so the writer thread does
/// no analysis. Its tokens are exactly the analyzer's, with the same positions.
#[derive(Clone, Debug, Default)]
pub struct PreTokenizedTokenizer;

/// Tokens of [`encode`]d text; one token buffer, reused.
pub struct PreTokenizedStream<'a> {
    text: &'a str,
    at: usize,
    started: bool,
    token: Token,
}

impl Tokenizer for PreTokenizedTokenizer {
    type TokenStream<'a> = PreTokenizedStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PreTokenizedStream<'a> {
        PreTokenizedStream {
            text,
            at: 0,
            started: false,
            token: Token::default(),
        }
    }
}

impl TokenStream for PreTokenizedStream<'_> {
    fn advance(&mut self) -> bool {
        let bytes = self.text.as_bytes();
        let is_marker = |b: u8| b == SAME_POSITION || b == NEXT_POSITION;
        let mut i = self.at;
        let mut steps = 0usize;
        while i < bytes.len() && is_marker(bytes[i]) {
            steps += usize::from(bytes[i] == NEXT_POSITION);
            i += 1;
        }
        if i == bytes.len() {
            self.at = i;
            return false;
        }
        // Markers are ASCII: the cuts fall on character boundaries.
        let end = bytes[i..]
            .iter()
            .position(|&b| is_marker(b))
            .map_or(bytes.len(), |n| i + n);
        self.token.position = if self.started {
            self.token.position + steps
        } else {
            steps.saturating_sub(1)
        };
        self.started = true;
        self.token.text.clear();
        self.token.text.push_str(&self.text[i..end]);
        self.token.offset_from = i;
        self.token.offset_to = end;
        self.at = end;
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// A token stream over an already analysed text.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for DeflectTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = self
            .analyzer
            .analyze(text)
            .into_iter()
            .map(|t| Token {
                offset_from: t.from,
                offset_to: t.to,
                position: t.position as usize,
                text: t.text,
                position_length: 1,
            })
            .collect();
        VecTokenStream {
            tokens,
            index: usize::MAX,
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

#[cfg(test)]
mod tests {
    use super::general_idf;

    #[test]
    fn general_idf_puts_customer_words_below_technical_ones() {
        // What a customer says around a problem is common in general writing; the words of the
        // problem itself are not, however common they are in documentation.
        let chatter = ["知道", "到底", "里面", "好像", "进来", "哪里"];
        let topic = ["监听", "健康检查", "磁盘", "控制台", "配置", "带宽"];
        for c in chatter {
            for t in topic {
                assert!(
                    general_idf(c) + 1.0 < general_idf(t),
                    "{c} {} vs {t} {}",
                    general_idf(c),
                    general_idf(t)
                );
            }
        }
        // A word the dictionary lacks is rarer than its parts, but not unknown.
        assert!(general_idf("空着") > general_idf("着"));
        assert!(general_idf("空着") < general_idf("qzxv"));
    }
}
