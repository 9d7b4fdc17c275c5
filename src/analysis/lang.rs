//! Language and script detection for tickets: zh (simplified), zh-Hant (traditional), en.

use serde::{Deserialize, Serialize};

use super::normalize::{is_han, is_traditional};

/// A ticket's language and script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Lang {
    /// Simplified Chinese.
    #[serde(rename = "zh")]
    Zh,
    /// Traditional Chinese.
    #[serde(rename = "zh-Hant")]
    ZhHant,
    /// English (and other Latin-script text).
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The code used in APIs and front matter.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::ZhHant => "zh-Hant",
            Lang::En => "en",
        }
    }

    /// Parses `zh`, `zh-CN`, `zh-Hans`, `zh-Hant`, `zh-TW`, `zh-HK`, `en`, `en-US` ….
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh-hant") || s == "zh-tw" || s == "zh-hk" || s == "zh-mo" {
            Some(Lang::ZhHant)
        } else if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The index's language bucket (articles are `zh` or `en`).
    pub fn index_code(self) -> &'static str {
        match self {
            Lang::En => "en",
            _ => "zh",
        }
    }
}

/// Detects the language of `text`: Chinese when the customer wrote a few Han chars of their own
/// (pasted English errors and commands do not make a Chinese ticket English), or when Han
/// chars carry a fair share of the words; traditional when enough of them are traditional forms.
pub fn detect(text: &str) -> Lang {
    let (mut han, mut trad, mut latin_words) = (0usize, 0usize, 0usize);
    let mut in_word = false;
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            if is_traditional(c) {
                trad += 1;
            }
        }
        let latin = c.is_ascii_alphabetic();
        if latin && !in_word {
            latin_words += 1;
        }
        in_word = latin;
    }
    if han == 0 || (han < 3 && han * 2 < latin_words) {
        return Lang::En;
    }
    if trad * 10 >= han.max(1) && trad >= 2 || trad >= 1 && han <= 6 {
        Lang::ZhHant
    } else {
        Lang::Zh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_scripts() {
        assert_eq!(detect("ECS 重启后 ssh 连不上"), Lang::Zh);
        assert_eq!(detect("伺服器重新開機後無法連線"), Lang::ZhHant);
        assert_eq!(detect("My instance is unreachable after reboot"), Lang::En);
        assert_eq!(detect("nginx 一直报 502 Bad Gateway，怎么处理"), Lang::Zh);
        assert_eq!(detect(""), Lang::En);
        // A Chinese customer pasting an English error still writes Chinese.
        assert_eq!(detect("ssh 登录报 Permission denied (publickey)"), Lang::Zh);
        assert_eq!(detect("服务器报错：Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"), Lang::Zh);
        // An English ticket naming a region in Chinese stays English.
        assert_eq!(
            detect("My instance in 华东1 is unreachable after the reboot this morning"),
            Lang::En
        );
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Lang::parse("zh-TW"), Some(Lang::ZhHant));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en-US"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
