//! Deep linking: the instructor picks sessions (or the whole course) on a picker page and the
//! tool returns a signed `LtiDeepLinkingResponse` with one resource link per choice.

use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use coursepack_pipeline::tool::route;
use serde_json::{Value, json};

use super::ags::SCORE_MAXIMUM;
use super::id_token::IdToken;
use super::platforms::Platform;
use super::store::DeepLinkRequest;
use super::{Refusal, SharedApp, claim, escape_html};

/// The instructor has this long to pick.
const PICK_TTL_MS: i64 = 3_600_000;
/// Form value that stands for "the whole course" (session ids cannot start with `*`).
const WHOLE_COURSE: &str = "*course";

/// Called by the launch once the id_token of an `LtiDeepLinkingRequest` is verified.
pub async fn accept_request(
    app: &SharedApp,
    platform: &Platform,
    deployment: &str,
    claims: &IdToken,
) -> Result<Response, Refusal> {
    let settings = claims
        .deep_linking_settings
        .as_ref()
        .ok_or_else(|| Refusal::bad("The deep-linking request has no deep_linking_settings."))?;
    let return_url = settings
        .deep_link_return_url
        .as_deref()
        .filter(|u| url::Url::parse(u).is_ok())
        .ok_or_else(|| {
            Refusal::bad("The deep-linking request has no valid deep_link_return_url.")
        })?;
    let accepts_links = settings
        .accept_types
        .as_ref()
        .is_some_and(|t| t.iter().any(|v| v == "ltiResourceLink"));
    if !accepts_links {
        return Err(Refusal::bad(
            "The platform does not accept LTI resource links here.",
        ));
    }
    let req = DeepLinkRequest {
        handle: super::random_token(),
        issuer: platform.issuer.clone(),
        client_id: platform.client_id.clone(),
        deployment_id: deployment.to_string(),
        return_url: return_url.to_string(),
        data: settings.data.clone(),
        // Absent means the platform accepts several items.
        accept_multiple: settings.accept_multiple.unwrap_or(true),
        expires_ms: super::now_ms() + PICK_TTL_MS,
    };
    app.store.put_deep_link(&req).await?;
    tracing::info!(issuer = %platform.issuer, "deep-linking request accepted");
    Ok(Redirect::to(&app.cfg.url(&format!("{}/{}", route::DEEP_LINK, req.handle))).into_response())
}

/// GET /lti/deep-link/{handle}: the picker.
pub async fn picker(State(app): State<SharedApp>, Path(handle): Path<String>) -> Response {
    let req = match app.store.deep_link(&handle, false, super::now_ms()).await {
        Ok(Some(r)) => r,
        Ok(None) => return expired().into_response(),
        Err(e) => return Refusal::internal(e).into_response(),
    };
    let input = if req.accept_multiple {
        "checkbox"
    } else {
        "radio"
    };
    let mut items = format!(
        "<li><label><input type=\"{input}\" name=\"item\" value=\"{WHOLE_COURSE}\"> Whole course: {}</label></li>\n",
        escape_html(&app.site.title)
    );
    for s in app.site.sessions() {
        items.push_str(&format!(
            "<li><label><input type=\"{input}\" name=\"item\" value=\"{}\"> {}</label></li>\n",
            escape_html(&s.id),
            escape_html(&s.title)
        ));
    }
    let body = format!(
        "<form method=\"post\"><fieldset><legend>Choose what to add</legend>\
         <ul style=\"list-style:none;padding:0\">{items}</ul></fieldset>\
         <p><button type=\"submit\">Add</button></p></form>"
    );
    let html = super::page(&format!("Add from {}", app.site.title), &body);
    super::html_response(StatusCode::OK, &html)
}

fn expired() -> Refusal {
    Refusal::forbidden(
        "This selection has expired or was already sent. Start again from your course.",
    )
}

/// POST /lti/deep-link/{handle}: sign the response and post it back to the platform.
pub async fn submit(
    State(app): State<SharedApp>,
    Path(handle): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    match respond(&app, &handle, &body).await {
        Ok(r) => r,
        Err(r) => r.into_response(),
    }
}

async fn respond(app: &SharedApp, handle: &str, body: &[u8]) -> Result<Response, Refusal> {
    let chosen: Vec<String> = url::form_urlencoded::parse(body)
        .filter(|(k, _)| k == "item")
        .map(|(_, v)| v.into_owned())
        .collect();
    if chosen.is_empty() {
        return Err(Refusal::bad("Choose at least one item."));
    }
    for c in &chosen {
        if c != WHOLE_COURSE && app.site.session(c).is_none() {
            return Err(Refusal::bad(format!("Unknown session {c:?}.")));
        }
    }
    let req = app
        .store
        .deep_link(handle, true, super::now_ms())
        .await?
        .ok_or_else(expired)?;
    if chosen.len() > 1 && !req.accept_multiple {
        return Err(Refusal::bad("The platform accepts only one item here."));
    }
    let items: Vec<Value> = chosen
        .iter()
        .map(|c| {
            let (title, url, resource_id) = if c == WHOLE_COURSE {
                (
                    app.site.title.clone(),
                    app.cfg.public_url.course_launch(),
                    "course".to_string(),
                )
            } else {
                let s = app.site.session(c).expect("checked above");
                (
                    s.title.clone(),
                    app.cfg.public_url.session_launch(&s.id),
                    s.id.clone(),
                )
            };
            let mut item = json!({
                "type": "ltiResourceLink",
                "title": title,
                "url": url,
                "lineItem": {
                    "scoreMaximum": SCORE_MAXIMUM,
                    "label": title,
                    "resourceId": resource_id,
                },
            });
            if c != WHOLE_COURSE {
                item["custom"] = json!({ "session": c });
            }
            item
        })
        .collect();
    let now = super::now_secs();
    let mut claims = json!({
        "iss": req.client_id,
        "aud": req.issuer,
        "iat": now,
        "exp": now + 600,
        "nonce": super::random_token(),
        claim::MESSAGE_TYPE: "LtiDeepLinkingResponse",
        claim::VERSION: "1.3.0",
        claim::DEPLOYMENT_ID: req.deployment_id,
        claim::DL_CONTENT_ITEMS: items,
    });
    if let Some(data) = &req.data {
        claims[claim::DL_DATA] = json!(data);
    }
    let jwt = app.keys.sign(&claims)?;
    tracing::info!(issuer = %req.issuer, items = chosen.len(), "deep-linking response sent");
    // Auto-submitted form post of the JWT to the platform (a button if scripts are off).
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Returning to your course</title></head>\
         <body><form id=\"cp-dl\" method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"JWT\" value=\"{jwt}\">\
         <noscript><button type=\"submit\">Continue</button></noscript></form>\
         <script>document.getElementById('cp-dl').submit();</script></body></html>\n",
        action = escape_html(&req.return_url),
        jwt = escape_html(&jwt),
    );
    Ok(super::html_response(StatusCode::OK, &html))
}
