//! Analysis resources a KB carries in `_analysis/`: a jieba user dictionary, a synonym table,
//! stop words and a bilingual glossary. The user dictionary changes segmentation, so it is
//! copied into each index generation and read back from there; synonyms, stop words and the
//! glossary are applied at query time only, so editing them needs no reindex.

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
/// English → Chinese glossary additions: `english[, english…] = 中文[, 中文…]` per line.
pub const GLOSSARY_FILE: &str = "glossary.txt";
/// Support vocabulary every KB starts with, English to the Chinese an article uses: an
/// English ticket on a Chinese KB otherwise matches only the English identifiers of API and
/// template pages (`ALIYUN::VPC::EIP` for "raise EIP bandwidth").
pub const BUILTIN_GLOSSARY: &str = include_str!("glossary.txt");
/// Ticket chatter every KB starts with (greetings, pronouns, particles, question words), so
/// a KB with no `_analysis/` of its own is not ranked on 你好 and 怎么办.
pub const BUILTIN_STOPWORDS: &str = include_str!("stopwords.txt");

/// The built-in Taiwan vocabulary: Taiwan words normalisation leaves as they are, and the
/// mainland words articles use for them.
pub const BUILTIN_VARIANTS: &str = include_str!("variants.txt");
/// deflect's built-in synonym groups, every KB's before its own.
pub const BUILTIN_SYNONYMS: &str = include_str!("synonyms.txt");

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

/// Checks a KB's glossary file: a line the glossary would ignore is a warning naming it.
pub fn lint_glossary(kb: &Path, warnings: &mut Vec<ResourceWarning>) {
    let path = kb.join(ANALYSIS_DIR).join(GLOSSARY_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let message = match line.split_once('=') {
            None => "no `=` between the English and the Chinese: the line is ignored",
            Some((en, zh)) if en.trim().is_empty() || zh.trim().is_empty() => {
                "nothing on one side of `=`: the line is ignored"
            }
            Some((en, _)) if en.chars().any(super::normalize::is_han) => {
                "Chinese on the English side: only English tickets are translated, so it never matches"
            }
            _ => continue,
        };
        warnings.push(ResourceWarning {
            location: format!("{}:{}", path.display(), n + 1),
            message: message.to_string(),
        });
    }
}

/// Query-time resources: synonym groups, stop words and the glossary, analysed with the
/// index's analyzer.
#[derive(Debug, Default, Clone)]
pub struct QueryResources {
    /// Synonyms: every phrase of a group leads to the group's other phrases.
    synonyms: PhraseTable,
    /// Glossary: an English phrase leads to its Chinese renderings (one way only: Chinese
    /// tickets on a Chinese KB would gain the English of identifier pages).
    translations: PhraseTable,
    /// Stop words (single tokens).
    stop: HashSet<String>,
}

/// Phrases (main-token sequences) that each lead to a list of other phrases.
#[derive(Debug, Default, Clone)]
struct PhraseTable {
    /// Target lists; each phrase is its main-token sequence.
    targets: Vec<Vec<Vec<String>>>,
    /// First token of a key phrase → (key phrase, its target list).
    by_first: HashMap<String, Vec<(Vec<String>, usize)>>,
}

impl PhraseTable {
    fn add(&mut self, keys: &[Vec<String>], targets: Vec<Vec<String>>) {
        let t = self.targets.len();
        for key in keys {
            let slot = self.by_first.entry(key[0].clone()).or_default();
            // A later line for the same phrase replaces the earlier (a KB's own glossary
            // over the built-in one).
            slot.retain(|(k, _)| k != key);
            slot.push((key.clone(), t));
        }
        self.targets.push(targets);
    }

    /// Key phrases in a token sequence, longest match first, non-overlapping; each with the
    /// targets other than the matched phrase itself.
    fn find(&self, tokens: &[&str]) -> Vec<SynonymMatch> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let mut best: Option<(&[String], usize)> = None;
            if let Some(cands) = self.by_first.get(tokens[i]) {
                for (key, t) in cands {
                    let len = key.len();
                    if i + len <= tokens.len()
                        && key.iter().zip(&tokens[i..i + len]).all(|(a, b)| a == b)
                        && best.is_none_or(|(k, _)| len > k.len())
                    {
                        best = Some((key, *t));
                    }
                }
            }
            match best {
                Some((key, t)) => {
                    let expansions = self.targets[t]
                        .iter()
                        .filter(|ph| ph.as_slice() != key)
                        .cloned()
                        .collect();
                    found.push(SynonymMatch {
                        start: i,
                        end: i + key.len(),
                        expansions,
                    });
                    i += key.len();
                }
                None => i += 1,
            }
        }
        found
    }
}

/// A synonym or glossary phrase found in a query: the query tokens `start..end` matched a
/// phrase, which leads to the expansions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymMatch {
    /// First main-token index in the query.
    pub start: usize,
    /// One past the last main-token index.
    pub end: usize,
    /// The other phrases of its synonym group, or its Chinese renderings: token sequences.
    pub expansions: Vec<Vec<String>>,
}

impl QueryResources {
    /// Builds the resources from the text of a synonym table, a stop-word list and glossary
    /// additions (each on top of the built-in stop words and glossary).
    pub fn parse(
        analyzer: &Analyzer,
        synonyms: &str,
        stopwords: &str,
        glossary: &str,
    ) -> QueryResources {
        let mut res = QueryResources::default();
        let phrases = |text: &str| -> Vec<Vec<String>> {
            text.split([',', '，'])
                .map(|p| main_tokens(analyzer, p))
                .filter(|p| !p.is_empty())
                .collect()
        };
        // Taiwan words lead to the mainland ones, one way; first, so that a KB's own group
        // for the same word replaces the entry.
        // Lines `key[, key…] = target[, target…]`: each key leads to the targets, one way.
        let one_way = |table: &mut PhraseTable, lines: &mut dyn Iterator<Item = &str>| {
            for line in lines {
                let line = line.trim();
                if line.starts_with('#') {
                    continue;
                }
                let Some((from, to)) = line.split_once('=') else {
                    continue;
                };
                let (keys, targets) = (phrases(from), phrases(to));
                if !keys.is_empty() && !targets.is_empty() {
                    table.add(&keys, targets);
                }
            }
        };
        one_way(&mut res.synonyms, &mut BUILTIN_VARIANTS.lines());
        // The built-in groups, then the KB's: a KB's group for the same phrase replaces it.
        for line in BUILTIN_SYNONYMS.lines().chain(synonyms.lines()) {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let group = phrases(&line.replace('=', ","));
            if group.len() < 2 {
                continue;
            }
            res.synonyms.add(&group, group.clone());
        }
        one_way(
            &mut res.translations,
            &mut BUILTIN_GLOSSARY.lines().chain(glossary.lines()),
        );
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

    /// Loads `synonyms.txt`, `stopwords.txt` and `glossary.txt` from `dir` (missing files
    /// mean none).
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
            &read(GLOSSARY_FILE)?,
        ))
    }

    /// True when `token` is a stop word.
    pub fn is_stop(&self, token: &str) -> bool {
        self.stop.contains(token)
    }

    /// Finds synonym phrases in a query's main-token sequence, longest match first,
    /// non-overlapping.
    pub fn find_synonyms(&self, tokens: &[&str]) -> Vec<SynonymMatch> {
        self.synonyms.find(tokens)
    }

    /// Finds glossary phrases (English) in a query's main-token sequence, longest match
    /// first, non-overlapping; the expansions are their Chinese renderings.
    pub fn find_translations(&self, tokens: &[&str]) -> Vec<SynonymMatch> {
        self.translations.find(tokens)
    }

    /// Which of a glossary phrase's English words each word of one of its renderings stands
    /// for. A rendering word stands for the phrase words whose own glossary entry renders
    /// it (`磁盘` of `磁盘已满` for `disk`, as `disk = 磁盘` says), or whose rendering holds
    /// it (`满` in `已满`). The phrase words no rendering word claims are stood for by the
    /// rendering words no phrase word claims (`已满` for `full` when only `disk` is
    /// accounted for), or by every rendering word when each is claimed (`源站` for
    /// `origin server`, though `origin = 源站` claims it). A one-word phrase needs no
    /// alignment.
    pub fn align_rendering(&self, words: &[&str], rendering: &[String]) -> Vec<Vec<usize>> {
        let all: Vec<usize> = (0..words.len()).collect();
        if words.len() < 2 {
            return vec![all; rendering.len()];
        }
        // Each phrase word's own renderings, as one text each.
        let own: Vec<Vec<String>> = words
            .iter()
            .map(|w| {
                self.translations
                    .find(&[w])
                    .into_iter()
                    .flat_map(|m| m.expansions)
                    .map(|e| e.concat())
                    .collect()
            })
            .collect();
        let claimed: Vec<Vec<usize>> = rendering
            .iter()
            .map(|zh| {
                (0..words.len())
                    .filter(|&i| own[i].iter().any(|r| r == zh || r.contains(zh.as_str())))
                    .collect()
            })
            .collect();
        let left: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| !claimed.iter().any(|c| c.contains(i)))
            .collect();
        // Words left over go to the rendering words no phrase word claims, or, when every
        // one is claimed, to all of them: the rendering as a whole says them.
        let unclaimed = claimed.iter().any(Vec::is_empty);
        claimed
            .into_iter()
            .map(|mut c| {
                if c.is_empty() {
                    if left.is_empty() {
                        all.clone()
                    } else {
                        left.clone()
                    }
                } else {
                    if !unclaimed {
                        c.extend(&left);
                        c.sort_unstable();
                    }
                    c
                }
            })
            .collect()
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
    fn every_builtin_stop_word_is_one_word_as_a_ticket_is_cut() {
        // A line the analyzer cuts into two words (成日 → 成 日) would never match.
        let analyzer = Analyzer::new(&[]);
        let split: Vec<(&str, Vec<String>)> = BUILTIN_STOPWORDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| (l, main_tokens(&analyzer, l)))
            .filter(|(_, t)| t.len() != 1)
            .collect();
        assert!(split.is_empty(), "{split:?}");
        // Cantonese chatter is read as chatter; its negations are not.
        let none = QueryResources::parse(&analyzer, "", "", "");
        for w in ["佢", "哋", "嘅", "咗", "点样", "点算", "睇"] {
            assert!(none.is_stop(w), "{w}");
        }
        for w in ["唔", "冇"] {
            assert!(!none.is_stop(w), "{w}");
        }
    }

    #[test]
    fn every_kb_starts_with_the_builtin_stop_words_and_can_add_or_take_out() {
        let analyzer = Analyzer::new(&[]);
        let none = QueryResources::parse(&analyzer, "", "", "");
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
        let kb = QueryResources::parse(&analyzer, "", "# ours\n工单\n!急\n", "");
        assert!(kb.is_stop("工单"));
        assert!(!kb.is_stop("急"), "`!急` takes a built-in word out");
        assert!(none.is_stop("急"));
    }

    #[test]
    fn every_kb_gets_the_builtin_groups_and_its_own_group_replaces_one() {
        let analyzer = Analyzer::new(&[]);
        let expansions = |res: &QueryResources, text: &str| -> Vec<String> {
            let toks = main_tokens(&analyzer, text);
            let refs: Vec<&str> = toks.iter().map(String::as_str).collect();
            res.find_synonyms(&refs)
                .into_iter()
                .flat_map(|m| m.expansions)
                .map(|e| e.concat())
                .collect()
        };
        // A KB with no synonyms of its own: a price question also looks for the pricing page.
        let bare = QueryResources::parse(&analyzer, "", "", "");
        let found = expansions(&bare, "DTS如何收费");
        assert!(found.contains(&"定价".to_string()), "{found:?}");
        // A KB whose own group holds 收费 decides what it means there.
        let own = QueryResources::parse(&analyzer, "收费, 扣费\n", "", "");
        assert_eq!(expansions(&own, "DTS如何收费"), ["扣费"]);
        // The other phrases of the built-in group still lead to it.
        assert!(expansions(&own, "DTS的价格").contains(&"定价".to_string()));
    }

    #[test]
    fn english_words_lead_to_the_chinese_an_article_uses_and_not_back() {
        let analyzer = Analyzer::new(&[]);
        let res = QueryResources::parse(&analyzer, "", "", "cold storage = 冷存储\n");
        let toks = main_tokens(&analyzer, "unbind the elastic IP from the security groups");
        let refs: Vec<&str> = toks.iter().map(String::as_str).collect();
        let found = res.find_translations(&refs);
        let rendered: Vec<String> = found
            .iter()
            .map(|m| {
                format!(
                    "{}→{}",
                    refs[m.start..m.end].join(" "),
                    m.expansions[0].concat()
                )
            })
            .collect();
        // Stemmed English ("groups"), the longest phrase first ("elastic ip", not "ip").
        assert!(
            rendered.contains(&"secur group→安全组".to_string()),
            "{rendered:?}"
        );
        assert!(
            rendered.iter().any(|r| r.starts_with("elast ip→")),
            "{rendered:?}"
        );
        assert!(
            rendered.iter().any(|r| r.starts_with("unbind→")),
            "{rendered:?}"
        );
        // One way only: a Chinese ticket gains no English.
        let zh = main_tokens(&analyzer, "安全组规则");
        let zh: Vec<&str> = zh.iter().map(String::as_str).collect();
        assert!(res.find_translations(&zh).is_empty());
        // A KB's own glossary adds to the built-in one.
        let cold = main_tokens(&analyzer, "cold storage");
        let cold: Vec<&str> = cold.iter().map(String::as_str).collect();
        assert_eq!(
            res.find_translations(&cold)[0].expansions,
            vec![vec!["冷".to_string(), "存储".to_string()]]
        );
    }

    #[test]
    fn taiwan_words_lead_to_the_mainland_ones_and_a_kb_group_comes_first() {
        let analyzer = Analyzer::new(&[]);
        let expands = |res: &QueryResources, ticket: &str| -> Vec<String> {
            let toks = main_tokens(&analyzer, ticket);
            let words: Vec<&str> = toks.iter().map(String::as_str).collect();
            res.find_synonyms(&words)
                .iter()
                .flat_map(|m| m.expansions.iter().map(|e| e.concat()))
                .collect()
        };
        let none = QueryResources::parse(&analyzer, "", "", "");
        // Spelled with characters both scripts share, so normalisation leaves them.
        assert!(expands(&none, "伺服器 很慢").contains(&"服务器".to_string()));
        assert!(expands(&none, "TiDB 支援外來鍵嗎").contains(&"外键".to_string()));
        // One way: a mainland ticket gains no Taiwan word.
        assert!(expands(&none, "服务器 很慢").is_empty());
        // A KB's own group for the word replaces the built-in entry.
        let kb = QueryResources::parse(&analyzer, "伺服器, 服务器, 主机, server\n", "", "");
        let e = expands(&kb, "伺服器 很慢");
        assert!(e.contains(&"主机".to_string()), "{e:?}");
    }

    #[test]
    fn a_rendering_word_stands_for_the_english_word_it_translates() {
        let analyzer = Analyzer::new(&[]);
        let res = QueryResources::parse(&analyzer, "", "", "");
        let stands = |en: &str| -> Vec<String> {
            let toks = main_tokens(&analyzer, en);
            let words: Vec<&str> = toks.iter().map(String::as_str).collect();
            let m = &res.find_translations(&words)[0];
            assert_eq!((m.start, m.end), (0, words.len()), "{en} is one phrase");
            m.expansions
                .iter()
                .flat_map(|exp| {
                    let aligned = res.align_rendering(&words, exp);
                    exp.iter()
                        .zip(aligned)
                        .map(|(zh, a)| {
                            let en: Vec<&str> = a.iter().map(|&i| words[i]).collect();
                            format!("{zh}←{}", en.join(" "))
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        // `disk = 磁盘` and `full = 已满` split `disk full = 磁盘满, 磁盘已满`: a title that
        // says some other thing is full (连接数已满) holds nothing of the disk.
        assert_eq!(
            stands("disk full"),
            ["磁盘←disk", "满←full", "磁盘←disk", "已满←full"]
        );
        // A phrase word no rendering word translates alone is said by the whole rendering.
        assert_eq!(stands("origin server"), ["源站←origin server"]);
        // A rendering no word's own entry explains stands for the whole phrase.
        let own = QueryResources::parse(&analyzer, "", "", "blue screen = 蓝屏\n");
        let toks = main_tokens(&analyzer, "blue screen");
        let words: Vec<&str> = toks.iter().map(String::as_str).collect();
        assert_eq!(
            own.align_rendering(&words, &["蓝屏".to_string()]),
            vec![vec![0, 1]]
        );
        // One English word: its renderings all stand for it.
        assert_eq!(
            res.align_rendering(&["disk"], &["云".to_string(), "盘".to_string()]),
            vec![vec![0], vec![0]]
        );
    }

    #[test]
    fn the_builtin_glossary_is_well_formed() {
        let analyzer = Analyzer::new(&[]);
        let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
        let mut entries = 0;
        for (n, line) in BUILTIN_GLOSSARY.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (en, zh) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("glossary.txt:{}: no `=`", n + 1));
            entries += 1;
            assert!(
                zh.chars().any(crate::analysis::normalize::is_han),
                "glossary.txt:{}: no Chinese rendering",
                n + 1
            );
            assert!(
                !en.chars().any(crate::analysis::normalize::is_han),
                "glossary.txt:{}: Chinese on the English side",
                n + 1
            );
            for phrase in en.split(',') {
                let key = main_tokens(&analyzer, phrase);
                assert!(!key.is_empty(), "glossary.txt:{}: empty phrase", n + 1);
                if let Some(prev) = seen.insert(key.clone(), n + 1) {
                    panic!(
                        "glossary.txt:{}: `{}` is on line {prev} too",
                        n + 1,
                        phrase.trim()
                    );
                }
            }
        }
        assert!(entries >= 300, "{entries} entries");
    }

    #[test]
    fn a_glossary_line_the_engine_would_ignore_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(ANALYSIS_DIR)).unwrap();
        std::fs::write(
            dir.path().join(ANALYSIS_DIR).join(GLOSSARY_FILE),
            "# ours\ncold storage = 冷存储\nwarm storage 温存储\n = 空\n冷存储 = cold\n",
        )
        .unwrap();
        let mut w = Vec::new();
        lint_glossary(dir.path(), &mut w);
        let lines: Vec<&str> = w
            .iter()
            .map(|w| w.location.rsplit(':').next().unwrap())
            .collect();
        assert_eq!(lines, ["3", "4", "5"], "{w:?}");
        assert!(w[0].message.contains("no `=`"));
    }
}
