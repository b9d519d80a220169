//! Login states that carry themselves: what the OIDC login must remember for its launch
//! (nonce, issuer, client id, target, hints) travels in the `state` value, authenticated with
//! an HMAC under a secret every instance reads from the database. A login then writes
//! nothing, and the launch reads nothing back; the nonce is made single-use by the launch
//! row that records it (and by `lti_nonce` for deep-linking requests).

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::store::LoginState;

type HmacSha256 = Hmac<Sha256>;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The payload's short field names keep the state (a URL parameter and a cookie) small.
#[derive(Serialize, Deserialize)]
struct Payload {
    n: String,
    i: String,
    c: String,
    t: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    h: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    m: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<String>,
    e: i64,
}

/// Issues and opens login states.
pub struct LoginStates {
    key: Vec<u8>,
}

impl LoginStates {
    pub fn new(key: &[u8]) -> Self {
        LoginStates { key: key.to_vec() }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// `<random>.<payload>.<mac>`: the random part leads, so the state cookie's name (taken
    /// from the state's first characters) differs between logins.
    pub fn issue(&self, s: &LoginState) -> String {
        let payload = Payload {
            n: s.nonce.clone(),
            i: s.issuer.clone(),
            c: s.client_id.clone(),
            t: s.target_link_uri.clone(),
            s: s.storage_target.clone(),
            h: s.login_hint.clone(),
            m: s.message_hint.clone(),
            d: s.deployment_id.clone(),
            e: s.expires_ms,
        };
        let json = serde_json::to_vec(&payload).expect("a login state serialises");
        let signed = format!("{}.{}", super::random_token(), B64.encode(json));
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The login a state was issued for, if this tool issued it and it has not expired.
    pub fn open(&self, state: &str, now_ms: i64) -> Option<LoginState> {
        let (signed, tag) = state.rsplit_once('.')?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        mac.verify_slice(&B64.decode(tag).ok()?).ok()?;
        let (_, payload) = signed.split_once('.')?;
        let p: Payload = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (p.e >= now_ms).then_some(LoginState {
            nonce: p.n,
            issuer: p.i,
            client_id: p.c,
            target_link_uri: p.t,
            storage_target: p.s,
            login_hint: p.h,
            message_hint: p.m,
            deployment_id: p.d,
            expires_ms: p.e,
        })
    }

    /// The value the login puts in the platform's storage (when the platform offers it) and
    /// the launch expects back: derived from the nonce under the secret, never in the state.
    pub fn storage_secret(&self, s: &LoginState) -> String {
        let mut mac = self.mac();
        mac.update(b"platform storage\n");
        mac.update(s.nonce.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> LoginState {
        LoginState {
            nonce: "n1".into(),
            issuer: "https://lms.example".into(),
            client_id: "c1".into(),
            target_link_uri: "https://tool.example/launch/s1".into(),
            storage_target: None,
            login_hint: Some("h".into()),
            message_hint: None,
            deployment_id: Some("d1".into()),
            expires_ms: 2_000,
        }
    }

    #[test]
    fn a_state_opens_only_unaltered_unexpired_and_under_its_key() {
        let states = LoginStates::new(b"secret one");
        let state = states.issue(&login());
        let back = states.open(&state, 1_000).expect("opens");
        assert_eq!((back.nonce.as_str(), back.client_id.as_str()), ("n1", "c1"));
        assert_eq!(back.deployment_id.as_deref(), Some("d1"));
        assert!(states.open(&state, 2_001).is_none(), "expired");
        assert!(
            LoginStates::new(b"secret two")
                .open(&state, 1_000)
                .is_none()
        );
        // Another payload under the same MAC, or the MAC of another state, fails.
        let other = states.issue(&LoginState {
            client_id: "c2".into(),
            ..login()
        });
        let (a_signed, a_tag) = state.rsplit_once('.').unwrap();
        let (b_signed, b_tag) = other.rsplit_once('.').unwrap();
        assert!(states.open(&format!("{a_signed}.{b_tag}"), 1_000).is_none());
        assert!(states.open(&format!("{b_signed}.{a_tag}"), 1_000).is_none());
        assert!(states.open("made-up-state", 1_000).is_none());
        assert!(states.open("a.b.c", 1_000).is_none());
        // Two logins never share a state, nor its first characters (the cookie name).
        assert_ne!(state[..16], states.issue(&login())[..16]);
    }

    #[test]
    fn the_storage_secret_depends_on_key_and_nonce() {
        let a = LoginStates::new(b"k");
        let s = a.storage_secret(&login());
        assert_eq!(s, a.storage_secret(&login()));
        assert_ne!(s, LoginStates::new(b"k2").storage_secret(&login()));
        let other = LoginState {
            nonce: "n2".into(),
            ..login()
        };
        assert_ne!(s, a.storage_secret(&other));
    }
}
