//! OIDC third-party login initiation (the first leg of every LTI 1.3 launch): checks the
//! registration and the target, binds a single-use state to the browser with a cookie, and
//! sends the browser to the platform's authorisation endpoint.

use axum::extract::{Query, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coursepack_pipeline::tool::route;
use serde::Deserialize;

use super::store::LoginState;
use super::{Refusal, SharedApp};

/// A login state (and its cookie) lives this long: the platform answers within seconds.
pub const STATE_TTL_SECS: i64 = 600;

/// The OIDC third-party login initiation request.
#[derive(Debug, Deserialize, Default)]
pub struct LoginParams {
    pub iss: Option<String>,
    pub login_hint: Option<String>,
    pub target_link_uri: Option<String>,
    pub lti_message_hint: Option<String>,
    pub client_id: Option<String>,
    pub lti_deployment_id: Option<String>,
    pub lti_storage_target: Option<String>,
}

pub async fn login_get(State(app): State<SharedApp>, Query(p): Query<LoginParams>) -> Response {
    start_login(app, p).await
}

/// Handles a login initiation: the redirect to the platform, or a refusal page.
pub async fn start_login(app: SharedApp, p: LoginParams) -> Response {
    match login(app.clone(), p).await {
        Ok(r) => r,
        Err(refusal) => refusal.page(&app.site.interface),
    }
}

pub async fn login_post(State(app): State<SharedApp>, RawForm(body): RawForm) -> Response {
    let p: LoginParams = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => {
            return Refusal::bad("The login request is not a valid form.")
                .page(&app.site.interface);
        }
    };
    start_login(app, p).await
}

/// Name of the cookie that binds `state` to this browser. One cookie per state, so two
/// launches running at once in one browser (two iframes) don't overwrite each other.
/// (`state` may come from anyone at launch time: only cookie-name characters are kept.)
pub fn state_cookie_name(state: &str) -> String {
    let tail: String = state
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(16)
        .collect();
    format!("cp_lti_state_{tail}")
}

/// Name of the partitioned (CHIPS) twin of the state cookie.
fn partitioned_cookie_name(state: &str) -> String {
    state_cookie_name(state).replacen("cp_lti_state_", "cp_lti_pstate_", 1)
}

/// Names of the cookies that may carry `state` back: the plain one and its partitioned twin.
pub fn state_cookie_names(state: &str) -> [String; 2] {
    [state_cookie_name(state), partitioned_cookie_name(state)]
}

/// The `Set-Cookie` values binding `state` to the browser until the launch comes back.
pub fn state_cookies(cfg: &super::Config, state: &str) -> Vec<String> {
    set_state_cookies(cfg, state, state, STATE_TTL_SECS)
}

/// The `Set-Cookie` values that remove the cookies of `state` once its launch is done.
pub fn clear_state_cookies(cfg: &super::Config, state: &str) -> Vec<String> {
    set_state_cookies(cfg, state, "", 0)
}

fn set_state_cookies(cfg: &super::Config, state: &str, value: &str, max_age: i64) -> Vec<String> {
    // Scoped to the redirect URI's path (which includes any prefix of the public URL).
    let path = url::Url::parse(&cfg.redirect_uri())
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| route::REDIRECT.into());
    let cookie = |name: String, attrs: &str| {
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; {attrs}")
    };
    if !cfg.secure_cookies() {
        // Plain http: no SameSite=None (browsers want Secure for it); new-window launches only.
        return vec![cookie(state_cookie_name(state), "SameSite=Lax")];
    }
    // The platform posts the id_token back cross-site, often inside an iframe: SameSite=None.
    // A browser that blocks third-party cookies drops that one in the LMS's frame, but keeps
    // the Partitioned (CHIPS) twin, which is only ever sent under the same top-level site:
    // the LMS page that started the login. Browsers without CHIPS ignore the attribute.
    vec![
        cookie(state_cookie_name(state), "SameSite=None; Secure"),
        cookie(
            partitioned_cookie_name(state),
            "SameSite=None; Secure; Partitioned",
        ),
    ]
}

fn required(v: Option<String>, name: &str) -> Result<String, Refusal> {
    v.filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::bad(format!("The login request has no {name}.")))
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
    if let Some(dep) = p.lti_deployment_id.as_deref().filter(|d| !d.is_empty())
        && !platform.deployment_ids.iter().any(|d| d == dep)
    {
        return Err(Refusal::forbidden(format!(
            "Deployment {dep} is not registered for this platform."
        )));
    }
    if !app.cfg.public_url.is_own(&target) {
        return Err(Refusal::bad(
            "The target_link_uri does not point to this tool.",
        ));
    }

    // Platform storage (LTI client-side postMessages) stands in for the cookie in browsers
    // that block third-party cookies. The frame name ends up in a script, so it is kept plain.
    let storage_target = p.lti_storage_target.filter(|t| {
        !t.is_empty()
            && t.len() <= 64
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    let nonce = super::random_token();
    let login = LoginState {
        nonce: nonce.clone(),
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        target_link_uri: target,
        storage_target: storage_target.clone(),
        login_hint: Some(login_hint.clone()),
        message_hint: p.lti_message_hint.clone().filter(|h| !h.is_empty()),
        deployment_id: p.lti_deployment_id.clone().filter(|d| !d.is_empty()),
        expires_ms: super::now_ms() + STATE_TTL_SECS * 1000,
    };
    let state = app.states.issue(&login);
    let storage_secret = storage_target
        .as_ref()
        .map(|_| app.states.storage_secret(&login));

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
    tracing::debug!(issuer = %platform.issuer, client_id = %platform.client_id, "login initiated");
    let mut headers = HeaderMap::new();
    for cookie in state_cookies(&app.cfg, &state) {
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(|e| Refusal::internal(e.into()))?,
        );
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let (Some(target), Some(secret)) = (storage_target, storage_secret) {
        // The cookie is still set (it is used where the browser keeps it); the page also puts
        // a secret in the platform's storage, then goes on to the platform.
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        let page = storage_page(
            &app.site.interface,
            "tool.signing_in",
            &serde_json::json!({
                "subject": "lti.put_data",
                "target": target,
                "origin": origin_of(&platform.auth_url),
                "key": storage_key(&state),
                "value": secret,
                "next": auth.as_str(),
            }),
            "",
        );
        return Ok((StatusCode::OK, headers, page).into_response());
    }
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(auth.as_str()).map_err(|e| Refusal::internal(e.into()))?,
    );
    Ok((StatusCode::FOUND, headers).into_response())
}

/// The platform-storage key under which a state's secret is kept.
pub fn storage_key(state: &str) -> String {
    format!("cp_state_{state}")
}

/// `scheme://host[:port]` of a URL: the target origin of messages to the platform's frames.
pub fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// A page that talks to the platform's storage frame (LTI client-side postMessages):
/// `lti.put_data` then go to `next`, or `lti.get_data` then submit the form `cp-form` with
/// the value in its `storage_secret` field. It gives up after two seconds and carries on, so
/// the tool, not the page, decides what happens without the value.
pub fn storage_page(
    cat: &coursepack_pipeline::locale::Catalogue,
    title_key: &str,
    conf: &serde_json::Value,
    form: &str,
) -> String {
    let conf = coursepack_pipeline::contract::script_safe_json(conf);
    let title = cat.get(title_key, None, &[]);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"{dir}><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><p>{title}…</p>{form}\
         <script type=\"application/json\" id=\"cp-storage\">{conf}</script>\
         <script>{STORAGE_JS}</script></body></html>\n",
        title = super::escape_html(&title),
        lang = super::escape_html(&cat.language),
        dir = if cat.rtl { " dir=\"rtl\"" } else { "" },
    )
}

const STORAGE_JS: &str = r#"(function () {
  var c = JSON.parse(document.getElementById('cp-storage').textContent);
  var id = 'cp-' + Math.random().toString(36).slice(2);
  var finished = false;
  function finish(value) {
    if (finished) return;
    finished = true;
    if (c.next) { window.location.replace(c.next); return; }
    var f = document.getElementById('cp-form');
    if (typeof value === 'string') f.elements.storage_secret.value = value;
    f.submit();
  }
  window.addEventListener('message', function (e) {
    var d = e.data || {};
    if (e.origin !== c.origin || d.message_id !== id || d.subject !== c.subject + '.response') return;
    finish(d.error ? null : d.value);
  });
  try {
    var w = c.target === '_parent' ? window.parent : window.parent.frames[c.target];
    var msg = { subject: c.subject, message_id: id, key: c.key };
    if (c.value) msg.value = c.value;
    w.postMessage(msg, c.origin);
  } catch (err) { finish(null); }
  setTimeout(function () { finish(null); }, 2000);
})();"#;

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
    use coursepack_pipeline::tool::ToolUrl;

    fn config(public_url: &str) -> crate::Config {
        crate::Config::for_tests(public_url)
    }

    #[test]
    fn state_cookies_are_cross_site_and_partitioned_only_when_secure() {
        let c = state_cookies(
            &config("https://t.example/cp"),
            "abcdefghijklmnopqrstuvwxyz",
        );
        assert_eq!(
            c,
            [
                "cp_lti_state_abcdefghijklmnop=abcdefghijklmnopqrstuvwxyz; Path=/cp/lti/launch; \
                 Max-Age=600; HttpOnly; SameSite=None; Secure",
                "cp_lti_pstate_abcdefghijklmnop=abcdefghijklmnopqrstuvwxyz; Path=/cp/lti/launch; \
                 Max-Age=600; HttpOnly; SameSite=None; Secure; Partitioned"
            ]
        );
        // Browsers treat localhost as a secure context: Secure cookies work over http there.
        let c = state_cookies(&config("http://localhost:8080"), "abc");
        assert_eq!(c.len(), 2, "{c:?}");
        let c = state_cookies(&config("http://127.0.0.1:8080"), "abc");
        assert_eq!(
            c,
            ["cp_lti_state_abc=abc; Path=/lti/launch; Max-Age=600; HttpOnly; SameSite=Lax"]
        );
        let c = clear_state_cookies(&config("https://t.example"), "abc");
        assert!(
            c.iter()
                .all(|c| c.contains("=; ") && c.contains("Max-Age=0")),
            "{c:?}"
        );
        assert_eq!(
            state_cookie_names("abc"),
            ["cp_lti_state_abc", "cp_lti_pstate_abc"]
        );
    }

    fn is_own_url(public_url: &str, uri: &str) -> bool {
        ToolUrl::parse(public_url).unwrap().is_own(uri)
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
