//! The one table from errors to HTTP statuses and stable machine-readable codes.
//! Internal details are logged here and never sent to clients.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An API error.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not valid JSON.
    #[error("{0}")]
    InvalidJson(String),
    /// A field or parameter has the wrong type or value.
    #[error("{0}")]
    InvalidParameter(String),
    /// The body is not JSON (content type).
    #[error("send the body as JSON with `Content-Type: application/json`")]
    ExpectedJson,
    /// Nothing to search.
    #[error("{0}")]
    EmptyQuery(String),
    /// The body is over the limit.
    #[error("request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    /// Missing or wrong API key.
    #[error("missing or invalid API key: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// Unknown article or route.
    #[error("{0}")]
    NotFound(String),
    /// Method not allowed on the route.
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// Too many searches waiting.
    #[error("the server is busy; retry shortly")]
    Overloaded,
    /// The search deadline passed.
    #[error("the request took longer than the {0} ms deadline; retry, or shorten the query")]
    Timeout(u64),
    /// The request body did not arrive in time.
    #[error("the request body did not arrive within {0} ms")]
    BodyTimeout(u64),
    /// A reindex is already running.
    #[error("a reindex is already running; retry when it finishes")]
    ReindexBusy,
    /// The reindex failed; the serving index is unchanged.
    #[error("{0}")]
    ReindexFailed(String),
    /// Unexpected failure (details logged).
    #[error("internal error")]
    Internal(String),
}

/// The JSON error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl ApiError {
    /// Status and stable code.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidParameter(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_parameter")
            }
            ApiError::ExpectedJson => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected_json"),
            ApiError::EmptyQuery(_) => (StatusCode::BAD_REQUEST, "empty_query"),
            ApiError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            ApiError::ReindexBusy => (StatusCode::CONFLICT, "reindex_in_progress"),
            ApiError::ReindexFailed(_) => (StatusCode::UNPROCESSABLE_ENTITY, "reindex_failed"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// From a JSON body rejection.
    pub fn from_json(r: JsonRejection, limit: usize) -> ApiError {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::InvalidParameter(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::InvalidJson(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::ExpectedJson,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::BodyTooLarge(limit)
            }
            other => ApiError::InvalidJson(other.body_text()),
        }
    }

    /// From a query-string rejection.
    pub fn from_query(r: QueryRejection) -> ApiError {
        ApiError::InvalidParameter(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        // The rest of the body was never read, so the server drops the connection after
        // this response: saying so keeps a client from sending its next request on it.
        if matches!(self, ApiError::BodyTooLarge(_) | ApiError::BodyTimeout(_)) {
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

impl From<crate::search::SearchError> for ApiError {
    fn from(e: crate::search::SearchError) -> Self {
        match e {
            crate::search::SearchError::UnknownEntry(id) => ApiError::InvalidParameter(format!(
                "options.chosen: no entry with id `{}`",
                id.chars().take(200).collect::<String>()
            )),
            e => ApiError::Internal(e.to_string()),
        }
    }
}
