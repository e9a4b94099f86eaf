//! Money as integer minor units plus an ISO 4217 currency code; never a float.
//! Parsed from and printed as decimal strings ("299.00"), as the APIs carry it.

use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(raw: &str) -> Result<Currency, ParseError> {
        let upper = raw.trim().to_ascii_uppercase();
        let bytes: [u8; 3] = upper
            .as_bytes()
            .try_into()
            .ok()
            .filter(|b: &[u8; 3]| b.iter().all(u8::is_ascii_uppercase))
            .ok_or_else(|| ParseError(format!("'{raw}' is not a three-letter currency code.")))?;
        Ok(Currency(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point; the few ISO currencies without minor units.
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Accepts "299", "299.5", "299.00"; refuses negatives, more decimals than the
    /// currency has, and amounts beyond a billion.
    pub fn parse(raw: &str, currency: Currency) -> Result<Money, ParseError> {
        let invalid = || ParseError(format!("'{raw}' is not a valid amount in {}.", currency.as_str()));
        let raw_trimmed = raw.trim();
        let (whole, fraction) = raw_trimmed.split_once('.').unwrap_or((raw_trimmed, ""));
        let exponent = currency.exponent();
        if whole.is_empty()
            || whole.len() > 10
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
            || fraction.len() > exponent as usize
            || (raw_trimmed.contains('.') && fraction.is_empty())
        {
            return Err(invalid());
        }
        let scale = 10i64.pow(exponent);
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let padded = format!("{fraction:0<width$}", width = exponent as usize);
        let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().map_err(|_| invalid())? };
        if whole > 1_000_000_000 {
            return Err(invalid());
        }
        Ok(Money { minor: whole * scale + fraction, currency })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// "299.00"
    pub fn amount_string(&self) -> String {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exponent);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.abs();
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_decimal_amounts() {
        let usd = Currency::USD;
        assert_eq!(Money::parse("299.00", usd).unwrap().minor(), 29900);
        assert_eq!(Money::parse("299.5", usd).unwrap().amount_string(), "299.50");
        assert_eq!(Money::parse("0", usd).unwrap().amount_string(), "0.00");
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse("1200", jpy).unwrap().amount_string(), "1200");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", "-1", "1.234", "1.", "abc", "1e5", "99999999999"] {
            assert!(Money::parse(bad, Currency::USD).is_err(), "{bad}");
        }
        assert!(Money::parse("1.5", Currency::parse("JPY").unwrap()).is_err());
        assert!(Currency::parse("US").is_err());
    }
}
