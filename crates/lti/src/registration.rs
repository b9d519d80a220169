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
    if let Err(e) = check_target(&app.cfg, "openid_configuration", &config_url)
        .and_then(|u| check_allowed(&app.cfg, &u))
    {
        return Refusal::forbidden(format!("Registration refused: {e}.")).into_response();
    }
    let title = format!("Register {}", app.site.title);
    let body = format!(
        "<p>Register this course tool ({tool}) with the platform at {platform}?</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"openid_configuration\" value=\"{cfg}\">\
         <input type=\"hidden\" name=\"registration_token\" value=\"{tok}\">\
         <button type=\"submit\">Register</button></form>",
        tool = escape_html(app.cfg.public_url.as_str()),
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
            // Only the outermost message, which this module writes: the causes below it
            // (connection errors, parser messages) would tell the requester about hosts and
            // ports they cannot otherwise reach.
            if e.is::<Policy>() {
                // The tool's own rules refused it: nothing failed on the platform's side.
                return Refusal::forbidden(format!("Registration refused: {e}.")).into_response();
            }
            Refusal::with_status(
                StatusCode::BAD_GATEWAY,
                format!("Registration failed: {e}."),
            )
            .into_response()
        }
    }
}

/// A registration this tool's rules refuse (answered 403), as opposed to a platform that
/// failed to answer properly (502).
#[derive(Debug)]
struct Policy(String);

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Policy {}

fn policy(msg: String) -> anyhow::Error {
    Policy(msg).into()
}

/// `--registration-hosts`: only these hosts' configuration URLs are accepted.
fn check_allowed(cfg: &Config, config_url: &url::Url) -> Result<()> {
    let allowed = &cfg.registration_hosts;
    let host = config_url
        .host_str()
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !allowed.is_empty() && !allowed.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        return Err(policy(format!(
            "this tool accepts registrations only from {}",
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// The client registration this tool asks for (OpenID Connect Dynamic Client Registration
/// with the LTI tool configuration extension).
pub fn client_metadata(cfg: &Config, course_title: &str, scopes: &[&str]) -> Value {
    json!({
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": cfg.public_url.login(),
        "redirect_uris": [cfg.redirect_uri()],
        "client_name": course_title,
        "jwks_uri": cfg.public_url.jwks(),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": scopes.join(" "),
        claim::TOOL_CONFIGURATION: {
            "domain": cfg.public_url.domain(),
            "target_link_uri": cfg.public_url.course_launch(),
            "description": format!("{course_title} (coursepack)"),
            "claims": ["iss", "sub", "name", "given_name", "family_name"],
            "messages": [
                { "type": "LtiResourceLinkRequest", "target_link_uri": cfg.public_url.course_launch() },
                { "type": "LtiDeepLinkingRequest", "target_link_uri": cfg.public_url.course_launch(),
                  "label": format!("Add {course_title}"),
                  "placements": ["ContentArea"] }
            ],
        },
    })
}

/// Whether the tool itself runs on plain http: then it is a local or test set-up, and its
/// platform is allowed to be plain http (and on a loopback or private address) too.
fn plain_http_tool(cfg: &Config) -> bool {
    !cfg.public_url.is_https()
}

/// Checks a URL the tool is about to request on a registrant's say-so (`what` names it in
/// the error). Anyone who has the registration URL chooses these URLs, so a production
/// (https) tool only requests https URLs on public hosts: never loopback, private,
/// link-local or unspecified addresses, which would let outsiders reach services behind the
/// tool's firewall.
fn check_target(cfg: &Config, what: &str, target: &str) -> Result<url::Url> {
    let url = url::Url::parse(target).map_err(|_| policy(format!("the {what} is not a URL")))?;
    let dev = plain_http_tool(cfg);
    match url.scheme() {
        "https" => {}
        "http" if dev => {}
        _ => return Err(policy(format!("the {what} must be an https URL"))),
    }
    let Some(host) = url.host() else {
        return Err(policy(format!("the {what} has no host")));
    };
    if !dev {
        let internal = match host {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            url::Host::Ipv4(ip) => internal_ip(ip.into()),
            url::Host::Ipv6(ip) => internal_ip(ip.into()),
        };
        if internal {
            return Err(policy(format!(
                "the {what} is on a local or private address"
            )));
        }
    }
    Ok(url)
}

/// Addresses that are not on the public internet: loopback, private (RFC 1918, shared
/// CGNAT space, IPv6 unique local), link-local (which includes cloud metadata services) and
/// unspecified, also as IPv4-mapped IPv6.
fn internal_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => internal_ip(v4.into()),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
            }
        },
    }
}

/// Resolves host names for registration requests of an https tool, leaving out internal
/// addresses: a public-looking name may resolve to one (the IP literal check cannot see
/// that).
struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !internal_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for registration requests. It never follows redirects, which would lead
/// around every check made on the URLs, and an https tool's client only connects to public
/// addresses.
fn registration_client(cfg: &Config) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .connect_timeout(std::time::Duration::from_secs(5))
        .user_agent(concat!("coursepack/", env!("CARGO_PKG_VERSION")));
    if !plain_http_tool(cfg) {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicAddressesOnly));
    }
    builder
        .build()
        .context("setting up the registration client")
}

/// The endpoints a platform's OpenID configuration announces, checked.
#[derive(Debug)]
struct Endpoints {
    issuer: String,
    registration: String,
    authorization: String,
    token: String,
    jwks: String,
}

/// Reads and checks the endpoints of the OpenID configuration fetched from `config_url`.
fn endpoints(cfg: &Config, config_url: &url::Url, config: &Value) -> Result<Endpoints> {
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
    let issuer_host = url::Url::parse(&issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    if issuer_host.is_none() || issuer_host.as_deref() != config_url.host_str() {
        return Err(policy(format!(
            "the issuer {issuer} is not on the host of the configuration URL"
        )));
    }
    let registration = field("registration_endpoint")?;
    // The tool posts to the registration endpoint with the registration token: it must be
    // the configuration's own origin, or a configuration could send the tool anywhere.
    if check_target(cfg, "registration_endpoint", &registration)?.origin() != config_url.origin() {
        return Err(policy(
            "the registration_endpoint is not on the scheme, host and port of the configuration URL"
                .into(),
        ));
    }
    // The tool fetches these later, at every launch and score.
    let checked = |name: &str| -> Result<String> {
        let value = field(name)?;
        check_target(cfg, name, &value)?;
        Ok(value)
    };
    Ok(Endpoints {
        authorization: checked("authorization_endpoint")?,
        token: checked("token_endpoint")?,
        jwks: checked("jwks_uri")?,
        issuer,
        registration,
    })
}

/// How much of a refused registration's answer goes to the log.
const LOGGED_ANSWER_MAX: usize = 2000;

async fn register(app: &SharedApp, config_url: &str, token: Option<&str>) -> Result<Platform> {
    let config_url = check_target(&app.cfg, "openid_configuration", config_url)?;
    check_allowed(&app.cfg, &config_url)?;
    let http = registration_client(&app.cfg)?;
    let resp = http
        .get(config_url.clone())
        .send()
        .await
        .context("the platform's OpenID configuration could not be fetched")?;
    let status = resp.status();
    if !status.is_success() {
        bail!("the platform's OpenID configuration answered {status}");
    }
    let config: Value = resp
        .json()
        .await
        .context("the platform's OpenID configuration is not JSON")?;
    let ends = endpoints(&app.cfg, &config_url, &config)?;
    let supported: Vec<&str> = config["scopes_supported"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // A platform that does not list the lineitem scope is not asked for it: its links then
    // need a grade column of their own (deep linking creates one).
    let scopes: Vec<&str> = super::SCOPES
        .into_iter()
        .filter(|s| supported.is_empty() || supported.contains(s))
        .collect();
    let metadata = client_metadata(&app.cfg, &app.site.title, &scopes);
    let mut req = http.post(&ends.registration).json(&metadata);
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        req = req.bearer_auth(t);
    }
    let resp = req
        .send()
        .await
        .context("the platform's registration endpoint could not be reached")?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        // The answer is for the administrator (in the log), never for the requester: it
        // could be anything the target host says.
        tracing::warn!(
            status = status.as_u16(),
            answer = %text.chars().take(LOGGED_ANSWER_MAX).collect::<String>(),
            "the registration endpoint refused the registration"
        );
        bail!("the platform's registration endpoint answered {status}");
    }
    let answer: Value =
        serde_json::from_str(&text).context("the registration answer is not JSON")?;
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
        issuer: ends.issuer,
        client_id,
        auth_url: ends.authorization,
        token_url: ends.token,
        jwks_url: ends.jwks,
        token_audience: config["authorization_server"].as_str().map(str::to_string),
        deployment_ids,
        name: config[claim::PLATFORM_CONFIGURATION]["product_family_code"]
            .as_str()
            .map(str::to_string),
    };
    let stored = serde_json::to_string(&platform).context("the registration as JSON")?;
    app.store
        .put_platform(&platform.issuer, &platform.client_id, &stored)
        .await
        .context("the registration could not be saved")?;
    Ok(platform)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coursepack_pipeline::tool::ToolUrl;

    fn tool(public_url: &str) -> Config {
        crate::Config::for_tests(public_url)
    }

    #[test]
    fn an_https_tool_requests_only_https_public_urls() {
        let cfg = tool("https://tool.example");
        for ok in [
            "https://lms.example/.well-known/openid-configuration",
            "https://lms.example:8443/x",
            "https://8.8.8.8/x",
            "https://[2001:4860::8888]/x",
            "https://172.32.0.1/x",
        ] {
            assert!(check_target(&cfg, "url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://lms.example/x",
            "ftp://lms.example/x",
            "file:///etc/passwd",
            "https://localhost/x",
            "https://LOCALHOST./x",
            "https://db.localhost/x",
            "https://127.0.0.1/x",
            "https://127.1.2.3:8080/x",
            "https://2130706433/x",
            "https://10.0.0.1/x",
            "https://172.16.0.1/x",
            "https://172.31.255.255/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data/",
            "https://0.0.0.0/x",
            "https://100.100.100.200/x",
            "https://[::1]/x",
            "https://[::]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[::ffff:10.0.0.1]/x",
        ] {
            assert!(check_target(&cfg, "url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_plain_http_tool_accepts_local_http_urls() {
        let cfg = tool("http://127.0.0.1:8080");
        for ok in [
            "http://127.0.0.1:9000/x",
            "http://localhost:9000/x",
            "https://lms.example/x",
        ] {
            assert!(check_target(&cfg, "url", ok).is_ok(), "{ok}");
        }
        assert!(check_target(&cfg, "url", "ftp://127.0.0.1/x").is_err());
    }

    fn configuration(base: &str) -> Value {
        json!({
            "issuer": base,
            "registration_endpoint": format!("{base}/register"),
            "authorization_endpoint": format!("{base}/auth"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/jwks"),
        })
    }

    #[test]
    fn configuration_endpoints_are_checked() {
        let cfg = tool("https://tool.example");
        let config_url =
            url::Url::parse("https://lms.example/.well-known/openid-configuration").unwrap();
        let good = configuration("https://lms.example");
        let ends = endpoints(&cfg, &config_url, &good).unwrap();
        assert_eq!(ends.registration, "https://lms.example/register");
        assert_eq!(ends.jwks, "https://lms.example/jwks");
        let with = |name: &str, value: &str| {
            let mut c = good.clone();
            c[name] = json!(value);
            endpoints(&cfg, &config_url, &c)
        };
        for (name, value) in [
            ("registration_endpoint", "https://other.example/register"),
            ("registration_endpoint", "https://lms.example:8443/register"),
            ("registration_endpoint", "http://lms.example/register"),
            ("registration_endpoint", "https://10.0.0.1/register"),
            ("authorization_endpoint", "http://lms.example/auth"),
            ("token_endpoint", "http://lms.example/token"),
            ("token_endpoint", "https://192.168.0.10/token"),
            ("jwks_uri", "http://lms.example/jwks"),
            ("jwks_uri", "https://169.254.169.254/jwks"),
            ("jwks_uri", "https://localhost/jwks"),
            ("issuer", "https://other.example"),
        ] {
            assert!(with(name, value).is_err(), "{name} = {value}");
        }
        // Endpoints on other public hosts (a CDN for the keys, say) are fine.
        assert!(with("jwks_uri", "https://keys.lms-cdn.example/jwks").is_ok());

        // A plain http tool (development, tests) accepts a local http platform.
        let dev = tool("http://127.0.0.1:8080");
        let local =
            url::Url::parse("http://127.0.0.1:9000/.well-known/openid-configuration").unwrap();
        assert!(endpoints(&dev, &local, &configuration("http://127.0.0.1:9000")).is_ok());
        let mut elsewhere = configuration("http://127.0.0.1:9000");
        elsewhere["registration_endpoint"] = json!("http://127.0.0.1:9001/register");
        assert!(endpoints(&dev, &local, &elsewhere).is_err());
    }

    fn tool_domain(public_url: &str) -> String {
        ToolUrl::parse(public_url).unwrap().domain()
    }

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
