//! Payment card numbers: 13–19 digits passing the Luhn check. Never printed, not even by
//! `Debug`; only the last four digits leave this type.

use super::ParseError;

pub struct CardNumber(String);

impl CardNumber {
    /// Spaces and dashes between digit groups are allowed.
    pub fn parse(raw: &str) -> Result<CardNumber, ParseError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError("The card number must be 13 to 19 digits.".into()));
        }
        if !luhn(&digits) {
            return Err(ParseError("The card number is not valid.".into()));
        }
        Ok(CardNumber(digits))
    }

    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber(**** {})", self.last_four())
    }
}

#[cfg(test)]
mod tests {
    use super::CardNumber;

    #[test]
    fn accepts_luhn_valid_numbers_and_never_shows_them() {
        let card = CardNumber::parse("4242 4242 4242 4242").unwrap();
        assert_eq!(card.last_four(), "4242");
        assert_eq!(format!("{card:?}"), "CardNumber(**** 4242)");
        for bad in ["4242424242424241", "1234", "abcd efgh ijkl mnop", "42424242424242424242"] {
            assert!(CardNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
