//! Password hashing: argon2id PHC strings for new hashes; Django `pbkdf2_sha256$` hashes
//! (imported Open edX accounts) verify and are flagged for upgrade at the next login.

use crate::config::AuthConfig;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use std::sync::{Condvar, Mutex, PoisonError};

pub struct Hasher {
    params: Params,
    /// Hashes in progress; argon2 holds `argon2_memory_kib` each, so this bounds memory.
    in_flight: Mutex<usize>,
    freed: Condvar,
    max_in_flight: usize,
}

pub enum Verified {
    No,
    Yes,
    /// Correct, but stored in an older scheme or cost: rehash and store.
    YesNeedsUpgrade,
}

impl Hasher {
    pub fn new(config: &AuthConfig) -> Hasher {
        let params = Params::new(config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism, None)
            .unwrap_or_default();
        Hasher {
            params,
            in_flight: Mutex::new(0),
            freed: Condvar::new(),
            max_in_flight: match config.max_concurrent_password_hashes {
                0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
                n => n,
            },
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn with_slot<T>(&self, f: impl FnOnce() -> T) -> T {
        {
            let mut n = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            while *n >= self.max_in_flight {
                n = self.freed.wait(n).unwrap_or_else(PoisonError::into_inner);
            }
            *n += 1;
        }
        // Released on drop, so a panic inside `f` cannot leak a slot.
        struct Slot<'a>(&'a Hasher);
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                *self.0.in_flight.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
                self.0.freed.notify_one();
            }
        }
        let _slot = Slot(self);
        f()
    }

    pub fn hash(&self, password: &str) -> String {
        let salt = super::secrets::random_bytes(16);
        self.with_slot(|| {
            self.argon2()
                .hash_password_with_salt(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .expect("argon2 hashing with validated parameters cannot fail")
        })
    }

    pub fn verify(&self, password: &str, stored: &str) -> Verified {
        if stored.starts_with("$argon2") {
            let ok = self.with_slot(|| self.argon2().verify_password(password.as_bytes(), stored).is_ok());
            return match (
                ok,
                stored.contains(&format!(
                    "m={},t={},p={}",
                    self.params.m_cost(),
                    self.params.t_cost(),
                    self.params.p_cost()
                )),
            ) {
                (false, _) => Verified::No,
                (true, true) => Verified::Yes,
                (true, false) => Verified::YesNeedsUpgrade,
            };
        }
        if stored.starts_with("pbkdf2_sha256$") {
            return if self.with_slot(|| verify_django_pbkdf2(password, stored)) {
                Verified::YesNeedsUpgrade
            } else {
                Verified::No
            };
        }
        Verified::No
    }

    /// Spends the time of a verification, so that "no such user" is not faster than "wrong
    /// password".
    pub fn waste_verification(&self, password: &str) {
        let _ = self.hash(password);
    }
}

/// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` as Django writes it.
fn verify_django_pbkdf2(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [_, iterations, salt, expected] = parts[..] else {
        return false;
    };
    let Ok(iterations) = iterations.parse::<u32>() else {
        return false;
    };
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
        return false;
    };
    if iterations == 0 || iterations > 10_000_000 || expected.is_empty() || expected.len() > 64 {
        return false;
    }
    let mut derived = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut derived);
    super::secrets::constant_time_eq(&derived, &expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        let config = AuthConfig { argon2_memory_kib: 64, argon2_iterations: 1, ..AuthConfig::default() };
        Hasher::new(&config)
    }

    #[test]
    fn argon2_hashes_verify() {
        let h = cheap();
        let stored = h.hash("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert!(matches!(h.verify("correct horse", &stored), Verified::Yes));
        assert!(matches!(h.verify("wrong", &stored), Verified::No));
    }

    #[test]
    fn django_pbkdf2_hashes_verify_and_ask_for_upgrade() {
        // Django's make_password("password", salt="seasalt", hasher=PBKDF2PasswordHasher(iterations=1000)).
        let mut derived = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"password", b"seasalt", 1000, &mut derived);
        let stored =
            format!("pbkdf2_sha256$1000$seasalt${}", base64::engine::general_purpose::STANDARD.encode(derived));
        let h = cheap();
        assert!(matches!(h.verify("password", &stored), Verified::YesNeedsUpgrade));
        assert!(matches!(h.verify("Password", &stored), Verified::No));
        assert!(matches!(h.verify("password", "pbkdf2_sha256$x$y"), Verified::No));
    }
}
