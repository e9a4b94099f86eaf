//! Random secrets from the OS generator, their SHA-256 digests, and constant-time compares.

use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // The OS generator failing means the machine cannot make secrets at all; nothing
    // sensible can continue.
    getrandom::fill(&mut buf).expect("the operating system's random number generator failed");
    buf
}

/// Lower-case hex SHA-256, how tokens, client secrets and session ids are stored.
pub fn sha256_hex(value: &str) -> String {
    crate::domain::hex(&Sha256::digest(value.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
