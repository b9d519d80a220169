//! The course's files under `/l/{handle}/...`, served within a launch: every HTML page gets
//! the `cp-lti` island (the progress endpoint, the launch's token and, for a session, the
//! learner's saved state), which switches the page runtime to saving through the tool.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use coursepack_pipeline::tool::route;
use serde_json::{Value, json};

use super::site::SiteFile;
use super::{Refusal, SharedApp};

/// GET /l/{handle}/{*path}: a course file, within a launch.
pub async fn page(
    State(app): State<SharedApp>,
    Path((handle, path)): Path<(String, String)>,
    req: Request,
) -> Response {
    match serve_page(&app, &handle, &path, req).await {
        Ok(r) => r,
        Err(r) => r.page(&app.site.interface),
    }
}

async fn serve_page(
    app: &SharedApp,
    handle: &str,
    path: &str,
    req: Request,
) -> Result<Response, Refusal> {
    let launch = app
        .store
        .launch_by_handle(handle, super::now_ms())
        .await?
        .ok_or_else(|| {
            Refusal::to_learner(
                axum::http::StatusCode::FORBIDDEN,
                "tool.launch_expired",
                "This launch has expired. Open the activity again from your course.",
            )
        })?;
    let file = app.site.get(path).ok_or_else(|| {
        Refusal::not_found(format!("No file {path} in this course."))
            .telling("tool.no_file", Vec::new())
    })?;
    let content_type = super::site::content_type(path);
    let mut resp = match file {
        SiteFile::Bytes(bytes) if path.ends_with(".html") => {
            let session = path
                .strip_suffix(".html")
                .filter(|s| app.site.session(s).is_some());
            let mut island = json!({
                "endpoint": app.cfg.url(route::PROGRESS),
                "token": launch.token,
            });
            // Resume: the learner's saved state for this session, if any.
            if let Some(s) = session
                && let Some(state) = app.store.progress_state(&launch, s).await?
            {
                island["state"] = serde_json::from_str(&state).unwrap_or(Value::Null);
            }
            let html = super::site::inject_lti(bytes, &island);
            let mut r = Response::new(Body::from(html));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        SiteFile::Bytes(bytes) => {
            let mut r = Response::new(Body::from(Bytes::copy_from_slice(bytes)));
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            );
            r
        }
        SiteFile::Disk(p) => {
            // Large media: streamed with range support so video seeking works.
            let r = tower_http::services::ServeFile::new(p)
                .try_call(req)
                .await
                .map_err(|e| Refusal::internal(e.into()))?;
            return Ok(r.map(Body::new).into_response());
        }
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The page URL carries the launch handle: never leak it to linked sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
