//! Route handlers and the OpenAPI document generated from them.

use std::io::Write;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::analysis::entities::mask_personal_data;
use crate::answer::{self, AnswerRequest, AnswerResponse};
use crate::cli::truncate;
use crate::index::{BuildSummary, IndexError};
use crate::search::{self, Filters, SearchRequest, SearchResponse, MAX_WINDOW};

/// JSON body extractor whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // The whole body has one deadline: a per-read timeout would let a client that sends
        // a byte a second hold the connection for as long as it likes.
        let ms = state.config.limits.body_timeout_ms;
        match tokio::time::timeout(
            std::time::Duration::from_millis(ms),
            Json::<T>::from_request(req, state),
        )
        .await
        {
            Err(_) => Err(ApiError::BodyTimeout(ms)),
            Ok(Ok(Json(v))) => Ok(ApiJson(v)),
            Ok(Err(r)) => Err(ApiError::from_json(r, state.config.limits.max_body_bytes)),
        }
    }
}

/// Query-string extractor whose rejections are [`ApiError`]s.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(ApiError::from_query(r)),
        }
    }
}

/// `GET /v1/search` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Query or ticket text.
    pub q: Option<String>,
    /// Hits to return (1–max_limit, default 10).
    pub limit: Option<i64>,
    /// Hits to skip.
    pub offset: Option<i64>,
    /// Category filter.
    pub category: Option<String>,
    /// Product filter (as declared in front matter).
    pub product: Option<String>,
    /// Area filter: the declared product, else the top-level folder (case-insensitive).
    pub area: Option<String>,
    /// Language filter (zh, en).
    pub lang: Option<String>,
    /// Tags, comma-separated; all must match.
    pub tags: Option<String>,
    /// Include per-hit score breakdowns.
    pub explain: Option<bool>,
    /// Count facets (category, product, area, lang, tags) and the exact total over every match.
    /// Off by default: it visits every matching entry, where a plain search scores only
    /// those that can reach the top.
    pub facets: Option<bool>,
}

/// `POST /v1/search` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// Query or ticket text.
    pub q: String,
    /// Hits to return.
    pub limit: Option<i64>,
    /// Hits to skip.
    pub offset: Option<i64>,
    /// Category filter.
    pub category: Option<String>,
    /// Product filter (as declared in front matter).
    pub product: Option<String>,
    /// Area filter: the declared product, else the top-level folder (case-insensitive).
    pub area: Option<String>,
    /// Language filter.
    pub lang: Option<String>,
    /// Tags; all must match.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Include per-hit score breakdowns.
    #[serde(default)]
    pub explain: bool,
    /// Count facets and the exact total over every match (slower; off by default).
    #[serde(default)]
    pub facets: bool,
}

fn window(
    limit: Option<i64>,
    offset: Option<i64>,
    max_limit: usize,
) -> Result<(usize, usize), ApiError> {
    let limit = limit.unwrap_or(10);
    let offset = offset.unwrap_or(0);
    if limit < 1 || limit as u64 > max_limit as u64 {
        return Err(ApiError::InvalidParameter(format!(
            "limit must be between 1 and {max_limit}"
        )));
    }
    if offset < 0 {
        return Err(ApiError::InvalidParameter(
            "offset must be 0 or more".into(),
        ));
    }
    if offset as u64 + limit as u64 > MAX_WINDOW as u64 {
        return Err(ApiError::InvalidParameter(format!("offset + limit must be at most {MAX_WINDOW}; refine the query instead of paging deeper")));
    }
    Ok((limit as usize, offset as usize))
}

fn clean_query(q: &str, max_chars: usize) -> Result<String, ApiError> {
    let q: String = q
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\n' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if q.trim().is_empty() {
        return Err(ApiError::EmptyQuery(
            "the query is empty: send some text in `q`".into(),
        ));
    }
    Ok(truncate(&q, max_chars))
}

/// A search or answer response, serialised into one buffer sized for a page of hits. axum's
/// `Json` writes through a `BytesMut` writer that starts at 128 bytes and grows by doubling:
/// that writer was a third of the serialisation's instructions.
pub struct JsonBody<T>(pub T);

impl<T: Serialize> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let mut buf = Vec::with_capacity(16 * 1024);
        match serde_json::to_writer(&mut buf, &self.0) {
            Ok(()) => ([(header::CONTENT_TYPE, "application/json")], buf).into_response(),
            Err(e) => ApiError::Internal(format!("serialise the response: {e}")).into_response(),
        }
    }
}

async fn run_search(
    s: AppState,
    mut req: SearchRequest,
) -> Result<JsonBody<SearchResponse>, ApiError> {
    req.q = clean_query(&req.q, s.config.limits.max_query_chars)?;
    if s.config.log_personal_data {
        tracing::info!(q = %crate::analysis::entities::mask_secrets(&req.q.chars().take(200).collect::<String>()), "search");
    } else {
        tracing::info!(q = %mask_personal_data(&req.q.chars().take(200).collect::<String>()), "search");
    }
    let resp = s.run(|| search::search(&s.engine.loaded(), &req))??;
    Ok(JsonBody(resp))
}

/// Search with query parameters.
#[utoipa::path(get, path = "/v1/search", params(SearchParams), responses(
    (status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn search_get(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<JsonBody<SearchResponse>, ApiError> {
    let (limit, offset) = window(p.limit, p.offset, s.config.limits.max_limit)?;
    let mut req = SearchRequest::new(p.q.unwrap_or_default());
    req.limit = limit;
    req.offset = offset;
    req.explain = p.explain.unwrap_or(false);
    req.facets = p.facets.unwrap_or(false);
    req.filters = Filters {
        category: p.category,
        product: p.product,
        area: p.area,
        lang: p.lang,
        tags: p
            .tags
            .map(|t| {
                t.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        ..Default::default()
    };
    run_search(s, req).await
}

/// Search with a JSON body (for long tickets).
#[utoipa::path(post, path = "/v1/search", request_body = SearchBody, responses(
    (status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn search_post(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<SearchBody>,
) -> Result<JsonBody<SearchResponse>, ApiError> {
    let (limit, offset) = window(b.limit, b.offset, s.config.limits.max_limit)?;
    let mut req = SearchRequest::new(b.q);
    req.limit = limit;
    req.offset = offset;
    req.explain = b.explain;
    req.facets = b.facets;
    req.filters = Filters {
        category: b.category,
        product: b.product,
        area: b.area,
        lang: b.lang,
        tags: b.tags,
        ..Default::default()
    };
    run_search(s, req).await
}

/// Answer a ticket: decision, fixes, reply, escalation.
#[utoipa::path(post, path = "/v1/answer", request_body = AnswerRequest, responses(
    (status = 200, body = AnswerResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn answer(
    State(s): State<AppState>,
    ApiJson(mut req): ApiJson<AnswerRequest>,
) -> Result<JsonBody<AnswerResponse>, ApiError> {
    let subject = req.ticket.subject.clone().unwrap_or_default();
    req.ticket.body = clean_query(
        &format!("{subject}{}", req.ticket.body),
        s.config.limits.max_query_chars,
    )
    .map_err(|_| {
        ApiError::EmptyQuery(
            "the ticket is empty: send the customer's text in `ticket.body`".into(),
        )
    })?;
    if !subject.is_empty() {
        // The subject was prepended for the emptiness check; keep it separate for the answer.
        req.ticket.body = req
            .ticket
            .body
            .chars()
            .skip(subject.chars().count())
            .collect();
    }
    if let Some(m) = req.options.as_ref().and_then(|o| o.max_fixes) {
        if !(1..=10).contains(&m) {
            return Err(ApiError::InvalidParameter(
                "options.max_fixes must be between 1 and 10".into(),
            ));
        }
    }
    let resp = s.run(|| answer::answer(&s.engine.loaded(), &s.config.answer, &req))??;
    tracing::info!(answer_id = %resp.answer_id, decision = resp.decision.as_str(), confidence = resp.confidence, summary = %resp.escalation.summary, "answer");
    metrics::counter!("deflect_answers_total", "decision" => resp.decision.as_str()).increment(1);
    s.log_answer(&resp, &req);
    Ok(JsonBody(resp))
}

/// An article (or FAQ entry) in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleResponse {
    /// Entry id.
    pub id: String,
    /// Page id.
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// article or faq.
    pub kind: String,
    /// Category.
    pub category: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Area, lower case: the product, else the top-level folder.
    pub area: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// zh or en.
    pub lang: String,
    /// P0–P4.
    pub priority: Option<String>,
    /// Typical minutes to fix.
    pub avg_fix_minutes: Option<u64>,
    /// Declared automation.
    pub automation: Option<String>,
    /// Related ids.
    pub related: Vec<String>,
    /// Last update.
    pub updated: Option<String>,
    /// Error codes (canonical).
    pub error_codes: Vec<String>,
    /// Aliases, then keywords: the phrasings searched with title weight.
    pub aliases: Vec<String>,
    /// Path under the KB.
    pub path: String,
    /// Sections: heading, kind, anchor, text.
    #[schema(value_type = Vec<Object>)]
    pub sections: serde_json::Value,
    /// Unknown front matter fields.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Rendered, sanitised HTML.
    pub html: String,
    /// Raw Markdown.
    pub markdown: String,
}

/// Sections of an entry's Markdown, parsed on request (the article page is rare; storing
/// them would make every search decode them).
fn sections_json(md: &str) -> serde_json::Value {
    let parsed = crate::ingest::markdown::parse(md);
    serde_json::Value::Array(
        parsed
            .sections
            .iter()
            .map(|s| serde_json::json!({"heading": s.heading, "kind": s.kind, "anchor": s.anchor, "text": s.text}))
            .collect(),
    )
}

/// Renders Markdown to HTML and sanitises it: no scripts, iframes, event handlers,
/// `javascript:` or `data:` URLs.
pub fn render_html(md: &str) -> String {
    let mut raw = String::new();
    let opts = pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_HEADING_ATTRIBUTES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH;
    pulldown_cmark::html::push_html(&mut raw, pulldown_cmark::Parser::new_ext(md, opts));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

/// One article or FAQ entry by id (`doc#anchor` with `#` sent as `%23`).
#[utoipa::path(get, path = "/v1/articles/{id}", params(("id" = String, Path, description = "entry id")), responses(
    (status = 200, body = ArticleResponse), (status = 404, body = ErrorBody)))]
pub async fn article(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ArticleResponse>, ApiError> {
    let engine = s.engine.clone();
    let lookup = id.clone();
    let found = s
        .blocking(move || {
            let loaded = engine.loaded();
            let mut doc = search::fetch(&loaded, &lookup)?;
            let f = &loaded.fields;
            // A `TantivyDocument` copies what the hit takes: `doc` stays whole.
            let h = search::to_hit(&loaded, &mut doc, 0.0);
            let md = loaded.markdown(&doc)?;
            let all = |field| {
                doc.get_all(field)
                    .filter_map(|v| tantivy::schema::Value::as_str(&v).map(str::to_string))
                    .collect::<Vec<_>>()
            };
            Some(ArticleResponse {
                id: h.id,
                doc_id: h.doc_id,
                title: h.title,
                kind: h.kind,
                category: h.category,
                product: h.product,
                area: h.area,
                tags: h.tags,
                lang: h.lang,
                priority: h.priority,
                avg_fix_minutes: h.avg_fix_minutes,
                automation: h.automation,
                related: h.related,
                updated: h.updated,
                error_codes: all(f.codes),
                aliases: search::text(&doc, f.aliases)
                    .lines()
                    .map(str::to_string)
                    .filter(|l| !l.is_empty())
                    .collect(),
                path: h.path,
                sections: sections_json(&md),
                metadata: serde_json::from_str(&search::text(&doc, f.extra))
                    .unwrap_or(serde_json::json!({})),
                html: render_html(&md),
                markdown: md,
            })
        })
        .await?;
    found.map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no article with id `{}`",
            id.chars().take(200).collect::<String>()
        ))
    })
}

/// Feedback on an answer or a hit.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// The answer id, if the feedback is on an answer.
    pub answer_id: Option<String>,
    /// The entry the feedback is about.
    pub entry_id: Option<String>,
    /// Did it help?
    pub helpful: bool,
    /// Free text (personal data is masked before it is stored).
    pub comment: Option<String>,
}

/// Records feedback (appended to `feedback.jsonl` beside the index).
#[utoipa::path(post, path = "/v1/feedback", request_body = Feedback, responses((status = 202), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn feedback(
    State(s): State<AppState>,
    ApiJson(mut f): ApiJson<Feedback>,
) -> Result<StatusCode, ApiError> {
    if f.answer_id.is_none() && f.entry_id.is_none() {
        return Err(ApiError::InvalidParameter(
            "give answer_id or entry_id".into(),
        ));
    }
    f.comment = f.comment.map(|c| mask_personal_data(&truncate(&c, 2000)));
    let line = serde_json::json!({
        "at": crate::answer::log::now(),
        "feedback": f,
    });
    let path = s.config.index.join(crate::answer::log::FEEDBACK_FILE);
    let lock = s.feedback.clone();
    s.blocking(move || {
        let _g = lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(file, "{line}")
    })
    .await?
    .map_err(|e| ApiError::Internal(format!("write feedback: {e}")))?;
    metrics::counter!("deflect_feedback_total", "helpful" => if f.helpful { "yes" } else { "no" })
        .increment(1);
    Ok(StatusCode::ACCEPTED)
}

/// Rebuilds from the KB and swaps in with zero downtime. Requires the admin key.
#[utoipa::path(post, path = "/v1/admin/reindex", responses(
    (status = 200, body = BuildSummary), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_reindex(State(s): State<AppState>) -> Result<Json<BuildSummary>, ApiError> {
    let engine = s.engine.clone();
    // Not behind the search gate: a reindex takes seconds, and searches must keep flowing.
    let r = tokio::task::spawn_blocking(move || engine.reindex())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    match r {
        Ok(summary) => Ok(Json(summary)),
        Err(IndexError::Busy(_)) => Err(ApiError::ReindexBusy),
        Err(
            e @ (IndexError::Kb { .. }
            | IndexError::InsideKb { .. }
            | IndexError::Empty(..)
            | IndexError::Verify(_)),
        ) => Err(ApiError::ReindexFailed(e.to_string())),
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

/// `GET /v1/admin/report` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// Only the last N days (default: everything the log holds).
    pub days: Option<u64>,
    /// Rows per list, 1–1000 (default 20).
    pub top: Option<usize>,
}

/// `deflect report` as JSON: decisions, fixes by feedback, KB gaps. Requires the admin key
/// (the report quotes tickets).
#[utoipa::path(get, path = "/v1/admin/report", params(ReportParams), responses(
    (status = 200, body = crate::report::Report), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn admin_report(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> Result<JsonBody<crate::report::Report>, ApiError> {
    let top = p.top.unwrap_or(20);
    if !(1..=1000).contains(&top) {
        return Err(ApiError::InvalidParameter(
            "top must be between 1 and 1000".into(),
        ));
    }
    let opts = crate::report::Options {
        since: p
            .days
            .map(|d| crate::answer::log::now().saturating_sub(d.saturating_mul(86_400))),
        top,
    };
    let (engine, root) = (s.engine.clone(), s.config.index.clone());
    // Off the search gate and its deadline, as a reindex: a month of log takes seconds.
    let r =
        tokio::task::spawn_blocking(move || crate::report::from_dir(&engine.loaded(), &root, opts))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Internal(format!("read the logs: {e}")))?;
    Ok(JsonBody(r))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the index is loaded and the server is not shutting down (503 `draining` then).
#[utoipa::path(get, path = "/readyz", responses((status = 200), (status = 503, description = "shutting down")))]
pub async fn readyz(State(s): State<AppState>) -> Response {
    let l = s.engine.loaded();
    let draining = s.is_draining();
    let body = Json(serde_json::json!({
        "status": if draining { "draining" } else { "ready" },
        "entries": l.meta.entries,
        "generation": l.meta.generation,
        "reindexes": s.engine.reindex_count(),
        "uptime_s": s.started.elapsed().as_secs(),
    }));
    if draining {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        body.into_response()
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> Response {
    metrics::gauge!("deflect_index_entries").set(s.engine.loaded().meta.entries as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", responses((status = 200)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "deflect", description = "Knowledge-base search and auto-answer for customer support"),
    paths(search_get, search_post, answer, article, feedback, admin_reindex, admin_report, healthz, readyz, metrics, openapi),
    components(schemas(SearchBody, ErrorBody, ArticleResponse, Feedback, BuildSummary, AnswerRequest, AnswerResponse, SearchResponse, crate::report::Report)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
