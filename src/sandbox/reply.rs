//! Building responses with the settings' content type.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde_json::Value;

use super::error::ApiError;

pub fn json(status: u16, value: &Value, content_type: &str) -> Response<Body> {
    bytes(
        status,
        serde_json::to_vec(value).expect("JSON values always serialise"),
        content_type,
    )
}

/// A JSON body already serialised.
pub fn bytes(status: u16, body: Vec<u8>, content_type: &str) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/json")),
    );
    r
}

pub fn error(e: &ApiError, content_type: &str) -> Response<Body> {
    let mut r = json(e.status, &e.body(), content_type);
    if let Some(s) = e.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// A JSON document already serialised.
pub fn json_text(text: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(text));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
