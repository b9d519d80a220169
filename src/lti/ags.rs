//! Assignment and Grade Services: OAuth2 access tokens (client_credentials with a signed JWT
//! assertion), cached until they expire, and score posting to a line item.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use serde_json::json;
use tokio::sync::Mutex;

use super::App;
use super::platforms::Platform;
use super::store::OutboxRow;

pub const SCORE_CONTENT_TYPE: &str = "application/vnd.ims.lis.v1.score+json";

struct CachedToken {
    token: String,
    until: Instant,
}

/// Access tokens by (issuer, client id, scope).
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<(String, String, String), CachedToken>>,
}

impl TokenCache {
    pub async fn forget(&self, p: &Platform, scope: &str) {
        self.tokens.lock().await.remove(&(
            p.issuer.clone(),
            p.client_id.clone(),
            scope.to_string(),
        ));
    }
}

/// An access token for `scope`, from the cache or from the platform's token endpoint.
pub async fn access_token(app: &App, p: &Platform, scope: &str) -> Result<String> {
    let key = (p.issuer.clone(), p.client_id.clone(), scope.to_string());
    let mut tokens = app.tokens.tokens.lock().await;
    if let Some(t) = tokens.get(&key)
        && t.until > Instant::now()
    {
        return Ok(t.token.clone());
    }
    let now = super::now_secs();
    let assertion = app.keys.sign(&json!({
        "iss": p.client_id,
        "sub": p.client_id,
        "aud": p.token_audience.as_deref().unwrap_or(&p.token_url),
        "iat": now,
        "exp": now + 300,
        "jti": super::random_token(),
    }))?;
    let resp = app
        .http
        .post(&p.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
            ("scope", scope),
        ])
        .send()
        .await
        .with_context(|| format!("requesting an access token from {}", p.token_url))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        return Err(anyhow!(
            "token endpoint {} answered {status}: {}",
            p.token_url,
            body.chars().take(200).collect::<String>()
        ));
    }
    let body: serde_json::Value = resp.json().await.context("parsing the token response")?;
    let token = body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow!("token response without access_token"))?
        .to_string();
    let lifetime = body["expires_in"].as_u64().unwrap_or(3600);
    // Renew a little early so a token never expires on its way to the platform.
    let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30));
    tokens.insert(
        key,
        CachedToken {
            token: token.clone(),
            until,
        },
    );
    Ok(token)
}

/// The scores URL of a line item: its path + `/scores`, keeping its query string (some
/// platforms carry the line item's identity there, e.g. `?type_id=N`).
pub fn scores_url(lineitem: &str) -> Result<String> {
    let mut url = url::Url::parse(lineitem).with_context(|| format!("line item {lineitem}"))?;
    let path = format!("{}/scores", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url.to_string())
}

/// ISO 8601 with milliseconds, UTC.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f).unwrap_or_default()
}

/// What became of one delivery attempt.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Delivered,
    /// The platform already has this or a newer score (409): nothing left to do.
    AlreadyNewer,
    /// A failure that may heal (network, 401/403, 429, 5xx): tried again later.
    Retry(String),
    /// The platform will never accept it (400, 422, or the line item is gone: 404, 410).
    Permanent(String),
}

pub async fn post_score(app: &App, p: &Platform, row: &OutboxRow) -> Outcome {
    let url = match scores_url(&row.lineitem) {
        Ok(u) => u,
        Err(e) => return Outcome::Permanent(format!("{e:#}")),
    };
    let token = match access_token(app, p, super::SCOPE_SCORE).await {
        Ok(t) => t,
        Err(e) => return Outcome::Retry(format!("{e:#}")),
    };
    let body = json!({
        "userId": row.sub,
        "scoreGiven": row.score_given,
        "scoreMaximum": row.score_maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": iso8601(row.ts_ms),
    });
    let resp = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header(reqwest::header::CONTENT_TYPE, SCORE_CONTENT_TYPE)
        .body(body.to_string())
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Outcome::Retry(format!("posting the score: {e}")),
    };
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        // The token may have been revoked early: get a new one for the retry.
        app.tokens.forget(p, super::SCOPE_SCORE).await;
    }
    outcome_for(status)
}

/// What a score endpoint's answer means for the outbox row.
///
/// Only answers that no retry can change are permanent: the request itself is wrong (400,
/// 422) or the line item no longer exists (404, 410). Everything else may heal: 401 with a
/// fresh token, 403 once an administrator fixes the tool's permissions, 429 and 5xx once the
/// platform recovers.
pub fn outcome_for(status: reqwest::StatusCode) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Delivered,
        409 => Outcome::AlreadyNewer,
        400 | 404 | 410 | 422 => Outcome::Permanent(format!("score endpoint answered {status}")),
        _ => Outcome::Retry(format!("score endpoint answered {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_url_keeps_the_query() {
        assert_eq!(
            scores_url("https://lms.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3")
                .unwrap(),
            "https://lms.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3"
        );
        assert_eq!(
            scores_url("https://lms.example/li/7/").unwrap(),
            "https://lms.example/li/7/scores"
        );
    }

    #[test]
    fn only_unfixable_answers_are_permanent() {
        let kind = |code: u16| match outcome_for(reqwest::StatusCode::from_u16(code).unwrap()) {
            Outcome::Delivered => "delivered",
            Outcome::AlreadyNewer => "newer",
            Outcome::Retry(_) => "retry",
            Outcome::Permanent(_) => "permanent",
        };
        for code in [200, 201, 204] {
            assert_eq!(kind(code), "delivered", "{code}");
        }
        assert_eq!(kind(409), "newer");
        for code in [400, 404, 410, 422] {
            assert_eq!(kind(code), "permanent", "{code}");
        }
        for code in [401, 403, 408, 429, 500, 502, 503, 504] {
            assert_eq!(kind(code), "retry", "{code}");
        }
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
