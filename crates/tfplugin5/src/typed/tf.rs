//! [`Tf<T>`]: a value that may be null or unknown, at any depth of a model, and the
//! serde glue that lets [`Tf`] and [`Number`] pass through this module's
//! (de)serializer unchanged.
//!
//! # How `Tf` meets the (de)serializer
//!
//! Serde has no notion of "unknown", so `Tf` talks to [`super::de`] and
//! [`super::ser`] through a private enum name that no real type uses:
//!
//! - **Deserialize** enters through `deserialize_option`, exactly like `Option`:
//!   null is `visit_none`, a value is `visit_some`, and so a missing struct field
//!   is `Tf::Null` as it is `None` for an `Option`. Our deserializer answers an
//!   unknown value with `visit_enum` carrying the private variant
//!   [`UNKNOWN_VARIANT`]; `Tf`'s visitor accepts it, `Option`'s refuses it (and the
//!   deserializer turns that refusal into "is unknown").
//! - **Serialize**: null is `serialize_none`, a value is `serialize_some`, unknown
//!   is `serialize_unit_variant(TF_ENUM, 0, UNKNOWN_VARIANT)`, which our serializer
//!   turns into [`Value::Unknown`](crate::Value::Unknown).
//!
//! With any other format `Tf` behaves like `Option` (an unknown comes out as the
//! string `"$tf::Unknown"`; formats such as JSON have no unknowns).
//!
//! [`Number`] keeps Terraform's arbitrary precision: a whole number in `i64` range
//! travels as an `i64`, any other as its decimal text inside the private newtype
//! [`NUMBER_STRUCT`], which our (de)serializer recognises.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, VariantAccess, Visitor};
use serde::ser::{Serialize, Serializer};

use crate::value::Number;

/// The private enum name of an unknown value.
pub(crate) const TF_ENUM: &str = "$tf::Tf";
/// The private variant name of an unknown value.
pub(crate) const UNKNOWN_VARIANT: &str = "$tf::Unknown";
/// The private newtype name of a [`Number`] in decimal text.
pub(crate) const NUMBER_STRUCT: &str = "$tf::Number";

/// A value that may be null (not set) or unknown (not known until apply).
///
/// Any field of a model that Terraform may leave unset or unknown is a `Tf`, at any
/// depth: `Tf<Vec<Tf<String>>>` is a list attribute whose elements may be unknown.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Tf<T> {
    /// Not set.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A known value.
    Known(T),
}

impl<T> Tf<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The value, when known, mutably.
    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The value, when known, by value.
    pub fn into_known(self) -> Option<T> {
        match self {
            Tf::Known(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Tf::Null)
    }

    /// Whether the value is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Tf::Unknown)
    }

    /// Whether the value is known (not null, not unknown).
    pub fn is_known(&self) -> bool {
        matches!(self, Tf::Known(_))
    }

    /// Maps a known value, keeping null and unknown.
    pub fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Tf<U> {
        match self {
            Tf::Null => Tf::Null,
            Tf::Unknown => Tf::Unknown,
            Tf::Known(v) => Tf::Known(f(v)),
        }
    }

    /// Borrows the known value.
    pub fn as_ref(&self) -> Tf<&T> {
        match self {
            Tf::Null => Tf::Null,
            Tf::Unknown => Tf::Unknown,
            Tf::Known(v) => Tf::Known(v),
        }
    }

    /// The known value, or `default` when null or unknown.
    pub fn unwrap_or(self, default: T) -> T {
        self.into_known().unwrap_or(default)
    }

    /// The known value, or the result of `f` when null or unknown.
    pub fn unwrap_or_else<F: FnOnce() -> T>(self, f: F) -> T {
        self.into_known().unwrap_or_else(f)
    }

    /// `self` when known, otherwise `other`: fills in a value that is not set or
    /// not known yet.
    pub fn or(self, other: Tf<T>) -> Tf<T> {
        match self {
            Tf::Known(v) => Tf::Known(v),
            _ => other,
        }
    }
}

impl<T: Default> Tf<T> {
    /// The known value, or `T::default()`.
    pub fn unwrap_or_default(self) -> T {
        self.into_known().unwrap_or_default()
    }
}

impl<T: std::ops::Deref> Tf<T> {
    /// Borrows through the known value: `Tf<String>` → `Tf<&str>`.
    pub fn as_deref(&self) -> Tf<&T::Target> {
        self.as_ref().map(|v| &**v)
    }
}

impl<T> From<T> for Tf<T> {
    fn from(v: T) -> Self {
        Tf::Known(v)
    }
}

impl<T> From<Option<T>> for Tf<T> {
    /// `None` is null.
    fn from(v: Option<T>) -> Self {
        v.map_or(Tf::Null, Tf::Known)
    }
}

impl<T: Serialize> Serialize for Tf<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tf::Null => serializer.serialize_none(),
            Tf::Unknown => serializer.serialize_unit_variant(TF_ENUM, 0, UNKNOWN_VARIANT),
            Tf::Known(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(TfVisitor(PhantomData))
    }
}

struct TfVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for TfVisitor<T> {
    type Value = Tf<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value, null or unknown")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Tf::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Tf::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        T::deserialize(deserializer).map(Tf::Known)
    }

    /// Only our deserializer calls this, for an unknown value.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (variant, access): (String, A::Variant) = data.variant()?;
        if variant != UNKNOWN_VARIANT {
            return Err(de::Error::unknown_variant(&variant, &[UNKNOWN_VARIANT]));
        }
        access.unit_variant()?;
        Ok(Tf::Unknown)
    }
}

// ---------------------------------------------------------------------------
// Number
// ---------------------------------------------------------------------------

/// A whole number in `i64` range is an `i64`; any other is its decimal text in the
/// private newtype [`NUMBER_STRUCT`] (a plain string in other formats).
impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_i64() {
            Some(i) => serializer.serialize_i64(i),
            None => serializer.serialize_newtype_struct(NUMBER_STRUCT, &self.to_string()),
        }
    }
}

/// Accepts integers, floats and decimal text.
impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(NUMBER_STRUCT, NumberVisitor)
    }
}

struct NumberVisitor;

impl<'de> Visitor<'de> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        if v.is_finite() {
            Ok(Number::from(v))
        } else {
            Err(E::custom(format!("expected a finite number, found {v}")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
        Number::parse(v).ok_or_else(|| E::custom(format!("expected a number, found the text {v:?}")))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Number, D::Error> {
        deserializer.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        let k: Tf<String> = Tf::from("a".to_string());
        assert_eq!(k.known().map(String::as_str), Some("a"));
        assert!(k.is_known() && !k.is_null() && !k.is_unknown());
        assert_eq!(k.as_deref(), Tf::Known("a"));
        assert_eq!(k.clone().map(|s| s.len()), Tf::Known(1));
        assert_eq!(Tf::<i64>::default(), Tf::Null);
        assert_eq!(Tf::<i64>::from(None), Tf::Null);
        assert_eq!(Tf::<i64>::from(Some(3)), Tf::Known(3));
        assert_eq!(Tf::<i64>::Unknown.unwrap_or(7), 7);
        assert_eq!(Tf::<i64>::Unknown.map(|x| x + 1), Tf::Unknown);
        assert_eq!(Tf::<i64>::Null.or(Tf::Known(2)), Tf::Known(2));
        assert_eq!(Tf::Known(1).or(Tf::Known(2)), Tf::Known(1));
        assert_eq!(Tf::<String>::Null.unwrap_or_default(), "");
    }

    #[test]
    fn behaves_like_option_in_other_formats() {
        let v: Vec<Tf<i64>> = vec![Tf::Known(1), Tf::Null];
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, "[1,null]");
        let back: Vec<Tf<i64>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);

        #[derive(serde::Deserialize, Debug)]
        struct S {
            a: Tf<String>,
        }
        let s: S = serde_json::from_str("{}").unwrap();
        assert_eq!(s.a, Tf::Null);
    }

    #[test]
    fn number_in_other_formats() {
        assert_eq!(serde_json::to_string(&Number::from(5i64)).unwrap(), "5");
        let n: Number = serde_json::from_str("2.5").unwrap();
        assert_eq!(n.as_f64(), Some(2.5));
        let n: Number = serde_json::from_str("\"123456789012345678901234567890\"").unwrap();
        assert_eq!(n.to_string(), "123456789012345678901234567890");
    }
}
