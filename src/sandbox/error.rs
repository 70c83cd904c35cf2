//! The API's error envelope: `{"object": "error", "_errors": [...]}`.

use serde_json::{json, Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Parameter(String),
    Pointer(String),
    Header(String),
}

/// One entry of `_errors`.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorItem {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub source: Option<Source>,
}

impl ErrorItem {
    pub fn new(status: u16, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        ErrorItem {
            status,
            code,
            title,
            detail: detail.into(),
            source: None,
        }
    }

    pub fn parameter(mut self, name: &str) -> Self {
        self.source = Some(Source::Parameter(name.into()));
        self
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.source = Some(Source::Pointer(pointer.into()));
        self
    }

    pub fn header(mut self, name: &str) -> Self {
        self.source = Some(Source::Header(name.into()));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), self.status.to_string().into());
        m.insert("code".into(), self.code.into());
        m.insert("title".into(), self.title.into());
        m.insert("detail".into(), self.detail.clone().into());
        if let Some(source) = &self.source {
            let (k, v) = match source {
                Source::Parameter(v) => ("parameter", v),
                Source::Pointer(v) => ("pointer", v),
                Source::Header(v) => ("header", v),
            };
            m.insert("source".into(), json!({ k: v }));
        }
        Value::Object(m)
    }

    pub fn missing(what: &str, detail: impl Into<String>) -> Self {
        ErrorItem::new(400, "missing_field", "Missing field", detail).parameter(what)
    }

    pub fn unsupported(detail: impl Into<String>) -> Self {
        ErrorItem::new(400, "unsupported_value", "Unsupported value", detail)
    }
}

/// An error response: a status, the errors, and a `Retry-After` where one applies.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: u16,
    pub errors: Vec<ErrorItem>,
    pub retry_after: Option<u64>,
}

impl From<ErrorItem> for ApiError {
    fn from(e: ErrorItem) -> Self {
        ApiError {
            status: e.status,
            errors: vec![e],
            retry_after: None,
        }
    }
}

impl ApiError {
    pub fn many(errors: Vec<ErrorItem>) -> Self {
        ApiError {
            status: errors.first().map_or(400, |e| e.status),
            errors,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn body(&self) -> Value {
        json!({"object": "error", "_errors": self.errors.iter().map(ErrorItem::to_json).collect::<Vec<_>>()})
    }

    /// The standard error the API gives for a bare status (used by fault injection and scripts).
    pub fn for_status(status: u16) -> Self {
        let (code, title, detail) = match status {
            400 => (
                "unsupported_value",
                "Unsupported value",
                "The request could not be processed.",
            ),
            401 => ("unauthorized", "Unauthorized", "The API key is missing or invalid."),
            402 => (
                "insufficient_credits",
                "Insufficient credits",
                "Your account has run out of credits.",
            ),
            403 => (
                "forbidden",
                "Forbidden",
                "Your account is not allowed to use this endpoint.",
            ),
            404 => ("not_found", "Not found", "The requested resource was not found."),
            405 => (
                "method_not_allowed",
                "Method not allowed",
                "This method is not allowed on this route.",
            ),
            408 => (
                "request_timeout",
                "Request timeout",
                "We are processing your request, try again later.",
            ),
            409 => (
                "conflict",
                "Conflict",
                "The request conflicts with the current state of the resource.",
            ),
            413 => (
                "payload_too_large",
                "Payload too large",
                "The request body is too large.",
            ),
            422 => (
                "unprocessable_entity",
                "Unprocessable entity",
                "The request could not be processed.",
            ),
            429 => (
                "rate_limited",
                "Too many requests",
                "Rate limit exceeded, retry after the time given in Retry-After.",
            ),
            451 => (
                "unavailable_for_legal_reasons",
                "Unavailable for legal reasons",
                "This person's data was removed for privacy reasons (GDPR).",
            ),
            502 => (
                "bad_gateway",
                "Bad gateway",
                "An upstream service failed, try again later.",
            ),
            503 => (
                "service_unavailable",
                "Service unavailable",
                "The service is temporarily unavailable, try again later.",
            ),
            504 => (
                "gateway_timeout",
                "Gateway timeout",
                "An upstream service timed out, try again later.",
            ),
            s if s >= 500 => (
                "internal_server_error",
                "Internal server error",
                "Something went wrong on our side, try again later.",
            ),
            _ => ("error", "Error", "The request failed."),
        };
        ErrorItem::new(status, code, title, detail).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_matches_the_documented_shape() {
        let e: ApiError = ErrorItem::missing("name", "`name` is required").into();
        assert_eq!(
            serde_json::to_string(&e.body()).unwrap(),
            r#"{"object":"error","_errors":[{"status":"400","code":"missing_field","title":"Missing field","detail":"`name` is required","source":{"parameter":"name"}}]}"#
        );
        assert_eq!(ApiError::for_status(408).errors[0].code, "request_timeout");
        assert_eq!(ApiError::for_status(599).errors[0].code, "internal_server_error");
    }
}
