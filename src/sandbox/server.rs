//! The HTTP front: reads each request, logs it, applies auth, limits, scripts and faults, then lets the router
//! answer. A hyper connection loop (rather than `axum::serve`) lets a fault close a connection without a response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::capture::Captured;
use super::error::{ApiError, ErrorItem};
use super::faults::{chance, Fault, Step};
use super::limits::retry_after_secs;
use super::reply;
use super::settings::Settings;
use super::state::State;

/// The routes paced by the search rate limit as well as the overall one.
const SEARCH_ROUTES: &[&str] = &["/people/search", "/companies/search"];

/// The routes and the methods each takes; `{id}` stands for one path segment.
const ROUTES: &[(&str, &[&str])] = &[
    ("/people/find", &["GET"]),
    ("/companies/find", &["GET"]),
    ("/people/search", &["POST"]),
    ("/people/enrichment-requests", &["POST"]),
    ("/people/enrichment-requests/{id}", &["GET", "PATCH"]),
    ("/companies/search", &["POST"]),
    ("/companies/enrichment-requests", &["POST"]),
    ("/companies/enrichment-requests/{id}", &["GET", "PATCH"]),
    ("/email-validations", &["POST"]),
    ("/email-validations/{id}", &["GET", "PATCH"]),
    ("/account-info", &["GET"]),
    ("/openapi.json", &["GET"]),
];

enum Route {
    Known(&'static str),
    WrongMethod(&'static [&'static str]),
    Unknown,
}

fn route_of(method: &Method, path: &str) -> Route {
    let fits = |template: &str| {
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), p.next()) {
                (None, None) => return true,
                (Some("{id}"), Some(seg)) if !seg.is_empty() => {}
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    };
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    match ROUTES.iter().find(|(t, _)| fits(t)) {
        Some((t, methods)) if methods.contains(&method) => Route::Known(t),
        Some((_, methods)) => Route::WrongMethod(methods),
        None => Route::Unknown,
    }
}

/// A connection to close without answering.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// What to send: a response, with the fault that shapes how it is sent.
struct Answer {
    response: Response<Body>,
    fault: Option<Fault>,
    injected: Option<&'static str>,
}

impl From<Response<Body>> for Answer {
    fn from(response: Response<Body>) -> Self {
        Answer {
            response,
            fault: None,
            injected: None,
        }
    }
}

/// Marks the request `aborted` in the log if its future is dropped first: the client went away.
struct AbortGuard {
    state: Arc<State>,
    seq: u64,
    done: bool,
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.done {
            let elapsed = self.state.started.elapsed().as_secs_f64();
            self.state.log.lock().update(self.seq, |e| {
                e.outcome = "aborted";
                e.duration = Some(elapsed - e.time);
            });
        }
    }
}

/// What the request's credentials amount to; each refusal gets its own 401 detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    Accepted,
    /// No `Authorization` header at all.
    Missing,
    /// A header without the `Bearer` scheme.
    NotBearer,
    /// A Bearer token that is not the key.
    Rejected,
}

impl Auth {
    fn detail(self) -> &'static str {
        match self {
            Auth::Missing => "No API key was sent: send it as `Authorization: Bearer <key>`.",
            Auth::NotBearer => {
                "The Authorization header does not use the Bearer scheme: send `Authorization: Bearer <key>`."
            }
            Auth::Accepted | Auth::Rejected => {
                "The API key sent was rejected: it is not a valid key (check for a typo, or whether it was revoked)."
            }
        }
    }
}

fn authorized(parts: &Parts, key: &str) -> Auth {
    let Some(v) = parts.headers.get(header::AUTHORIZATION) else {
        return Auth::Missing;
    };
    let Some(token) = v.as_bytes().strip_prefix(b"Bearer ") else {
        return Auth::NotBearer;
    };
    // The time taken depends on the expected key's length only: not on where a guess goes wrong, nor on its length.
    let key = key.as_bytes();
    let same_len = (token.len() as u64).ct_eq(&(key.len() as u64));
    let same_bytes = key.iter().enumerate().fold(subtle::Choice::from(1), |all, (i, k)| {
        all & token.get(i).copied().unwrap_or(!k).ct_eq(k)
    });
    if bool::from(same_len & same_bytes) {
        Auth::Accepted
    } else {
        Auth::Rejected
    }
}

async fn handle(state: Arc<State>, router: Router, req: Request<Incoming>) -> Result<Response<Body>, Dropped> {
    let arrived = state.started.elapsed().as_secs_f64();
    let settings = state.settings();
    let (parts, body) = req.into_parts();
    let (bytes, too_large) = match Limited::new(body, settings.max_body_bytes).collect().await {
        Ok(c) => (c.to_bytes(), false),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => (Bytes::new(), true),
        Err(_) => return Err(Dropped),
    };
    let route = route_of(&parts.method, parts.uri.path());
    let auth = authorized(&parts, &settings.api_key);
    let mut headers = serde_json::Map::new();
    for (k, v) in &parts.headers {
        let value = if k == header::AUTHORIZATION {
            "Bearer ***".to_string()
        } else {
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        };
        match headers.get_mut(k.as_str()) {
            Some(serde_json::Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            _ => {
                headers.insert(k.as_str().to_string(), value.into());
            }
        }
    }
    // The number is taken under the log's lock, so the log stays in number order however requests interleave.
    let (seq, fault_seq) = {
        let mut log = state.log.lock();
        let seq = state.next_seq();
        log.push(Captured {
            seq,
            time: arrived,
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers,
            authorized: auth == Auth::Accepted,
            body: (!bytes.is_empty()).then(|| String::from_utf8_lossy(&bytes).into_owned()),
            route: match route {
                Route::Known(t) => Some(format!("{} {t}", parts.method)),
                _ => None,
            },
            status: None,
            outcome: "pending",
            injected: None,
            duration: None,
        });
        (seq, state.next_fault_seq())
    };
    let mut guard = AbortGuard {
        state: state.clone(),
        seq,
        done: false,
    };
    let answer = respond(
        &state, &settings, router, parts, bytes, fault_seq, route, auth, too_large,
    )
    .await;
    guard.done = true;
    let status = answer.response.status().as_u16();
    let finish = |outcome: &'static str| {
        let ended = state.started.elapsed().as_secs_f64();
        state.log.lock().update(seq, |e| {
            e.status = (outcome != "dropped").then_some(status);
            e.outcome = outcome;
            e.injected = answer.injected;
            e.duration = Some(ended - e.time);
        });
    };
    match answer.fault {
        Some(Fault::Drop) => {
            finish("dropped");
            Err(Dropped)
        }
        Some(Fault::Truncate) => {
            finish("truncated");
            Ok(truncate(answer.response).await)
        }
        _ => {
            finish("completed");
            Ok(answer.response)
        }
    }
}

/// The response with its true `Content-Length` but only half its body, then the connection cut.
async fn truncate(response: Response<Body>) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    let full = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let half = full.slice(..full.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
    // Half the body, a pause so it leaves the socket, then the connection is cut mid-body.
    let chunks = futures_util::stream::unfold(Some(half), |state| async move {
        match state {
            Some(half) => Some((Ok(half), None)),
            None => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((Err(std::io::Error::other("body truncated by fault injection")), None))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    state: &Arc<State>,
    settings: &Settings,
    router: Router,
    parts: Parts,
    bytes: Bytes,
    seq: u64,
    route: Route,
    auth: Auth,
    too_large: bool,
) -> Answer {
    let ct = settings.content_type.as_str();
    let template = match route {
        Route::Unknown => {
            let e: ApiError = ErrorItem::new(
                404,
                "not_found",
                "Not found",
                format!(
                    "There is no route {} {}; see /openapi.json for the routes.",
                    parts.method,
                    parts.uri.path()
                ),
            )
            .into();
            return reply::error(&e, ct).into();
        }
        Route::WrongMethod(methods) => {
            let e: ApiError = ErrorItem::new(
                405,
                "method_not_allowed",
                "Method not allowed",
                format!(
                    "{} takes {}, not {}.",
                    parts.uri.path(),
                    methods.join(", "),
                    parts.method
                ),
            )
            .into();
            let mut r = reply::error(&e, ct);
            r.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_str(&methods.join(", ")).expect("ascii"),
            );
            return r.into();
        }
        Route::Known(t) => t,
    };
    let call = |parts: Parts, bytes: Bytes| async move {
        let req = Request::from_parts(parts, Body::from(bytes));
        match router.oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        }
    };
    if template == "/openapi.json" {
        return call(parts, bytes).await.into();
    }
    if too_large {
        let e: ApiError = ErrorItem::new(
            413,
            "payload_too_large",
            "Payload too large",
            format!(
                "The request body is over {} bytes; send fewer leads per request.",
                settings.max_body_bytes
            ),
        )
        .into();
        return reply::error(&e, ct).into();
    }
    if auth != Auth::Accepted {
        let e: ApiError = ErrorItem::new(401, "unauthorized", "Unauthorized", auth.detail())
            .header("Authorization")
            .into();
        return reply::error(&e, ct).into();
    }
    if let Err(wait) = state.limits.read().check(SEARCH_ROUTES.contains(&template)) {
        let secs = settings
            .rate_limit_retry_after
            .unwrap_or_else(|| retry_after_secs(wait));
        return Answer {
            response: reply::error(&ApiError::for_status(429).retry_after(secs), ct),
            fault: None,
            injected: Some("rate_limit"),
        };
    }
    let method = if parts.method == Method::HEAD {
        "GET"
    } else {
        parts.method.as_str()
    };
    let step = state.scripts.lock().next(
        &format!("{method} {}", parts.uri.path()),
        &format!("{method} {template}"),
    );
    if let Some(step) = step {
        return scripted(step, settings, call(parts, bytes)).await;
    }
    let delay = settings.latency + settings.latency_jitter * chance(state.seed, seq, 5);
    if delay > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
    }
    if chance(state.seed, seq, 1) < settings.drop_rate {
        return Answer {
            response: Response::new(Body::empty()),
            fault: Some(Fault::Drop),
            injected: Some("fault"),
        };
    }
    if chance(state.seed, seq, 3) < settings.fault_rate {
        let pick = (chance(state.seed, seq, 4) * settings.fault_statuses.len() as f64) as usize;
        let status = settings.fault_statuses[pick.min(settings.fault_statuses.len() - 1)];
        let mut e = ApiError::for_status(status);
        if status == 503 {
            e = e.retry_after(1);
        }
        return Answer {
            response: reply::error(&e, ct),
            fault: None,
            injected: Some("fault"),
        };
    }
    let response = call(parts, bytes).await;
    if chance(state.seed, seq, 2) < settings.truncate_rate {
        return Answer {
            response,
            fault: Some(Fault::Truncate),
            injected: Some("fault"),
        };
    }
    response.into()
}

async fn scripted(step: Step, settings: &Settings, real: impl std::future::Future<Output = Response<Body>>) -> Answer {
    if let Some(d) = step.delay {
        tokio::time::sleep(Duration::from_secs_f64(d)).await;
    }
    let ct = settings.content_type.as_str();
    let status = |default: u16| StatusCode::from_u16(step.status.unwrap_or(default)).unwrap_or(StatusCode::OK);
    let raw = |status: StatusCode, body: Vec<u8>, content_type: &str| {
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/json")),
        );
        r
    };
    let mut response = match (step.fault, &step.body) {
        (Some(Fault::Drop), _) => Response::new(Body::empty()),
        (Some(Fault::Html), _) => raw(
            status(502),
            b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
            "text/html",
        ),
        (Some(Fault::Malformed), _) => raw(
            status(200),
            br#"{"id": "84d31ab0", "object": "person", "name": "#.to_vec(),
            ct,
        ),
        (_, Some(serde_json::Value::String(text))) => raw(status(200), text.clone().into_bytes(), ct),
        (_, Some(value)) => raw(status(200), serde_json::to_vec(value).expect("JSON"), ct),
        (_, None) if step.status.is_none_or(|s| s == 200) => real.await,
        (_, None) => {
            let code = step.status.unwrap_or(500);
            let mut e = ApiError::for_status(code);
            if matches!(code, 408 | 429 | 503) {
                e = e.retry_after(step.retry_after.unwrap_or(1));
            }
            reply::error(&e, ct)
        }
    };
    for (k, v) in &step.headers {
        if let (Ok(k), Ok(v)) = (header::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            response.headers_mut().insert(k, v);
        }
    }
    Answer {
        response,
        fault: step.fault.filter(|f| matches!(f, Fault::Drop | Fault::Truncate)),
        injected: Some("script"),
    }
}

/// Accepts connections until `shutdown` flips.
pub async fn serve(listener: TcpListener, state: Arc<State>, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let (state, router) = (state.clone(), router.clone());
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(state.clone(), router.clone(), req));
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
}

pub fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener.local_addr().expect("a bound listener has an address")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> Parts {
        hyper::Request::builder()
            .header(header::AUTHORIZATION, value)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn only_the_exact_key_is_authorized() {
        let key = "amp_sandbox_key_1234";
        assert_eq!(authorized(&with(&format!("Bearer {key}")), key), Auth::Accepted);
        for wrong in [
            "amp_sandbox_key_1235",
            "amp_sandbox_key_123",
            "amp_sandbox_key_12345",
            "",
            "x",
        ] {
            assert_eq!(
                authorized(&with(&format!("Bearer {wrong}")), key),
                Auth::Rejected,
                "{wrong:?}"
            );
        }
        assert_eq!(
            authorized(&with(key), key),
            Auth::NotBearer,
            "the Bearer scheme is required"
        );
        let none = hyper::Request::builder().body(()).unwrap().into_parts().0;
        assert_eq!(authorized(&none, key), Auth::Missing);
        let details = [Auth::Missing, Auth::NotBearer, Auth::Rejected].map(Auth::detail);
        assert!(details[0].contains("No API key was sent") && details[2].contains("rejected"));
    }
}
