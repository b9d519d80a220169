//! Assignment and Grade Services: OAuth2 access tokens (client_credentials with a signed JWT
//! assertion), cached until they expire, and score posting to a line item.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use serde_json::json;
use tokio::sync::Mutex;

use super::App;
use super::platforms::Platform;
use super::store::{AutoLineItem, OutboxRow};

/// A line item's maximum: a completed session is worth this much; whole-course links and
/// knowledge-check points scale to it.
pub const SCORE_MAXIMUM: f64 = 100.0;

pub const SCORE_CONTENT_TYPE: &str = "application/vnd.ims.lis.v1.score+json";
pub const LINEITEM_CONTENT_TYPE: &str = "application/vnd.ims.lis.v2.lineitem+json";
pub const LINEITEMS_CONTENT_TYPE: &str = "application/vnd.ims.lis.v2.lineitemcontainer+json";

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

/// `url` with `pairs` added to its query string.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> Result<url::Url> {
    let mut u = url::Url::parse(url).with_context(|| format!("line items URL {url}"))?;
    u.query_pairs_mut().extend_pairs(pairs);
    Ok(u)
}

/// The line item of an imported link: the one remembered, else the one in the platform with
/// this resource link and tag (`GET lineitems`), else a new one (`POST lineitems`: score
/// maximum 100, the session's title as label).
pub async fn find_or_create_lineitem(app: &App, p: &Platform, a: &AutoLineItem) -> Outcome2 {
    match app.store.known_lineitem(a).await {
        Ok(Some(url)) => return Outcome2::Found(url),
        Ok(None) => {}
        Err(e) => return Outcome2::Failed(Outcome::Retry(format!("{e:#}"))),
    }
    let token = match access_token(app, p, super::SCOPE_LINEITEM).await {
        Ok(t) => t,
        Err(e) => return Outcome2::Failed(Outcome::Retry(format!("{e:#}"))),
    };
    let query = match with_query(
        &a.lineitems,
        &[("resource_link_id", &a.resource_link_id), ("tag", &a.tag)],
    ) {
        Ok(u) => u,
        Err(e) => return Outcome2::Failed(Outcome::Permanent(format!("{e:#}"))),
    };
    let found = app
        .http
        .get(query)
        .bearer_auth(&token)
        .header(reqwest::header::ACCEPT, LINEITEMS_CONTENT_TYPE)
        .send()
        .await;
    let resp = match found {
        Ok(r) => r,
        Err(e) => return Outcome2::Failed(Outcome::Retry(format!("listing line items: {e}"))),
    };
    let status = resp.status();
    if !status.is_success() {
        if status == reqwest::StatusCode::UNAUTHORIZED {
            app.tokens.forget(p, super::SCOPE_LINEITEM).await;
        }
        return Outcome2::Failed(lineitems_outcome(status, "listing"));
    }
    let items: serde_json::Value = match resp.json().await {
        Ok(v) => v,
        Err(e) => return Outcome2::Failed(Outcome::Retry(format!("line items answer: {e}"))),
    };
    // The filters are only a hint to the platform: check each item.
    let existing = items.as_array().and_then(|items| {
        items.iter().find_map(|it| {
            let ok = it["resourceLinkId"].as_str() == Some(&a.resource_link_id)
                && it["tag"].as_str() == Some(&a.tag);
            it["id"].as_str().filter(|_| ok).map(str::to_string)
        })
    });
    let url = match existing {
        Some(url) => url,
        None => {
            let body = json!({
                "scoreMaximum": SCORE_MAXIMUM,
                "label": a.label,
                "resourceLinkId": a.resource_link_id,
                "resourceId": a.resource_id,
                "tag": a.tag,
            });
            let created = app
                .http
                .post(&a.lineitems)
                .bearer_auth(&token)
                .header(reqwest::header::CONTENT_TYPE, LINEITEM_CONTENT_TYPE)
                .header(reqwest::header::ACCEPT, LINEITEM_CONTENT_TYPE)
                .body(body.to_string())
                .send()
                .await;
            let resp = match created {
                Ok(r) => r,
                Err(e) => {
                    return Outcome2::Failed(Outcome::Retry(format!(
                        "creating the line item: {e}"
                    )));
                }
            };
            let status = resp.status();
            if !status.is_success() {
                return Outcome2::Failed(lineitems_outcome(status, "creating"));
            }
            let item: serde_json::Value = match resp.json().await {
                Ok(v) => v,
                Err(e) => {
                    return Outcome2::Failed(Outcome::Retry(format!("line item answer: {e}")));
                }
            };
            match item["id"].as_str().filter(|u| url::Url::parse(u).is_ok()) {
                Some(id) => {
                    tracing::info!(lineitem = id, label = %a.label, "created a line item");
                    id.to_string()
                }
                None => {
                    return Outcome2::Failed(Outcome::Retry(
                        "the created line item has no id URL".into(),
                    ));
                }
            }
        }
    };
    match app.store.remember_lineitem(a, &url).await {
        Ok(url) => Outcome2::Found(url),
        Err(e) => Outcome2::Failed(Outcome::Retry(format!("{e:#}"))),
    }
}

/// The result of finding a line item.
pub enum Outcome2 {
    Found(String),
    Failed(Outcome),
}

/// What a line items endpoint's refusal means: a container that is gone or a request it can
/// never take is permanent; the rest (403 until the administrator grants the scope, 5xx) may heal.
fn lineitems_outcome(status: reqwest::StatusCode, what: &str) -> Outcome {
    let msg = format!("{what} line items: the platform answered {status}");
    match status.as_u16() {
        400 | 404 | 410 | 422 => Outcome::Permanent(msg),
        _ => Outcome::Retry(msg),
    }
}

pub async fn post_score(app: &App, p: &Platform, row: &OutboxRow) -> Outcome {
    let lineitem = match &row.auto {
        None => row.lineitem.clone(),
        Some(a) => match find_or_create_lineitem(app, p, a).await {
            Outcome2::Found(url) => url,
            Outcome2::Failed(outcome) => return outcome,
        },
    };
    let url = match scores_url(&lineitem) {
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
        // A whole-course link's share stays FullyGraded while the activity is InProgress:
        // Moodle's scores service drops scoreGiven unless gradingProgress is FullyGraded.
        "activityProgress": row.activity.as_deref().unwrap_or("Completed"),
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
