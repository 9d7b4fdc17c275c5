//! YAML front matter: splitting it off the Markdown and reading it into typed fields.

use std::collections::BTreeMap;

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
    /// Free tags.
    pub tags: Vec<String>,
    /// Error codes and messages this article fixes, matched exactly.
    pub error_codes: Vec<String>,
    /// How customers phrase the problem.
    pub aliases: Vec<String>,
    /// Typical severity: P0–P4.
    pub priority: Option<String>,
    /// Typical time to fix, in minutes.
    pub avg_fix_minutes: Option<u32>,
    /// An action a bot may offer (deflect never runs it).
    pub automation: Option<String>,
    /// Ids of related articles.
    pub related: Vec<String>,
    /// zh | en; default: detected.
    pub lang: Option<String>,
    /// Last update (YYYY-MM-DD).
    pub updated: Option<String>,
    /// `faq` for a page whose headings are questions.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Fields deflect does not know, kept as metadata.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The parts of a file: front matter text (if any) and the Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The YAML between the `---` fences.
    pub yaml: Option<&'a str>,
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

/// Splits `---\n…\n---` front matter from the body. A file that opens with `---` but never
/// closes it is an error (line 1), not a body.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_end = text.find('\n').unwrap_or(text.len());
    if text[..first_end].trim_end() != "---" {
        return Ok(Split {
            yaml: None,
            body: text,
            body_line: 1,
        });
    }
    let mut offset = first_end + 1;
    let mut line = 2;
    while offset <= text.len() {
        let end = text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(text.len());
        let l = text[offset..end].trim_end();
        if l == "---" || l == "..." {
            let body_start = (end + 1).min(text.len());
            return Ok(Split {
                yaml: Some(&text[first_end + 1..offset]),
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
        message: "front matter opened with `---` is never closed by a `---` line".into(),
    })
}

/// Parses front matter YAML; `first_line` is the file line of the YAML's first line.
pub fn parse(yaml: &str, first_line: usize) -> Result<FrontMatter, FrontMatterError> {
    if yaml.trim().is_empty() {
        return Ok(FrontMatter::default());
    }
    match serde_saphyr::from_str::<Option<FrontMatter>>(yaml) {
        Ok(fm) => Ok(fm.unwrap_or_default()),
        Err(e) => {
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
            Err(FrontMatterError {
                line: first_line + line - 1,
                message: format!("front matter: {first}"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_parses() {
        let s = split("---\nid: a\ntags: [x, 安全组]\nowner: ops\n---\n# T\nbody\n").unwrap();
        assert_eq!(s.body, "# T\nbody\n");
        assert_eq!(s.body_line, 6);
        let fm = parse(s.yaml.unwrap(), 2).unwrap();
        assert_eq!(fm.id.as_deref(), Some("a"));
        assert_eq!(fm.tags, vec!["x", "安全组"]);
        assert_eq!(fm.extra.get("owner"), Some(&serde_json::json!("ops")));
    }

    #[test]
    fn no_front_matter() {
        let s = split("# Title\n---\nx").unwrap();
        assert_eq!(s.yaml, None);
        assert_eq!(s.body_line, 1);
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert_eq!(split("---\nid: a\n# T\n").unwrap_err().line, 1);
    }

    #[test]
    fn wrong_type_names_the_line() {
        let err = parse("id: a\ntags: [x]\navg_fix_minutes: soon\n", 2).unwrap_err();
        assert_eq!(err.line, 4, "{err:?}");
    }

    #[test]
    fn not_yaml_is_an_error() {
        assert!(parse("id: [unclosed\n", 2).is_err());
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
