//! Engine behaviour on the bundled KB: what a ticket finds, filters and facets, snippets,
//! explain, and reindex safety (a failed build leaves the serving index untouched).

use std::fs;

use deflect::index::{self, BuildOptions, IndexError};
use deflect::ingest::Severity;
use deflect::search::{self, Filters, SearchRequest};

use super::common::{built, bundled, copy_dir, kb_dir, kb_of, quoted_message_kb, temp_kb};

fn top_ids(q: &str, n: usize) -> Vec<String> {
    let mut req = SearchRequest::new(q);
    req.limit = n;
    search::search(bundled(), &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[test]
fn chinese_ticket_finds_the_fix() {
    let ids = top_ids(
        "你好，ECS 重启后 ssh 一直连不上，提示 Connection refused，麻烦看下",
        3,
    );
    assert!(
        ids.contains(&"ecs-ssh-connection-refused".to_string()),
        "{ids:?}"
    );
}

#[test]
fn traditional_chinese_ticket_finds_the_simplified_article() {
    let ids = top_ids("雲端伺服器 SSH 連線被拒絕，顯示 Connection refused", 3);
    assert!(
        ids.contains(&"ecs-ssh-connection-refused".to_string()),
        "{ids:?}"
    );
}

#[test]
fn pasted_error_code_matches_exactly() {
    let mut req = SearchRequest::new("ERROR 1040 (HY000): Too many connections");
    req.limit = 3;
    let r = search::search(bundled(), &req).unwrap();
    assert!(
        r.hits[0].id.starts_with("db-") && r.hits[0].id.contains("too-many-connections"),
        "{:?}",
        r.hits[0].id
    );
    assert!(
        !r.hits[0].matched_codes.is_empty(),
        "code should match exactly: {:?}",
        r.codes
    );
}

#[test]
fn query_about_nothing_in_the_kb_finds_nothing() {
    let r = search::search(bundled(), &SearchRequest::new("长颈鹿 企鹅 袋鼠")).unwrap();
    assert_eq!(
        r.total,
        0,
        "{:?}",
        r.hits.iter().map(|h| &h.id).collect::<Vec<_>>()
    );
}

#[test]
fn only_stop_words_or_punctuation_search_nothing() {
    for q in [
        "你好，请问，谢谢！",
        "？？？！！！",
        "😀🔥👍",
        "\u{0007}\u{0008}",
    ] {
        let r = search::search(bundled(), &SearchRequest::new(q)).unwrap();
        assert!(r.hits.is_empty(), "{q:?} → {:?}", r.terms);
    }
}

#[test]
fn filters_and_facets() {
    let mut req = SearchRequest::new("连接失败");
    req.limit = 20;
    req.facets = true;
    let all = search::search(bundled(), &req).unwrap();
    let cats = &all.facets["category"];
    assert!(cats.len() >= 3, "{cats:?}");
    req.filters = Filters {
        category: Some("database".into()),
        ..Default::default()
    };
    let db = search::search(bundled(), &req).unwrap();
    assert!(!db.hits.is_empty());
    assert!(db
        .hits
        .iter()
        .all(|h| h.category.as_deref() == Some("database")));
    assert_eq!(db.total, cats["database"]);
    req.filters = Filters {
        lang: Some("en".into()),
        ..Default::default()
    };
    assert!(search::search(bundled(), &req)
        .unwrap()
        .hits
        .iter()
        .all(|h| h.lang == "en"));
}

/// A KB organised by folders, without product front matter: the area filter and facet read
/// the top-level folder, and a declared product wins over the folder.
#[test]
fn area_is_the_product_else_the_top_level_folder() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    let write = |rel: &str, text: &str| {
        let p = kb.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    write(
        "ecs/常见问题/启动.md",
        "# 实例无法启动怎么办\n\n检查实例的系统盘是否已满。\n",
    );
    write(
        "ecs/网络/安全组.md",
        "# 实例无法远程连接\n\n检查实例安全组是否放行端口。\n",
    );
    write(
        "RDS/连接.md",
        "# 数据库实例无法连接\n\n检查实例的白名单。\n",
    );
    write(
        "OSS/镜像.md",
        "---\nproduct: ECS\n---\n# 实例镜像导出到存储\n\n导出实例镜像。\n",
    );
    write("总览.md", "# 实例总览\n\n所有实例的说明。\n");
    let index_dir = dir.path().join("index");
    index::build(&kb, &index_dir, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&index_dir, None).unwrap();

    let mut req = SearchRequest::new("实例");
    req.limit = 20;
    req.facets = true;
    let all = search::search(&loaded, &req).unwrap();
    assert_eq!(all.total, 5);
    let areas = &all.facets["area"];
    // Folder names are lower-cased; the declared product (ECS) wins over the folder (OSS);
    // the file at the root has no area.
    assert_eq!(areas.get("ecs"), Some(&3), "{areas:?}");
    assert_eq!(areas.get("rds"), Some(&1), "{areas:?}");
    assert_eq!(areas.len(), 2, "{areas:?}");
    let area_of = |path: &str| {
        all.hits
            .iter()
            .find(|h| h.path == path)
            .and_then(|h| h.area.clone())
    };
    assert_eq!(area_of("RDS/连接.md").as_deref(), Some("rds"));
    assert_eq!(area_of("OSS/镜像.md").as_deref(), Some("ecs"));
    assert_eq!(area_of("总览.md"), None);

    // The filter is case-insensitive, and it finds folder-only entries and declared ones.
    req.facets = false;
    req.filters = Filters {
        area: Some(" ECS ".into()),
        ..Default::default()
    };
    let mut paths: Vec<String> = search::search(&loaded, &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["OSS/镜像.md", "ecs/常见问题/启动.md", "ecs/网络/安全组.md"]
    );
    // The product filter still reads only what front matter declares.
    req.filters = Filters {
        product: Some("ECS".into()),
        ..Default::default()
    };
    let declared: Vec<String> = search::search(&loaded, &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect();
    assert_eq!(declared, ["OSS/镜像.md"]);
}

#[test]
fn keywords_are_searched_with_title_weight_and_url_aliases_only_by_their_slug() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    // A documentation site's front matter: `keyword` as a string, `aliases` as redirects.
    fs::write(
        kb.join("nat.md"),
        "---\ntitle: 创建增强型网关\nkeyword: 网络地址转换，公网出口\naliases: ['/docs/dev/reference/snat-entry/']\n---\n# 创建增强型网关\n\n在控制台选择地域后创建。\n",
    )
    .unwrap();
    // Its body mentions the keyword in passing; the keyword page must come first.
    fs::write(
        kb.join("eip.md"),
        "# 绑定弹性公网IP\n\n绑定后，公网出口流量经过此地址，与网络地址转换无关的说明见其他文档。\n",
    )
    .unwrap();
    fs::write(
        kb.join("reference.md"),
        "# API reference 参数参考\n\n所有 API 参数的说明。\n",
    )
    .unwrap();
    let index_dir = dir.path().join("index");
    index::build(&kb, &index_dir, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&index_dir, None).unwrap();
    let ids = |q: &str| -> Vec<String> {
        search::search(&loaded, &SearchRequest::new(q))
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    assert_eq!(
        ids("网络地址转换 公网出口").first().map(String::as_str),
        Some("nat")
    );
    // The redirect's last segment is searchable; its folders are not.
    assert_eq!(ids("snat entry"), ["nat"]);
    assert!(
        !ids("docs dev").contains(&"nat".to_string()),
        "{:?}",
        ids("docs dev")
    );
    assert_eq!(ids("reference"), ["reference"]);
}

#[test]
fn an_english_ticket_finds_the_chinese_article_through_the_glossary() {
    // A Chinese KB whose English words are an API page's identifiers and property notes:
    // matched word for word, an English ticket would find that page and nothing else.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    fs::write(
        kb.join("eip-bandwidth.md"),
        "# 修改弹性公网IP的带宽峰值\n\n按流量计费的弹性公网IP可以随时提高或降低带宽峰值，无需解绑，修改后立即生效。\n",
    )
    .unwrap();
    fs::write(
        kb.join("eip-release.md"),
        "# 释放弹性公网IP\n\n先解绑，再在列表中释放。\n",
    )
    .unwrap();
    fs::write(
        kb.join("ros-eip.md"),
        "# ALIYUN::VPC::EIP\n\n| 属性 | 说明 |\n|---|---|\n| Bandwidth | The bandwidth of the EIP in Mbps. |\n| InstanceId | The instance to bind. |\n",
    )
    .unwrap();
    // A word the KB keeps in English (a database's `Region`) beside a rarer rendering.
    for (name, text) in [
        (
            "region-split",
            "# Region 分裂\n\nRegion 默认 96 MiB，超过后会分裂成两个 Region。\n",
        ),
        (
            "region-leader",
            "# Region leader 迁移\n\n每个 Region 有三个副本，其中一个是 leader。\n",
        ),
        (
            "region-merge",
            "# Region 合并\n\n空 Region 过多时开启合并。\n",
        ),
        ("region-list", "# 地域列表\n\n可用的地域有华东1和华北2。\n"),
    ] {
        fs::write(kb.join(format!("{name}.md")), text).unwrap();
    }
    let index_dir = dir.path().join("index");
    index::build(&kb, &index_dir, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&index_dir, None).unwrap();
    let run = |q: &str| {
        let mut req = SearchRequest::new(q);
        req.explain = true;
        search::search(&loaded, &req).unwrap()
    };

    let r =
        run("Can I raise the bandwidth of my elastic IP without unbinding it from the instance?");
    let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids.first(), Some(&"eip-bandwidth"), "{ids:?}");
    assert!(r.terms.iter().any(|t| t == "带宽"), "{:?}", r.terms);
    // The explanation names the rendering and the English it stands for.
    let why: Vec<&str> = r.hits[0]
        .explain
        .iter()
        .flatten()
        .map(|c| c.clause.as_str())
        .collect();
    assert!(
        why.iter()
            .any(|c| c.starts_with("translation(") && c.ends_with("←bandwidth")),
        "{why:?}"
    );

    // A Chinese ticket's English word used alone in its prose is vocabulary: searched in
    // the KB's Chinese too.
    let r = run("按流量计费的 bandwidth 怎么改");
    assert!(r.terms.iter().any(|t| t == "带宽"), "{:?}", r.terms);
    assert_eq!(r.hits[0].id, "eip-bandwidth");
    // A run of English words is a name or a pasted message, and an identifier is a name:
    // matched as written.
    for q in [
        "属性里的 The bandwidth of the EIP 填多少",
        "参数 max_bandwidth 怎么填",
    ] {
        let r = run(q);
        assert!(!r.terms.iter().any(|t| t == "带宽"), "{q}: {:?}", r.terms);
    }
    // So is a word the KB itself mostly writes in English.
    let r = run("region 多大会分裂");
    assert!(!r.terms.iter().any(|t| t == "地域"), "{:?}", r.terms);
    assert_eq!(r.hits[0].id, "region-split");
}

#[test]
fn docs_site_pages_are_indexed_as_their_readers_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(kb.join("ops")).unwrap();
    // A Docusaurus page: MDX imports, JSX tabs, an admonition with a title.
    fs::write(
        kb.join("ops/disk-full.mdx"),
        "---\ntitle: 磁盘空间不足的处理\n---\nimport Tabs from '@theme/Tabs';\nimport TabItem from '@theme/TabItem';\n\n:::tip 先定位分区\n用 df 查看哪个挂载点满了。\n:::\n\n## 清理日志 {#clean}\n\n<Tabs>\n<TabItem value=\"linux\">\n\n删除 /var/log 下的旧归档。\n\n</TabItem>\n</Tabs>\n",
    )
    .unwrap();
    // An MkDocs page: a warning box whose body is indented under its marker.
    fs::write(
        kb.join("ops/inode.markdown"),
        "# inode 耗尽\n\n!!! warning \"删除前确认\"\n    小文件过多会耗尽 inode，先找出占用最多的目录。\n",
    )
    .unwrap();
    // A Hugo page with TOML front matter.
    fs::write(
        kb.join("ops/resize.md"),
        "+++\ntitle = \"云盘扩容后分区没有变大\"\ntags = [\"ecs\"]\ndate = 2024-05-01\n+++\n\n扩容云盘以后需要用 growpart 扩展分区。\n",
    )
    .unwrap();
    fs::write(kb.join("README.mdx"), "# 编辑指南\n\n本目录的写作规范。\n").unwrap();
    let index_dir = dir.path().join("index");
    let summary = index::build(&kb, &index_dir, &BuildOptions::default(), |_| {}).unwrap();
    assert_eq!(summary.files, 3, "README.mdx is not an article");
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
    let loaded = index::open(&index_dir, None).unwrap();
    let search = |q: &str| {
        search::search(&loaded, &SearchRequest::new(q))
            .unwrap()
            .hits
    };
    let hits = search("哪个挂载点满了");
    assert_eq!(hits.first().map(|h| h.id.as_str()), Some("ops/disk-full"));
    assert!(
        !hits[0].snippet.contains(":::") && !hits[0].snippet.contains("import"),
        "{}",
        hits[0].snippet
    );
    // Component names are markup, not words of the page.
    assert!(search("Tabs TabItem theme").is_empty());
    assert!(search("编辑指南").is_empty());
    let hits = search("inode 耗尽 小文件");
    assert_eq!(hits.first().map(|h| h.id.as_str()), Some("ops/inode"));
    assert!(!hits[0].snippet.contains("!!!"), "{}", hits[0].snippet);
    let hits = search("growpart");
    assert_eq!(hits[0].title, "云盘扩容后分区没有变大");
    assert_eq!(hits[0].tags, ["ecs"]);
    // A snippet begins where its sentence does, not at the matched word.
    assert_eq!(
        hits[0].snippet,
        "扩容云盘以后需要用 <mark>growpart</mark> 扩展分区。"
    );
}

#[test]
fn pagination_does_not_repeat_hits() {
    let mut req = SearchRequest::new("实例 无法 连接");
    req.limit = 5;
    let p1: Vec<String> = search::search(bundled(), &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    req.offset = 5;
    let p2: Vec<String> = search::search(bundled(), &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(p1.len(), 5);
    assert!(p2.iter().all(|id| !p1.contains(id)), "{p1:?} {p2:?}");
}

#[test]
fn faq_questions_are_their_own_entries() {
    let ids = top_ids("包年包月和按量付费有什么区别", 3);
    assert!(ids[0].starts_with("bill-faq#"), "{ids:?}");
}

#[test]
fn snippets_highlight_cjk_and_escape_html() {
    let r = search::search(bundled(), &SearchRequest::new("安全组规则不生效")).unwrap();
    let s = &r.hits[0].snippet;
    assert!(s.contains("<mark>"), "{s}");
    let without_marks = s.replace("<mark>", "").replace("</mark>", "");
    assert!(
        !without_marks.contains('<'),
        "unescaped HTML in snippet: {s}"
    );
}

#[test]
fn explain_names_fields_and_terms() {
    let mut req = SearchRequest::new("RDS 连接数满了");
    req.explain = true;
    let r = search::search(bundled(), &req).unwrap();
    let parts = r.hits[0].explain.as_ref().unwrap();
    assert!(
        parts
            .iter()
            .any(|p| p.clause.starts_with("title:") || p.clause.starts_with("aliases:")),
        "{parts:?}"
    );
    let sum: f32 = parts.iter().map(|p| p.score).sum();
    assert!(
        (sum - r.hits[0].score).abs() / r.hits[0].score < 0.05,
        "explained {sum} of {}",
        r.hits[0].score
    );
}

#[test]
fn rescoring_gives_each_clause_the_score_tantivy_gives_it() {
    // Candidates are re-scored from the postings the coverage pass reads, not by tantivy's
    // scorers: every hit's score before coverage and the prior must still be the sum of
    // what tantivy explains for each clause, for short, long, mixed and traditional text.
    for q in [
        "RDS 连接数满了",
        "ECS实例重启以后SSH连不上，安全组也检查过了，22端口是放行的",
        "OSS 上传文件报错 AccessDenied，签名应该没问题",
        "伺服器連不上，雲端主機無法連線",
        "502 Bad Gateway",
    ] {
        let mut req = SearchRequest::new(q);
        req.explain = true;
        let r = search::search(bundled(), &req).unwrap();
        assert!(!r.hits.is_empty(), "{q}");
        for h in &r.hits {
            let parts = h.explain.as_ref().unwrap();
            let sum: f32 = parts
                .iter()
                .filter(|p| !p.clause.starts_with("prior:"))
                .map(|p| p.score)
                .sum();
            assert!(
                (sum - h.bm25).abs() <= 1e-4 * h.bm25.max(1.0),
                "{q}: {} explained {sum}, scored {}: {parts:?}",
                h.id,
                h.bm25
            );
        }
    }
}

#[test]
fn long_ticket_is_reduced_to_informative_terms() {
    let filler = "我们公司业务最近比较忙，然后今天早上同事说，".repeat(30);
    let t = format!("{filler}数据库 RDS 报错 Too many connections，连接数满了");
    let mut req = SearchRequest::new(t);
    req.limit = 3;
    let r = search::search(bundled(), &req).unwrap();
    assert!(r.terms.len() <= 24, "{}", r.terms.len());
    assert!(
        r.hits[0].id.contains("too-many-connections"),
        "{:?}",
        r.hits[0].id
    );
    // Words no entry holds take no place among the kept terms, and are themselves capped:
    // a pasted blob of 600 unknown words neither crowds out the topic nor grows the query.
    let blob: String = (0..600).map(|i| format!("qz{i}vk ")).collect();
    let t = format!("{blob}数据库 RDS 报错 Too many connections，连接数满了");
    let mut req = SearchRequest::new(t);
    req.limit = 3;
    let r = search::search(bundled(), &req).unwrap();
    assert!(r.terms.len() <= 48, "{}", r.terms.len());
    assert!(
        r.hits[0].id.contains("too-many-connections"),
        "{:?}",
        r.hits[0].id
    );
}

#[test]
fn a_ticket_s_chatter_is_weighted_below_its_topic() {
    // Words a customer uses and documentation does not are rare in the KB for that reason
    // alone; the words of the problem are not chatter, however common in the KB.
    let t = "你好，之前用四层TCP监听的时候一直好好的，上礼拜同事把它改成了七层HTTP监听，\
             结果健康检查就老是显示异常。我自己登上去看了半天，也不知道到底是哪里没弄对，\
             后端那几台机器自己访问都是正常的，日志里面也能看见请求进来。";
    let mut req = SearchRequest::new(t);
    req.limit = 3;
    req.explain = true;
    let r = search::search(bundled(), &req).unwrap();
    for c in ["知道", "到底", "里面", "进来", "半天"] {
        assert!(
            r.chatter.iter().any(|w| w == c),
            "{c} not chatter: {:?}",
            r.chatter
        );
    }
    for t in [
        "健康检查",
        "监听",
        "七层",
        "四层",
        "后端",
        "异常",
        "日志",
        "tcp",
        "http",
    ] {
        assert!(
            !r.chatter.iter().any(|w| w == t),
            "{t} read as chatter: {:?}",
            r.chatter
        );
    }
    assert_eq!(r.hits[0].id, "net-slb-health-check-fail");
    // Scored at its weight: a chatter word the top entry holds adds less than at full weight.
    let searcher = bundled().reader.searcher();
    let plan = explained_plan(bundled(), &searcher, t);
    let weight = |w: &str| {
        plan.terms
            .iter()
            .find(|x| x.text == w && !x.secondary)
            .map(|x| x.weight)
    };
    // (知道 itself is left out by the long-ticket term cap since kb/ gained articles.)
    assert!(weight("到底").unwrap() < 0.5, "{:?}", weight("到底"));
    assert_eq!(weight("健康检查"), Some(1.0));
}

#[test]
fn words_jieba_glues_around_a_function_word_are_dropped() {
    // jieba's HMM glues unknown runs of single characters: 在哪关 → 在 哪关, 不续了 → 不续 了.
    // Unseen in the KB, such a word counted as the ticket's rarest, uncovered, and the right
    // article was escalated for lack of coverage.
    let searcher = bundled().reader.searcher();
    let text = "自动续费在哪关？下个月不续了";
    let plan = explained_plan(bundled(), &searcher, text);
    let terms: Vec<&str> = plan.terms.iter().map(|t| t.text.as_str()).collect();
    for glued in ["哪关", "不续"] {
        assert!(!terms.contains(&glued), "{glued} in {terms:?}");
    }
    assert!(terms.contains(&"自动续费"), "{terms:?}");
    let mut req = SearchRequest::new(text);
    req.limit = 1;
    let r = search::search(bundled(), &req).unwrap();
    assert_eq!(r.hits[0].id, "bill-auto-renewal");
    // 0.14 with the glued words, which left only 下个月 uncovered besides them.
    assert!(r.hits[0].coverage > 0.3, "{}", r.hits[0].coverage);
    // A word the dictionary or the KB knows stays, function character or not.
    let plan = explained_plan(bundled(), &searcher, "没有权限，一直在等待");
    let terms: Vec<&str> = plan.terms.iter().map(|t| t.text.as_str()).collect();
    for kept in ["没有", "权限", "等待"] {
        assert!(terms.contains(&kept), "{kept} not in {terms:?}");
    }
}

#[test]
fn bad_files_are_reported_and_the_rest_indexed() {
    let (dir, config) = temp_kb();
    let kb = &config.kb;
    let good = deflect::ingest::ingest(kb, Default::default())
        .entries
        .len();
    fs::write(kb.join("compute/bad-utf8.md"), b"# ok\n\xff\xfe broken").unwrap();
    fs::write(kb.join("compute/empty.md"), b"").unwrap();
    fs::write(kb.join("compute/binary.md"), b"\x00\x01\x02").unwrap();
    fs::write(
        kb.join("compute/bad-yaml.md"),
        "---\ntitle: [unclosed\n---\n# t\n",
    )
    .unwrap();
    fs::write(
        kb.join("compute/wrong-type.md"),
        "---\navg_fix_minutes: soon\n---\n# t\n",
    )
    .unwrap();
    fs::write(
        kb.join("compute/dup.md"),
        "---\nid: ecs-ssh-timeout\n---\n# dup\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(kb, kb.join("compute/loop")).unwrap();
    let s = index::build(kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    // A broken front matter key (not `id`) costs that key, not the article: the two files
    // with one are indexed, with a warning on the key's line.
    assert_eq!(s.entries, good + 2);
    let paths: Vec<&str> = s.problems.iter().map(|p| p.path.as_str()).collect();
    for bad in [
        "compute/bad-utf8.md",
        "compute/empty.md",
        "compute/binary.md",
        "compute/bad-yaml.md",
        "compute/wrong-type.md",
        "compute/dup.md",
    ] {
        assert!(paths.contains(&bad), "{bad} not reported: {paths:?}");
    }
    assert!(
        s.problems
            .iter()
            .any(|p| p.message.contains("symlink loop")),
        "{:?}",
        s.problems
    );
    let line_of = |p: &str| s.problems.iter().find(|x| x.path == p).and_then(|x| x.line);
    assert_eq!(line_of("compute/bad-utf8.md"), Some(2));
    assert_eq!(line_of("compute/wrong-type.md"), Some(2));
    assert_eq!(line_of("compute/bad-yaml.md"), Some(2));
    let severity_of = |p: &str| s.problems.iter().find(|x| x.path == p).map(|x| x.severity);
    assert_eq!(severity_of("compute/bad-yaml.md"), Some(Severity::Warning));
    assert_eq!(severity_of("compute/bad-utf8.md"), Some(Severity::Error));
    drop(dir);
}

#[test]
fn failed_reindex_leaves_the_serving_index_untouched() {
    let (dir, config) = temp_kb();
    let first = index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    // A KB where nothing can be ingested: the build must fail and keep generation 1.
    let broken = dir.path().join("broken");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("a.md"), b"").unwrap();
    let err = index::build(&broken, &config.index, &BuildOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::Empty(..)), "{err}");
    let loaded = index::open(&config.index, None).unwrap();
    assert_eq!(loaded.meta.generation, first.generation);
    assert_eq!(loaded.meta.entries as usize, first.entries);
    assert!(!search::search(&loaded, &SearchRequest::new("ssh"))
        .unwrap()
        .hits
        .is_empty());
}

/// An index whose fields differ from the ones this build reads, under the same schema
/// version (a build of unreleased code), is never read: its values would land in the wrong
/// fields. The server rebuilds it on start, as it does an index of an older version.
#[test]
fn an_index_with_other_fields_under_the_same_version_is_rebuilt_not_read() {
    let (_dir, config) = temp_kb();
    index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    let tantivy_dir = config.index.join("gen-000001/tantivy");
    fs::remove_dir_all(&tantivy_dir).unwrap();
    fs::create_dir_all(&tantivy_dir).unwrap();
    let mut other = tantivy::schema::Schema::builder();
    other.add_text_field("id", tantivy::schema::STRING | tantivy::schema::STORED);
    tantivy::Index::create_in_dir(&tantivy_dir, other.build()).unwrap();
    let Err(err) = index::open(&config.index, None) else {
        panic!("an index with other fields was read");
    };
    assert!(matches!(err, IndexError::Fields { .. }), "{err}");
    assert!(err.to_string().contains("deflect reindex"), "{err}");
    let (engine, built) = deflect::engine::Engine::open_or_build(&config).unwrap();
    assert!(built.is_some(), "rebuilt on open");
    let hits = search::search(&engine.loaded(), &SearchRequest::new("ssh"))
        .unwrap()
        .hits;
    assert!(!hits.is_empty());
}

#[test]
fn leftover_build_directories_are_cleaned() {
    let (_dir, config) = temp_kb();
    fs::create_dir_all(config.index.join(".building-999-7/tantivy")).unwrap();
    index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    assert!(!config.index.join(".building-999-7").exists());
}

#[test]
fn a_second_reindex_is_refused_while_one_holds_the_lock() {
    let (_dir, config) = temp_kb();
    fs::create_dir_all(&config.index).unwrap();
    let lock = fs::File::create(config.index.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let err =
        index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::Busy(_)), "{err}");
    drop(lock);
    index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
}

#[test]
fn an_index_inside_the_kb_it_reads_is_refused_and_writes_nothing() {
    let (dir, config) = temp_kb();
    let files = |p: &std::path::Path| walkdir::WalkDir::new(p).into_iter().count();
    let before = files(&config.kb);
    // The KB itself, a folder in it (yet to exist), and one reached through `..`.
    for root in [
        config.kb.clone(),
        config.kb.join(".index"),
        dir.path().join("other/../kb/data/index"),
    ] {
        let err = index::build(&config.kb, &root, &BuildOptions::default(), |_| {}).unwrap_err();
        assert!(matches!(err, IndexError::InsideKb { .. }), "{err}");
        assert!(
            err.to_string().contains("put the index outside the KB"),
            "{err}"
        );
    }
    assert_eq!(files(&config.kb), before, "nothing written into the KB");
    // Beside the KB is fine, `..` and all.
    let beside = config.kb.join("../index");
    index::build(&config.kb, &beside, &BuildOptions::default(), |_| {}).unwrap();
}

#[test]
fn the_bundled_kb_is_clean_and_complete() {
    let ing = deflect::ingest::ingest(&kb_dir(), Default::default());
    assert!(ing.problems.is_empty(), "{:#?}", ing.problems);
    let pages: std::collections::HashSet<&str> =
        ing.entries.iter().map(|e| e.doc_id.as_str()).collect();
    assert!(pages.len() >= 80, "{} articles", pages.len());
    let zh = ing
        .entries
        .iter()
        .filter(|e| e.kind == deflect::ingest::EntryKind::Article && e.lang == "zh")
        .count();
    let en = ing
        .entries
        .iter()
        .filter(|e| e.kind == deflect::ingest::EntryKind::Article && e.lang == "en")
        .count();
    assert!(zh >= 65 && en >= 15, "zh {zh} en {en}");
    for e in &ing.entries {
        for r in &e.meta.related {
            assert!(
                pages.contains(r.as_str()),
                "{}: related `{r}` does not resolve",
                e.path
            );
        }
    }
    let _ = copy_dir;
}

#[test]
fn snippet_with_a_compound_code_at_the_fragment_end_does_not_panic() {
    // Regression: a fragment that ended inside a compound code (its parts are overlapping
    // tokens) made the snippet renderer slice past the fragment and panic.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    let mut body = String::from("# 证书不可信的排查方法\n\n");
    for i in 0..40 {
        body.push_str(&format!("第{i}段：的浏览器提示证书不可信的排查方法 Chrome浏览器出现“ERR_CERTIFICATE_TRANSPARENCY_REQUIRED”报错 安装证书后谷歌浏览器仍提示 NET::ERR_CERT_AUTHORITY_INVALID。\n\n"));
    }
    fs::write(kb.join("cert.md"), body).unwrap();
    let (_index, loaded) = built(&kb);
    for q in [
        "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED",
        "证书 transparency required 浏览器",
        "Chrome ERR_CERT_AUTHORITY_INVALID 谷歌浏览器",
        "certificate 排查方法 required",
    ] {
        let r = search::search(&loaded, &SearchRequest::new(q)).unwrap();
        assert!(
            r.hits[0].snippet.contains("<mark>"),
            "{q}: {}",
            r.hits[0].snippet
        );
    }
}

#[test]
fn a_reindex_killed_mid_build_leaves_the_previous_index_serving() {
    // A KB big enough that a build takes a few seconds: the bundled articles, bodies only,
    // copied 30 times under distinct paths.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    let ing = deflect::ingest::ingest(&kb_dir(), Default::default());
    for i in 0..30 {
        let sub = big.join(format!("c{i:02}"));
        fs::create_dir_all(&sub).unwrap();
        for e in ing
            .entries
            .iter()
            .filter(|e| e.kind == deflect::ingest::EntryKind::Article)
        {
            fs::write(
                sub.join(format!("{}.md", e.doc_id)),
                format!("# {}\n\n{}", e.title, e.markdown),
            )
            .unwrap();
        }
    }
    let root = dir.path().join("index");
    let first = index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).unwrap();
    let exe = env!("CARGO_BIN_EXE_deflect");
    let mut killed_mid_build = 0;
    for delay_ms in [50u64, 300, 900] {
        let mut child = std::process::Command::new(exe)
            .args(["reindex", "--kb"])
            .arg(&big)
            .arg("--index")
            .arg(&root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL: no cleanup runs in the child.
        let _ = child.wait();
        let loaded = index::open(&root, None).unwrap();
        if !finished {
            killed_mid_build += 1;
            assert_eq!(
                loaded.meta.generation, first.generation,
                "killed after {delay_ms} ms"
            );
            assert_eq!(loaded.meta.entries as usize, first.entries);
        }
        assert!(!search::search(&loaded, &SearchRequest::new("ssh 连不上"))
            .unwrap()
            .hits
            .is_empty());
    }
    assert!(
        killed_mid_build >= 1,
        "every build finished before its kill: make the KB bigger"
    );
    // The next build cleans what the killed ones left and swaps in normally.
    let next = index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).unwrap();
    assert!(next.generation > first.generation);
    let leftovers = building_leftovers(&root);
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Build directories left in an index root.
fn building_leftovers(root: &std::path::Path) -> Vec<fs::DirEntry> {
    fs::read_dir(root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".building-"))
        .collect()
}

#[test]
fn search_without_facets_ranks_as_with_them() {
    // Without facets an unfiltered search retrieves term at a time and leaves a ticket's
    // common words to re-scoring; with them it is one tantivy union counting every match.
    // The page must not change.
    for q in [
        "ssh 连不上 Connection refused",
        "您好，我们的 ECS 实例今天早上开始网站打不开，502 Bad Gateway，安全组已经放行 80 端口了",
        "OSS 上传文件报 403 AccessDenied",
        "how do I reset the root password of my instance",
        "發票怎麼開",
    ] {
        let mut req = SearchRequest::new(q);
        req.limit = 10;
        req.facets = true;
        let full = search::search(bundled(), &req).unwrap();
        req.facets = false;
        let pruned = search::search(bundled(), &req).unwrap();
        let ids =
            |r: &search::SearchResponse| r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&full), ids(&pruned), "{q}");
        assert!(full.total_exact && full.total >= pruned.total, "{q}");
        assert!(pruned.facets.is_empty());
    }
}

/// Runs `deflect reindex` of `kb` into `root` under a shell prefix (limits), returning
/// (success, stderr).
fn reindex_with(prefix: &str, kb: &std::path::Path, root: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{prefix} exec \"$0\" reindex --kb \"$1\" --index \"$2\""
        ))
        .arg(env!("CARGO_BIN_EXE_deflect"))
        .arg(kb)
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The previous generation still serves, nothing of the failed build is left, and the
/// next build (with room again) swaps in normally.
fn assert_failed_build_left_no_trace(root: &std::path::Path, first: &index::BuildSummary) {
    let loaded = index::open(root, None).unwrap();
    assert_eq!(loaded.meta.generation, first.generation);
    assert_eq!(loaded.meta.entries as usize, first.entries);
    assert!(!search::search(&loaded, &SearchRequest::new("ssh 连不上"))
        .unwrap()
        .hits
        .is_empty());
    let leftovers = building_leftovers(root);
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_reindex_whose_writes_fail_keeps_the_previous_index_serving() {
    // A write error injected: the build runs under a 64 KB file-size limit (RLIMIT_FSIZE,
    // with SIGXFSZ ignored), so its writes fail with EFBIG, as they would on a full disk.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("index");
    let first = index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).unwrap();
    let (ok, err) = reindex_with("trap '' XFSZ; ulimit -f 64;", &kb_dir(), &root);
    assert!(!ok, "the build succeeded under a 64 KB file limit");
    assert!(err.contains("File too large"), "{err}");
    assert_eq!(
        err.matches("File too large").count(),
        1,
        "cause printed twice: {err}"
    );
    assert_failed_build_left_no_trace(&root, &first);
    let (ok, err) = reindex_with("", &kb_dir(), &root);
    assert!(ok, "{err}");
    assert!(index::open(&root, None).unwrap().meta.generation > first.generation);
}

#[test]
fn a_reindex_on_a_full_disk_keeps_the_previous_index_serving() {
    // A real full disk: the index root on a tmpfs that holds one build, not two.
    // Mounting needs root (CAP_SYS_ADMIN); without it the test says so and checks nothing.
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    fs::create_dir_all(&mnt).unwrap();
    let probe = index::build(
        &kb_dir(),
        &dir.path().join("probe"),
        &BuildOptions::default(),
        |_| {},
    )
    .unwrap();
    // A build peaks at about 1.5× its index (its text store, its segments and the merged
    // one, the segments about half the index), so 2× holds one build but not a second next
    // to a finished generation (1× + 1.5×).
    let size_kb = probe.index_bytes * 2 / 1024;
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size_kb}k"), "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the write-error test covers the path"
        );
        return;
    }
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let root = mnt.join("index");
    let first = index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).unwrap();
    let (ok, err) = reindex_with("", &kb_dir(), &root);
    assert!(!ok, "a second generation fit on a disk sized for one build");
    assert!(err.contains("No space left"), "{err}");
    assert_failed_build_left_no_trace(&root, &first);
}

/// `serve --watch`: an article saved into the KB is searchable without a restart, a broken
/// edit leaves the serving index as it was, and a deleted article goes away.
#[test]
fn watched_kb_reindexes_on_save_and_a_broken_save_keeps_serving() {
    use std::time::{Duration, Instant};
    let (_dir, config, engine) = super::common::temp_engine();
    let _watcher = deflect::http::watch(engine.clone(), Duration::from_millis(200)).unwrap();
    let finds = |q: &str, id: &str| {
        search::search(&engine.loaded(), &SearchRequest::new(q))
            .unwrap()
            .hits
            .iter()
            .any(|h| h.id == id)
    };
    // Waits for a reindex to land; the deadline only bounds a hung test, it measures nothing.
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !done() {
            assert!(Instant::now() < deadline, "watch never reindexed: {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let article = config.kb.join("compute").join("zz-watch-probe.md");
    fs::write(
        &article,
        "---\nid: zz-watch-probe\ntitle: 量子纠缠网关 quxbarnacle 无法启动\ncategory: compute\n---\n\n## 解决方法\n\n重启 quxbarnacle 服务。\n",
    )
    .unwrap();
    wait_for("new article", &|| finds("quxbarnacle", "zz-watch-probe"));
    let generation = engine.loaded().meta.generation;

    // A save that breaks the front matter: that file is reported, the rest stays served.
    fs::write(&article, "---\nid: [unclosed\n---\n").unwrap();
    wait_for("broken save", &|| !finds("quxbarnacle", "zz-watch-probe"));
    assert!(engine.loaded().meta.generation > generation);
    assert!(finds("ssh 连不上", "ecs-ssh-connection-refused"));

    fs::remove_file(&article).unwrap();
    let count = engine.reindex_count();
    wait_for("delete", &|| engine.reindex_count() > count);
    assert!(!finds("quxbarnacle", "zz-watch-probe"));
    assert!(finds("ssh 连不上", "ecs-ssh-connection-refused"));
}

/// Identical copies score exactly alike; they come out in id order, whatever order the
/// indexing threads numbered them in, and the copy that stands for the rest is the first id.
#[test]
fn equal_scores_rank_in_id_order() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(kb.join("oss")).unwrap();
    // Path order is the reverse of id order, so doc order alone would give the wrong answer.
    for i in 0..12 {
        fs::write(
            kb.join("oss").join(format!("p{i:02}.md")),
            format!(
                "---\nid: dup-{:02}\ntitle: 对象存储防盗链配置 zorblefrond\n---\n\n配置 Referer 白名单后返回 403。\n",
                11 - i
            ),
        )
        .unwrap();
    }
    let (_index, loaded) = built(&kb);
    let mut req = SearchRequest::new("zorblefrond 防盗链");
    req.dedupe = false;
    req.limit = 12;
    let ids: Vec<String> = search::search(&loaded, &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    let want: Vec<String> = (0..12).map(|i| format!("dup-{i:02}")).collect();
    assert_eq!(ids, want);
    let hits = search::search(&loaded, &SearchRequest::new("zorblefrond 防盗链"))
        .unwrap()
        .hits;
    assert_eq!(hits.len(), 1, "copies collapse into one hit");
    assert_eq!(hits[0].id, "dup-00");
    assert_eq!(hits[0].duplicates.len(), 11);
}

/// A ticket that reports a failure prefers the entry written as a problem and its fix over an
/// overview with the same words; a how-to question leaves their order alone.
/// Every hit of `q` on `loaded`, each copy apart (no collapsing), with its explain.
fn explained(loaded: &deflect::index::Loaded, q: &str) -> Vec<deflect::search::Hit> {
    let mut req = SearchRequest::new(q);
    req.dedupe = false;
    req.explain = true;
    search::search(loaded, &req).unwrap().hits
}

/// The points an explained hit got from the clause or prior `name`, if any.
fn points_of(h: &deflect::search::Hit, name: &str) -> Option<f32> {
    h.explain
        .as_ref()
        .expect("an explained hit")
        .iter()
        .find(|p| p.clause == name)
        .map(|p| p.score)
}

#[test]
fn problem_tickets_prefer_troubleshooting_entries() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    // Same words and length; only the section heading differs (说明 / 原因), and neither is
    // in the queries. Without the prior the two tie and the overview comes first by id.
    for (id, heading) in [("a-overview", "说明"), ("b-trouble", "原因")] {
        fs::write(
            kb.join(format!("{id}.md")),
            format!(
                "---\nid: {id}\ntitle: zorblefrond 防盗链\n---\n\n## {heading}\n\n配置 Referer 白名单后访问 zorblefrond 的文件返回 403。\n"
            ),
        )
        .unwrap();
    }
    let (_index, loaded) = built(&kb);
    let run = |q: &str| explained(&loaded, q);
    let hits = run("zorblefrond 防盗链配置以后访问失败，返回 403");
    assert_eq!(hits[0].id, "b-trouble");
    let parts = hits[0].explain.as_ref().unwrap();
    assert!(
        parts.iter().any(|p| p.clause == "prior:problem-entry"),
        "{parts:?}"
    );
    let hits = run("zorblefrond 防盗链如何配置 Referer 白名单");
    assert_eq!(hits[0].id, "a-overview");
    assert!(hits[0]
        .explain
        .as_ref()
        .unwrap()
        .iter()
        .all(|p| p.clause != "prior:problem-entry"));
}

/// A KB of product folders: a ticket that names a product prefers that product's page over
/// another's with the same words, though neither page names its product in its text.
#[test]
fn a_ticket_that_names_a_product_prefers_its_pages() {
    let page = "# 磁盘空间用满后实例被锁定\n\n磁盘用满后实例进入锁定状态，无法写入数据。清理数据或扩容磁盘后解锁。\n";
    let (_dir, kb) = kb_of(&[
        ("mongodb/disk-locked.md", page),
        ("gpdb/disk-locked.md", page),
    ]);
    let (_index, loaded) = built(&kb);
    let run = |q: &str| explained(&loaded, q);
    for (q, area) in [
        ("MongoDB磁盘用满了，实例锁定写不进去", "mongodb"),
        ("gpdb 磁盘满了被锁定", "gpdb"),
    ] {
        let hits = run(q);
        assert_eq!(hits[0].area.as_deref(), Some(area), "{q}");
        let parts = hits[0].explain.as_ref().unwrap();
        assert!(
            parts.iter().any(|p| p.clause == "prior:named-area"),
            "{parts:?}"
        );
        assert!(hits[0].score > hits[1].score, "{q}");
    }
    // A ticket naming neither: the two tie.
    let hits = run("磁盘用满了，实例锁定写不进去");
    assert_eq!(hits[0].score, hits[1].score);
}

/// A pasted message found word for word decides between pages sharing its words: the page
/// quoting `invalid ip...` comes before the API page whose error table says `Invalid IP`
/// more often, though it would lose on the words alone.
#[test]
fn a_pasted_message_prefers_the_page_quoting_it_verbatim() {
    let (_dir, kb) = quoted_message_kb();
    let (_index, loaded) = built(&kb);
    let hits = explained(&loaded, "invalid ip...");
    assert_eq!(hits[0].id, "collector-errors");
    let points = |h: &deflect::search::Hit| points_of(h, "prior:verbatim");
    let gained = points(&hits[0]).expect("the quoting page gains");
    assert_eq!(points(&hits[1]), None, "{:?}", hits[1].explain);
    // The answer's confidence counts a quoted message as it counts a matched error code.
    assert!(hits[0].quotes_message && !hits[1].quotes_message);
    let f = deflect::answer::confidence::features(&hits[0], Some(hits[1].score), 10.0, 2, 0.0);
    assert_eq!(f.code_match, 1.0);
    assert!(
        hits[0].score - gained < hits[1].score,
        "without the prior the API page comes first"
    );
    // Without the dots the message is in both pages, and the words decide.
    let hits = explained(&loaded, "Invalid IP");
    assert_eq!(hits[0].id, "gateway-api");
    // A question quoting it is not a paste: an FAQ page restating a question is a twin of
    // it, not its answer.
    let hits = explained(&loaded, "invalid ip... 是什么原因？");
    assert!(hits.iter().all(|h| points(h).is_none()));
}

/// The whole-ticket phrase counts near matches, and more in a short entry: an API page
/// listing `Invalid IP` three times outscores a long guide that quotes `invalid ip...` once.
/// The guide holds the message word for word and the API page does not, so the guide scores
/// on the phrase as the API page does before the verbatim prior's share, and comes first; the
/// share alone would not lift it.
#[test]
fn a_page_quoting_the_message_scores_on_the_phrase_as_the_best_near_match() {
    let steps: Vec<String> = (1..25)
        .map(|i| {
            format!("第{i}步：确认 Logtail 版本、机器组心跳和文件路径，保存配置后等待一分钟。")
        })
        .collect();
    let guide = format!(
        "# 日志采集排查指南\n\n{}\n\n## 地址字段\n\n采集时报错 `invalid ip...`，说明获取来源地址失败：请检查 SourceKey 是否指向客户端地址字段。\n",
        steps.join("\n\n")
    );
    let (_dir, kb) = kb_of(&[
        ("collector-guide.md", guide.as_str()),
        (
            "ip-api.md",
            "# DescribeIpRanges\n\n| 错误码 | 错误信息 |\n|---|---|\n| InvalidIp | Invalid IP. |\n| InvalidIpAddress | Invalid IP address. |\n| InvalidIpRange | Invalid IP range. |\n",
        ),
    ]);
    let (_index, loaded) = built(&kb);
    let hits = explained(&loaded, "invalid ip...");
    assert_eq!(hits[0].id, "collector-guide");
    let clause = |h: &deflect::search::Hit, name: &str| points_of(h, name).unwrap_or(0.0);
    let gained = clause(&hits[0], "prior:verbatim");
    assert!(
        clause(&hits[0], "phrase(body)") < clause(&hits[1], "phrase(body)"),
        "the API page matches the phrase better"
    );
    let share = 1.0 + deflect::search::DEFAULT_WEIGHTS.verbatim;
    let before = hits[0].score - gained;
    assert!(
        before * share < hits[1].score,
        "the prior's share alone leaves the guide second: {before} × {share} against {}",
        hits[1].score
    );
}

/// A draft is linted by `check` but never indexed: neither searched nor fetched by id.
#[test]
fn drafts_are_read_but_not_indexed() {
    let (dir, kb) = kb_of(&[
        (
            "published.md",
            "---\nid: published\ntitle: zorbleflux 连接失败\n---\n\nzorbleflux 连接失败时检查安全组。\n",
        ),
        (
            "half-written.md",
            "---\nid: half-written\ntitle: zorbleflux 连接失败的新方案\ndraft: true\n---\n\nzorbleflux 先这样试试。\n",
        ),
    ]);
    let root = dir.path().join("index");
    let summary = index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    assert_eq!(summary.entries, 1);
    assert_eq!(summary.drafts, 1);
    assert_eq!(summary.skipped, 0);
    assert!(
        summary.line().contains("1 of them draft(s)"),
        "{}",
        summary.line()
    );
    let loaded = index::open(&root, Some(&kb)).unwrap();
    let hits = search::search(&loaded, &SearchRequest::new("zorbleflux 连接失败"))
        .unwrap()
        .hits;
    assert_eq!(
        hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["published"]
    );
    assert!(search::fetch(&loaded, "half-written").is_none());
    // `check` reads it, so its problems are found before it is published.
    let ing = deflect::ingest::ingest(&kb, deflect::ingest::Limits::default());
    assert!(ing
        .entries
        .iter()
        .any(|e| e.id == "half-written" && e.meta.draft));
    // A draft of the next version of an article may share its id: the published one stays.
    fs::write(
        kb.join("v2.md"),
        "---\nid: published\ntitle: zorbleflux 连接失败（新版）\ndraft: true\n---\n\n新版步骤。\n",
    )
    .unwrap();
    let ing = deflect::ingest::ingest(&kb, deflect::ingest::Limits::default());
    assert!(ing.problems.is_empty(), "{:?}", ing.problems);
    let summary = index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    assert_eq!((summary.entries, summary.drafts), (1, 2));
    assert!(summary.problems.is_empty(), "{:?}", summary.problems);
}

/// Files sharing an id: the file named after the id keeps it even when an earlier file
/// (here an FAQ page of several entries, already in the index) claimed it first; every other
/// claimant is skipped with an error naming the keeper. `check` reports the same.
#[test]
fn duplicate_ids_keep_the_file_named_after_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    for d in ["a", "b", "c"] {
        fs::create_dir_all(kb.join(d)).unwrap();
    }
    fs::write(
        kb.join("a/first.md"),
        "---\nid: ecs-dup\ntype: faq\n---\n# 实例常见问题\n\n## 如何停止 quorvex 实例？\n\n在控制台停止。\n\n## quorvex 实例能否更换地域？\n\n不能。\n",
    )
    .unwrap();
    fs::write(
        kb.join("b/ecs-dup.md"),
        "---\nid: ecs-dup\n---\n# quorvex 实例无法启动\n\n## 解决方案\n\n重新挂载系统盘。\n",
    )
    .unwrap();
    fs::write(
        kb.join("c/other.md"),
        "---\nid: ecs-dup\n---\n# quorvex 实例欠费\n\n充值后重启。\n",
    )
    .unwrap();
    fs::write(kb.join("c/solo.md"), "# 独立文章\n\n对象存储的内容。\n").unwrap();
    let root = dir.path().join("index");
    let s = index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    assert_eq!((s.files, s.entries, s.skipped), (4, 2, 2), "{s:?}");
    let dup_errors: Vec<(String, String)> = s
        .problems
        .iter()
        .filter(|p| p.message.contains("already used"))
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect();
    assert_eq!(dup_errors.len(), 2, "{dup_errors:?}");
    for (path, msg) in &dup_errors {
        assert!(path == "a/first.md" || path == "c/other.md", "{path}");
        assert!(msg.contains("b/ecs-dup.md"), "{msg}");
    }
    let loaded = index::open(&root, None).unwrap();
    let hits = search::search(&loaded, &SearchRequest::new("quorvex 实例"))
        .unwrap()
        .hits;
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["ecs-dup"], "only the keeper is searchable: {ids:?}");
    assert_eq!(hits[0].path, "b/ecs-dup.md");
    // `check` reads the KB the other way (all at once) and must agree.
    let ing = deflect::ingest::ingest(&kb, Default::default());
    let mut check_errors: Vec<(String, String)> = ing
        .problems
        .iter()
        .filter(|p| p.message.contains("already used"))
        .map(|p| (p.path.clone(), p.message.clone()))
        .collect();
    let mut build_errors = dup_errors.clone();
    check_errors.sort();
    build_errors.sort();
    assert_eq!(check_errors, build_errors);
}

/// Common words of a query (in more than ~12% of entries) are scored on the candidates that
/// its rarer words retrieve, not walked over every entry. The ranking must not change: the
/// candidates' scores are those of the full union, and when the rarer words are in fewer
/// entries than the candidates wanted, the common words retrieve too.
#[test]
fn common_words_score_the_candidates_without_changing_the_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    // 1,200 entries share 云服务器 / 启动 / 失败; 130 of them also hold 蓝屏 (~11%: rarer);
    // 3 hold zorblefrond. Entries differ in how often they repeat the words.
    for i in 0..1200 {
        let mut body = format!("第{i}号说明。云服务器启动失败的一般处理。");
        for _ in 0..(i % 4) {
            body.push_str("云服务器启动失败。");
        }
        if i % 9 == 0 && i < 1170 {
            body.push_str(&"出现蓝屏。".repeat(1 + i % 3));
        }
        if i % 400 == 7 {
            body.push_str("zorblefrond 组件报错。");
        }
        fs::write(
            kb.join(format!("e{i:04}.md")),
            format!("---\nid: e{i:04}\ntitle: 说明 {i}\n---\n\n{body}\n"),
        )
        .unwrap();
    }
    let (_index, loaded) = built(&kb);
    let run = |q: &str, facets: bool| {
        let mut req = SearchRequest::new(q);
        req.facets = facets;
        req.snippets = false;
        req.limit = 20;
        search::search(&loaded, &req).unwrap()
    };
    for q in ["云服务器启动失败 蓝屏", "云服务器启动失败 zorblefrond"] {
        // Facets walk every match: the full union.
        let (lean, full) = (run(q, false), run(q, true));
        let ids = |r: &search::SearchResponse| {
            r.hits
                .iter()
                .map(|h| (h.id.clone(), (h.score * 1000.0).round() as i64))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&lean), ids(&full), "{q}");
        assert_eq!(lean.hits.len(), 20, "{q}");
        assert!(
            full.total_exact && full.total == 1200,
            "{q}: {}",
            full.total
        );
    }
    // With 130 entries holding 蓝屏 the lean search counted only those.
    let lean = run("云服务器启动失败 蓝屏", false);
    assert!(!lean.total_exact && lean.total < 1200, "{}", lean.total);
}

#[test]
fn an_index_named_alone_answers_with_its_own_kb_resources() {
    // Synonyms apply at query time. `search --index X` must use those of the KB X was built
    // from (or X's own copies once that KB is gone), not those of the configured KB.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(kb.join("_analysis")).unwrap();
    fs::write(
        kb.join("headset.md"),
        "# 蓝牙耳机无法配对\n\n长按电源键五秒进入配对模式，然后在手机设置中重新搜索设备。\n",
    )
    .unwrap();
    fs::write(kb.join("_analysis/synonyms.txt"), "zorblat, 配对\n").unwrap();
    let other = dir.path().join("other");
    fs::create_dir_all(other.join("_analysis")).unwrap();
    fs::write(other.join("_analysis/synonyms.txt"), "# none\n").unwrap();
    let root = dir.path().join("index");
    index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    let hits = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deflect"))
            .args(["search", "--json", "--index"])
            .arg(&root)
            .arg("zorblat")
            .env("DEFLECT_KB", &other)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hits"].as_array().unwrap().len()
    };
    assert_eq!(hits(), 1, "the source KB's synonym");
    fs::remove_dir_all(&kb).unwrap();
    assert_eq!(hits(), 1, "the index's own copy of it");
}

/// Tickets and queries whose plans the equivalence tests below score both ways: long
/// tickets, pasted errors and codes, traditional script, English, repeated words, a short
/// query.
const EQUIVALENCE_QUERIES: [&str; 9] = [
    "ECS实例重启以后SSH连不上，安全组也检查过了，22端口是放行的，控制台显示运行中",
    "您好，我们的 ECS 实例今天早上开始网站打不开，502 Bad Gateway，安全组已经放行 80 端口了",
    "OSS 上传文件报错 AccessDenied，签名应该没问题，RAM 权限也给了，bucket 是私有的",
    "伺服器連不上，雲端主機無法連線，重新開機也沒用，帳單也付了",
    "the instance fails status checks after I changed the kernel and rebooted it twice",
    "RDS 报 ERROR 1040 (HY000): Too many connections",
    "安全组规则 端口 放行 安全组 规则",
    "how to reset the root password of an ECS instance",
    "怎么 开 发票",
];

/// The ranked plan of `q`, with clause labels.
fn explained_plan(
    loaded: &deflect::index::Loaded,
    searcher: &tantivy::Searcher,
    q: &str,
) -> search::Plan {
    search::query::build(
        loaded,
        searcher,
        q,
        search::Mode::Ranked(search::DEFAULT_WEIGHTS),
        true,
    )
}

#[test]
fn rescoring_gives_each_clause_its_tantivy_score() {
    // Re-scoring reads the candidates' postings once for every term and proximity clause:
    // each clause's score on each candidate must be, to the bit, the one its own tantivy
    // query gives (a boosted term query, or a two-term phrase query with slop), and a
    // candidate it does not match must get none.
    use tantivy::collector::TopDocs;
    use tantivy::query::EnableScoring;
    use tantivy::{DocSet, TERMINATED};
    let loaded = bundled();
    let searcher = loaded.reader.searcher();
    let (mut pairs, mut scored) = (0, 0);
    for q in EQUIVALENCE_QUERIES {
        let plan = explained_plan(loaded, &searcher, q);
        for lean in [true, false] {
            // The candidates a search would re-score, and entries no clause may match.
            let mut addrs: Vec<tantivy::DocAddress> = searcher
                .search(
                    &plan.to_query(lean),
                    &TopDocs::with_limit(100).order_by_score(),
                )
                .unwrap()
                .into_iter()
                .map(|(_, a)| a)
                .collect();
            for d in (0..searcher.num_docs() as u32).step_by(7) {
                let a = tantivy::DocAddress::new(0, d);
                if !addrs.contains(&a) {
                    addrs.push(a);
                }
            }
            let got = search::rescoring_scores(&searcher, loaded, &plan, lean, &addrs).unwrap();
            let clauses: Vec<_> = plan.rescoring(lean).collect();
            assert_eq!(got.len(), clauses.len());
            let scoring = EnableScoring::enabled_from_searcher(&searcher);
            for (clause, got) in clauses.iter().zip(&got) {
                let weight = clause.query().weight(scoring).unwrap();
                for (addr, got) in addrs.iter().zip(got) {
                    let reader = searcher.segment_reader(addr.segment_ord);
                    let mut scorer = weight.scorer(reader, 1.0).unwrap();
                    let doc = if scorer.doc() < addr.doc_id {
                        scorer.seek(addr.doc_id)
                    } else {
                        scorer.doc()
                    };
                    let want = (doc == addr.doc_id && doc != TERMINATED).then(|| scorer.score());
                    assert_eq!(
                        got.map(f32::to_bits),
                        want.map(f32::to_bits),
                        "{q}: {} on {addr:?}: {got:?} against {want:?}",
                        clause.label
                    );
                    scored += usize::from(want.is_some());
                    pairs += usize::from(want.is_some() && clause.pair.is_some());
                }
            }
        }
    }
    assert!(
        pairs > 200 && scored > 2000,
        "{pairs} pair scores, {scored} in all"
    );
}

#[test]
fn term_at_a_time_retrieval_is_tantivys_union() {
    // An unfiltered search that visits every match scores it term at a time: the hits, their
    // scores to the bit, their order among equal scores and the count must be those of
    // tantivy's union with its top-k and count collectors, lean or not, at any depth. The
    // clauses each hit is said to match must be exactly those tantivy finds it matching.
    use deflect::search::retrieve;
    use tantivy::collector::{Count, TopDocs};
    let loaded = bundled();
    let searcher = loaded.reader.searcher();
    let mut checked = 0;
    for q in EQUIVALENCE_QUERIES {
        let plan = explained_plan(loaded, &searcher, q);
        for lean in [true, false] {
            for fetch in [1, 7, 100] {
                let want = searcher
                    .search(
                        &plan.to_query(lean),
                        &(TopDocs::with_limit(fetch).order_by_score(), Count),
                    )
                    .unwrap();
                let got =
                    retrieve::exhaustive(&searcher, loaded, plan.retrieval(lean), fetch).unwrap();
                let bits = |v: &[(f32, tantivy::DocAddress)]| -> Vec<(u32, tantivy::DocAddress)> {
                    v.iter().map(|(s, a)| (s.to_bits(), *a)).collect()
                };
                assert_eq!(
                    bits(&got.top),
                    bits(&want.0),
                    "{q} lean={lean} fetch={fetch}"
                );
                assert_eq!(got.count, want.1 as u64, "{q} lean={lean}");
                for ((_, addr), mask) in got.top.iter().zip(&got.matched) {
                    for (k, c) in plan.retrieval(lean).enumerate().take(64) {
                        let matches = c.query().explain(&searcher, *addr).is_ok();
                        assert_eq!(mask & (1 << k) != 0, matches, "{q}: {}", c.label);
                    }
                }
                checked += got.top.len();
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

/// Paging through results lists each entry once, in one order: pages of 10 read one after
/// another give what a single request for all of them gives, scores never rising. Here the
/// entries titled with the question say little in their bodies, so they are retrieved after
/// 200 notes that repeat its words. Before the re-ranking window was fixed, a deeper page
/// re-ranked a deeper pool: from the fourth page on, those entries jumped above notes
/// already shown on earlier pages, and the notes came back on the pages after.
#[test]
fn pages_do_not_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    fs::create_dir_all(&kb).unwrap();
    let filler = "控制台里可以查看实例的配置、网络和监控信息。".repeat(12);
    for i in 0..200 {
        let body = format!("证书过期了怎么办？{}", "证书 过期 怎么办 ".repeat(8));
        fs::write(
            kb.join(format!("note-{i:03}.md")),
            format!("# 第{i}篇说明\n\n{body}\n\n{filler}\n"),
        )
        .unwrap();
    }
    for i in 0..60 {
        fs::write(
            kb.join(format!("cert-{i:03}.md")),
            format!(
                "# 证书过期怎么办（{i}）\n\n{}\n\n续费后重新部署。\n",
                filler.repeat(1 + i / 4)
            ),
        )
        .unwrap();
    }
    let (_index, loaded) = built(&kb);
    let run = |offset: usize, limit: usize| {
        let mut req = SearchRequest::new("证书过期怎么办");
        req.offset = offset;
        req.limit = limit;
        req.snippets = false;
        search::search(&loaded, &req).unwrap().hits
    };
    let mut paged = Vec::new();
    for offset in (0..300).step_by(10) {
        paged.extend(run(offset, 10));
    }
    let ids: Vec<&str> = paged.iter().map(|h| h.id.as_str()).collect();
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an entry on two pages: {ids:?}");
    assert_eq!(ids.len(), 260, "every entry listed once");
    let whole: Vec<String> = run(0, 300).into_iter().map(|h| h.id).collect();
    assert_eq!(ids, whole, "pages differ from one request for them all");
    assert!(
        paged.windows(2).all(|w| w[0].score >= w[1].score),
        "scores rise from page to page"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("index");
    index::build(&kb_dir(), &root, &BuildOptions::default(), |_| {}).unwrap();
    // About 200 KB of output, more than a pipe holds, into a reader that has gone.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_deflect"))
        .args(["search", "--json", "--explain", "--limit", "200", "--index"])
        .arg(&root)
        .arg("实例 无法 连接 报错")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_reference_page_yields_to_the_page_that_explains() {
    // An API page holds every name a ticket uses in its parameter tables; a ticket without
    // an error code is answered by the page that explains. With a code, the API page's error
    // table may be the answer, and it keeps its score.
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb/ecs");
    fs::create_dir_all(&kb).unwrap();
    fs::write(
        kb.join("authorize-security-group.md"),
        "# AuthorizeSecurityGroup\n\n调用AuthorizeSecurityGroup为安全组添加入方向规则，放行端口。\n\n\
         ## 请求参数\n\n| 名称 | 类型 | 描述 |\n| --- | --- | --- |\n\
         | SecurityGroupId | String | 安全组ID。 |\n| PortRange | String | 放行的端口范围，例如 8080/8080。 |\n\
         | IpProtocol | String | 协议：tcp、udp。 |\n| SourceCidrIp | String | 授权的源地址段。 |\n\n\
         ## 错误码\n\n| HTTP状态码 | 错误码 | 错误信息 |\n| --- | --- | --- |\n\
         | 400 | InvalidPortRange.Malformed | 端口范围格式不正确。 |\n\n\
         ## 返回示例\n\n```json\n{\"RequestId\": \"CEF72CEB-54B6-4AE8-B225-F876FF7BA984\"}\n```\n",
    )
    .unwrap();
    fs::write(
        kb.join("open-a-port.md"),
        "# 在安全组中放行端口\n\n应用监听了端口，外部却访问不到时，多半是安全组没有放行该端口。\n\n\
         1. 在控制台找到实例所在的安全组，进入规则配置。\n\
         2. 添加一条入方向规则，协议选 tcp，端口范围填 8080/8080，授权对象填访问方的地址段。\n\
         3. 保存后立即生效，无需重启实例。\n\n\
         仍然访问不到时，再检查实例内的防火墙是否也放行了该端口。\n",
    )
    .unwrap();
    let (_index, loaded) = built(&dir.path().join("kb"));
    let prior = |r: &search::SearchResponse, id: &str| {
        let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        let hit = r
            .hits
            .iter()
            .find(|h| h.id == id)
            .unwrap_or_else(|| panic!("{id} not among {ids:?}"));
        points_of(hit, "prior:reference-entry")
    };
    let mut req = SearchRequest::new("安全组怎么放行 8080 端口，tcp 协议");
    req.explain = true;
    let r = search::search(&loaded, &req).unwrap();
    assert!(
        prior(&r, "ecs/authorize-security-group").is_some_and(|p| p < 0.0),
        "{:?}",
        r.hits
    );
    assert_eq!(prior(&r, "ecs/open-a-port"), None);
    assert_eq!(r.hits[0].id, "ecs/open-a-port");

    let mut req = SearchRequest::new("放行 8080 端口报错 InvalidPortRange.Malformed");
    req.explain = true;
    let r = search::search(&loaded, &req).unwrap();
    assert_eq!(prior(&r, "ecs/authorize-security-group"), None);
    assert_eq!(r.hits[0].id, "ecs/authorize-security-group");
}

#[test]
fn a_rendering_jieba_splits_into_characters_still_finds_its_page() {
    // 钉钉 (DingTalk) is cut into two lone characters. Only the page about the concept holds
    // them, so they are rare in the KB and an English ticket's rendering keeps them; dropped
    // as uninformative, the ticket found the alarm pages by 报警 alone.
    let (_dir, config) = temp_kb();
    fs::write(
        config.kb.join("security/dingtalk-alerts.md"),
        "# 把安全告警推送到钉钉群\n\n在钉钉群中添加自定义机器人，复制机器人的 Webhook 地址，\
         填到通知设置的钉钉机器人一栏。之后该联系组收到的告警也会推送到钉钉群。\n",
    )
    .unwrap();
    index::build(&config.kb, &config.index, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&config.index, None).unwrap();
    let r = search::search(
        &loaded,
        &SearchRequest::new(
            "How do we get the security alerts sent to our DingTalk group instead of email?",
        ),
    )
    .unwrap();
    let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids[0], "security/dingtalk-alerts", "{ids:?}");
}

#[test]
fn glossary_phrases_that_hold_a_stop_word_are_rendered() {
    // `pay as you go` and `how long` hold stop words (as, you, how), which the words a
    // phrase is matched against leave out; `close my account` still reads as `close account`.
    let searcher = bundled().reader.searcher();
    let rendered = |q: &str| -> Vec<String> {
        explained_plan(bundled(), &searcher, q)
            .terms
            .iter()
            .filter(|t| !t.stands_for.is_empty())
            .map(|t| t.text.clone())
            .collect()
    };
    let r = rendered("we are on pay as you go billing, how long until the refund arrives?");
    assert!(r.iter().any(|t| t.starts_with("按量")), "{r:?}");
    assert!(r.iter().any(|t| t == "多久" || t == "多长时间"), "{r:?}");
    let r = rendered("how do i permanently close my account? dont need it anymore");
    assert!(r.iter().any(|t| t == "注销"), "{r:?}");
}
