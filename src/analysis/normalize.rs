//! Text normalisation that keeps a map back to the original bytes.
//!
//! NFKC (full-width → half-width), lower-case and traditional → simplified Chinese change byte
//! lengths (`５` is 3 bytes, `5` is 1), so a token's offsets must be translated back to the
//! original text or snippets highlight the wrong characters. Every normalised char records the
//! original byte range it came from.

use std::sync::LazyLock;

use ferrous_opencc::{config::BuiltinConfig, OpenCC};
use unicode_normalization::UnicodeNormalization;

/// Normalised text plus, for every byte of it, the original byte offset it came from.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// The normalised text: NFKC, lower-case, simplified Chinese.
    pub text: String,
    /// `orig[i]` = original byte offset of the char that starts at normalised byte `i`;
    /// `orig[text.len()]` = the original text's length.
    orig: Vec<u32>,
    /// `orig_end[i]` = original byte offset just past the char that produced normalised byte `i`.
    orig_end: Vec<u32>,
}

impl Normalized {
    /// Original byte range of the normalised byte range `from..to` (both on char boundaries);
    /// `(0, 0)` when the text was normalised without offsets.
    pub fn original_range(&self, from: usize, to: usize) -> (usize, usize) {
        if self.orig.is_empty() {
            return (0, 0);
        }
        let start = self.orig[from] as usize;
        let end = if to == 0 {
            start
        } else {
            self.orig_end[to - 1] as usize
        };
        (start, end.max(start))
    }
}

/// True for chars jieba should segment: CJK unified ideographs and their extensions.
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Converter from traditional (Taiwan/Hong Kong phrasing included) to simplified Chinese.
static T2S: LazyLock<Option<OpenCC>> =
    LazyLock::new(|| OpenCC::from_config(BuiltinConfig::Tw2sp).ok());

/// Every Han char in the BMP that is a traditional form (plain T2s changes it). Text without
/// any of them is already simplified and skips the (comparatively slow) converter. The gate
/// uses plain T2s, not the Taiwan-phrase converter: that one also rewrites simplified chars
/// (么 → 幺), which must never happen to simplified text.
static TRAD_CHARS: LazyLock<Vec<bool>> = LazyLock::new(|| {
    let mut flags = vec![false; 0x10000];
    let Ok(cc) = OpenCC::from_config(BuiltinConfig::T2s) else {
        return flags;
    };
    // Converting the ideographs one per line keeps phrase rules from firing across them.
    let mut input = String::with_capacity(0x5200 * 4 * 2);
    for cp in 0x4E00u32..=0x9FFF {
        if let Some(c) = char::from_u32(cp) {
            input.push(c);
            input.push('\n');
        }
    }
    let out = cc.convert(&input);
    for (a, b) in input.split('\n').zip(out.split('\n')) {
        if a != b {
            if let Some(c) = a.chars().next() {
                flags[c as usize] = true;
            }
        }
    }
    flags
});

/// Forces the lazy traditional-Chinese tables to load now (start-up, not first query).
pub fn warm_up() {
    LazyLock::force(&TRAD_CHARS);
    LazyLock::force(&STABLE);
    LazyLock::force(&NFKC_STABLE);
}

/// True when the char is a traditional form the converter would change.
pub fn is_traditional(c: char) -> bool {
    let cp = c as u32;
    cp < 0x10000 && TRAD_CHARS[cp as usize]
}

/// BMP chars that NFKC and lower-casing leave as they are (CJK punctuation, most symbols
/// and letters of other scripts), so they skip the per-char decomposition.
static STABLE: LazyLock<Vec<bool>> = LazyLock::new(|| {
    (0u32..0x10000)
        .map(|cp| {
            char::from_u32(cp).is_some_and(|c| {
                let mut n = std::iter::once(c).nfkc();
                n.next() == Some(c) && n.next().is_none() && {
                    let mut l = c.to_lowercase();
                    l.next() == Some(c) && l.next().is_none()
                }
            })
        })
        .collect()
});

/// BMP chars NFKC leaves as they are wherever they stand: [`STABLE`] ones that are not
/// combining marks (a mark on its own is stable, but composes with the char before it).
static NFKC_STABLE: LazyLock<Vec<bool>> = LazyLock::new(|| {
    (0u32..0x10000)
        .map(|cp| {
            STABLE[cp as usize]
                && char::from_u32(cp)
                    .is_some_and(|c| unicode_normalization::char::canonical_combining_class(c) == 0)
        })
        .collect()
});

/// Normalises `input`: NFKC, lower-case, traditional → simplified, with an offset map.
pub fn normalize(input: &str) -> Normalized {
    normalize_with(input, true)
}

/// [`normalize`], keeping the offset map back to `input` only when `offsets` is true (the
/// index writer needs none: it takes positions, not offsets).
pub fn normalize_with(input: &str, offsets: bool) -> Normalized {
    let cap = if offsets { input.len() + 1 } else { 0 };
    let mut text = String::with_capacity(input.len());
    let mut orig = Vec::with_capacity(cap);
    let mut orig_end = Vec::with_capacity(cap);
    let mut has_trad = false;
    for (start, c) in input.char_indices() {
        let end = (start + c.len_utf8()) as u32;
        let start = start as u32;
        let mut push = |n: char, text: &mut String| {
            if offsets {
                for _ in 0..n.len_utf8() {
                    orig.push(start);
                    orig_end.push(end);
                }
            }
            text.push(n);
        };
        let cp = c as u32;
        if c.is_ascii() {
            push(c.to_ascii_lowercase(), &mut text);
        } else if (0x4E00..=0x9FFF).contains(&cp) {
            has_trad |= is_traditional(c);
            push(c, &mut text);
        } else if cp < 0x10000 && STABLE[cp as usize] {
            push(c, &mut text);
        } else {
            for n in std::iter::once(c).nfkc() {
                for l in n.to_lowercase() {
                    has_trad |= is_traditional(l);
                    push(l, &mut text);
                }
            }
        }
    }
    if offsets {
        orig.push(input.len() as u32);
        orig_end.push(input.len() as u32);
    }
    let mut norm = Normalized {
        text,
        orig,
        orig_end,
    };
    if has_trad {
        to_simplified(&mut norm);
    }
    norm
}

/// Rewrites traditional chars to simplified ones in place, keeping the offset map right.
///
/// Only the Han runs holding a traditional char go through the converter (its phrase rules
/// never cross a non-Han char): a simplified page with one 著 or 於 in it costs a few short
/// conversions, not one of the whole page, which profiled at 60% of analysis time.
fn to_simplified(norm: &mut Normalized) {
    let Some(cc) = T2S.as_ref() else { return };
    let offsets = !norm.orig.is_empty();
    let src = std::mem::take(&mut norm.text);
    let cap = if offsets { src.len() + 1 } else { 0 };
    let mut text = String::with_capacity(src.len());
    let mut orig = Vec::with_capacity(cap);
    let mut orig_end = Vec::with_capacity(cap);
    let copy = |from: usize,
                to: usize,
                text: &mut String,
                orig: &mut Vec<u32>,
                orig_end: &mut Vec<u32>| {
        text.push_str(&src[from..to]);
        if offsets {
            orig.extend_from_slice(&norm.orig[from..to]);
            orig_end.extend_from_slice(&norm.orig_end[from..to]);
        }
    };
    let mut done = 0;
    let mut chars = src.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_han(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        let mut trad = is_traditional(c);
        while let Some(&(i, n)) = chars.peek() {
            if !is_han(n) {
                break;
            }
            trad |= is_traditional(n);
            end = i + n.len_utf8();
            chars.next();
        }
        if !trad {
            continue;
        }
        copy(done, start, &mut text, &mut orig, &mut orig_end);
        let run = &src[start..end];
        let out = keep_simplified(run, cc.convert(run));
        if !offsets {
            text.push_str(&out);
        } else if out.chars().count() == run.chars().count() {
            // The common case: char for char. Map positionally.
            for ((i, _), n) in run.char_indices().zip(out.chars()) {
                for _ in 0..n.len_utf8() {
                    orig.push(norm.orig[start + i]);
                    orig_end.push(norm.orig_end[start + i]);
                }
                text.push(n);
            }
        } else {
            // A phrase rule changed the length: the run maps as one span (its tokens
            // highlight the whole run's original range).
            let (s, e) = (norm.orig[start], norm.orig_end[end - 1]);
            for n in out.chars() {
                for _ in 0..n.len_utf8() {
                    orig.push(s);
                    orig_end.push(e);
                }
                text.push(n);
            }
        }
        done = end;
    }
    copy(done, src.len(), &mut text, &mut orig, &mut orig_end);
    if offsets {
        orig.push(*norm.orig.last().unwrap_or(&0));
        orig_end.push(*norm.orig_end.last().unwrap_or(&0));
    }
    *norm = Normalized {
        text,
        orig,
        orig_end,
    };
}

/// Simplified chars the Taiwan-phrase converter rewrites into forms that are not simplified:
/// `抬` becomes `擡` (so `發票抬頭` would not find `发票抬头`) and `么` becomes `幺`. Checked over
/// every simplified char of the BMP in a traditional run; the others it changes (`矽` → `硅`,
/// `簷` → `檐`) are Taiwan forms it rightly simplifies.
const KEEP_AS_WRITTEN: [(char, char); 2] = [('抬', '擡'), ('么', '幺')];

/// `out`, the conversion of the traditional run `run`, with the chars of
/// [`KEEP_AS_WRITTEN`] put back where the converter rewrote them. A conversion that
/// changed the run's length (a phrase rule) is aligned by nothing and kept as it is, except
/// that `擡`, never a simplified form, becomes `抬`.
fn keep_simplified(run: &str, out: String) -> String {
    if !KEEP_AS_WRITTEN.iter().any(|(_, bad)| out.contains(*bad)) {
        return out;
    }
    if run.chars().count() != out.chars().count() {
        return out.replace('擡', "抬");
    }
    run.chars()
        .zip(out.chars())
        .map(
            |(r, o)| match KEEP_AS_WRITTEN.iter().find(|(k, _)| *k == r) {
                Some(&(k, bad)) if o == bad => k,
                _ => o,
            },
        )
        .collect()
}

/// NFKC of `text`, char by char: ASCII, the common ideographs and the other chars NFKC
/// leaves alone (CJK punctuation such as 。、“”) are copied as they are, so a Chinese page
/// costs a scan rather than a full normalisation (which was the largest single cost of
/// ingest). Not lower-cased or simplified.
pub fn nfkc(text: &str) -> std::borrow::Cow<'_, str> {
    let stable = |c: char| {
        let cp = c as u32;
        c.is_ascii()
            || (0x4E00..=0x9FFF).contains(&cp)
            || (cp < 0x10000 && NFKC_STABLE[cp as usize])
    };
    let Some(first) = text.find(|c: char| !stable(c)) else {
        return std::borrow::Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    // Runs of stable chars are copied whole.
    let mut run = 0;
    for (i, c) in text[first..].char_indices() {
        if stable(c) {
            continue;
        }
        out.push_str(&text[run..first + i]);
        run = first + i + c.len_utf8();
        for n in std::iter::once(c).nfkc() {
            // A combining mark composes with the char before it (and a half-width ﾟ becomes
            // one): such a text takes the whole-string path.
            if unicode_normalization::char::canonical_combining_class(n) != 0 {
                return std::borrow::Cow::Owned(text.nfkc().collect());
            }
            out.push(n);
        }
    }
    out.push_str(&text[run..]);
    std::borrow::Cow::Owned(out)
}

/// Normalises a short string (a code, a tag, a synonym) without keeping offsets.
pub fn normalize_str(input: &str) -> String {
    normalize(input).text
}

/// `name` (normalised) occurs in `text` (normalised) as a word: an ASCII name must not
/// continue an ASCII word on either side (`ram` is not in `param`).
pub fn mentions(text: &str, name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        let joins_before = name.starts_with(|c: char| c.is_ascii_alphanumeric()) && word(before);
        let joins_after = name.ends_with(|c: char| c.is_ascii_alphanumeric()) && word(after);
        !joins_before && !joins_after
    })
}

/// Collapses whitespace runs to one space and trims: the canonical form of an error code.
pub fn canonical_code(input: &str) -> String {
    normalize_str(input)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Simplified → traditional (Taiwan phrasing), for replies to traditional-Chinese tickets.
pub fn to_traditional(text: &str) -> String {
    static S2T: LazyLock<Option<OpenCC>> =
        LazyLock::new(|| OpenCC::from_config(BuiltinConfig::S2twp).ok());
    // Snippets of traditional-script hits convert each query term: the same few thousand
    // words, each costing a phrase-dictionary pass. They are remembered per thread (bounded).
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, String>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    const CACHE_WORDS: usize = 20_000;
    if let Some(hit) = CACHE.with(|c| c.borrow().get(text).cloned()) {
        return hit;
    }
    let out = match S2T.as_ref() {
        Some(cc) => cc.convert(text),
        None => text.to_string(),
    };
    if text.len() <= 64 {
        CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_WORDS {
                c.clear();
            }
            c.insert(text.to_string(), out.clone());
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_mentioned_as_a_word() {
        assert!(mentions("ecs 磁盘满了", "ecs"));
        assert!(mentions("我的ecs磁盘满了", "ecs"));
        assert!(mentions("云盘挂不上", "云盘"));
        assert!(mentions("ram子账号, ram 用户", "ram"));
        assert!(!mentions("调大 param 的值", "ram"));
        assert!(!mentions("ramdisk 满了", "ram"));
        assert!(!mentions("磁盘满了", ""));
    }

    #[test]
    fn full_width_and_case_fold_with_offsets() {
        let n = normalize("ＥＣＳ　５０２错误");
        assert_eq!(n.text, "ecs 502错误");
        // "502" in the normalised text maps back to "５０２" in the original.
        let from = n.text.find("502").unwrap();
        let (a, b) = n.original_range(from, from + 3);
        assert_eq!(&"ＥＣＳ　５０２错误"[a..b], "５０２");
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(normalize("伺服器連線失敗").text, "服务器连接失败");
        assert_eq!(normalize("無法登入").text, "无法登录");
        let n = normalize("雲端硬碟");
        assert!(!n.text.contains('雲'), "{}", n.text);
        // Simplified chars in a traditional run stay simplified.
        assert_eq!(normalize("發票抬頭要怎麼改").text, "发票抬头要怎么改");
        assert_eq!(normalize("這個報錯是什么意思").text, "这个报错是什么意思");
        assert_eq!(normalize("為什麼連不上").text, "为什么连不上");
        // A converter that changes the run's length still never leaves `擡`.
        assert_eq!(keep_simplified("擡頭看", "擡头看了".into()), "抬头看了");
    }

    #[test]
    fn simplified_text_is_untouched() {
        assert_eq!(normalize("怎么办").text, "怎么办");
        let s = "安全组规则不生效 实例无法连接";
        assert_eq!(normalize(s).text, s);
        assert!(!s.chars().any(is_traditional));
    }

    #[test]
    fn nfkc_char_by_char_matches_the_whole_string() {
        for t in [
            "ＥＲＲＯＲ １０４５，拒绝访问（ＡｃｃｅｓｓＤｅｎｉｅｄ）",
            "cafe\u{301} ①②",
            "纯中文",
            "ascii",
            "实例。“重启”、《说明》：无法连接！\u{3000}ｶﾀｶﾅ ﾊﾟｽ",
            "Ωμέγα Привет ａｂｃ 〜 ㈱ ㎏",
            "。\u{301}、\u{308}",
        ] {
            let whole: String = unicode_normalization::UnicodeNormalization::nfkc(t).collect();
            assert_eq!(super::nfkc(t), whole, "{t}");
        }
    }

    #[test]
    fn canonical_codes() {
        assert_eq!(canonical_code("ERROR  1105 (HY000)"), "error 1105 (hy000)");
        assert_eq!(
            canonical_code("InvalidInstanceId.NotFound"),
            "invalidinstanceid.notfound"
        );
    }
}
