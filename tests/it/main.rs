//! Integration tests, built into one binary. Each test works in its own temp dir; the bundled
//! kb/ is indexed once and shared read-only.

mod answer;
mod common;
mod engine;
mod fuzz;
mod http;
mod relevance;
mod report;
