//! Values parsed once at the edge. Holding one means it is valid: the core never re-checks
//! strings (zero2prod's "parse, don't validate").

mod address_block;
mod caller;
mod card_number;
mod course_key;
mod email;
mod fraction;
mod learning_path_key;
mod money;
mod profile;
mod text;
mod timestamp;
mod username;
mod uuid;

pub use address_block::AddressBlock;
pub use caller::{AuthMethod, Credentials, Principal, User, CSRF_COOKIE, INSUFFICIENT_SCOPE, SESSION_COOKIE};
pub use card_number::CardNumber;
pub use course_key::CourseKey;
pub use email::Email;
pub use fraction::Fraction;
pub use learning_path_key::LearningPathKey;
pub use money::{Currency, Money};
pub use profile::Profile;
pub use text::{CourseCode, Description, Label, StoredText, Text, Title, TEXT_PATTERN, URL_MAX_CHARS};
pub use timestamp::Timestamp;
pub use username::Username;
pub use uuid::Uuid;

/// The string keys and names the store keeps. `from_stored` takes a value read back from
/// the database as it is: only parsed values are written there (imports parse too), and a
/// row already kept must render as it was stored, not be refused or re-cased on the way out.
/// Each serialises as its string, as the surfaces print it.
macro_rules! stored_string {
    ($($name:ident),*) => {$(
        impl $name {
            pub fn from_stored(raw: String) -> $name {
                $name(raw)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    )*};
}
pub(crate) use stored_string;

/// Why a value was refused, written for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex of `bytes` (digests, tokens, UUIDs), from a table: `format!` per byte
/// cost a few hundred instructions a byte on the request path.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod hex_tests {
    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
    }
}
