//! Finding the articles of a KB.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{Problem, Severity};

/// Every `*.md` file under `kb`, sorted, skipping hidden and `_`-prefixed directories (such as
/// `_analysis`) and `README.md` files, following symlinks but not their loops. Unreadable directories and loops are
/// reported.
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
            if name.starts_with('.') && name.len() > 1 {
                hidden.borrow_mut().push(e.path().to_path_buf());
            }
            !(name.starts_with('.') || name.starts_with('_'))
        });
    for entry in walker {
        match entry {
            Ok(e) => {
                let name = e.file_name().to_string_lossy();
                // README.md files document the KB for its editors; they are not articles.
                if e.file_type().is_file()
                    && name.ends_with(".md")
                    && !name.eq_ignore_ascii_case("readme.md")
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
            .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".md"))
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
