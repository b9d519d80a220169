//! LTI 1.3 tool: serves a course to learning platforms (OIDC launch, AGS scores, deep linking,
//! dynamic registration) over HTTP. `coursepack serve` (src/cmd/serve.rs in the workspace root)
//! is the entry point.

pub mod ags;
pub mod deep_link;
pub mod id_token;
pub mod jwt;
pub mod keys;
pub mod launch;
pub mod oidc;
pub mod outbox;
pub mod pages;
pub mod platforms;
pub mod progress;
pub mod registration;
pub mod server;
pub mod site;
pub mod state;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use coursepack_pipeline::tool::ToolUrl;
use rand::RngCore as _;

/// Logs to stderr, filtered by `RUST_LOG` (default: info, and warnings from the database).
pub fn init_logging() {
    use tracing_subscriber::{
        filter::Targets, layer::SubscriberExt as _, util::SubscriberInitExt as _,
    };
    // `Targets` reads RUST_LOG's `target=level,level` directives without
    // EnvFilter's regex engine. Empty directives are skipped, as EnvFilter
    // does (an empty RUST_LOG logs nothing); an unset or invalid one gives
    // the default.
    let filter = match std::env::var("RUST_LOG") {
        Ok(var) => {
            let directives: Vec<&str> = var.split(',').filter(|d| !d.is_empty()).collect();
            if directives.is_empty() {
                Some(Targets::new())
            } else {
                directives.join(",").parse().ok()
            }
        }
        Err(_) => None,
    };
    let filter = filter.unwrap_or_else(|| {
        "info,sqlx=warn"
            .parse()
            .expect("the default log filter parses")
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .try_init();
}

/// Claim names of the messages the tool writes (the deep-linking response) and of the
/// registration documents; an id_token's claims are read as [`id_token::IdToken`].
pub mod claim {
    pub const MESSAGE_TYPE: &str = "https://purl.imsglobal.org/spec/lti/claim/message_type";
    pub const VERSION: &str = "https://purl.imsglobal.org/spec/lti/claim/version";
    pub const DEPLOYMENT_ID: &str = "https://purl.imsglobal.org/spec/lti/claim/deployment_id";
    pub const DL_CONTENT_ITEMS: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items";
    pub const DL_DATA: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/data";
    pub const TOOL_CONFIGURATION: &str = "https://purl.imsglobal.org/spec/lti-tool-configuration";
    pub const PLATFORM_CONFIGURATION: &str =
        "https://purl.imsglobal.org/spec/lti-platform-configuration";
}

pub use coursepack_pipeline::tool::{SCOPE_LINEITEM, SCOPE_SCORE, SCOPES};

/// Creates the data folder owner-only (0700): it holds the signing keys and, with SQLite, launch
/// tokens and learners' work. An existing folder open to others is reported, not changed (it
/// may be shared on purpose); the files the tool writes in it are owner-only anyway.
pub fn create_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %dir.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the data folder is readable by other users; chmod 700 it"
                );
            }
        }
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Everything `coursepack serve` was told on its command line.
#[derive(Debug, Clone)]
pub struct Config {
    pub course_dir: PathBuf,
    pub listen: std::net::SocketAddr,
    /// The public address, e.g. `https://tool.example.com`; every route hangs off it.
    pub public_url: ToolUrl,
    pub data_dir: PathBuf,
    pub database: Option<String>,
    pub platforms_file: Option<PathBuf>,
    pub key_grace: Duration,
    /// Hosts allowed to register dynamically; empty means any.
    pub registration_hosts: Vec<String>,
    pub tuning: Tuning,
}

#[cfg(test)]
impl Config {
    /// A configuration for unit tests: only the public URL matters.
    pub fn for_tests(public_url: &str) -> Config {
        Config {
            course_dir: "course".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: ToolUrl::parse(public_url).expect("a test's public URL"),
            data_dir: "lti-data".into(),
            database: None,
            platforms_file: None,
            key_grace: std::time::Duration::ZERO,
            registration_hosts: Vec::new(),
            tuning: Tuning::from_env(),
        }
    }
}

impl Config {
    /// Absolute public URL of a tool path (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        self.public_url.join(path)
    }

    /// Cookies can only be `SameSite=None` (needed inside an LMS iframe) and `Partitioned`
    /// when they are `Secure`: over https, or on `localhost`, which browsers treat as a secure
    /// context (a development set-up).
    pub fn secure_cookies(&self) -> bool {
        let host = self.public_url.host();
        self.public_url.is_https() || host == "localhost" || host.ends_with(".localhost")
    }

    pub fn redirect_uri(&self) -> String {
        self.public_url.redirect()
    }
}

/// Timings that tests shorten through environment variables; defaults suit production.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// First retry delay of the score outbox; doubles on every failure.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long one instance owns an outbox row while delivering it.
    pub lease: Duration,
    /// How often the outbox is polled when nothing wakes it.
    pub poll: Duration,
    /// Lifetime of a launch (the page link and its completion token).
    pub launch_ttl: Duration,
}

impl Tuning {
    pub fn from_env() -> Self {
        fn ms(name: &str, default: u64) -> Duration {
            Duration::from_millis(
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(default),
            )
        }
        Tuning {
            retry_base: ms("COURSEPACK_LTI_RETRY_BASE_MS", 2_000),
            retry_max: ms("COURSEPACK_LTI_RETRY_MAX_MS", 3_600_000),
            lease: ms("COURSEPACK_LTI_LEASE_MS", 60_000),
            poll: ms("COURSEPACK_LTI_POLL_MS", 1_000),
            launch_ttl: ms("COURSEPACK_LTI_LAUNCH_TTL_MS", 8 * 3_600_000),
        }
    }
}

/// Shared state of the running tool.
pub struct App {
    pub cfg: Config,
    pub store: store::Store,
    pub keys: keys::KeyStore,
    pub platforms: platforms::Platforms,
    pub jwks: jwt::JwksCache,
    pub http: reqwest::Client,
    pub site: site::ServedCourse,
    pub tokens: ags::TokenCache,
    /// Issues and opens the OIDC login states.
    pub states: state::LoginStates,
    /// Wakes the outbox worker as soon as a completion is queued.
    pub outbox_wake: tokio::sync::Notify,
    /// Distinguishes this process's outbox leases from other instances'.
    pub instance_id: String,
    /// Progress from before it was kept per course offering may exist: launches offer it to
    /// their offering (`Store::adopt_progress`).
    pub unadopted_progress: std::sync::atomic::AtomicBool,
}

pub type SharedApp = Arc<App>;

/// A refused request: a 4xx status and an HTML page saying why. Details never carry secrets.
///
/// Two readers: whoever set the tool up reads `detail` (English, precise: which check of the
/// id_token failed), in the log and on the page; a learner reads the served course's
/// catalogue. [`Refusal::page`] writes the learner's page (routes a learner's browser comes
/// to: login, launch, course pages); [`IntoResponse`] the setup page (registration).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub detail: String,
    /// What a learner is told: a `tool.*` key of the interface catalogue and its parameters.
    /// Without one, the catalogue's general refusal (or error) text.
    pub learner: Option<(&'static str, Vec<(&'static str, String)>)>,
    /// Whether the page also shows `detail` (as a secondary line, in English). Not when the
    /// learner's text says it all.
    pub show_detail: bool,
}

impl Refusal {
    pub fn with_status(status: StatusCode, detail: impl Into<String>) -> Self {
        Refusal {
            status,
            detail: detail.into(),
            learner: None,
            show_detail: true,
        }
    }
    pub fn bad(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::UNAUTHORIZED, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::with_status(StatusCode::NOT_FOUND, detail)
    }
    /// A server-side failure; the cause is logged, the page stays generic.
    pub fn internal(err: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{err:#}"), "internal error");
        Refusal {
            show_detail: false,
            ..Self::with_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The tool hit an internal error. Try again; if it persists, tell the site administrator.",
            )
        }
    }
    /// A refusal a learner is told about in the course's language by the catalogue's `key`
    /// alone; `detail` (the English words of the same thing) goes to the log and setup pages.
    pub fn to_learner(status: StatusCode, key: &'static str, detail: impl Into<String>) -> Self {
        Refusal {
            learner: Some((key, Vec::new())),
            show_detail: false,
            ..Self::with_status(status, detail)
        }
    }
    /// Tells the learner the catalogue's `key` (with `params`) instead of the general text;
    /// the detail stays on the page's secondary line.
    pub fn telling(mut self, key: &'static str, params: Vec<(&'static str, String)>) -> Self {
        self.learner = Some((key, params));
        self
    }

    /// The page a learner sees, in the catalogue's language (`lang`, `dir`): its title and
    /// text from the catalogue, and the English detail for whoever helps them on a line of
    /// its own.
    pub fn page(mut self, cat: &coursepack_pipeline::locale::Catalogue) -> Response {
        self.log();
        let server = self.status.is_server_error();
        let title = cat.get(
            if server {
                "tool.error_title"
            } else {
                "tool.refused_title"
            },
            None,
            &[],
        );
        let (key, params) = self.learner.take().unwrap_or_else(|| {
            let key = if server { "tool.error" } else { "tool.refused" };
            (key, Vec::new())
        });
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut body = format!("<p>{}</p>", escape_html(&cat.get(key, None, &params)));
        if self.show_detail && !self.detail.is_empty() {
            body.push_str(&format!(
                "<p class=\"cp-detail\"><small>{label} <span lang=\"en\">{detail}</span></small></p>",
                label = escape_html(&cat.get("tool.detail", None, &[])),
                detail = escape_html(&self.detail),
            ));
        }
        html_response(self.status, &page_in(cat, &title, &body))
    }

    fn log(&self) {
        if self.status.is_client_error() {
            tracing::warn!(status = self.status.as_u16(), reason = %self.detail, "request refused");
        }
    }
}

impl From<anyhow::Error> for Refusal {
    fn from(err: anyhow::Error) -> Self {
        Refusal::internal(err)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.log();
        let title = if self.status.is_server_error() {
            "Something went wrong"
        } else {
            "This launch cannot be accepted"
        };
        html_response(self.status, &message_page(title, &self.detail))
    }
}

/// A small self-contained HTML page (no external assets: it must render inside any LMS) with
/// `title` as its heading; `body_html` is inserted as is. In English: for whoever sets the
/// tool up or adds content (registration, deep linking).
pub fn page(title: &str, body_html: &str) -> String {
    page_with("en", false, title, body_html)
}

/// [`page`] for learners: in the course's language (`lang`, and `dir="rtl"` when it is
/// written right to left).
pub fn page_in(
    cat: &coursepack_pipeline::locale::Catalogue,
    title: &str,
    body_html: &str,
) -> String {
    page_with(&cat.language, cat.rtl, title, body_html)
}

fn page_with(lang: &str, rtl: bool, title: &str, body_html: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"{dir}><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head><body style=\"font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem\">\
         <h1>{t}</h1>{body_html}</body></html>\n",
        lang = escape_html(lang),
        dir = if rtl { " dir=\"rtl\"" } else { "" },
        t = escape_html(title),
    )
}

/// A page saying one thing, as text.
pub fn message_page(title: &str, body: &str) -> String {
    page(title, &format!("<p>{}</p>", escape_html(body)))
}

pub fn html_response(status: StatusCode, html: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html.to_string(),
    )
        .into_response()
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A fresh unguessable value (256 bits) for states, nonces, handles and tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}

#[cfg(test)]
mod learner_page_tests {
    use coursepack_pipeline::locale;

    #[test]
    fn a_learner_page_is_in_the_course_language() {
        let cy = locale::load("cy-GB", None).unwrap().catalogue.unwrap();
        let title = cy.get("tool.new_window_title", None, &[]);
        let html = super::page_in(&cy, &title, "<p>x</p>");
        assert!(html.contains("<html lang=\"cy-GB\">"), "{html}");
        assert!(html.contains("<h1>Agor y gweithgaredd hwn mewn ffenestr newydd</h1>"));
        let en = super::page_in(&locale::Catalogue::english(), "T", "");
        assert!(en.contains("<html lang=\"en\">"));
    }
}
