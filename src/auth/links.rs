//! Signed set-password links: HMAC-SHA256 over the user, an expiry and the user's current
//! password hash, so a link expires, and stops working once used (the hash changes).

use super::secrets;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const PURPOSE: &str = "set-password";

fn tag(secret: &[u8], user_id: i64, expires: i64, password_hash: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{PURPOSE}|{user_id}|{expires}|{password_hash}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub fn sign(secret: &[u8], user_id: i64, expires: i64, password_hash: &str) -> String {
    format!("{user_id}.{expires}.{}", URL_SAFE_NO_PAD.encode(tag(secret, user_id, expires, password_hash)))
}

/// The user id a token names, without checking it (to look the user up first).
pub fn user_of(token: &str) -> Option<i64> {
    token.split('.').next()?.parse().ok()
}

/// True when the token was signed for this user and hash, and has not expired.
pub fn verify(secret: &[u8], token: &str, user_id: i64, password_hash: &str, now: i64) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [id, expires, signature] = parts[..] else { return false };
    let (Ok(id), Ok(expires), Ok(signature)) =
        (id.parse::<i64>(), expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(signature))
    else {
        return false;
    };
    id == user_id
        && now <= expires
        && secrets::constant_time_eq(&signature, &tag(secret, user_id, expires, password_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_expire_and_die_when_the_password_changes() {
        let token = sign(b"k", 7, 100, "old-hash");
        assert_eq!(user_of(&token), Some(7));
        assert!(verify(b"k", &token, 7, "old-hash", 50));
        assert!(!verify(b"k", &token, 7, "old-hash", 101), "expired");
        assert!(!verify(b"k", &token, 7, "new-hash", 50), "used");
        assert!(!verify(b"other", &token, 7, "old-hash", 50), "forged");
        assert!(!verify(b"k", &token, 8, "old-hash", 50), "another user");
    }
}
