//! POST /lti/api/progress: the page runtime's saves, authorised by the launch's bearer token.
//! A session's state is kept per learner and course offering; a completion queues the score
//! for the platform (delivered by [`super::outbox`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coursepack_pipeline::contract::ProgressPost;
use serde_json::{Value, json};

use super::ags::SCORE_MAXIMUM;
use super::store::{AutoLineItem, NewScore};
use super::{Refusal, SharedApp};

/// POST /lti/api/progress: the runtime's save. Answers only after the store has the state
/// and, for a completion, the queued score.
pub async fn progress(State(app): State<SharedApp>, headers: HeaderMap, body: Bytes) -> Response {
    match save(&app, &headers, &body).await {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(r) => (
            r.status,
            axum::Json(json!({ "saved": false, "error": r.detail })),
        )
            .into_response(),
    }
}

async fn save(app: &SharedApp, headers: &HeaderMap, body: &[u8]) -> Result<Value, Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Refusal::unauthorized("Missing bearer token."))?;
    let launch = app
        .store
        .launch_by_token(token, super::now_ms())
        .await?
        .ok_or_else(|| Refusal::unauthorized("Unknown or expired launch token."))?;
    let post: ProgressPost = serde_json::from_slice(body)
        .map_err(|e| Refusal::bad(format!("Invalid progress JSON: {e}")))?;
    if app.site.session(&post.session).is_none() {
        return Err(Refusal::bad(format!("Unknown session {:?}.", post.session)));
    }
    // The line item belongs to the launched link: a session link scores only its own session;
    // a whole-course link scores the share of sessions completed.
    let sessions = app.site.sessions().len().max(1) as i64;
    let auto = launch.lineitems.as_ref().map(|lineitems| {
        let (resource_id, label) = match launch.session.as_deref().and_then(|s| app.site.session(s))
        {
            Some(s) => (s.id.clone(), s.title.clone()),
            None => ("course".to_string(), app.site.title.clone()),
        };
        AutoLineItem {
            lineitems: lineitems.clone(),
            resource_link_id: launch.resource_link_id.clone(),
            tag: format!("coursepack:{resource_id}"),
            label,
            resource_id,
        }
    });
    let score_fn = |done: i64| -> NewScore {
        // AGS: Completed means "the user has completed the activity": a session link when its
        // session is done, a whole-course link only once every session is.
        let points = post
            .score
            .as_ref()
            .filter(|s| s.max > 0.0 && s.raw.is_finite() && s.raw >= 0.0)
            .map(|s| ((s.raw.min(s.max) / s.max) * SCORE_MAXIMUM * 100.0).round() / 100.0);
        let (given, activity) = if launch.session.is_some() {
            // A session with knowledge checks scores their points, else full marks.
            (points.unwrap_or(SCORE_MAXIMUM), "Completed")
        } else {
            let share = ((done.min(sessions) as f64 / sessions as f64) * SCORE_MAXIMUM * 100.0)
                .round()
                / 100.0;
            let activity = if done >= sessions {
                "Completed"
            } else {
                "InProgress"
            };
            (share, activity)
        };
        NewScore {
            lineitem: match (&launch.lineitem, &auto) {
                (Some(l), _) => l.clone(),
                (None, Some(a)) => a.placeholder(),
                (None, None) => String::new(),
            },
            auto: auto.clone().filter(|_| launch.lineitem.is_none()),
            score_given: given.min(SCORE_MAXIMUM),
            score_maximum: SCORE_MAXIMUM,
            activity,
            points: points.is_some() && launch.session.is_some(),
        }
    };
    let scored = (launch.lineitem.is_some() || launch.lineitems.is_some())
        && launch.session.as_deref().is_none_or(|s| s == post.session);
    let queued = app
        .store
        .save_progress(
            &launch,
            &post.session,
            &post.state.to_string(),
            post.completed,
            scored.then_some(&score_fn as &(dyn Fn(i64) -> NewScore + Sync)),
        )
        .await?;
    if queued {
        tracing::info!(session = %post.session, "completion queued for the platform");
        app.outbox_wake.notify_one();
    }
    Ok(json!({
        "saved": true,
        "completed": post.completed,
        "score": if queued { "queued" } else if scored && post.completed { "already queued" } else { "none" },
    }))
}
