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

use super::normalize::{is_han, normalize, Normalized};

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
                self.han_run(&norm, start, end, &mut pos, &mut out);
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
                self.word_run(&norm, start, end, &mut pos, &mut out);
            }
        }
        out
    }

    fn han_run(
        &self,
        norm: &Normalized,
        start: usize,
        end: usize,
        pos: &mut u32,
        out: &mut Vec<AnalyzedToken>,
    ) {
        let run = &norm.text[start..end];
        for tok in self.jieba.cut(run, true) {
            let (a, b) = (start + tok.byte_start, start + tok.byte_end);
            let position = *pos;
            *pos += 1;
            push(out, norm, tok.word, a, b, position, false);
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
                            push(
                                out,
                                norm,
                                gram,
                                a + idx[i],
                                a + idx[i + len],
                                position,
                                true,
                            );
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
        out: &mut Vec<AnalyzedToken>,
    ) {
        let word = &norm.text[start..end];
        if word.len() > MAX_TOKEN_BYTES {
            return;
        }
        let position = *pos;
        *pos += 1;
        if !word.contains(is_connector) {
            let stemmed = self.stem(word);
            push(out, norm, &stemmed, start, end, position, false);
            return;
        }
        // A compound: the whole, kept exact (codes, versions, paths), then its lettered parts.
        push(out, norm, word, start, end, position, false);
        let mut offset = 0;
        for part in word.split(is_connector) {
            if part.chars().count() >= 2 && part.chars().any(|c| c.is_alphabetic()) {
                let stemmed = self.stem(part);
                push(
                    out,
                    norm,
                    &stemmed,
                    start + offset,
                    start + offset + part.len(),
                    position,
                    true,
                );
            }
            offset += part.len() + 1;
        }
    }

    fn stem(&self, word: &str) -> String {
        if word.len() > 3 && word.bytes().all(|b| b.is_ascii_lowercase()) {
            // Docs repeat their English words; the Snowball stemmer was a fifth of analysis.
            STEMS.with_borrow_mut(|cache| {
                if let Some(s) = cache.get(word) {
                    return s.clone();
                }
                let s = self.stemmer.stem(word).into_owned();
                if cache.len() >= STEM_CACHE_WORDS {
                    cache.clear();
                }
                cache.insert(word.to_string(), s.clone());
                s
            })
        } else {
            word.to_string()
        }
    }

    /// True when jieba's dictionary (with the user words) holds `word`.
    pub fn has_word(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }
}

/// Stems per thread; cleared when full (a bound, not an LRU).
const STEM_CACHE_WORDS: usize = 50_000;

thread_local! {
    static STEMS: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn push(
    out: &mut Vec<AnalyzedToken>,
    norm: &Normalized,
    text: &str,
    a: usize,
    b: usize,
    position: u32,
    sub: bool,
) {
    let (from, to) = norm.original_range(a, b);
    out.push(AnalyzedToken {
        text: text.to_string(),
        from,
        to,
        position,
        sub,
    });
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
