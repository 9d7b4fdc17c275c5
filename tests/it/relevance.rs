//! Relevance floors on a fixed slice of real data: the 5-product Alibaba Cloud sample in
//! ../shared/data with its eval_sample queries. The floors sit a little below the measured
//! values, so a ranking regression fails CI. Properties checked:
//! - faq_section (question → its own FAQ section): found at rank 1 almost always;
//! - faq_link (question → the article its answer links to): MRR@10 and R@10 floors.

use deflect::config::AnswerConfig;
use deflect::eval::{load_tsv, run, summarize};
use deflect::index::{self, BuildOptions};
use deflect::search::{Mode, DEFAULT_WEIGHTS};

use super::common::shared_data;

#[test]
fn alibaba_sample_floors() {
    let data = shared_data().join("alibabacloud-docs");
    if !data.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/data is missing on CI"
        );
        eprintln!("skipping: {} not found", data.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("index");
    index::build(
        &data.join("articles"),
        &root,
        &BuildOptions::default(),
        |_| {},
    )
    .unwrap();
    let loaded = index::open(&root, None).unwrap();
    let queries = load_tsv(
        &data.join("eval_sample/queries.tsv"),
        &data.join("eval_sample/qrels.tsv"),
    )
    .unwrap();
    let get = |set: &str| {
        let qs: Vec<_> = queries.iter().filter(|q| q.set == set).cloned().collect();
        let r = run(
            &loaded,
            &qs,
            Mode::Ranked(DEFAULT_WEIGHTS),
            false,
            &AnswerConfig::default(),
        )
        .unwrap();
        summarize(&r, set)
            .into_iter()
            .find(|s| s.split == "all")
            .unwrap()
    };
    let sec = get("faq_section");
    assert!(sec.r10 >= 0.99 && sec.mrr10 >= 0.97, "faq_section {sec:?}");
    let link = get("faq_link");
    assert!(link.mrr10 >= 0.24 && link.r10 >= 0.46, "faq_link {link:?}");
}
