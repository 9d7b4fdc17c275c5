//! deflect
//!
//! Layout (the data flow):
//! - [`ingest`]: `kb/**/*.md` → entries (front matter, sections, FAQ questions).
//! - [`analysis`]: normalisation, jieba segmentation, synonyms, stop words, entities.
//! - [`index`]: the Tantivy schema and atomically swapped index generations.
//! - [`search`]: queries built from tickets, ranking, snippets, facets, explain.
//! - [`answer`]: decisions, replies and hand-offs; the answer log.
//! - [`http`]: the API server.
//! - [`report`]: what the answer log and feedback say about the KB.

/// mimalloc instead of the system allocator, for the server, the tests and the benches alike.
/// A search allocates and frees many small buffers (postings blocks, stored documents,
/// snippets, JSON); under load glibc's malloc and free took ~15% of a search's cycles.
/// Built without transparent huge pages (`no_thp`): they gave no measurable throughput and
/// cost ~30 MB of serving RSS and ~100 MB at a live reindex's peak.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `re!(NAME, r"pattern");`: a regex compiled on first use, for the wording rules of
/// analysis and answers. Defined before the modules, so every one of them has it.
macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new($pat).expect("valid regex"));
    };
}

pub mod analysis;
pub mod answer;
pub mod cli;
pub mod config;
pub mod engine;
pub mod eval;
pub mod http;
pub mod index;
pub mod ingest;
pub mod report;
pub mod search;
