//! The LTI tool as the packages link to it and as it serves itself: its
//! public address and every route under it. `--tool-url` (`build`) and
//! `--public-url` (`serve`) are parsed into a [`ToolUrl`] once; every
//! address a package or the tool writes is derived from it, so a route is
//! spelled in one place.

use std::fmt;

/// The tool's routes, relative to its public address.
pub mod route {
    /// OIDC login initiation (GET and POST).
    pub const LOGIN: &str = "/lti/login";
    /// The redirect URI the platform posts the id_token to.
    pub const REDIRECT: &str = "/lti/launch";
    /// The target link of the whole course; a session's is `/launch/<id>`.
    pub const LAUNCH: &str = "/launch";
    /// The tool's public signing keys.
    pub const JWKS: &str = "/.well-known/jwks.json";
    /// LTI Dynamic Registration.
    pub const REGISTER: &str = "/lti/register";
    /// The icon platforms show beside the tool's links.
    pub const ICON: &str = "/icon.svg";
    /// Where the pages post the learner's progress.
    pub const PROGRESS: &str = "/lti/api/progress";
    /// The tool's own pages, not registered with platforms: the course's
    /// files within a launch (`/l/<handle>/<path>`), the new-window
    /// relaunch (`/lti/relaunch/<state>`) and the deep-linking picker
    /// (`/lti/deep-link/<handle>`).
    pub const PAGES: &str = "/l";
    pub const RELAUNCH: &str = "/lti/relaunch";
    pub const DEEP_LINK: &str = "/lti/deep-link";
}

/// The AGS scope needed to post scores.
pub const SCOPE_SCORE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
/// The AGS scope to find and create line items: links without one (imported
/// from a cartridge) get one the tool creates.
pub const SCOPE_LINEITEM: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem";
/// Every scope the tool asks for at registration.
pub const SCOPES: [&str; 2] = [SCOPE_SCORE, SCOPE_LINEITEM];

/// The tool's public base address: `http(s)://host[:port][/path]`, with no
/// query, fragment, user name or spaces, kept as given without a trailing
/// `/` (so the addresses written into packages are the ones the author typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUrl {
    base: String,
    url: url::Url,
}

impl ToolUrl {
    /// Parses an `http://` or `https://` address (`serve --public-url`: a
    /// test set-up may run without TLS).
    pub fn parse(text: &str) -> Result<ToolUrl, String> {
        if !(text.starts_with("https://") || text.starts_with("http://")) {
            return Err(format!("`{text}` is not an http(s):// address"));
        }
        Self::checked(text)
    }

    /// Parses an `https://` address (`build --tool-url`: packages go to
    /// production LMSs, which launch only https tools from their pages).
    pub fn parse_https(text: &str) -> Result<ToolUrl, String> {
        if !text.starts_with("https://") {
            return Err(format!("`{text}` is not an https:// address"));
        }
        Self::checked(text)
    }

    fn checked(text: &str) -> Result<ToolUrl, String> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("`{text}` contains spaces"));
        }
        if text.contains(['?', '#']) {
            return Err(format!(
                "`{text}` has a query or fragment; give the tool's base address"
            ));
        }
        // `https:///x` parses with host `x`: the authority must be written.
        let authority = text.split_once("://").map_or("", |(_, rest)| rest);
        if authority.is_empty() || authority.starts_with('/') {
            return Err(format!("`{text}` has no valid host name"));
        }
        let url = url::Url::parse(text).map_err(|e| match e {
            url::ParseError::InvalidPort => format!("`{text}` has an invalid port"),
            _ => format!("`{text}` has no valid host name"),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("`{text}` contains a user name"));
        }
        let host_ok = match url.host() {
            Some(url::Host::Domain(name)) => {
                !name.is_empty()
                    && !name.starts_with(['.', '-'])
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            }
            Some(_) => true,
            None => false,
        };
        if !host_ok {
            return Err(format!("`{text}` has no valid host name"));
        }
        if url.port() == Some(0) {
            return Err(format!("`{text}` has an invalid port"));
        }
        Ok(ToolUrl {
            base: text.trim_end_matches('/').to_string(),
            url,
        })
    }

    /// The address as given, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The host, the `localhost` test of secure cookies reads it.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// `host[:port]`, as platforms ask for the tool's domain.
    pub fn domain(&self) -> String {
        let host = self.host();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// The absolute address of one of the tool's paths (`path` starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn login(&self) -> String {
        self.join(route::LOGIN)
    }
    pub fn redirect(&self) -> String {
        self.join(route::REDIRECT)
    }
    pub fn jwks(&self) -> String {
        self.join(route::JWKS)
    }
    pub fn register(&self) -> String {
        self.join(route::REGISTER)
    }
    pub fn icon(&self) -> String {
        self.join(route::ICON)
    }
    /// The target link of the whole course.
    pub fn course_launch(&self) -> String {
        self.join(route::LAUNCH)
    }
    /// The target link of one session.
    pub fn session_launch(&self, session: &str) -> String {
        format!("{}{}/{session}", self.base, route::LAUNCH)
    }

    /// The path the tool is mounted at, without a trailing `/` (empty at the root).
    fn base_path(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }

    /// Whether `uri` points into this tool: same origin, and a path under
    /// the tool's own.
    pub fn is_own(&self, uri: &str) -> bool {
        let Ok(target) = url::Url::parse(uri) else {
            return false;
        };
        let base_path = self.base_path();
        self.url.origin() == target.origin()
            && (target.path() == base_path
                || target.path().starts_with(&format!("{base_path}/"))
                || base_path.is_empty())
    }

    /// The session a target link opens (`/launch/<id>` or `?session=<id>`);
    /// `None` for the whole course or a link that is not the tool's.
    pub fn launched_session(&self, target: &str) -> Option<String> {
        let u = url::Url::parse(target).ok()?;
        let rest = u.path().strip_prefix(self.base_path()).unwrap_or("");
        rest.strip_prefix(route::LAUNCH)
            .and_then(|r| r.strip_prefix('/'))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .or_else(|| {
                u.query_pairs()
                    .find(|(k, _)| k == "session")
                    .map(|(_, v)| v.into_owned())
            })
    }
}

impl fmt::Display for ToolUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_urls_must_be_https_with_a_host() {
        assert_eq!(
            ToolUrl::parse_https("https://tool.example.org/")
                .unwrap()
                .as_str(),
            "https://tool.example.org"
        );
        assert_eq!(
            ToolUrl::parse_https("https://tool.example.org:8443/coursepack")
                .unwrap()
                .as_str(),
            "https://tool.example.org:8443/coursepack"
        );
        assert!(ToolUrl::parse_https("https://[::1]:8443").is_ok());
        for bad in [
            "",
            "http://tool.example.org",
            "tool.example.org",
            "https://",
            "https:///launch",
            "https://tool.example.org:0",
            "https://tool.example.org:99999",
            "https://tool.example.org/?x=1",
            "https://tool.example.org/#top",
            "https://user@tool.example.org",
            "https://tool example.org",
            "https://-tool.example.org",
            "https://tool_x.example.org",
        ] {
            assert!(ToolUrl::parse_https(bad).is_err(), "{bad} was accepted");
        }
        assert!(ToolUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(ToolUrl::parse("ftp://tool.example.org").is_err());
    }

    #[test]
    fn every_route_hangs_off_the_base() {
        let t = ToolUrl::parse("https://tool.example:8443/cp/").unwrap();
        assert_eq!(t.domain(), "tool.example:8443");
        assert_eq!(t.login(), "https://tool.example:8443/cp/lti/login");
        assert_eq!(t.redirect(), "https://tool.example:8443/cp/lti/launch");
        assert_eq!(
            t.jwks(),
            "https://tool.example:8443/cp/.well-known/jwks.json"
        );
        assert_eq!(t.register(), "https://tool.example:8443/cp/lti/register");
        assert_eq!(t.course_launch(), "https://tool.example:8443/cp/launch");
        assert_eq!(
            t.session_launch("s1"),
            "https://tool.example:8443/cp/launch/s1"
        );
        assert_eq!(
            ToolUrl::parse("https://tool.example").unwrap().domain(),
            "tool.example"
        );
        assert_eq!(
            ToolUrl::parse("http://127.0.0.1:8080").unwrap().domain(),
            "127.0.0.1:8080"
        );
    }

    #[test]
    fn own_urls_and_launched_sessions() {
        let t = ToolUrl::parse("https://t.example/cp").unwrap();
        assert!(t.is_own("https://t.example/cp/launch"));
        assert!(!t.is_own("https://t.example/cpx/launch"));
        assert!(!t.is_own("https://t.example.evil/cp/launch"));
        assert!(!t.is_own("http://t.example/cp/launch"));
        assert_eq!(
            t.launched_session("https://t.example/cp/launch/s1"),
            Some("s1".into())
        );
        assert_eq!(
            t.launched_session("https://t.example/cp/launch?session=s2"),
            Some("s2".into())
        );
        assert_eq!(t.launched_session("https://t.example/cp/launch"), None);
        assert_eq!(t.launched_session("https://t.example/cp/launch/"), None);
    }
}
