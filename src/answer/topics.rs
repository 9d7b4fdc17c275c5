//! Routing words: what a hand-off is classified by when neither its fixes nor the products
//! it names say. A ticket the KB does not answer still says what it is about: `续费价格`,
//! `退款`, `发票` are billing, `服务器` and `实例` compute. Without this such a ticket went to
//! the default team, and a human had to pass it on.
//!
//! The words are built in ([`BUILTIN_TOPICS`], for the categories of the bundled KB) and a KB
//! adds to them in `_analysis/topics.txt`; see the built-in file for the format.

use std::path::Path;

use crate::analysis::normalize::normalize_str;
use crate::analysis::resources::{main_tokens, ResourceWarning, ANALYSIS_DIR};
use crate::analysis::{AnalyzedToken, Analyzer};

/// A KB's routing words, in its analysis folder.
pub const TOPICS_FILE: &str = "topics.txt";

/// The built-in routing words.
pub const BUILTIN_TOPICS: &str = include_str!("topics.txt");

/// Categories and the words that name them, each as its analysed tokens.
#[derive(Debug, Clone, Default)]
pub struct Topics {
    categories: Vec<(String, Vec<Word>)>,
}

/// A routing word: as written (normalised) and as the analyzer cuts it.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    tokens: Vec<String>,
}

/// One line of a topics file: its category and words (`!word` takes one out), or why the
/// line is ignored.
fn parse_line(line: &str) -> Option<Result<(String, Vec<&str>), &'static str>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let Some((category, words)) = line.split_once([':', '：']) else {
        return Some(Err("no `:` after the category: the line is ignored"));
    };
    let category = category.trim().to_lowercase();
    if category.is_empty() || category.contains(char::is_whitespace) {
        return Some(Err("the category must be one word: the line is ignored"));
    }
    let words: Vec<&str> = words
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Some(Err("no words after the category: the line is ignored"));
    }
    Some(Ok((category, words)))
}

impl Topics {
    /// The built-in words with a KB's `additions` (the text of its topics file), cut into
    /// words by `analyzer` as tickets are.
    pub fn parse(analyzer: &Analyzer, additions: &str) -> Topics {
        let mut t = Topics::default();
        for line in BUILTIN_TOPICS.lines().chain(additions.lines()) {
            let Some(Ok((category, words))) = parse_line(line) else {
                continue;
            };
            let i = match t.categories.iter().position(|(c, _)| *c == category) {
                Some(i) => i,
                None => {
                    t.categories.push((category, Vec::new()));
                    t.categories.len() - 1
                }
            };
            let list = &mut t.categories[i].1;
            for w in words {
                match w.strip_prefix('!') {
                    Some(out) => {
                        let out = normalize_str(out.trim());
                        list.retain(|x| x.text != out);
                    }
                    None => {
                        let text = normalize_str(w);
                        let tokens = main_tokens(analyzer, &text);
                        if !tokens.is_empty() && list.iter().all(|x| x.text != text) {
                            list.push(Word { text, tokens });
                        }
                    }
                }
            }
        }
        t
    }

    /// Loads the topics file of an analysis folder on top of the built-in words (a missing
    /// or unreadable file adds nothing: the built-in words still route).
    pub fn load(analyzer: &Analyzer, dir: &Path) -> Topics {
        Topics::parse(
            analyzer,
            &std::fs::read_to_string(dir.join(TOPICS_FILE)).unwrap_or_default(),
        )
    }

    /// The category, of those `known`, whose words a ticket (its analysed tokens) holds
    /// most, with the words held; `None` when it holds none, or as many of two categories'. A one-token word
    /// may be a sub-word (`续费` of `自动续费`), a longer one is a run of whole words; never a
    /// part of a token (`param` is no `ram`).
    pub fn classify<'a>(
        &'a self,
        tokens: &[AnalyzedToken],
        known: impl Fn(&str) -> bool,
    ) -> Option<(&'a str, Vec<&'a str>)> {
        let main: Vec<&str> = tokens
            .iter()
            .filter(|t| !t.sub)
            .map(|t| t.text.as_str())
            .collect();
        let holds = |w: &Word| match w.tokens.as_slice() {
            [one] => tokens.iter().any(|t| t.text == *one),
            many => main.windows(many.len()).any(|win| win == many),
        };
        let mut best: Option<(&str, Vec<&str>)> = None;
        let mut tied = false;
        for (category, words) in self.categories.iter().filter(|(c, _)| known(c)) {
            let found: Vec<&str> = words
                .iter()
                .filter(|w| holds(w))
                .map(|w| w.text.as_str())
                .collect();
            let n = found.len();
            match &best {
                _ if n == 0 => {}
                Some((_, b)) if n < b.len() => {}
                Some((_, b)) if n == b.len() => tied = true,
                _ => {
                    best = Some((category, found));
                    tied = false;
                }
            }
        }
        best.filter(|_| !tied)
    }
}

/// Checks a KB's topics file: a line routing would ignore is a warning naming it.
pub fn lint(kb: &Path, warnings: &mut Vec<ResourceWarning>) {
    let path = kb.join(ANALYSIS_DIR).join(TOPICS_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    for (n, line) in text.lines().enumerate() {
        if let Some(Err(message)) = parse_line(line) {
            warnings.push(ResourceWarning {
                location: format!("{}:{}", path.display(), n + 1),
                message: message.to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> &'static Analyzer {
        static A: std::sync::LazyLock<Analyzer> = std::sync::LazyLock::new(|| Analyzer::new(&[]));
        &A
    }

    fn route(t: &Topics, ticket: &str) -> Option<String> {
        t.classify(&analyzer().analyze(ticket), |_| true)
            .map(|(c, _)| c.to_string())
    }

    #[test]
    fn a_ticket_goes_to_the_category_whose_words_it_uses_most() {
        let t = Topics::parse(analyzer(), "");
        for (ticket, want) in [
            (
                "找一下客户经理，明年续费价格想谈一下，公司有 200 多台机器",
                Some("billing"),
            ),
            ("服务器因为欠费被停了，可我开了自动续费", Some("billing")),
            (
                "I need to speak with a real person about my refund",
                Some("billing"),
            ),
            (
                "Can we get an invoice for last month's payments?",
                Some("billing"),
            ),
            (
                "整个华东1的实例都连不上了，20 多台机器同时失联",
                Some("compute"),
            ),
            (
                "Our spot instances got reclaimed twice this week",
                Some("compute"),
            ),
            // Traditional Chinese normalises to the simplified words.
            (
                "請問帳單的問題可以找專人嗎，發票也還沒收到",
                Some("billing"),
            ),
            ("伺服器每到下午就卡到不行", Some("compute")),
            ("資料庫最近變得很慢", Some("database")),
            // Name resolution and ICP filing are the network team's, as kb/ files them.
            ("雲解析加了一條記錄，過了兩小時還沒生效", Some("network")),
            ("网站备案被驳回了，名称怎么填", Some("network")),
            // A word inside another word is not that word.
            ("the param file is wrong", None),
            // A part jieba cuts from a longer word counts (`续费` of `自动续费`).
            ("自动续费怎么关", Some("billing")),
            ("转人工，谢谢", None),
            // As many words of two categories: neither.
            ("服务器的带宽跑满了", None),
        ] {
            assert_eq!(route(&t, ticket).as_deref(), want, "{ticket}");
        }
    }

    #[test]
    fn a_kb_adds_words_takes_them_out_and_adds_categories() {
        let t = Topics::parse(
            analyzer(),
            "container: kubernetes, k8s, pod, 容器\ncompute: !机器\nbilling：增值稅專票\n",
        );
        assert_eq!(
            route(&t, "ACK 里的 pod 一直 CrashLoopBackOff").as_deref(),
            Some("container")
        );
        assert_eq!(route(&t, "20 多台机器同时失联"), None, "机器 was taken out");
        // Only the categories the desk has take part: with compute unknown, billing wins.
        let ticket = analyzer().analyze("服务器的退款什么时候到");
        assert_eq!(t.classify(&ticket, |_| true).map(|(c, _)| c), None);
        let known = t.classify(&ticket, |c| c != "compute");
        assert_eq!(known.map(|(c, _)| c), Some("billing"));
        let (c, words) = t
            .classify(&analyzer().analyze("增值税专票的发票怎么开"), |_| true)
            .unwrap();
        assert_eq!(c, "billing");
        assert!(words.contains(&"增值税专票"), "{words:?}");
    }

    #[test]
    fn the_builtin_words_parse_and_lines_routing_ignores_are_reported() {
        for line in BUILTIN_TOPICS.lines() {
            assert!(!matches!(parse_line(line), Some(Err(_))), "{line}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(ANALYSIS_DIR)).unwrap();
        std::fs::write(
            dir.path().join(ANALYSIS_DIR).join(TOPICS_FILE),
            "# routing\nbilling: 开票\nbilling 开票\nhigh priority: 紧急\ncdn:\n",
        )
        .unwrap();
        let mut w = Vec::new();
        lint(dir.path(), &mut w);
        let lines: Vec<&str> = w
            .iter()
            .map(|w| w.location.rsplit(':').next().unwrap())
            .collect();
        assert_eq!(lines, ["3", "4", "5"], "{w:?}");
    }
}
