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
    site: site::Site,
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
        .route("/icon.svg", get(icon))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/lti/login", get(oidc::login_get).post(oidc::login_post))
        .route(
            "/lti/launch",
            post(launch::launch_post).get(launch::launch_get),
        )
        .route("/launch", get(launch::launch_get))
        .route("/launch/{session}", get(launch::launch_get))
        .route("/l/{handle}/{*path}", get(pages::page))
        .route("/lti/relaunch/{state}", get(launch::relaunch))
        .route("/lti/api/progress", post(progress::progress))
        .route(
            "/lti/deep-link/{handle}",
            get(deep_link::picker).post(deep_link::submit),
        )
        .route(
            "/lti/register",
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
        row("Dynamic registration URL", &c.url("/lti/register")),
        row("Login initiation URL", &c.url("/lti/login")),
        row("Redirect URI", &c.redirect_uri()),
        row("Target link URI", &c.url("/launch")),
        row("Public keyset (JWKS) URL", &c.url("/.well-known/jwks.json")),
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
pub fn run(cfg: Config, site: site::Site, platforms: platforms::Platforms) -> Result<()> {
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
