//! Command implementations behind `main.rs`: argument structs and what each command prints.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Config;
use crate::index::{self, BuildOptions, Progress};
use crate::ingest::{self, Severity};
use crate::search::{self, Filters, SearchRequest};

/// `deflect reindex`.
#[derive(Args, Debug)]
pub struct ReindexArgs {
    /// KB directory.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Index root.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `deflect search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Query or ticket text (may start with `-`, as pasted errors do).
    #[arg(allow_hyphen_values = true)]
    pub query: String,
    /// Index root.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// KB directory (for synonyms and stop words).
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Hits to show.
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
    /// Hits to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Only this category.
    #[arg(long)]
    pub category: Option<String>,
    /// Only this product (as declared in front matter).
    #[arg(long)]
    pub product: Option<String>,
    /// Only this area: the declared product, else the top-level folder (case-insensitive).
    #[arg(long)]
    pub area: Option<String>,
    /// Only this language (zh, en).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only entries with this tag (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Show what scored, per hit.
    #[arg(long)]
    pub explain: bool,
}

/// `deflect check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// KB directory.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Print problems as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Opens the index of `config`, with a clear message when there is none.
pub fn open_index(
    config: &Config,
    index: Option<&PathBuf>,
    kb: Option<&PathBuf>,
) -> anyhow::Result<index::Loaded> {
    let root = index.cloned().unwrap_or_else(|| config.index.clone());
    let kb = match (kb, index) {
        (Some(kb), _) => Some(kb.clone()),
        // An index named alone answers with the resources of the KB it was built from (or
        // its own copies), never with those of the configured KB.
        (None, Some(_)) => index::source_kb(&root),
        (None, None) => Some(config.kb.clone()),
    };
    index::open(&root, kb.as_deref()).map_err(anyhow::Error::from)
}

/// Runs `reindex`.
pub fn reindex(config: &Config, a: ReindexArgs) -> anyhow::Result<ExitCode> {
    let kb = a.kb.unwrap_or_else(|| config.kb.clone());
    let root = a.index.unwrap_or_else(|| config.index.clone());
    let opts = BuildOptions {
        limits: config.ingest.limits(),
        ..BuildOptions::default()
    };
    let tty = std::io::stderr().is_terminal() && !a.json;
    let bar = indicatif::ProgressBar::hidden();
    if tty {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg:10} [{bar:40}] {pos}/{len} files ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("reading");
    }
    let summary = index::build(&kb, &root, &opts, |p| match p {
        Progress::Start { files } => bar.set_length(files as u64),
        Progress::File => bar.inc(1),
        Progress::Commit => bar.set_message("writing"),
    });
    bar.finish_and_clear();
    let summary = summary?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for p in summary
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
        {
            eprintln!("skipped {p}");
        }
        let warnings = summary
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .count();
        if warnings > 0 {
            eprintln!("{warnings} warning(s): run `deflect check` to list them");
        }
        for w in &summary.resource_warnings {
            eprintln!("warning: {w}");
        }
        println!("{}", summary.line());
        println!("  {}", summary.phases_line());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `search`.
pub fn search(config: &Config, a: SearchArgs) -> anyhow::Result<ExitCode> {
    let loaded = open_index(config, a.index.as_ref(), a.kb.as_ref())?;
    let mut req = SearchRequest::new(truncate(&a.query, config.limits.max_query_chars));
    req.limit = a.limit.min(config.limits.max_limit);
    req.offset = a.offset;
    req.explain = a.explain;
    req.filters = Filters {
        category: a.category,
        product: a.product,
        area: a.area,
        lang: a.lang,
        tags: a.tags,
        ..Default::default()
    };
    let resp = search::search(&loaded, &req)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&resp)?);
        return Ok(ExitCode::SUCCESS);
    }
    if resp.hits.is_empty() {
        let f = &req.filters;
        let mut named: Vec<String> = [
            ("category", &f.category),
            ("product", &f.product),
            ("area", &f.area),
            ("lang", &f.lang),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        named.extend(f.tags.iter().map(|t| format!("tag={t}")));
        if resp.total > 0 {
            println!(
                "no hits past {} for {:?} ({} match(es))",
                req.offset, a.query, resp.total
            );
        } else if named.is_empty() {
            println!(
                "no match for {:?} (terms: {})",
                a.query,
                resp.terms.join(" ")
            );
        } else {
            // Say whether the filter is what left nothing.
            let mut unfiltered = req.clone();
            unfiltered.filters = Filters::default();
            unfiltered.limit = 1;
            unfiltered.offset = 0;
            unfiltered.snippets = false;
            let without = search::search(&loaded, &unfiltered)?.total;
            println!(
                "no match for {:?} with {} (terms: {}); without the filter{}: {} match(es)",
                a.query,
                named.join(", "),
                resp.terms.join(" "),
                if named.len() > 1 { "s" } else { "" },
                without
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}{} match(es), {:.1} ms, terms: {}{}",
        if resp.total_exact { "" } else { "at least " },
        resp.total,
        resp.took_ms,
        resp.terms.join(" "),
        if resp.chatter.is_empty() {
            String::new()
        } else {
            format!(" (chatter, weighted down: {})", resp.chatter.join(" "))
        }
    );
    for (i, h) in resp.hits.iter().enumerate() {
        println!(
            "{:>2}. {:7.3}  {}  [{}]",
            i + 1 + a.offset,
            h.score,
            h.title,
            h.id
        );
        let snippet = strip_marks(&h.snippet);
        if !snippet.is_empty() {
            println!("             {}", snippet.replace('\n', " "));
        }
        if let Some(parts) = &h.explain {
            // The twelve best clauses, then what re-scored the entry (priors, order), which
            // a long ticket's clauses would otherwise push out of sight.
            let rescored = |p: &&search::ScorePart| {
                p.clause.starts_with("prior:") || p.clause.starts_with("order:")
            };
            let clauses: Vec<_> = parts.iter().filter(|p| !rescored(p)).collect();
            for p in clauses.iter().take(12) {
                println!("             {:7.3}  {}", p.score, p.clause);
            }
            if clauses.len() > 12 {
                println!("             … {} more clause(s)", clauses.len() - 12);
            }
            for p in parts.iter().filter(rescored) {
                println!("             {:7.3}  {}", p.score, p.clause);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn strip_marks(s: &str) -> String {
    s.replace("<mark>", "[")
        .replace("</mark>", "]")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Cuts `s` to at most `max` chars (long tickets are truncated, not refused).
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Runs `check`: ingest problems, duplicate ids, `related` links that resolve nowhere.
pub fn check(config: &Config, a: CheckArgs) -> anyhow::Result<ExitCode> {
    let kb = a.kb.unwrap_or_else(|| config.kb.clone());
    std::fs::metadata(&kb).with_context(|| format!("cannot read the KB at {}", kb.display()))?;
    let ing = ingest::ingest(&kb, config.ingest.limits());
    let mut problems = ing.problems.clone();
    let ids: HashSet<&str> = ing
        .entries
        .iter()
        .flat_map(|e| [e.id.as_str(), e.doc_id.as_str()])
        .collect();
    let mut seen_pages = HashSet::new();
    for e in &ing.entries {
        if !seen_pages.insert(e.doc_id.clone()) {
            continue;
        }
        for r in &e.meta.related {
            if !ids.contains(r.as_str()) {
                problems.push(ingest::Problem {
                    path: e.path.clone(),
                    line: None,
                    severity: Severity::Warning,
                    message: format!("related id `{r}` is not an article of this KB"),
                });
            }
        }
    }
    let mut warnings = Vec::new();
    crate::analysis::resources::load_user_dict(&kb, &mut warnings).ok();
    crate::analysis::resources::lint_glossary(&kb, &mut warnings);
    crate::answer::topics::lint(&kb, &mut warnings);
    for w in warnings {
        problems.push(ingest::Problem {
            path: w.location,
            line: None,
            severity: Severity::Warning,
            message: w.message,
        });
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.line.cmp(&b.line)));
    if a.json {
        println!("{}", serde_json::to_string_pretty(&problems)?);
    } else {
        for p in &problems {
            println!("{p}");
        }
        let errors = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count();
        let drafts: HashSet<&str> = ing
            .entries
            .iter()
            .filter(|e| e.meta.draft)
            .map(|e| e.doc_id.as_str())
            .collect();
        let draft_note = match drafts.len() {
            0 => String::new(),
            n => format!(" ({n} draft(s): checked, not indexed)"),
        };
        println!(
            "{} file(s){draft_note}, {} entries, {} error(s) (files skipped), {} warning(s)",
            ing.files,
            ing.entries.iter().filter(|e| !e.meta.draft).count(),
            errors,
            problems.len() - errors
        );
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `deflect answer`.
#[derive(Args, Debug)]
pub struct AnswerArgs {
    /// Ticket text (may start with `-`).
    #[arg(allow_hyphen_values = true)]
    pub text: String,
    /// Subject line.
    #[arg(long)]
    pub subject: Option<String>,
    /// Customer tier.
    #[arg(long)]
    pub tier: Option<String>,
    /// The entry the customer picked from this ticket's clarifying question or suggested
    /// fixes: answer with it.
    #[arg(long)]
    pub chosen: Option<String>,
    /// Index root.
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// KB directory.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `answer`.
pub fn answer(config: &Config, a: AnswerArgs) -> anyhow::Result<ExitCode> {
    let loaded = open_index(config, a.index.as_ref(), a.kb.as_ref())?;
    let req = crate::answer::AnswerRequest {
        ticket: crate::answer::Ticket {
            subject: a.subject,
            body: truncate(&a.text, config.limits.max_query_chars),
            customer_tier: a.tier,
            ..Default::default()
        },
        options: a.chosen.map(|c| crate::answer::AnswerOptions {
            chosen: Some(c),
            ..Default::default()
        }),
    };
    let r = crate::answer::answer(&loaded, &config.answer, &req)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "decision: {}  confidence: {:.2}  language: {}  priority: {}  category: {}",
        r.decision.as_str(),
        r.confidence,
        r.language.code(),
        r.classification.priority,
        r.classification.category.as_deref().unwrap_or("-")
    );
    for f in &r.fixes {
        let section = f
            .section
            .as_ref()
            .map(|s| format!(" › {}", s.heading))
            .unwrap_or_default();
        println!(
            "  fix {:.2}  {}{section}  [{}]",
            f.confidence, f.title, f.id
        );
    }
    if let Some(reply) = &r.reply {
        println!("\n{}\n", reply.text);
    }
    if r.decision == crate::answer::Decision::Escalate {
        let e = &r.escalation;
        println!(
            "escalate: {} {} ({:?}), SLA {} min",
            e.tier, e.team, e.reason, e.sla_minutes
        );
    }
    for m in &r.missing_info {
        println!("  missing {}: {}", m.field, m.question);
    }
    Ok(ExitCode::SUCCESS)
}

/// `deflect report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Index root holding the logs (`answers.jsonl`, `feedback.jsonl`).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// KB directory (for titles and the analysis of ticket words).
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Only the last N days.
    #[arg(long)]
    pub days: Option<u64>,
    /// Rows per list (fixes, gaps).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `report`: decisions, feedback per fix and KB gaps from the answer log.
pub fn report(config: &Config, a: ReportArgs) -> anyhow::Result<ExitCode> {
    let root = a.index.clone().unwrap_or_else(|| config.index.clone());
    let loaded = open_index(config, a.index.as_ref(), a.kb.as_ref())?;
    let opts = crate::report::Options {
        since: a
            .days
            .map(|d| crate::answer::log::now().saturating_sub(d.saturating_mul(86_400))),
        top: a.top.max(1),
    };
    let r = crate::report::from_dir(&loaded, &root, opts)
        .with_context(|| format!("read the logs in {}", root.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        if r.answers == 0 && !config.answer_log {
            eprintln!("note: the answer log is off (`answer_log = false`)");
        }
        print!("{}", crate::report::render(&r));
    }
    Ok(ExitCode::SUCCESS)
}

/// `deflect eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// KB to evaluate (built into --index, or a scratch index, when needed).
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Index root (default: the configured one, or a scratch index for --kb).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Rebuild the index even if one exists.
    #[arg(long)]
    pub rebuild: bool,
    /// queries.tsv (qid, set, query).
    #[arg(long, requires = "qrels")]
    pub queries: Option<PathBuf>,
    /// qrels.tsv (qid, doc_id, rel).
    #[arg(long)]
    pub qrels: Option<PathBuf>,
    /// JSONL tickets {id, text, relevant, expect}.
    #[arg(long)]
    pub tickets: Option<PathBuf>,
    /// Only these sets (repeatable).
    #[arg(long = "set")]
    pub sets: Vec<String>,
    /// Plain BM25 over the body field: no boosts, synonyms, stop words or dedupe.
    #[arg(long)]
    pub baseline: bool,
    /// Ranking weight overrides for tuning, e.g. `coord=2,title=2.5` (see search::Weights).
    #[arg(long)]
    pub weights: Option<String>,
    /// Fit the confidence model on the dev split and print its coefficients.
    #[arg(long)]
    pub fit_confidence: bool,
    /// With --fit-confidence: `--results` files of ticket sets run on other KBs, whose dev
    /// tickets join the fit (repeatable). A model fitted on more than one KB carries over
    /// to a KB it has not seen.
    #[arg(long = "fit-with", requires = "fit_confidence")]
    pub fit_with: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Write an HTML report.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Write every query's outcome (query, expected, ranked pages) as JSON lines.
    #[arg(long)]
    pub results: Option<PathBuf>,
}

/// Runs `eval`.
pub fn eval(config: &Config, a: EvalArgs) -> anyhow::Result<ExitCode> {
    use crate::eval;
    // With `--index` alone the index is checked against, and rebuilt from, the KB it was
    // built from; the configured KB is for runs that name neither.
    let (kb, root) = match (&a.kb, &a.index) {
        (Some(kb), Some(ix)) => (Some(kb.clone()), ix.clone()),
        (Some(kb), None) => {
            let name: String = kb
                .display()
                .to_string()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            (
                Some(kb.clone()),
                PathBuf::from("data/eval-index").join(name),
            )
        }
        (None, Some(ix)) => (index::source_kb(ix), ix.clone()),
        (None, None) => (Some(config.kb.clone()), config.index.clone()),
    };
    let loaded = match kb {
        None => {
            if !index::exists(&root) {
                anyhow::bail!("no index at {}: give --kb to build one", root.display());
            }
            if a.rebuild {
                anyhow::bail!(
                    "--rebuild: the KB the index at {} was built from is gone; give --kb",
                    root.display()
                );
            }
            index::open(&root, None)?
        }
        Some(kb) => {
            let stale = match index::open(&root, None) {
                Err(index::IndexError::Version { .. } | index::IndexError::Fields { .. }) => true,
                // Results must describe the KB as it is, not as it was at the last build.
                Ok(l) => match index::kb_changed_since(&kb, l.meta.built_at) {
                    Some(p) => {
                        eprintln!("{} changed since the index was built", p.display());
                        true
                    }
                    None => false,
                },
                Err(_) => false,
            };
            if a.rebuild || stale || !index::exists(&root) {
                eprintln!(
                    "building the index of {} into {} …",
                    kb.display(),
                    root.display()
                );
                let opts = BuildOptions {
                    limits: config.ingest.limits(),
                    ..BuildOptions::default()
                };
                let s = index::build(&kb, &root, &opts, |_| {})?;
                eprintln!("{}", s.line());
            }
            index::open(&root, Some(&kb))?
        }
    };
    let mut queries = Vec::new();
    if let (Some(q), Some(r)) = (&a.queries, &a.qrels) {
        queries.extend(eval::load_tsv(q, r)?);
    }
    if let Some(t) = &a.tickets {
        queries.extend(eval::load_jsonl(t)?);
    }
    if queries.is_empty() {
        anyhow::bail!("no queries: give --queries and --qrels, or --tickets");
    }
    if !a.sets.is_empty() {
        queries.retain(|q| a.sets.contains(&q.set));
    }
    let weights = match &a.weights {
        Some(spec) => search::DEFAULT_WEIGHTS
            .with_overrides(spec)
            .map_err(|e| anyhow::anyhow!("--weights: {e}"))?,
        None => search::DEFAULT_WEIGHTS,
    };
    let mode = if a.baseline {
        search::Mode::Baseline
    } else {
        search::Mode::Ranked(weights)
    };
    let mut sets: Vec<String> = queries.iter().map(|q| q.set.clone()).collect();
    sets.sort();
    sets.dedup();
    let mut all = Vec::new();
    let mut summaries = Vec::new();
    for set in sets {
        let qs: Vec<_> = queries.iter().filter(|q| q.set == set).cloned().collect();
        let answers = qs.iter().any(|q| q.expect.is_some());
        let results = eval::run(&loaded, &qs, mode, answers, &config.answer)?;
        summaries.extend(eval::summarize(&results, &set));
        if a.fit_confidence && answers {
            let mut sources: Vec<(String, Vec<eval::FitSample>)> = vec![(
                set.clone(),
                results.iter().map(eval::FitSample::from).collect(),
            )];
            for p in &a.fit_with {
                sources.push((p.display().to_string(), eval::load_fit_samples(p)?));
            }
            let pooled: Vec<eval::FitSample> = sources
                .iter()
                .flat_map(|(_, s)| s.iter().cloned())
                .collect();
            let c = eval::fit_confidence(&pooled);
            let names: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
            println!(
                "fitted on the dev split of {}: COEFFICIENTS = {c:?}",
                names.join(" + ")
            );
            println!(
                "features: intercept, {}",
                crate::answer::confidence::FEATURES.join(", ")
            );
            for (name, samples) in &sources {
                for split in ["dev", "test"] {
                    let scored: Vec<(f32, bool)> = samples
                        .iter()
                        .filter(|r| r.split == split)
                        .filter_map(|r| {
                            r.features.map(|f| {
                                (
                                    crate::answer::confidence::predict_with(&c, &f),
                                    r.top1_right,
                                )
                            })
                        })
                        .collect();
                    println!(
                        "  {name} {split}: AUC(top-1 right) with fitted model = {:.3}",
                        crate::answer::confidence::auc(&scored)
                    );
                }
            }
        }
        all.push((set, results));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    } else {
        print!("{}", eval::table(&summaries));
    }
    if let Some(p) = &a.results {
        let mut out = String::new();
        for (set, results) in &all {
            for r in results {
                let mut v = serde_json::to_value(r)?;
                v["set"] = serde_json::Value::from(set.as_str());
                out.push_str(&serde_json::to_string(&v)?);
                out.push('\n');
            }
        }
        std::fs::write(p, out).with_context(|| format!("write {}", p.display()))?;
        eprintln!("per-query results written to {}", p.display());
    }
    if let Some(p) = &a.report {
        std::fs::write(p, eval::report::render(&summaries, &all))
            .with_context(|| format!("write {}", p.display()))?;
        eprintln!("report written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `deflect serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// KB directory.
    #[arg(long)]
    pub kb: Option<PathBuf>,
    /// Index root (built on first start if there is none).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Listen address (host:port).
    #[arg(long)]
    pub listen: Option<String>,
    /// Also serve the operations endpoints (/healthz, /readyz, /metrics, /v1/admin/reindex)
    /// alone on this address, from a thread of their own: probes answer under any load.
    #[arg(long)]
    pub ops_listen: Option<String>,
    /// Reindex when files under the KB change (debounced).
    #[arg(long)]
    pub watch: bool,
}

/// Runs `serve`.
pub fn serve(mut config: Config, a: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(kb) = a.kb {
        config.kb = kb;
    }
    if let Some(ix) = a.index {
        config.index = ix;
    }
    if let Some(l) = a.listen {
        config.listen = l;
    }
    if let Some(l) = a.ops_listen {
        config.ops_listen = Some(l);
    }
    config.validate()?;
    let started = std::time::Instant::now();
    let (engine, built) = crate::engine::Engine::open_or_build(&config)?;
    if let Some(s) = &built {
        eprintln!("{}", s.line());
    }
    let engine = std::sync::Arc::new(engine);
    if built.is_none() && !a.watch {
        // Off the start-up path: a stat per KB file.
        let (kb, since) = (config.kb.clone(), engine.loaded().meta.built_at);
        std::thread::spawn(move || {
            if let Some(p) = index::kb_changed_since(&kb, since) {
                eprintln!(
                    "note: {} changed after this index was built; run `deflect reindex` (or POST /v1/admin/reindex, or serve with --watch) to serve the KB as it is",
                    p.display()
                );
            }
        });
    }
    let _watcher = if a.watch {
        Some(
            crate::http::watch(
                engine.clone(),
                std::time::Duration::from_millis(config.watch_debounce_ms),
            )
            .context("cannot watch the KB")?,
        )
    } else {
        None
    };
    if config.admin_keys.is_empty() {
        eprintln!("note: no admin key set (DEFLECT_ADMIN_KEY): /v1/admin/reindex answers 401 until one is configured");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let ops_listener = match &config.ops_listen {
            Some(ops) => Some(
                std::net::TcpListener::bind(ops)
                    .with_context(|| format!("cannot listen on {ops} (ops_listen)"))?,
            ),
            None => None,
        };
        let entries = engine.loaded().meta.entries;
        println!(
            "deflect serving {} entries from {} on http://{addr}/ (ready in {:.2} s)",
            entries,
            config.kb.display(),
            started.elapsed().as_secs_f64()
        );
        let state = crate::http::AppState::new(engine, config);
        if let Some(l) = ops_listener {
            println!(
                "operations endpoints (/healthz, /readyz, /metrics, /v1/admin/reindex) also on http://{}/",
                l.local_addr()?
            );
            // Ends with the process: probes keep answering while in-flight requests finish.
            crate::http::serve_ops(l, state.clone(), std::future::pending())?;
        }
        let draining = state.clone();
        let shutdown = async move {
            crate::http::shutdown_signal().await;
            draining.drain();
        };
        crate::http::serve(listener, state, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
