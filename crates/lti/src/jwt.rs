//! id_token validation: RS256 only, the platform's key found by `kid` in its (cached) JWKS,
//! then every claim the LTI 1.3 security framework requires.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::Mutex;

use super::Refusal;
use super::id_token::{Audience, IdToken};
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
    /// Last fetch attempt, successful or not: bounds refetches of an unknown kid, and of a
    /// set whose platform is failing.
    tried: Instant,
    keys: HashMap<String, DecodingKey>,
}

/// One JWKS URL's cached set, behind its own lock so a slow platform delays only its own
/// launches.
type Slot = Arc<Mutex<Option<CachedSet>>>;

/// Platforms' public keys by JWKS URL.
pub struct JwksCache {
    slots: std::sync::Mutex<HashMap<String, Slot>>,
    ttl: Duration,
}

impl Default for JwksCache {
    fn default() -> Self {
        Self::with_ttl(JWKS_TTL)
    }
}

impl JwksCache {
    /// A cache that trusts a fetched set for `ttl` (tests use a short one).
    pub fn with_ttl(ttl: Duration) -> Self {
        JwksCache {
            slots: Default::default(),
            ttl,
        }
    }

    /// The key `kid` of the JWKS at `url`; the set is refetched once if the kid is unknown
    /// (the platform rotated its key) or the cached copy is old. If that refetch fails, a key
    /// already known for `kid` is still used: a platform's JWKS being briefly unreachable
    /// should not stop its launches.
    pub async fn key(
        &self,
        http: &reqwest::Client,
        url: &str,
        kid: &str,
    ) -> Result<Option<DecodingKey>> {
        // The map lock is only held to find the URL's slot, never across an await.
        let slot: Slot = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(url.to_string())
            .or_default()
            .clone();
        // The slot's lock is held across the fetch so concurrent launches from one platform
        // wait for a single fetch instead of each sending their own.
        let mut slot = slot.lock().await;
        if let Some(set) = slot.as_ref() {
            let known = set.keys.get(kid);
            if let (true, Some(key)) = (set.fetched.elapsed() < self.ttl, known) {
                return Ok(Some(key.clone()));
            }
            if set.tried.elapsed() < REFETCH_MIN_INTERVAL {
                return Ok(known.cloned());
            }
        }
        match fetch_jwks(http, url).await {
            Ok(keys) => {
                tracing::info!(url, keys = keys.len(), "fetched platform JWKS");
                let found = keys.get(kid).cloned();
                let now = Instant::now();
                *slot = Some(CachedSet {
                    fetched: now,
                    tried: now,
                    keys,
                });
                Ok(found)
            }
            Err(e) => {
                let Some(set) = slot.as_mut() else {
                    return Err(e);
                };
                set.tried = Instant::now();
                match set.keys.get(kid) {
                    Some(key) => {
                        tracing::warn!(url, error = %format!("{e:#}"), "platform JWKS refetch failed; using the key fetched before");
                        Ok(Some(key.clone()))
                    }
                    None => Err(e),
                }
            }
        }
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
/// returns its claims, read once into the ones the tool uses. Message-specific claims are checked by the caller.
pub async fn verify_id_token(
    cache: &JwksCache,
    http: &reqwest::Client,
    platform: &Platform,
    token: &str,
) -> Result<IdToken, Refusal> {
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
            Refusal::with_status(
                axum::http::StatusCode::BAD_GATEWAY,
                "The platform's public keys could not be fetched.",
            )
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
    // Read into the claims the tool uses only now that the signature holds; by way of a JSON
    // value, which keeps the last of repeated keys instead of failing on them.
    let claims: IdToken = serde_json::from_value(data.claims)
        .map_err(|_| Refusal::unauthorized("The id_token could not be verified."))?;

    let now = super::now_secs();
    let iat = claims
        .iat
        .as_ref()
        .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
        .ok_or_else(|| Refusal::unauthorized("The id_token's iat is not a number."))?;
    if iat > now + LEEWAY_SECS as i64 {
        return Err(Refusal::unauthorized(
            "The id_token was issued in the future.",
        ));
    }
    // With several audiences the authorised party says which one the token is for.
    let several = matches!(&claims.aud, Some(Audience::Several(a)) if a.len() > 1);
    match &claims.azp {
        Some(Some(azp)) if *azp == platform.client_id => {}
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
    if claims.sub.is_none() {
        return Err(Refusal::unauthorized("The id_token has no subject (sub)."));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;

    /// A one-key set; the modulus need not be a real one, nothing is verified here.
    fn jwks() -> axum::Json<Value> {
        axum::Json(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}
        ]}))
    }

    async fn serve(routes: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
        format!("http://{addr}")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_platform_does_not_hold_up_another() {
        let base = serve(
            Router::new()
                .route("/fast", get(|| async { jwks() }))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        jwks()
                    }),
                ),
        )
        .await;
        let http = reqwest::Client::new();
        let cache = Arc::new(JwksCache::default());
        let fast = format!("{base}/fast");
        assert!(cache.key(&http, &fast, "k1").await.unwrap().is_some());
        let slow = {
            let (cache, http, url) = (cache.clone(), http.clone(), format!("{base}/slow"));
            tokio::spawn(async move { cache.key(&http, &url, "k1").await.map(|k| k.is_some()) })
        };
        // Let the slow fetch start and take its lock.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let quick = tokio::time::timeout(Duration::from_secs(1), cache.key(&http, &fast, "k1"))
            .await
            .expect("a cached key waited for another platform's fetch");
        assert!(quick.unwrap().is_some());
        assert!(slow.await.unwrap().unwrap());
    }

    #[tokio::test]
    async fn a_failed_refetch_keeps_the_known_key() {
        let up = Arc::new(AtomicBool::new(true));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (u, f) = (up.clone(), fetches.clone());
        let base = serve(Router::new().route(
            "/jwks",
            get(move || {
                let (up, fetches) = (u.clone(), f.clone());
                async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    if up.load(Ordering::SeqCst) {
                        Ok(jwks())
                    } else {
                        Err(StatusCode::SERVICE_UNAVAILABLE)
                    }
                }
            }),
        ))
        .await;
        let url = format!("{base}/jwks");
        let http = reqwest::Client::new();
        // Every set is stale at once, so every call refetches (at most once a second).
        let cache = JwksCache::with_ttl(Duration::ZERO);
        assert!(cache.key(&http, &url, "k1").await.unwrap().is_some());
        up.store(false, Ordering::SeqCst);
        tokio::time::sleep(REFETCH_MIN_INTERVAL + Duration::from_millis(100)).await;
        let stale = cache.key(&http, &url, "k1").await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "no refetch was tried");
        assert!(stale.unwrap().is_some(), "the known key was dropped");
        // A kid it never had is still an error when the platform is down.
        tokio::time::sleep(REFETCH_MIN_INTERVAL + Duration::from_millis(100)).await;
        assert!(cache.key(&http, &url, "k2").await.is_err());
        // Nothing cached and the platform down: an error, as before.
        let empty = JwksCache::default();
        assert!(empty.key(&http, &url, "k1").await.is_err());
    }
}
