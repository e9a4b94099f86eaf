//! Signed links: HMAC-SHA256 over a purpose, the user, an expiry and the state the link is
//! meant to change, so a link expires and stops working once used. Set-password links bind
//! the current password hash and the account's privileges (a link mailed to a learner
//! cannot set the password of the superuser that account later became); email-change links
//! bind the current and the new address.

use super::secrets;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const PURPOSE: &str = "set-password";

/// What a set-password link is bound to: the account's password hash and privileges.
pub struct PasswordState<'a> {
    pub password_hash: &'a str,
    pub is_staff: bool,
    pub is_superuser: bool,
}

fn tag(secret: &[u8], user_id: i64, expires: i64, state: &PasswordState) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    let PasswordState { password_hash, is_staff, is_superuser } = state;
    mac.update(format!("{PURPOSE}|{user_id}|{expires}|{password_hash}|{is_staff}|{is_superuser}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

pub fn sign(secret: &[u8], user_id: i64, expires: i64, state: &PasswordState) -> String {
    format!("{user_id}.{expires}.{}", URL_SAFE_NO_PAD.encode(tag(secret, user_id, expires, state)))
}

/// The user id a token names, without checking it (to look the user up first).
pub fn user_of(token: &str) -> Option<i64> {
    token.split('.').next()?.parse().ok()
}

/// True when the token was signed for this user in this state, and has not expired.
pub fn verify(secret: &[u8], token: &str, user_id: i64, state: &PasswordState, now: i64) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [id, expires, signature] = parts[..] else { return false };
    let (Ok(id), Ok(expires), Ok(signature)) =
        (id.parse::<i64>(), expires.parse::<i64>(), URL_SAFE_NO_PAD.decode(signature))
    else {
        return false;
    };
    id == user_id && now <= expires && secrets::constant_time_eq(&signature, &tag(secret, user_id, expires, state))
}

const EMAIL_CHANGE: &str = "confirm-email";

fn email_tag(secret: &[u8], user_id: i64, expires: i64, current: &str, new: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    let (current, new) = (current.to_lowercase(), new.to_lowercase());
    mac.update(format!("{EMAIL_CHANGE}|{user_id}|{expires}|{current}|{new}").as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token confirming that the account `user_id`, whose address is `current`, may move to
/// `new`. Once the address has changed the token no longer verifies: it is single-use.
pub fn sign_email_change(secret: &[u8], user_id: i64, expires: i64, current: &str, new: &str) -> String {
    let tag = email_tag(secret, user_id, expires, current, new);
    format!("{user_id}.{expires}.{}.{}", URL_SAFE_NO_PAD.encode(new), URL_SAFE_NO_PAD.encode(tag))
}

/// The new address an email-change token carries, when it verifies for this user, whose
/// address is still `current`, before it expires.
pub fn verify_email_change(secret: &[u8], token: &str, user_id: i64, current: &str, now: i64) -> Option<String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [id, expires, new, signature] = parts[..] else { return None };
    let (id, expires) = (id.parse::<i64>().ok()?, expires.parse::<i64>().ok()?);
    let new = String::from_utf8(URL_SAFE_NO_PAD.decode(new).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let valid = id == user_id
        && now <= expires
        && secrets::constant_time_eq(&signature, &email_tag(secret, user_id, expires, current, &new));
    valid.then_some(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_expire_and_die_when_the_password_or_the_privileges_change() {
        let state = |hash| PasswordState { password_hash: hash, is_staff: false, is_superuser: false };
        let token = sign(b"k", 7, 100, &state("old-hash"));
        assert_eq!(user_of(&token), Some(7));
        assert!(verify(b"k", &token, 7, &state("old-hash"), 50));
        assert!(!verify(b"k", &token, 7, &state("old-hash"), 101), "expired");
        assert!(!verify(b"k", &token, 7, &state("new-hash"), 50), "used");
        assert!(!verify(b"other", &token, 7, &state("old-hash"), 50), "forged");
        assert!(!verify(b"k", &token, 8, &state("old-hash"), 50), "another user");
        let promoted = PasswordState { password_hash: "old-hash", is_staff: true, is_superuser: true };
        assert!(!verify(b"k", &token, 7, &promoted, 50), "promoted since");
    }

    #[test]
    fn email_change_links_carry_the_new_address_and_die_once_it_is_taken() {
        let token = sign_email_change(b"k", 7, 100, "old@x.org", "new@x.org");
        assert_eq!(user_of(&token), Some(7));
        assert_eq!(verify_email_change(b"k", &token, 7, "OLD@x.org", 50).as_deref(), Some("new@x.org"));
        assert_eq!(verify_email_change(b"k", &token, 7, "new@x.org", 50), None, "used");
        assert_eq!(verify_email_change(b"k", &token, 7, "old@x.org", 101), None, "expired");
        assert_eq!(verify_email_change(b"other", &token, 7, "old@x.org", 50), None, "forged");
        let swapped = token.replacen(&URL_SAFE_NO_PAD.encode("new@x.org"), &URL_SAFE_NO_PAD.encode("evil@x.org"), 1);
        assert_eq!(verify_email_change(b"k", &swapped, 7, "old@x.org", 50), None, "another address");
    }
}
