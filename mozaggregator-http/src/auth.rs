//! Bearer-token authorization: RS256 JWTs verified against a JWKS, and static tokens.
//!
//! A request is authorized when its `Authorization` header is `Bearer TOKEN` and TOKEN is
//! either one of the configured static tokens (compared in constant time) or an RS256 JWT
//! signed by a key of the JWKS (found by the token's `kid`), with the configured issuer and
//! audience, not expired, whose space-separated `scope` claim contains the configured scope.
//! Every failure is an [`AuthError`] (answered as 403), never a panic.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::error::{Error, Result};

/// Why a request is not authorized.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{description}")]
pub struct AuthError {
    /// A stable code, as the original service used them.
    pub code: &'static str,
    /// What is wrong.
    pub description: String,
}

impl AuthError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        ApiError::Forbidden {
            code: err.code,
            description: err.description,
        }
    }
}

/// The JWT settings: keys and the claims a token must carry.
#[derive(Clone)]
pub struct JwtConfig {
    /// The signing keys.
    pub jwks: JwkSet,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud` (one of the token's audiences).
    pub audience: String,
    /// Required scope (one of the space-separated words of the `scope` claim).
    pub scope: String,
}

/// Decides whether a request is authorized.
///
/// ```
/// use mozaggregator_http::auth::Authenticator;
/// let auth = Authenticator::new(None, vec!["s3cret".into()]);
/// assert!(auth.check(Some("Bearer s3cret")).is_ok());
/// assert!(auth.check(Some("Bearer nope")).is_err());
/// assert!(auth.check(None).is_err());
/// ```
#[derive(Clone, Default)]
pub struct Authenticator {
    jwt: Option<JwtConfig>,
    tokens: Vec<String>,
    /// Headers checked so far (shared by clones), for [`Authenticator::checks`].
    checks: Arc<AtomicU64>,
    /// JWTs whose signature and claims were verified, with their `exp`: a dashboard sends
    /// the same token with every request, and an RS256 verification costs more than a
    /// cached query (BENCHMARKS.md). The keys never change while the server runs, so a
    /// verified token stays valid until it expires. Bounded: emptied when full.
    verified: Arc<Mutex<HashMap<String, u64>>>,
    /// JWT signatures verified so far (shared by clones), for [`Authenticator::signatures`].
    signatures: Arc<AtomicU64>,
}

/// Most verified tokens remembered.
const MAX_VERIFIED: usize = 10_000;

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    scope: Option<String>,
    /// Required (`set_required_spec_claims`): present in every token that passes.
    #[serde(default)]
    exp: Option<u64>,
}

impl Authenticator {
    /// An authenticator accepting JWTs per `jwt` (if any) and the given static tokens.
    /// With neither, nothing is ever authorized.
    pub fn new(jwt: Option<JwtConfig>, tokens: Vec<String>) -> Self {
        let tokens = tokens
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        Self {
            jwt,
            tokens,
            checks: Arc::default(),
            verified: Arc::default(),
            signatures: Arc::default(),
        }
    }

    /// How many headers [`Authenticator::check`] has verified (a JWT check verifies a
    /// signature): the server verifies a request's header at most once.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// How many JWTs had their signature verified: a token verified once is remembered until
    /// it expires.
    pub fn signatures(&self) -> u64 {
        self.signatures.load(Ordering::Relaxed)
    }

    /// True when some way of authorizing is configured.
    pub fn is_configured(&self) -> bool {
        self.jwt.is_some() || !self.tokens.is_empty()
    }

    /// Checks an `Authorization` header value.
    ///
    /// # Errors
    /// An [`AuthError`] saying why the header does not authorize.
    pub fn check(&self, header: Option<&str>) -> Result<(), AuthError> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let header = header.ok_or_else(|| {
            AuthError::new(
                "authorization_header_missing",
                "Authorization header is expected",
            )
        })?;
        let mut parts = header.split_whitespace();
        let (scheme, token, rest) = (parts.next(), parts.next(), parts.next());
        let token = match (scheme, token, rest) {
            (Some(s), Some(t), None) if s.eq_ignore_ascii_case("bearer") => t,
            (Some(s), None, None) if s.eq_ignore_ascii_case("bearer") => {
                return Err(AuthError::new("invalid_header", "Token not found"))
            }
            _ => {
                return Err(AuthError::new(
                    "invalid_header",
                    "Authorization header must be Bearer token",
                ))
            }
        };
        if self
            .tokens
            .iter()
            .fold(false, |found, t| found | constant_time_eq(t, token))
        {
            return Ok(());
        }
        let Some(jwt) = &self.jwt else {
            return Err(AuthError::new("invalid_token", "Unknown token"));
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let known = self
            .verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .copied();
        // Strictly before `exp` (the verification itself allows 30 s of leeway).
        if known.is_some_and(|exp| now < exp) {
            return Ok(());
        }
        self.signatures.fetch_add(1, Ordering::Relaxed);
        let exp = verify_jwt(jwt, token)?;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(token.to_string(), exp);
        Ok(())
    }
}

/// Verifies a JWT; returns its `exp`.
fn verify_jwt(config: &JwtConfig, token: &str) -> Result<u64, AuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::new("improper_token", "Unable to parse authentication token"))?;
    let jwk = match &header.kid {
        Some(kid) => config.jwks.find(kid),
        None if config.jwks.keys.len() == 1 => config.jwks.keys.first(),
        None => None,
    }
    .ok_or_else(|| AuthError::new("invalid_header", "Unable to find appropriate key"))?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|_| AuthError::new("invalid_header", "Unable to find appropriate key"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.leeway = 30;
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::new("token_expired", "Token is expired"),
            ErrorKind::InvalidIssuer
            | ErrorKind::InvalidAudience
            | ErrorKind::MissingRequiredClaim(_) => AuthError::new(
                "invalid_claims",
                "Incorrect claims, please check the audience and issuer",
            ),
            _ => AuthError::new("invalid_header", "Unable to parse authentication token"),
        }
    })?;
    let scopes: HashSet<&str> = data
        .claims
        .scope
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    if scopes.contains(config.scope.as_str()) {
        // 0 (never reached): a token without `exp` is not remembered.
        Ok(data.claims.exp.unwrap_or(0))
    } else {
        Err(AuthError::new(
            "access_denied",
            format!("Token lacks the scope `{}`", config.scope),
        ))
    }
}

/// Compares two strings in time independent of where they differ (the length may leak).
fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads a JWKS document (`{"keys": [...]}`) from a file, or from an `http://` URL.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Usage`] when it is not a JWKS or the
/// URL cannot be fetched.
pub fn load_jwks(source: &str) -> Result<JwkSet> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        crate::jwks_fetch::fetch(source)?
    } else {
        std::fs::read_to_string(source).map_err(|e| Error::Io {
            path: source.to_string(),
            source: e,
        })?
    };
    serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{source}: not a JWKS: {e}")))
}

/// Reads static tokens: one per line; blank lines and lines starting with `#` are skipped.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub fn load_tokens(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        let auth = Authenticator::new(None, vec!["tok".into(), " ".into()]);
        assert!(auth.check(Some(" Bearer tok")).is_ok());
        assert!(auth.check(Some("bearer tok")).is_ok());
        assert_eq!(
            auth.check(Some("Bearer")).unwrap_err().description,
            "Token not found"
        );
        assert_eq!(
            auth.check(Some("Basic tok")).unwrap_err().code,
            "invalid_header"
        );
        assert_eq!(
            auth.check(Some("Bearer tok x")).unwrap_err().code,
            "invalid_header"
        );
        assert_eq!(auth.check(Some("")).unwrap_err().code, "invalid_header");
        assert_eq!(
            auth.check(None).unwrap_err().code,
            "authorization_header_missing"
        );
        assert!(auth.check(Some("Bearer to")).is_err());
        assert!(auth.check(Some("Bearer tok2")).is_err());
        assert!(!Authenticator::default().is_configured());
        assert!(Authenticator::default().check(Some("Bearer ")).is_err());
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
