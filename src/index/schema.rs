//! The index schema: one typed handle per field.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, STORED,
    STRING,
};

use crate::analysis::{PRETOKENIZED_NAME, TOKENIZER_NAME};

/// Bumped whenever the schema or the analyzer changes what is indexed; an index with another
/// version is rebuilt, never read.
pub const SCHEMA_VERSION: u32 = 21;

/// Bytes of an entry's text kept for snippets (a snippet comes from the article's head):
/// 4 KB holds most FAQ answers and sections whole, and the start of a long article is where
/// a snippet reads best.
pub const BODY_HEAD: usize = 4 << 10;

/// The file of a generation holding every entry's Markdown and its snippet head, each an
/// LZ4 record of its own. It is kept out of the document store, which every hit decodes:
/// a hit reads its head only when a snippet is asked for, its Markdown only in the article
/// view.
pub const TEXT_STORE_FILE: &str = "text.lz4";

/// Handles of every field.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Entry id (exact).
    pub id: Field,
    /// Page id (exact).
    pub doc_id: Field,
    /// Path under the KB.
    pub path: Field,
    /// FAQ anchor, if any.
    pub anchor: Field,
    /// `article` or `faq`.
    pub kind: Field,
    /// Title (the question, for FAQ entries).
    pub title: Field,
    /// The page's title (differs from `title` for FAQ entries).
    pub page_title: Field,
    /// Aliases: how customers phrase the problem.
    pub aliases: Field,
    /// All text: title, aliases and body (indexed, not stored). Candidates are retrieved by it.
    /// Its values are analysed text (see [`crate::analysis::Analyzer::analyze_encoded`]).
    pub body: Field,
    /// Canonical error codes, exact.
    pub codes: Field,
    /// Category (exact, fast).
    pub category: Field,
    /// Product (exact, fast).
    pub product: Field,
    /// `zh` or `en` (exact, fast).
    pub lang: Field,
    /// Tags (exact, fast, multi-valued).
    pub tags: Field,
    /// P0–P4.
    pub priority: Field,
    /// Typical minutes to fix.
    pub avg_fix_minutes: Field,
    /// Declared automation action.
    pub automation: Field,
    /// Related article ids.
    pub related: Field,
    /// Last update date.
    pub updated: Field,
    /// Where the entry's Markdown (LZ4) starts in the generation's [`TEXT_STORE_FILE`].
    pub markdown_at: Field,
    /// Its compressed length.
    pub markdown_len: Field,
    /// Where the first [`BODY_HEAD`] bytes of the entry's text (LZ4) start in the
    /// [`TEXT_STORE_FILE`]: the text snippets are cut from.
    pub head_at: Field,
    /// Its compressed length.
    pub head_len: Field,
    /// Where a long entry's section headings (LZ4, see `index::headings_record`) start in
    /// the [`TEXT_STORE_FILE`]; a length of 0 when it has none worth pointing into.
    pub headings_at: Field,
    /// Its compressed length.
    pub headings_len: Field,
    /// Fix steps, extracted at ingest (multi-valued): one line of plain text each.
    pub steps: Field,
    /// Where the same steps as Markdown, with their commands and sub-points (LZ4, see
    /// `index::steps_record`), start in the [`TEXT_STORE_FILE`]: only an answer's fixes read
    /// them, so they stay out of the document store every hit decodes.
    pub steps_at: Field,
    /// Its compressed length; 0 when the entry has no steps.
    pub steps_len: Field,
    /// Unknown front matter fields as JSON.
    pub extra: Field,
    /// The entry's area, lower case: its declared product, else the top-level folder of its
    /// file (`ecs` for `ecs/常见问题/x.md`). Filters and facets read it, so a KB organised
    /// by folders can be narrowed by product without front matter.
    pub area: Field,
    /// Hash of (normalised title, area): near-duplicates share it.
    pub dupkey: Field,
    /// 1 when the entry reads as a problem and its fix (`Entry::problem`), else 0.
    pub problem: Field,
    /// Percent of the entry's text in tables and code blocks (`markdown::structured_share`).
    pub structured: Field,
}

impl Fields {
    /// Builds the schema and its field handles.
    pub fn build() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let text = |stored: bool| {
            // The body, the largest field by far, reaches the writer already analysed (see
            // `index::build`); the small stored title fields are analysed by the writer.
            let tokenizer = if stored {
                TOKENIZER_NAME
            } else {
                PRETOKENIZED_NAME
            };
            let idx = TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions);
            let o = TextOptions::default().set_indexing_options(idx);
            if stored {
                o.set_stored()
            } else {
                o
            }
        };
        let fields = Fields {
            id: b.add_text_field("id", STRING | STORED | FAST),
            doc_id: b.add_text_field("doc_id", STRING | STORED),
            path: b.add_text_field("path", STRING | STORED),
            anchor: b.add_text_field("anchor", STORED),
            kind: b.add_text_field("kind", STRING | STORED | FAST),
            title: b.add_text_field("title", text(true)),
            page_title: b.add_text_field("page_title", text(true)),
            aliases: b.add_text_field("aliases", text(true)),
            body: b.add_text_field("body", text(false)),
            codes: b.add_text_field("codes", STRING | STORED),
            category: b.add_text_field("category", STRING | STORED | FAST),
            product: b.add_text_field("product", STRING | STORED | FAST),
            lang: b.add_text_field("lang", STRING | STORED | FAST),
            tags: b.add_text_field("tags", STRING | STORED | FAST),
            priority: b.add_text_field("priority", STORED),
            avg_fix_minutes: b
                .add_u64_field("avg_fix_minutes", NumericOptions::default().set_stored()),
            automation: b.add_text_field("automation", STORED),
            related: b.add_text_field("related", STORED),
            updated: b.add_text_field("updated", STORED),
            markdown_at: b.add_u64_field("markdown_at", NumericOptions::default().set_stored()),
            markdown_len: b.add_u64_field("markdown_len", NumericOptions::default().set_stored()),
            head_at: b.add_u64_field("head_at", NumericOptions::default().set_stored()),
            head_len: b.add_u64_field("head_len", NumericOptions::default().set_stored()),
            headings_at: b.add_u64_field("headings_at", NumericOptions::default().set_stored()),
            headings_len: b.add_u64_field("headings_len", NumericOptions::default().set_stored()),
            steps: b.add_text_field("steps", STORED),
            steps_at: b.add_u64_field("steps_at", NumericOptions::default().set_stored()),
            steps_len: b.add_u64_field("steps_len", NumericOptions::default().set_stored()),
            extra: b.add_text_field("extra", STORED),
            area: b.add_text_field("area", STRING | STORED | FAST),
            dupkey: b.add_u64_field("dupkey", NumericOptions::default().set_fast()),
            problem: b.add_u64_field("problem", NumericOptions::default().set_fast()),
            structured: b.add_u64_field("structured", NumericOptions::default().set_fast()),
        };
        (b.build(), fields)
    }
}
