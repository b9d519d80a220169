//! HTTP wiring: routes, body size limit, `/health`, the JWKS, the outbox worker and graceful
//! shutdown on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use coursepack_pipeline::tool::route;
use tokio::sync::watch;

use super::{
    App, Config, SharedApp, deep_link, keys, launch, oidc, outbox, pages, platforms, progress,
    registration, site, store,
};

/// Form posts carry one id_token (a few kB); progress posts carry a session's state.
const BODY_LIMIT: usize = 256 * 1024;

/// Builds the shared state around a loaded course and the platforms file: store and keys.
pub async fn build_app(
    cfg: Config,
    site: site::ServedCourse,
    platforms: platforms::Platforms,
) -> Result<SharedApp> {
    super::create_data_dir(&cfg.data_dir)?;
    let keys = keys::KeyStore::open(&cfg.data_dir, cfg.key_grace)?;
    let store = store::Store::open(cfg.database.as_deref(), &cfg.data_dir).await?;
    let unadopted = store.has_unadopted_progress().await?;
    let states = super::state::LoginStates::new(store.secret("login-state").await?.as_bytes());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("coursepack/", env!("CARGO_PKG_VERSION")))
        .build()?;
    tracing::info!(
        sessions = site.sessions().len(),
        platforms_in_file = platforms.count_from_file(),
        backend = ?store.backend(),
        kid = %keys.signing_kid(),
        "tool ready"
    );
    Ok(Arc::new(App {
        cfg,
        store,
        keys,
        platforms,
        jwks: Default::default(),
        http,
        site,
        tokens: Default::default(),
        states,
        outbox_wake: tokio::sync::Notify::new(),
        instance_id: super::random_token(),
        unadopted_progress: unadopted.into(),
    }))
}

pub fn router(app: SharedApp) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/health", get(health))
        .route(route::ICON, get(icon))
        .route(route::JWKS, get(jwks))
        .route(route::LOGIN, get(oidc::login_get).post(oidc::login_post))
        .route(
            route::REDIRECT,
            post(launch::launch_post).get(launch::launch_get),
        )
        .route(route::LAUNCH, get(launch::launch_get))
        .route(
            &format!("{}/{{session}}", route::LAUNCH),
            get(launch::launch_get),
        )
        .route(
            &format!("{}/{{handle}}/{{*path}}", route::PAGES),
            get(pages::page),
        )
        .route(
            &format!("{}/{{state}}", route::RELAUNCH),
            get(launch::relaunch),
        )
        .route(route::PROGRESS, post(progress::progress))
        .route(
            &format!("{}/{{handle}}", route::DEEP_LINK),
            get(deep_link::picker).post(deep_link::submit),
        )
        .route(
            route::REGISTER,
            get(registration::start).post(registration::finish),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

/// What an administrator sees opening the tool's address: how to register it.
async fn home(State(app): State<SharedApp>) -> Response {
    let row = |k: &str, v: &str| {
        format!(
            "<tr><th scope=\"row\">{}</th><td><code>{}</code></td></tr>",
            super::escape_html(k),
            super::escape_html(v)
        )
    };
    let c = &app.cfg;
    let body = format!(
        "<p>This is an LTI 1.3 tool. Add it to your learning platform with these values, or \
         paste the dynamic registration URL into the platform.</p><table>{}{}{}{}{}</table>",
        row("Dynamic registration URL", &c.public_url.register()),
        row("Login initiation URL", &c.public_url.login()),
        row("Redirect URI", &c.redirect_uri()),
        row("Target link URI", &c.public_url.course_launch()),
        row("Public keyset (JWKS) URL", &c.public_url.jwks()),
    );
    super::html_response(StatusCode::OK, &super::page(&app.site.title, &body))
}

/// The icon that Common Cartridge LTI links (`<tool-url>/icon.svg`) point platforms to.
async fn icon() -> Response {
    const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\" width=\"32\" height=\"32\">\
        <rect x=\"4\" y=\"5\" width=\"24\" height=\"22\" rx=\"3\" fill=\"#2b5797\"/>\
        <path d=\"M9 11h14M9 16h14M9 21h9\" stroke=\"#fff\" stroke-width=\"2\" stroke-linecap=\"round\"/></svg>\n";
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        SVG,
    )
        .into_response()
}

async fn health(State(app): State<SharedApp>) -> Response {
    match app.store.outbox_counts().await {
        Ok((pending, delivered, dead)) => axum::Json(serde_json::json!({
            "status": "ok",
            "outbox": { "pending": pending, "delivered": delivered, "dead": dead },
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database unavailable" })),
            )
                .into_response()
        }
    }
}

async fn jwks(State(app): State<SharedApp>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        app.keys.jwks().to_string(),
    )
        .into_response()
}

/// Serves the course until the process is told to stop (Ctrl-C, SIGTERM).
pub fn run(cfg: Config, site: site::ServedCourse, platforms: platforms::Platforms) -> Result<()> {
    if !cfg.public_url.is_https() {
        tracing::warn!(
            "--public-url is http: browsers will not send the login cookie from inside an LMS iframe; use https in production"
        );
    }
    if cfg.registration_hosts.is_empty() {
        tracing::warn!(
            "no --registration-hosts: anyone with the registration URL ({}) can register a platform with this tool",
            cfg.public_url.register()
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let app = build_app(cfg, site, platforms).await?;
        serve(app).await
    })
}

/// Serves until SIGINT or SIGTERM, then lets requests in flight and the outbox worker's
/// current delivery finish.
pub async fn serve(app: SharedApp) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(app.cfg.listen)
        .await
        .with_context(|| format!("listening on {}", app.cfg.listen))?;
    tracing::info!(listen = %app.cfg.listen, public_url = %app.cfg.public_url, "serving");
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(outbox::run(app.clone(), stop_rx));
    axum::serve(listener, router(app))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        })
        .await
        .context("serving")?;
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use axum::body::Body;
    use axum::http::Request;
    use serde_json::Value;
    use tower::ServiceExt as _;

    use super::*;
    use crate::site::{ServedCourse, SiteFile};

    /// The tool over a one-page course, its keys and SQLite store in a fresh folder (kept as
    /// long as the returned guard).
    async fn tool() -> (SharedApp, tempfile::TempDir) {
        tool_with(b"<title>Router test</title>").await
    }

    /// [`tool`] over a course whose one page is `index`.
    async fn tool_with(index: &[u8]) -> (SharedApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::for_tests("https://tool.example");
        cfg.data_dir = dir.path().join("data");
        let mut files = BTreeMap::new();
        files.insert(
            "index.html".to_string(),
            SiteFile::Bytes(index.to_vec().into()),
        );
        let site = ServedCourse::from_files(files).unwrap();
        let platforms = platforms::Platforms::load(None).unwrap();
        (build_app(cfg, site, platforms).await.unwrap(), dir)
    }

    /// The status and body of the router's answer to `req`.
    async fn send(app: &SharedApp, req: Request<Body>) -> (StatusCode, String) {
        let resp = router(app.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Asserts the router answers `req` with `status` and a body that says `says`.
    async fn answers(app: &SharedApp, req: Request<Body>, status: StatusCode, says: &str) {
        let uri = req.uri().to_string();
        let (got, body) = send(app, req).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body.contains(says), "{uri}: {body}");
    }

    fn get(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn form(uri: &str, body: impl Into<Body>) -> Request<Body> {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.into())
            .unwrap()
    }

    fn progress(auth: Option<&str>, body: impl Into<Body>) -> Request<Body> {
        let mut req = Request::post("/lti/api/progress");
        if let Some(auth) = auth {
            req = req.header(header::AUTHORIZATION, auth);
        }
        req.body(body.into()).unwrap()
    }

    #[tokio::test]
    async fn health_counts_the_outbox() {
        let (app, _dir) = tool().await;
        let (status, body) = send(&app, get("/health")).await;
        assert_eq!(status, StatusCode::OK);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "ok");
        assert_eq!(
            v["outbox"],
            serde_json::json!({"pending": 0, "delivered": 0, "dead": 0})
        );
    }

    #[tokio::test]
    async fn the_key_set_publishes_the_signing_key() {
        let (app, _dir) = tool().await;
        let (status, body) = send(&app, get("/.well-known/jwks.json")).await;
        assert_eq!(status, StatusCode::OK);
        let v: Value = serde_json::from_str(&body).unwrap();
        let keys = v["keys"].as_array().expect("a key set");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["kid"], app.keys.signing_kid());
        assert_eq!(keys[0]["kty"], "RSA");
        assert_eq!(keys[0]["alg"], "RS256");
    }

    #[tokio::test]
    async fn a_launch_link_opened_directly_explains_itself() {
        let (app, _dir) = tool().await;
        for uri in ["/launch", "/launch/s1", "/lti/launch"] {
            let explained = "Open this from your course";
            answers(&app, get(uri), StatusCode::BAD_REQUEST, explained).await;
        }
    }

    #[tokio::test]
    async fn a_launch_without_state_or_id_token_is_refused() {
        let (app, _dir) = tool().await;
        let bad = StatusCode::BAD_REQUEST;
        let no_token = form("/lti/launch", "state=abc");
        answers(&app, no_token, bad, "The launch has no id_token.").await;
        let no_state = form("/lti/launch", "id_token=x.y.z");
        answers(&app, no_state, bad, "The launch has no state.").await;
        // A state this tool never issued, in a browser without its cookie.
        let unknown = form("/lti/launch", "state=abc&id_token=x.y.z");
        answers(
            &app,
            unknown,
            StatusCode::FORBIDDEN,
            "not started in this browser",
        )
        .await;
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let (app, _dir) = tool().await;
        let big = format!("state=abc&id_token={}", "x".repeat(BODY_LIMIT));
        let (status, _) = send(&app, form("/lti/launch", big.clone())).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, _) = send(&app, progress(Some("Bearer t"), big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn unknown_paths_are_not_found() {
        let (app, _dir) = tool().await;
        for uri in ["/nothing", "/lti", "/l/handle"] {
            let (status, _) = send(&app, get(uri)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        }
    }

    #[tokio::test]
    async fn a_login_without_iss_is_refused() {
        let (app, _dir) = tool().await;
        let no_iss = "The login request has no iss.";
        let bad = StatusCode::BAD_REQUEST;
        answers(&app, get("/lti/login?login_hint=u"), bad, no_iss).await;
        answers(&app, form("/lti/login", "login_hint=u"), bad, no_iss).await;
    }

    #[tokio::test]
    async fn pages_and_progress_need_a_live_launch() {
        let (app, _dir) = tool().await;
        let page = get("/l/unknown/index.html");
        answers(
            &app,
            page,
            StatusCode::FORBIDDEN,
            "This launch has expired.",
        )
        .await;
        let save = r#"{"session":"s1"}"#;
        let (status, body) = send(&app, progress(None, save)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["saved"], false);
        assert_eq!(v["error"], "Missing bearer token.");
        let unknown = progress(Some("Bearer nope"), save);
        let expired = "Unknown or expired launch token.";
        answers(&app, unknown, StatusCode::UNAUTHORIZED, expired).await;
    }

    /// A course in Welsh: what the tool tells a learner is the Welsh catalogue's, on a page
    /// in Welsh; the precise reason stays, in English, on a line of its own.
    #[tokio::test]
    async fn refusals_speak_the_course_language() {
        let index = b"<!DOCTYPE html><html lang=\"cy-GB\"><title>Cwrs</title>";
        let (app, _dir) = tool_with(index).await;
        let welsh = "<html lang=\"cy-GB\">";
        let cases = [
            (
                get("/l/unknown/index.html"),
                StatusCode::FORBIDDEN,
                "Mae&#39;r lansiad hwn wedi dod i ben.",
                None,
            ),
            (
                form("/lti/launch", "state=abc"),
                StatusCode::BAD_REQUEST,
                "Ni chafodd cais eich platfform dysgu",
                Some("The launch has no id_token."),
            ),
            (
                form("/lti/launch", "state=abc&id_token=x.y.z"),
                StatusCode::FORBIDDEN,
                "Ni chafodd y gweithgaredd hwn ei agor o&#39;ch cwrs yn y porwr hwn.",
                Some("state cookie missing"),
            ),
            (
                get("/lti/login?login_hint=u"),
                StatusCode::BAD_REQUEST,
                "<h1>Does dim modd agor y gweithgaredd hwn</h1>",
                Some("The login request has no iss."),
            ),
            (
                get("/launch/s1"),
                StatusCode::BAD_REQUEST,
                "<h1>Agorwch hwn o&#39;ch cwrs</h1>",
                None,
            ),
        ];
        for (req, status, says, detail) in cases {
            let uri = req.uri().to_string();
            let (got, body) = send(&app, req).await;
            assert_eq!(got, status, "{uri}: {body}");
            assert!(body.contains(welsh), "{uri}: {body}");
            assert!(body.contains(says), "{uri}: {body}");
            match detail {
                Some(detail) => {
                    let line = "Manylion i&#39;ch gweinyddwr: <span lang=\"en\">";
                    assert!(body.contains(line), "{uri}: {body}");
                    assert!(body.contains(detail), "{uri}: {body}");
                }
                None => assert!(!body.contains("cp-detail"), "{uri}: {body}"),
            }
            let learner = body.split("class=\"cp-detail\"").next().unwrap();
            for english in [
                "This launch",
                "cannot be accepted",
                "Open this from",
                "request",
            ] {
                assert!(!learner.contains(english), "{uri}: {body}");
            }
        }
    }

    #[tokio::test]
    async fn the_home_page_gives_the_registration_values() {
        let (app, _dir) = tool().await;
        let home = "https://tool.example/lti/register";
        answers(&app, get("/"), StatusCode::OK, home).await;
        answers(&app, get("/"), StatusCode::OK, "<h1>Router test</h1>").await;
    }
}
