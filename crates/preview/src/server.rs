//! The preview's HTTP routes, on loopback only:
//!
//! | route | what |
//! |---|---|
//! | `/` | the shell: the simulated LMS, the course in its frame, the panel |
//! | `/__preview/simulator.js`, `/__preview/shell.css` | the shell's assets (in the binary) |
//! | `/__preview/status` | the build and the LTI record, as JSON |
//! | `/__preview/events` | the same, as server-sent events, on every change |
//! | `/__preview/lti/progress` | `--lms lti`: the LTI tool's progress endpoint, simulated |
//! | `/__preview/lti/reset` | forgets the LTI record (the panel's "reset the learner") |
//! | `/course/…` | the course's files, byte for byte as in the packages |
//! | `/lti/…` | the same, with the `cp-lti` island `coursepack serve` adds to each page |
//!
//! Nothing is cached by the browser: every answer says `no-store`, so a reload after a
//! rebuild shows the new files. Requests addressed to any other host name are refused.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use coursepack_pipeline::contract::ProgressPost;
use coursepack_pipeline::contract::{self, island};
use coursepack_pipeline::file_types::content_type;
use futures_util::Stream;
use serde_json::{Value, json};

use crate::site::File;
use crate::watch::Builds;
use crate::{Lms, Profile};

const SIMULATOR_JS: &str = include_str!("../assets/simulator.js");
const SHELL_CSS: &str = include_str!("../assets/shell.css");
const SHELL_HTML: &str = include_str!("../assets/shell.html");

/// The route of the simulated LTI progress endpoint, as the pages' `cp-lti` island names it.
pub const LTI_PROGRESS: &str = "/__preview/lti/progress";
/// The token the simulated launch gives the pages.
const LTI_TOKEN: &str = "preview";
/// Most LTI posts kept for the panel.
const LTI_POSTS_KEPT: usize = 200;

/// What the simulated LTI tool has received.
#[derive(Default)]
struct LtiRecord {
    /// Session id -> its last saved state, completion and score.
    sessions: BTreeMap<String, Value>,
    /// Every post, newest last.
    posts: Vec<Value>,
    next: u64,
}

struct App {
    builds: Arc<Builds>,
    lms: Lms,
    profile: Profile,
    lti: Mutex<LtiRecord>,
}

type Shared = Arc<App>;

/// The router, for `run` and the tests.
pub fn router(builds: Arc<Builds>, lms: Lms, profile: Profile) -> Router {
    let app = Arc::new(App {
        builds,
        lms,
        profile,
        lti: Mutex::new(LtiRecord::default()),
    });
    Router::new()
        .route("/", get(shell))
        .route("/__preview/simulator.js", get(simulator_js))
        .route("/__preview/shell.css", get(shell_css))
        .route("/__preview/status", get(status_json))
        .route("/__preview/events", get(events))
        .route(LTI_PROGRESS, post(lti_progress))
        .route("/__preview/lti/reset", post(lti_reset))
        .route("/course/{*path}", get(course_file))
        .route("/lti/{*path}", get(lti_file))
        .layer(axum::middleware::from_fn(loopback_only))
        .with_state(app)
}

/// Answers only requests addressed to this computer by name (`127.0.0.1`, `localhost`,
/// `[::1]`): a web page whose own name was pointed at 127.0.0.1 (DNS rebinding) cannot read
/// the course or drive the simulator.
async fn loopback_only(req: Request, next: axum::middleware::Next) -> Response {
    let local = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            let name = match h.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => h,
            };
            ["127.0.0.1", "localhost", "[::1]"].contains(&name)
        });
    if local {
        next.run(req).await
    } else {
        (
            StatusCode::MISDIRECTED_REQUEST,
            "coursepack preview answers only http://127.0.0.1 or http://localhost.",
        )
            .into_response()
    }
}

/// Serves until Ctrl-C. `ready` is called with the address once the port is bound.
pub async fn serve(
    listener: tokio::net::TcpListener,
    builds: Arc<Builds>,
    lms: Lms,
    profile: Profile,
) -> anyhow::Result<()> {
    let app = router(builds, lms, profile);
    // Open event streams would hold a graceful shutdown forever: Ctrl-C just stops.
    tokio::select! {
        r = axum::serve(listener, app) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// Binds the loopback address (port 0: any free port).
pub async fn bind(addr: SocketAddr) -> anyhow::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {addr}: {e}{}",
            if e.kind() == std::io::ErrorKind::AddrInUse {
                "; another preview may be running: give another `--port`, or `--port 0` for any free one"
            } else {
                ""
            }
        )
    })?;
    let bound = listener.local_addr()?;
    Ok((listener, bound))
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn shell(State(app): State<Shared>) -> Response {
    let cfg = json!({ "lms": app.lms.name(), "profile": app.profile.name() });
    let html = SHELL_HTML
        .replace("{{lms}}", app.lms.label())
        .replace("{{config}}", &contract::script_safe_json(&cfg));
    no_store(Html(html).into_response())
}

async fn simulator_js() -> Response {
    no_store(
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            SIMULATOR_JS,
        )
            .into_response(),
    )
}

async fn shell_css() -> Response {
    no_store(
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            SHELL_CSS,
        )
            .into_response(),
    )
}

/// The build (its course, SCOs, problems) and the LTI record, for the shell.
fn status(app: &App) -> Value {
    let cur = app.builds.current.read().unwrap_or_else(|p| p.into_inner());
    let course = cur.site.as_ref().map(|s| {
        json!({
            "id": s.course_id,
            "version": s.version,
            "title": s.title,
            "sessions": s.sessions,
            "scos12": s.scos12,
            "scos2004": s.scos2004,
            "warnings": s.warnings,
        })
    });
    let lti = app.lti.lock().unwrap_or_else(|p| p.into_inner());
    json!({
        "build": cur.build,
        "attempt": cur.attempt,
        "problems": cur.failure,
        "warnings": cur.warnings,
        "course": course,
        "lti": { "sessions": lti.sessions, "posts": lti.posts },
    })
}

async fn status_json(State(app): State<Shared>) -> Response {
    no_store(axum::Json(status(&app)).into_response())
}

/// The status on connecting, then again after every change.
async fn events(State(app): State<Shared>) -> Response {
    let rx = app.builds.changed.subscribe();
    let stream = futures_util::stream::unfold((app, rx, true), |(app, mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        rx.borrow_and_update();
        let event = Event::default()
            .event("status")
            .data(status(&app).to_string());
        Some((Ok::<Event, Infallible>(event), (app, rx, false)))
    });
    let sse: Sse<_> = Sse::new(Box::pin(stream) as std::pin::Pin<Box<dyn Stream<Item = _> + Send>>)
        .keep_alive(KeepAlive::default());
    no_store(sse.into_response())
}

/// The file at `path` of the last good build, or 404 (503 before any build succeeded).
fn file(app: &App, path: &str) -> Result<(File, &'static str), (StatusCode, String)> {
    let site = app
        .builds
        .current
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .site
        .clone();
    let Some(site) = site else {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "The course has problems: see the preview page or the terminal.".into(),
        ));
    };
    match site.get(path) {
        Some(f) => Ok((f.clone(), content_type(path))),
        None => Err((
            StatusCode::NOT_FOUND,
            format!("No file {path} in the course's packages."),
        )),
    }
}

async fn send(f: File, content_type: &'static str, req: Request) -> Response {
    match f {
        File::Bytes(b) => no_store(
            (
                [(header::CONTENT_TYPE, content_type)],
                Bytes::copy_from_slice(&b),
            )
                .into_response(),
        ),
        // Media: streamed from the course folder with range requests, so video seeks.
        File::Disk(p) => match tower_http::services::ServeFile::new(p).try_call(req).await {
            Ok(r) => no_store(r.map(Body::new).into_response()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
    }
}

/// GET /course/{path}: a file exactly as the packages carry it.
async fn course_file(
    State(app): State<Shared>,
    UrlPath(path): UrlPath<String>,
    req: Request,
) -> Response {
    match file(&app, &path) {
        Ok((f, ct)) => send(f, ct, req).await,
        Err(r) => no_store(r.into_response()),
    }
}

/// GET /lti/{path}: a file as `coursepack serve` serves it within a launch: each page gets
/// the `cp-lti` island (the progress endpoint, the launch's token and, on a session page,
/// the state the tool holds for it), which makes the runtime save through the tool.
async fn lti_file(
    State(app): State<Shared>,
    UrlPath(path): UrlPath<String>,
    req: Request,
) -> Response {
    let (f, ct) = match file(&app, &path) {
        Ok(x) => x,
        Err(r) => return no_store(r.into_response()),
    };
    match f {
        File::Bytes(b) if path.ends_with(".html") => {
            let session = path.strip_suffix(".html").unwrap_or_default();
            let mut data = json!({ "endpoint": LTI_PROGRESS, "token": LTI_TOKEN });
            if let Some(saved) = app
                .lti
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .sessions
                .get(session)
            {
                data["state"] = saved["state"].clone();
            }
            let html = contract::insert_island(&b, island::LTI, &data);
            no_store(([(header::CONTENT_TYPE, ct)], html).into_response())
        }
        f => send(f, ct, req).await,
    }
}

/// POST /__preview/lti/progress: what the LTI tool's progress endpoint takes
/// (crates/lti/src/progress.rs), kept in memory for the panel. The panel works out the grade
/// the tool would send.
async fn lti_progress(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(LTI_TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "saved": false, "error": "Missing bearer token." })),
        )
            .into_response();
    }
    let post: ProgressPost = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(
                    json!({ "saved": false, "error": format!("Invalid progress JSON: {e}") }),
                ),
            )
                .into_response();
        }
    };
    let known = app
        .builds
        .current
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .site
        .as_ref()
        .is_some_and(|s| s.sessions.iter().any(|x| x.id == post.session));
    if !known {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({ "saved": false, "error": format!("Unknown session {:?}.", post.session) }),
            ),
        )
            .into_response();
    }
    {
        let mut lti = app.lti.lock().unwrap_or_else(|p| p.into_inner());
        lti.next += 1;
        let n = lti.next;
        let was_complete = lti
            .sessions
            .get(&post.session)
            .is_some_and(|s| s["completed"] == true);
        let entry = json!({
            "n": n,
            "session": post.session,
            "state": post.state,
            // Completion never goes back in the tool's store.
            "completed": post.completed || was_complete,
            "score": post.score,
            "bytes": body.len(),
        });
        lti.sessions.insert(post.session.clone(), entry.clone());
        lti.posts.push(entry);
        if lti.posts.len() > LTI_POSTS_KEPT {
            lti.posts.remove(0);
        }
    }
    app.builds.notify();
    no_store(
        axum::Json(json!({ "saved": true, "completed": post.completed, "score": "none" }))
            .into_response(),
    )
}

async fn lti_reset(State(app): State<Shared>) -> Response {
    *app.lti.lock().unwrap_or_else(|p| p.into_inner()) = LtiRecord::default();
    app.builds.notify();
    no_store(axum::Json(json!({ "reset": true })).into_response())
}
