//! Analysis: turning text into terms, the same way for articles and tickets.
//!
//! - [`normalize`]: NFKC, lower-case, traditional → simplified, with an offset map.
//! - [`tokenizer`]: jieba segmentation with search-mode sub-words, Latin compounds, stemming;
//!   registered in Tantivy as [`TOKENIZER_NAME`].
//! - [`resources`]: the KB's user dictionary, synonyms and stop words.
//! - [`entities`]: error codes, IDs, IPs, regions, timestamps, order numbers; PII masking.
//! - [`lang`]: zh / zh-Hant / en detection.

pub mod entities;
pub mod lang;
pub mod normalize;
pub mod resources;
pub mod tokenizer;

pub use lang::Lang;
pub use resources::QueryResources;
#[cfg(test)]
use tokenizer::encode as encode_tokens;
pub use tokenizer::{AnalyzedToken, Analyzer, DeflectTokenizer, PreTokenizedTokenizer, UserWord};

/// The name the analyzer is registered under in every index.
pub const TOKENIZER_NAME: &str = "deflect";

/// The name [`PreTokenizedTokenizer`] is registered under: the body field, analysed before it
/// reaches the index writer.
pub const PRETOKENIZED_NAME: &str = "deflect-pre";

#[cfg(test)]
mod golden {
    //! Golden outputs on real Chinese, mixed and traditional text. A change here changes what
    //! every index contains: update deliberately, then reindex.
    use super::*;
    use std::sync::LazyLock;

    static ANALYZER: LazyLock<Analyzer> = LazyLock::new(|| {
        Analyzer::new(&[
            UserWord {
                word: "安全组".into(),
                freq: None,
            },
            UserWord {
                word: "安全组规则".into(),
                freq: None,
            },
            UserWord {
                word: "弹性公网".into(),
                freq: None,
            },
            UserWord {
                word: "连不上".into(),
                freq: None,
            },
        ])
    });

    fn main(text: &str) -> Vec<String> {
        ANALYZER
            .analyze(text)
            .into_iter()
            .filter(|t| !t.sub)
            .map(|t| t.text)
            .collect()
    }

    fn all(text: &str) -> Vec<String> {
        ANALYZER.analyze(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn chinese_ticket() {
        assert_eq!(
            main("ECS重启后ssh连不上"),
            ["ecs", "重启", "后", "ssh", "连不上"]
        );
    }

    #[test]
    fn search_mode_sub_words_share_the_position() {
        let toks = ANALYZER.analyze("安全组规则不生效");
        let words: Vec<_> = toks
            .iter()
            .map(|t| (t.text.as_str(), t.position, t.sub))
            .collect();
        assert!(words.contains(&("安全组规则", 0, false)), "{words:?}");
        assert!(words.contains(&("安全组", 0, true)), "{words:?}");
        assert!(words.contains(&("规则", 0, true)), "{words:?}");
        assert!(words.iter().any(|w| w.1 == 1 && !w.2), "{words:?}");
    }

    #[test]
    fn traditional_matches_simplified() {
        assert_eq!(main("伺服器連不上"), main("服务器连不上"));
        assert_eq!(main("雲端主機無法連線"), main("云端主机无法连接"));
    }

    #[test]
    fn full_width_is_half_width() {
        assert_eq!(main("ＥＣＳ　５０２"), ["ecs", "502"]);
    }

    #[test]
    fn codes_versions_and_numbers_kept_whole() {
        let t =
            all("InvalidInstanceId.NotFound 内核 2.6.32 TLSv1.2 ERR_CONNECTION_REFUSED ORA-12541");
        for want in [
            "invalidinstanceid.notfound",
            "2.6.32",
            "tlsv1.2",
            "err_connection_refused",
            "ora-12541",
        ] {
            assert!(t.contains(&want.to_string()), "missing {want} in {t:?}");
        }
        // Compound parts are searchable too, stemmed like any English word.
        for want in ["notfound", "connect", "refus", "ora"] {
            assert!(t.contains(&want.to_string()), "missing {want} in {t:?}");
        }
    }

    #[test]
    fn english_is_stemmed() {
        assert_eq!(
            main("Connection refused when connecting"),
            ["connect", "refus", "when", "connect"]
        );
    }

    #[test]
    fn offsets_point_at_the_original_text() {
        let text = "控制台显示ＥＣＳ实例已停止";
        for t in ANALYZER.analyze(text) {
            assert!(
                text.is_char_boundary(t.from) && text.is_char_boundary(t.to),
                "{t:?}"
            );
            assert!(!text[t.from..t.to].is_empty(), "{t:?}");
        }
        let ecs = ANALYZER
            .analyze(text)
            .into_iter()
            .find(|t| t.text == "ecs")
            .unwrap();
        assert_eq!(&text[ecs.from..ecs.to], "ＥＣＳ");
    }

    #[test]
    fn punctuation_and_emoji_make_no_tokens() {
        assert!(all("？！。，……😀🔥 ---").is_empty());
    }

    #[test]
    fn user_dictionary_keeps_terms_whole() {
        let t = main("绑定弹性公网IP后无法访问");
        assert!(
            t.contains(&"弹性公网".to_string()) && t.contains(&"ip".to_string()),
            "{t:?}"
        );
    }

    /// What tantivy indexes from `text` through `tokenizer`: (term, position) in order.
    fn indexed(
        tokenizer: &mut impl tantivy::tokenizer::Tokenizer,
        text: &str,
    ) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut stream = tokenizer.token_stream(text);
        while let Some(t) = tantivy::tokenizer::TokenStream::next(&mut stream) {
            out.push((t.text.clone(), t.position));
        }
        out
    }

    #[test]
    fn the_writer_indexes_exactly_what_the_analyzer_makes() {
        // The body reaches the index writer analysed by the build's workers: it must index
        // the very terms and positions that queries are analysed into.
        let texts = [
            "ECS重启后ssh连不上，安全组规则不生效",
            "伺服器連不上，雲端主機無法連線（已設定安全群組）",
            "ＥＣＳ　５０２ Bad Gateway：InvalidInstanceId.NotFound ERR_CONNECTION_REFUSED",
            "Connection refused when connecting to 47.96.1.2:22 (TLSv1.2, kernel 2.6.32)",
            "？！。，……😀🔥 ---",
            "",
            "绑定弹性公网IP后无法访问\n\n## 原因\n\n1. 实例未启动\n2. 端口 8080 未放行",
        ];
        let mut direct = DeflectTokenizer::new(std::sync::Arc::new(Analyzer::new(&[UserWord {
            word: "弹性公网".into(),
            freq: None,
        }])));
        let analyzer = Analyzer::new(&[UserWord {
            word: "弹性公网".into(),
            freq: None,
        }]);
        for text in texts {
            let mut encoded = String::new();
            analyzer.analyze_encoded(text, &mut encoded);
            let want = indexed(&mut direct, text);
            assert_eq!(
                indexed(&mut PreTokenizedTokenizer, &encoded),
                want,
                "{text}"
            );
            // The same form from already analysed tokens.
            let mut from_tokens = String::new();
            encode_tokens(&analyzer.analyze(text), &mut from_tokens);
            assert_eq!(from_tokens, encoded, "{text}");
        }
    }

    #[test]
    fn normalising_without_offsets_gives_the_same_text() {
        // A sample of every script and symbol block a KB holds, traditional Chinese included.
        let text =
            "Ｈｅｌｌｏ ＷＯＲＬＤ ①②③ ﬁle Ⅻ ㍱ 伺服器連線 ％　ÀÉÎ ΣΑΣ Привет ｶﾀｶﾅ 한국어 “引号”…—";
        let with = normalize::normalize(text).text;
        assert_eq!(normalize::normalize_with(text, false).text, with);
        // Chars outside the Han block are NFKC'd and lower-cased, the fast path included.
        let reference: String = {
            use unicode_normalization::UnicodeNormalization;
            "Ｈｅｌｌｏ ＷＯＲＬＤ ①②③ ﬁle Ⅻ ㍱"
                .chars()
                .flat_map(|c| std::iter::once(c).nfkc().collect::<Vec<_>>())
                .flat_map(char::to_lowercase)
                .collect()
        };
        assert!(with.starts_with(&reference), "{with} / {reference}");
        assert!(with.contains("服务器连接"), "{with}");
        assert!(
            with.contains("% ")
                && with.contains("àéî σασ привет カタカナ 한국어 \u{201c}引号\u{201d}...—"),
            "{with}"
        );
    }
}
