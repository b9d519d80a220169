//! LTI Dynamic Registration: the platform opens `/lti/register` with its OpenID configuration
//! URL and a registration token; the tool registers itself and stores the result.

use anyhow::{Context as _, Result, anyhow, bail};
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::platforms::Platform;
use super::{Config, Refusal, SharedApp, claim, escape_html};

#[derive(Deserialize)]
pub struct RegisterParams {
    openid_configuration: Option<String>,
    registration_token: Option<String>,
}

/// GET /lti/register: confirm first, so a prefetch or a reload never registers twice.
pub async fn start(State(app): State<SharedApp>, Query(p): Query<RegisterParams>) -> Response {
    let Some(config_url) = p
        .openid_configuration
        .filter(|u| url::Url::parse(u).is_ok())
    else {
        return Refusal::bad("The registration request has no valid openid_configuration URL.")
            .into_response();
    };
    let title = format!("Register {}", app.site.title);
    let body = format!(
        "<p>Register this course tool ({tool}) with the platform at {platform}?</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"openid_configuration\" value=\"{cfg}\">\
         <input type=\"hidden\" name=\"registration_token\" value=\"{tok}\">\
         <button type=\"submit\">Register</button></form>",
        tool = escape_html(&app.cfg.public_url),
        platform = escape_html(
            url::Url::parse(&config_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .as_deref()
                .unwrap_or("")
        ),
        cfg = escape_html(&config_url),
        tok = escape_html(p.registration_token.as_deref().unwrap_or("")),
    );
    let html = super::page(&title, &body);
    super::html_response(StatusCode::OK, &html)
}

/// POST /lti/register: registers and answers with the page that tells the platform to close.
pub async fn finish(State(app): State<SharedApp>, RawForm(body): RawForm) -> Response {
    let p: RegisterParams = match serde_urlencoded::from_bytes(&body) {
        Ok(p) => p,
        Err(_) => return Refusal::bad("Not a valid registration form.").into_response(),
    };
    let Some(config_url) = p.openid_configuration.filter(|u| !u.is_empty()) else {
        return Refusal::bad("The registration has no openid_configuration URL.").into_response();
    };
    match register(&app, &config_url, p.registration_token.as_deref()).await {
        Ok(platform) => {
            tracing::info!(issuer = %platform.issuer, client_id = %platform.client_id, "dynamically registered");
            let body = format!(
                "<p>{title} is registered with {iss} (client id {cid}). You can close this window.</p>\
                 <script>(window.opener || window.parent).postMessage({{subject:'org.imsglobal.lti.close'}}, '*');</script>",
                title = escape_html(&app.site.title),
                iss = escape_html(&platform.issuer),
                cid = escape_html(&platform.client_id),
            );
            let html = super::page("Registered", &body);
            super::html_response(StatusCode::OK, &html)
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "dynamic registration failed");
            Refusal {
                status: StatusCode::BAD_GATEWAY,
                detail: format!("Registration failed: {e:#}"),
            }
            .into_response()
        }
    }
}

/// The `domain` Moodle checks: host, plus the port when it is not the scheme's default.
pub fn tool_domain(public_url: &str) -> String {
    let Ok(u) = url::Url::parse(public_url) else {
        return String::new();
    };
    let host = u.host_str().unwrap_or_default();
    match u.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The client registration this tool asks for (OpenID Connect Dynamic Client Registration
/// with the LTI tool configuration extension).
pub fn client_metadata(cfg: &Config, course_title: &str, scopes: &[&str]) -> Value {
    json!({
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": cfg.url("/lti/login"),
        "redirect_uris": [cfg.redirect_uri()],
        "client_name": course_title,
        "jwks_uri": cfg.url("/.well-known/jwks.json"),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": scopes.join(" "),
        claim::TOOL_CONFIGURATION: {
            "domain": tool_domain(&cfg.public_url),
            "target_link_uri": cfg.url("/launch"),
            "description": format!("{course_title} (coursepack)"),
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": [
                { "type": "LtiResourceLinkRequest", "target_link_uri": cfg.url("/launch") },
                { "type": "LtiDeepLinkingRequest", "target_link_uri": cfg.url("/launch"),
                  "label": format!("Add {course_title}"),
                  "placements": ["ContentArea"] }
            ],
        },
    })
}

async fn register(app: &SharedApp, config_url: &str, token: Option<&str>) -> Result<Platform> {
    let allowed = &app.cfg.registration_hosts;
    let config_host = url::Url::parse(config_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if !allowed.is_empty() && !allowed.iter().any(|h| h.eq_ignore_ascii_case(&config_host)) {
        bail!(
            "this tool accepts registrations only from {}",
            allowed.join(", ")
        );
    }
    let config: Value = app
        .http
        .get(config_url)
        .send()
        .await
        .context("fetching the platform's OpenID configuration")?
        .error_for_status()
        .context("fetching the platform's OpenID configuration")?
        .json()
        .await
        .context("parsing the platform's OpenID configuration")?;
    let field = |name: &str| -> Result<String> {
        config[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("the OpenID configuration has no {name}"))
    };
    let issuer = field("issuer")?;
    // The configuration must come from the issuer's own host, or anyone could register a
    // look-alike issuer.
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    };
    if host(&issuer).is_none() || host(&issuer) != host(config_url) {
        bail!("the issuer {issuer} is not on the host of the configuration URL");
    }
    let registration_endpoint = field("registration_endpoint")?;
    let supported: Vec<&str> = config["scopes_supported"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scopes: Vec<&str> = [super::SCOPE_SCORE, super::SCOPE_LINEITEM_READONLY]
        .into_iter()
        .filter(|s| supported.is_empty() || supported.contains(s))
        .collect();
    let metadata = client_metadata(&app.cfg, &app.site.title, &scopes);
    let mut req = app.http.post(&registration_endpoint).json(&metadata);
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.context("posting the registration")?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the platform answered {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    let answer: Value = serde_json::from_str(&text).context("parsing the registration answer")?;
    let client_id = answer["client_id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("the registration answer has no client_id"))?
        .to_string();
    let deployment_ids = answer[claim::TOOL_CONFIGURATION]["deployment_id"]
        .as_str()
        .map(|d| vec![d.to_string()])
        .unwrap_or_default();
    let platform = Platform {
        issuer,
        client_id,
        auth_url: field("authorization_endpoint")?,
        token_url: field("token_endpoint")?,
        jwks_url: field("jwks_uri")?,
        token_audience: config["authorization_server"].as_str().map(str::to_string),
        deployment_ids,
        name: config[claim::PLATFORM_CONFIGURATION]["product_family_code"]
            .as_str()
            .map(str::to_string),
    };
    app.store.put_platform(&platform).await?;
    Ok(platform)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_has_the_port_only_when_explicit() {
        assert_eq!(tool_domain("https://tool.example"), "tool.example");
        assert_eq!(tool_domain("http://127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(
            tool_domain("https://tool.example:8443/x"),
            "tool.example:8443"
        );
    }
}
