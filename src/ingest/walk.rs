//! Finding the articles of a KB.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{Problem, Severity};

/// Whether a directory is skipped: `_`-prefixed ones (such as `_analysis`) and hidden ones.
/// The endings of article files: `.md`, `.markdown`, and `.mdx` (Docusaurus and other
/// React-based sites, whose `import` lines are dropped as markup), in any case.
const MARKDOWN_ENDINGS: [&str; 3] = [".md", ".mdx", ".markdown"];

/// A file name (or path) without its Markdown ending; None when it is not a Markdown file.
pub fn markdown_stem(name: &str) -> Option<&str> {
    MARKDOWN_ENDINGS.iter().find_map(|e| {
        let cut = name.len().checked_sub(e.len())?;
        (name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(e)).then(|| &name[..cut])
    })
}

/// A dot-directory whose name reads like a title, with a capital or a space (`.NET SDK`,
/// `.NET Core`), is content, not tool state (`.git`, `.obsidian`, `.cache` are lowercase);
/// the system folders that also have capitals (`.Trash`, `.Spotlight-V100`) stay hidden.
pub fn skipped_dir(name: &str) -> bool {
    if name.starts_with('_') {
        return true;
    }
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    const SYSTEM: [&str; 6] = [
        "Trash",
        "Trashes",
        "Spotlight-V100",
        "TemporaryItems",
        "AppleDouble",
        "DocumentRevisions-V100",
    ];
    let titled = rest.chars().any(|c| c.is_uppercase() || c == ' ');
    !titled || rest.is_empty() || SYSTEM.iter().any(|s| rest.starts_with(s))
}

/// Every Markdown file ([`markdown_stem`]) under `kb`, sorted, skipping the directories [`skipped_dir`] names and
/// `README.md` files, following symlinks but not their loops. Unreadable directories and
/// loops are reported.
pub fn walk_kb(kb: &Path) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let hidden = std::cell::RefCell::new(Vec::new());
    let walker = WalkDir::new(kb)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 || !e.file_type().is_dir() {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            let skip = skipped_dir(&name);
            if skip && name.starts_with('.') && name.len() > 1 {
                hidden.borrow_mut().push(e.path().to_path_buf());
            }
            !skip
        });
    for entry in walker {
        match entry {
            Ok(e) => {
                let name = e.file_name().to_string_lossy();
                // README.md files document the KB for its editors; they are not articles.
                if e.file_type().is_file()
                    && markdown_stem(&name).is_some_and(|s| !s.eq_ignore_ascii_case("readme"))
                {
                    files.push(e.into_path());
                }
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| super::rel_path(kb, p))
                    .unwrap_or_else(|| kb.display().to_string());
                let message = if e.loop_ancestor().is_some() {
                    "symlink loop: not followed".to_string()
                } else if let Some(io) = e.io_error() {
                    format!("cannot read: {io}")
                } else {
                    e.to_string()
                };
                problems.push(Problem {
                    path,
                    line: None,
                    severity: Severity::Error,
                    message,
                });
            }
        }
    }
    // Hidden directories are skipped, but never silently when they hold articles.
    for dir in hidden.into_inner() {
        let n = WalkDir::new(&dir)
            .max_depth(8)
            .into_iter()
            .flatten()
            .filter(|e| {
                e.file_type().is_file() && markdown_stem(&e.file_name().to_string_lossy()).is_some()
            })
            .count();
        if n > 0 {
            problems.push(Problem {
                path: super::rel_path(kb, &dir),
                line: None,
                severity: Severity::Warning,
                message: format!("hidden directory skipped with {n} Markdown file(s); rename it without the leading `.` to index them"),
            });
        }
    }
    (files, problems)
}

#[cfg(test)]
mod tests {
    use super::skipped_dir;

    #[test]
    fn tool_directories_are_hidden_and_titled_ones_are_content() {
        for hidden in [
            ".git",
            ".github",
            ".obsidian",
            ".cache",
            ".Trash-1000",
            ".Trashes",
            "_analysis",
            ".",
        ] {
            assert!(skipped_dir(hidden), "{hidden}");
        }
        for content in [".NET SDK", ".NET", ".NET Core", "ECS", "常见问题"] {
            assert!(!skipped_dir(content), "{content}");
        }
    }
}
