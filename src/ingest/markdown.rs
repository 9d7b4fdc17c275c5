//! Markdown → title, sections and plain text, with pulldown-cmark.
//!
//! Keeps the text of paragraphs, lists, tables, inline code and code blocks; drops images
//! and HTML tags but keeps the text between tags. Heading attributes (`{#id .class}`) are
//! stripped from the text and the id kept as the section anchor.

use std::sync::LazyLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use regex::Regex;

/// What a section is about, recognised from its heading text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// 现象 / Symptoms.
    Symptoms,
    /// 原因 / Cause.
    Cause,
    /// 解决方案 / Resolution.
    Solution,
    /// 验证 / Verify.
    Verify,
    /// 适用范围 / Applies to.
    AppliesTo,
    /// 联系技术支持 / When to contact support.
    Contact,
    /// Anything else.
    Other,
}

/// Recognises a section kind from heading text, in Chinese and English.
pub fn section_kind(heading: &str) -> SectionKind {
    let h = heading.trim().to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if has(&[
        "现象",
        "症状",
        "问题描述",
        "故障描述",
        "symptom",
        "problem description",
        "issue description",
    ]) {
        SectionKind::Symptoms
    } else if has(&["原因", "cause", "why this happens"]) {
        SectionKind::Cause
    } else if has(&[
        "解决",
        "处理方法",
        "处理步骤",
        "操作步骤",
        "修复",
        "排查步骤",
        "solution",
        "resolution",
        "resolve",
        "steps",
        "how to fix",
        "workaround",
        "remedy",
        "fix",
    ]) {
        SectionKind::Solution
    } else if has(&[
        "验证",
        "确认修复",
        "verify",
        "verification",
        "check the fix",
    ]) {
        SectionKind::Verify
    } else if has(&["适用", "applies to", "scope", "applicable"]) {
        SectionKind::AppliesTo
    } else if has(&[
        "联系",
        "技术支持",
        "提交工单",
        "contact support",
        "when to contact",
        "get help",
    ]) {
        SectionKind::Contact
    } else {
        SectionKind::Other
    }
}

/// One section: a heading and the text up to the next heading of the same or higher level.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Heading level (2 for `##`).
    pub level: u8,
    /// Heading text without attributes.
    pub heading: String,
    /// `{#id}` anchor, if the heading has one.
    pub anchor: Option<String>,
    /// Recognised kind.
    pub kind: SectionKind,
    /// Plain text of the section body (without the heading).
    pub text: String,
    /// Byte range of the section in the body Markdown (heading included).
    pub range: (usize, usize),
    /// 1-based line of the heading in the body.
    pub line: usize,
}

/// A parsed Markdown body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// Text of the first H1, if any.
    pub h1: Option<String>,
    /// Plain text before the first section heading (H1 excluded).
    pub intro: String,
    /// Level-2 and level-3 sections, in order.
    pub sections: Vec<Section>,
}

static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<[^>]{0,2000}>").expect("valid regex"));
static ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\{#([^}\s]+)[^}]*\}\s*$").expect("valid regex"));
/// An HTML anchor inside a heading (`## Error: … <a name="TroubleshootingX"></a>`), as docs
/// exported from HTML carry them: the section's anchor when it has no `{#id}`.
static HTML_ANCHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<a\s[^>]*?\b(?:name|id)\s*=\s*["']([^"']+)["']"#).expect("valid regex")
});

/// The anchor an HTML `<a name>` or `<a id>` in `html` sets, if any.
fn html_anchor(html: &str) -> Option<String> {
    HTML_ANCHOR.captures(html).map(|c| c[1].to_string())
}

/// How far below a list item's code fence its closing fence is looked for, in lines.
const FENCE_SCAN_LINES: usize = 1000;

/// What a reader sees of an HTML or JSX tag: a component's label or title
/// (`<TabItem label="Linux">`, `<Accordion title="重置密码">` in MDX pages), else nothing.
/// An HTML element's `title` is a tooltip and is not kept.
fn tag_text(c: &regex::Captures) -> String {
    static LABEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\s(?:label|title)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("valid regex")
    });
    let tag = &c[0];
    if tag.as_bytes().get(1).is_some_and(u8::is_ascii_uppercase) {
        if let Some(v) = LABEL.captures(tag).and_then(|l| l.get(1).or(l.get(2))) {
            return format!(" {} ", v.as_str());
        }
    }
    " ".to_string()
}

/// Generator tags inside a line: Hugo shortcodes (`{{< copyable "sql" >}}`, `{{% note %}}`),
/// Liquid and GitBook tags (`{% include note.html %}`, `{% hint style="info" %}`) and MDX
/// comments (`{/* … */}`). Markup for the site generator, not words of the article.
static SITE_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{[<%][^\n]{0,300}?[>%]\}\}|\{%[^\n]{0,300}?%\}|\{/\*[^\n]{0,300}?\*/\}")
        .expect("valid regex")
});

/// An MkDocs admonition's opening line (`!!! note "标题"`, `??? tip`, `???+ warning inline`);
/// the quoted title, when there is one, is what readers see above the box.
static MKDOCS_ADMONITION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?:!!!|\?\?\?\+?)[ \t]*[A-Za-z][\w-]*(?:[ \t]+[A-Za-z][\w-]*)*(?:[ \t]+"([^"\n]*)")?[ \t]*$"#)
        .expect("valid regex")
});

/// The first line of an MDX `import` or `export` statement (`import Tabs from '@theme/Tabs';`,
/// `import {A, B} from "x"`, `export const meta = {`), not prose such as `export PATH=…`.
static MDX_STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(?:import\s*(?:\{|\*|['"]|[\w$]+\s*(?:,|from\b))|export\s+(?:default\b|const\s|let\s|var\s|function\b|async\s|class\s|\{|\*))"#)
        .expect("valid regex")
});

/// An import that names its module (`… from 'x'`, `import 'x.css'`): the statement is whole.
static MDX_IMPORT_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bfrom\s*['"]|^import\s*['"]"#).expect("valid regex"));

/// How many lines an MDX statement in a page's preamble may span.
const MDX_STATEMENT_LINES: usize = 50;

/// The body as its readers see it on the site, without the site generator's markup, or None
/// when it has none. Outside fenced code, and keeping line numbers:
/// - generator tags ([`SITE_TAG`]) go; the text between a paired tag's ends stays;
/// - admonitions keep their title and their text: container fences (`:::tip 提示` … `:::` in
///   Docusaurus and VuePress, `:::note[标题]`) become their title line, and MkDocs boxes
///   (`!!! warning "注意"` over a body indented by four spaces) their title and the body
///   unindented, which would otherwise read as a code block;
/// - MDX `import`/`export` statements before the text starts go;
/// - MyST directive fences (```` ```{note} 标题 ````, Sphinx sites) of admonitions and tabs
///   are prose, not code: the fences go and the argument and text stay; a `{toctree}`
///   goes whole;
/// - table-of-contents markers alone on a line (`[TOC]`, `[[toc]]`) go, and so do GitHub
///   alert markers (`> [!NOTE]`), the quote kept.
pub fn strip_site_markup(body: &str) -> Option<String> {
    // Most pages have none: a scan for the markers spares them the line pass.
    static MARKERS: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([
                "{{<", "{{%", "{%", "{/*", ":::", "!!!", "???", "toc]", "toc_]", "{:toc}", "`{",
                "~{", "[!",
            ])
            .expect("valid patterns")
    });
    let start = body.trim_start();
    if !MARKERS.is_match(body) && !start.starts_with("import") && !start.starts_with("export") {
        return None;
    }
    let mut dedented: Option<String> = None;
    // A box nested in a box surfaces one level per pass.
    for _ in 0..4 {
        match dedent_admonitions(dedented.as_deref().unwrap_or(body)) {
            Some(d) => dedented = Some(d),
            None => break,
        }
    }
    let text = dedented.as_deref().unwrap_or(body);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let preamble = mdx_preamble(&lines);
    let mut out = String::with_capacity(text.len());
    let mut fences = Fences::default();
    let mut changed = dedented.is_some();
    // Open MyST directive fences: (fence byte, length, navigation).
    let mut directives: Vec<(u8, usize, bool)> = Vec::new();
    let mut options = false;
    for (i, line) in lines.iter().enumerate() {
        let eol = if line.ends_with('\n') { "\n" } else { "" };
        if i < preamble {
            changed |= !line.trim().is_empty();
            out.push_str(eol);
            continue;
        }
        if fences.open.is_none() {
            if let Some(&(c, n, _)) = directives.last() {
                if closes_fence(line, c, n) {
                    directives.pop();
                    out.push_str(eol);
                    continue;
                }
            }
            if let Some(d) = myst_directive(line) {
                changed = true;
                directives.push((d.fence, d.len, d.navigation));
                options = true;
                out.push_str(if d.navigation { "" } else { d.argument });
                out.push_str(eol);
                continue;
            }
        }
        // A navigation directive's lines are paths; a box's `:class:` options are styling.
        if directives.last().is_some_and(|d| d.2) {
            out.push_str(eol);
            continue;
        }
        if options && MYST_OPTION.is_match(line.trim_end()) {
            out.push_str(eol);
            continue;
        }
        options = false;
        if fences.is_code(line) {
            out.push_str(line);
            continue;
        }
        if let Some(title) = container_fence(line) {
            changed = true;
            out.push_str(&title);
            out.push_str(eol);
            continue;
        }
        if is_toc_marker(line.trim()) {
            changed = true;
            out.push_str(eol);
            continue;
        }
        if let Some(quote) = alert_marker(line) {
            changed = true;
            out.push_str(quote);
            out.push_str(eol);
            continue;
        }
        if line.contains('{') {
            let stripped = SITE_TAG.replace_all(line, "");
            if stripped.len() != line.len() {
                changed = true;
                // A line that held only tags becomes blank, not a line of spaces.
                if stripped.trim().is_empty() {
                    out.push_str(eol);
                } else {
                    out.push_str(&stripped);
                }
                continue;
            }
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

/// A MyST directive option line (`:class: tip`, `:open:`).
static MYST_OPTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ {0,3}:[\w-]+:(?:\s.*)?$").expect("valid regex"));

/// MyST directives whose body is prose a reader sees (admonitions, dropdowns, tabs).
const MYST_PROSE: [&str; 24] = [
    "note",
    "warning",
    "tip",
    "hint",
    "important",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
    "admonition",
    "versionadded",
    "versionchanged",
    "deprecated",
    "dropdown",
    "topic",
    "sidebar",
    "margin",
    "card",
    "tab-set",
    "tab-item",
    "grid-item-card",
    "div",
    "eval-rst",
];

/// MyST directives that list other pages: navigation, not text.
const MYST_NAVIGATION: [&str; 3] = ["toctree", "contents", "tableofcontents"];

/// The opening fence of a MyST directive that is not code.
struct Directive<'a> {
    fence: u8,
    len: usize,
    navigation: bool,
    /// Its argument (an admonition's title).
    argument: &'a str,
}

/// A code fence whose info string is a MyST directive (```` ```{note} 标题 ````) of
/// [`MYST_PROSE`] or [`MYST_NAVIGATION`]; other directives (`{code-block}`, `{math}`) stay
/// code.
fn myst_directive(line: &str) -> Option<Directive<'_>> {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return None;
    }
    let fence = *t.as_bytes().first().filter(|b| matches!(b, b'`' | b'~'))?;
    let len = t.bytes().take_while(|&b| b == fence).count();
    if len < 3 {
        return None;
    }
    let (name, argument) = t[len..].trim().strip_prefix('{')?.split_once('}')?;
    let navigation = MYST_NAVIGATION.contains(&name);
    (navigation || MYST_PROSE.contains(&name)).then(|| Directive {
        fence,
        len,
        navigation,
        argument: argument.trim(),
    })
}

/// Whether `line` closes a fence of `len` or more `fence` bytes.
fn closes_fence(line: &str, fence: u8, len: usize) -> bool {
    let t = line.trim();
    t.len() >= len && t.bytes().all(|b| b == fence)
}

/// One pass over MkDocs admonitions: each opening line becomes its title (or a blank line),
/// and the indented body under it loses one level of indentation. None when there is none.
fn dedent_admonitions(body: &str) -> Option<String> {
    if !body.contains("!!!") && !body.contains("???") {
        return None;
    }
    let mut out = String::with_capacity(body.len());
    let mut fences = Fences::default();
    let mut inside = false;
    let mut changed = false;
    for line in body.split_inclusive('\n') {
        if inside {
            if line.trim().is_empty() {
                out.push_str(line);
                continue;
            }
            if let Some(rest) = line
                .strip_prefix("    ")
                .or_else(|| line.strip_prefix('\t'))
            {
                out.push_str(rest);
                continue;
            }
            inside = false;
        }
        if !fences.is_code(line) {
            if let Some(c) = MKDOCS_ADMONITION.captures(line.trim_end()) {
                changed = true;
                inside = true;
                out.push_str(c.get(1).map_or("", |m| m.as_str().trim()));
                if line.ends_with('\n') {
                    out.push('\n');
                }
                continue;
            }
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

/// A container fence line (`:::tip 提示`, `::: warning`, `:::note[标题]`, `::: {.note}`,
/// `:::`) as the text a reader sees in its place: the box's title, or nothing.
fn container_fence(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let t = line.trim();
    if indent > 3 || !t.starts_with(":::") {
        return None;
    }
    let rest = t.trim_start_matches(':').trim_start();
    // The box's kind (`tip`, `warning`, `details`) is styling; the title follows it.
    let kind = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        .count();
    let mut title = rest[kind..].trim();
    if let Some(inner) = title.strip_prefix('[').and_then(|r| r.split_once(']')) {
        title = inner.0;
    }
    let title = match title.find('{') {
        Some(i) if title.ends_with('}') => &title[..i],
        _ => title,
    };
    Some(title.trim().trim_matches(['"', '\'']).to_string())
}

/// A GitHub alert's marker line (`> [!NOTE]`, `> [!WARNING]`): the box's kind, shown as an
/// icon and a word the reader does not read as text. Its blockquote stays (`>`), so the
/// alert's text stays one quote.
fn alert_marker(line: &str) -> Option<&str> {
    let t = line.trim();
    let inner = t
        .strip_prefix('>')?
        .trim()
        .strip_prefix("[!")?
        .strip_suffix(']')?;
    ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"]
        .iter()
        .any(|k| inner.eq_ignore_ascii_case(k))
        .then_some(">")
}

/// `[TOC]`, `[[toc]]`, `[[_TOC_]]`, `@[toc]`, `{:toc}`: where a generator puts a table of
/// contents.
fn is_toc_marker(t: &str) -> bool {
    let inner = t
        .trim_start_matches('@')
        .trim_start_matches(['[', '{', ':'])
        .trim_end_matches([']', '}']);
    inner.len() + 2 <= t.len()
        && (inner.eq_ignore_ascii_case("toc") || inner.eq_ignore_ascii_case("_toc_"))
}

/// How many leading lines of a page are its MDX preamble: `import`/`export` statements
/// (see [`MDX_STATEMENT`]) and blank lines before the first text.
fn mdx_preamble(lines: &[&str]) -> usize {
    let mut end = 0;
    let mut i = 0;
    while i < lines.len() {
        let first = lines[i].trim();
        if first.is_empty() {
            i += 1;
            continue;
        }
        if !MDX_STATEMENT.is_match(first) {
            break;
        }
        let import = first.starts_with("import");
        let mut depth = 0i64;
        let mut statement = String::new();
        let mut last = None;
        for (j, line) in lines.iter().enumerate().skip(i).take(MDX_STATEMENT_LINES) {
            for b in line.bytes() {
                match b {
                    b'{' | b'[' | b'(' => depth += 1,
                    b'}' | b']' | b')' => depth -= 1,
                    _ => {}
                }
            }
            statement.push_str(line.trim());
            statement.push(' ');
            if depth <= 0 {
                if !import || MDX_IMPORT_END.is_match(&statement) {
                    last = Some(j);
                }
                break;
            }
        }
        match last {
            Some(j) => {
                i = j + 1;
                end = i;
            }
            None => break,
        }
    }
    end
}

/// Which lines of a Markdown text, read in order, belong to fenced code (fences included).
#[derive(Default)]
struct Fences {
    open: Option<(u8, usize)>,
}

impl Fences {
    fn is_code(&mut self, line: &str) -> bool {
        let t = line.trim_start();
        let run = |c: u8| t.bytes().take_while(|&b| b == c).count();
        match self.open {
            Some((c, n)) => {
                if run(c) >= n && t.trim_end().bytes().all(|b| b == c) {
                    self.open = None;
                }
                true
            }
            None if run(b'`') >= 3 => {
                self.open = Some((b'`', run(b'`')));
                true
            }
            None if run(b'~') >= 3 => {
                self.open = Some((b'~', run(b'~')));
                true
            }
            None => false,
        }
    }
}

/// The `##` and `###` headings of a Markdown text outside fenced code, cheaply: (heading
/// text as a reader sees it, its `{#id}` or HTML `<a name>` anchor). A line scan, not a parse, for a long page
/// read at query time; setext headings are not seen.
pub fn section_headings(md: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for (_, rest, _) in heading_lines(md) {
        let rest = rest.trim().trim_end_matches('#').trim_end();
        // A reference page has hundreds of headings: no regex unless one has an anchor.
        let (rest, anchor) = match rest.contains('{').then(|| ATTR.captures(rest)).flatten() {
            Some(c) => (ATTR.replace(rest, "").into_owned(), Some(c[1].to_string())),
            None => {
                let html = rest.contains("<a ").then(|| html_anchor(rest)).flatten();
                (rest.to_string(), html)
            }
        };
        let mut text = String::with_capacity(rest.len());
        let mut in_tag = false;
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                // A backslash escape (`\.`, `\(`, `\_`) reads as the character it escapes.
                '\\' if !in_tag && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) => {
                    text.extend(chars.next());
                }
                '<' if !in_tag
                    && chars
                        .peek()
                        .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/') =>
                {
                    in_tag = true;
                    text.push(' ');
                }
                '>' if in_tag => in_tag = false,
                _ if in_tag => {}
                '`' | '*' => {}
                _ => text.push(c),
            }
        }
        out.push((normalize_space(&text).trim().to_string(), anchor));
    }
    out
}

/// The level-2 and level-3 heading lines of `md` outside code, as [`section_headings`]
/// reads them: (level, the heading's text after its `#`s, the line's byte offset).
fn heading_lines(md: &str) -> impl Iterator<Item = (u8, &str, usize)> {
    let mut fences = Fences::default();
    md.lines().filter_map(move |line| {
        if fences.is_code(line) {
            return None;
        }
        let (level, rest) = match line.strip_prefix("## ") {
            Some(rest) => (2, rest),
            None => (3, line.strip_prefix("### ")?),
        };
        Some((level, rest, line.as_ptr() as usize - md.as_ptr() as usize))
    })
}

/// The byte span of each section [`section_headings`] lists, in its order, with its level:
/// from its heading line to the next heading of those (of any level).
pub fn section_spans(md: &str) -> Vec<(u8, usize, usize)> {
    let starts: Vec<(u8, usize)> = heading_lines(md).map(|(l, _, at)| (l, at)).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &(level, at))| (level, at, starts.get(i + 1).map_or(md.len(), |n| n.1)))
        .collect()
}

/// Mends code blocks opened on a list item's own line whose lines and closing fence are not
/// indented to the item's content (`-   ```` then `umount /dev/hda5` and ```` ``` ```` at
/// column 0), as docs exported from some doc systems are written. CommonMark ends the item
/// at the first outdented line, so the code becomes text and the closing fence opens a new
/// block: every fence after it is inverted and the headings between them are read as code.
/// Here the block's lines, closing fence included, are indented to the item's content, as
/// their writer meant. Lines are only indented, never added or removed, so line numbers
/// hold. Returns the mended body and the 1-based lines of the fences mended (at least one),
/// or None when there is nothing to mend.
pub fn mend_list_fences(body: &str) -> Option<(String, Vec<usize>)> {
    // Most files have no such fence: look only at the lines holding a fence first.
    let line_at = |at: usize| {
        let start = body[..at].rfind('\n').map_or(0, |p| p + 1);
        let end = body[at..].find('\n').map_or(body.len(), |p| at + p);
        &body[start..end]
    };
    static FENCES: LazyLock<aho_corasick::AhoCorasick> =
        LazyLock::new(|| aho_corasick::AhoCorasick::new(["```", "~~~"]).expect("valid patterns"));
    let maybe = FENCES
        .find_iter(body)
        .any(|m| list_item_fence(line_at(m.start())).is_some());
    if !maybe {
        return None;
    }
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    let indent = |l: &str| l.bytes().take_while(|&b| b == b' ').count();
    let mut mended: Vec<(usize, usize, usize)> = Vec::new(); // (opener, closer, column)
    let mut i = 0;
    while i < lines.len() {
        let Some((col, fence)) = list_item_fence(lines[i]) else {
            i += 1;
            continue;
        };
        let (ch, len) = (fence.as_bytes()[0], fence.len());
        let mut outdented = false;
        let mut closer = None;
        for (j, l) in lines.iter().enumerate().skip(i + 1).take(FENCE_SCAN_LINES) {
            let t = l.trim();
            let ind = indent(l);
            if t.len() >= len && t.bytes().all(|b| b == ch) && ind <= col + 3 {
                outdented |= ind < col;
                closer = Some(j);
                break;
            }
            outdented |= !t.is_empty() && ind < col;
        }
        match closer {
            Some(j) if outdented => {
                mended.push((i, j, col));
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    if mended.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(body.len() + mended.len() * 64);
    let mut next = mended.iter().peekable();
    let mut inside: Option<(usize, usize)> = None; // (closer, column)
    for (k, l) in lines.iter().enumerate() {
        if let Some((c, col)) = inside {
            if !l.trim().is_empty() {
                out.extend(std::iter::repeat_n(' ', col));
            }
            if k == c {
                inside = None;
            }
        } else if let Some(&&(o, c, col)) = next.peek() {
            if k == o {
                inside = Some((c, col));
                next.next();
            }
        }
        out.push_str(l);
    }
    let opened = mended.iter().map(|(o, _, _)| o + 1).collect();
    Some((out, opened))
}

/// A list item whose text starts with a code fence (`-   ```bash`, `2. ~~~`): the column
/// its content starts at, and the fence.
fn list_item_fence(line: &str) -> Option<(usize, &str)> {
    let line = line.trim_end_matches(['\n', '\r']);
    let lead = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[lead..];
    let marker = if rest.starts_with(['-', '*', '+']) {
        1
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest.as_bytes().get(digits) {
            Some(b'.' | b')') if (1..=9).contains(&digits) => digits + 1,
            _ => return None,
        }
    };
    let after = &rest[marker..];
    let gap = after.len() - after.trim_start_matches(' ').len();
    if gap == 0 {
        return None;
    }
    let text = &after[gap..];
    let ch = text.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = text.chars().take_while(|c| *c == ch).count();
    // A backtick fence's info string may not hold a backtick (that is inline code).
    if len < 3 || (ch == '`' && text[len..].contains('`')) {
        return None;
    }
    Some((lead + marker + gap, &text[..len]))
}

/// Parses a Markdown body.
pub fn parse(body: &str) -> Parsed {
    parse_with(body, false)
}

/// Parses a Markdown body; with `skip_toc`, the text of links to anchors on the same page
/// (`[为什么…？](#q3)`, a table of contents) is left out: it repeats headings kept elsewhere.
pub fn parse_with(body: &str, skip_toc: bool) -> Parsed {
    let opts =
        Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_STRIKETHROUGH;
    let mut parsed = Parsed::default();
    let mut buf = String::new();
    // The heading being read: (level, start offset, its `{#id}` or HTML anchor).
    let mut heading: Option<(u8, usize, Option<String>)> = None;
    let mut image_depth = 0usize;
    let mut html_block = String::new();
    // Per open link: whether its text is skipped.
    let mut links: Vec<bool> = Vec::new();

    let line_of = |offset: usize| {
        body[..offset.min(body.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    };

    let flush = |parsed: &mut Parsed, buf: &mut String| {
        let text = std::mem::take(buf);
        match parsed.sections.last_mut() {
            Some(s) => s.text.push_str(&text),
            None => parsed.intro.push_str(&text),
        }
    };

    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                flush(&mut parsed, &mut buf);
                heading = Some((heading_level(level), range.start, id.map(|s| s.to_string())));
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = normalize_space(&std::mem::take(&mut buf));
                let Some((level, start, id)) = heading.take() else {
                    continue;
                };
                // Attributes pulldown-cmark did not take (e.g. after trailing #s) are stripped here.
                let (text, anchor) = match ATTR.captures(&text) {
                    Some(c) => (
                        ATTR.replace(&text, "").trim().to_string(),
                        id.or_else(|| Some(c[1].to_string())),
                    ),
                    None => (text, id),
                };
                if level == 1 && parsed.h1.is_none() {
                    parsed.h1 = Some(text);
                } else if level == 2 || level == 3 {
                    if let Some(last) = parsed.sections.last_mut() {
                        last.range.1 = start;
                    }
                    parsed.sections.push(Section {
                        level,
                        kind: section_kind(&text),
                        heading: text,
                        anchor,
                        text: String::new(),
                        range: (start, body.len()),
                        line: line_of(start),
                    });
                } else {
                    // Deeper headings are part of their section's text.
                    buf.push_str(&text);
                    buf.push('\n');
                    flush(&mut parsed, &mut buf);
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push(skip_toc && dest_url.starts_with('#'));
            }
            Event::End(TagEnd::Link) => {
                links.pop();
            }
            Event::Text(_) | Event::Code(_) if links.last() == Some(&true) => {}
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if image_depth == 0 => buf.push_str(&t),
            Event::Html(h) => html_block.push_str(&h),
            Event::InlineHtml(h) if image_depth == 0 => {
                if let Some((_, _, id @ None)) = &mut heading {
                    *id = html_anchor(&h);
                }
                buf.push_str(&TAG.replace_all(&h, tag_text));
            }
            Event::End(TagEnd::HtmlBlock) => {
                buf.push_str(&TAG.replace_all(&std::mem::take(&mut html_block), tag_text));
                buf.push('\n');
            }
            Event::SoftBreak | Event::HardBreak => buf.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_),
            ) => buf.push('\n'),
            Event::End(TagEnd::TableCell) => buf.push_str(" | "),
            _ => {}
        }
    }
    flush(&mut parsed, &mut buf);
    parsed.intro = tidy(&parsed.intro);
    for s in &mut parsed.sections {
        s.text = tidy(&s.text);
    }
    parsed
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn normalize_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Trims each line and drops runs of blank lines.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true;
    for line in s.lines() {
        let l = line.trim();
        if l.is_empty() || l == "|" {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        out.push_str(l.trim_end_matches(" |"));
        out.push('\n');
        blank = false;
    }
    out.trim_end().to_string()
}

/// True when a title names a problem to fix: it reads like a question but does not ask what
/// something is. `什么是NAT网关` and `What is Auto Scaling` are questions, and FAQ pages are split
/// at them, but they open a product's overview; a ticket about a failure that names the product
/// is not answered there.
pub fn names_problem(title: &str) -> bool {
    is_question(title) && !is_definition(title)
}

/// True when a heading asks what something is (`什么是…`, `…是什么？`, `What is …`).
pub fn is_definition(heading: &str) -> bool {
    static D: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*什么是|是什么[？?]?\s*$|(?i:^\s*what\s+(is|are)\s)").expect("valid regex")
    });
    D.is_match(heading)
}

/// True when a heading reads like a question (FAQ pages are split at these).
pub fn is_question(heading: &str) -> bool {
    static Q: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[？?]|如何|为什么|为何|怎么|怎样|是否|能否|可否|可以.*吗|哪些|什么|无法|失败|报错|错误|异常|不能|不通|超时|吗|(?i:^(how|why|what|can|does|do|is|are|which|when|where|should|will)(?-u:\b)|unable|cannot|fail|error|not work)")
            .expect("valid regex")
    });
    heading.chars().count() >= 4 && Q.is_match(heading)
}

/// Most steps listed in a reply.
const MAX_STEPS: usize = 8;
/// Longest step, chars.
const MAX_STEP_CHARS: usize = 240;
/// Most paragraphs, point lists and code blocks in one step's Markdown.
const MAX_STEP_BLOCKS: usize = 8;
/// Most code blocks and tables in one step's Markdown.
const MAX_STEP_CODE: usize = 4;
/// Most lines of one code block in a step (the rest is on the article's page).
const MAX_CODE_LINES: usize = 12;
/// Most sub-points of one step.
const MAX_POINTS: usize = 6;
/// Most body rows of one table in a step.
const MAX_TABLE_ROWS: usize = 10;

/// A fix step, as a reply lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// What to do: the step's prose as one line of plain text.
    pub text: String,
    /// The step as Markdown: its paragraphs (inline code kept), its sub-points and the
    /// commands it shows as fenced code, so that a reply can tell the customer what to run
    /// (`放行 SSH 端口：` and the command, not a sentence that ends in a colon).
    pub markdown: String,
}

/// Whether Markdown source the parser took for an indented code block is prose, a note, a
/// list of points or an image rather than code: past a list marker, emphasis and a label
/// (`**Note:**`), its first line opens with Chinese text or a link. (Code with Chinese
/// comments opens with its command or `#`.)
fn reads_as_prose(text: &str) -> bool {
    static LABEL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?i:note|notice|warning|caution|tip|important)\s*[:：]\s*\**\s*")
            .expect("valid regex")
    });
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    first.is_some_and(|l| {
        let t = without_list_marker(l).trim_start_matches('*').trim_start();
        let t = LABEL.find(t).map_or(t, |m| &t[m.end()..]);
        t.chars()
            .next()
            .is_some_and(crate::analysis::normalize::is_han)
            || t.starts_with("![")
            || t.starts_with('[')
    })
}

/// `line` (trimmed) without a leading list marker (`-`, `*`, `+`, `1.`) and the space after
/// it; `None` when it has none.
fn list_item_text(line: &str) -> Option<&str> {
    let rest = line.strip_prefix(['-', '*', '+']).or_else(|| {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0)
            .then(|| line[digits..].strip_prefix('.'))
            .flatten()
    })?;
    rest.starts_with([' ', '\t']).then(|| rest.trim_start())
}

/// `line` without its list marker, if it has one.
fn without_list_marker(line: &str) -> &str {
    list_item_text(line).unwrap_or(line)
}

/// Markdown source the parser took for code, read into `m` as the paragraphs and points it
/// is: a link as its text, no emphasis marks, a paragraph's lines joined, no table rows.
fn read_as_prose(md: &str, m: &mut StepMarkdown) {
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"!?\[([^\]]*)\]\([^)]*\)").expect("valid regex"));
    let plain = |t: &str| {
        LINK.replace_all(t, "$1")
            .replace("**", "")
            .trim()
            .to_string()
    };
    for para in md.split("\n\n") {
        // A table row there is a table the indentation broke; its cells read as noise.
        for line in para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('|'))
        {
            match list_item_text(line) {
                Some(t) => m.point(&plain(t), ""),
                None => {
                    let t = plain(line);
                    if !t.is_empty() {
                        if !m.para.is_empty() {
                            m.para.push(' ');
                        }
                        m.para.push_str(&t);
                    }
                }
            }
        }
        m.end_paragraph();
    }
}

/// The Markdown of one step, built block by block as the parser walks it.
#[derive(Default, Clone)]
struct StepMarkdown {
    blocks: Vec<String>,
    para: String,
    points: Vec<String>,
    code_blocks: usize,
    /// A block was left out: the step ends here (the article has the rest).
    full: bool,
}

impl StepMarkdown {
    fn block(&mut self, b: Block) {
        match b {
            Block::Code(lang, code) => self.code(&lang, &code),
            Block::Table(rows) => self.table(&rows),
        }
    }

    fn push(&mut self, block: String) {
        if self.blocks.len() >= MAX_STEP_BLOCKS {
            self.full = true;
        }
        if !self.full {
            self.blocks.push(block);
        }
    }

    /// Room for one more code block or table; when there is none the step ends, without
    /// the sentence that announced what is left out (`/etc/docker/daemon.json:`).
    fn room_for_code(&mut self) -> bool {
        if self.code_blocks >= MAX_STEP_CODE || self.blocks.len() >= MAX_STEP_BLOCKS {
            if !self.full
                && self
                    .blocks
                    .last()
                    .is_some_and(|b| b.ends_with('：') || b.ends_with(':'))
            {
                self.blocks.pop();
            }
            self.full = true;
        }
        if self.full {
            return false;
        }
        self.code_blocks += 1;
        true
    }

    fn end_paragraph(&mut self) {
        let p = clip(self.para.trim());
        self.para.clear();
        if !p.is_empty() {
            self.flush_points();
            self.push(p);
        }
    }

    fn flush_points(&mut self) {
        if !self.points.is_empty() {
            let list = self
                .points
                .drain(..)
                .map(|p| format!("- {p}"))
                .collect::<Vec<_>>()
                .join("\n");
            self.push(list);
        }
    }

    /// A sub-point, with the code blocks under it (already fenced and indented).
    fn point(&mut self, t: &str, code: &str) {
        self.end_paragraph();
        let p = clip(t.trim());
        if !p.is_empty() && self.points.len() < MAX_POINTS && !self.full {
            self.points.push(format!("{p}{code}"));
        }
    }

    fn code(&mut self, lang: &str, body: &str) {
        self.end_paragraph();
        self.flush_points();
        if let Some(block) = self.fenced(lang, body) {
            self.push(block);
        }
    }

    /// The code block under a sub-point: indented into the point's list item.
    fn point_code(&mut self, lang: &str, body: &str) -> String {
        match self.fenced(lang, body) {
            Some(block) => {
                let indented: Vec<String> = block.lines().map(|l| format!("  {l}")).collect();
                format!("\n\n{}", indented.join("\n"))
            }
            None => String::new(),
        }
    }

    /// A code block fenced, cut to [`MAX_CODE_LINES`]; `None` when it is empty or the step
    /// has no room left.
    fn fenced(&mut self, lang: &str, body: &str) -> Option<String> {
        let lines: Vec<&str> = body.trim_end_matches('\n').lines().collect();
        if lines.iter().all(|l| l.trim().is_empty()) || !self.room_for_code() {
            return None;
        }
        let mut code = lines[..lines.len().min(MAX_CODE_LINES)].join("\n");
        if lines.len() > MAX_CODE_LINES {
            code.push_str("\n…");
        }
        // A fence longer than any run of backticks in the code.
        let run = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(run.max(2) + 1);
        Some(format!("{fence}{lang}\n{code}\n{fence}"))
    }

    /// A table (header row first) as GFM; cells keep their inline code.
    fn table(&mut self, rows: &[Vec<String>]) {
        self.end_paragraph();
        self.flush_points();
        let Some(head) = rows.first().filter(|h| !h.is_empty()) else {
            return;
        };
        if !self.room_for_code() {
            return;
        }
        let line = |r: &Vec<String>| {
            let cells: Vec<String> = r
                .iter()
                .map(|c| clip(c.trim()).replace('|', "\\|"))
                .collect();
            format!("| {} |", cells.join(" | "))
        };
        let mut out = vec![line(head), format!("|{}", "---|".repeat(head.len()))];
        out.extend(rows[1..].iter().take(MAX_TABLE_ROWS).map(line));
        if rows.len() > MAX_TABLE_ROWS + 1 {
            out.push(format!("| …{} |", " |".repeat(head.len() - 1)));
        }
        self.push(out.join("\n"));
    }

    fn finish(mut self) -> String {
        self.end_paragraph();
        self.flush_points();
        self.blocks.join("\n\n")
    }
}

/// A code block or a table, as [`BlockReader`] reads it.
enum Block {
    /// Info string's first word, and the code.
    Code(String, String),
    /// Rows of cells, the header first; cells keep their inline code in backticks.
    Table(Vec<Vec<String>>),
}

/// What [`BlockReader::read`] made of an event.
enum Read {
    /// Not part of a code block or table.
    Not,
    /// Part of one, still open.
    Taken,
    /// The end of one.
    Done(Block),
}

/// Reads code blocks and tables out of a Markdown event stream, for the Markdown of steps
/// and excerpts.
#[derive(Default)]
struct BlockReader {
    in_code: bool,
    /// The code block being read (or last read) is indented, not fenced.
    indented: bool,
    code: String,
    lang: String,
    tables: usize,
    rows: Vec<Vec<String>>,
}

impl BlockReader {
    fn read(&mut self, ev: &Event) -> Read {
        match ev {
            Event::Start(Tag::CodeBlock(kind)) => {
                self.in_code = true;
                self.indented = matches!(kind, pulldown_cmark::CodeBlockKind::Indented);
                self.code.clear();
                self.lang = match kind {
                    pulldown_cmark::CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    pulldown_cmark::CodeBlockKind::Indented => String::new(),
                };
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                let (lang, code) = (
                    std::mem::take(&mut self.lang),
                    std::mem::take(&mut self.code),
                );
                return Read::Done(Block::Code(lang, code));
            }
            Event::Text(t) | Event::Code(t) if self.in_code => self.code.push_str(t),
            Event::Start(Tag::Table(_)) => {
                self.tables += 1;
                self.rows.clear();
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                self.rows.push(Vec::new())
            }
            Event::Start(Tag::TableCell) => {
                if let Some(r) = self.rows.last_mut() {
                    r.push(String::new());
                }
            }
            Event::Text(t) | Event::Code(t) if self.tables > 0 => {
                if let Some(c) = self.rows.last_mut().and_then(|r| r.last_mut()) {
                    if matches!(ev, Event::Code(_)) {
                        c.push('`');
                        c.push_str(t);
                        c.push('`');
                    } else {
                        c.push_str(t);
                    }
                }
            }
            Event::End(TagEnd::Table) => {
                self.tables = self.tables.saturating_sub(1);
                if self.tables == 0 {
                    return Read::Done(Block::Table(std::mem::take(&mut self.rows)));
                }
            }
            _ if self.in_code || self.tables > 0 => {}
            _ => return Read::Not,
        }
        Read::Taken
    }
}

/// The parser the fix extraction reads a solution with: tables and heading anchors on.
fn fix_parser(md: &str) -> Parser<'_> {
    Parser::new_ext(
        md,
        Options::ENABLE_TABLES | Options::ENABLE_HEADING_ATTRIBUTES,
    )
}

/// Text as Markdown inline: a code span in backticks.
fn inline_md(t: &str, code: bool) -> String {
    match (code, t.contains('`')) {
        (false, _) => t.to_string(),
        (true, false) => format!("`{t}`"),
        (true, true) => format!("`` {t} ``"),
    }
}

/// The numbered steps of a fix: the top-level items of the first list of the solution
/// section (`whole` false: found by its heading) or of all of `md` (`whole`), each with its
/// Markdown (see [`Step`]). See [`fix_text`], which calls it for a numbered list only.
pub fn solution_steps(md: &str, whole: bool) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut in_solution = whole;
    let mut heading = false;
    let mut heading_text = String::new();
    let mut list_depth = 0usize;
    let mut item_depth = 0usize;
    let mut blocks = BlockReader::default();
    let mut cur = String::new();
    let mut cur_md = StepMarkdown::default();
    let mut point = String::new();
    let mut point_code = String::new();
    // A numbered list that a block not indented into it interrupts (a command pasted at the
    // margin, an MDX `<Tabs>` block) goes on as a new list that starts where the count
    // stopped (`3.` after `1.` and `2.`): one list to its author. `next` is that number while
    // the list is interrupted, the blocks in between belong to its last step (`last_md`),
    // and anything else ends the steps.
    let mut number = 1u64;
    let mut next: Option<u64> = None;
    let mut last_md: Option<StepMarkdown> = None;
    let mut between: Vec<(Block, bool)> = Vec::new();
    for ev in fix_parser(md) {
        match blocks.read(&ev) {
            Read::Taken => continue,
            Read::Done(block) => {
                if in_solution {
                    match (item_depth, block) {
                        (0, b) if next.is_some() => between.push((b, blocks.indented)),
                        (1, b) if list_depth == 1 => cur_md.block(b),
                        (2, Block::Code(lang, code)) => {
                            point_code.push_str(&cur_md.point_code(&lang, &code))
                        }
                        _ => {}
                    }
                }
                continue;
            }
            Read::Not => {}
        }
        match ev {
            Event::Start(Tag::Heading { .. }) if next.is_some() => break,
            Event::Start(Tag::Heading { .. }) => {
                heading = true;
                heading_text.clear();
            }
            Event::End(TagEnd::Heading(level)) => {
                heading = false;
                if !whole && (level as usize) <= 3 {
                    if in_solution && !out.is_empty() {
                        break;
                    }
                    in_solution = section_kind(&heading_text) == SectionKind::Solution;
                }
            }
            Event::Start(Tag::List(_)) if next.is_some() && list_depth == 0 => {
                // The interrupted list goes on only as the numbered list that continues it.
                let goes_on = matches!(ev, Event::Start(Tag::List(Some(n))) if Some(n) == next);
                if !goes_on {
                    break;
                }
                next = None;
                list_depth += 1;
                if let (Some(mut m), Some(step)) = (last_md.take(), out.last_mut()) {
                    m.end_paragraph();
                    for (b, indented) in between.drain(..) {
                        match b {
                            // Text indented too little for the item and too much for the
                            // margin reads as code: prose, a note or a screenshot of the
                            // step, which reads as the step's later paragraph (a screenshot
                            // as nothing).
                            Block::Code(_, text) if indented && reads_as_prose(&text) => {
                                read_as_prose(&text, &mut m);
                            }
                            b => m.block(b),
                        }
                    }
                    step.markdown = m.clone().finish();
                    last_md = Some(m);
                }
            }
            Event::Start(Tag::List(start)) => {
                list_depth += 1;
                if list_depth == 1 {
                    number = start.unwrap_or(1);
                }
            }
            Event::End(TagEnd::List(ordered)) => {
                list_depth = list_depth.saturating_sub(1);
                if in_solution && list_depth == 0 && !out.is_empty() {
                    if !ordered {
                        break;
                    }
                    next = Some(number);
                }
            }
            Event::Start(Tag::Item) => {
                item_depth += 1;
                match item_depth {
                    1 => {
                        cur.clear();
                        cur_md = StepMarkdown::default();
                    }
                    2 => {
                        point.clear();
                        point_code.clear();
                    }
                    _ => point.push(' '),
                }
            }
            Event::End(TagEnd::Item) => {
                if item_depth == 2 && in_solution {
                    cur_md.point(&point, &point_code);
                }
                if item_depth == 1 && list_depth == 1 {
                    number += 1;
                }
                if item_depth == 1 && in_solution && out.len() < MAX_STEPS {
                    let s = clip(cur.trim());
                    last_md = Some(cur_md.clone());
                    let markdown = std::mem::take(&mut cur_md).finish();
                    if !s.is_empty() {
                        out.push(Step { text: s, markdown });
                    }
                }
                item_depth = item_depth.saturating_sub(1);
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                let inline = matches!(ev, Event::Code(_));
                if heading {
                    heading_text.push_str(t);
                } else if in_solution && item_depth == 1 && list_depth == 1 {
                    cur.push_str(t);
                    cur_md.para.push_str(&inline_md(t, inline));
                } else if in_solution && item_depth >= 2 {
                    point.push_str(&inline_md(t, inline));
                }
            }
            Event::SoftBreak | Event::HardBreak if item_depth == 1 => {
                cur.push(' ');
                cur_md.para.push(' ');
            }
            Event::SoftBreak | Event::HardBreak if item_depth >= 2 => point.push(' '),
            Event::End(TagEnd::Paragraph) if item_depth == 1 && in_solution => {
                cur.push(' ');
                cur_md.end_paragraph();
            }
            _ => {}
        }
    }
    out
}

/// What a reply says of a fix: what the article says before its numbered steps, and the
/// steps. A solution written as prose and bullet points (`对于没有TCP timestamp信息的客户端，
/// 需要将TCP长连接替换短链接` and a list of caveats) is all introduction: reading its points
/// as numbered steps would drop the one sentence that is the fix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FixText {
    /// Markdown before the first numbered list (all of it when there is none), quoted as
    /// it reads (see [`excerpt`]).
    pub intro: Option<String>,
    /// The numbered list's items.
    pub steps: Vec<Step>,
}

/// The [`FixText`] of a solution section (`whole` false: `md` starts with its heading) or
/// of a whole answer (an FAQ answer, a short page, a section a ticket names).
pub fn fix_text(md: &str, whole: bool) -> FixText {
    // The first top-level list: where it starts, and whether it is numbered.
    let mut first = None;
    let mut depth = 0usize;
    for (ev, range) in fix_parser(md).into_offset_iter() {
        match ev {
            Event::Start(Tag::List(start)) => {
                if depth == 0 {
                    first = Some((range.start, start.is_some()));
                    break;
                }
                depth += 1;
            }
            Event::Start(Tag::BlockQuote(_)) => depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    match first {
        Some((at, true)) => FixText {
            intro: excerpt(&md[..at]).map(|s| s.markdown),
            steps: solution_steps(md, whole),
        },
        _ => FixText {
            intro: excerpt(md).map(|s| s.markdown),
            steps: Vec::new(),
        },
    }
}

/// The opening of a page's section as one block of Markdown: its first paragraphs, lists,
/// code blocks and tables in page order, capped as a step is. What a reply quotes from the
/// section of a long guide that holds the ticket, where numbered steps would misread
/// prose and parameter lists. `None` when the section has no text.
pub fn excerpt(md: &str) -> Option<Step> {
    let mut m = StepMarkdown::default();
    let mut text = String::new();
    let mut plain = String::new();
    let (mut heading, mut depth) = (false, 0usize);
    let mut blocks = BlockReader::default();
    let mut point = String::new();
    for ev in fix_parser(md) {
        match blocks.read(&ev) {
            Read::Taken => continue,
            Read::Done(block) => {
                if depth == 0 {
                    m.block(block);
                }
            }
            Read::Not => match ev {
                Event::Start(Tag::Heading { .. }) => heading = true,
                Event::End(TagEnd::Heading(_)) => heading = false,
                Event::Start(Tag::Item) => {
                    depth += 1;
                    if depth == 1 {
                        point.clear();
                    } else {
                        point.push(' ');
                    }
                }
                Event::End(TagEnd::Item) => {
                    if depth == 1 {
                        m.point(&point, "");
                    }
                    depth = depth.saturating_sub(1);
                }
                Event::Text(ref t) | Event::Code(ref t) if !heading => {
                    let t = inline_md(t, matches!(ev, Event::Code(_)));
                    if depth >= 1 {
                        point.push_str(&t);
                    } else {
                        m.para.push_str(&t);
                        plain.push_str(t.trim_matches('`'));
                    }
                }
                Event::SoftBreak | Event::HardBreak => {
                    if depth >= 1 {
                        point.push(' ');
                    } else {
                        m.para.push(' ');
                        plain.push(' ');
                    }
                }
                Event::End(TagEnd::Paragraph) if depth == 0 => {
                    if text.is_empty() {
                        text = clip(plain.trim());
                    }
                    plain.clear();
                    m.end_paragraph();
                }
                _ => {}
            },
        }
        if m.full {
            break;
        }
    }
    let markdown = m.finish();
    if markdown.is_empty() {
        return None;
    }
    if text.is_empty() {
        text = clip(&markdown.replace('`', ""));
    }
    Some(Step { text, markdown })
}

fn clip(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(MAX_STEP_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// The share of an entry's text, in characters of its non-blank lines, that sits in tables
/// and fenced code blocks: near 1 for reference pages (API parameters and responses,
/// template syntax, metric lists), low for pages that explain and guide.
pub fn structured_share(md: &str) -> f32 {
    let (mut structured, mut all) = (0usize, 0usize);
    let mut fence = false;
    for line in md.lines() {
        let s = line.trim();
        if s.starts_with("```") || s.starts_with("~~~") {
            fence = !fence;
            continue;
        }
        if s.is_empty() {
            continue;
        }
        let n = s.chars().count();
        all += n;
        if fence || s.starts_with('|') {
            structured += n;
        }
    }
    if all == 0 {
        0.0
    } else {
        structured as f32 / all as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `strip_site_markup(md)`, checked to keep every line.
    fn stripped(md: &str) -> String {
        let out = strip_site_markup(md).expect("markup to strip");
        assert_eq!(out.lines().count(), md.lines().count(), "{out:?}");
        out
    }

    #[test]
    fn section_headings_are_read_outside_code() {
        let md = "# T\n\n## `time_zone` <span class=\"v\">从 v5.7 开始引入</span>\n\nx\n\n```sh\n## not a heading\n```\n\n### **B** {#b-id}\n#### deeper\n## Error: unable to load key \\.\\.\\. \\(PEM\\)<a name=\"key-file\"></a>\n";
        let want = |h: &str, a: Option<&str>| (h.to_string(), a.map(str::to_string));
        assert_eq!(
            section_headings(md),
            [
                want("time_zone 从 v5.7 开始引入", None),
                want("B", Some("b-id")),
                want("Error: unable to load key ... (PEM)", Some("key-file")),
            ]
        );
        // The full parse reads the same heading and anchor.
        let p = parse(md);
        let last = p.sections.last().unwrap();
        assert_eq!(last.heading, "Error: unable to load key ... (PEM)");
        assert_eq!(last.anchor.as_deref(), Some("key-file"));
        // Each listed heading's span runs to the next one; a `####` stays inside its section.
        let spans = section_spans(md);
        assert_eq!(spans.len(), 3);
        assert_eq!(spans.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 3, 2]);
        assert!(md[spans[0].1..spans[0].2].contains("## not a heading"));
        assert!(md[spans[1].1..spans[1].2].starts_with("### **B**"));
        assert!(md[spans[1].1..spans[1].2].contains("#### deeper"));
        assert_eq!(spans[2].2, md.len());
    }

    #[test]
    fn shortcodes_are_stripped_outside_code() {
        let md = "# T\n\n{{< copyable \"sql\" >}}\n\n```sql\n{{< keep >}}\n```\n\n{{% note %}}Back up first.{{% /note %}}\n";
        let out = stripped(md);
        assert_eq!(
            out,
            "# T\n\n\n\n```sql\n{{< keep >}}\n```\n\nBack up first.\n"
        );
        assert_eq!(strip_site_markup("# T\n\n`{{` alone\n"), None);
    }

    #[test]
    fn admonitions_keep_their_title_and_text() {
        // Docusaurus / VuePress containers.
        let md = "# T\n\n:::tip 提示\n先确认是哪个分区满了。\n:::\n\n::: danger\n不要删除数据目录。\n:::\n\n:::note[先备份]\n备份 /etc。\n:::\n\n```md\n:::tip kept in code\n```\n";
        let out = stripped(md);
        assert_eq!(
            out,
            "# T\n\n提示\n先确认是哪个分区满了。\n\n\n\n不要删除数据目录。\n\n\n先备份\n备份 /etc。\n\n\n```md\n:::tip kept in code\n```\n"
        );

        // MkDocs boxes: the indented body is text, not a code block; nested boxes surface too.
        let md = "# T\n\n!!! warning \"注意\"\n    删除日志前先备份。\n\n    ```bash\n    cp a b\n    ```\n\n    ??? note\n        内层说明。\n\n普通段落\n\n    indented code stays\n";
        let out = stripped(md);
        assert_eq!(
            out,
            "# T\n\n注意\n删除日志前先备份。\n\n```bash\ncp a b\n```\n\n\n内层说明。\n\n普通段落\n\n    indented code stays\n"
        );
        let p = parse(&out);
        assert!(
            p.intro.starts_with("注意\n删除日志前先备份。\ncp a b"),
            "{:?}",
            p.intro
        );
        assert!(p.intro.contains("内层说明。"));
    }

    #[test]
    fn myst_directives_are_prose_or_navigation() {
        let md = "# T\n\n```{note} 先备份\n:class: tip\n快照以后再操作。\n```\n\n````{tab-item} Linux\n```bash\ndf -h\n```\n````\n\n```{toctree}\n:maxdepth: 2\ninstall\n```\n\n```{code-block} python\nprint(1)\n```\n";
        let out = stripped(md);
        assert_eq!(
            out,
            "# T\n\n先备份\n\n快照以后再操作。\n\n\nLinux\n```bash\ndf -h\n```\n\n\n\n\n\n\n\n```{code-block} python\nprint(1)\n```\n"
        );
        let p = parse(&out);
        assert!(p.intro.contains("快照以后再操作。"), "{:?}", p.intro);
    }

    #[test]
    fn generator_tags_mdx_preambles_and_toc_markers_go() {
        let md = "import Tabs from '@theme/Tabs';\nimport {\n  A,\n  B,\n} from \"./parts\";\nimport './style.css';\nexport const meta = {\n  level: 2,\n};\n\n# 磁盘满\n\n[TOC]\n\n{% hint style=\"info\" %}\n先看 `df -h`。\n{% endhint %}\n\n{/* 编辑备注 */}\n\nimport data from a CSV file later.\n\n```js\nimport X from 'y';\n{% raw %}\n```\n";
        let out = stripped(md);
        assert_eq!(
            out,
            "\n\n\n\n\n\n\n\n\n\n# 磁盘满\n\n\n\n\n先看 `df -h`。\n\n\n\n\nimport data from a CSV file later.\n\n```js\nimport X from 'y';\n{% raw %}\n```\n"
        );
        // Prose that starts like a statement is not one.
        for prose in [
            "export PATH=$PATH:/opt/bin\n\n# T\n",
            "import data from a CSV file\n",
            "import {x} from the list\n",
        ] {
            assert_eq!(strip_site_markup(prose), None, "{prose}");
        }
        assert_eq!(strip_site_markup("# T\n\n写作 [toc] 的方法\n"), None);
        assert_eq!(
            strip_site_markup("> [!WARNING]\n> 先备份。\n\n> [!NOTE] 不是标记\n").unwrap(),
            ">\n> 先备份。\n\n> [!NOTE] 不是标记\n"
        );
    }

    #[test]
    fn sections_and_anchors() {
        let md = "# 标题\n\n引言\n\n## 现象 {#sym .x}\n\nSSH 报错 `Connection refused`\n\n## 解决方案\n\n1. 执行\n   ```bash\n   systemctl restart sshd\n   ```\n\n### 细节\n\n文本\n";
        let p = parse(md);
        assert_eq!(p.h1.as_deref(), Some("标题"));
        assert_eq!(p.intro, "引言");
        assert_eq!(p.sections.len(), 3);
        assert_eq!(p.sections[0].heading, "现象");
        assert_eq!(p.sections[0].anchor.as_deref(), Some("sym"));
        assert_eq!(p.sections[0].kind, SectionKind::Symptoms);
        assert!(p.sections[0].text.contains("Connection refused"));
        assert_eq!(p.sections[1].kind, SectionKind::Solution);
        assert!(p.sections[1].text.contains("systemctl restart sshd"));
        assert_eq!(p.sections[0].line, 5);
    }

    #[test]
    fn html_images_and_tables() {
        let md = "## 说明\n\n<div class=\"note\"><b>注意</b>：先做快照</div>\n\n![架构图](http://x/y.png)\n\n| 参数 | 说明 |\n|---|---|\n| max_connections | 最大连接数 |\n";
        let p = parse(md);
        let t = &p.sections[0].text;
        assert!(t.contains("注意") && t.contains("先做快照"), "{t}");
        assert!(!t.contains("架构图") && !t.contains("<b>"), "{t}");
        assert!(
            t.contains("max_connections") && t.contains("最大连接数"),
            "{t}"
        );
    }

    #[test]
    fn components_keep_the_label_a_reader_sees() {
        let md = "## 安装\n\n<Tabs>\n<TabItem value=\"linux\" label=\"Linux 系统\">\n\n运行安装脚本。\n\n</TabItem>\n</Tabs>\n\n<Accordion title='如何重置密码'>控制台操作</Accordion>\n\n<abbr title=\"悬停提示\">ECS</abbr>\n";
        let t = &parse(md).sections[0].text;
        assert!(
            t.contains("Linux 系统") && t.contains("如何重置密码"),
            "{t}"
        );
        assert!(
            t.contains("ECS") && !t.contains("悬停提示") && !t.contains("linux"),
            "{t}"
        );
    }

    #[test]
    fn questions() {
        assert!(is_question("为什么实例无法启动？"));
        assert!(is_question("How do I reset the password"));
        assert!(!is_question("操作步骤"));
    }

    #[test]
    fn a_title_that_asks_what_something_is_names_no_problem() {
        assert!(names_problem("为什么实例无法启动？"));
        assert!(names_problem("什么情况下会触发限流？"));
        for t in [
            "什么是NAT网关",
            "云数据库 MongoDB 版使用的数据库版本是什么？",
            "What is Auto Scaling?",
        ] {
            assert!(is_question(t), "{t}");
            assert!(!names_problem(t), "{t}");
        }
    }

    #[test]
    fn broken_markdown_does_not_panic() {
        for md in [
            "| a |\n|---|\n| b | c | d |\n",
            "## {#}\n",
            "<div>\n\n## x\n",
            "```\nunclosed",
            "# \n## \n### ",
        ] {
            let _ = parse(md);
        }
    }

    /// The pattern as exported docs write it: a list item opens a fence, the code and the
    /// closing fence sit at column 0. Unmended, the headings after it are read as code.
    #[test]
    fn list_item_fences_closed_outside_the_item_are_mended() {
        let md = "## 如何卸载数据盘？\n\n任选一条命令：\n\n-   ```\numount /dev/vdb1\n```\n\n\
                  -   ```\numount /mnt/data\n```\n\n-   ```\numount /dev/vdb1 /mnt/data\n```\n\n\
                  然后删除 /etc/fstab 里的行：\n\n```\n/dev/vdb1 /data ext4 defaults 0 0\n```\n\n\
                  ## 实例释放后数据还在吗？\n\n不在。\n";
        assert_eq!(parse(md).sections.len(), 1, "the breakage this mends");
        let (mended, lines) = mend_list_fences(md).expect("mended");
        assert_eq!(lines, vec![5, 9, 13]);
        assert_eq!(mended.lines().count(), md.lines().count());
        assert!(mended.contains("-   ```\n    umount /dev/vdb1\n    ```\n"));
        let p = parse(&mended);
        let heads: Vec<&str> = p.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(heads, ["如何卸载数据盘？", "实例释放后数据还在吗？"]);
        assert!(p.sections[0].text.contains("umount /mnt/data"));
        assert!(p.sections[0].text.contains("/dev/vdb1 /data ext4"));
        assert_eq!(p.sections[1].line, 23);
    }

    #[test]
    fn list_item_fences_left_alone() {
        for md in [
            // Indented as CommonMark wants.
            "1. 执行：\n   ```bash\n   ss -tlnp\n   ```\n2. 重启\n",
            "-   ```\n    umount /dev/vdb1\n    ```\n",
            // Inline code, not a fence.
            "- ```a``` b\nc\n```\n",
            // Never closed: nothing to mend towards.
            "- ```\ncode\n## 标题\n",
            // Not a list item.
            "```\ncode\n```\n",
            "-```\ncode\n```\n",
        ] {
            assert_eq!(mend_list_fences(md), None, "{md:?}");
        }
    }

    #[test]
    fn steps_from_solution_list() {
        let md = "# T\n## 现象\n1. not a step\n## 解决方案\n1. 检查安全组\n   ```bash\n   ss -tlnp\n   ```\n2. 重启 **sshd**\n   - sub item\n## 验证\n1. nope\n";
        let steps = solution_steps(md, false);
        let texts: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["检查安全组", "重启 sshd"]);
        // The reply's Markdown keeps the step's command and its sub-point.
        assert_eq!(steps[0].markdown, "检查安全组\n\n```bash\nss -tlnp\n```");
        assert_eq!(steps[1].markdown, "重启 sshd\n\n- sub item");
    }

    #[test]
    fn a_numbered_list_goes_on_past_a_block_at_the_margin() {
        // A command pasted at the margin ends the list to the parser; `2.` after it goes on
        // with the count, so it is the same list, and the command is step 1's.
        let md = "## 解决方法\n1. 查看状态：\n```bash\nsystemctl status sshd\n```\n2. 重启：\n```bash\nsystemctl restart sshd\n```\n3. 重新登录。\n";
        let steps = solution_steps(md, false);
        let texts: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["查看状态：", "重启：", "重新登录。"]);
        assert_eq!(
            steps[0].markdown,
            "查看状态：\n\n```bash\nsystemctl status sshd\n```"
        );
        assert!(steps[1].markdown.contains("systemctl restart sshd"));
        // An MDX tab block between items, and prose indented too little for its item (which
        // the parser reads as an indented code block) belong to the step before them.
        let md = "## 解决方法\n1.   确认心跳。\n\n    在控制台查看[机器组](a.md)状态。\n\n    ![](http://img.example.com/1.png)\n\n2. 确认端口：\n\n<Tabs>\n<TabItem value=\"php\">\n\n   ```nginx\n   fastcgi_pass 127.0.0.1:9000;\n   ```\n\n</TabItem>\n</Tabs>\n\n3. 重载 Nginx。\n";
        let steps = solution_steps(md, false);
        assert_eq!(steps.len(), 3, "{steps:?}");
        assert_eq!(steps[0].markdown, "确认心跳。\n\n在控制台查看机器组状态。");
        assert!(
            steps[1].markdown.contains("fastcgi_pass"),
            "{}",
            steps[1].markdown
        );
        // Points indented there are the step's points.
        let md = "## 解决方法\n1.   添加域名。\n\n    -   支持**泛域名**加速。\n    -   最多 50 个，见[限制](a.md)。\n\n2. 完成。\n";
        let steps = solution_steps(md, false);
        assert_eq!(
            steps[0].markdown,
            "添加域名。\n\n- 支持泛域名加速。\n- 最多 50 个，见限制。"
        );
        assert!(reads_as_prose("**Note:** 开启后才生效。"));
        assert!(reads_as_prose("![](http://img.example.com/2.png)"));
        assert!(!reads_as_prose("mongo \"<连接串地址>\""));
        // Code with Chinese comments indented there stays code.
        let md =
            "## 解决方法\n1.   安装：\n\n    # 安装客户端\n    yum install -y nc\n\n2. 验证。\n";
        let steps = solution_steps(md, false);
        assert_eq!(
            steps[0].markdown,
            "安装：\n\n```\n# 安装客户端\nyum install -y nc\n```"
        );
        // A list that starts over, a bullet list or a heading after the list is not more of it.
        for tail in [
            "完成后执行：\n\n1. 另一件事\n",
            "- 注意事项\n",
            "## 验证\n\n3. 不是步骤\n",
        ] {
            let md = format!("## 解决方法\n1. 甲\n2. 乙\n\n{tail}");
            let texts: Vec<String> = solution_steps(&md, false)
                .into_iter()
                .map(|s| s.text)
                .collect();
            assert_eq!(texts, ["甲", "乙"], "{tail:?}");
        }
    }

    #[test]
    fn an_excerpt_keeps_the_sections_blocks_in_page_order() {
        let md = "## 自动轮转\n\n**配置策略**\n\n调用时需配置以下参数：\n\n- `Enable`：是否开启。\n  - 子项\n- `Interval`：周期。\n\n计算方式如下：\n\n```\nnext = last + interval\n```\n\n| 参数 | 含义 |\n|---|---|\n| a | b |\n";
        let e = excerpt(md).expect("an excerpt");
        assert_eq!(e.text, "配置策略");
        assert_eq!(
            e.markdown,
            "配置策略\n\n调用时需配置以下参数：\n\n- `Enable`：是否开启。 子项\n- `Interval`：周期。\n\n计算方式如下：\n\n```\nnext = last + interval\n```\n\n| 参数 | 含义 |\n|---|---|\n| a | b |"
        );
        assert_eq!(excerpt("## 空\n"), None);
    }

    #[test]
    fn a_step_past_its_code_cap_ends_before_announcing_what_is_cut() {
        let mut md = String::from("## 解决方案\n1. 清理：\n");
        for i in 0..6 {
            md.push_str(&format!("\n   第 {i} 步：\n\n   ```\n   cmd{i}\n   ```\n"));
        }
        md.push_str("2. 完成\n");
        let steps = solution_steps(&md, false);
        let m = &steps[0].markdown;
        // Eight blocks: the lead, then three sentences and their commands; the fourth
        // sentence goes with the command there is no room for.
        assert!(m.contains("cmd2") && !m.contains("第 3 步"), "{m}");
        assert!(m.ends_with("```"), "{m}");
        assert_eq!(steps[1].text, "完成");
    }

    #[test]
    fn a_fix_is_its_numbered_steps_after_what_comes_first() {
        // What the article says before the numbered list leads the reply; the list items
        // are the steps.
        let md =
            "## 解决方案\n先通过 VNC 登录实例：`控制台 > 实例`。\n\n1. 检查 sshd\n2. 重启 sshd\n";
        let f = fix_text(md, false);
        assert_eq!(
            f.intro.as_deref(),
            Some("先通过 VNC 登录实例：`控制台 > 实例`。")
        );
        let steps: Vec<&str> = f.steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(steps, vec!["检查 sshd", "重启 sshd"]);
        // Prose and bullet points are not numbered steps: all of it is quoted, the
        // sentence that is the fix first.
        let md =
            "## Remedy\n\n将长连接替换为短连接。\n\n还需关注：\n\n- 源端口数量\n- 文件描述符数量\n";
        let f = fix_text(md, false);
        assert!(f.steps.is_empty());
        assert_eq!(
            f.intro.as_deref(),
            Some("将长连接替换为短连接。\n\n还需关注：\n\n- 源端口数量\n- 文件描述符数量")
        );
        assert_eq!(section_kind("Remedy"), SectionKind::Solution);
        // An FAQ answer in prose: its paragraphs, quoted.
        let f = fix_text(
            "## 欠费会停机吗？\n欠费后 24 小时停机。\n\n充值后自动恢复。\n",
            true,
        );
        assert_eq!(
            f.intro.as_deref(),
            Some("欠费后 24 小时停机。\n\n充值后自动恢复。")
        );
        assert!(f.steps.is_empty());
    }

    #[test]
    fn structured_share_tells_reference_text_from_explanation() {
        let api = "## 请求参数\n\n| 名称 | 类型 | 描述 |\n| --- | --- | --- |\n| InstanceId | String | 实例ID。 |\n| RegionId | String | 地域ID。 |\n\n## 返回示例\n\n```json\n{\"RequestId\": \"473469C7-AA6F\"}\n```\n";
        let guide = "实例无法连接时，先检查安全组是否放行了22端口。\n\n1. 登录控制台，找到实例所在的安全组。\n2. 添加一条入方向规则：\n\n```\nsystemctl restart sshd\n```\n\n如果仍然无法连接，请检查实例内的防火墙设置，并确认sshd服务正在运行。\n";
        let a = super::structured_share(api);
        let g = super::structured_share(guide);
        assert!(a > 0.7, "{a}");
        assert!(g < 0.3, "{g}");
        assert_eq!(super::structured_share(""), 0.0);
        // An unclosed fence counts to the end, as Markdown renders it.
        assert!(super::structured_share("说明\n```\nline one\nline two") > 0.6);
    }
}
