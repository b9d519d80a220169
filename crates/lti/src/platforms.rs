//! Platform registrations: read from the `--platforms` TOML file and from dynamic registrations
//! kept in the store, looked up by issuer (and client id when the platform sends one).

use std::path::Path;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use super::Refusal;
use super::store::Store;

/// One registration of this tool in one platform (issuer + client id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// The platform's `iss` value, exactly as it appears in its id_tokens.
    pub issuer: String,
    /// The client id the platform gave this tool.
    pub client_id: String,
    /// OIDC authorisation endpoint (where the login initiation redirects to).
    pub auth_url: String,
    /// OAuth2 token endpoint for AGS access tokens.
    pub token_url: String,
    /// The platform's public keys.
    pub jwks_url: String,
    /// `aud` of the client assertion; defaults to `token_url` (some platforms want another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_audience: Option<String>,
    /// Deployments of this tool in the platform; launches from others are refused.
    #[serde(default)]
    pub deployment_ids: Vec<String>,
    /// A name for logs and pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformFile {
    #[serde(default)]
    platform: Vec<Platform>,
}

/// All registrations: file ones are fixed at start-up, dynamic ones live in the store.
pub struct Platforms {
    from_file: Vec<Platform>,
}

impl Platforms {
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let from_file = match file {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let parsed: PlatformFile =
                    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
                for p in &parsed.platform {
                    for (what, url) in [
                        ("auth_url", &p.auth_url),
                        ("token_url", &p.token_url),
                        ("jwks_url", &p.jwks_url),
                    ] {
                        url::Url::parse(url).with_context(|| {
                            format!("{}: {what} of {} is not a URL", path.display(), p.issuer)
                        })?;
                    }
                }
                parsed.platform
            }
        };
        Ok(Platforms { from_file })
    }

    /// Finds the registration an OIDC login or a launch belongs to.
    pub async fn find(
        &self,
        store: &Store,
        issuer: &str,
        client_id: Option<&str>,
    ) -> Result<Platform, Refusal> {
        // The file wins over a dynamic registration of the same client id, so a file match
        // needs no database round trip (every login and launch asks).
        if let Some(cid) = client_id
            && let Some(p) = self
                .from_file
                .iter()
                .find(|p| p.issuer == issuer && p.client_id == cid)
        {
            return Ok(p.clone());
        }
        let mut found: Vec<Platform> = self
            .from_file
            .iter()
            .filter(|p| p.issuer == issuer)
            .cloned()
            .collect();
        for config in store.platforms_for(issuer).await? {
            found.push(serde_json::from_str(&config).context("stored platform registration")?);
        }
        if let Some(cid) = client_id {
            found.retain(|p| p.client_id == cid);
        }
        // The file wins over a dynamic registration of the same client id.
        let mut seen = std::collections::HashSet::new();
        found.retain(|p| seen.insert(p.client_id.clone()));
        match found.len() {
            0 => Err(Refusal::forbidden(format!(
                "No platform is registered with issuer {issuer}{}.",
                client_id
                    .map(|c| format!(" and client id {c}"))
                    .unwrap_or_default()
            ))),
            1 => Ok(found.remove(0)),
            _ => Err(Refusal::bad(format!(
                "Several registrations share issuer {issuer}; the platform must send client_id."
            ))),
        }
    }

    pub fn count_from_file(&self) -> usize {
        self.from_file.len()
    }
}
