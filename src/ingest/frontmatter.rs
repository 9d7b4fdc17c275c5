//! Front matter: splitting it off the Markdown and reading it into typed fields. YAML
//! between `---` lines, or TOML between `+++` lines (Hugo's other format).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// Front matter fields. Every field is optional; unknown fields are kept in `extra`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct FrontMatter {
    /// Stable id; default: path under the KB without `.md`.
    pub id: Option<String>,
    /// Title; default: the first H1.
    pub title: Option<String>,
    /// compute | network | storage | database | security | cdn | billing | account | …
    pub category: Option<String>,
    /// Product name (ECS, OSS, …).
    pub product: Option<String>,
    /// Free tags (a list, or one comma-separated string).
    #[serde(deserialize_with = "list_or_commas")]
    pub tags: Vec<String>,
    /// Error codes and messages this article fixes, matched exactly (a list, or one).
    #[serde(deserialize_with = "list_or_one")]
    pub error_codes: Vec<String>,
    /// How customers phrase the problem (a list, or one).
    #[serde(deserialize_with = "list_or_one")]
    pub aliases: Vec<String>,
    /// Search keywords, as documentation sites declare them (`keywords`, or `keyword`): a
    /// list, or one string of comma-separated words. Searched as aliases are.
    #[serde(deserialize_with = "list_or_commas")]
    pub keywords: Vec<String>,
    /// `keyword`, as some sites spell it: joins `keywords` when the front matter is read (a
    /// serde alias would make a page that has both a duplicate-key error).
    #[serde(rename = "keyword", deserialize_with = "list_or_commas")]
    keyword: Vec<String>,
    /// Typical severity: P0–P4.
    pub priority: Option<String>,
    /// Typical time to fix, in minutes.
    pub avg_fix_minutes: Option<u32>,
    /// An action a bot may offer (deflect never runs it).
    pub automation: Option<String>,
    /// Ids of related articles (a list, or one comma-separated string).
    #[serde(deserialize_with = "list_or_commas")]
    pub related: Vec<String>,
    /// zh | en; default: detected.
    pub lang: Option<String>,
    /// Last update (YYYY-MM-DD).
    pub updated: Option<String>,
    /// A draft (`draft: true`, as Hugo and most site generators write it): read and linted,
    /// never indexed, so a half-written fix is never sent to a customer. `yes`, `on` and
    /// `1` count too.
    #[serde(deserialize_with = "bool_or_word")]
    pub draft: bool,
    /// `faq` for a page whose headings are questions.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Fields deflect does not know, kept as metadata.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A list of strings, or one string of items separated by commas (`,`, `，`, `、`) or
/// semicolons: tags, keywords, related ids. Items are read as text (`y`, `2024` stay as
/// written); empty ones are dropped.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    strings(d, true)
}

/// A list of strings, or one string as a list of one: aliases and error messages, which
/// may hold commas of their own.
fn list_or_one<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    strings(d, false)
}

/// A boolean, or a word for one (`yes`, `no`, `on`, `off`, `1`, `0`): YAML readers differ on
/// whether `draft: yes` is a boolean.
fn bool_or_word<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct BoolOrWord;
    impl<'de> serde::de::Visitor<'de> for BoolOrWord {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
            }
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<bool, E> {
            self.visit_i64(v as i64)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_lowercase().as_str() {
                "true" | "yes" | "y" | "on" | "1" => Ok(true),
                "false" | "no" | "n" | "off" | "0" | "" => Ok(false),
                _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
            }
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
    }
    d.deserialize_any(BoolOrWord)
}

fn strings<'de, D: serde::Deserializer<'de>>(d: D, split: bool) -> Result<Vec<String>, D::Error> {
    struct ListOrText {
        split: bool,
    }
    impl<'de> serde::de::Visitor<'de> for ListOrText {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(if self.split {
                "a list, or one comma-separated string"
            } else {
                "a list, or one string"
            })
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(if self.split {
                v.split([',', '，', '、', ';', '；'])
                    .map(str::to_string)
                    .collect()
            } else {
                vec![v.to_string()]
            })
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            // Asked for text, each plain scalar comes as written.
            while let Some(item) = seq.next_element::<Option<String>>()? {
                out.extend(item);
            }
            Ok(out)
        }
    }
    Ok(d.deserialize_any(ListOrText { split })?
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// How a front matter is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML between `---` lines.
    Yaml,
    /// TOML between `+++` lines.
    Toml,
}

/// The parts of a file: front matter text (if any) and the Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The front matter between its fences.
    pub matter: Option<&'a str>,
    /// The front matter's format.
    pub format: Format,
    /// The Markdown after the front matter.
    pub body: &'a str,
    /// 1-based line number of the body's first line in the file.
    pub body_line: usize,
}

/// Why a file's front matter could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    /// 1-based line in the file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Splits `---\n…\n---` (or TOML's `+++\n…\n+++`) front matter from the body. A file that
/// opens a front matter but never closes it is an error (line 1), not a body.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_end = text.find('\n').unwrap_or(text.len());
    let (format, fence) = match text[..first_end].trim_end() {
        "---" => (Format::Yaml, "---"),
        "+++" => (Format::Toml, "+++"),
        _ => {
            return Ok(Split {
                matter: None,
                format: Format::Yaml,
                body: text,
                body_line: 1,
            })
        }
    };
    let mut offset = first_end + 1;
    let mut line = 2;
    while offset <= text.len() {
        let end = text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(text.len());
        let l = text[offset..end].trim_end();
        if l == fence || (format == Format::Yaml && l == "...") {
            let body_start = (end + 1).min(text.len());
            return Ok(Split {
                matter: Some(&text[first_end + 1..offset]),
                format,
                body: &text[body_start..],
                body_line: line + 1,
            });
        }
        if end == text.len() {
            break;
        }
        offset = end + 1;
        line += 1;
    }
    Err(FrontMatterError {
        line: 1,
        message: format!("front matter opened with `{fence}` is never closed by a `{fence}` line"),
    })
}

/// Parses a front matter of either format; `first_line` is the file line of its first line.
pub fn parse_as(
    format: Format,
    text: &str,
    first_line: usize,
) -> Result<(FrontMatter, Vec<FrontMatterError>), FrontMatterError> {
    match format {
        Format::Yaml => parse(text, first_line),
        Format::Toml => parse_toml(text, first_line),
    }
}

/// Parses TOML front matter. Invalid TOML is an error on its line. A key of the wrong type
/// (`avg_fix_minutes = "soon"`) costs only that key, with a warning, as in YAML (see
/// [`parse`]), unless it is `id`. Dates (`date = 2024-05-01`) are kept as text.
fn parse_toml(
    text: &str,
    first_line: usize,
) -> Result<(FrontMatter, Vec<FrontMatterError>), FrontMatterError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start.min(text.len()));
        FrontMatterError {
            line: first_line + text[..at].matches('\n').count(),
            message: format!("front matter (TOML): {}", e.message().trim()),
        }
    })?;
    let mut fields = serde_json::Map::new();
    let mut warnings = Vec::new();
    for (key, value) in table {
        let value = toml_json(value);
        let alone = serde_json::Value::Object([(key.clone(), value.clone())].into_iter().collect());
        if let Err(e) = serde_json::from_value::<FrontMatter>(alone) {
            warnings.push(key_dropped(
                &key,
                FrontMatterError {
                    line: first_line + toml_key_line(text, &key),
                    message: format!("front matter `{key}`: {e}"),
                },
            )?);
            continue;
        }
        fields.insert(key, value);
    }
    let mut fm =
        serde_json::from_value::<FrontMatter>(serde_json::Value::Object(fields)).map_err(|e| {
            FrontMatterError {
                line: first_line,
                message: format!("front matter: {e}"),
            }
        })?;
    fm.finish();
    Ok((fm, warnings))
}

/// A top-level key that does not read, in either format: the article is indexed without it,
/// with `error` as a warning on its line; unless the key is `id`, when it is an error (the
/// article would be served under an id its author did not give it).
fn key_dropped(
    key: &str,
    mut error: FrontMatterError,
) -> Result<FrontMatterError, FrontMatterError> {
    if key == "id" {
        return Err(error);
    }
    error
        .message
        .push_str("; the key is left out and the rest of the article is indexed");
    Ok(error)
}

/// A TOML value as JSON; dates and times as their text.
fn toml_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_json).collect()),
        toml::Value::Table(t) => J::Object(t.into_iter().map(|(k, v)| (k, toml_json(v))).collect()),
    }
}

/// The 0-based line of the TOML text where `key` is set (`key = …` or `[key]`).
fn toml_key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let name = l.trim_start_matches('[');
            let name = name
                .strip_prefix(key)
                .or_else(|| name.strip_prefix(&format!("\"{key}\"")));
            name.is_some_and(|r| r.trim_start().starts_with(['=', ']', '.']))
        })
        .unwrap_or(0)
}

/// Parses front matter YAML; `first_line` is the file line of the YAML's first line.
///
/// A front matter that is not valid YAML as a whole is read key by key: a top-level key
/// whose YAML is broken (`keyword: [, a, b]`) or of the wrong type (`avg_fix_minutes: soon`)
/// is dropped with a warning naming its line, and the article is indexed with the rest, as
/// losing a whole article over one field would. It stays an error when `id` is the broken
/// key (the article would be served under an id its author did not give it), when a line
/// belongs to no key, and when the YAML uses anchors (an alias bomb is refused, not split
/// into pieces).
pub fn parse(
    yaml: &str,
    first_line: usize,
) -> Result<(FrontMatter, Vec<FrontMatterError>), FrontMatterError> {
    if yaml.trim().is_empty() {
        return Ok((FrontMatter::default(), Vec::new()));
    }
    let (mut fm, warnings) = match serde_saphyr::from_str::<Option<FrontMatter>>(yaml) {
        Ok(fm) => (fm.unwrap_or_default(), Vec::new()),
        Err(e) => {
            let whole = yaml_error(&e, first_line);
            salvage(yaml, first_line).ok_or(whole)??
        }
    };
    fm.finish();
    Ok((fm, warnings))
}

/// Key in [`FrontMatter::extra`] of the aliases that are old URLs of the page.
pub const URL_ALIASES: &str = "url_aliases";

/// An alias that is a URL or a site path (`/docs/v1/old-page/`, `https://…`, `old.html`):
/// a static-site generator's redirect (Hugo's `aliases`), not a phrasing of the problem.
fn is_url_alias(a: &str) -> bool {
    let a = a.trim();
    !a.is_empty()
        && !a.contains(char::is_whitespace)
        && (a.starts_with('/') || a.contains("://") || a.ends_with(".html") || a.ends_with(".htm"))
}

/// The last segment of a URL or path, its `-` and `_` read as spaces:
/// `/docs/dev/optimizer-hints/` → `optimizer hints`.
fn slug_words(url: &str) -> String {
    let path = url.trim().rsplit("://").next().unwrap_or(url);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let last = last
        .strip_suffix(".html")
        .or_else(|| last.strip_suffix(".htm"))
        .unwrap_or(last);
    let last = last
        .strip_prefix("index")
        .filter(|r| r.is_empty())
        .map_or(last, |_| "");
    last.replace(['-', '_'], " ").trim().to_string()
}

impl FrontMatter {
    /// What every format's reader does last: `keyword` joins `keywords`, and URL aliases
    /// are set aside.
    fn finish(&mut self) {
        let keyword = std::mem::take(&mut self.keyword);
        for k in keyword {
            if !self.keywords.contains(&k) {
                self.keywords.push(k);
            }
        }
        self.set_aside_url_aliases();
    }

    /// Moves the aliases that are redirects from old URLs into `extra` ([`URL_ALIASES`]), and
    /// keeps each one's last segment as an alias. Indexed whole, the redirects of a Hugo
    /// site (`/docs-cn/dev/reference/sql/statements/split-region/`) would give its pages the
    /// title weight of `docs`, `dev`, `reference` and `sql`; the slug (`split region`) is
    /// what names the page.
    fn set_aside_url_aliases(&mut self) {
        if !self.aliases.iter().any(|a| is_url_alias(a)) {
            return;
        }
        let (urls, phrasings): (Vec<String>, Vec<String>) = std::mem::take(&mut self.aliases)
            .into_iter()
            .partition(|a| is_url_alias(a));
        self.aliases = phrasings;
        // The page's old slug still names its topic (`optimizer-hints`, `mydumper-overview`);
        // the folders above it (`docs-cn/dev/reference`) name only the site.
        for u in &urls {
            let words = slug_words(u);
            if !words.is_empty() && !self.aliases.contains(&words) {
                self.aliases.push(words);
            }
        }
        self.extra
            .insert(URL_ALIASES.into(), serde_json::json!(urls));
    }
}

fn yaml_error(e: &serde_saphyr::Error, first_line: usize) -> FrontMatterError {
    let line = e
        .location()
        .map(|l| l.line() as usize)
        .filter(|&l| l > 0)
        .unwrap_or(1);
    let msg = e.to_string();
    // The crate's message can carry a rendered snippet; the first line says what is wrong.
    let first = msg
        .lines()
        .next()
        .unwrap_or("invalid YAML")
        .trim()
        .to_string();
    FrontMatterError {
        line: first_line + line - 1,
        message: format!("front matter: {first}"),
    }
}

/// The crate's message without its position prefix (`error: line 1 column 11: `), which
/// counts from the key's own line; the column is kept.
fn what_is_wrong(e: &serde_saphyr::Error) -> String {
    let msg = e.to_string();
    let first = msg.lines().next().unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    match (first.strip_prefix("line "), e.location()) {
        (Some(rest), Some(at)) => match rest.split_once(": ") {
            Some((_, what)) => format!("{what} (column {})", at.column()),
            None => first.to_string(),
        },
        _ => first.to_string(),
    }
}

/// Reads the top-level keys one at a time (see [`parse`]). `None` when the front matter
/// cannot be split into keys, or uses anchors: the whole-document error stands.
/// `Some(Err)` when the broken key is `id`.
#[allow(clippy::type_complexity)]
fn salvage(
    yaml: &str,
    first_line: usize,
) -> Option<Result<(FrontMatter, Vec<FrontMatterError>), FrontMatterError>> {
    let lines: Vec<&str> = yaml.lines().collect();
    let anchored = lines.iter().any(|l| {
        let b = l.as_bytes();
        b.windows(2).enumerate().any(|(i, w)| {
            w[0] == b'&'
                && w[1].is_ascii_alphanumeric()
                && (i == 0 || matches!(b[i - 1], b' ' | b'[' | b',' | b'{'))
        })
    });
    if anchored {
        return None;
    }
    // A key's block: its `key:` line at column 0 and the indented or list lines after it.
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let blank = l.trim().is_empty() || l.trim_start().starts_with('#');
        let continued = l.starts_with([' ', '\t', '-']);
        if blank || continued {
            if continued && blocks.is_empty() {
                return None;
            }
            continue;
        }
        if !l.contains(':') {
            return None;
        }
        blocks.push((i, lines.len()));
        if blocks.len() > 1 {
            let n = blocks.len();
            blocks[n - 2].1 = i;
        }
    }
    if blocks.is_empty() {
        return None;
    }
    // Each key alone, read as front matter so that types are checked as a whole read
    // checks them; then the keys that read well, together.
    let mut kept: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    for (start, end) in blocks {
        let line = first_line + start;
        let text = lines[start..end].join("\n");
        let key = lines[start]
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\''])
            .to_string();
        match serde_saphyr::from_str::<FrontMatter>(&text) {
            Ok(_) => kept.push(text),
            // A flow list with an empty item (`keyword: [, a, b]`, as some doc exports write
            // it) is read without the empty item.
            Err(_)
                if without_empty_items(&text)
                    .is_some_and(|t| serde_saphyr::from_str::<FrontMatter>(&t).is_ok()) =>
            {
                warnings.push(FrontMatterError {
                    line,
                    message: format!("front matter `{key}`: empty list item(s) left out"),
                });
                kept.push(without_empty_items(&text).unwrap_or(text));
            }
            Err(e) => {
                let mut error = yaml_error(&e, line);
                error.message = format!("front matter `{key}`: {}", what_is_wrong(&e));
                match key_dropped(&key, error) {
                    Ok(warning) => warnings.push(warning),
                    Err(error) => return Some(Err(error)),
                }
            }
        }
    }
    let fm = if kept.is_empty() {
        FrontMatter::default()
    } else {
        serde_saphyr::from_str::<Option<FrontMatter>>(&kept.join("\n"))
            .ok()?
            .unwrap_or_default()
    };
    Some(Ok((fm, warnings)))
}

/// `text` with the empty items of its flow lists removed (`[, a,, b,]` → `[a, b]`), or None
/// when it has none.
fn without_empty_items(text: &str) -> Option<String> {
    static EMPTY: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\[(\s*,)+|,(\s*,)+|,\s*\]").expect("valid regex"));
    if !EMPTY.is_match(text) {
        return None;
    }
    Some(
        EMPTY
            .replace_all(text, |c: &regex::Captures| match &c[0] {
                m if m.starts_with('[') => "[".to_string(),
                m if m.ends_with(']') => "]".to_string(),
                _ => ",".to_string(),
            })
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_front_matter_reads_like_yaml() {
        let text = "+++\ntitle = \"云盘扩容后分区没有变大\"\ntags = [\"ecs\", \"磁盘\"]\nkeywords = \"growpart，扩容\"\ndate = 2024-05-01\naliases = [\"/docs/v1/disk-resize/\"]\navg_fix_minutes = \"soon\"\n\n[params]\nowner = \"ops\"\n+++\n# 正文\n";
        let s = split(text).unwrap();
        assert_eq!(s.format, Format::Toml);
        assert_eq!(s.body, "# 正文\n");
        assert_eq!(s.body_line, 12);
        let (fm, warnings) = parse_as(s.format, s.matter.unwrap(), 2).unwrap();
        assert_eq!(fm.title.as_deref(), Some("云盘扩容后分区没有变大"));
        assert_eq!(fm.tags, ["ecs", "磁盘"]);
        assert_eq!(fm.keywords, ["growpart", "扩容"]);
        assert_eq!(fm.aliases, ["disk resize"]);
        assert_eq!(fm.extra["date"], "2024-05-01");
        assert_eq!(fm.extra["params"]["owner"], "ops");
        assert_eq!(
            fm.extra[URL_ALIASES],
            serde_json::json!(["/docs/v1/disk-resize/"])
        );
        // The key of the wrong type is left out, with a warning on its own line.
        assert_eq!(fm.avg_fix_minutes, None);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 7, "{:?}", warnings[0]);
        assert!(warnings[0].message.contains("avg_fix_minutes"));

        // Broken TOML names its line; a broken `id` is an error, not a warning.
        let e = parse_as(Format::Toml, "title = \"a\"\ntags = [\"x\"\n", 2).unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        let e = parse_as(Format::Toml, "title = \"a\"\nid = 7\n", 2).unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        assert_eq!(split("+++\ntitle = \"a\"\n# T\n").unwrap_err().line, 1);
    }

    #[test]
    fn splits_and_parses() {
        let s = split("---\nid: a\ntags: [x, 安全组]\nowner: ops\n---\n# T\nbody\n").unwrap();
        assert_eq!(s.body, "# T\nbody\n");
        assert_eq!(s.body_line, 6);
        let (fm, warnings) = parse(s.matter.unwrap(), 2).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(fm.id.as_deref(), Some("a"));
        assert_eq!(fm.tags, vec!["x", "安全组"]);
        assert_eq!(fm.extra.get("owner"), Some(&serde_json::json!("ops")));
    }

    #[test]
    fn url_aliases_are_redirects_not_phrasings() {
        let y = "title: Error codes\naliases: ['/docs-cn/dev/error-codes/', '/zh/tidb/dev/error-codes.html', 'https://example.com/old', '报错 1105', 'transaction too large']\n";
        let (fm, warnings) = parse(y, 2).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            fm.aliases,
            ["报错 1105", "transaction too large", "error codes", "old"]
        );
        assert_eq!(
            fm.extra.get(URL_ALIASES),
            Some(&serde_json::json!([
                "/docs-cn/dev/error-codes/",
                "/zh/tidb/dev/error-codes.html",
                "https://example.com/old"
            ]))
        );
        // A phrasing that mentions a path is still a phrasing.
        let (fm, _) = parse("aliases: [/var/log 占满磁盘, 502/504]\n", 2).unwrap();
        assert_eq!(fm.aliases, ["/var/log 占满磁盘", "502/504"]);
        assert!(fm.extra.is_empty());
        assert_eq!(
            slug_words("/docs-cn/dev/reference/sql/statements/split-region/"),
            "split region"
        );
        assert_eq!(slug_words("https://example.com/zh/index.html"), "");
        assert_eq!(
            slug_words("/mydumper_overview.htm?x=1#top"),
            "mydumper overview"
        );
    }

    #[test]
    fn draft_is_a_boolean_or_a_word_for_one() {
        for (text, draft) in [
            ("draft: true\n", true),
            ("draft: yes\n", true),
            ("draft: \"on\"\n", true),
            ("draft: 1\n", true),
            ("draft: false\n", false),
            ("draft: no\n", false),
            ("draft:\n", false),
            ("title: x\n", false),
        ] {
            let (fm, w) = parse(text, 2).unwrap();
            assert_eq!(fm.draft, draft, "{text}");
            assert!(w.is_empty(), "{text}: {w:?}");
        }
        // A word that is no boolean costs the key, with a warning naming it.
        let (fm, w) = parse("draft: maybe\n", 2).unwrap();
        assert!(!fm.draft);
        assert!(w[0].message.contains("draft"), "{w:?}");
    }

    #[test]
    fn keywords_are_a_list_or_one_string() {
        let (fm, w) = parse("keyword: [NAT网关, 增强型, 2024]\n", 2).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(fm.keywords, ["NAT网关", "增强型", "2024"]);
        let (fm, _) = parse("keywords: 多元索引计费，资源包 , billing\n", 2).unwrap();
        assert_eq!(fm.keywords, ["多元索引计费", "资源包", "billing"]);
        let (fm, _) = parse("keywords:\n  - 白名单\n  -\n  - ip\n", 2).unwrap();
        assert_eq!(fm.keywords, ["白名单", "ip"]);
        let (fm, _) = parse("keywords:\n", 2).unwrap();
        assert!(fm.keywords.is_empty());
        // Plain scalars stay as written, even those YAML 1.1 reads as booleans.
        let (fm, w) = parse("keywords: [y, on, 3.10]\n", 2).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(fm.keywords, ["y", "on", "3.10"]);
        // Both spellings on one page: merged, not a duplicate-key error.
        let (fm, w) = parse("keywords: [a, b]\nkeyword: [b, c]\n", 2).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(fm.keywords, ["a", "b", "c"]);
        // Not kept twice: the field is typed, not metadata.
        assert!(!fm.extra.contains_key("keywords"));
    }

    #[test]
    fn list_fields_take_one_string_too() {
        let y = "tags: 网络, 安全组\naliases: 服务器连不上，怎么办\nerror_codes: \"ERROR 2003 (HY000): Can't connect, retry\"\nrelated: a, b\n";
        let (fm, w) = parse(y, 2).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(fm.tags, ["网络", "安全组"]);
        // Aliases and error messages keep their commas.
        assert_eq!(fm.aliases, ["服务器连不上，怎么办"]);
        assert_eq!(fm.error_codes, ["ERROR 2003 (HY000): Can't connect, retry"]);
        assert_eq!(fm.related, ["a", "b"]);
        // A mapping is still wrong, and only that key is lost.
        let (fm, w) = parse("tags: {a: 1}\naliases: [x]\n", 2).unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(fm.aliases, ["x"]);
    }

    #[test]
    fn no_front_matter() {
        let s = split("# Title\n---\nx").unwrap();
        assert_eq!(s.matter, None);
        assert_eq!(s.body_line, 1);
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert_eq!(split("---\nid: a\n# T\n").unwrap_err().line, 1);
    }

    #[test]
    fn a_wrong_type_drops_that_key_and_names_its_line() {
        let (fm, warnings) = parse("id: a\ntags: [x]\navg_fix_minutes: soon\n", 2).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 4, "{warnings:?}");
        assert!(
            warnings[0].message.contains("avg_fix_minutes"),
            "{warnings:?}"
        );
        assert_eq!(fm.id.as_deref(), Some("a"));
        assert_eq!(fm.tags, ["x"]);
        assert_eq!(fm.avg_fix_minutes, None);
    }

    #[test]
    fn broken_yaml_in_one_key_keeps_the_others() {
        // A list that does not close.
        let y = "title: 配置IP黑白名单\ntags: [cdn, ip\naliases:\n  - 白名单不生效\nproduct: CDN\n";
        let (fm, warnings) = parse(y, 2).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 3, "{warnings:?}");
        assert!(warnings[0].message.contains("`tags`"), "{warnings:?}");
        assert_eq!(fm.title.as_deref(), Some("配置IP黑白名单"));
        assert_eq!(fm.aliases, ["白名单不生效"]);
        assert_eq!(fm.product.as_deref(), Some("CDN"));
        assert!(fm.tags.is_empty());
    }

    #[test]
    fn empty_items_in_a_flow_list_are_left_out() {
        // As exported docs have it: the key is kept, with a warning on its line.
        let y = "title: 配置IP黑白名单\nkeyword: [, cdn白名单,, ip黑名单, ]\nproduct: CDN\n";
        let (fm, warnings) = parse(y, 2).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 3, "{warnings:?}");
        assert!(warnings[0].message.contains("empty"), "{warnings:?}");
        assert_eq!(fm.keywords, ["cdn白名单", "ip黑名单"]);
        assert_eq!(fm.product.as_deref(), Some("CDN"));
        assert_eq!(without_empty_items("a: [x, y]"), None);
    }

    #[test]
    fn a_broken_id_or_no_keys_is_an_error() {
        assert_eq!(parse("title: t\nid: [unclosed\n", 2).unwrap_err().line, 3);
        assert_eq!(parse("title: t\nid: {a: b}\n", 2).unwrap_err().line, 3);
        assert!(parse("just some words [\n", 2).is_err());
        assert!(parse("  indented: [\n", 2).is_err());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..12 {
            y.push_str(&format!(
                "{}: &{} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n",
                (b'a' + i) as char,
                (b'a' + i) as char,
                p = (b'a' + i - 1) as char
            ));
        }
        assert!(parse(&y, 2).is_err());
    }
}
