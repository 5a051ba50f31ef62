//! Reading a [`Value`] into a Rust type: a serde `Deserializer` over `&Value`.
//!
//! - Null is `None` for an `Option` and [`Tf::Null`](super::Tf::Null) for a `Tf`; any
//!   other type refuses it ("expected a string, found null").
//! - Unknown is [`Tf::Unknown`](super::Tf::Unknown); anything else refuses it with
//!   "is unknown", `Option` included (an `Option` holds null or a known value).
//! - Numbers go into any integer type when whole and in range (a range error says
//!   the range), into `f32`/`f64`, or into a [`Number`] unchanged.
//! - Lists, sets and tuples are sequences; objects are structs; maps are maps.
//!   Struct fields missing from an object behave as serde makes them: `Option`,
//!   `Tf` and `#[serde(default)]` fields take their default, others are an error.
//! - A value of type `dynamic` reads as its concrete value.
//!
//! Every error carries the path where it happened (`items[1].name`).

use std::collections::btree_map;
use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use super::tf::{NUMBER_STRUCT, UNKNOWN_VARIANT};
use crate::diag::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::value::{Number, Value};

/// A value that does not fit a Rust type, or a Rust value that does not fit a
/// Terraform type: where (the attribute path) and what (in words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedError {
    /// Where inside the value; empty for the whole value.
    pub path: AttrPath,
    /// What was wrong, in words ("expected a whole number from 0 to 65535, found 70000").
    pub message: String,
}

impl TypedError {
    /// An error about the whole value.
    pub fn new(message: impl Into<String>) -> Self {
        TypedError { path: AttrPath::default(), message: message.into() }
    }

    /// An error at `path`.
    pub fn at(path: AttrPath, message: impl Into<String>) -> Self {
        TypedError { path, message: message.into() }
    }

    /// Prefixes the path with the step leading to where the error happened.
    pub(crate) fn under(mut self, step: PathStep) -> Self {
        self.path.0.insert(0, step);
        self
    }

    /// The path, `None` for the whole value (as diagnostics want it).
    pub fn diag_path(&self) -> Option<AttrPath> {
        (!self.path.0.is_empty()).then(|| self.path.clone())
    }

    /// An error diagnostic with summary `summary`; the detail is `context` (when not
    /// empty) followed by this error, and the diagnostic points at the path.
    pub fn to_diagnostic(&self, summary: &str, context: &str) -> Diagnostic {
        let detail = if context.is_empty() { format!("{self}.") } else { format!("{context}: {self}.") };
        Diagnostic { severity: Severity::Error, summary: summary.to_string(), detail, path: self.diag_path() }
    }
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.0.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for TypedError {}

/// Separates an unknown field's message from the list of the model's fields.
pub(crate) const FIELDS_ARE: &str = "; the fields are: ";

impl de::Error for TypedError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TypedError::new(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        TypedError::at(
            AttrPath::attr(field),
            "is missing from the value: the model requires this field but the schema has no such attribute",
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        TypedError::at(AttrPath::attr(field), format!("is not a field of the model{FIELDS_ARE}{}", expected.join(", ")))
    }
}

impl serde::ser::Error for TypedError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TypedError::new(msg.to_string())
    }
}

/// The error as one error diagnostic: summary "Invalid value", pointing at the path.
impl From<TypedError> for Diagnostics {
    fn from(e: TypedError) -> Diagnostics {
        Diagnostics::from(e.to_diagnostic("Invalid value", ""))
    }
}

/// Reads `v` into a `T`.
pub fn from_value<T: DeserializeOwned>(v: &Value) -> Result<T, TypedError> {
    T::deserialize(ValueDeserializer::new(v))
}

/// A serde `Deserializer` over a borrowed [`Value`]. Usually used through
/// [`from_value`]; public so a value can be read into a type borrowing from it.
#[derive(Clone, Copy)]
pub struct ValueDeserializer<'de> {
    value: &'de Value,
}

impl<'de> ValueDeserializer<'de> {
    pub fn new(value: &'de Value) -> Self {
        ValueDeserializer { value: value.concrete() }
    }

    fn unknown_error(&self) -> TypedError {
        TypedError::new(
            "is unknown (known only after apply), but the model's field cannot hold an unknown value; make it a Tf<...>",
        )
    }

    fn invalid(&self, expected: &str) -> TypedError {
        match self.value {
            Value::Unknown => self.unknown_error(),
            other => TypedError::new(format!("expected {expected}, found {}", describe(other))),
        }
    }

    fn number(&self, expected: &str) -> Result<&'de Number, TypedError> {
        match self.value {
            Value::Number(n) => Ok(n),
            _ => Err(self.invalid(expected)),
        }
    }

    /// A whole number that fits `T`, with the range in the error.
    fn integer<T>(&self, min: i128, max: i128) -> Result<T, TypedError>
    where
        T: TryFrom<i128>,
    {
        let n = self.number("a whole number")?;
        let range = || format!("expected a whole number from {min} to {max}, found {n}");
        let whole: i128 = match n.as_i64() {
            Some(i) => i128::from(i),
            // Beyond i64: only whole decimal text without fraction or exponent is
            // read; anything else is out of every integer range or not whole.
            None => match n.to_string().parse::<i128>() {
                Ok(i) => i,
                Err(_) if n.is_integer() => return Err(TypedError::new(range())),
                Err(_) => return Err(TypedError::new(format!("expected a whole number, found {n}"))),
            },
        };
        if whole < min || whole > max {
            return Err(TypedError::new(range()));
        }
        T::try_from(whole).map_err(|_| TypedError::new(range()))
    }

    fn float(&self) -> Result<f64, TypedError> {
        let n = self.number("a number")?;
        n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| TypedError::new(format!("the number {n} is out of range")))
    }

    fn string(&self) -> Result<&'de str, TypedError> {
        match self.value {
            Value::String(s) => Ok(s),
            _ => Err(self.invalid("a string")),
        }
    }

    fn list(&self, expected: &str) -> Result<&'de [Value], TypedError> {
        match self.value {
            Value::List(items) => Ok(items),
            _ => Err(self.invalid(expected)),
        }
    }

    fn entries(&self, expected: &str) -> Result<&'de std::collections::BTreeMap<String, Value>, TypedError> {
        match self.value {
            Value::Map(m) => Ok(m),
            _ => Err(self.invalid(expected)),
        }
    }

    fn visit_seq<V: Visitor<'de>>(self, visitor: V, expected: &str) -> Result<V::Value, TypedError> {
        let items = self.list(expected)?;
        let mut access = Seq { iter: items.iter().enumerate(), len: items.len() };
        let out = visitor.visit_seq(&mut access)?;
        match access.iter.next() {
            None => Ok(out),
            Some(_) => Err(TypedError::new(format!("expected fewer elements, found {}", items.len()))),
        }
    }

    fn visit_entries<V: Visitor<'de>>(
        self,
        visitor: V,
        expected: &str,
        step: fn(&str) -> PathStep,
    ) -> Result<V::Value, TypedError> {
        let entries = self.entries(expected)?;
        visitor.visit_map(Entries { iter: entries.iter(), current: None, step })
    }
}

/// "a string \"x\"", "null", "a list of 2 elements": what was found, for messages.
pub(crate) fn describe(v: &Value) -> String {
    match v.concrete() {
        Value::Null => "null".to_string(),
        Value::Unknown => "an unknown value".to_string(),
        Value::Bool(b) => format!("the bool {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("the string {head:?}...")
        }
        Value::String(s) => format!("the string {s:?}"),
        Value::List(items) => format!("a list of {} element{}", items.len(), if items.len() == 1 { "" } else { "s" }),
        Value::Map(m) => format!("an object or map with {} entr{}", m.len(), if m.len() == 1 { "y" } else { "ies" }),
        Value::Dynamic(_) => "a dynamic value".to_string(),
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
            visitor.$visit(self.integer::<$ty>(i128::try_from(<$ty>::MIN).unwrap_or(i128::MIN), i128::try_from(<$ty>::MAX).unwrap_or(i128::MAX))?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = TypedError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Unknown => Err(self.unknown_error()),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => visitor.visit_i64(i),
                None => match n.to_string().parse::<u64>() {
                    Ok(u) => visitor.visit_u64(u),
                    Err(_) => visitor.visit_f64(self.float()?),
                },
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::List(_) => self.visit_seq(visitor, "a list"),
            Value::Map(_) => self.visit_entries(visitor, "an object", |k| PathStep::Attr(k.to_string())),
            // `concrete()` removed the wrapper in `new`; kept for completeness.
            Value::Dynamic(inner) => ValueDeserializer::new(&inner.1).deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.invalid("a bool")),
        }
    }

    deserialize_integer! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        let f = self.float()?;
        if f.abs() > f64::from(f32::MAX) {
            return Err(TypedError::new(format!("the number {f} is out of range for a 32-bit float")));
        }
        visitor.visit_f32(f as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_f64(self.float()?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        let s = self.string()?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(TypedError::new(format!("expected a single character, found {}", describe(self.value)))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_borrowed_bytes(self.string()?.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            // `Tf`'s visitor takes this; `Option`'s refuses it, which is "is unknown".
            Value::Unknown => visitor.visit_enum(UnknownAccess).map_err(|_| self.unknown_error()),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.invalid("null")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        if name == NUMBER_STRUCT {
            let n = self.number("a number")?;
            return match n.as_i64() {
                Some(i) => visitor.visit_i64(i),
                None => visitor.visit_string(n.to_string()),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.visit_seq(visitor, "a list")
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, TypedError> {
        let items = self.list("a list")?;
        if items.len() != len {
            return Err(TypedError::new(format!("expected a list of {len} elements, found {}", items.len())));
        }
        self.visit_seq(visitor, "a list")
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.visit_entries(visitor, "a map", |k| PathStep::Key(k.to_string()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        self.visit_entries(visitor, "an object", |k| PathStep::Attr(k.to_string()))
    }

    /// A string is a unit variant; an object with one attribute is the variant of
    /// that name with its content (serde's external tagging).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Map(m) if m.len() == 1 => match m.iter().next() {
                Some((tag, content)) => visitor
                    .visit_enum(Variant { tag, content })
                    .map_err(|e: TypedError| e.under(PathStep::Attr(tag.clone()))),
                None => Err(self.invalid("a string or an object with one attribute")),
            },
            _ => Err(self.invalid("a string or an object with one attribute")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TypedError> {
        visitor.visit_unit()
    }
}

struct Seq<'de> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    len: usize,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = TypedError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, TypedError> {
        match self.iter.next() {
            None => Ok(None),
            Some((i, v)) => seed
                .deserialize(ValueDeserializer::new(v))
                .map(Some)
                .map_err(|e| e.under(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

struct Entries<'de> {
    iter: btree_map::Iter<'de, String, Value>,
    current: Option<(&'de String, &'de Value)>,
    step: fn(&str) -> PathStep,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = TypedError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, TypedError> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.current = Some((k, v));
                let key: BorrowedStrDeserializer<'de, TypedError> = BorrowedStrDeserializer::new(k);
                seed.deserialize(key).map(Some).map_err(
                    |e| {
                        if e.path.0.is_empty() {
                            e.under((self.step)(k))
                        } else {
                            e
                        }
                    },
                )
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TypedError> {
        match self.current.take() {
            Some((k, v)) => seed.deserialize(ValueDeserializer::new(v)).map_err(|e| e.under((self.step)(k))),
            None => Err(TypedError::new("internal error: a map value was read before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The content of an externally tagged enum: `{"variant": content}`.
struct Variant<'de> {
    tag: &'de str,
    content: &'de Value,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = TypedError;
    type Variant = ValueDeserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), TypedError> {
        let tag: BorrowedStrDeserializer<'de, TypedError> = BorrowedStrDeserializer::new(self.tag);
        Ok((seed.deserialize(tag)?, ValueDeserializer::new(self.content)))
    }
}

impl<'de> VariantAccess<'de> for ValueDeserializer<'de> {
    type Error = TypedError;

    fn unit_variant(self) -> Result<(), TypedError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, TypedError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, TypedError> {
        de::Deserializer::deserialize_tuple(self, len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TypedError> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

/// What an unknown value offers a visitor: the private variant only `Tf` accepts.
struct UnknownAccess;

impl<'de> EnumAccess<'de> for UnknownAccess {
    type Error = TypedError;
    type Variant = UnknownAccess;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), TypedError> {
        let tag: BorrowedStrDeserializer<'de, TypedError> = BorrowedStrDeserializer::new(UNKNOWN_VARIANT);
        Ok((seed.deserialize(tag)?, UnknownAccess))
    }
}

impl<'de> VariantAccess<'de> for UnknownAccess {
    type Error = TypedError;

    fn unit_variant(self) -> Result<(), TypedError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, TypedError> {
        Err(TypedError::new("an unknown value has no content"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, TypedError> {
        Err(TypedError::new("an unknown value has no content"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, TypedError> {
        Err(TypedError::new("an unknown value has no content"))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;
    use crate::typed::Tf;
    use crate::Type;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Item {
        name: String,
        port: Tf<u16>,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Model {
        items: Vec<Item>,
        tags: Tf<BTreeMap<String, Tf<String>>>,
        maybe: Option<i64>,
        #[serde(default)]
        flag: bool,
    }

    fn item(name: &str, port: Value) -> Value {
        Value::object([("name", Value::string(name)), ("port", port)])
    }

    #[test]
    fn reads_nested_values() {
        let v = Value::object([
            ("items", Value::list(vec![item("a", Value::int(80)), item("b", Value::Unknown)])),
            ("tags", Value::map([("k", Value::string("v")), ("u", Value::Unknown)])),
            ("maybe", Value::Null),
        ]);
        let m: Model = from_value(&v).unwrap();
        assert_eq!(
            m,
            Model {
                items: vec![
                    Item { name: "a".into(), port: Tf::Known(80) },
                    Item { name: "b".into(), port: Tf::Unknown }
                ],
                tags: Tf::Known(BTreeMap::from([("k".into(), Tf::Known("v".into())), ("u".into(), Tf::Unknown)])),
                maybe: None,
                flag: false,
            }
        );
    }

    #[test]
    fn unknown_and_null_at_any_depth() {
        let t: Tf<Vec<Tf<String>>> = from_value(&Value::Unknown).unwrap();
        assert_eq!(t, Tf::Unknown);
        let t: Tf<Vec<Tf<String>>> = from_value(&Value::Null).unwrap();
        assert_eq!(t, Tf::Null);
        let t: Tf<Vec<Tf<String>>> =
            from_value(&Value::list(vec![Value::string("a"), Value::Unknown, Value::Null])).unwrap();
        assert_eq!(t, Tf::Known(vec![Tf::Known("a".into()), Tf::Unknown, Tf::Null]));
        // Through a dynamic wrapper.
        let t: Tf<String> = from_value(&Value::dynamic(Type::String, Value::string("d"))).unwrap();
        assert_eq!(t, Tf::Known("d".into()));
    }

    #[test]
    fn errors_carry_the_path() {
        let v = Value::object([
            ("items", Value::list(vec![item("a", Value::int(1)), item("b", Value::int(1))])),
            ("tags", Value::Null),
            ("maybe", Value::Null),
        ]);
        let mut bad = v.clone();
        if let Some(Value::List(items)) = bad.get_attr_mut("items") {
            items[1].set_attr("name", Value::int(3));
        }
        let e = from_value::<Model>(&bad).unwrap_err();
        assert_eq!(e.path.to_string(), "items[1].name");
        assert_eq!(e.message, "expected a string, found the number 3");
        assert_eq!(e.to_string(), "items[1].name: expected a string, found the number 3");

        let bad = v.clone().with_attr("tags", Value::map([("k", Value::bool(true))]));
        let e = from_value::<Model>(&bad).unwrap_err();
        assert_eq!(e.path, AttrPath::attr("tags").key("k"));

        // A plain type refuses unknown, Option included.
        let bad = v.clone().with_attr("maybe", Value::Unknown);
        let e = from_value::<Model>(&bad).unwrap_err();
        assert_eq!(e.path, AttrPath::attr("maybe"));
        assert!(e.message.starts_with("is unknown"), "{e}");
        let e = from_value::<String>(&Value::Unknown).unwrap_err();
        assert!(e.message.starts_with("is unknown"), "{e}");
        let e = from_value::<String>(&Value::Null).unwrap_err();
        assert_eq!(e.message, "expected a string, found null");
    }

    #[test]
    fn missing_fields_behave_as_serde_does() {
        // Option, Tf and #[serde(default)] fields may be missing; others may not.
        let v = Value::object([("items", Value::list(vec![item("a", Value::Null)]))]);
        let m: Model = from_value(&v).unwrap();
        assert_eq!(m.tags, Tf::Null);
        assert_eq!(m.maybe, None);
        let v = Value::object([("items", Value::list(vec![Value::object([("port", Value::int(1))])]))]);
        let e = from_value::<Model>(&v).unwrap_err();
        assert_eq!(e.path.to_string(), "items[0].name");
        assert!(e.message.starts_with("is missing"), "{e}");
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(from_value::<u16>(&Value::int(65535)).unwrap(), 65535);
        let e = from_value::<u16>(&Value::int(65536)).unwrap_err();
        assert_eq!(e.message, "expected a whole number from 0 to 65535, found 65536");
        let e = from_value::<u32>(&Value::int(-1)).unwrap_err();
        assert_eq!(e.message, "expected a whole number from 0 to 4294967295, found -1");
        let e = from_value::<i64>(&Value::float(1.5)).unwrap_err();
        assert_eq!(e.message, "expected a whole number, found 1.5");
        assert_eq!(from_value::<i64>(&Value::float(3.0)).unwrap(), 3);
        let big = Value::Number(Number::parse("18446744073709551615").unwrap());
        assert_eq!(from_value::<u64>(&big).unwrap(), u64::MAX);
        let e = from_value::<i64>(&big).unwrap_err();
        assert!(e.message.starts_with("expected a whole number from -9223372036854775808"), "{e}");
        let huge = Value::Number(Number::parse("1e40").unwrap());
        assert!(from_value::<u128>(&huge).is_err());
        assert_eq!(from_value::<f64>(&Value::int(2)).unwrap(), 2.0);
        assert_eq!(from_value::<f64>(&Value::float(0.25)).unwrap(), 0.25);
    }

    #[test]
    fn numbers_pass_through() {
        let n: Number = from_value(&Value::int(7)).unwrap();
        assert_eq!(n, Number::from(7i64));
        let exact = Number::parse("0.1000000000000000000001").unwrap();
        let n: Number = from_value(&Value::Number(exact.clone())).unwrap();
        assert_eq!(n, exact);
        let t: Tf<Number> = from_value(&Value::Unknown).unwrap();
        assert_eq!(t, Tf::Unknown);
        assert!(from_value::<Number>(&Value::string("1")).is_err());
    }

    #[test]
    fn enums_and_tuples() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(rename_all = "snake_case")]
        enum Mode {
            Fast,
            Slow,
        }
        assert_eq!(from_value::<Mode>(&Value::string("slow")).unwrap(), Mode::Slow);
        let e = from_value::<Mode>(&Value::string("medium")).unwrap_err();
        assert!(e.message.contains("unknown variant"), "{e}");
        let t: Tf<Mode> = from_value(&Value::Unknown).unwrap();
        assert_eq!(t, Tf::Unknown);
        let _ = Mode::Fast;

        let pair: (String, i64) = from_value(&Value::list(vec![Value::string("a"), Value::int(1)])).unwrap();
        assert_eq!(pair, ("a".to_string(), 1));
        let e = from_value::<(String, i64)>(&Value::list(vec![Value::string("a")])).unwrap_err();
        assert_eq!(e.message, "expected a list of 2 elements, found 1");
    }

    #[test]
    fn diagnostics_point_at_the_path() {
        let e = from_value::<Vec<u8>>(&Value::list(vec![Value::int(1), Value::int(300)])).unwrap_err();
        let d: Diagnostics = e.into();
        assert_eq!(d.len(), 1);
        let d = &d.0[0];
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.summary, "Invalid value");
        assert_eq!(d.path, Some(AttrPath(vec![PathStep::Index(1)])));
        assert_eq!(d.detail, "[1]: expected a whole number from 0 to 255, found 300.");
    }
}
