//! Terraform's numbers: arbitrary-precision decimals, kept as `i64`, `f64` or
//! exact decimal text.

use std::fmt;

/// A Terraform number. Terraform's numbers are arbitrary-precision decimals; most
/// fit an `i64`, a few are binary floats, and the rest travel as decimal text.
///
/// Equality is numeric: `Int(3)`, `Float(3.0)` and `Big("3.0")` are equal. A whole
/// `Float` in `i64` range stands for its exact value (it is written as an integer);
/// any other `Float` equals the decimal that is its shortest round-trip
/// representation, as Terraform writes it, so `Float(0.1) == Big("0.1")`.
#[derive(Clone, Debug)]
pub enum Number {
    /// An integer in `i64` range.
    Int(i64),
    /// A binary floating-point number (never NaN when decoded).
    Float(f64),
    /// A decimal kept exactly as text, such as `"0.1"` or
    /// `"123456789012345678901234567890"`. Accepts an optional sign, digits with an
    /// optional fraction, and an optional exponent (`"-1.5e300"`).
    Big(String),
}

impl Number {
    /// Reads decimal text: an integer that fits `i64` becomes [`Number::Int`], any
    /// other valid decimal is kept exactly as [`Number::Big`]. `None` when the text is
    /// not a decimal number.
    pub fn parse(text: &str) -> Option<Number> {
        let d = Decimal::parse(text)?;
        Some(match d.to_i64() {
            Some(i) => Number::Int(i),
            None => Number::Big(text.to_string()),
        })
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) => f64_to_i64_exact(*f),
            Number::Big(s) => Decimal::parse(s)?.to_i64(),
        }
    }

    /// The value as the nearest `f64` (which may be infinite for huge decimals);
    /// `None` only for a `Big` that is not a decimal or a NaN `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::Float(f) if f.is_nan() => None,
            Number::Float(f) => Some(*f),
            Number::Big(s) => Decimal::parse(s)?.to_f64(),
        }
    }

    /// Whether the number is a whole number.
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
            Number::Big(s) => Decimal::parse(s).is_some_and(|d| d.exponent >= 0),
        }
    }

    /// Whether Terraform can hold this number: not NaN, and a `Big` is a decimal.
    pub fn is_valid(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => !f.is_nan(),
            Number::Big(s) => Decimal::parse(s).is_some(),
        }
    }

    /// The exact decimal value, for comparisons. `None` for non-finite floats and
    /// malformed text.
    fn decimal(&self) -> Option<Decimal> {
        match self {
            Number::Int(i) => Decimal::parse(&i.to_string()),
            Number::Float(f) => match f64_to_i64_exact(*f) {
                Some(i) => Decimal::parse(&i.to_string()),
                // `{:e}` prints the shortest text that reads back as the same float.
                None if f.is_finite() => Decimal::parse(&format!("{f:e}")),
                None => None,
            },
            Number::Big(s) => Decimal::parse(s),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Int(i), Number::Float(f)) | (Number::Float(f), Number::Int(i)) => f64_to_i64_exact(*f) == Some(*i),
            _ => match (self.decimal(), other.decimal()) {
                (Some(a), Some(b)) => a == b,
                _ => matches!((self, other), (Number::Big(a), Number::Big(b)) if a == b),
            },
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Big(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<i32> for Number {
    fn from(i: i32) -> Number {
        Number::Int(i64::from(i))
    }
}

impl From<u32> for Number {
    fn from(i: u32) -> Number {
        Number::Int(i64::from(i))
    }
}

impl From<u64> for Number {
    fn from(u: u64) -> Number {
        match i64::try_from(u) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::Big(u.to_string()),
        }
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Number {
        Number::Float(f)
    }
}

/// `f` as an `i64` when it is a whole number in range.
pub(super) fn f64_to_i64_exact(f: f64) -> Option<i64> {
    // 2^63 is exact as an f64; every whole f64 in [-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// A decimal in canonical form: `digits × 10^exponent`, where `digits` has neither
/// leading nor trailing zeros (empty for zero, which is never negative).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// `[+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?`; exponents beyond 18 digits are
    /// refused as absurd.
    pub(super) fn parse(text: &str) -> Option<Decimal> {
        let b = text.as_bytes();
        let mut pos = 0;
        let negative = match b.first() {
            Some(b'-') => {
                pos += 1;
                true
            }
            Some(b'+') => {
                pos += 1;
                false
            }
            _ => false,
        };
        let take_digits = |pos: &mut usize| -> &[u8] {
            let start = *pos;
            while b.get(*pos).is_some_and(u8::is_ascii_digit) {
                *pos += 1;
            }
            b.get(start..*pos).unwrap_or(&[])
        };
        let int = take_digits(&mut pos);
        let frac = if b.get(pos) == Some(&b'.') {
            pos += 1;
            take_digits(&mut pos)
        } else {
            &[]
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut exponent: i64 = 0;
        if matches!(b.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            let exp_negative = match b.get(pos) {
                Some(b'-') => {
                    pos += 1;
                    true
                }
                Some(b'+') => {
                    pos += 1;
                    false
                }
                _ => false,
            };
            let digits = take_digits(&mut pos);
            let significant: &[u8] = match digits.iter().position(|&d| d != b'0') {
                Some(first) => digits.get(first..).unwrap_or(&[]),
                None => &[],
            };
            if digits.is_empty() || significant.len() > 18 {
                return None;
            }
            for &d in significant {
                exponent = exponent * 10 + i64::from(d - b'0');
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if pos != b.len() {
            return None;
        }
        let mut digits: Vec<u8> = int.iter().chain(frac).map(|d| d - b'0').skip_while(|&d| d == 0).collect();
        exponent = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?;
        while digits.last() == Some(&0) {
            digits.pop();
            exponent = exponent.checked_add(1)?;
        }
        if digits.is_empty() {
            return Some(Decimal { negative: false, digits, exponent: 0 });
        }
        Some(Decimal { negative, digits, exponent })
    }

    pub(super) fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 {
            return None;
        }
        let len = i64::try_from(self.digits.len()).ok()?;
        if len.checked_add(self.exponent)? > 19 {
            return None;
        }
        let mut v: i128 = 0;
        for &d in &self.digits {
            v = v * 10 + i128::from(d);
        }
        for _ in 0..self.exponent {
            v *= 10;
        }
        i64::try_from(if self.negative { -v } else { v }).ok()
    }

    fn to_f64(&self) -> Option<f64> {
        self.to_text().parse().ok()
    }

    /// Canonical text that is also valid JSON: `-123e-2`, `0`.
    pub(super) fn to_text(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let mut s = String::with_capacity(self.digits.len() + 8);
        if self.negative {
            s.push('-');
        }
        s.extend(self.digits.iter().map(|&d| char::from(b'0' + d)));
        if self.exponent != 0 {
            s.push('e');
            s.push_str(&self.exponent.to_string());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{encode_json, Type, Value};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn number_equality_is_numeric() {
        assert_eq!(Number::Int(3), Number::Float(3.0));
        assert_eq!(Number::Int(3), Number::Big("3.000".into()));
        assert_eq!(Number::Big("+3e0".into()), Number::Big("0.03e2".into()));
        assert_eq!(Number::Float(0.1), Number::Big("0.1".into()));
        assert_eq!(Number::Int(0), Number::Big("-0.0".into()));
        assert_ne!(Number::Int(3), Number::Float(3.5));
        assert_ne!(Number::Big("1e400".into()), Number::Float(f64::INFINITY));
        assert_ne!(Number::Float(i64::MAX as f64), Number::Int(i64::MAX));
        // Whole floats beyond 2^53 are their exact value, not their shortest text.
        let f = -3.605861927958356e17;
        assert_eq!(Number::Float(f), Number::Int(-360_586_192_795_835_584));
        assert_ne!(Number::Float(f), Number::Big("-360586192795835600".into()));
        assert_eq!(encode_json(&Value::float(f), &Type::Number).unwrap(), b"-360586192795835584");
        round_trip(&Value::float(f), &Type::Number);
        assert_eq!(Number::Big("garbage".into()), Number::Big("garbage".into()));
        assert_eq!(Number::parse("1e3"), Some(Number::Int(1000)));
        assert!(matches!(Number::parse("1e3"), Some(Number::Int(1000))));
        assert!(matches!(Number::parse("0.5"), Some(Number::Big(_))));
        for bad in ["", "-", ".", "e5", "1e", "1e1000000000000000000000", "inf", "NaN", "0x10", "1 "] {
            assert_eq!(Number::parse(bad), None, "{bad}");
        }
        assert_eq!(Number::Big("9223372036854775807".into()).as_i64(), Some(i64::MAX));
        assert_eq!(Number::Big("-9223372036854775808".into()).as_i64(), Some(i64::MIN));
        assert_eq!(Number::Big("9223372036854775808".into()).as_i64(), None);
        assert_eq!(Number::Big("1e100000000000000000".into()).as_i64(), None);
        assert_eq!(Number::Big("1e100000000000000000".into()).as_f64(), Some(f64::INFINITY));
        assert_eq!(Number::Float(2.5).as_i64(), None);
        assert!(Number::Big("12.000".into()).is_integer());
        assert_eq!(Number::from(u64::MAX), Number::Big(u64::MAX.to_string()));
        assert_eq!(Number::Big("0.1".into()).to_string(), "0.1");
    }

    proptest! {
        // At least 512 cases; PROPTEST_CASES may ask for more.
        #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

        #[test]
        fn numbers_equal_their_decimal_text(i in any::<i64>(), f in prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO | prop::num::f64::NEGATIVE | prop::num::f64::POSITIVE) {
            prop_assert_eq!(Number::Int(i), Number::Big(i.to_string()));
            if let Some(j) = f64_to_i64_exact(i as f64) {
                prop_assert_eq!(Number::Float(i as f64), Number::Int(j));
            }
            let json = String::from_utf8(encode_json(&Value::float(f), &Type::Number).unwrap_or_default()).unwrap_or_default();
            prop_assert_eq!(Number::parse(&json), Some(Number::Float(f)));
            prop_assert_eq!(Number::parse(&json).and_then(|n| n.as_f64()), Some(f));
            prop_assert_eq!(Number::parse(&f.to_string()).and_then(|n| n.as_f64()), Some(f));
            if f64_to_i64_exact(f).is_none() {
                prop_assert_eq!(Number::Float(f), Number::Big(f.to_string()));
                prop_assert_eq!(Number::Float(f), Number::Big(format!("{f:e}")));
            }
        }
    }
}
