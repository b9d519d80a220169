//! id_token validation: RS256 only, the platform's key found by `kid` in its (cached) JWKS,
//! then every claim the LTI 1.3 security framework requires.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

use super::Refusal;
use super::platforms::Platform;

/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECS: u64 = 60;
/// How long a fetched JWKS is trusted before it is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// An unknown kid triggers at most one refetch per URL in this interval, so forged tokens
/// with random kids cannot turn the tool into a flood of requests to the platform.
const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(1);

struct CachedSet {
    fetched: Instant,
    keys: HashMap<String, DecodingKey>,
}

/// Platforms' public keys by JWKS URL.
#[derive(Default)]
pub struct JwksCache {
    sets: Mutex<HashMap<String, CachedSet>>,
}

impl JwksCache {
    /// The key `kid` of the JWKS at `url`; the set is refetched once if the kid is unknown
    /// (the platform rotated its key) or the cached copy is old.
    pub async fn key(
        &self,
        http: &reqwest::Client,
        url: &str,
        kid: &str,
    ) -> Result<Option<DecodingKey>> {
        // The lock is held across the fetch so concurrent launches wait for one fetch.
        let mut sets = self.sets.lock().await;
        if let Some(set) = sets.get(url) {
            let fresh = set.fetched.elapsed() < JWKS_TTL;
            if let (true, Some(key)) = (fresh, set.keys.get(kid)) {
                return Ok(Some(key.clone()));
            }
            if fresh && set.fetched.elapsed() < REFETCH_MIN_INTERVAL {
                return Ok(None);
            }
        }
        let keys = fetch_jwks(http, url).await?;
        tracing::info!(url, keys = keys.len(), "fetched platform JWKS");
        let found = keys.get(kid).cloned();
        sets.insert(
            url.to_string(),
            CachedSet {
                fetched: Instant::now(),
                keys,
            },
        );
        Ok(found)
    }
}

async fn fetch_jwks(http: &reqwest::Client, url: &str) -> Result<HashMap<String, DecodingKey>> {
    let doc: Value = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching JWKS {url}"))?
        .error_for_status()
        .with_context(|| format!("fetching JWKS {url}"))?
        .json()
        .await
        .with_context(|| format!("parsing JWKS {url}"))?;
    let mut keys = HashMap::new();
    for jwk in doc["keys"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        // Only RSA signing keys; anything else in the set is ignored.
        let (Some(kid), Some("RSA"), Some(n), Some(e)) = (
            jwk["kid"].as_str(),
            jwk["kty"].as_str(),
            jwk["n"].as_str(),
            jwk["e"].as_str(),
        ) else {
            continue;
        };
        if jwk["use"].as_str().is_some_and(|u| u != "sig") {
            continue;
        }
        if let Ok(key) = DecodingKey::from_rsa_components(n, e) {
            keys.insert(kid.to_string(), key);
        }
    }
    Ok(keys)
}

/// Verifies an id_token's signature, issuer, audience, `azp` and times for `platform`, and
/// returns its claims. Message-specific claims are checked by the caller.
pub async fn verify_id_token(
    cache: &JwksCache,
    http: &reqwest::Client,
    platform: &Platform,
    token: &str,
) -> Result<Value, Refusal> {
    // Look at the algorithm before anything else: `none` and HMAC are never acceptable (the
    // header parser itself rejects `none`, which it does not know).
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| Refusal::unauthorized("The id_token is not a well-formed RS256 JWT."))?;
    if header.alg != Algorithm::RS256 {
        return Err(Refusal::unauthorized(format!(
            "The id_token is signed with {:?}; only RS256 is accepted.",
            header.alg
        )));
    }
    let kid = header
        .kid
        .ok_or_else(|| Refusal::unauthorized("The id_token header has no kid."))?;
    let key = cache
        .key(http, &platform.jwks_url, &kid)
        .await
        .map_err(|e| {
            tracing::warn!(error = %format!("{e:#}"), "platform JWKS unavailable");
            Refusal {
                status: axum::http::StatusCode::BAD_GATEWAY,
                detail: "The platform's public keys could not be fetched.".into(),
            }
        })?
        .ok_or_else(|| {
            Refusal::unauthorized("The id_token's kid is not in the platform's published keys.")
        })?;

    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.set_issuer(&[&platform.issuer]);
    validation.set_audience(&[&platform.client_id]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        Refusal::unauthorized(match e.kind() {
            K::InvalidSignature => "The id_token's signature does not verify.".to_string(),
            K::ExpiredSignature => "The id_token has expired.".to_string(),
            K::InvalidIssuer => "The id_token's issuer is not the registered one.".to_string(),
            K::InvalidAudience => "The id_token is not addressed to this tool.".to_string(),
            K::MissingRequiredClaim(c) => format!("The id_token has no {c} claim."),
            _ => "The id_token could not be verified.".to_string(),
        })
    })?;
    let claims = data.claims;

    let now = super::now_secs();
    let iat = claims["iat"]
        .as_i64()
        .or_else(|| claims["iat"].as_f64().map(|f| f as i64))
        .ok_or_else(|| Refusal::unauthorized("The id_token's iat is not a number."))?;
    if iat > now + LEEWAY_SECS as i64 {
        return Err(Refusal::unauthorized(
            "The id_token was issued in the future.",
        ));
    }
    // With several audiences the authorised party says which one the token is for.
    let several = claims["aud"].as_array().is_some_and(|a| a.len() > 1);
    match claims.get("azp") {
        Some(Value::String(azp)) if *azp == platform.client_id => {}
        Some(_) => {
            return Err(Refusal::unauthorized(
                "The id_token's azp is not this tool.",
            ));
        }
        None if several => {
            return Err(Refusal::unauthorized(
                "The id_token has several audiences but no azp.",
            ));
        }
        None => {}
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return Err(Refusal::unauthorized("The id_token has no subject (sub)."));
    }
    Ok(claims)
}
