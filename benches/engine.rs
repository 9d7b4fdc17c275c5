//! Benchmarks on real text: analysis throughput against bare jieba on the same text (the ratio
//! shows how close analysis is to its limit), and in-process search / answer latency for three
//! query mixes on the bundled KB and, when it is unpacked, the full Alibaba Cloud corpus
//! (`DEFLECT_BENCH_CORPUS=path/to/articles`). Each iteration checks its result, so a fast wrong
//! answer cannot pass.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use deflect::analysis::Analyzer;
use deflect::answer::{answer, AnswerRequest, Ticket};
use deflect::config::AnswerConfig;
use deflect::index::{self, BuildOptions};
use deflect::search::{search, SearchRequest};

fn kb_text() -> String {
    let kb = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kb");
    let mut s = String::new();
    for e in walkdir::WalkDir::new(kb).into_iter().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            s.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    s
}

fn analysis(c: &mut Criterion) {
    let text = kb_text();
    let analyzer = Analyzer::new(&[]);
    let jieba = jieba_rs::Jieba::new();
    let mut g = c.benchmark_group("analysis");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    g.bench_function("deflect_analyzer", |b| {
        b.iter(|| {
            let n = analyzer.analyze(&text).len();
            assert!(n > 10_000);
            n
        })
    });
    g.bench_function("bare_jieba_cut", |b| {
        b.iter(|| {
            let n = jieba.cut(&text, true).len();
            assert!(n > 10_000);
            n
        })
    });
    g.finish();
}

const SHORT: &[&str] = &[
    "ssh 连不上",
    "502",
    "欠费停机",
    "云盘扩容",
    "证书过期",
    "rds 慢查询",
    "oss 403",
    "cdn 刷新",
];
const ERRORS: &[&str] = &[
    "ERROR 1040 (HY000): Too many connections",
    "Permission denied (publickey)",
    "SignatureDoesNotMatch",
    "No space left on device",
    "Kernel panic - not syncing: VFS: Unable to mount root fs",
    "502 Bad Gateway",
];

fn long_tickets() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tickets.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .filter(|t| t.chars().count() > 80)
        .take(40)
        .collect()
}

fn latency(c: &mut Criterion) {
    let mut kbs = vec![(
        "bundled_kb".to_string(),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kb"),
    )];
    if let Ok(p) = std::env::var("DEFLECT_BENCH_CORPUS") {
        kbs.push(("corpus".to_string(), PathBuf::from(p)));
    }
    let long = long_tickets();
    for (name, kb) in kbs {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("index");
        index::build(&kb, &root, &BuildOptions::default(), |_| {}).unwrap();
        let loaded = index::open(&root, Some(&kb)).unwrap();
        let mut g = c.benchmark_group(format!("search_{name}"));
        let mixes: Vec<(&str, Vec<String>)> = vec![
            ("short", SHORT.iter().map(|s| s.to_string()).collect()),
            ("errors", ERRORS.iter().map(|s| s.to_string()).collect()),
            ("long_tickets", long.clone()),
        ];
        for (mix, qs) in &mixes {
            g.bench_with_input(BenchmarkId::new("search", mix), qs, |b, qs| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % qs.len();
                    let r = search(&loaded, &SearchRequest::new(qs[i].clone())).unwrap();
                    assert!(r.total > 0, "{}", qs[i]);
                    r.hits.len()
                })
            });
        }
        let cfg = AnswerConfig::default();
        g.bench_with_input(
            BenchmarkId::new("answer", "long_tickets"),
            &long,
            |b, qs| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % qs.len();
                    let a = answer(
                        &loaded,
                        &cfg,
                        &AnswerRequest {
                            ticket: Ticket {
                                body: qs[i].clone(),
                                ..Default::default()
                            },
                            options: None,
                        },
                    )
                    .unwrap();
                    assert!(a.confidence >= 0.0);
                    a.fixes.len()
                })
            },
        );
        g.finish();
    }
}

criterion_group!(benches, analysis, latency);
criterion_main!(benches);
