//! deflect
//!
//! Layout (the data flow):
//! - [`ingest`]: `kb/**/*.md` → entries (front matter, sections, FAQ questions).
//! - [`analysis`]: normalisation, jieba segmentation, synonyms, stop words, entities.
//! - [`index`]: the Tantivy schema and atomically swapped index generations.
//! - [`search`]: queries built from tickets, ranking, snippets, facets, explain.

pub mod analysis;
pub mod answer;
pub mod cli;
pub mod config;
pub mod engine;
pub mod eval;
pub mod http;
pub mod index;
pub mod ingest;
pub mod search;
