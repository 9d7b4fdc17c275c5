//! Ingest: `kb/**/*.md` → [`Entry`]s, one answerable unit each.
//!
//! A plain article is one entry with its sections kept as fields; an FAQ page (front matter
//! `type: faq`, or titled FAQ / 常见问题 with question headings) yields one entry per question,
//! id `<doc id>#<anchor>`. A file that cannot be read is reported with its path and line and
//! skipped; the rest of the KB is still ingested.

pub mod frontmatter;
pub mod markdown;
mod walk;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

pub use frontmatter::FrontMatter;
pub use markdown::{Section, SectionKind};
pub use walk::{markdown_stem, skipped_dir, walk_kb};

use crate::analysis::{entities, lang};

/// Limits that keep one bad file from costing unbounded memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Files larger than this are skipped.
    pub max_file_bytes: u64,
    /// Lines nested deeper than this (lists, block quotes) are flattened before parsing.
    pub max_nesting: usize,
}

/// Default largest article: 8 MiB (the largest real doc seen is about 240 KB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 << 20;
/// Default deepest list / block-quote nesting kept as structure.
pub const DEFAULT_MAX_NESTING: usize = 64;

/// Bytes of Markdown up to which a page with no solution section and at most one section
/// is answered by its own text (see `markdown::fix_text`).
const SHORT_PAGE: usize = 4 << 10;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_nesting: DEFAULT_MAX_NESTING,
        }
    }
}

/// How bad a problem is: errors skip the file, warnings keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file was skipped.
    Error,
    /// The file was ingested, but something needs fixing.
    Warning,
}

/// A problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Path under the KB (or absolute, for files outside it).
    pub path: String,
    /// 1-based line, where there is one.
    pub line: Option<usize>,
    /// Error (skipped) or warning (ingested).
    pub severity: Severity,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.path, l, sev, self.message),
            None => write!(f, "{}: {}: {}", self.path, sev, self.message),
        }
    }
}

/// Whether an entry is a whole article or one question of an FAQ page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A solution article.
    Article,
    /// One question of an FAQ page.
    Faq,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Article => "article",
            EntryKind::Faq => "faq",
        }
    }
}

/// One answerable unit, ready for the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Entry id: the article id, or `<article id>#<anchor>` for an FAQ question.
    pub id: String,
    /// The article (page) id.
    pub doc_id: String,
    /// Path under the KB, `/`-separated.
    pub path: String,
    /// Anchor of the FAQ question, if this is one.
    pub anchor: Option<String>,
    /// Article or FAQ question.
    pub kind: EntryKind,
    /// Title (the question, for FAQ entries).
    pub title: String,
    /// Title of the page the entry comes from.
    pub page_title: String,
    /// Front matter (the page's, for FAQ entries).
    pub meta: FrontMatter,
    /// Detected or declared language: `zh` or `en`.
    pub lang: String,
    /// Text of the symptoms sections.
    pub symptoms: String,
    /// Text of the cause sections.
    pub cause: String,
    /// Text of the solution sections.
    pub solution: String,
    /// All text of the entry.
    pub body: String,
    /// Sections (heading, kind, text) for the article API.
    pub sections: Vec<Section>,
    /// Error codes: front matter plus those found in the text, canonical forms.
    pub codes: Vec<String>,
    /// The entry's Markdown (the page's body, or the question's section).
    pub markdown: String,
    /// What a reply says of the fix: an introduction and numbered steps (see
    /// [`markdown::fix_text`]).
    pub fix: markdown::FixText,
    /// The entry reads as a problem and its fix: an FAQ question, a page with a symptom or
    /// cause section, or a title that asks a question or names a failure; never one that asks
    /// what something is (`什么是NAT网关` opens an overview, see `markdown::names_problem`). A ticket that
    /// describes a problem is most often answered by such an entry (see `Weights::problem`).
    pub problem: bool,
}

impl Entry {
    /// Drops the texts only the article view and `check` use, keeping what is indexed.
    fn drop_analysis_text(&mut self) {
        self.sections = Vec::new();
        self.symptoms = String::new();
        self.cause = String::new();
        self.solution = String::new();
    }
}

/// The result of reading a KB.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Entries, in path order.
    pub entries: Vec<Entry>,
    /// Problems, in path order.
    pub problems: Vec<Problem>,
    /// Markdown files seen.
    pub files: usize,
    /// Files ingested.
    pub files_ok: usize,
    /// Bytes of Markdown read.
    pub bytes: u64,
}

impl Ingested {
    /// Files skipped because of an error.
    pub fn skipped(&self) -> usize {
        self.files - self.files_ok
    }
}

/// Reads every article of the KB at `kb`.
pub fn ingest(kb: &Path, limits: Limits) -> Ingested {
    ingest_with_progress(kb, limits, |_| {})
}

/// Reads every article, calling `progress` with the bytes of each file read.
pub fn ingest_with_progress(kb: &Path, limits: Limits, progress: impl FnMut(u64)) -> Ingested {
    read_all(kb, limits, false, progress)
}

/// One file as read for an index build (see [`read_each`]).
pub struct FileRead {
    /// Path under the KB.
    pub path: String,
    /// Its entries, problems and size, or the reason it is skipped.
    pub read: Result<(Vec<Entry>, Vec<Problem>, u64), Problem>,
}

/// Reads `files` (found under `kb` by [`walk_kb`]) and hands each to `each` in path order
/// as soon as it and every file before it are parsed, so a caller that indexes as it goes
/// never holds the whole KB. `lean` drops what only the article view and `check` use
/// (sections; symptom, cause and solution texts). `prepare` runs on the parse workers, so
/// per-file work that needs no order (analysis, compression) runs on every core too.
pub fn read_each<T: Send>(
    kb: &Path,
    files: &[std::path::PathBuf],
    limits: Limits,
    lean: bool,
    prepare: impl Fn(FileRead) -> T + Sync,
    mut each: impl FnMut(T),
) {
    // Files are parsed on every core; a small reorder buffer gives them back in path order,
    // so ids, duplicates and problems come out the same as a one-thread read.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, T)>(64);
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let prepare = &prepare;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let path = rel_path(kb, file);
                let mut read = read_article(file, &path, limits);
                if let (true, Ok((entries, _, _))) = (lean, &mut read) {
                    entries.iter_mut().for_each(Entry::drop_analysis_text);
                }
                if tx.send((i, prepare(FileRead { path, read }))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: std::collections::BTreeMap<usize, T> = Default::default();
        let mut due = 0;
        for (i, r) in rx {
            pending.insert(i, r);
            while let Some(r) = pending.remove(&due) {
                each(r);
                due += 1;
            }
        }
    });
}

fn read_all(kb: &Path, limits: Limits, lean: bool, mut progress: impl FnMut(u64)) -> Ingested {
    let (files, walk_problems) = walk_kb(kb);
    let mut out = Ingested {
        problems: walk_problems,
        files: files.len(),
        ..Default::default()
    };
    read_each(
        kb,
        &files,
        limits,
        lean,
        |f| f,
        |f| {
            progress(f.read.as_ref().map_or(0, |(_, _, bytes)| *bytes));
            match f.read {
                Ok((entries, warnings, bytes)) => {
                    out.entries.extend(entries);
                    out.problems.extend(warnings);
                    out.files_ok += 1;
                    out.bytes += bytes;
                }
                Err(p) => out.problems.push(p),
            }
        },
    );
    check_duplicates(&mut out);
    out
}

/// Path of `file` under `kb`, with `/` separators.
pub fn rel_path(kb: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(kb).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Resolves duplicate ids: the file whose name matches the id keeps it (else the first in path
/// order); every other file using it is skipped with an error naming both files.
fn check_duplicates(out: &mut Ingested) {
    // A draft claims no id, as in a build: it is not indexed.
    let mut owners = Owners::default();
    for e in out.entries.iter().filter(|e| !e.meta.draft) {
        owners.claim(&e.doc_id, &e.path);
    }
    let mut dropped: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    out.entries.retain(|e| {
        // A draft may share its id with the article it will replace.
        if e.meta.draft {
            return true;
        }
        let keeper = owners.owner(&e.doc_id).unwrap_or_default();
        if keeper == e.path {
            return true;
        }
        if !dropped.contains(&e.path) {
            problems.push(duplicate_id(&e.path, &e.doc_id, keeper));
            dropped.push(e.path.clone());
        }
        false
    });
    out.files_ok -= dropped.len().min(out.files_ok);
    out.problems.extend(problems);
}

/// Which file owns each page id, as files are met in path order: the first file, unless a
/// later one is named after the id (`ecs-ssh.md` for `ecs-ssh`) and the first is not.
#[derive(Debug, Default)]
pub struct Owners {
    owner: HashMap<String, String>,
}

/// The outcome of [`Owners::claim`].
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// The file owns the id (first to claim it, or claimed it before).
    Owner,
    /// Another file keeps the id; this one is skipped.
    Taken(String),
    /// This file takes the id over from the named file, which is skipped.
    Replaces(String),
}

impl Owners {
    /// `path` claims page id `page`.
    pub fn claim(&mut self, page: &str, path: &str) -> Claim {
        let stem = |path: &str| {
            let name = path.rsplit('/').next().unwrap_or(path);
            markdown_stem(name).unwrap_or(name).to_string()
        };
        match self.owner.get(page) {
            None => {
                self.owner.insert(page.to_string(), path.to_string());
                Claim::Owner
            }
            Some(p) if p == path => Claim::Owner,
            Some(p) if stem(path) == page && stem(p) != page => {
                let previous =
                    std::mem::replace(self.owner.get_mut(page).expect("present"), path.to_string());
                Claim::Replaces(previous)
            }
            Some(p) => Claim::Taken(p.clone()),
        }
    }

    /// The file owning `page`.
    pub fn owner(&self, page: &str) -> Option<&str> {
        self.owner.get(page).map(String::as_str)
    }
}

/// The error for a file skipped because `keeper` uses its id.
pub fn duplicate_id(path: &str, id: &str, keeper: &str) -> Problem {
    Problem {
        path: path.to_string(),
        line: Some(1),
        severity: Severity::Error,
        message: format!("id `{id}` is already used by {keeper}; give one of them another id"),
    }
}

fn err(path: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
    Problem {
        path: path.to_string(),
        line,
        severity: Severity::Error,
        message: message.into(),
    }
}

fn warn(path: &str, line: Option<usize>, message: impl Into<String>) -> Problem {
    Problem {
        path: path.to_string(),
        line,
        severity: Severity::Warning,
        message: message.into(),
    }
}

/// Reads one file into entries, or the reason it is skipped.
pub fn read_article(
    file: &Path,
    rel: &str,
    limits: Limits,
) -> Result<(Vec<Entry>, Vec<Problem>, u64), Problem> {
    let meta = std::fs::metadata(file).map_err(|e| err(rel, None, format!("cannot read: {e}")))?;
    if meta.len() > limits.max_file_bytes {
        return Err(err(rel, None, format!(
            "file is {} bytes, over the {} byte limit (ingest.max_file_bytes); split it into smaller articles",
            meta.len(), limits.max_file_bytes)));
    }
    let bytes = std::fs::read(file).map_err(|e| err(rel, None, format!("cannot read: {e}")))?;
    let (entries, warnings) = parse_article(&bytes, rel, limits)?;
    Ok((entries, warnings, bytes.len() as u64))
}

/// Parses one file's bytes into entries (the pure part of [`read_article`]).
pub fn parse_article(
    bytes: &[u8],
    rel: &str,
    limits: Limits,
) -> Result<(Vec<Entry>, Vec<Problem>), Problem> {
    let mut warnings = Vec::new();
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(err(rel, None, "file is empty"));
    }
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(err(
            rel,
            Some(line),
            "file contains NUL bytes: binary, not Markdown",
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let pos = e.valid_up_to();
            let line = bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(err(
                rel,
                Some(line),
                format!("not valid UTF-8 (byte {pos}); save the file as UTF-8"),
            ));
        }
    };
    let split = frontmatter::split(text).map_err(|e| err(rel, Some(e.line), e.message))?;
    let fm = match split.matter {
        Some(y) => {
            let (fm, dropped) = frontmatter::parse_as(split.format, y, 2)
                .map_err(|e| err(rel, Some(e.line), e.message))?;
            warnings.extend(
                dropped
                    .into_iter()
                    .map(|e| warn(rel, Some(e.line), e.message)),
            );
            fm
        }
        None => FrontMatter::default(),
    };
    let mut body = flatten_deep_nesting(&split, limits.max_nesting, rel, &mut warnings);
    if let Some((mended, lines)) = markdown::mend_list_fences(&body) {
        warnings.push(warn(
            rel,
            Some(split.body_line + lines[0] - 1),
            format!(
                "{} code block(s) opened on a list item's line close outside the item \
                 (not indented to its text); read as part of the item",
                lines.len()
            ),
        ));
        body = std::borrow::Cow::Owned(mended);
    }
    if let Some(stripped) = markdown::strip_site_markup(&body) {
        body = std::borrow::Cow::Owned(stripped);
    }
    let parsed = markdown::parse(&body);

    let stem = markdown_stem(rel).unwrap_or(rel);
    let default_id = if stem.is_empty() || stem.ends_with('/') {
        rel.to_string()
    } else {
        stem.to_string()
    };
    if stem.is_empty() || stem.ends_with('/') {
        warnings.push(warn(
            rel,
            None,
            format!("file has no name before its ending; indexed as `{default_id}`"),
        ));
    }
    let doc_id = fm
        .id
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default_id);
    let title = fm
        .title
        .clone()
        .or_else(|| parsed.h1.clone())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| {
            warnings.push(warn(
                rel,
                Some(split.body_line),
                "no title: add `title:` to the front matter or a `# H1`",
            ));
            file_title(rel)
        });
    let all_text = all_text(&title, &parsed);
    let lang = match fm.lang.as_deref().and_then(lang::Lang::parse) {
        Some(l) => l.index_code().to_string(),
        None => lang::detect(&all_text).index_code().to_string(),
    };
    if let Some(p) = fm.priority.as_deref() {
        if !matches!(p, "P0" | "P1" | "P2" | "P3" | "P4") {
            warnings.push(warn(
                rel,
                Some(2),
                format!("priority `{p}` is not one of P0–P4"),
            ));
        }
    }

    let questions: Vec<&Section> = parsed
        .sections
        .iter()
        .filter(|s| markdown::is_question(&s.heading))
        .collect();
    let declared_faq = fm
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("faq"));
    let titled_faq = is_faq_title(&title) || is_faq_title(rel);
    let is_faq =
        (declared_faq && !parsed.sections.is_empty()) || (titled_faq && questions.len() >= 2);
    if declared_faq && parsed.sections.is_empty() {
        warnings.push(warn(
            rel,
            Some(split.body_line),
            "`type: faq` but the page has no `##` question headings",
        ));
    }

    let base_codes = {
        let mut c: Vec<String> = fm
            .error_codes
            .iter()
            .map(|c| crate::analysis::normalize::canonical_code(c))
            .collect();
        c.retain(|c| !c.is_empty());
        c
    };
    let mut entries = Vec::new();
    if is_faq {
        // Split points: question headings, and for a declared FAQ page every section at the
        // page's top heading level. Each entry owns the sections up to the next split point
        // (a "### 操作步骤" under a question is part of its answer), and whatever comes before
        // the first split point is kept as the page's own entry: nothing on the page is lost.
        let top = parsed.sections.iter().map(|s| s.level).min().unwrap_or(2);
        let splits: Vec<usize> = parsed
            .sections
            .iter()
            .enumerate()
            .filter(|(_, s)| markdown::is_question(&s.heading) || (declared_faq && s.level == top))
            .map(|(i, _)| i)
            .collect();
        let first = splits.first().copied().unwrap_or(parsed.sections.len());
        let end = parsed.sections.get(first).map_or(body.len(), |s| s.range.0);
        // The page's own part, without its table of contents: the questions it lists are
        // entries of their own, and a copy of every title here would outrank them.
        let lead = markdown::parse_with(&body[..end], true);
        let leading = &lead.sections;
        let mut lead_text = lead.intro.clone();
        for sec in leading {
            join_section(&mut lead_text, sec);
        }
        if !lead_text.trim().is_empty() {
            let codes = entry_codes(&base_codes, &title, &lead_text);
            entries.push(Entry {
                id: doc_id.clone(),
                doc_id: doc_id.clone(),
                path: rel.to_string(),
                anchor: None,
                kind: EntryKind::Article,
                title: title.clone(),
                page_title: title.clone(),
                meta: fm.clone(),
                lang: lang.clone(),
                symptoms: String::new(),
                cause: String::new(),
                solution: String::new(),
                body: lead_text,
                sections: leading.to_vec(),
                codes,
                fix: markdown::FixText::default(),
                markdown: body[..end].to_string(),
                problem: markdown::names_problem(&title),
            });
        }
        let mut anchors: HashMap<String, usize> = HashMap::new();
        for (k, &i) in splits.iter().enumerate() {
            let owned =
                &parsed.sections[i..splits.get(k + 1).copied().unwrap_or(parsed.sections.len())];
            let s = &owned[0];
            let mut anchor = s.anchor.clone().unwrap_or_else(|| {
                format!("{:x}", md5::compute(s.heading.as_bytes()))[..8].to_string()
            });
            let n = anchors.entry(anchor.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                warnings.push(warn(
                    rel,
                    Some(split.body_line + s.line - 1),
                    format!("anchor `{anchor}` repeats on this page"),
                ));
                anchor = format!("{anchor}-{n}");
            }
            let md = body[s.range.0..owned[owned.len() - 1].range.1].to_string();
            let mut text = s.text.clone();
            for sec in &owned[1..] {
                join_section(&mut text, sec);
            }
            let codes = entry_codes(&base_codes, &s.heading, &text);
            entries.push(Entry {
                id: format!("{doc_id}#{anchor}"),
                doc_id: doc_id.clone(),
                path: rel.to_string(),
                anchor: Some(anchor),
                kind: EntryKind::Faq,
                title: s.heading.clone(),
                page_title: title.clone(),
                meta: fm.clone(),
                lang: lang.clone(),
                symptoms: String::new(),
                cause: String::new(),
                solution: text.clone(),
                body: text,
                sections: owned.to_vec(),
                codes,
                fix: markdown::fix_text(&md, true),
                markdown: md,
                problem: !markdown::is_definition(&s.heading),
            });
        }
    } else {
        let pick = |k: SectionKind| {
            parsed
                .sections
                .iter()
                .filter(|s| s.kind == k)
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let codes = entry_codes(&base_codes, &title, &all_text);
        // Only the solution section is parsed again (its range is known from the first pass);
        // most real-world pages have none and cost nothing here.
        let fix = match parsed
            .sections
            .iter()
            .find(|s| s.kind == SectionKind::Solution)
        {
            Some(s) => markdown::fix_text(&body[s.range.0..s.range.1], false),
            // A short page without sections is one answer (`停用CDN服务后，为什么仍会有一部分
            // 费用产生`): its text is the reply (quoted, or its numbered list as steps), as
            // an FAQ answer's is. A longer page without a solution section is a guide the
            // reply links to (naming the section the ticket names).
            None if parsed.sections.len() <= 1 && body.len() <= SHORT_PAGE => {
                markdown::fix_text(&body, true)
            }
            None => markdown::FixText::default(),
        };
        let problem = markdown::names_problem(&title)
            || parsed
                .sections
                .iter()
                .any(|s| matches!(s.kind, SectionKind::Symptoms | SectionKind::Cause));
        entries.push(Entry {
            id: doc_id.clone(),
            doc_id: doc_id.clone(),
            path: rel.to_string(),
            anchor: None,
            kind: EntryKind::Article,
            title: title.clone(),
            page_title: title,
            meta: fm,
            lang,
            symptoms: pick(SectionKind::Symptoms),
            cause: pick(SectionKind::Cause),
            solution: pick(SectionKind::Solution),
            body: all_text,
            sections: parsed.sections,
            codes,
            fix,
            markdown: body.into_owned(),
            problem,
        });
    }
    Ok((entries, warnings))
}

fn is_faq_title(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("faq") || l.contains("常见问题") || l.contains("问答")
}

fn file_title(rel: &str) -> String {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    markdown_stem(name).unwrap_or(name).to_string()
}

/// An entry's error codes: those its front matter declares, then those named in its title
/// (a question such as "上传时报错“InvalidArgument”怎么办" names the code it answers), then
/// those in its text; each once.
fn entry_codes(declared: &[String], title: &str, text: &str) -> Vec<String> {
    let mut codes = declared.to_vec();
    for c in entities::canonical_codes(title)
        .into_iter()
        .chain(entities::canonical_codes(text))
    {
        if !codes.contains(&c) {
            codes.push(c);
        }
    }
    codes
}

/// Appends a section, heading first, to a text being assembled.
fn join_section(out: &mut String, sec: &Section) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&sec.heading);
    out.push('\n');
    out.push_str(&sec.text);
}

fn all_text(title: &str, p: &markdown::Parsed) -> String {
    let mut s = String::with_capacity(
        p.intro.len()
            + p.sections
                .iter()
                .map(|s| s.text.len() + s.heading.len() + 2)
                .sum::<usize>(),
    );
    let _ = title;
    s.push_str(&p.intro);
    for sec in &p.sections {
        s.push('\n');
        s.push_str(&sec.heading);
        s.push('\n');
        s.push_str(&sec.text);
    }
    s
}

/// Lines nested deeper than `max` levels of `>` or list indentation are cut back to `max`
/// levels: pathological nesting costs parsers time and stack, and carries no meaning.
fn flatten_deep_nesting<'a>(
    split: &frontmatter::Split<'a>,
    max: usize,
    rel: &str,
    warnings: &mut Vec<Problem>,
) -> std::borrow::Cow<'a, str> {
    let body = split.body;
    let deep = |line: &str| {
        let quotes = line
            .bytes()
            .take_while(|b| *b == b'>' || *b == b' ')
            .filter(|b| *b == b'>')
            .count();
        let indent = line
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        quotes > max || indent > max * 4
    };
    if !body.lines().any(deep) {
        return std::borrow::Cow::Borrowed(body);
    }
    let first = split.body_line + body.lines().position(deep).unwrap_or(0);
    warnings.push(warn(
        rel,
        Some(first),
        format!("nesting deeper than {max} levels was flattened"),
    ));
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        if deep(line) {
            out.push_str(line.trim_start_matches(['>', ' ', '\t']));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(md: &str, rel: &str) -> (Vec<Entry>, Vec<Problem>) {
        parse_article(md.as_bytes(), rel, Limits::default()).unwrap()
    }

    #[test]
    fn problem_entries_are_marked() {
        let (e, _) = parse(
            "# 实例无法启动\n## 现象\n启动卡住\n## 解决方案\n1. 重启\n",
            "a.md",
        );
        assert!(e[0].problem);
        let (e, _) = parse("# 实例规格族\n## 概述\n通用型\n## 原因分析\n没有\n", "b.md");
        assert!(e[0].problem, "a cause section makes a troubleshooting page");
        let (e, _) = parse("# 实例规格族\n## 概述\n通用型规格\n## 计费\n按量\n", "c.md");
        assert!(!e[0].problem, "an overview page");
        let (e, _) = parse(
            "---\ntype: faq\n---\n# 实例常见问题\n## 如何停止实例？\n在控制台停止。\n## 实例能否更换地域？\n不能。\n",
            "d.md",
        );
        assert!(e
            .iter()
            .filter(|x| x.kind == EntryKind::Faq)
            .all(|x| x.problem));
        // Asking what something is opens an overview, as a page or as an FAQ entry.
        let (e, _) = parse(
            "# 什么是弹性伸缩？
弹性伸缩按策略增减实例。
",
            "e.md",
        );
        assert!(!e[0].problem, "a definitional title");
        let (e, _) = parse(
            "---
type: faq
---
# 伸缩组常见问题
## 什么是伸缩组？
一组实例。
## 伸缩组为什么没有扩容？
检查伸缩活动。
",
            "f.md",
        );
        let faq: Vec<_> = e.iter().filter(|x| x.kind == EntryKind::Faq).collect();
        assert_eq!(faq.len(), 2);
        assert!(!faq[0].problem && faq[1].problem);
    }

    #[test]
    fn article_with_front_matter() {
        let (e, w) = parse("---\nid: ecs-ssh\ncategory: compute\nerror_codes: [\"Connection refused\"]\n---\n# SSH 连接被拒绝\n## 现象\nssh 报 Connection refused\n## 解决方案\n1. systemctl start sshd\n", "compute/x.md");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].id, "ecs-ssh");
        assert_eq!(e[0].title, "SSH 连接被拒绝");
        assert!(e[0].symptoms.contains("Connection refused"));
        assert!(e[0].solution.contains("systemctl"));
        assert_eq!(e[0].codes, vec!["connection refused"]);
        assert_eq!(e[0].lang, "zh");
    }

    #[test]
    fn codes_named_in_a_title_are_the_entry_codes() {
        // The question names the error; its answer only explains it.
        let md = "---\ntype: faq\n---\n# 图片处理常见问题\n## 处理图片时报错“InvalidArgument”怎么办？\n原图的请求参数是旧域名的格式，改用新域名。\n## 如何开通？\n在控制台开通。\n";
        let (e, _) = parse(md, "oss/faq.md");
        assert_eq!(e[0].codes, vec!["invalidargument"]);
        assert!(e[1].codes.is_empty());
        // A page whose title names the code, with a body that repeats it: listed once.
        let (e, _) = parse(
            "# 报错 ECONNRESET 的处理\n连接被对端重置（ECONNRESET）时，检查超时设置。\n",
            "x.md",
        );
        assert_eq!(e[0].codes, vec!["econnreset"]);
    }

    #[test]
    fn faq_page_splits_per_question() {
        let md = "---\ntype: faq\n---\n# 费用常见问题\n## 欠费后多久停机？ {#overdue}\n欠费后 24 小时停机。\n## 如何开发票？\n在费用中心申请。\n";
        let (e, _) = parse(md, "billing/faq.md");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, "billing/faq#overdue");
        assert_eq!(e[0].title, "欠费后多久停机？");
        assert_eq!(e[0].kind, EntryKind::Faq);
        assert!(e[1].id.starts_with("billing/faq#") && e[1].id.len() == "billing/faq#".len() + 8);
        assert!(e[1].markdown.starts_with("## 如何开发票？"));
    }

    #[test]
    fn detected_faq_page_without_front_matter() {
        let md = "# 常见问题\n## 为什么无法连接？\n检查安全组。\n## 是否支持 IPv6？\n支持。\n";
        let (e, _) = parse(md, "x/常见问题.md");
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn faq_split_keeps_every_part_of_the_page() {
        // Intro, a section that is not a question, and a sub-section under a question: each
        // must land in some entry, or a search for its words cannot find the page.
        let md = "# 数据加工常见问题\n本文列出加工时的常见报错。\n- [为什么读取失败？](#read)\n## 影响范围\n任务会重试。\n\
                  ## 为什么读取失败？ {#read}\n权限不足。\n### 操作步骤\n授予 AliyunLogReadOnlyAccess。\n\
                  ## 日志样例\nLookupError: unknown encoding\n## 如何重试？\n重新启动任务。\n";
        let (e, _) = parse(md, "sls/FAQ/数据加工.md");
        let ids: Vec<&str> = e.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert_eq!(e[0].id, "sls/FAQ/数据加工");
        assert_eq!(e[0].kind, EntryKind::Article);
        assert!(e[0].body.contains("常见报错") && e[0].body.contains("任务会重试"));
        assert!(e[0].markdown.contains("## 影响范围") && !e[0].markdown.contains("权限不足"));
        assert!(
            !e[0].body.contains("读取失败"),
            "the table of contents is not indexed twice"
        );
        let read = e.iter().find(|e| e.id == "sls/FAQ/数据加工#read").unwrap();
        assert!(
            read.body.contains("AliyunLogReadOnlyAccess"),
            "{}",
            read.body
        );
        assert!(
            read.body.contains("LookupError"),
            "a non-question section joins the question before it"
        );
        assert!(read.markdown.contains("### 操作步骤") && !read.markdown.contains("如何重试"));
        // Declared FAQ pages split at their top level; a sub-heading stays with its question.
        let md =
            "---\ntype: faq\n---\n# 费用\n## 欠费\n停机。\n### 细节\n24 小时。\n## 发票\n申请。\n";
        let (e, _) = parse(md, "billing/faq.md");
        assert_eq!(e.len(), 2);
        assert!(e[0].body.contains("24 小时"));
    }

    #[test]
    fn bad_files_are_reported_with_line() {
        let l = Limits::default();
        assert_eq!(
            parse_article(b"", "a.md", l).unwrap_err().message,
            "file is empty"
        );
        assert_eq!(
            parse_article(b"# x\n\xff\xfe", "a.md", l).unwrap_err().line,
            Some(2)
        );
        assert!(parse_article(b"# x\0y", "a.md", l)
            .unwrap_err()
            .message
            .contains("NUL"));
        let e = parse_article(b"---\nid: [x\n---\n# t\n", "a.md", l).unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        // A wrong type costs the key, with a warning on its line; the article is kept.
        let (entries, w) =
            parse_article(b"---\navg_fix_minutes: soon\n---\n# t\n", "a.md", l).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(w[0].line, Some(2), "{w:?}");
        assert_eq!(w[0].severity, Severity::Warning);
    }

    #[test]
    fn nameless_file_is_kept_with_a_warning() {
        let (e, w) = parse("# 常见问题\n正文", "p/.md");
        assert_eq!(e[0].id, "p/.md");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn deep_nesting_is_flattened() {
        let md = format!("---\ntags: [x]\n---\n# t\n{}deep\n", ">".repeat(10_000));
        let (e, w) = parse(&md, "a.md");
        assert!(e[0].body.contains("deep"));
        let w: Vec<_> = w.iter().filter(|p| p.message.contains("nesting")).collect();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(5), "the file's line, front matter counted");
    }

    /// A list item's code block closed at column 0 (as exported docs write it) no longer
    /// swallows the questions after it; a warning names the file's line of the first one.
    #[test]
    fn list_item_fences_keep_the_questions_after_them() {
        let md = "---\ntype: faq\n---\n# 数据盘常见问题\n\n## 如何卸载数据盘？\n\n\
                  -   ```\numount /dev/vdb1\n```\n\n## 如何删除 fstab 里的行？\n\n\
                  编辑文件：\n\n```\nvi /etc/fstab\n```\n\n## 释放后数据还在吗？\n\n不在。\n";
        let (e, w) = parse(md, "ecs/faq.md");
        let titles: Vec<&str> = e.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "如何卸载数据盘？",
                "如何删除 fstab 里的行？",
                "释放后数据还在吗？"
            ]
        );
        assert!(e[0].body.contains("umount /dev/vdb1"));
        assert!(e[1].body.contains("vi /etc/fstab"));
        let w: Vec<_> = w
            .iter()
            .filter(|p| p.message.contains("list item"))
            .collect();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(8));
        assert_eq!(w[0].severity, Severity::Warning);
    }
}
