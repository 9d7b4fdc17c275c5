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
    let walker = WalkDir::new(kb)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 || !e.file_type().is_dir() {
                return true;
            }
            let name = e.file_name().to_string_lossy();
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
    (files, problems)
}
