//! A share between 0 and 1 inclusive (a completion or a grade), as Open edX's completion
//! aggregator and grades report `percent`.

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Fraction(f64);

impl Fraction {
    pub fn parse(value: f64) -> Result<Fraction, ParseError> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(Fraction(value))
        } else {
            Err(ParseError(format!("{value} is not between 0 and 1.")))
        }
    }

    /// From text ("0.85"), as a CSV cell holds it.
    pub fn parse_text(raw: &str) -> Result<Fraction, ParseError> {
        let value: f64 =
            raw.trim().parse().map_err(|_| ParseError(format!("'{raw}' is not a number between 0 and 1.")))?;
        Fraction::parse(value)
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Fraction;

    #[test]
    fn only_shares_from_zero_to_one_inclusive() {
        assert_eq!(Fraction::parse(0.0).unwrap().value(), 0.0);
        assert_eq!(Fraction::parse(1.0).unwrap().value(), 1.0);
        assert_eq!(Fraction::parse_text(" 0.85 ").unwrap().value(), 0.85);
        for bad in [-0.01, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Fraction::parse(bad).is_err(), "{bad}");
        }
        assert!(Fraction::parse_text("85%").is_err());
    }
}
