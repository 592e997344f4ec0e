//! The guards that protect the whole service, in one place: the HTTP server with its header
//! timeout, the body deadline, security headers, CORS, the JSON shape of every error however
//! early, and panics turned into INTERNAL answers.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::{AppError, ErrorCodes, code_for_status, error_body};
use crate::http::limits::{self, RateLimits};
use crate::metrics::{self, Metrics};

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(30);

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight requests finish (for at most 30 s). HTTP/1.1 only. A client that has not sent a
/// request's headers within `header_timeout` is disconnected, so slow clients cannot hold
/// connections open.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors, say: wait a moment rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                // The peer's address, for the per-address rate limit (`limits`).
                let service = TowerToHyperService::new(tower::ServiceExt::map_request(
                    app.clone(),
                    move |mut req: axum::http::Request<hyper::body::Incoming>| {
                        req.extensions_mut()
                            .insert(axum::extract::ConnectInfo(peer));
                        req
                    },
                ));
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {DRAIN:?}; stopping anyway");
    }
}

/// The guards every request passes inside CORS, as one layer: each layer on a route costs, per
/// request, a clone of every layer below it and a boxed future (measured with bench/load).
#[derive(Clone)]
pub struct Guards {
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
}

/// In order: the count and latency of every answer (`metrics`), the per-address limit
/// (`limits`), the body deadline, and the JSON shape of every error answer however early.
pub async fn guards(State(guards): State<Guards>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let (method, uri) = (req.method().clone(), req.uri().clone());
    let res = match limits::refused_address(&guards.limits, &req) {
        Some(refused) => refused,
        None => body_deadline(guards.body_timeout, req, next).await,
    };
    let res = json_errors(&method, uri.path(), res);
    metrics::count(&guards.metrics, route.as_ref(), &res, started);
    res
}

/// Gives the request body a deadline: a client that has not sent the whole body within the
/// limit is answered 408 (TIMEOUT) and disconnected, however slowly it trickles.
async fn body_deadline(limit: Duration, req: Request, next: Next) -> Response {
    let flag = Arc::new(AtomicBool::new(false));
    let timed_out = flag.clone();
    let deadline = tokio::time::Instant::now() + limit;
    let (parts, body) = req.into_parts();
    let stream = futures_util::stream::unfold(
        (body.into_data_stream(), false),
        move |(mut stream, done)| {
            let timed_out = timed_out.clone();
            async move {
                if done {
                    return None;
                }
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(chunk)) => Some((chunk, (stream, false))),
                    Ok(None) => None,
                    Err(_) => {
                        timed_out.store(true, Ordering::SeqCst);
                        Some((
                            Err(axum::Error::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "the request body did not arrive in time",
                            ))),
                            (stream, true),
                        ))
                    }
                }
            }
        },
    );
    let req = Request::from_parts(parts, Body::from_stream(stream));
    let res = next.run(req).await;
    if flag.load(Ordering::SeqCst) {
        let mut res = AppError::Timeout(format!(
            "the request body did not arrive within {} s",
            limit.as_secs()
        ))
        .into_response();
        *res.status_mut() = StatusCode::REQUEST_TIMEOUT;
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    res
}

/// The policy GraphiQL's page runs under: its scripts and styles come from csphub itself, it
/// talks only to csphub, and no other site may frame it.
pub const GRAPHIQL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";
/// The policy of every other answer (JSON, CSV): nothing may run or load from it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The usual security headers, set on every response (by `app`'s outermost layer).
pub fn security_headers(res: &mut Response) {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    // A page that sets a stricter policy of its own (the printable reports) keeps it.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(if html { GRAPHIQL_CSP } else { API_CSP }),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// CORS: closed (no `Access-Control-Allow-*` at all) unless origins are configured; then those
/// origins, and only them, may call the API from a browser with a bearer token.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([header::HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    )
}

/// A CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an
/// origin not in `CSPHUB_CORS_ORIGINS` is refused with 403 and a message that says how to allow
/// it, rather than a bare 405 (no CORS configured) or a 200 without the headers a browser needs;
/// either way the browser refuses, but a developer reading the network tab learns why. Allowed
/// origins pass to the CORS layer, which answers their preflight.
pub async fn refuse_preflight(
    State(origins): State<Arc<[String]>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && let Some(origin) = req.headers().get(header::ORIGIN)
    {
        let origin = origin.to_str().unwrap_or_default();
        if !origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            let message = if origins.is_empty() {
                format!(
                    "no origin may call csphub from a browser on this service, {origin} included: \
                     list it in CSPHUB_CORS_ORIGINS (comma-separated, such as \
                     https://app.example.org)"
                )
            } else {
                format!(
                    "the origin {origin} may not call csphub from a browser: list it in \
                     CSPHUB_CORS_ORIGINS (comma-separated, such as https://app.example.org)"
                )
            };
            return AppError::Forbidden(message).into_response();
        }
    }
    next.run(req).await
}

/// Any error answer that is not already JSON (the router's 404 and 405, a body limit's 413, a
/// timeout) becomes `{"error":{"code","message"}}` with its status, so that no answer, however
/// early it is made, lacks a code.
fn json_errors(method: &Method, path: &str, res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/") && v.contains("json"));
    if is_json {
        return res;
    }
    let code = code_for_status(status);
    let message = match status {
        StatusCode::NOT_FOUND => format!("there is nothing at {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than this endpoint accepts".to_owned()
        }
        StatusCode::REQUEST_TIMEOUT => "the request did not arrive in time".to_owned(),
        StatusCode::UNAUTHORIZED => "a bearer token is required".to_owned(),
        StatusCode::FORBIDDEN => "forbidden".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE => {
            "the service is unavailable; try again shortly".to_owned()
        }
        s if s.is_server_error() => "internal error".to_owned(),
        s => s.canonical_reason().unwrap_or("bad request").to_owned(),
    };
    let (mut parts, _) = res.into_parts();
    parts.extensions.insert(ErrorCodes(vec![code]));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // GraphQL clients read `errors`; everyone else the REST shape.
    let body = error_body(code, &message, path == "/graphql").to_string();
    Response::from_parts(parts, Body::from(body))
}

/// A panic in a handler is answered INTERNAL (and logged) instead of a dropped connection.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    AppError::internal(anyhow::anyhow!("a handler panicked: {detail}")).into_response()
}

/// The router's answer for a path it does not know.
pub async fn not_found() -> Response {
    AppError::NotFound("there is nothing at this path; the API is POST /graphql".to_owned())
        .into_response()
}

/// The outermost layer. Gives every request an id: in the response header `x-request-id`, in
/// the log lines, and in INTERNAL errors; and sets the security headers on every answer.
pub async fn request_id(req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    // One line per request ("served"): the path (never the query string, which may carry
    // filters), the GraphQL operation's name, the token's subject and agency once verified, the
    // status and the duration. Never the token, a variable or a body.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
        operation = tracing::field::Empty,
        sub = tracing::field::Empty,
        agency = tracing::field::Empty,
    );
    let fut = async move {
        let started = std::time::Instant::now();
        let res = next.run(req).await;
        tracing::info!(
            status = res.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "served"
        );
        res
    };
    let mut res = crate::error::REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(fut, span))
        .await;
    security_headers(&mut res);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}
