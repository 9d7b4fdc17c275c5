//! Relevance floors on a fixed slice of real data: the 5-product Alibaba Cloud sample in
//! ../shared/data with its eval_sample queries. The floors sit a little below the measured
//! values, so a ranking regression fails CI. Properties checked:
//! - faq_section (question → its own FAQ section): found at rank 1 almost always;
//! - faq_link (question → the article its answer links to): MRR@10 and R@10 floors.
//!
//! And on the full Alibaba Cloud corpus (14,107 files, unpacked from ../shared/data into a
//! temp directory): floors on its pasted errors and FAQ links, and on the Alibaba Cloud
//! tickets' ranking and no-answer escalations, so a change tuned on the small KB cannot
//! quietly cost the large one. And on the TiDB docs, a KB nothing was tuned on: the TiDB
//! tickets' ranking and escalations. And on the AWS EC2 guides: that a hit names the
//! section its error heading label points at.

use deflect::config::AnswerConfig;
use deflect::eval::{load_jsonl, load_tsv, run, summarize, LabelledQuery, Summary};
use deflect::index::{self, BuildOptions};
use deflect::search::{Mode, DEFAULT_WEIGHTS};

use super::common::{built, shared_data};

/// `rel` under ../shared/data, or None (the test skips) when it is missing outside CI.
fn shared(rel: &str) -> Option<std::path::PathBuf> {
    let path = shared_data().join(rel);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing on CI",
        path.display()
    );
    eprintln!("skipping: {} not found", path.display());
    None
}

/// The summary over both splits of `set`.
fn over_all(results: &[deflect::eval::QueryResult], set: &str) -> Summary {
    summarize(results, set)
        .into_iter()
        .find(|s| s.split == "all")
        .unwrap()
}

/// The ranking of the `set` queries of `queries` over `loaded`, both splits.
fn set_over(loaded: &index::Loaded, queries: &[LabelledQuery], set: &str) -> Summary {
    let qs: Vec<_> = queries.iter().filter(|q| q.set == set).cloned().collect();
    let r = run(
        loaded,
        &qs,
        Mode::Ranked(DEFAULT_WEIGHTS),
        false,
        &AnswerConfig::default(),
    )
    .unwrap();
    over_all(&r, set)
}

/// The ranking and decisions of tests/fixtures/`set`.jsonl over `loaded`, both splits.
fn tickets_over(loaded: &index::Loaded, set: &str) -> Summary {
    let tickets = load_jsonl(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/{set}.jsonl")),
    )
    .unwrap();
    let r = run(
        loaded,
        &tickets,
        Mode::Ranked(DEFAULT_WEIGHTS),
        true,
        &AnswerConfig::default(),
    )
    .unwrap();
    over_all(&r, set)
}

#[test]
fn alibaba_sample_floors() {
    let Some(data) = shared("alibabacloud-docs") else {
        return;
    };
    let (_dir, loaded) = built(&data.join("articles"));
    let queries = load_tsv(
        &data.join("eval_sample/queries.tsv"),
        &data.join("eval_sample/qrels.tsv"),
    )
    .unwrap();
    let get = |set: &str| set_over(&loaded, &queries, set);
    let sec = get("faq_section");
    assert!(sec.r10 >= 0.99 && sec.mrr10 >= 0.97, "faq_section {sec:?}");
    let link = get("faq_link");
    assert!(link.mrr10 >= 0.24 && link.r10 >= 0.46, "faq_link {link:?}");
}

/// Builds `kb` (under `dir`), writes one faq_link query and its qrels lines
/// (`doc_id<TAB>rel`), and runs the evaluation on it.
fn eval_one_faq_link(
    dir: &std::path::Path,
    kb: &std::path::Path,
    query: &str,
    qrels: &[String],
) -> deflect::eval::QueryResult {
    let q = dir.join("queries.tsv");
    let r = dir.join("qrels.tsv");
    std::fs::write(
        &q,
        format!("qid\tset\tquery\nfaq_link-1\tfaq_link\t{query}\n"),
    )
    .unwrap();
    let lines: String = qrels.iter().map(|l| format!("faq_link-1\t{l}\n")).collect();
    std::fs::write(&r, format!("qid\tdoc_id\trel\n{lines}")).unwrap();
    let root = dir.join("index");
    index::build(kb, &root, &BuildOptions::default(), |_| {}).unwrap();
    let loaded = index::open(&root, None).unwrap();
    let queries = load_tsv(&q, &r).unwrap();
    run(
        &loaded,
        &queries,
        Mode::Ranked(DEFAULT_WEIGHTS),
        false,
        &AnswerConfig::default(),
    )
    .unwrap()
    .remove(0)
}

/// faq_link protocol: the query's own FAQ page (qrels rel 1) is left out of the ranking
/// before scoring. A page with many close questions must not crowd the linked article out
/// of the top 10, as it did when its entries were only dropped from the results afterwards.
#[test]
fn own_faq_page_is_left_out_before_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    std::fs::create_dir_all(kb.join("eip")).unwrap();
    let mut faq = String::from("---\ntype: faq\n---\n# 弹性公网IP配额常见问题\n");
    for i in 0..14 {
        faq.push_str(&format!(
            "## 弹性公网IP配额问题{i}：一个账号可以申请多少个弹性公网IP？\n\
             弹性公网IP的配额见使用限制。\n"
        ));
    }
    std::fs::write(kb.join("eip/faq.md"), faq).unwrap();
    std::fs::write(
        kb.join("eip/limits.md"),
        "# 使用限制\n\n每个账号默认最多可以持有 20 个弹性公网IP，可以在配额中心提交申请。\n",
    )
    .unwrap();
    std::fs::write(
        kb.join("eip/bind.md"),
        "# 绑定实例\n\n把弹性公网IP绑定到 ECS 实例上。\n",
    )
    .unwrap();
    let res = eval_one_faq_link(
        dir.path(),
        &kb,
        "一个账号可以申请多少个弹性公网IP？",
        &["eip/limits.md\t2".into(), "eip/faq.md\t1".into()],
    );
    assert!(
        res.got.iter().all(|p| p != "eip/faq"),
        "the own page was ranked: {:?}",
        res.got
    );
    assert_eq!(res.got.first().map(String::as_str), Some("eip/limits"));
}

/// The labels leave out "every FAQ page that carries the same question". A KB that keeps an
/// old and a new layout carries it twice, and when the copy's heading differs only in spacing
/// or punctuation the labels miss the copy; eval leaves it out by the key a search collapses
/// copies by. A page that carries a different question stays in.
#[test]
fn a_copy_of_the_own_question_is_left_out_too() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    for d in ["ecs/faq", "ecs/old/faq"] {
        std::fs::create_dir_all(kb.join(d)).unwrap();
    }
    let faq = |q: &str, other: &str| {
        format!(
            "---\ntype: faq\n---\n# 镜像常见问题\n\n## {q}\n\n可以，用这台实例之前做的自定义镜像\
             创建新实例即可，见使用自定义镜像创建实例。\n\n## {other}\n\n\
             实例释放后，用它之前做的自定义镜像创建新实例，就能找回数据。\n"
        )
    };
    std::fs::write(
        kb.join("ecs/faq/images.md"),
        faq(
            "实例释放后，能用之前做的镜像找回数据吗？",
            "公共镜像收费吗？",
        ),
    )
    .unwrap();
    // The old layout: the same question with other punctuation and spacing.
    std::fs::write(
        kb.join("ecs/old/faq/images.md"),
        faq("实例释放后 能用之前做的镜像找回数据吗?", "公共镜像收费吗？"),
    )
    .unwrap();
    // Another FAQ page whose question differs, though its answer shares the words.
    std::fs::write(
        kb.join("ecs/faq/release.md"),
        faq("实例到期释放后，数据还在吗？", "释放后还收费吗？"),
    )
    .unwrap();
    std::fs::write(
        kb.join("ecs/custom-image.md"),
        "# 使用自定义镜像创建实例\n\n在控制台选择自定义镜像，创建一台新的实例。\n",
    )
    .unwrap();
    let own = format!(
        "ecs/faq/images.md#{}",
        &format!(
            "{:x}",
            md5::compute("实例释放后，能用之前做的镜像找回数据吗？")
        )[..8]
    );
    let res = eval_one_faq_link(
        dir.path(),
        &kb,
        "实例释放后，能用之前做的镜像找回数据吗？",
        &[
            "ecs/custom-image.md\t2".into(),
            format!("{own}\t1"),
            "ecs/faq/images.md\t1".into(),
        ],
    );
    let got = &res.got;
    assert!(
        got.iter()
            .all(|p| p != "ecs/faq/images" && p != "ecs/old/faq/images"),
        "the own question's pages were ranked: {got:?}"
    );
    assert!(got.iter().any(|p| p == "ecs/faq/release"), "{got:?}");
    assert!(got.iter().any(|p| p == "ecs/custom-image"), "{got:?}");
}

/// Floors on the full Alibaba Cloud corpus, measured at 5139a90 (all queries, page level):
/// error_string MRR@10 0.890 / R@10 0.958, faq_link 0.250 / 0.490; Alibaba tickets MRR@10
/// 0.763 / R@10 0.955, no-answer tickets escalated 32/33. error_string MRR@10 0.918 since the
/// verbatim prior: its floor rose from 0.87 to 0.90; 0.940 since a quoting page scores on the
/// phrase no less than the pages that do not quote it: 0.92.
#[test]
fn alibaba_full_corpus_floors() {
    let Some(archive) = shared("alibabacloud-docs/alibabacloud-docs-cn-full.tar.xz") else {
        return;
    };
    let data = shared_data().join("alibabacloud-docs");
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xJf {}", archive.display());
    let root = dir.path().join("index");
    let built = index::build(
        &dir.path().join("articles"),
        &root,
        &BuildOptions::default(),
        |_| {},
    )
    .unwrap();
    assert_eq!(built.files, 14_107, "{built:?}");
    let loaded = index::open(&root, None).unwrap();
    let queries = load_tsv(
        &data.join("eval_full/queries.tsv"),
        &data.join("eval_full/qrels.tsv"),
    )
    .unwrap();
    for (set, mrr, r10) in [("error_string", 0.92, 0.96), ("faq_link", 0.23, 0.47)] {
        let s = set_over(&loaded, &queries, set);
        eprintln!("{set}: MRR@10 {:.3} R@10 {:.3}", s.mrr10, s.r10);
        assert!(s.mrr10 >= mrr && s.r10 >= r10, "{set} {s:?}");
    }
    let s = tickets_over(&loaded, "alibaba_tickets");
    assert!(s.mrr10 >= 0.72 && s.r10 >= 0.93, "alibaba tickets {s:?}");
    let d = s.decisions.expect("tickets have decisions");
    eprintln!(
        "alibaba tickets: MRR@10 {:.3} R@10 {:.3}, no-answer escalated {:.3} of {}",
        s.mrr10, s.r10, d.escalation_recall_no_answer, d.n_no_answer
    );
    assert!(
        d.n_no_answer >= 30 && d.escalation_recall_no_answer >= 0.9,
        "no-answer escalations {d:?}"
    );
    // The second set, written blind (tests/fixtures/alibaba_tickets2.README.md). Measured at
    // its commit: MRR@10 0.495, R@10 0.732; 13 of 15 no-answer and 16 of 16 rule tickets
    // escalated. The floors sit a little below. Since chatter weighting (51f1258): MRR@10
    // 0.536, R@10 0.775, and 12 of 15 no-answer tickets escalated, at the floor: the
    // vaguest (`RDS MySQL 慢查询特别多，CPU也很高，怎么优化`) is now asked to clarify.
    // English tickets on this Chinese KB (tests/fixtures/alibaba_tickets_en.README.md), the
    // set English rendering was tuned on: MRR@10 0.439, R@10 0.800 on its first 25 answerable
    // tickets since their sentences' renderings count at `translation_sentence` (0.274 /
    // 0.680 before). With the 15 labelled in a second pass (SLS, CMS, ARMS, Kafka, WAF, DDoS,
    // certificates, Cloud Firewall, Bastionhost, KMS, ROS, Hologres, GPDB, DCDN): 0.361 / 0.675;
    // 0.444 / 0.775 since reference pages yield (78cf674), the glossary grew (68d72d0) and a
    // rendering's rare lone characters are kept (3ee31b1).
    let s = tickets_over(&loaded, "alibaba_tickets_en");
    eprintln!(
        "alibaba English tickets: MRR@10 {:.3} R@10 {:.3}",
        s.mrr10, s.r10
    );
    assert!(
        s.mrr10 >= 0.40 && s.r10 >= 0.72,
        "alibaba English tickets {s:?}"
    );
    let s = tickets_over(&loaded, "alibaba_tickets2");
    let d = s.decisions.as_ref().expect("tickets have decisions");
    eprintln!(
        "alibaba tickets 2: MRR@10 {:.3} R@10 {:.3}, no-answer escalated {:.3} of {}, rules {:.3} of {}",
        s.mrr10, s.r10, d.escalation_recall_no_answer, d.n_no_answer, d.escalation_recall_rules, d.n_rules
    );
    assert!(s.mrr10 >= 0.45 && s.r10 >= 0.68, "alibaba tickets 2 {s:?}");
    assert!(
        d.n_no_answer >= 15
            && d.escalation_recall_no_answer >= 0.8
            && d.escalation_recall_rules >= 1.0,
        "alibaba tickets 2 escalations {d:?}"
    );
}

/// TiDB's FAQ questions labelled at a sub-section of a long page (`dm-error-handling`,
/// `troubleshoot-ticdc`): the hit on that page names it. Measured: 38 of 51 when only a
/// heading the query quotes was named, 45 since the section the query describes is named
/// too (of the other five, one names the right heading and is told apart by its slug).
#[test]
fn tidb_faq_sections_are_named() {
    let Some(data) = shared("pingcap-docs-cn") else {
        return;
    };
    let (_dir, loaded) = built(&data.join("articles"));
    let queries = load_tsv(&data.join("eval/queries.tsv"), &data.join("eval/qrels.tsv")).unwrap();
    let s = set_over(&loaded, &queries, "faq_section");
    assert!(
        s.n_section >= 50 && s.section_acc >= 0.85,
        "sections named {} of {}",
        s.section_acc * s.n_section as f64,
        s.n_section
    );
}

/// Floors on a KB no weight or confidence coefficient was tuned on: the TiDB docs (87 pages
/// of ../shared/data) with tests/fixtures/tidb_tickets.jsonl, written before their authors
/// opened the pages. Measured at 9816ad6: MRR@10 0.733, R@10 0.976; 13 of 13 no-answer
/// tickets and 12 of 12 P0, security and human-request tickets escalated.
#[test]
fn tidb_tickets_floors() {
    let Some(data) = shared("pingcap-docs-cn") else {
        return;
    };
    let (_dir, loaded) = built(&data.join("articles"));
    let s = tickets_over(&loaded, "tidb_tickets");
    assert!(s.mrr10 >= 0.70 && s.r10 >= 0.95, "tidb tickets {s:?}");
    let d = s.decisions.expect("tickets have decisions");
    assert!(
        d.n_no_answer == 13 && d.escalation_recall_no_answer >= 0.9,
        "no-answer escalations {d:?}"
    );
    assert!(
        d.n_rules == 12 && d.escalation_recall_rules >= 1.0,
        "P0, security and human-request escalations {d:?}"
    );
}

/// English tickets on an English KB the model was not fitted on: the AWS EC2 troubleshooting
/// guides with tests/fixtures/aws_tickets.jsonl, written before their author opened the pages.
/// Measured at its first run: MRR@10 0.936, R@10 1.000; 8 of 8 auto-replies right; 9 of 9
/// no-answer and 7 of 7 P0, security, billing and human-request tickets escalated.
#[test]
fn aws_tickets_floors() {
    let Some(data) = shared("awsdocs-ec2-en") else {
        return;
    };
    let (_dir, loaded) = built(&data.join("articles"));
    let s = tickets_over(&loaded, "aws_tickets");
    assert!(s.mrr10 >= 0.88 && s.r10 >= 0.97, "aws tickets {s:?}");
    // The tickets describe symptoms in their own words, and the labels are the guides'
    // sections: 6 of 32 hits named theirs when a section had to be named by its heading,
    // 14 since the section the ticket describes is named too.
    assert!(
        s.n_section >= 30 && s.section_acc >= 0.35,
        "sections named {} of {}",
        s.section_acc * s.n_section as f64,
        s.n_section
    );
    let d = s.decisions.expect("tickets have decisions");
    assert!(
        d.auto_precision >= 0.85 && d.auto_coverage >= 0.15,
        "auto-replies {d:?}"
    );
    assert!(
        d.n_no_answer == 9 && d.escalation_recall_no_answer >= 0.85,
        "no-answer escalations {d:?}"
    );
    assert!(
        d.n_rules == 7 && d.escalation_recall_rules >= 1.0,
        "P0, security, billing and human-request escalations {d:?}"
    );
}

/// Chat-widget messages on the bundled KB (tests/fixtures/chat_tickets.jsonl): short,
/// unpunctuated, misspelt, Cantonese, English; written blind and labelled by a second author
/// who read only the KB. Measured at its first run: MRR@10 0.853, R@10 0.940; auto_reply
/// precision 0.850 at coverage 0.773; 5 of 9 no-answer and 4 of 5 rule tickets escalated.
/// After one alias of the region-migration article was narrowed (`把服务器转到另一个账号`
/// had a domain ticket auto-replied with it): precision 0.872, 6 of 9 no-answer escalated.
/// `chat-063` (snapshot retention) and `chat-044` (an instance stuck stopping) have been
/// labelled with the articles since written for them: 7 no-answer tickets.
#[test]
fn chat_tickets_floors() {
    let s = tickets_over(super::common::bundled(), "chat_tickets");
    assert!(s.n >= 50, "{s:?}");
    assert!(s.mrr10 >= 0.80 && s.r10 >= 0.90, "chat tickets {s:?}");
    let d = s.decisions.expect("tickets have decisions");
    assert!(
        d.auto_precision >= 0.82 && d.auto_coverage >= 0.70,
        "auto-replies {d:?}"
    );
    assert!(
        d.n_no_answer == 7 && d.escalation_recall_no_answer >= 0.55,
        "no-answer escalations {d:?}"
    );
    assert!(
        d.n_rules == 5 && d.escalation_recall_rules >= 0.79,
        "P0, security, billing and human-request escalations {d:?}"
    );
}

/// On the AWS EC2 troubleshooting guides (English, exported from HTML with `<a name>`
/// anchors), each error_heading query is labelled at its section (`page#anchor`): the hit
/// on that page must name the section, not only the page. Measured: 0 of 27 when no
/// `<a name>` anchor was read, 21 at 911cb09, 23 with sections named on pages over 4 KB
/// (the other 4 are on pages shorter than that), 26 over 1 KB; every query's page in the
/// top 10.
#[test]
fn aws_error_headings_name_their_section() {
    let Some(data) = shared("awsdocs-ec2-en") else {
        return;
    };
    let (_dir, loaded) = built(&data.join("articles"));
    let queries = load_tsv(&data.join("queries.tsv"), &data.join("qrels.tsv")).unwrap();
    let s = set_over(&loaded, &queries, "error_heading");
    assert!(s.r10 >= 0.99, "error_heading {s:?}");
    assert!(
        s.n_section >= 25 && s.section_acc >= 0.9,
        "sections named {} of {}",
        s.section_acc * s.n_section as f64,
        s.n_section
    );
}
