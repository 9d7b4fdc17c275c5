//! Analysis resources a KB carries in `_analysis/`: a jieba user dictionary, a synonym table
//! and stop words. The user dictionary changes segmentation, so it is copied into each index
//! generation and read back from there; synonyms and stop words are applied at query time
//! only, so editing them needs no reindex.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::normalize::normalize_str;
use super::tokenizer::{Analyzer, UserWord};

/// The directory inside a KB that holds analysis resources.
pub const ANALYSIS_DIR: &str = "_analysis";
/// jieba user dictionary: `word [freq] [tag]` per line.
pub const USER_DICT_FILE: &str = "userdict.txt";
/// Synonym groups: one group per line, phrases separated by `,` (or `=`).
pub const SYNONYMS_FILE: &str = "synonyms.txt";
/// Stop words for ranking: one per line, added to [`BUILTIN_STOPWORDS`]; `!word` removes one.
pub const STOPWORDS_FILE: &str = "stopwords.txt";
/// Ticket chatter every KB starts with (greetings, pronouns, particles, question words), so
/// a KB with no `_analysis/` of its own is not ranked on 你好 and 怎么办.
pub const BUILTIN_STOPWORDS: &str = include_str!("stopwords.txt");

/// A problem with a resource file line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceWarning {
    /// File name and line number.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

/// Parses a jieba user dictionary (`word [freq] [tag]`, `#` comments).
pub fn parse_user_dict(
    text: &str,
    file: &str,
    warnings: &mut Vec<ResourceWarning>,
) -> Vec<UserWord> {
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let word = parts.next().unwrap_or_default().to_string();
        let freq = match parts.next() {
            None => None,
            Some(f) => {
                match f.parse::<usize>() {
                    Ok(f) => Some(f),
                    Err(_) => {
                        warnings.push(ResourceWarning {
                        location: format!("{file}:{}", n + 1),
                        message: format!("frequency `{f}` is not a whole number; the word is added without one"),
                    });
                        None
                    }
                }
            }
        };
        words.push(UserWord { word, freq });
    }
    words
}

/// Reads the user dictionary of a KB, if it has one.
pub fn load_user_dict(
    kb: &Path,
    warnings: &mut Vec<ResourceWarning>,
) -> std::io::Result<Vec<UserWord>> {
    let path = kb.join(ANALYSIS_DIR).join(USER_DICT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(parse_user_dict(
            &text,
            &path.display().to_string(),
            warnings,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Query-time resources: synonym groups and stop words, analysed with the index's analyzer.
#[derive(Debug, Default, Clone)]
pub struct QueryResources {
    /// Each group is a list of phrases; each phrase is its main-token sequence.
    groups: Vec<Vec<Vec<String>>>,
    /// First token of a phrase → (group, phrase) indexes.
    by_first: HashMap<String, Vec<(usize, usize)>>,
    /// Stop words (single tokens).
    stop: HashSet<String>,
}

/// A synonym found in a query: the query tokens `start..end` matched phrase `phrase` of a
/// group; the other phrases of the group are the expansions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymMatch {
    /// First main-token index in the query.
    pub start: usize,
    /// One past the last main-token index.
    pub end: usize,
    /// The other phrases of the group, each a token sequence.
    pub expansions: Vec<Vec<String>>,
}

impl QueryResources {
    /// Builds the resources from the text of a synonym table and a stop-word list.
    pub fn parse(analyzer: &Analyzer, synonyms: &str, stopwords: &str) -> QueryResources {
        let mut res = QueryResources::default();
        for line in synonyms.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let group: Vec<Vec<String>> = line
                .split([',', '，', '='])
                .map(|p| main_tokens(analyzer, p))
                .filter(|p| !p.is_empty())
                .collect();
            if group.len() < 2 {
                continue;
            }
            let gi = res.groups.len();
            for (pi, phrase) in group.iter().enumerate() {
                res.by_first
                    .entry(phrase[0].clone())
                    .or_default()
                    .push((gi, pi));
            }
            res.groups.push(group);
        }
        let key = |w: &str| {
            let toks = main_tokens(analyzer, w);
            if toks.len() == 1 {
                toks.into_iter().next().unwrap_or_default()
            } else {
                normalize_str(w)
            }
        };
        for line in BUILTIN_STOPWORDS.lines().chain(stopwords.lines()) {
            let w = line.trim();
            if w.is_empty() || w.starts_with('#') {
                continue;
            }
            match w.strip_prefix('!') {
                Some(out) => {
                    res.stop.remove(&key(out.trim()));
                }
                None => {
                    res.stop.insert(key(w));
                }
            }
        }
        res
    }

    /// Loads `synonyms.txt` and `stopwords.txt` from `dir` (missing files mean none).
    pub fn load(analyzer: &Analyzer, dir: &Path) -> std::io::Result<QueryResources> {
        let read = |name: &str| match std::fs::read_to_string(dir.join(name)) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e),
        };
        Ok(QueryResources::parse(
            analyzer,
            &read(SYNONYMS_FILE)?,
            &read(STOPWORDS_FILE)?,
        ))
    }

    /// True when `token` is a stop word.
    pub fn is_stop(&self, token: &str) -> bool {
        self.stop.contains(token)
    }

    /// Finds synonym phrases in a query's main-token sequence, longest match first,
    /// non-overlapping.
    pub fn find_synonyms(&self, tokens: &[&str]) -> Vec<SynonymMatch> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut best: Option<(usize, usize, usize)> = None; // (len, group, phrase)
            if let Some(cands) = self.by_first.get(tokens[i]) {
                for &(g, p) in cands {
                    let phrase = &self.groups[g][p];
                    let len = phrase.len();
                    if i + len <= tokens.len()
                        && phrase.iter().zip(&tokens[i..i + len]).all(|(a, b)| a == b)
                        && best.is_none_or(|(l, _, _)| len > l)
                    {
                        best = Some((len, g, p));
                    }
                }
            }
            match best {
                Some((len, g, p)) => {
                    let expansions = self.groups[g]
                        .iter()
                        .enumerate()
                        .filter(|(pi, _)| *pi != p)
                        .map(|(_, ph)| ph.clone())
                        .collect();
                    found.push(SynonymMatch {
                        start: i,
                        end: i + len,
                        expansions,
                    });
                    i += len;
                }
                None => i += 1,
            }
        }
        found
    }
}

/// The main (non-sub-word) tokens of a short text.
pub fn main_tokens(analyzer: &Analyzer, text: &str) -> Vec<String> {
    analyzer
        .analyze(text)
        .into_iter()
        .filter(|t| !t.sub)
        .map(|t| t.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kb_starts_with_the_builtin_stop_words_and_can_add_or_take_out() {
        let analyzer = Analyzer::new(&[]);
        let none = QueryResources::parse(&analyzer, "", "");
        for w in ["你好", "我们", "怎么办", "thank", "the"] {
            assert!(none.is_stop(w), "{w} is built in");
        }
        // Words that carry a ticket's meaning are never stop words.
        for w in ["不", "没有", "无法", "失败", "报错", "not", "error"] {
            assert!(!none.is_stop(w), "{w} must count");
        }
        // English words are matched as the analyzer stems them in a ticket; "only" is a
        // Snowball exception ("onli"), and stemming that stem again gives "on".
        for w in ["only", "really", "because", "usually", "yesterday", "keeps"] {
            let t = main_tokens(&analyzer, w);
            assert!(none.is_stop(&t[0]), "{w} → {t:?}");
        }
        let kb = QueryResources::parse(&analyzer, "", "# ours\n工单\n!急\n");
        assert!(kb.is_stop("工单"));
        assert!(!kb.is_stop("急"), "`!急` takes a built-in word out");
        assert!(none.is_stop("急"));
    }
}
