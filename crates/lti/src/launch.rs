//! The launch: the platform's form post of the id_token to the OIDC redirect URI. It is
//! verified, the session it opens decided, and a launch handle minted for the course pages
//! ([`super::pages`]) and a token for the progress the page runtime saves
//! ([`super::progress`]).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use coursepack_pipeline::tool::route;
use serde::Deserialize;
use serde_json::json;

use super::id_token::IdToken;
use super::store::Launch;
use super::{Refusal, SharedApp};

pub const RESOURCE_LINK_REQUEST: &str = "LtiResourceLinkRequest";
pub const DEEP_LINKING_REQUEST: &str = "LtiDeepLinkingRequest";

#[derive(Debug, Deserialize)]
pub struct LaunchForm {
    id_token: Option<String>,
    state: Option<String>,
    /// Read back from the platform's storage by the page [`storage_check`] serves.
    storage_secret: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// POST /lti/launch (the registered redirect_uri).
pub async fn launch_post(
    State(app): State<SharedApp>,
    headers: HeaderMap,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> Response {
    let form: LaunchForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(_) => {
            return Refusal::bad("The launch is not a valid form post.").page(&app.site.interface);
        }
    };
    let state = form.state.clone().filter(|s| !s.is_empty());
    match accept(&app, &headers, form).await {
        Ok(mut resp) => {
            // The login's cookie has served its purpose once the launch is accepted.
            if let (true, Some(state)) = (resp.status().is_redirection(), state) {
                for clear in super::oidc::clear_state_cookies(&app.cfg, &state) {
                    if let Ok(v) = HeaderValue::from_str(&clear) {
                        resp.headers_mut().append(header::SET_COOKIE, v);
                    }
                }
            }
            resp
        }
        Err(refusal) => refusal.page(&app.site.interface),
    }
}

async fn accept(
    app: &SharedApp,
    headers: &HeaderMap,
    form: LaunchForm,
) -> Result<Response, Refusal> {
    if let Some(err) = form.error {
        return Err(Refusal::bad(format!(
            "The platform refused the login: {err}{}",
            form.error_description
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    let state = form
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::bad("The launch has no state."))?;
    let now = super::now_ms();
    let id_token = form
        .id_token
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::bad("The launch has no id_token."))?;
    // The state must have been issued to this very browser: its cookie, or else (browsers
    // that block third-party cookies) the secret the login put in the platform's storage.
    // Either cookie will do: the partitioned one is what a browser blocking third-party
    // cookies keeps inside the LMS's frame.
    let has_cookie = super::oidc::state_cookie_names(&state)
        .iter()
        .any(|name| super::oidc::cookie(headers, name).as_deref() == Some(state.as_str()));
    if !has_cookie && form.storage_secret.is_none() {
        let login = app.states.open(&state, now);
        if let Some(login) = &login
            && let Some(target) = &login.storage_target
        {
            return storage_check(app, login, target, &state, &id_token).await;
        }
        if login.is_some_and(|l| l.login_hint.is_some()) {
            return Ok(open_in_new_window(app, &state));
        }
        return Err(Refusal::forbidden(
            "This launch was not started in this browser (state cookie missing). \
             If your browser blocks third-party cookies, open the activity in a new window.",
        )
        .telling("tool.not_this_browser", Vec::new()));
    }
    // Issued by this tool, unaltered and unexpired; single use comes from the nonce, which the
    // launch row (or, for deep linking, lti_nonce) records.
    let login = app
        .states
        .open(&state, now)
        .ok_or_else(|| Refusal::forbidden("The launch state is unknown, used or expired."))?;
    if !has_cookie {
        let expected = login
            .storage_target
            .as_ref()
            .map(|_| digest(&app.states.storage_secret(&login)));
        if expected.is_none() || expected != form.storage_secret.as_deref().map(digest) {
            return Err(Refusal::forbidden(
                "This launch was not started in this browser (platform storage does not hold its state).",
            )
            .telling("tool.not_this_browser", Vec::new()));
        }
    }
    let platform = app
        .platforms
        .find(&app.store, &login.issuer, Some(&login.client_id))
        .await?;
    let claims = super::jwt::verify_id_token(&app.jwks, &app.http, &platform, &id_token).await?;

    if claims.nonce.as_deref() != Some(login.nonce.as_str()) {
        return Err(Refusal::unauthorized(
            "The id_token's nonce is not the one this login sent.",
        ));
    }
    let exp_ms = claims.exp.unwrap_or(0) * 1000;
    let nonce_expires_ms = exp_ms.max(now) + super::jwt::LEEWAY_SECS as i64 * 1000;
    let nonce_used = || Refusal::unauthorized("The id_token's nonce was already used.");
    let deployment = claims
        .deployment_id
        .as_deref()
        .ok_or_else(|| Refusal::bad("The id_token has no deployment_id."))?;
    if !platform.deployment_ids.iter().any(|d| d == deployment) {
        return Err(Refusal::forbidden(format!(
            "Deployment {deployment} is not registered for this platform."
        )));
    }
    if claims.version.as_deref() != Some("1.3.0") {
        return Err(Refusal::bad("The id_token is not an LTI 1.3.0 message."));
    }
    let message_type = claims
        .message_type
        .as_deref()
        .ok_or_else(|| Refusal::bad("The id_token has no message_type."))?;
    if message_type != RESOURCE_LINK_REQUEST && message_type != DEEP_LINKING_REQUEST {
        return Err(Refusal::bad(format!(
            "This tool does not handle {message_type} messages."
        )));
    }
    let Some(roles) = &claims.roles else {
        return Err(Refusal::bad("The id_token has no roles claim."));
    };
    if claims.target_link_uri.as_deref() != Some(login.target_link_uri.as_str()) {
        return Err(Refusal::bad(
            "The id_token's target_link_uri is not the one the login asked for.",
        ));
    }
    let sub = claims.sub.clone().unwrap_or_default();

    if message_type == DEEP_LINKING_REQUEST {
        if !app.store.use_nonce(&login.nonce, nonce_expires_ms).await? {
            return Err(nonce_used());
        }
        if !may_deep_link(roles) {
            tracing::warn!(issuer = %platform.issuer, "deep linking refused: no instructor role");
            return Err(Refusal::forbidden(
                "Adding course content is for teachers: your role in this course \
                 (as the platform sent it) is not Instructor, Content Developer or \
                 Administrator. Ask a teacher of the course to add it.",
            )
            .telling("tool.teachers_only", Vec::new()));
        }
        return super::deep_link::accept_request(app, &platform, deployment, &claims).await;
    }

    let resource_link_id = claims
        .resource_link
        .as_ref()
        .and_then(|r| r.id.as_deref())
        .ok_or_else(|| Refusal::bad("The id_token has no resource_link id."))?;
    let session = launched_session(app, &claims)?;
    let ags = claims.ags_endpoint.as_ref();
    let valid_url = |u: &Option<String>| u.clone().filter(|u| url::Url::parse(u).is_ok());
    let can_score = claims.ags_granted(super::SCOPE_SCORE);
    let lineitem = ags
        .and_then(|a| valid_url(&a.lineitem))
        .filter(|_| can_score);
    // A link without a grade column (imported from a cartridge, or added by hand): the tool
    // finds or creates its own line item, when the platform lets it.
    let lineitems = ags
        .and_then(|a| valid_url(&a.lineitems))
        .filter(|_| lineitem.is_none() && can_score && claims.ags_granted(super::SCOPE_LINEITEM));
    if ags.is_some() && lineitem.is_none() && lineitems.is_none() {
        tracing::info!(
            score = can_score,
            lineitem = claims.ags_granted(super::SCOPE_LINEITEM),
            "launch not graded: the platform gives no line item and no way to create one"
        );
    }
    let context_id = claims
        .context
        .as_ref()
        .and_then(|c| c.id.clone())
        .unwrap_or_default();

    let launch = Launch {
        handle: super::random_token(),
        token: super::random_token(),
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        deployment_id: deployment.to_string(),
        sub,
        session: session.clone(),
        resource_link_id: resource_link_id.to_string(),
        lineitem,
        lineitems,
        context_id: Some(context_id),
        // At least as long as the nonce must be remembered (the row is its record).
        expires_ms: (now + app.cfg.tuning.launch_ttl.as_millis() as i64).max(nonce_expires_ms),
    };
    // The launch row records the nonce as used (a unique column): one write for both. The
    // launch outlives the id_token, so a replay within its lifetime finds it.
    if !app.store.create_launch(&launch, &login.nonce).await? {
        return Err(nonce_used());
    }
    if app
        .unadopted_progress
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        let n = app.store.adopt_progress(&launch).await?;
        if n > 0 {
            tracing::info!(
                rows = n,
                "progress from before the upgrade now belongs to this course offering"
            );
        }
    }
    tracing::info!(
        issuer = %launch.issuer,
        deployment = %launch.deployment_id,
        session = session.as_deref().unwrap_or("(course)"),
        graded = launch.lineitem.is_some() || launch.lineitems.is_some(),
        "launch accepted"
    );
    let page = session.map_or("index.html".to_string(), |s| format!("{s}.html"));
    // 303 turns the form post into a GET, so reloading the page doesn't re-post the id_token.
    Ok(Redirect::to(
        &app.cfg
            .url(&format!("{}/{}/{page}", route::PAGES, launch.handle)),
    )
    .into_response())
}

/// Whether the roles claim holds a role that may add content (deep linking): Instructor,
/// ContentDeveloper or Administrator in the course, any of their sub-roles (LTI 1.3 roles
/// vocabulary, A.2.3), their deprecated simple names, or an institution or system
/// administrator.
pub fn may_deep_link(roles: &[String]) -> bool {
    const CONTEXT: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership";
    const ALLOWED: [&str; 3] = ["Instructor", "ContentDeveloper", "Administrator"];
    const ADMINS: [&str; 3] = [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin",
    ];
    roles.iter().map(String::as_str).any(|role| {
        if ALLOWED.contains(&role) || ADMINS.contains(&role) {
            return true;
        }
        if let Some(name) = role.strip_prefix(CONTEXT).and_then(|r| r.strip_prefix('#')) {
            return ALLOWED.contains(&name);
        }
        // Sub-roles: `membership/Instructor#TeachingAssistant` and the like.
        role.strip_prefix(CONTEXT)
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.split_once('#'))
            .is_some_and(|(principal, sub)| ALLOWED.contains(&principal) && !sub.is_empty())
    })
}

/// The state cookie is missing (a browser that keeps no cookie of the tool inside the LMS's
/// frame): instead of a dead end, a page that starts a fresh login in a new window, where
/// the tool is a first party. Nothing is consumed; the login state just expires.
fn open_in_new_window(app: &SharedApp, state: &str) -> Response {
    let href = app.cfg.url(&format!("{}/{state}", route::RELAUNCH));
    let t = |key: &str| super::escape_html(&app.site.interface.get(key, None, &[]));
    let body = format!(
        "<p>{blocked}</p>\
         <p><a id=\"cp-new-window\" href=\"{href}\" target=\"_blank\" rel=\"noopener\" \
         style=\"display:inline-block;padding:.6rem 1.2rem;background:#2b5797;color:#fff;\
         border-radius:4px;text-decoration:none\">{open}</a></p>\
         <p>{signed_in}</p>",
        blocked = t("tool.new_window_blocked"),
        open = t("tool.new_window_open"),
        signed_in = t("tool.new_window_signed_in"),
        href = super::escape_html(&href),
    );
    let title = app.site.interface.get("tool.new_window_title", None, &[]);
    super::html_response(
        StatusCode::FORBIDDEN,
        &super::page_in(&app.site.interface, &title, &body),
    )
}

/// GET /lti/relaunch/{state}: a fresh OIDC login with what the platform's login request
/// said, in the new window the page above opened. Harmless to repeat: it is what any
/// login initiation from the platform does.
pub async fn relaunch(State(app): State<SharedApp>, Path(state): Path<String>) -> Response {
    let login = match app.states.open(&state, super::now_ms()) {
        Some(l) if l.login_hint.is_some() => l,
        _ => {
            return Refusal::to_learner(
                StatusCode::FORBIDDEN,
                "tool.launch_expired",
                "This link has expired. Open the activity again from your course.",
            )
            .page(&app.site.interface);
        }
    };
    super::oidc::start_login(
        app,
        super::oidc::LoginParams {
            iss: Some(login.issuer),
            login_hint: login.login_hint,
            target_link_uri: Some(login.target_link_uri),
            lti_message_hint: login.message_hint,
            client_id: Some(login.client_id),
            lti_deployment_id: login.deployment_id,
            lti_storage_target: None,
        },
    )
    .await
}

/// SHA-256, so secrets are compared as digests rather than byte by byte.
fn digest(s: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(s.as_bytes()).into()
}

/// Without the state cookie, a page reads the login's secret back from the platform's storage
/// and posts the launch again with it. Nothing is consumed until that second post.
async fn storage_check(
    app: &SharedApp,
    login: &super::store::LoginState,
    target: &str,
    state: &str,
    id_token: &str,
) -> Result<Response, Refusal> {
    let platform = app
        .platforms
        .find(&app.store, &login.issuer, Some(&login.client_id))
        .await?;
    let form = format!(
        "<form id=\"cp-form\" method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"id_token\" value=\"{id_token}\">\
         <input type=\"hidden\" name=\"state\" value=\"{state}\">\
         <input type=\"hidden\" name=\"storage_secret\" value=\"\"></form>",
        action = super::escape_html(&app.cfg.redirect_uri()),
        id_token = super::escape_html(id_token),
        state = super::escape_html(state),
    );
    let page = super::oidc::storage_page(
        &app.site.interface,
        "tool.opening",
        &json!({
            "subject": "lti.get_data",
            "target": target,
            "origin": super::oidc::origin_of(&platform.auth_url),
            "key": super::oidc::storage_key(state),
        }),
        &form,
    );
    Ok(super::html_response(StatusCode::OK, &page))
}

/// The session a resource link opens: from the target link (`/launch/<id>` or
/// `?session=<id>`), else the custom parameter `session`; none means the whole course.
fn launched_session(app: &SharedApp, claims: &IdToken) -> Result<Option<String>, Refusal> {
    let target = claims.target_link_uri.as_deref().unwrap_or_default();
    let from_target = app.cfg.public_url.launched_session(target);
    let custom = claims.custom.as_ref().and_then(|c| c.session.clone());
    match from_target.or(custom).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) if app.site.session(&id).is_some() => Ok(Some(id)),
        Some(id) => Err(Refusal::not_found(format!(
            "This course has no session {id:?}; the link in the platform may be out of date."
        ))
        .telling("tool.no_session", Vec::new())),
    }
}

/// GET /launch and /launch/{session} outside a launch: explain instead of a bare 405.
pub async fn launch_get(State(app): State<SharedApp>) -> Response {
    let cat = &app.site.interface;
    let body = format!(
        "<p>{}</p>",
        super::escape_html(&cat.get("tool.open_from_course", None, &[]))
    );
    super::html_response(
        StatusCode::BAD_REQUEST,
        &super::page_in(
            cat,
            &cat.get("tool.open_from_course_title", None, &[]),
            &body,
        ),
    )
}
