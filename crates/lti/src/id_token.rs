//! The claims of a verified id_token that the tool reads (LTI 1.3 core, deep linking, AGS).
//!
//! Every field is lenient: a claim of the wrong type reads as absent (or, where noted, as
//! present but empty), so that the launch refuses it with the same words as a missing one
//! instead of a generic parse failure.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct IdToken {
    #[serde(deserialize_with = "text")]
    pub sub: Option<String>,
    #[serde(deserialize_with = "text")]
    pub nonce: Option<String>,
    /// Seconds; a number that is not a whole one reads as absent.
    #[serde(deserialize_with = "lenient")]
    pub exp: Option<i64>,
    /// Seconds, whole or not.
    #[serde(deserialize_with = "lenient")]
    pub iat: Option<serde_json::Number>,
    #[serde(deserialize_with = "lenient")]
    pub aud: Option<Audience>,
    /// `Some(None)`: present but not a string (which no client id can match).
    #[serde(deserialize_with = "present_text")]
    pub azp: Option<Option<String>>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/message_type")]
    #[serde(deserialize_with = "text")]
    pub message_type: Option<String>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/version")]
    #[serde(deserialize_with = "text")]
    pub version: Option<String>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/deployment_id")]
    #[serde(deserialize_with = "text")]
    pub deployment_id: Option<String>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri")]
    #[serde(deserialize_with = "text")]
    pub target_link_uri: Option<String>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/resource_link")]
    #[serde(deserialize_with = "lenient")]
    pub resource_link: Option<ResourceLink>,
    /// The role URIs; `None` unless the claim is an array (entries that are not strings are
    /// left out: they name no role).
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/roles")]
    #[serde(deserialize_with = "strings")]
    pub roles: Option<Vec<String>>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/context")]
    #[serde(deserialize_with = "lenient")]
    pub context: Option<Context>,
    #[serde(rename = "https://purl.imsglobal.org/spec/lti/claim/custom")]
    #[serde(deserialize_with = "lenient")]
    pub custom: Option<Custom>,
    /// Present (of whatever shape) or not: a launch without one is simply not graded.
    #[serde(rename = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint")]
    #[serde(deserialize_with = "present")]
    pub ags_endpoint: Option<AgsEndpoint>,
    /// Present (of whatever shape) or not: the two are refused with different words.
    #[serde(rename = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings")]
    #[serde(deserialize_with = "present")]
    pub deep_linking_settings: Option<DeepLinkingSettings>,
}

/// `aud`: one client id or several.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Several(Vec<Value>),
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ResourceLink {
    #[serde(deserialize_with = "text")]
    pub id: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Context {
    #[serde(deserialize_with = "lenient")]
    pub id: Option<String>,
}

/// The link's custom parameters; the tool reads only `session`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Custom {
    #[serde(deserialize_with = "lenient")]
    pub session: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AgsEndpoint {
    #[serde(deserialize_with = "strings")]
    pub scope: Option<Vec<String>>,
    #[serde(deserialize_with = "lenient")]
    pub lineitem: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub lineitems: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DeepLinkingSettings {
    #[serde(deserialize_with = "lenient")]
    pub deep_link_return_url: Option<String>,
    #[serde(deserialize_with = "strings")]
    pub accept_types: Option<Vec<String>>,
    #[serde(deserialize_with = "lenient")]
    pub accept_multiple: Option<bool>,
    /// Handed back untouched in the response.
    #[serde(deserialize_with = "lenient")]
    pub data: Option<String>,
}

impl IdToken {
    /// Whether the platform granted the AGS scope `scope` for this launch.
    pub fn ags_granted(&self, scope: &str) -> bool {
        self.ags_endpoint
            .as_ref()
            .and_then(|a| a.scope.as_ref())
            .is_some_and(|s| s.iter().any(|v| v == scope))
    }
}

/// A value of type `T`, or `None` when the claim is of another type.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}

/// A non-empty string, or `None`.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(lenient::<D, String>(d)?.filter(|s| !s.is_empty()))
}

/// The claim is there: its string value, if it is one.
fn present_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(lenient(d)?))
}

/// The claim is there: its value, or `T`'s default when it is of another shape.
fn present<'de, D: Deserializer<'de>, T: DeserializeOwned + Default>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Some(lenient(d)?.unwrap_or_default()))
}

/// The strings of an array, or `None` when the claim is no array.
fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_of_the_wrong_type_read_as_absent() {
        let t: IdToken = serde_json::from_value(json!({
            "sub": "",
            "nonce": 7,
            "exp": 1.5,
            "iat": 1.5,
            "azp": null,
            "https://purl.imsglobal.org/spec/lti/claim/roles": ["Learner", 3],
            "https://purl.imsglobal.org/spec/lti/claim/resource_link": "x",
            "https://purl.imsglobal.org/spec/lti/claim/custom": {"session": "s1", "n": 2},
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": null,
        }))
        .unwrap();
        assert_eq!(t.sub, None);
        assert_eq!(t.nonce, None);
        assert_eq!(t.exp, None);
        assert_eq!(t.iat.and_then(|n| n.as_f64()), Some(1.5));
        assert_eq!(t.azp, Some(None));
        assert_eq!(t.roles.as_deref(), Some(&["Learner".to_string()][..]));
        assert!(t.resource_link.is_none());
        assert_eq!(t.custom.unwrap().session.as_deref(), Some("s1"));
        let settings = t.deep_linking_settings.expect("present, if empty");
        assert!(settings.deep_link_return_url.is_none());
        assert!(t.message_type.is_none() && t.context.is_none() && t.ags_endpoint.is_none());
    }

    #[test]
    fn scopes_come_from_the_ags_endpoint() {
        let t: IdToken = serde_json::from_value(json!({
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitem": "https://lms.example/li/1",
            },
        }))
        .unwrap();
        assert!(t.ags_granted("https://purl.imsglobal.org/spec/lti-ags/scope/score"));
        assert!(!t.ags_granted("https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"));
        let ags = t.ags_endpoint.unwrap();
        assert_eq!(ags.lineitem.as_deref(), Some("https://lms.example/li/1"));
        assert!(ags.lineitems.is_none());
    }
}
