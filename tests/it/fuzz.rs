//! Property tests (proptest stands in for cargo-fuzz, which needs nightly): arbitrary
//! Markdown with front matter, arbitrary text through the analyzer, and arbitrary tickets
//! through query building and search must never panic, and must keep their invariants
//! (token offsets on char boundaries inside the text, snippets that are escaped HTML).
//! Inputs that once broke something are kept below as fixed regression cases.

use deflect::analysis::Analyzer;
use deflect::ingest::{parse_article, Limits};
use deflect::search::{search, SearchRequest};
use proptest::prelude::*;

use super::common::bundled;

fn analyzer() -> &'static Analyzer {
    static A: std::sync::LazyLock<Analyzer> = std::sync::LazyLock::new(|| Analyzer::new(&[]));
    &A
}

/// Text mixing the scripts and shapes support tickets contain.
fn ticket_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9_.:/-]{1,20}",
        "[安全组规则实例无法连接服务器磁盘扩容欠费停机證書過期網路連線]{1,8}",
        "[ＡＢＣ０１２３４５６７８９　，。！？（）]{1,5}",
        "[\\x00-\\x1f\\x7f]{1,3}",
        "[😀🔥👍🎉]{1,3}",
        "[<>&\"'{}#*`|\\[\\]()!]{1,6}",
        "(ERROR [0-9]{4} \\(HY000\\)|0x[0-9A-F]{8}|ORA-[0-9]{5}|HTTP [45][0-9]{2})",
        " {1,3}|\n{1,2}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn markdown() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "#{1,6} [^\n]{0,30}",
        "[-*+] [^\n]{0,30}",
        "[0-9]{1,2}\\. [^\n]{0,30}",
        ">{1,20} [^\n]{0,20}",
        "\\|[^\n|]{0,10}\\|[^\n|]{0,10}\\|?",
        "```[a-z]{0,5}",
        "<[a-z]{1,6}( [a-z]+=\"[^\"]{0,10}\")?>[^\n]{0,20}",
        "[^\n]{0,60}",
        "\\{#[a-z0-9_]{0,10}( \\.[a-z]+)?\\}",
        // Docs-site markup: admonitions, MyST fences, MDX, Liquid, components.
        ":{3,4} ?[a-z]{0,6}( [^\n]{0,10})?",
        "(!!!|\\?\\?\\?\\+?) [a-z]{1,6}( \"[^\"\n]{0,8}\")?",
        " {4}[^\n]{0,20}",
        "(```|~~~|````)\\{(note|toctree|tab-item|code-block|[a-z-]{1,8})\\}[^\n]{0,10}",
        ":[a-z]{1,6}: ?[^\n]{0,8}",
        "(import|export) [A-Za-z{}*, ]{0,12}( from)? ?['\"]?[a-z/@.]{0,10}['\"]?;?",
        "\\{% [^\n]{0,10} %\\}|\\{/\\* [^\n]{0,10} \\*/\\}|\\[\\[?(toc|TOC)\\]\\]?|> ?\\[!(NOTE|tip|X)\\]",
        "<[A-Z][a-z]{1,6} (label|title)=[\"'][^\"'\n]{0,10}[\"']>[^\n]{0,10}",
    ];
    let front = prop_oneof![
        Just(String::new()),
        Just("---\nid: x\ntags: [a, b]\n---\n".to_string()),
        "---\n[a-z_]{1,10}: [^\n]{0,30}\n---\n",
        "---\n[^\n]{0,40}\n",
        Just("---\na: &a [1,2]\nb: *a\n---\n".to_string()),
        "\\+\\+\\+\n[a-z_]{1,10} = [^\n]{0,30}\n\\+\\+\\+\n",
    ];
    (front, prop::collection::vec(line, 0..40))
        .prop_map(|(f, lines)| format!("{f}{}", lines.join("\n")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn analyzer_offsets_stay_inside_the_text(text in ticket_text()) {
        for t in analyzer().analyze(&text) {
            prop_assert!(t.from <= t.to && t.to <= text.len());
            prop_assert!(text.is_char_boundary(t.from) && text.is_char_boundary(t.to));
            prop_assert!(!t.text.is_empty() && t.text.len() <= 64 * 4);
        }
    }

    #[test]
    fn any_markdown_ingests_or_is_reported(md in markdown()) {
        match parse_article(md.as_bytes(), "fuzz/x.md", Limits::default()) {
            Ok((entries, _)) => {
                for e in entries {
                    prop_assert!(!e.id.is_empty());
                    prop_assert!(e.markdown.len() <= md.len() + 16);
                }
            }
            Err(p) => prop_assert!(!p.message.is_empty()),
        }
    }

    #[test]
    fn site_markup_stripping_keeps_every_line(md in markdown()) {
        if let Some(out) = deflect::ingest::markdown::strip_site_markup(&md) {
            prop_assert_eq!(out.matches('\n').count(), md.matches('\n').count(), "{:?} -> {:?}", md, out);
            prop_assert!(out.len() <= md.len());
        }
    }

    #[test]
    fn any_bytes_ingest_or_are_reported(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Err(p) = parse_article(&bytes, "fuzz/y.md", Limits::default()) {
            prop_assert!(!p.message.is_empty());
        }
    }

    #[test]
    fn any_ticket_searches_without_panic(q in ticket_text()) {
        let mut req = SearchRequest::new(q);
        req.explain = true;
        let r = search(bundled(), &req).unwrap();
        for h in r.hits {
            let plain = h.snippet.replace("<mark>", "").replace("</mark>", "");
            prop_assert!(!plain.contains('<') && !plain.contains('>'), "{}", h.snippet);
        }
    }
}

#[test]
fn kept_regression_inputs() {
    // Each once broke an assumption somewhere (see the commit that added it).
    let cases = [
        "浏览器出现“ERR_CERTIFICATE_TRANSPARENCY_REQUIRED”报错 安装云盾证书后谷歌浏览",
        "-bash: growpart: command not found",
        "怎么办",
        "\u{0}\u{1}ＥＲＲＯＲ　１０４０",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p",
        "😀😀😀 ssh 😀",
    ];
    for q in cases {
        let _ = analyzer().analyze(q);
        search(bundled(), &SearchRequest::new(q)).unwrap();
    }
}
