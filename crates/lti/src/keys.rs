//! The tool's own RSA signing keys: created on first run in the data dir, published as a JWKS,
//! rotated with a grace period during which the retired key stays published.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};

const KEY_FILE: &str = "lti-keys.json";
const KEY_BITS: usize = 2048;

#[derive(Serialize, Deserialize, Clone)]
struct StoredKey {
    kid: String,
    /// Unix seconds.
    created: i64,
    /// Unix seconds when a newer key took over; the key stays published for the grace period.
    retired: Option<i64>,
    /// PKCS#1 PEM private key.
    pem: String,
}

#[derive(Serialize, Deserialize, Default)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

struct Loaded {
    modified: Option<SystemTime>,
    signing: jsonwebtoken::EncodingKey,
    signing_kid: String,
    jwks: serde_json::Value,
}

/// Keys read from `<data>/lti-keys.json`, re-read when the file changes so a rotation done by
/// `coursepack serve --rotate-key` reaches running instances that share the data dir.
pub struct KeyStore {
    path: PathBuf,
    grace: Duration,
    loaded: RwLock<Loaded>,
}

impl KeyStore {
    /// Opens the key file, creating it with a fresh key when absent.
    pub fn open(data_dir: &Path, grace: Duration) -> Result<Self> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let mut file = KeyFile::default();
            file.keys.push(generate()?);
            write_file(&path, &file)?;
            tracing::info!(path = %path.display(), "generated the tool's signing key");
        }
        let loaded = load(&path, grace)?;
        Ok(KeyStore {
            path,
            grace,
            loaded: RwLock::new(loaded),
        })
    }

    /// Retires the current key and makes a new one the signing key. Returns the new kid.
    pub fn rotate(data_dir: &Path, grace: Duration) -> Result<String> {
        let path = data_dir.join(KEY_FILE);
        let mut file = if path.exists() {
            read_file(&path)?
        } else {
            KeyFile::default()
        };
        let now = super::now_secs();
        for key in &mut file.keys {
            key.retired.get_or_insert(now);
        }
        file.keys
            .retain(|k| k.retired.is_none_or(|r| now - r < grace.as_secs() as i64));
        let key = generate()?;
        let kid = key.kid.clone();
        file.keys.push(key);
        write_file(&path, &file)?;
        Ok(kid)
    }

    fn refresh(&self) {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified == self.loaded.read().expect("key lock").modified {
            return;
        }
        match load(&self.path, self.grace) {
            Ok(loaded) => {
                tracing::info!(kid = %loaded.signing_kid, "reloaded the tool's keys");
                *self.loaded.write().expect("key lock") = loaded;
            }
            Err(err) => tracing::error!(error = %format!("{err:#}"), "keeping the old keys"),
        }
    }

    /// The JWKS document published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        self.refresh();
        self.loaded.read().expect("key lock").jwks.clone()
    }

    /// Signs claims as an RS256 JWT with the current key and its kid.
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String> {
        self.refresh();
        let loaded = self.loaded.read().expect("key lock");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(loaded.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &loaded.signing).context("signing a JWT")
    }

    pub fn signing_kid(&self) -> String {
        self.refresh();
        self.loaded.read().expect("key lock").signing_kid.clone()
    }
}

fn generate() -> Result<StoredKey> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, KEY_BITS).context("RSA keygen")?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .context("encoding the key")?
        .to_string();
    Ok(StoredKey {
        kid: super::random_token()[..22].to_string(),
        created: super::now_secs(),
        retired: None,
        pem,
    })
}

fn read_file(path: &Path) -> Result<KeyFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn write_file(path: &Path, file: &KeyFile) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(file)?;
    {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Private keys: owner only.
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn load(path: &Path, grace: Duration) -> Result<Loaded> {
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let file = read_file(path)?;
    let now = super::now_secs();
    let Some(current) = file
        .keys
        .iter()
        .filter(|k| k.retired.is_none())
        .max_by_key(|k| k.created)
    else {
        bail!("{} holds no active key", path.display());
    };
    let mut published = Vec::new();
    let mut signing = None;
    for key in &file.keys {
        let in_grace = key.retired.is_none_or(|r| now - r < grace.as_secs() as i64);
        if !in_grace {
            continue;
        }
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&key.pem)
            .with_context(|| format!("key {} in {}", key.kid, path.display()))?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        published.push(serde_json::json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": key.kid,
            "n": b64.encode(private.n().to_bytes_be()),
            "e": b64.encode(private.e().to_bytes_be()),
        }));
        if key.kid == current.kid {
            let der = private.to_pkcs1_der().context("encoding the key")?;
            signing = Some(jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()));
        }
    }
    Ok(Loaded {
        modified,
        signing: signing.context("signing key missing")?,
        signing_kid: current.kid.clone(),
        jwks: serde_json::json!({ "keys": published }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_old_key_published_for_the_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let grace = Duration::from_secs(3600);
        let store = KeyStore::open(dir.path(), grace).unwrap();
        let first = store.signing_kid();
        let new = KeyStore::rotate(dir.path(), grace).unwrap();
        assert_ne!(first, new);
        let store = KeyStore::open(dir.path(), grace).unwrap();
        assert_eq!(store.signing_kid(), new);
        let kids: Vec<String> = store.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(kids, vec![first.clone(), new.clone()]);
        // With no grace, the retired key is no longer published.
        let store = KeyStore::open(dir.path(), Duration::ZERO).unwrap();
        assert_eq!(store.jwks()["keys"].as_array().unwrap().len(), 1);
    }
}
