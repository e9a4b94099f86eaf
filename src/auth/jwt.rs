//! HS256 JWTs with Open edX's claims (as Open edX's oauth_dispatch issues them). Verification accepts only
//! HS256 with our key: `alg: none` and every other algorithm are refused outright.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Seconds of clock skew tolerated, as Open edX's `JWT_LEEWAY`.
const LEEWAY: i64 = 1;
pub const VERSION: &str = "1.2.0";

pub struct JwtKeys {
    secret: Vec<u8>,
    pub issuer: String,
    pub audience: String,
}

/// The subject of a token being issued.
pub struct Subject<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub is_active: bool,
    pub client_id: &'a str,
    pub grant_type: &'a str,
    pub scopes: &'a [&'a str],
}

/// What a verified token says about its bearer.
#[derive(Debug)]
pub struct VerifiedClaims {
    pub username: String,
    /// Issued-at: a token from before the user's credentials were last ended is refused.
    pub issued_at: i64,
    /// Ours carry it (a deleted client's tokens stop at once); Open edX's do not.
    pub client_id: Option<String>,
    /// None when the token carries no `scopes` claim.
    pub scopes: Option<Vec<String>>,
}

impl JwtKeys {
    pub fn new(secret: Vec<u8>, issuer: String, audience: String) -> JwtKeys {
        JwtKeys { secret, issuer, audience }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts keys of any length")
    }

    pub fn issue(&self, subject: &Subject, now: i64, lifetime: i64) -> String {
        let claims = json!({
            "aud": self.audience,
            "iss": self.issuer,
            "iat": now,
            "exp": now + lifetime,
            "grant_type": subject.grant_type,
            "preferred_username": subject.username,
            "sub": subject.username,
            "user_id": subject.user_id,
            "email": subject.email,
            "email_verified": subject.is_active,
            "name": subject.name,
            "given_name": subject.first_name,
            "family_name": subject.last_name,
            "administrator": subject.is_staff,
            "superuser": subject.is_superuser,
            "scopes": subject.scopes,
            "version": VERSION,
            "filters": [],
            "is_restricted": false,
            // Not an Open edX claim: lets a deleted client's tokens stop working at once.
            "client_id": subject.client_id,
        });
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// Checks algorithm, signature, exp/iat, issuer, audience and version; the caller then
    /// checks that the user is active and the client still exists.
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedClaims, &'static str> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a JWT");
        };
        let header: Value = decode_json(header).ok_or("bad header")?;
        if header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err("unsupported algorithm");
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| "bad signature encoding")?;
        let mut mac = self.mac();
        mac.update(&token.as_bytes()[..header_payload_len(token)]);
        mac.verify_slice(&signature).map_err(|_| "bad signature")?;
        let claims: Value = decode_json(payload).ok_or("bad payload")?;
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or("no exp")?;
        let issued_at = claims.get("iat").and_then(Value::as_i64).ok_or("no iat")?;
        if exp + LEEWAY < now {
            return Err("expired");
        }
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err("wrong issuer");
        }
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == &self.audience,
            Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(self.audience.as_str())),
            _ => false,
        };
        if !audience_ok {
            return Err("wrong audience");
        }
        let version = claims.get("version").and_then(Value::as_str).unwrap_or("1.0.0");
        if version.split('.').next().and_then(|m| m.parse::<u32>().ok()) != Some(1) {
            return Err("unsupported version");
        }
        let username = claims
            .get("preferred_username")
            .or_else(|| claims.get("username"))
            .and_then(Value::as_str)
            .ok_or("no username")?
            .to_owned();
        // Services sharing Open edX's signing secret send tokens without our client_id
        // claim; edx-drf-extensions accepts them (jwt_decode_handler checks no client).
        let client_id = claims.get("client_id").and_then(Value::as_str).map(str::to_owned);
        // A token without the claim (a service's own, signed with the shared secret) is not
        // limited by it, as edx-drf-extensions does not check scopes either.
        let scopes = claims
            .get("scopes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect());
        Ok(VerifiedClaims { username, issued_at, client_id, scopes })
    }
}

fn header_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

fn decode_json(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Whether a bearer string is shaped like a JWT (three dot-separated parts) rather than
/// an opaque token (which has no dots).
pub fn looks_like_jwt(token: &str) -> bool {
    token.matches('.').count() == 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"secret".to_vec(), "http://x/oauth2".into(), "rollcall".into())
    }

    fn subject() -> Subject<'static> {
        Subject {
            user_id: 1,
            username: "ann",
            email: "ann@example.org",
            name: "Ann",
            first_name: "",
            last_name: "",
            is_staff: true,
            is_superuser: false,
            is_active: true,
            client_id: "c1",
            grant_type: "client_credentials",
            scopes: &["read", "write"],
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let token = keys().issue(&subject(), 1000, 60);
        let claims = keys().verify(&token, 1030).unwrap();
        assert_eq!(claims.username, "ann");
        assert_eq!(keys().verify(&token, 1062).unwrap_err(), "expired");
    }

    #[test]
    fn forged_or_foreign_tokens_are_refused() {
        let token = keys().issue(&subject(), 1000, 60);
        let other = JwtKeys::new(b"other".to_vec(), "http://x/oauth2".into(), "rollcall".into());
        assert_eq!(other.verify(&token, 1000).unwrap_err(), "bad signature");
        let wrong_aud = JwtKeys::new(b"secret".to_vec(), "http://x/oauth2".into(), "else".into());
        assert_eq!(wrong_aud.verify(&token, 1000).unwrap_err(), "wrong audience");
        let (_, rest) = token.split_once('.').unwrap();
        let none = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#), rest);
        assert_eq!(keys().verify(&none, 1000).unwrap_err(), "unsupported algorithm");
    }
}
