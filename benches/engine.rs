//! Benchmarks on real text: analysis throughput against bare jieba on the same text (the ratio
//! shows how close analysis is to its limit), and in-process search / answer latency for three
//! query mixes on the bundled KB and on any corpora listed in `DEFLECT_BENCH_CORPUS`
//! (colon-separated directories: the full Alibaba Cloud corpus, and the ~100k-entry KB that
//! `scripts/make-100k.sh` builds). For those corpora the reindex itself is benched too, and
//! p50/p99 per mix are printed before criterion's timing (criterion reports means). Each
//! iteration checks its result, so a fast wrong answer cannot pass.

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

/// Up to `n` ticket texts of `tests/fixtures/tickets.jsonl` that `keep` accepts.
fn fixture_tickets(keep: impl Fn(&str) -> bool, n: usize) -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tickets.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .filter(|t| keep(t))
        .take(n)
        .collect()
}

fn long_tickets() -> Vec<String> {
    fixture_tickets(|t| t.chars().count() > 80, 40)
}

/// English tickets: searched in English and, through the glossary, in Chinese.
fn english_tickets() -> Vec<String> {
    fixture_tickets(
        |t| deflect::analysis::lang::detect(t) == deflect::analysis::lang::Lang::En,
        40,
    )
}

/// Corpora from `DEFLECT_BENCH_CORPUS` (colon-separated).
fn corpora() -> Vec<PathBuf> {
    std::env::var("DEFLECT_BENCH_CORPUS")
        .unwrap_or_default()
        .split(':')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Markdown bytes and files under `kb`.
fn kb_size(kb: &std::path::Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    for e in walkdir::WalkDir::new(kb).into_iter().flatten() {
        if e.path().extension().is_some_and(|x| x == "md") {
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            files += 1;
        }
    }
    (bytes, files)
}

/// Peak resident set of this process so far, MB (Linux; 0 elsewhere).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Builds `kb` into a fresh temporary directory (removed when the guard drops).
fn build_into_temp(kb: &std::path::Path) -> (tempfile::TempDir, index::BuildSummary) {
    let dir = tempfile::tempdir().unwrap();
    let s = index::build(
        kb,
        &dir.path().join("index"),
        &BuildOptions::default(),
        |_| {},
    )
    .unwrap();
    (dir, s)
}

/// Reindex of each corpus: files/s and MB/s (criterion), entry count checked every time,
/// index size and peak RSS printed.
fn reindex(c: &mut Criterion) {
    for kb in corpora() {
        let (bytes, files) = kb_size(&kb);
        let (_probe, first) = build_into_temp(&kb);
        println!(
            "reindex {}: {files} files, {} entries, {:.1} MB of Markdown, index {:.1} MB, first build {:.2} s, peak RSS {:.0} MB",
            kb.display(),
            first.entries,
            bytes as f64 / 1e6,
            first.index_bytes as f64 / 1e6,
            first.seconds,
            peak_rss_mb()
        );
        let mut g = c.benchmark_group(format!("reindex_{}_entries", first.entries));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(bytes));
        g.bench_function("build", |b| {
            b.iter(|| {
                let (_dir, s) = build_into_temp(&kb);
                assert_eq!(
                    s.entries, first.entries,
                    "a build that loses entries is not faster"
                );
                s.entries
            })
        });
        g.finish();
    }
}

/// p50 / p99 of `run` over three rounds of `qs`, in ms.
fn percentiles(qs: &[String], mut run: impl FnMut(&str)) -> (f64, f64) {
    let mut ms: Vec<f64> = Vec::with_capacity(qs.len() * 3);
    for _ in 0..3 {
        for q in qs {
            let t = std::time::Instant::now();
            run(q);
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.99))
}

fn latency(c: &mut Criterion) {
    let mut kbs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kb")];
    kbs.extend(corpora());
    let long = long_tickets();
    for kb in kbs {
        let (dir, built) = build_into_temp(&kb);
        let loaded = index::open(&dir.path().join("index"), Some(&kb)).unwrap();
        let name = format!("{}_entries", built.entries);
        let mut g = c.benchmark_group(format!("search_{name}"));
        let mixes: Vec<(&str, Vec<String>)> = vec![
            ("short", SHORT.iter().map(|s| s.to_string()).collect()),
            ("errors", ERRORS.iter().map(|s| s.to_string()).collect()),
            ("long_tickets", long.clone()),
            ("english_tickets", english_tickets()),
        ];
        let cfg = AnswerConfig::default();
        let ask = |q: &str| {
            answer(
                &loaded,
                &cfg,
                &AnswerRequest {
                    ticket: Ticket {
                        body: q.to_string(),
                        ..Default::default()
                    },
                    options: None,
                },
            )
            .unwrap()
        };
        for (mix, qs) in &mixes {
            let (p50, p99) = percentiles(qs, |q| {
                search(&loaded, &SearchRequest::new(q.to_string())).unwrap();
            });
            println!("search_{name}/{mix}: p50 {p50:.2} ms, p99 {p99:.2} ms");
        }
        let (p50, p99) = percentiles(&long, |q| {
            ask(q);
        });
        println!(
            "answer_{name}/long_tickets: p50 {p50:.2} ms, p99 {p99:.2} ms; peak RSS {:.0} MB",
            peak_rss_mb()
        );
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
        g.bench_with_input(
            BenchmarkId::new("answer", "long_tickets"),
            &long,
            |b, qs| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % qs.len();
                    let a = ask(&qs[i]);
                    assert!(a.confidence >= 0.0);
                    a.fixes.len()
                })
            },
        );
        g.finish();
    }
}

criterion_group!(benches, analysis, reindex, latency);
criterion_main!(benches);
