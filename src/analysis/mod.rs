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
pub use tokenizer::{AnalyzedToken, Analyzer, DeflectTokenizer, UserWord};

/// The name the analyzer is registered under in every index.
pub const TOKENIZER_NAME: &str = "deflect";

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
}
