//! OIDC third-party login initiation (the first leg of every LTI 1.3 launch): checks the
//! registration and the target, binds a single-use state to the browser with a cookie, and
//! sends the browser to the platform's authorisation endpoint.

use axum::extract::{Query, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::store::LoginState;
use super::{Refusal, SharedApp};

/// A login state (and its cookie) lives this long: the platform answers within seconds.
pub const STATE_TTL_SECS: i64 = 600;

#[derive(Debug, Deserialize, Default)]
pub struct LoginParams {
    iss: Option<String>,
    login_hint: Option<String>,
    target_link_uri: Option<String>,
    lti_message_hint: Option<String>,
    client_id: Option<String>,
    lti_deployment_id: Option<String>,
}

pub async fn login_get(State(app): State<SharedApp>, Query(p): Query<LoginParams>) -> Response {
    login(app, p)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub async fn login_post(State(app): State<SharedApp>, RawForm(body): RawForm) -> Response {
    let p: LoginParams = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => return Refusal::bad("The login request is not a valid form.").into_response(),
    };
    login(app, p)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Name of the cookie that binds `state` to this browser. One cookie per state, so two
/// launches running at once in one browser (two iframes) don't overwrite each other.
pub fn state_cookie_name(state: &str) -> String {
    format!("cp_lti_state_{}", &state[..state.len().min(16)])
}

/// The `Set-Cookie` value binding `state` to the browser until the launch comes back.
pub fn state_cookie(cfg: &super::Config, state: &str) -> String {
    // The platform posts the id_token back cross-site, inside an iframe: the cookie must be
    // SameSite=None, which browsers only honour on Secure cookies (https public URL).
    let attrs = if cfg.secure_cookies() {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    // Scoped to the redirect URI's path (which includes any prefix of the public URL).
    let path = url::Url::parse(&cfg.redirect_uri())
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| "/lti/launch".into());
    format!(
        "{}={state}; Path={path}; Max-Age={STATE_TTL_SECS}; HttpOnly; {attrs}",
        state_cookie_name(state)
    )
}

fn required(v: Option<String>, name: &str) -> Result<String, Refusal> {
    v.filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::bad(format!("The login request has no {name}.")))
}

/// Whether `uri` points into this tool (same origin, path under the public URL's path).
pub fn is_own_url(public_url: &str, uri: &str) -> bool {
    let (Ok(base), Ok(target)) = (url::Url::parse(public_url), url::Url::parse(uri)) else {
        return false;
    };
    let base_path = base.path().trim_end_matches('/');
    base.origin() == target.origin()
        && (target.path() == base_path
            || target.path().starts_with(&format!("{base_path}/"))
            || base_path.is_empty())
}

async fn login(app: SharedApp, p: LoginParams) -> Result<Response, Refusal> {
    let iss = required(p.iss, "iss")?;
    let login_hint = required(p.login_hint, "login_hint")?;
    let target = required(p.target_link_uri, "target_link_uri")?;
    let platform = app
        .platforms
        .find(
            &app.store,
            &iss,
            p.client_id.as_deref().filter(|c| !c.is_empty()),
        )
        .await?;
    if let Some(dep) = p.lti_deployment_id.as_deref().filter(|d| !d.is_empty()) {
        if !platform.deployment_ids.iter().any(|d| d == dep) {
            return Err(Refusal::forbidden(format!(
                "Deployment {dep} is not registered for this platform."
            )));
        }
    }
    if !is_own_url(&app.cfg.public_url, &target) {
        return Err(Refusal::bad(
            "The target_link_uri does not point to this tool.",
        ));
    }

    let state = super::random_token();
    let nonce = super::random_token();
    let now = super::now_ms();
    app.store
        .put_login_state(
            &state,
            &LoginState {
                nonce: nonce.clone(),
                issuer: platform.issuer.clone(),
                client_id: platform.client_id.clone(),
                target_link_uri: target,
                expires_ms: now + STATE_TTL_SECS * 1000,
            },
        )
        .await?;

    let mut auth = url::Url::parse(&platform.auth_url)
        .map_err(|_| Refusal::internal(anyhow::anyhow!("auth_url of {iss} is not a URL")))?;
    {
        let mut q = auth.query_pairs_mut();
        q.append_pair("scope", "openid")
            .append_pair("response_type", "id_token")
            .append_pair("response_mode", "form_post")
            .append_pair("prompt", "none")
            .append_pair("client_id", &platform.client_id)
            .append_pair("redirect_uri", &app.cfg.redirect_uri())
            .append_pair("login_hint", &login_hint)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        if let Some(hint) = p.lti_message_hint.as_deref().filter(|h| !h.is_empty()) {
            q.append_pair("lti_message_hint", hint);
        }
    }
    let cookie = state_cookie(&app.cfg, &state);
    tracing::info!(issuer = %platform.issuer, client_id = %platform.client_id, "login initiated");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(auth.as_str()).map_err(|e| Refusal::internal(e.into()))?,
    );
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| Refusal::internal(e.into()))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::FOUND, headers).into_response())
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(public_url: &str) -> crate::lti::Config {
        crate::lti::Config {
            course_dir: "course".into(),
            listen: "127.0.0.1:0".parse().unwrap(),
            public_url: public_url.into(),
            data_dir: "data".into(),
            database: None,
            platforms_file: None,
            key_grace: std::time::Duration::ZERO,
            tuning: crate::lti::Tuning::from_env(),
        }
    }

    #[test]
    fn state_cookie_is_cross_site_only_over_https() {
        let c = state_cookie(
            &config("https://t.example/cp"),
            "abcdefghijklmnopqrstuvwxyz",
        );
        assert_eq!(
            c,
            "cp_lti_state_abcdefghijklmnop=abcdefghijklmnopqrstuvwxyz; Path=/cp/lti/launch; \
             Max-Age=600; HttpOnly; SameSite=None; Secure"
        );
        let c = state_cookie(&config("http://127.0.0.1:8080"), "abc");
        assert!(
            c.ends_with("Path=/lti/launch; Max-Age=600; HttpOnly; SameSite=Lax"),
            "{c}"
        );
    }

    #[test]
    fn own_urls() {
        assert!(is_own_url(
            "https://t.example",
            "https://t.example/launch/s1"
        ));
        assert!(is_own_url(
            "https://t.example/cp",
            "https://t.example/cp/launch"
        ));
        assert!(!is_own_url(
            "https://t.example/cp",
            "https://t.example/cpx/launch"
        ));
        assert!(!is_own_url(
            "https://t.example",
            "https://t.example.evil/launch"
        ));
        assert!(!is_own_url("https://t.example", "http://t.example/launch"));
        assert!(!is_own_url("https://t.example", "not a url"));
    }
}
