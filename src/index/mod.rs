//! Index: building generations of the Tantivy index and opening the current one.
//!
//! Layout of an index root:
//!
//! ```text
//! data/index/
//!   CURRENT            name of the serving generation, replaced atomically (rename)
//!   gen-000003/        one immutable generation: tantivy/ + deflect.json + analysis resources
//!   .building-…/       a build in progress (removed by the next reindex if it was killed)
//!   .lock              held while a build runs: two reindexes never write at once
//! ```
//!
//! A build writes a fresh generation, verifies it (entry count, a probe query), and only then
//! points `CURRENT` at it, so a failed or killed build never touches what is serving.

pub mod bm25;
pub mod columns;
pub mod schema;
pub mod stored;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use schema::{Fields, BODY_HEAD, SCHEMA_VERSION, TEXT_STORE_FILE};

use crate::analysis::resources::{self, QueryResources, ResourceWarning};
use crate::analysis::{
    Analyzer, DeflectTokenizer, PreTokenizedTokenizer, PRETOKENIZED_NAME, TOKENIZER_NAME,
};
use crate::ingest::{self, Entry, Limits, Problem};

/// Errors of building or opening an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No index at the path.
    #[error("no index at {0}: run `deflect reindex` first")]
    Missing(PathBuf),
    /// Built by another schema version.
    #[error("the index at {path} has schema version {found}, this deflect needs {expected}: run `deflect reindex`")]
    Version {
        /// Index root.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Version needed.
        expected: u32,
    },
    /// Built with other fields than this deflect reads, under the same version number (a
    /// build of unreleased code): read, it would give wrong values for every later field.
    #[error("the index at {path} was built with other fields than this deflect reads: run `deflect reindex`")]
    Fields {
        /// Index root.
        path: PathBuf,
    },
    /// Another build holds the lock.
    #[error("another reindex is running on {0}; wait for it to finish")]
    Busy(PathBuf),
    /// The KB directory is missing or unreadable.
    #[error("cannot read the KB at {path}: {source}")]
    Kb {
        /// KB path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The index root is the KB directory or inside it.
    #[error("the index at {root} is inside the KB at {kb}: every reindex would write into the KB it reads (and `serve --watch` would see its own writes); put the index outside the KB")]
    InsideKb {
        /// Index root.
        root: PathBuf,
        /// KB path.
        kb: PathBuf,
    },
    /// Nothing to index; the serving index is kept.
    #[error(
        "no article could be ingested from {0} ({1} problem(s)); the serving index is unchanged"
    )]
    Empty(PathBuf, usize),
    /// The freshly built generation failed verification.
    #[error("the new index failed verification ({0}); the serving index is unchanged")]
    Verify(String),
    /// File system error.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done.
        context: String,
        /// Cause (in the message, not chained: printed once).
        cause: std::io::Error,
    },
    /// Tantivy error.
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> IndexError {
    let context = context.into();
    move |cause| IndexError::Io { context, cause }
}

/// Facts about one generation, written next to it as `deflect.json`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndexMeta {
    /// Schema version.
    pub schema_version: u32,
    /// Generation number.
    pub generation: u64,
    /// Entries indexed.
    pub entries: u64,
    /// Articles (files) indexed.
    pub files: u64,
    /// Unix seconds when the build started reading the KB: a file changed later may be
    /// missing from the index (see [`kb_changed_since`]).
    pub built_at: u64,
    /// The KB it was built from: an absolute path when the build could resolve one.
    pub kb: String,
}

/// The summary of one build.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BuildSummary {
    /// Markdown files seen.
    pub files: usize,
    /// Entries indexed.
    pub entries: usize,
    /// Files marked `draft: true`: read and linted, not indexed.
    pub drafts: usize,
    /// Files skipped.
    pub skipped: usize,
    /// Every problem found (errors skipped a file; warnings did not).
    pub problems: Vec<Problem>,
    /// Problems in the analysis resources.
    pub resource_warnings: Vec<String>,
    /// Seconds the build took.
    pub seconds: f64,
    /// Markdown bytes read.
    pub bytes: u64,
    /// Index size on disk, bytes.
    pub index_bytes: u64,
    /// The new generation.
    pub generation: u64,
    /// Where the time went.
    pub phases: BuildPhases,
}

/// Seconds spent in each step of a build.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BuildPhases {
    /// Reading, parsing and analysing the articles, up to the last document added.
    pub read: f64,
    /// Writing the segment (the writer's queued documents first).
    pub commit: f64,
    /// Merging segments into the generation's one (only when the writer had to flush more
    /// than one: a KB whose postings outgrow the memory budget).
    pub merge: f64,
    /// Reopening the new generation and checking it (counts, probe entry, text store).
    pub verify: f64,
}

impl BuildSummary {
    /// Megabytes of Markdown per second.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }

    /// The one summary line printed at the end of a reindex.
    pub fn line(&self) -> String {
        let drafts = match self.drafts {
            0 => String::new(),
            n => format!(" ({n} of them draft(s), not indexed)"),
        };
        format!(
            "indexed {} files{drafts} into {} entries, skipped {} ({} problem(s)), {:.2} s, {:.1} MB/s, index {:.1} MB, generation {}",
            self.files - self.skipped,
            self.entries,
            self.skipped,
            self.problems.len(),
            self.seconds,
            self.mb_per_s(),
            self.index_bytes as f64 / 1e6,
            self.generation
        )
    }

    /// Where the build's time went, for the line after [`BuildSummary::line`].
    pub fn phases_line(&self) -> String {
        let p = &self.phases;
        format!(
            "read and analyse {:.2} s, commit {:.2} s, merge {:.2} s, verify {:.2} s",
            p.read, p.commit, p.merge, p.verify
        )
    }
}

/// Options of a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Ingest limits.
    pub limits: Limits,
    /// Indexing memory budget in bytes.
    pub memory_budget: usize,
    /// Generations to keep besides the new one (for a server still reading an old one).
    pub keep_generations: usize,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            limits: Limits::default(),
            memory_budget: 256 << 20,
            keep_generations: 1,
        }
    }
}

/// Progress events of a build, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Files found.
    Start {
        /// Number of Markdown files.
        files: usize,
    },
    /// One more file read.
    File,
    /// Writing the index.
    Commit,
}

const CURRENT: &str = "CURRENT";
const META: &str = "deflect.json";
const TANTIVY_DIR: &str = "tantivy";

/// Whether `path` is `dir` or lies under it, symbolic links and `..` resolved: through the
/// nearest part of `path` that exists, as an index root may not exist yet.
fn is_within(path: &Path, dir: &Path) -> bool {
    use std::path::Component;
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return false,
        }
    };
    // The longest leading part that exists, resolved; the rest applied by its names.
    let parts: Vec<Component> = path.components().collect();
    let Some((real, n)) = (1..=parts.len()).rev().find_map(|n| {
        let p: PathBuf = parts[..n].iter().collect();
        p.canonicalize().ok().map(|r| (r, n))
    }) else {
        return false;
    };
    let mut full = real;
    for c in &parts[n..] {
        match c {
            Component::ParentDir => {
                full.pop();
            }
            Component::Normal(name) => full.push(name),
            _ => {}
        }
    }
    full.starts_with(&dir)
}

/// Builds a new generation from the KB at `kb` and swaps it in.
pub fn build(
    kb: &Path,
    root: &Path,
    opts: &BuildOptions,
    mut progress: impl FnMut(Progress),
) -> Result<BuildSummary, IndexError> {
    let started = Instant::now();
    let started_at = unix_now();
    std::fs::metadata(kb).map_err(|source| IndexError::Kb {
        path: kb.to_path_buf(),
        source,
    })?;
    if is_within(root, kb) {
        return Err(IndexError::InsideKb {
            root: root.to_path_buf(),
            kb: kb.to_path_buf(),
        });
    }
    std::fs::create_dir_all(root).map_err(io(format!("create {}", root.display())))?;
    let lock = File::create(root.join(".lock")).map_err(io("create lock file"))?;
    if lock.try_lock().is_err() {
        return Err(IndexError::Busy(root.to_path_buf()));
    }
    clean_leftovers(root);

    let mut res_warnings = Vec::new();
    let user_words =
        resources::load_user_dict(kb, &mut res_warnings).map_err(|source| IndexError::Kb {
            path: kb.join(resources::ANALYSIS_DIR),
            source,
        })?;
    let analyzer = Arc::new(Analyzer::new(&user_words));

    let (files, walk_problems) = ingest::walk_kb(kb);
    progress(Progress::Start { files: files.len() });
    let mut read = ReadTally {
        files: files.len(),
        problems: walk_problems,
        ..Default::default()
    };

    let mut phases = BuildPhases::default();
    let generation = current_generation(root).unwrap_or(0) + 1;
    let building = root.join(format!(".building-{}-{generation}", std::process::id()));
    let result = (|| {
        std::fs::create_dir_all(building.join(TANTIVY_DIR))
            .map_err(io("create build directory"))?;
        copy_resources(kb, &building)?;
        let (schema, fields) = Fields::build();
        // Every hit decodes its stored document, and the store decompresses a whole block
        // for it: blocks the size of one entry's stored head keep that to one entry.
        let settings = tantivy::IndexSettings {
            docstore_blocksize: DOCSTORE_BLOCK,
            ..Default::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .create_in_dir(building.join(TANTIVY_DIR))?;
        index
            .tokenizers()
            .register(TOKENIZER_NAME, DeflectTokenizer::new(analyzer.clone()));
        index
            .tokenizers()
            .register(PRETOKENIZED_NAME, PreTokenizedTokenizer);
        // One writer thread builds one segment, and a generation needs no merge: the parse
        // workers have already analysed the body (see `ready_file`), which was most of the
        // writer threads' work, and they run on every core.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, opts.memory_budget)?;
        let md_path = building.join(TEXT_STORE_FILE);
        let mut md_out =
            std::io::BufWriter::new(File::create(&md_path).map_err(io("create the text store"))?);
        // Files go into the writer as they are parsed, in path order: a build holds the
        // writer's buffers and a few files, not the whole KB. A file that takes over an id
        // from an earlier one (named after it) deletes that file's entries.
        let mut at = 0u64;
        let mut owners = ingest::Owners::default();
        let mut entries_of: HashMap<String, (usize, String, [u8; 16])> = HashMap::new();
        let mut failed: Option<IndexError> = None;
        let mut dup_problems = Vec::new();
        let prepare = |f: ingest::FileRead| ready_file(&fields, &analyzer, f);
        ingest::read_each(kb, &files, opts.limits, true, prepare, |f| {
            progress(Progress::File);
            if failed.is_some() {
                return;
            }
            let (entries, warnings, bytes) = match f.read {
                Ok(r) => r,
                Err(p) => {
                    read.problems.push(p);
                    return;
                }
            };
            read.problems.extend(warnings);
            read.bytes += bytes;
            read.drafts += usize::from(f.draft);
            let Some(probe) = f.probe else {
                read.files_ok += 1;
                return;
            };
            let page = f.page;
            match owners.claim(&page, &f.path) {
                ingest::Claim::Taken(keeper) => {
                    dup_problems.push(ingest::duplicate_id(&f.path, &page, &keeper));
                    return;
                }
                ingest::Claim::Replaces(previous) => {
                    writer.delete_term(Term::from_field_text(fields.doc_id, &page));
                    if let Some((n, _, _)) = entries_of.remove(&page) {
                        read.entries -= n;
                    }
                    read.files_ok -= 1;
                    dup_problems.push(ingest::duplicate_id(&previous, &page, &f.path));
                }
                ingest::Claim::Owner => {}
            }
            let n = entries.len();
            for e in entries {
                let mut doc = e.doc;
                let mut added = Ok(());
                for ((field_at, field_len), packed) in [
                    ((fields.markdown_at, fields.markdown_len), &e.markdown),
                    ((fields.head_at, fields.head_len), &e.head),
                    ((fields.headings_at, fields.headings_len), &e.headings),
                    ((fields.steps_at, fields.steps_len), &e.steps),
                ] {
                    added = std::io::Write::write_all(&mut md_out, packed)
                        .map_err(io("write the text store"));
                    if added.is_err() {
                        break;
                    }
                    doc.add_u64(field_at, at);
                    doc.add_u64(field_len, packed.len() as u64);
                    at += packed.len() as u64;
                }
                let added = added.and_then(|_| writer.add_document(doc).map_err(IndexError::from));
                if let Err(e) = added {
                    failed = Some(e);
                    return;
                }
            }
            read.entries += n;
            read.files_ok += 1;
            entries_of.insert(page, probe);
        });
        if let Some(e) = failed {
            return Err(e);
        }
        read.problems.extend(dup_problems);
        if read.entries == 0 {
            return Err(IndexError::Empty(kb.to_path_buf(), read.problems.len()));
        }
        let md_file = md_out
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io("write the text store"))?;
        md_file.sync_all().map_err(io("write the text store"))?;
        progress(Progress::Commit);
        let mut mark = Instant::now();
        phases.read = started.elapsed().as_secs_f64();
        let mut lap = || {
            let now = Instant::now();
            let s = (now - mark).as_secs_f64();
            mark = now;
            s
        };
        writer.commit()?;
        phases.commit = lap();
        // One segment per generation: every query pays per segment (term lookups, scorer
        // set-up, its own top-k), and a generation is never written to again.
        let segments = index.searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.wait_merging_threads()?;
        phases.merge = lap();
        // Probe: of the files that kept their ids, the first entry with the smallest id.
        let probe = entries_of
            .values()
            .min_by(|a, b| a.1.cmp(&b.1))
            .map(|(_, id, md5)| (id.clone(), *md5));
        verify(&index, &fields, read.entries, probe, &md_path)?;
        phases.verify = lap();
        let meta = IndexMeta {
            schema_version: SCHEMA_VERSION,
            generation,
            entries: read.entries as u64,
            files: read.files_ok as u64,
            built_at: started_at,
            kb: std::fs::canonicalize(kb)
                .unwrap_or_else(|_| kb.to_path_buf())
                .display()
                .to_string(),
        };
        let json = serde_json::to_vec_pretty(&meta).unwrap_or_default();
        std::fs::write(building.join(META), json).map_err(io("write index metadata"))?;
        Ok::<_, IndexError>(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&building);
        return Err(e);
    }
    let gen_name = format!("gen-{generation:06}");
    std::fs::rename(&building, root.join(&gen_name))
        .map_err(io("move the new generation into place"))?;
    swap_current(root, &gen_name)?;
    remove_old_generations(root, generation, opts.keep_generations);
    let index_bytes = dir_size(&root.join(&gen_name));
    drop(lock);
    Ok(BuildSummary {
        files: read.files,
        entries: read.entries,
        drafts: read.drafts,
        skipped: read.files - read.files_ok.min(read.files),
        problems: read.problems,
        resource_warnings: res_warnings
            .into_iter()
            .map(|w: ResourceWarning| format!("{}: {}", w.location, w.message))
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
        bytes: read.bytes,
        index_bytes,
        generation,
        phases,
    })
}

/// Bytes per document-store block (tantivy's default is 16 KB).
const DOCSTORE_BLOCK: usize = 4 << 10;

/// Decompressed document-store blocks kept per segment by a serving reader. Every hit
/// decodes its document; the blocks of the articles customers keep hitting stay
/// decompressed: 2,048 blocks of [`DOCSTORE_BLOCK`] bytes hold at most ~8 MB.
const DOCSTORE_CACHE_BLOCKS: usize = 2048;

/// One file made ready for the index by a parse worker: its entries' documents built, the
/// body analysed, the texts compressed. The ordered part of a build only writes bytes.
struct ReadyFile {
    path: String,
    /// The page id its entries share.
    page: String,
    read: Result<(Vec<ReadyEntry>, Vec<Problem>, u64), Problem>,
    /// Entry count, first entry id and the MD5 of its Markdown (the build's probe); `None`
    /// when the file has no entries.
    probe: Option<(usize, String, [u8; 16])>,
    /// A draft: read and linted, not indexed.
    draft: bool,
}

struct ReadyEntry {
    /// The document, without its text-store offsets.
    doc: TantivyDocument,
    /// The Markdown, LZ4.
    markdown: Vec<u8>,
    /// The first [`BODY_HEAD`] bytes of the text, LZ4.
    head: Vec<u8>,
    /// The section headings of a long entry (see [`headings_record`]), LZ4; empty when
    /// there are none to point into.
    headings: Vec<u8>,
    /// The fix's introduction and steps as Markdown (see [`steps_record`]), LZ4; empty
    /// when there are none.
    steps: Vec<u8>,
}

/// Separates the steps of a [`steps_record`]; never part of a step's Markdown.
const STEP_SEPARATOR: char = '\u{1e}';

/// The Markdown of an entry's fix (`ingest::markdown::FixText`), LZ4, for the replies of
/// the answers it is a fix of: the introduction (empty when none), then each step, joined
/// by [`STEP_SEPARATOR`].
fn steps_record(fix: &ingest::markdown::FixText) -> Vec<u8> {
    if fix.intro.is_none() && fix.steps.is_empty() {
        return Vec::new();
    }
    let joined = std::iter::once(fix.intro.as_deref().unwrap_or(""))
        .chain(fix.steps.iter().map(|s| s.markdown.as_str()))
        .map(|s| s.replace(STEP_SEPARATOR, " "))
        .collect::<Vec<_>>()
        .join(&STEP_SEPARATOR.to_string());
    lz4_flex::compress_prepend_size(joined.as_bytes())
}

/// Markdown bytes above which an entry is long enough for a hit to point into one of its
/// sections (`search::Hit::section`). A section is named only when the ticket names its
/// heading outright (a pasted error a heading quotes), so the bar is low: a page of a few
/// error headings, shorter than the head its snippet is cut from, still gets the link to the
/// one the ticket pasted. At 4 KB, the head's size, 3 of 27 AWS error headings and 2 of 26
/// TiDB dev sections were named on the page only; 1 KB and 0 name the same.
pub const SECTION_PAGE_MIN: usize = BODY_HEAD / 4;

/// Sections such a page needs for a hit to point into it.
pub const SECTIONS_MIN: usize = 3;

/// The `##`/`###` headings of a long entry's Markdown, one line each: the heading, a tab,
/// its `{#id}` or `<a name>` anchor (or nothing). Empty for an entry shorter than [`SECTION_PAGE_MIN`]
/// or with fewer than [`SECTIONS_MIN`] sections. Read at index time, a search reads the
/// headings instead of decompressing and scanning a page of up to hundreds of KB.
fn headings_record(markdown: &str) -> Vec<u8> {
    if markdown.len() <= SECTION_PAGE_MIN {
        return Vec::new();
    }
    let headings = ingest::markdown::section_headings(markdown);
    if headings.len() < SECTIONS_MIN {
        return Vec::new();
    }
    let mut out = String::new();
    for (heading, anchor) in headings {
        out.push_str(&heading.replace(['\t', '\n'], " "));
        out.push('\t');
        out.push_str(anchor.as_deref().unwrap_or(""));
        out.push('\n');
    }
    lz4_flex::compress_prepend_size(out.as_bytes())
}

fn ready_file(f: &Fields, analyzer: &Analyzer, file: ingest::FileRead) -> ReadyFile {
    let mut page = String::new();
    let mut probe = None;
    let mut draft = false;
    let read = file.read.map(|(mut entries, warnings, bytes)| {
        if entries.first().is_some_and(|e| e.meta.draft) {
            draft = true;
            entries.clear();
        }
        if let Some(first) = entries.first() {
            page = first.doc_id.clone();
            probe = Some((
                entries.len(),
                first.id.clone(),
                md5::compute(first.markdown.as_bytes()).0,
            ));
        }
        let ready = entries
            .iter()
            .map(|e| ReadyEntry {
                doc: to_document(f, analyzer, e),
                markdown: lz4_flex::compress_prepend_size(e.markdown.as_bytes()),
                head: lz4_flex::compress_prepend_size(
                    &e.body.as_bytes()[..floor_char_boundary(&e.body, BODY_HEAD)],
                ),
                headings: headings_record(&e.markdown),
                steps: steps_record(&e.fix),
            })
            .collect();
        (ready, warnings, bytes)
    });
    ReadyFile {
        path: file.path,
        page,
        read,
        probe,
        draft,
    }
}

/// The document of an entry, its body analysed (see [`Analyzer::analyze_encoded`]).
fn to_document(f: &Fields, analyzer: &Analyzer, e: &Entry) -> TantivyDocument {
    let analysed = |text: &str| {
        let mut out = String::with_capacity(text.len() + text.len() / 2);
        analyzer.analyze_encoded(text, &mut out);
        out
    };
    // Keywords are searched as aliases are: both are the author's words for the page.
    let mut aliases = e.meta.aliases.join("\n");
    for k in &e.meta.keywords {
        if !e.meta.aliases.contains(k) {
            aliases.push('\n');
            aliases.push_str(k);
        }
    }
    let aliases = aliases.trim_start_matches('\n');
    let m = &e.meta;
    let mut d = doc!(
        f.id => e.id.as_str(),
        f.doc_id => e.doc_id.as_str(),
        f.path => e.path.as_str(),
        f.kind => e.kind.as_str(),
        f.title => e.title.as_str(),
        f.page_title => e.page_title.as_str(),
        f.aliases => aliases,
        // The body is the retrieval field: it holds every word an entry can be found by, the
        // title (an FAQ question is not repeated in its answer) and aliases included. The
        // title fields add their own weight when candidates are re-scored.
        f.body => analysed(&e.title),
        f.body => analysed(aliases),
        f.body => analysed(&e.body),
        f.lang => e.lang.as_str(),
        // A file at the KB's root has no area: its copies are the ones in the same file.
        f.dupkey => dupkey(&e.title, area_of(e).unwrap_or(&e.path)),
        f.problem => u64::from(e.problem),
        f.structured => (crate::ingest::markdown::structured_share(&e.markdown) * 100.0).round() as u64,
    );
    if let Some(a) = &e.anchor {
        d.add_text(f.anchor, a);
    }
    if let Some(a) = area_of(e) {
        d.add_text(f.area, a.to_lowercase());
    }
    for c in &e.codes {
        d.add_text(f.codes, c);
    }
    if let Some(c) = &m.category {
        d.add_text(f.category, c.trim().to_lowercase());
    }
    if let Some(p) = &m.product {
        d.add_text(f.product, p.trim());
    }
    for t in &m.tags {
        d.add_text(f.tags, t.trim());
    }
    if let Some(p) = &m.priority {
        d.add_text(f.priority, p);
    }
    if let Some(n) = m.avg_fix_minutes {
        d.add_u64(f.avg_fix_minutes, n as u64);
    }
    if let Some(a) = &m.automation {
        d.add_text(f.automation, a);
    }
    for r in &m.related {
        d.add_text(f.related, r);
    }
    for s in &e.fix.steps {
        d.add_text(f.steps, &s.text);
    }
    if let Some(u) = &m.updated {
        d.add_text(f.updated, u);
    }
    if !m.extra.is_empty() {
        d.add_text(f.extra, serde_json::to_string(&m.extra).unwrap_or_default());
    }
    d
}

/// An entry's area: its product, else the top-level folder of its file (none for a file at
/// the KB's root without a product).
fn area_of(e: &Entry) -> Option<&str> {
    let product = e.meta.product.as_deref().map(str::trim);
    product
        .filter(|p| !p.is_empty())
        .or_else(|| e.path.split_once('/').map(|(folder, _)| folder))
}

/// A question title without its list number (`12. HTTPS监听是否支持SNI？`, `问题 4：…`,
/// `Q5: …`); any other title as it is. A numbered heading that asks nothing (`1. 准备工作`)
/// is a step, and its number is part of it; a version (`2.x 版本有哪些变化？`) is no list
/// number.
pub fn question_unnumbered(title: &str) -> &str {
    re!(
        LIST_NUMBER,
        r"^\s*(?:问题\s*\d{1,3}\s*[:：]|Q\d{1,3}\s*[:：.]|\d{1,3}\s*(?:[.．]\s+|[、．）)]))\s*"
    );
    match LIST_NUMBER.find(title) {
        Some(m) if title.trim_end().ends_with(['?', '？']) => &title[m.end()..],
        _ => title,
    }
}

/// Near-duplicate key: title without spaces and punctuation, plus the product. A question's
/// list number is no part of it: `3. 一个账号可以申请多少个EIP？` in one layout of an FAQ is
/// `一个账号可以申请多少个EIP？` in another, and `12. HTTPS监听是否支持SNI？` is `15. …` in a
/// third. A numbered heading that asks nothing (`1. 准备工作`) keeps its number: the steps
/// of two guides are not copies.
pub fn dupkey(title: &str, product: &str) -> u64 {
    let title = question_unnumbered(title);
    let norm: String = crate::analysis::normalize::normalize_str(title)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .chain(['|'])
        .chain(product.to_lowercase().chars())
        .collect();
    let d = md5::compute(norm.as_bytes());
    u64::from_le_bytes(d.0[..8].try_into().unwrap_or([0; 8]))
}

/// What a build read: counts and problems for its summary.
#[derive(Debug, Default)]
struct ReadTally {
    files: usize,
    files_ok: usize,
    entries: usize,
    drafts: usize,
    bytes: u64,
    problems: Vec<Problem>,
}

/// Checks a new generation: the document count, and that `probe` (an entry id and the MD5
/// of its Markdown) is found by id and its Markdown and head read back.
fn verify(
    index: &Index,
    f: &Fields,
    entries: usize,
    probe: Option<(String, [u8; 16])>,
    text_store: &Path,
) -> Result<(), IndexError> {
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    if searcher.num_docs() != entries as u64 {
        return Err(IndexError::Verify(format!(
            "{} documents indexed, {} expected",
            searcher.num_docs(),
            entries
        )));
    }
    let Some((probe_id, probe_md5)) = probe else {
        return Err(IndexError::Verify("no entry to probe".into()));
    };
    let q = TermQuery::new(
        Term::from_field_text(f.id, &probe_id),
        IndexRecordOption::Basic,
    );
    if searcher
        .search(&q, &TopDocs::with_limit(1).order_by_score())?
        .is_empty()
    {
        return Err(IndexError::Verify(format!(
            "probe entry `{probe_id}` not found"
        )));
    }
    // The text store reads back: the probe's Markdown, and its head.
    let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
    let doc: TantivyDocument = searcher.doc(top[0].1)?;
    let store = TextStore::open(text_store).map_err(io("open the text store"))?;
    if store
        .markdown(f, &doc)
        .map(|m| md5::compute(m.as_bytes()).0)
        != Some(probe_md5)
    {
        return Err(IndexError::Verify(format!(
            "Markdown of probe entry `{probe_id}` does not read back"
        )));
    }
    if store.record(&doc, f.head_at, f.head_len).is_none() {
        return Err(IndexError::Verify(format!(
            "text of probe entry `{probe_id}` does not read back"
        )));
    }
    Ok(())
}

fn copy_resources(kb: &Path, dest: &Path) -> Result<(), IndexError> {
    for name in [
        resources::USER_DICT_FILE,
        resources::SYNONYMS_FILE,
        resources::STOPWORDS_FILE,
        resources::GLOSSARY_FILE,
        crate::answer::topics::TOPICS_FILE,
    ] {
        let src = kb.join(resources::ANALYSIS_DIR).join(name);
        if src.is_file() {
            std::fs::copy(&src, dest.join(name)).map_err(io(format!("copy {}", src.display())))?;
        }
    }
    Ok(())
}

fn swap_current(root: &Path, gen_name: &str) -> Result<(), IndexError> {
    let tmp = root.join(format!("{CURRENT}.tmp"));
    {
        use std::io::Write;
        let mut f = File::create(&tmp).map_err(io("write CURRENT.tmp"))?;
        f.write_all(gen_name.as_bytes())
            .map_err(io("write CURRENT.tmp"))?;
        f.sync_all().map_err(io("sync CURRENT.tmp"))?;
    }
    std::fs::rename(&tmp, root.join(CURRENT)).map_err(io("swap CURRENT"))?;
    if let Ok(d) = File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes `.building-*` directories left by a killed build (the lock is held, so none is live).
fn clean_leftovers(root: &Path) {
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(".building-") {
                tracing::info!(dir = %e.path().display(), "removing a leftover build directory");
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn remove_old_generations(root: &Path, current: u64, keep: usize) {
    let Ok(rd) = std::fs::read_dir(root) else {
        return;
    };
    let mut gens: Vec<u64> = rd
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix("gen-")
                .and_then(|n| n.parse().ok())
        })
        .filter(|&g| g < current)
        .collect();
    gens.sort_unstable_by(|a, b| b.cmp(a));
    for g in gens.into_iter().skip(keep) {
        let _ = std::fs::remove_dir_all(root.join(format!("gen-{g:06}")));
    }
}

fn dir_size(p: &Path) -> u64 {
    walkdir::WalkDir::new(p)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The first article, analysis resource or folder of `kb` modified after `since` (Unix
/// seconds), if any: an index built at `since` does not show the KB as it is now. Folders
/// count because removing or renaming a file changes its folder's time. Articles are found
/// as the build finds them ([`ingest::skipped_dir`]), so drafts in `_drafts/` or `.git/` do
/// not count. A stat per file: ~30 ms for 14,000 files.
pub fn kb_changed_since(kb: &Path, since: u64) -> Option<PathBuf> {
    let newer = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|d| d.as_secs() > since)
    };
    let analysis = kb.join(resources::ANALYSIS_DIR);
    let resource_files = std::fs::read_dir(&analysis)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path());
    let articles = walkdir::WalkDir::new(kb)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !e.file_type().is_dir()
                || !ingest::skipped_dir(&e.file_name().to_string_lossy())
        })
        .flatten()
        .filter(|e| {
            e.file_type().is_dir()
                || ingest::markdown_stem(&e.file_name().to_string_lossy()).is_some()
        })
        .map(|e| e.into_path());
    std::iter::once(analysis.clone())
        .chain(resource_files)
        .chain(articles)
        .find(|p| newer(p))
}

/// The generation `CURRENT` points at.
pub fn current_generation(root: &Path) -> Option<u64> {
    let name = std::fs::read_to_string(root.join(CURRENT)).ok()?;
    name.trim().strip_prefix("gen-")?.parse().ok()
}

/// True when `root` holds a usable index.
pub fn exists(root: &Path) -> bool {
    current_generation(root).is_some_and(|g| root.join(format!("gen-{g:06}")).join(META).is_file())
}

/// An opened generation: everything a search needs, immutable.
pub struct Loaded {
    /// The Tantivy index.
    pub index: Index,
    /// Its reader.
    pub reader: IndexReader,
    /// Field handles.
    pub fields: Fields,
    /// The analyzer built with this generation's user dictionary.
    pub analyzer: Arc<Analyzer>,
    /// Synonyms and stop words.
    pub resources: QueryResources,
    /// Routing words (`answer::topics`).
    pub topics: crate::answer::topics::Topics,
    /// Metadata.
    pub meta: IndexMeta,
    /// Error codes that are phrases (`connection refused`), matched inside tickets.
    pub phrase_codes: PhraseCodes,
    /// The generation's text store: Markdown and snippet heads.
    pub store: Option<TextStore>,
    /// BM25 length normalisation of its fields.
    pub bm25: bm25::Norms,
    /// The fast-field columns searches read per candidate.
    pub columns: columns::Columns,
    /// Each area of the KB (normalised, as a ticket names it) and what its entries route a
    /// ticket by: their one category, the area itself when none has a category, `None` when
    /// they are of several categories.
    pub area_routes: Vec<(String, Option<String>)>,
    /// The categories its entries declare (lower case).
    pub categories: std::collections::BTreeSet<String>,
}

impl Loaded {
    /// The Markdown of a stored entry (None when the store cannot be read).
    pub fn markdown(&self, doc: &impl stored::FieldSource) -> Option<String> {
        self.store.as_ref()?.markdown(&self.fields, doc)
    }

    /// The Markdown of a stored entry as bytes, not checked to be UTF-8: what a scan for a
    /// few strings reads, which only the entries that hold one need decoded.
    pub fn markdown_bytes(&self, doc: &impl stored::FieldSource) -> Option<Vec<u8>> {
        self.store
            .as_ref()?
            .record(doc, self.fields.markdown_at, self.fields.markdown_len)
    }

    /// The section headings of a long stored entry, (heading, anchor), written at index
    /// time (see [`headings_record`]); empty for other entries or an unreadable store.
    pub fn section_headings(
        &self,
        doc: &impl stored::FieldSource,
    ) -> Vec<(String, Option<String>)> {
        let Some(bytes) = self
            .store
            .as_ref()
            .and_then(|s| s.record(doc, self.fields.headings_at, self.fields.headings_len))
        else {
            return Vec::new();
        };
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| {
                let (heading, anchor) = l.split_once('\t')?;
                Some((
                    heading.to_string(),
                    (!anchor.is_empty()).then(|| anchor.to_string()),
                ))
            })
            .collect()
    }

    /// The Markdown of a hit's fix: its introduction and one string per step of
    /// `hit.steps`; `None` when it has none or the store cannot be read.
    pub fn fix_markdown(&self, hit: &crate::search::Hit) -> Option<(Option<String>, Vec<String>)> {
        let (at, len) = hit.steps_record?;
        let bytes = self.store.as_ref()?.bytes_at(at, len)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut parts = text.split(STEP_SEPARATOR).map(str::to_string);
        let intro = parts.next().filter(|i| !i.is_empty());
        Some((intro, parts.collect()))
    }

    /// The first [`BODY_HEAD`] bytes of a stored entry's text, which snippets are cut from
    /// (None when the store cannot be read). Not validated as UTF-8: a snippet checks only
    /// the bytes it shows.
    pub fn head(&self, doc: &impl stored::FieldSource) -> Option<Vec<u8>> {
        self.store
            .as_ref()?
            .record(doc, self.fields.head_at, self.fields.head_len)
    }
}

/// A generation's [`TEXT_STORE_FILE`], memory-mapped: reading a record costs no system call.
pub struct TextStore {
    bytes: tantivy::directory::OwnedBytes,
}

impl TextStore {
    fn open(path: &Path) -> std::io::Result<TextStore> {
        use tantivy::directory::{Directory, MmapDirectory};
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(std::io::Error::other("not a file path"));
        };
        let dir = MmapDirectory::open(dir).map_err(std::io::Error::other)?;
        let slice = dir
            .open_read(Path::new(name))
            .map_err(std::io::Error::other)?;
        Ok(TextStore {
            bytes: slice.read_bytes()?,
        })
    }

    fn markdown(&self, f: &Fields, doc: &impl stored::FieldSource) -> Option<String> {
        String::from_utf8(self.record(doc, f.markdown_at, f.markdown_len)?).ok()
    }

    /// The bytes of the LZ4 record whose offset and length `doc` holds in `at` and `len`.
    fn record(
        &self,
        doc: &impl stored::FieldSource,
        at: tantivy::schema::Field,
        len: tantivy::schema::Field,
    ) -> Option<Vec<u8>> {
        self.bytes_at(doc.u64(at)?, doc.u64(len)?)
    }

    /// The bytes of the LZ4 record at `at`, `len` bytes long.
    fn bytes_at(&self, at: u64, len: u64) -> Option<Vec<u8>> {
        let at = usize::try_from(at).ok()?;
        let len = usize::try_from(len).ok()?;
        // A record beyond the file is corruption, not a reason to allocate it.
        let buf = self.bytes.as_slice().get(at..at.checked_add(len)?)?;
        let claimed = u32::from_le_bytes(buf.get(..4)?.try_into().ok()?) as usize;
        if claimed > 256 << 20 {
            return None;
        }
        lz4_flex::decompress_size_prepended(buf).ok()
    }
}

/// The largest char boundary of `s` at or below `i`.
pub(crate) fn floor_char_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// The metadata of the generation in `dir` (None when missing or unreadable).
fn read_meta(dir: &Path) -> Option<IndexMeta> {
    let bytes = std::fs::read(dir.join(META)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The KB the current generation of `root` was built from, if that directory still exists.
/// Indexes built before the path was recorded absolute hold it as given, relative to the
/// directory the build ran in; such a path is tried from the current directory.
pub fn source_kb(root: &Path) -> Option<PathBuf> {
    let generation = current_generation(root)?;
    let kb = PathBuf::from(read_meta(&root.join(format!("gen-{generation:06}")))?.kb);
    (!kb.as_os_str().is_empty() && kb.is_dir()).then_some(kb)
}

/// Opens the generation `CURRENT` names. Synonyms and stop words come from `kb` when given
/// (so edits apply without a reindex), else from the copies in the generation.
pub fn open(root: &Path, kb: Option<&Path>) -> Result<Loaded, IndexError> {
    let generation =
        current_generation(root).ok_or_else(|| IndexError::Missing(root.to_path_buf()))?;
    let dir = root.join(format!("gen-{generation:06}"));
    let meta = read_meta(&dir).ok_or_else(|| IndexError::Missing(root.to_path_buf()))?;
    if meta.schema_version != SCHEMA_VERSION {
        return Err(IndexError::Version {
            path: root.to_path_buf(),
            found: meta.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    let mut warnings = Vec::new();
    let user_words = std::fs::read_to_string(dir.join(resources::USER_DICT_FILE))
        .map(|t| resources::parse_user_dict(&t, resources::USER_DICT_FILE, &mut warnings))
        .unwrap_or_default();
    let analyzer = Arc::new(Analyzer::new(&user_words));
    let res_dir = kb
        .map(|k| k.join(resources::ANALYSIS_DIR))
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| dir.clone());
    let resources = QueryResources::load(&analyzer, &res_dir).unwrap_or_default();
    let topics = crate::answer::topics::Topics::load(&analyzer, &res_dir);
    let index = Index::open_in_dir(dir.join(TANTIVY_DIR))?;
    let (schema, fields) = Fields::build();
    if index.schema() != schema {
        return Err(IndexError::Fields {
            path: root.to_path_buf(),
        });
    }
    index
        .tokenizers()
        .register(TOKENIZER_NAME, DeflectTokenizer::new(analyzer.clone()));
    index
        .tokenizers()
        .register(PRETOKENIZED_NAME, PreTokenizedTokenizer);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .doc_store_cache_num_blocks(DOCSTORE_CACHE_BLOCKS)
        .try_into()?;
    let phrase_codes = load_phrase_codes(&reader, &fields);
    // The reader is never reloaded: a generation's statistics are fixed.
    let bm25 = bm25::Norms::new(&reader.searcher());
    let columns = columns::Columns::new(&reader.searcher());
    let area_routes = area_routes(&reader.searcher());
    let categories = kb_categories(&reader.searcher());
    Ok(Loaded {
        index,
        reader,
        fields,
        analyzer,
        resources,
        topics,
        meta,
        phrase_codes,
        store: TextStore::open(&dir.join(TEXT_STORE_FILE)).ok(),
        bm25,
        columns,
        area_routes,
        categories,
    })
}

/// [`Loaded::area_routes`], read from the `area` and `category` columns of every entry.
/// The categories the KB's entries declare.
fn kb_categories(searcher: &tantivy::Searcher) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for reader in searcher.segment_readers() {
        let Ok(Some(col)) = reader.fast_fields().str("category") else {
            continue;
        };
        let mut text = String::new();
        for ord in 0..col.num_terms() as u64 {
            text.clear();
            if col.ord_to_str(ord, &mut text).unwrap_or(false) {
                out.insert(text.to_lowercase());
            }
        }
    }
    out
}

fn area_routes(searcher: &tantivy::Searcher) -> Vec<(String, Option<String>)> {
    // Area → its entries' categories (None for an entry without one).
    let mut seen: std::collections::BTreeMap<String, std::collections::BTreeSet<Option<String>>> =
        std::collections::BTreeMap::new();
    let mut text = String::new();
    let mut value = |col: &tantivy::columnar::StrColumn, doc: u32| -> Option<String> {
        let ord = col.term_ords(doc).next()?;
        text.clear();
        col.ord_to_str(ord, &mut text).ok()?.then(|| text.clone())
    };
    for reader in searcher.segment_readers() {
        let Ok(Some(areas)) = reader.fast_fields().str("area") else {
            continue;
        };
        let categories = reader.fast_fields().str("category").ok().flatten();
        for doc in 0..reader.max_doc() {
            let Some(area) = value(&areas, doc) else {
                continue;
            };
            let category = categories.as_ref().and_then(|c| value(c, doc));
            seen.entry(area).or_default().insert(category);
        }
    }
    seen.into_iter()
        .map(|(area, cats)| {
            let route = match cats.iter().collect::<Vec<_>>().as_slice() {
                [Some(c)] => Some(c.clone()),
                [None] => Some(area.clone()),
                _ => None,
            };
            (crate::analysis::normalize::normalize_str(&area), route)
        })
        .collect()
}

/// The KB's error codes that are phrases (`connection refused`): the code patterns do not
/// find them in a ticket, so a ticket is scanned for them, all at once, by one automaton
/// built when the generation opens. (A `contains` per code cost a substring searcher each,
/// 9% of an answer's time on the bundled KB, and forced a cap of 5,000 codes.)
pub struct PhraseCodes {
    codes: Vec<String>,
    finder: Option<aho_corasick::AhoCorasick>,
}

impl PhraseCodes {
    fn new(codes: Vec<String>) -> PhraseCodes {
        let finder = (!codes.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&codes).ok())
            .flatten();
        PhraseCodes { codes, finder }
    }

    /// The codes `text` contains (normalised, spaces collapsed), each once, in the order
    /// the index lists them.
    pub fn found_in(&self, text: &str) -> Vec<&str> {
        let Some(finder) = &self.finder else {
            return Vec::new();
        };
        let mut ids: Vec<usize> = finder
            .find_overlapping_iter(text)
            .map(|m| m.pattern().as_usize())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| self.codes[i].as_str()).collect()
    }
}

/// Codes with a space or lower-case prose in them are not found by the code patterns in a
/// ticket; they are matched by substring instead (see [`PhraseCodes`]). Capped at a size
/// no real KB reaches, to bound the automaton's memory.
fn load_phrase_codes(reader: &IndexReader, f: &Fields) -> PhraseCodes {
    const MAX: usize = 200_000;
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let searcher = reader.searcher();
    for seg in searcher.segment_readers() {
        let Ok(inv) = seg.inverted_index(f.codes) else {
            continue;
        };
        let mut stream = match inv.terms().stream() {
            Ok(s) => s,
            Err(_) => continue,
        };
        while stream.advance() {
            if let Ok(s) = std::str::from_utf8(stream.key()) {
                if s.contains(' ') && s.chars().count() >= 6 && seen.insert(s.to_string()) {
                    out.push(s.to_string());
                    if out.len() >= MAX {
                        return PhraseCodes::new(out);
                    }
                }
            }
        }
    }
    PhraseCodes::new(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn phrase_codes_are_found_overlapping_once_each_in_index_order() {
        let codes = PhraseCodes::new(vec![
            "connection refused".into(),
            "no space left on device".into(),
            "refused by peer".into(),
        ]);
        let t = "ssh: connection refused by peer, again connection refused; no space left";
        assert_eq!(
            codes.found_in(t),
            vec!["connection refused", "refused by peer"]
        );
        assert!(codes.found_in("nothing here").is_empty());
        assert!(PhraseCodes::new(Vec::new()).found_in(t).is_empty());
    }
    use super::{dupkey, kb_changed_since, PhraseCodes};
    use std::path::Path;

    #[test]
    fn a_question_is_one_whatever_its_list_number() {
        let q = dupkey("一个账号可以申请多少个EIP？", "eip");
        for copy in [
            "3. 一个账号可以申请多少个EIP？",
            "12、一个账号可以申请多少个EIP？",
            "问题 4：一个账号可以申请多少个EIP？",
            "Q5: 一个账号可以申请多少个EIP?",
        ] {
            assert_eq!(dupkey(copy, "eip"), q, "{copy}");
        }
        assert_ne!(dupkey("3. 一个账号可以申请多少个EIP？", "nat"), q);
        // A numbered step is not a question: two guides' first steps are not copies.
        assert_ne!(dupkey("1. 准备工作", "eip"), dupkey("2. 准备工作", "eip"));
        // Nor is a version a list number.
        assert_ne!(
            dupkey("2.x 版本有哪些变化？", "x"),
            dupkey("3.x 版本有哪些变化？", "x")
        );
    }
    use std::time::{Duration, UNIX_EPOCH};

    fn mtime(p: &Path) -> u64 {
        let t = std::fs::metadata(p).unwrap().modified().unwrap();
        t.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn touch(p: &Path, secs: u64) {
        let f = std::fs::File::options().write(true).open(p).unwrap();
        f.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn an_edited_article_is_newer_than_the_index_and_a_draft_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path();
        std::fs::create_dir(kb.join("compute")).unwrap();
        let article = kb.join("compute/a.md");
        std::fs::write(&article, "# A\n").unwrap();
        std::fs::create_dir(kb.join(".drafts")).unwrap();
        let draft = kb.join(".drafts/b.md");
        std::fs::write(&draft, "# B\n").unwrap();
        std::fs::create_dir(kb.join("_drafts")).unwrap();
        let unpublished = kb.join("_drafts/c.md");
        std::fs::write(&unpublished, "# C\n").unwrap();
        let built = [kb, &kb.join("compute"), &article]
            .iter()
            .map(|p| mtime(p))
            .max()
            .unwrap();
        touch(&draft, built + 60);
        touch(&unpublished, built + 60);
        assert_eq!(kb_changed_since(kb, built), None);
        touch(&article, built + 60);
        assert_eq!(kb_changed_since(kb, built), Some(article.clone()));
        assert_eq!(kb_changed_since(kb, built + 60), None);
    }
}
