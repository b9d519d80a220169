//! Registration bundle for `coursepack build --target lti`: the Canvas developer-key JSON, the
//! dynamic registration URL and a sheet with every value each platform asks for.

use anyhow::Result;
use serde_json::json;

use crate::tool::{SCOPES, ToolUrl};

/// A session as the bundle lists it: id (as in `<id>.html`) and title.
pub struct BundleSession<'a> {
    pub id: &'a str,
    pub title: &'a str,
}

/// The bundle's files, by name:
/// - `canvas-developer-key.json`: paste into Canvas > Developer Keys > + LTI Key > Paste JSON;
/// - `dynamic-registration-url.txt`: the URL to give Moodle (and other platforms that support
///   LTI Dynamic Registration);
/// - `registration.md`: every value for manual registration (Moodle, Blackboard, Brightspace,
///   Canvas), the per-session launch links, and the platforms.toml entry to fill in.
///
/// `tool` is the public address the tool is served at (`coursepack serve --public-url`).
pub fn files(
    tool: &ToolUrl,
    course_title: &str,
    sessions: &[BundleSession<'_>],
) -> Result<Vec<(&'static str, String)>> {
    let v = Values::new(tool);
    let canvas = serde_json::to_string_pretty(&canvas_json(&v, course_title))? + "\n";
    Ok(vec![
        ("canvas-developer-key.json", canvas),
        ("dynamic-registration-url.txt", format!("{}\n", v.register)),
        ("registration.md", sheet(&v, course_title, sessions)),
    ])
}

/// Every URL of the tool, derived from its public base URL.
struct Values {
    tool: ToolUrl,
    base: String,
    domain: String,
    login: String,
    redirect: String,
    target: String,
    jwks: String,
    register: String,
}

impl Values {
    fn new(tool: &ToolUrl) -> Self {
        Values {
            tool: tool.clone(),
            base: tool.as_str().to_string(),
            domain: tool.domain(),
            login: tool.login(),
            redirect: tool.redirect(),
            target: tool.course_launch(),
            jwks: tool.jwks(),
            register: tool.register(),
        }
    }
}

fn canvas_json(v: &Values, title: &str) -> serde_json::Value {
    let placement = |name: &str| {
        json!({
            "placement": name,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": v.target,
            "text": title,
        })
    };
    json!({
        "title": title,
        "description": format!("{title}: course sessions with completion sent to the gradebook"),
        "oidc_initiation_url": v.login,
        "target_link_uri": v.target,
        "redirect_uris": [v.redirect],
        "public_jwk_url": v.jwks,
        "scopes": SCOPES,
        "extensions": [{
            "domain": v.domain,
            "platform": "canvas.instructure.com",
            "privacy_level": "anonymous",
            "settings": {
                "text": title,
                "placements": [placement("link_selection"), placement("assignment_selection")],
            },
        }],
        "custom_fields": {},
    })
}

fn sheet(v: &Values, title: &str, sessions: &[BundleSession<'_>]) -> String {
    let mut s = String::new();
    let row = |s: &mut String, k: &str, val: &str| s.push_str(&format!("| {k} | `{val}` |\n"));
    s.push_str(&format!("# Registering \"{title}\" as an LTI 1.3 tool\n\n"));
    s.push_str(&format!(
        "Run the tool with `coursepack serve --public-url {}` (see the README). \
         Every platform needs the values below.\n\n",
        v.base
    ));
    s.push_str("## Tool values\n\n| Setting | Value |\n| --- | --- |\n");
    row(&mut s, "LTI version", "LTI 1.3");
    row(&mut s, "Domain", &v.domain);
    row(
        &mut s,
        "Tool URL / target link URI (whole course)",
        &v.target,
    );
    row(&mut s, "OIDC login initiation URL", &v.login);
    row(&mut s, "Redirect URI (exactly one)", &v.redirect);
    row(&mut s, "Public keyset (JWKS) URL", &v.jwks);
    row(&mut s, "Deep linking / content selection URL", &v.target);
    row(&mut s, "Dynamic registration URL", &v.register);
    row(&mut s, "Signature algorithm", "RS256");
    row(&mut s, "Services (scopes)", &SCOPES.join(" "));
    s.push('\n');
    s.push_str(
        "## Session links\n\nDeep linking creates these for you. To add a link by hand, use its URL \
         (or the course URL with custom parameter `session=<id>`).\n\n\
         | Session | Launch URL | Custom parameter |\n| --- | --- | --- |\n",
    );
    for se in sessions {
        s.push_str(&format!(
            "| {} | `{}` | `session={}` |\n",
            se.title.replace('|', "\\|"),
            v.tool.session_launch(se.id),
            se.id
        ));
    }
    s.push_str(&format!(
        "\n## Moodle 4.x\n\n\
         Easiest: Site administration > Plugins > Activity modules > External tool > Manage tools, \
         paste `{reg}` into \"Tool URL\" and press \"Add LTI Advantage\", then activate the tool. \
         Nothing else to copy.\n\n\
         By hand: \"configure a tool manually\": Tool URL `{target}`, LTI version LTI 1.3, \
         Public key type \"Keyset URL\", Public keyset `{jwks}`, Initiate login URL `{login}`, \
         Redirection URI(s) `{redirect}`, tick \"Supports Deep Linking\" with Content Selection URL \
         `{target}`; Services: IMS LTI Assignment and Grade Services \"Use this service for grade \
         sync and column management\" (links imported from a cartridge get their grade column \
         from the tool that way). Then add the platform to `platforms.toml` (below) with issuer = the site URL, \
         auth `<site>/mod/lti/auth.php`, token `<site>/mod/lti/token.php`, JWKS \
         `<site>/mod/lti/certs.php`, and the client id and deployment id Moodle shows under \
         \"View configuration details\".\n\n\
         ## Canvas\n\n\
         Admin > Developer Keys > + Developer Key > + LTI Key; Method \"Paste JSON\", paste \
         `canvas-developer-key.json`, and enter Redirect URI `{redirect}`. Save, switch the key ON, \
         then Settings > Apps > + App > \"By Client ID\" with the key's id. Platform values: issuer \
         `https://canvas.instructure.com` (self-hosted: your issuer), auth \
         `https://sso.canvaslms.com/api/lti/authorize_redirect`, token \
         `https://sso.canvaslms.com/login/oauth2/token`, JWKS \
         `https://sso.canvaslms.com/api/lti/security/jwks`; client id = developer key id; \
         deployment id from the app's \"Deployment Id\".\n\n\
         ## Blackboard Learn\n\n\
         Register the tool at developer.blackboard.com (My Apps > +): Login Initiation URL \
         `{login}`, Tool Redirect URL(s) `{redirect}`, Tool JWKS URL `{jwks}`, Signing Algorithm \
         RS256. Then in Learn: Administrator Panel > LTI Tool Providers > Register LTI 1.3/Advantage \
         Tool with the Application ID; allow grade service access and note the Deployment ID. \
         Platform values: issuer `https://blackboard.com`, auth \
         `https://developer.blackboard.com/api/v1/gateway/oidcauth`, token \
         `https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken`, JWKS \
         `https://developer.blackboard.com/api/v1/management/applications/<application id>/jwks.json`.\n\n\
         ## Brightspace (D2L)\n\n\
         Admin Tools > Manage Extensibility > LTI Advantage > Register Tool (Standard): Domain \
         `{base}`, Redirect URLs `{redirect}`, OpenID Connect Login URL `{login}`, Target Link URI \
         `{target}`, Keyset URL `{jwks}`, extensions Assignment and Grade Services and Deep \
         Linking. Then View Deployments > New Deployment, and add links. Platform values: issuer \
         `https://<your brightspace host>`, auth `https://<host>/d2l/lti/authenticate`, token \
         `https://auth.brightspace.com/core/connect/token` with token audience \
         `https://api.brightspace.com/auth/token`, JWKS `https://<host>/d2l/.well-known/jwks`.\n\n\
         ## platforms.toml entry\n\n\
         ```toml\n\
         [[platform]]\n\
         name = \"My LMS\"\n\
         issuer = \"https://lms.example.edu\"\n\
         client_id = \"the client id the platform gave\"\n\
         auth_url = \"https://lms.example.edu/mod/lti/auth.php\"\n\
         token_url = \"https://lms.example.edu/mod/lti/token.php\"\n\
         jwks_url = \"https://lms.example.edu/mod/lti/certs.php\"\n\
         # token_audience = \"...\"   # only if the platform wants another `aud` (Brightspace)\n\
         deployment_ids = [\"1\"]\n\
         ```\n",
        reg = v.register,
        target = v.target,
        jwks = v.jwks,
        login = v.login,
        redirect = v.redirect,
        base = v.base,
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_has_every_value() {
        let files = files(
            &ToolUrl::parse("https://tool.example:8443/").unwrap(),
            "Intro | Course",
            &[BundleSession {
                id: "s1",
                title: "One",
            }],
        )
        .unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "canvas-developer-key.json",
                "dynamic-registration-url.txt",
                "registration.md"
            ]
        );
        let canvas: serde_json::Value = serde_json::from_str(&files[0].1).unwrap();
        assert_eq!(
            canvas["oidc_initiation_url"],
            "https://tool.example:8443/lti/login"
        );
        assert_eq!(
            canvas["public_jwk_url"],
            "https://tool.example:8443/.well-known/jwks.json"
        );
        assert_eq!(canvas["extensions"][0]["domain"], "tool.example:8443");
        assert_eq!(files[1].1, "https://tool.example:8443/lti/register\n");
        let sheet = &files[2].1;
        assert!(sheet.contains("`https://tool.example:8443/launch/s1`"));
        assert!(
            sheet.contains("Redirect URI (exactly one) | `https://tool.example:8443/lti/launch`")
        );
        // Score and line item scopes: links imported from a cartridge get their grade column
        // from the tool.
        let scopes = [
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        ];
        assert_eq!(canvas["scopes"], serde_json::json!(scopes));
        assert!(
            sheet.contains(&format!(
                "| Services (scopes) | `{} {}` |",
                scopes[0], scopes[1]
            )),
            "{sheet}"
        );
        assert!(sheet.contains("grade sync and column management"));
    }
}
