//! Terraform values and the two encodings of the plugin protocol's `DynamicValue`.
//!
//! A [`Value`] is untyped on its own: decoding and encoding are driven by the
//! [`Type`] the schema declares. Any value at any depth may be null or unknown.
//!
//! **msgpack** (what Terraform sends and expects): null is `nil`, unknown is any
//! extension value (Terraform uses type 0, and 12 for refined unknowns), strings are
//! `str`, numbers are integers, floats or a `str` holding a decimal too large or too
//! precise for either, lists, sets and tuples are arrays, maps and objects are maps
//! with string keys. A known value of type `dynamic` is the array
//! `[type JSON as bytes, value]`.
//!
//! **JSON** (stored state handed to `UpgradeResourceState`, and the optional JSON
//! form of a `DynamicValue`): plain JSON without unknowns; a value of type `dynamic`
//! is `{"value": ..., "type": ...}`; an attribute missing from an object is null.
//!
//! Decoders take bytes from the network: they never panic, bound nesting by
//! [`MAX_DEPTH`], and report failures with the path where they happened.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::types::Type;

/// The deepest value the codecs accept: the top-level value is depth 0, and each
/// element, attribute, map entry or the payload of a dynamic value adds one.
pub const MAX_DEPTH: usize = 64;

/// The msgpack extension written for an unknown value (Terraform's own choice).
const UNKNOWN_EXT: i8 = 0;

// ---------------------------------------------------------------------------
// Paths and errors
// ---------------------------------------------------------------------------

/// One step of a path into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An object attribute.
    Attr(String),
    /// An element of a list, set or tuple.
    Index(i64),
    /// An element of a map.
    Key(String),
}

impl PathStep {
    fn index(i: usize) -> PathStep {
        PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX))
    }
}

/// Renders a path as `.remote_pod_cidrs[1]` or `.tags["Name"]`.
pub fn format_path(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Attr(a) => {
                out.push('.');
                out.push_str(a);
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
            PathStep::Key(k) => out.push_str(&format!("[{k:?}]")),
        }
    }
    out
}

fn fmt_located(f: &mut fmt::Formatter<'_>, path: &[PathStep], message: &str) -> fmt::Result {
    if path.is_empty() {
        f.write_str(message)
    } else {
        write!(f, "{}: {message}", format_path(path))
    }
}

/// Bytes that do not hold a value of the expected type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    /// Where inside the value decoding failed; empty for the whole value.
    pub path: Vec<PathStep>,
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_located(f, &self.path, &self.message)
    }
}

impl DecodeError {
    fn new(message: impl Into<String>) -> Self {
        DecodeError { path: Vec::new(), message: message.into() }
    }

    /// Prefixes the path with the step leading to where the error happened.
    fn under(mut self, step: PathStep) -> Self {
        self.path.insert(0, step);
        self
    }
}

/// A value that does not conform to the type it is encoded as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct EncodeError {
    /// Where inside the value encoding failed; empty for the whole value.
    pub path: Vec<PathStep>,
    /// What was wrong, in words.
    pub message: String,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_located(f, &self.path, &self.message)
    }
}

impl EncodeError {
    fn new(message: impl Into<String>) -> Self {
        EncodeError { path: Vec::new(), message: message.into() }
    }

    fn under(mut self, step: PathStep) -> Self {
        self.path.insert(0, step);
        self
    }
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

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
fn f64_to_i64_exact(f: f64) -> Option<i64> {
    // 2^63 is exact as an f64; every whole f64 in [-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// A decimal in canonical form: `digits × 10^exponent`, where `digits` has neither
/// leading nor trailing zeros (empty for zero, which is never negative).
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// `[+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)?`; exponents beyond 18 digits are
    /// refused as absurd.
    fn parse(text: &str) -> Option<Decimal> {
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

    fn to_i64(&self) -> Option<i64> {
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
    fn to_text(&self) -> String {
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

/// Whether `s` follows JSON's number grammar exactly.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut pos = 0;
    if b.first() == Some(&b'-') {
        pos += 1;
    }
    let digits = |pos: &mut usize| {
        let start = *pos;
        while b.get(*pos).is_some_and(u8::is_ascii_digit) {
            *pos += 1;
        }
        *pos - start
    };
    let int_start = pos;
    let n = digits(&mut pos);
    if n == 0 || (n > 1 && b.get(int_start) == Some(&b'0')) {
        return false;
    }
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        if digits(&mut pos) == 0 {
            return false;
        }
    }
    if matches!(b.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(b.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        if digits(&mut pos) == 0 {
            return false;
        }
    }
    pos == b.len()
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// A Terraform value of some [`Type`] known from context (the schema).
///
/// Lists, sets and tuples are all [`Value::List`]; maps and objects are
/// [`Value::Map`]. Sets keep the order they arrived in. A value in a position of
/// type `dynamic` that is neither null nor unknown carries its concrete type as
/// [`Value::Dynamic`]; the accessors look through that wrapper.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// Null: not set.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// The elements of a list, set or tuple.
    List(Vec<Value>),
    /// The entries of a map, or the attributes of an object.
    Map(BTreeMap<String, Value>),
    /// A value together with its concrete type, in a position of type `dynamic`.
    Dynamic(Box<(Type, Value)>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A whole number.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// A floating-point number.
    pub fn float(f: f64) -> Value {
        Value::Number(Number::Float(f))
    }

    /// Any number.
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    /// A bool.
    pub fn bool(b: bool) -> Value {
        Value::Bool(b)
    }

    /// A list (also fits a set or tuple type).
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// A set; the same representation as a list.
    pub fn set(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// A tuple; the same representation as a list.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    /// An object from `(name, value)` pairs. Attributes of the object type that are
    /// left out encode as null.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(attrs: I) -> Value {
        Value::Map(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A map from `(key, value)` pairs; the same representation as an object.
    pub fn map<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(entries: I) -> Value {
        Value::object(entries)
    }

    /// A value of concrete type `ty` for a position of type `dynamic`.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(Box::new((ty, value)))
    }

    /// The value inside any [`Value::Dynamic`] wrappers.
    pub fn concrete(&self) -> &Value {
        let mut v = self;
        while let Value::Dynamic(inner) = v {
            v = &inner.1;
        }
        v
    }

    fn concrete_mut(&mut self) -> &mut Value {
        let mut v = self;
        while let Value::Dynamic(inner) = v {
            v = &mut inner.1;
        }
        v
    }

    /// The concrete type carried by a [`Value::Dynamic`].
    pub fn dynamic_type(&self) -> Option<&Type> {
        match self {
            Value::Dynamic(inner) => Some(&inner.0),
            _ => None,
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self.concrete(), Value::Null)
    }

    /// Whether the value as a whole is unknown (elements may be unknown even when
    /// this is false: see [`Value::is_fully_known`]).
    pub fn is_unknown(&self) -> bool {
        matches!(self.concrete(), Value::Unknown)
    }

    /// Whether the value as a whole is known.
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// Whether no part of the value, at any depth, is unknown.
    pub fn is_fully_known(&self) -> bool {
        match self.concrete() {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_fully_known),
            Value::Map(entries) => entries.values().all(Value::is_fully_known),
            _ => true,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.concrete() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.concrete() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.concrete() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a known whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The number as an `f64`, if this is a known number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(Number::as_f64)
    }

    /// The elements, if this is a known list, set or tuple.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self.concrete() {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries or attributes, if this is a known map or object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.concrete() {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// One attribute of a known object (or entry of a map). `None` when this is not a
    /// known object or has no such attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// One attribute, mutably.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.concrete_mut() {
            Value::Map(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// One element of a known list, set or tuple.
    pub fn get_index(&self, i: usize) -> Option<&Value> {
        self.as_list().and_then(|items| items.get(i))
    }

    /// The value at a path, as diagnostics name it.
    pub fn get_path(&self, path: &[PathStep]) -> Option<&Value> {
        path.iter().try_fold(self, |v, step| match step {
            PathStep::Attr(name) | PathStep::Key(name) => v.get_attr(name),
            PathStep::Index(i) => v.get_index(usize::try_from(*i).ok()?),
        })
    }

    /// Sets an attribute of an object (or entry of a map), returning the one it
    /// replaced. Setting an attribute on anything that is not a known object, such
    /// as null, first makes it an empty object.
    pub fn set_attr(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        let target = self.concrete_mut();
        if !matches!(target, Value::Map(_)) {
            *target = Value::Map(BTreeMap::new());
        }
        match target {
            Value::Map(m) => m.insert(name.into(), value),
            _ => None,
        }
    }

    /// [`Value::set_attr`] in builder form.
    pub fn with_attr(mut self, name: impl Into<String>, value: Value) -> Value {
        self.set_attr(name, value);
        self
    }

    /// The type this value would have on its own, used when a plain value sits in a
    /// position of type `dynamic`: lists become tuples and maps become objects, and
    /// null or unknown parts become `dynamic`.
    pub fn infer_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::Tuple(items.iter().map(Value::infer_type).collect()),
            Value::Map(entries) => Type::Object(entries.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect()),
            Value::Dynamic(inner) => inner.0.clone(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a map or object",
            Value::Dynamic(_) => "a dynamic value",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::float(f)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` is null.
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// An article and a name for a type, for messages: "a string", "an object".
fn expected(ty: &Type) -> String {
    let name = ty.to_string();
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

fn depth_check(depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        Err(format!("the value nests deeper than {MAX_DEPTH} levels"))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// msgpack
// ---------------------------------------------------------------------------

type Mp = rmpv::Value;

/// Decodes a msgpack `DynamicValue` of type `ty`. No bytes decode as null.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    // rmpv counts about two levels per container; this admits every value within
    // MAX_DEPTH (dynamic values add a level each) and stops nesting bombs early.
    let mp = rmpv::decode::read_value_with_max_depth(&mut rd, 4 * MAX_DEPTH + 16)
        .map_err(|e| DecodeError::new(format!("malformed msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(DecodeError::new(format!("{} unexpected bytes after the value", rd.len())));
    }
    from_msgpack(mp, ty, 0)
}

fn mp_kind(v: &Mp) -> &'static str {
    match v {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) => "an integer",
        Mp::F32(_) | Mp::F64(_) => "a float",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(..) => "an extension value",
    }
}

/// Why a msgpack value is not a string.
enum NotAString {
    /// A `str` or `bin` that is not UTF-8.
    BadUtf8,
    /// Some other kind of value, handed back.
    Other(Mp),
}

/// A msgpack `str` (or `bin`) holding UTF-8.
fn mp_string(v: Mp) -> Result<String, NotAString> {
    match v {
        Mp::String(s) => s.into_str().ok_or(NotAString::BadUtf8),
        Mp::Binary(b) => String::from_utf8(b).map_err(|_| NotAString::BadUtf8),
        other => Err(NotAString::Other(other)),
    }
}

fn mismatch(ty: &Type, found: &Mp) -> DecodeError {
    DecodeError::new(format!("expected {}, found {}", expected(ty), mp_kind(found)))
}

fn from_msgpack(mp: Mp, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
    depth_check(depth).map_err(DecodeError::new)?;
    match mp {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(..) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let Mp::Array(items) = mp else {
                return Err(DecodeError::new(format!(
                    "expected a dynamic value ([type, value]), found {}",
                    mp_kind(&mp)
                )));
            };
            let mut items = items.into_iter();
            let (Some(type_json), Some(inner), None) = (items.next(), items.next(), items.next()) else {
                return Err(DecodeError::new("a dynamic value must be an array of its type and its value"));
            };
            let type_json = match type_json {
                Mp::Binary(b) => b,
                Mp::String(s) => s.into_bytes(),
                other => {
                    return Err(DecodeError::new(format!(
                        "the type of a dynamic value must be JSON bytes, found {}",
                        mp_kind(&other)
                    )))
                }
            };
            let concrete = Type::from_json_bytes(&type_json).map_err(|e| DecodeError::new(e.to_string()))?;
            let inner = from_msgpack(inner, &concrete, depth + 1)?;
            Ok(wrap_dynamic(concrete, inner))
        }
        Type::String => match mp_string(mp) {
            Ok(s) => Ok(Value::String(s)),
            Err(NotAString::BadUtf8) => Err(DecodeError::new("a string is not valid UTF-8")),
            Err(NotAString::Other(other)) => Err(mismatch(ty, &other)),
        },
        Type::Bool => match mp {
            Mp::Boolean(b) => Ok(Value::Bool(b)),
            other => Err(mismatch(ty, &other)),
        },
        Type::Number => match mp {
            Mp::Integer(i) => match (i.as_i64(), i.as_u64()) {
                (Some(i), _) => Ok(Value::int(i)),
                (None, Some(u)) => Ok(Value::number(u)),
                (None, None) => Err(DecodeError::new("an integer is out of range")),
            },
            Mp::F32(f) => float_value(f64::from(f)),
            Mp::F64(f) => float_value(f),
            other => match mp_string(other) {
                Ok(s) => Number::parse(&s)
                    .map(Value::Number)
                    .ok_or_else(|| DecodeError::new(format!("{} is not a valid number", quote(&s)))),
                Err(NotAString::BadUtf8) => Err(DecodeError::new("a number's text is not valid UTF-8")),
                Err(NotAString::Other(other)) => Err(mismatch(ty, &other)),
            },
        },
        Type::List(elem) | Type::Set(elem) => match mp {
            Mp::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| from_msgpack(item, elem, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            other => Err(mismatch(ty, &other)),
        },
        Type::Tuple(elems) => match mp {
            Mp::Array(items) if items.len() == elems.len() => items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_msgpack(item, t, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            Mp::Array(items) => {
                Err(DecodeError::new(format!("expected a tuple of {} elements, found {}", elems.len(), items.len())))
            }
            other => Err(mismatch(ty, &other)),
        },
        Type::Map(elem) => {
            let Mp::Map(entries) = mp else { return Err(mismatch(ty, &mp)) };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = mp_string(k).map_err(|_| DecodeError::new("a map key is not a UTF-8 string"))?;
                let v = from_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::Key(key.clone())))?;
                if let Some(_previous) = out.insert(key.clone(), v) {
                    return Err(DecodeError::new(format!("duplicate map key {}", quote(&key))));
                }
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Mp::Map(entries) = mp else { return Err(mismatch(ty, &mp)) };
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let name = mp_string(k).map_err(|_| DecodeError::new("an attribute name is not a UTF-8 string"))?;
                let Some(attr_ty) = attrs.get(&name) else {
                    return Err(DecodeError::new(format!("unsupported attribute {}", quote(&name))));
                };
                let v = from_msgpack(v, attr_ty, depth + 1).map_err(|e| e.under(PathStep::Attr(name.clone())))?;
                if out.insert(name.clone(), v).is_some() {
                    return Err(DecodeError::new(format!("duplicate attribute {}", quote(&name))));
                }
            }
            if let Some(missing) = attrs.keys().find(|k| !out.contains_key(*k)) {
                return Err(DecodeError::new(format!("missing attribute {}", quote(missing))));
            }
            Ok(Value::Map(out))
        }
    }
}

/// A decoded dynamic value. One whose concrete type is itself `dynamic` adds
/// nothing, so the payload stands alone (and encodes back the same way).
fn wrap_dynamic(concrete: Type, inner: Value) -> Value {
    match concrete {
        Type::Dynamic => inner,
        concrete => Value::dynamic(concrete, inner),
    }
}

/// The concrete type and payload of a value in a position of type `dynamic`:
/// a [`Value::Dynamic`] names its own (a `dynamic` one is looked through), and a
/// plain value gets its inferred type.
fn split_dynamic(value: &Value) -> (Cow<'_, Type>, &Value) {
    let mut v = value;
    loop {
        match v {
            Value::Dynamic(d) if d.0 == Type::Dynamic => v = &d.1,
            Value::Dynamic(d) => return (Cow::Borrowed(&d.0), &d.1),
            other => return (Cow::Owned(other.infer_type()), other),
        }
    }
}

fn float_value(f: f64) -> Result<Value, DecodeError> {
    if f.is_nan() {
        Err(DecodeError::new("NaN is not a number Terraform can hold"))
    } else {
        Ok(Value::float(f))
    }
}

/// A string quoted for messages, cut short when long.
fn quote(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}...", s.get(..cut).unwrap_or_default()),
        None => format!("{s:?}"),
    }
}

/// Encodes `value` as a msgpack `DynamicValue` of type `ty`, checking that it
/// conforms: object attributes left out of the value are encoded as null, and any
/// attribute the type lacks is an error. In a position of type `dynamic`, a
/// [`Value::Dynamic`] is written with its own type and any other known value with
/// its [inferred type](Value::infer_type); elsewhere a [`Value::Dynamic`] stands
/// for its payload.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mp = to_msgpack(value, ty, 0)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &mp).map_err(|e| EncodeError::new(format!("msgpack encoding failed: {e}")))?;
    Ok(out)
}

fn unexpected(ty: &Type, v: &Value) -> EncodeError {
    EncodeError::new(format!("expected {}, found {}", expected(ty), v.kind()))
}

fn to_msgpack(value: &Value, ty: &Type, depth: usize) -> Result<Mp, EncodeError> {
    depth_check(depth).map_err(EncodeError::new)?;
    if let Type::Dynamic = ty {
        let (concrete, inner) = split_dynamic(value);
        if *concrete == Type::Dynamic {
            // Only null and unknown have no concrete type: they stand alone.
            return match inner {
                Value::Null => Ok(Mp::Nil),
                Value::Unknown => Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
                other => Err(unexpected(ty, other)),
            };
        }
        let inner = to_msgpack(inner, &concrete, depth + 1)?;
        return Ok(Mp::Array(vec![Mp::Binary(concrete.to_json_bytes()), inner]));
    }
    // A dynamic wrapper in a position of a concrete type: its payload must fit.
    let value = value.concrete();
    match value {
        Value::Null => return Ok(Mp::Nil),
        Value::Unknown => return Ok(Mp::Ext(UNKNOWN_EXT, vec![0])),
        _ => {}
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => Ok(Mp::from(s.as_str())),
        (Type::Bool, Value::Bool(b)) => Ok(Mp::Boolean(*b)),
        (Type::Number, Value::Number(n)) => number_to_msgpack(n),
        (Type::List(elem) | Type::Set(elem), Value::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| to_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::index(i))))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Array),
        (Type::Tuple(elems), Value::List(items)) => {
            if items.len() != elems.len() {
                return Err(EncodeError::new(format!(
                    "expected a tuple of {} elements, found {}",
                    elems.len(),
                    items.len()
                )));
            }
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| to_msgpack(v, t, depth + 1).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Array)
        }
        (Type::Map(elem), Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| {
                let v = to_msgpack(v, elem, depth + 1).map_err(|e| e.under(PathStep::Key(k.clone())))?;
                Ok((Mp::from(k.as_str()), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Map),
        (Type::Object(attrs), Value::Map(entries)) => {
            check_no_extra_attrs(attrs, entries)?;
            attrs
                .iter()
                .map(|(name, t)| {
                    let v = match entries.get(name) {
                        Some(v) => to_msgpack(v, t, depth + 1).map_err(|e| e.under(PathStep::Attr(name.clone())))?,
                        None => Mp::Nil,
                    };
                    Ok((Mp::from(name.as_str()), v))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Map)
        }
        (ty, value) => Err(unexpected(ty, value)),
    }
}

fn check_no_extra_attrs(attrs: &BTreeMap<String, Type>, entries: &BTreeMap<String, Value>) -> Result<(), EncodeError> {
    match entries.keys().find(|k| !attrs.contains_key(*k)) {
        Some(extra) => Err(EncodeError::new(format!("the object type has no attribute {}", quote(extra)))),
        None => Ok(()),
    }
}

/// Numbers as Terraform writes them: an integer when exact, else a float when the
/// number is one, else decimal text.
fn number_to_msgpack(n: &Number) -> Result<Mp, EncodeError> {
    match n {
        Number::Int(i) => Ok(Mp::from(*i)),
        Number::Float(f) if f.is_nan() => Err(EncodeError::new("NaN is not a number Terraform can hold")),
        Number::Float(f) => Ok(match f64_to_i64_exact(*f) {
            Some(i) => Mp::from(i),
            None => Mp::F64(*f),
        }),
        Number::Big(s) => match Decimal::parse(s) {
            None => Err(EncodeError::new(format!("{} is not a valid number", quote(s)))),
            Some(d) => Ok(match d.to_i64() {
                Some(i) => Mp::from(i),
                None => Mp::from(s.as_str()),
            }),
        },
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/// Decodes a JSON `DynamicValue` (or stored state) of type `ty`. No bytes decode
/// as null; an object attribute that is absent is null, and a key the object type
/// lacks is an error.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_json_with(bytes, ty, false)
}

/// [`decode_json`] that ignores object keys the type lacks, for reading state
/// written by an older schema that had attributes since removed.
pub fn decode_json_lenient(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    decode_json_with(bytes, ty, true)
}

fn decode_json_with(bytes: &[u8], ty: &Type, ignore_extra_keys: bool) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    // Dynamic values wrap both their value and their type JSON in extra levels.
    let doc = json::parse(bytes, 4 * MAX_DEPTH + 16).map_err(|e| DecodeError::new(e.to_string()))?;
    from_json(doc, ty, 0, ignore_extra_keys)
}

fn from_json(doc: json::Json, ty: &Type, depth: usize, lenient: bool) -> Result<Value, DecodeError> {
    use json::Json as J;
    depth_check(depth).map_err(DecodeError::new)?;
    let mismatch = |found: &J| DecodeError::new(format!("expected {}, found {}", expected(ty), found.kind()));
    match (ty, doc) {
        (_, J::Null) => Ok(Value::Null),
        (Type::Dynamic, J::Object(entries)) => {
            let mut concrete = None;
            let mut inner = None;
            for (k, v) in entries {
                let slot = match k.as_str() {
                    "type" => &mut concrete,
                    "value" => &mut inner,
                    other => {
                        return Err(DecodeError::new(format!(
                            "a dynamic value has only \"value\" and \"type\", found {}",
                            quote(other)
                        )))
                    }
                };
                if slot.replace(v).is_some() {
                    return Err(DecodeError::new(format!("duplicate key {} in a dynamic value", quote(&k))));
                }
            }
            let Some(type_json) = concrete else {
                return Err(DecodeError::new("a dynamic value lacks its \"type\""));
            };
            let concrete = Type::from_json(&type_json.into_serde()).map_err(|e| DecodeError::new(e.to_string()))?;
            let inner = match inner {
                Some(v) => from_json(v, &concrete, depth + 1, lenient)?,
                None => Value::Null,
            };
            Ok(wrap_dynamic(concrete, inner))
        }
        (Type::Dynamic, other) => Err(DecodeError::new(format!(
            "expected a dynamic value ({{\"value\": ..., \"type\": ...}}), found {}",
            other.kind()
        ))),
        // Primitives convert as Terraform converts them when reading state.
        (Type::String, J::String(s)) => Ok(Value::String(s)),
        (Type::String, J::Number(n)) => Ok(Value::String(n)),
        (Type::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::Number, J::Number(n)) => Number::parse(&n)
            .map(Value::Number)
            .ok_or_else(|| DecodeError::new(format!("{} is not a number", quote(&n)))),
        (Type::Number, J::String(s)) => Number::parse(&s)
            .map(Value::Number)
            .ok_or_else(|| DecodeError::new(format!("{} is not a valid number", quote(&s)))),
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(b)),
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Type::List(elem) | Type::Set(elem), J::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| from_json(item, elem, depth + 1, lenient).map_err(|e| e.under(PathStep::index(i))))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        (Type::Tuple(elems), J::Array(items)) => {
            if items.len() != elems.len() {
                return Err(DecodeError::new(format!(
                    "expected a tuple of {} elements, found {}",
                    elems.len(),
                    items.len()
                )));
            }
            items
                .into_iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_json(item, t, depth + 1, lenient).map_err(|e| e.under(PathStep::index(i))))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List)
        }
        (Type::Map(elem), J::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let v = from_json(v, elem, depth + 1, lenient).map_err(|e| e.under(PathStep::Key(k.clone())))?;
                if out.contains_key(&k) {
                    return Err(DecodeError::new(format!("duplicate map key {}", quote(&k))));
                }
                out.insert(k, v);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), J::Object(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let Some(attr_ty) = attrs.get(&k) else {
                    if lenient {
                        continue;
                    }
                    return Err(DecodeError::new(format!("unsupported attribute {}", quote(&k))));
                };
                let v = from_json(v, attr_ty, depth + 1, lenient).map_err(|e| e.under(PathStep::Attr(k.clone())))?;
                if out.contains_key(&k) {
                    return Err(DecodeError::new(format!("duplicate attribute {}", quote(&k))));
                }
                out.insert(k, v);
            }
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Ok(Value::Map(out))
        }
        (_, other) => Err(mismatch(&other)),
    }
}

/// Encodes `value` as JSON of type `ty`. Unknown values cannot be written as JSON
/// and are an error; otherwise conformance is checked as by [`encode_msgpack`].
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut out = String::new();
    write_json(&mut out, value, ty, 0)?;
    Ok(out.into_bytes())
}

fn write_json(out: &mut String, value: &Value, ty: &Type, depth: usize) -> Result<(), EncodeError> {
    depth_check(depth).map_err(EncodeError::new)?;
    if let Type::Dynamic = ty {
        let (concrete, inner) = split_dynamic(value);
        if *concrete == Type::Dynamic {
            // Only null and unknown have no concrete type: they stand alone.
            return match inner {
                Value::Null => {
                    out.push_str("null");
                    Ok(())
                }
                Value::Unknown => Err(EncodeError::new("an unknown value cannot be written as JSON")),
                other => Err(unexpected(ty, other)),
            };
        }
        out.push_str("{\"value\":");
        write_json(out, inner, &concrete, depth + 1)?;
        out.push_str(",\"type\":");
        out.push_str(&concrete.to_json().to_string());
        out.push('}');
        return Ok(());
    }
    // A dynamic wrapper in a position of a concrete type: its payload must fit.
    let value = value.concrete();
    match value {
        Value::Null => {
            out.push_str("null");
            return Ok(());
        }
        Value::Unknown => return Err(EncodeError::new("an unknown value cannot be written as JSON")),
        _ => {}
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => json::write_string(out, s),
        (Type::Bool, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Type::Number, Value::Number(n)) => out.push_str(&number_to_json(n)?),
        (Type::List(elem) | Type::Set(elem), Value::List(items)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v, elem, depth + 1).map_err(|e| e.under(PathStep::index(i)))?;
            }
            out.push(']');
        }
        (Type::Tuple(elems), Value::List(items)) => {
            if items.len() != elems.len() {
                return Err(EncodeError::new(format!(
                    "expected a tuple of {} elements, found {}",
                    elems.len(),
                    items.len()
                )));
            }
            out.push('[');
            for (i, (v, t)) in items.iter().zip(elems).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v, t, depth + 1).map_err(|e| e.under(PathStep::index(i)))?;
            }
            out.push(']');
        }
        (Type::Map(elem), Value::Map(entries)) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, k);
                out.push(':');
                write_json(out, v, elem, depth + 1).map_err(|e| e.under(PathStep::Key(k.clone())))?;
            }
            out.push('}');
        }
        (Type::Object(attrs), Value::Map(entries)) => {
            check_no_extra_attrs(attrs, entries)?;
            out.push('{');
            for (i, (name, t)) in attrs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(out, name);
                out.push(':');
                match entries.get(name) {
                    Some(v) => write_json(out, v, t, depth + 1).map_err(|e| e.under(PathStep::Attr(name.clone())))?,
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        (ty, value) => return Err(unexpected(ty, value)),
    }
    Ok(())
}

fn number_to_json(n: &Number) -> Result<String, EncodeError> {
    match n {
        Number::Int(i) => Ok(i.to_string()),
        // Exactly, when whole: beyond 2^53 the shortest text is another integer.
        Number::Float(f) => match f64_to_i64_exact(*f) {
            Some(i) => Ok(i.to_string()),
            // Rust prints the shortest text that reads back as the same float,
            // without an exponent: always valid JSON for a finite float.
            None if f.is_finite() => Ok(f.to_string()),
            None => Err(EncodeError::new(format!("{f} cannot be written as JSON"))),
        },
        Number::Big(s) if is_json_number(s) => Ok(s.clone()),
        Number::Big(s) => Decimal::parse(s)
            .map(|d| d.to_text())
            .ok_or_else(|| EncodeError::new(format!("{} is not a valid number", quote(s)))),
    }
}

/// A small JSON reader that keeps numbers as their exact text (serde_json would
/// round big ones to `f64`), keeps duplicate keys visible, and bounds nesting.
mod json {
    use std::fmt;

    /// A parsed JSON document; object members keep their order and duplicates.
    pub(super) enum Json {
        Null,
        Bool(bool),
        Number(String),
        String(String),
        Array(Vec<Json>),
        Object(Vec<(String, Json)>),
    }

    impl Json {
        pub(super) fn kind(&self) -> &'static str {
            match self {
                Json::Null => "null",
                Json::Bool(_) => "a bool",
                Json::Number(_) => "a number",
                Json::String(_) => "a string",
                Json::Array(_) => "an array",
                Json::Object(_) => "an object",
            }
        }

        /// The same document as a `serde_json::Value` (numbers that serde_json cannot
        /// hold become null; they never matter where this is used, in type specs).
        pub(super) fn into_serde(self) -> serde_json::Value {
            use serde_json::Value as S;
            match self {
                Json::Null => S::Null,
                Json::Bool(b) => S::Bool(b),
                Json::Number(n) => n.parse::<serde_json::Number>().map_or(S::Null, S::Number),
                Json::String(s) => S::String(s),
                Json::Array(items) => S::Array(items.into_iter().map(Json::into_serde).collect()),
                Json::Object(entries) => S::Object(entries.into_iter().map(|(k, v)| (k, v.into_serde())).collect()),
            }
        }
    }

    pub(super) struct ParseError {
        offset: usize,
        message: &'static str,
    }

    impl fmt::Display for ParseError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "malformed JSON at byte {}: {}", self.offset, self.message)
        }
    }

    /// Parses one JSON document, with nothing but whitespace after it.
    pub(super) fn parse(bytes: &[u8], max_depth: usize) -> Result<Json, ParseError> {
        if let Err(e) = std::str::from_utf8(bytes) {
            return Err(ParseError { offset: e.valid_up_to(), message: "not UTF-8" });
        }
        let mut p = Parser { b: bytes, pos: 0, max_depth };
        let v = p.value(0)?;
        p.skip_ws();
        if p.pos != bytes.len() {
            return Err(p.err("unexpected data after the value"));
        }
        Ok(v)
    }

    struct Parser<'a> {
        b: &'a [u8],
        pos: usize,
        max_depth: usize,
    }

    impl Parser<'_> {
        fn err(&self, message: &'static str) -> ParseError {
            ParseError { offset: self.pos, message }
        }

        fn peek(&self) -> Option<u8> {
            self.b.get(self.pos).copied()
        }

        fn next(&mut self) -> Option<u8> {
            let c = self.peek()?;
            self.pos += 1;
            Some(c)
        }

        fn skip_ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.pos += 1;
            }
        }

        fn expect(&mut self, c: u8, message: &'static str) -> Result<(), ParseError> {
            self.skip_ws();
            if self.peek() == Some(c) {
                self.pos += 1;
                Ok(())
            } else {
                Err(self.err(message))
            }
        }

        fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
            if depth > self.max_depth {
                return Err(self.err("nested too deeply"));
            }
            self.skip_ws();
            match self.peek() {
                None => Err(self.err("unexpected end of input")),
                Some(b'n') => self.literal(b"null", Json::Null),
                Some(b't') => self.literal(b"true", Json::Bool(true)),
                Some(b'f') => self.literal(b"false", Json::Bool(false)),
                Some(b'"') => self.string().map(Json::String),
                Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
                Some(b'[') => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(Json::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.skip_ws();
                        match self.next() {
                            Some(b',') => continue,
                            Some(b']') => return Ok(Json::Array(items)),
                            _ => return Err(self.err("expected ',' or ']' in an array")),
                        }
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    let mut entries = Vec::new();
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(Json::Object(entries));
                    }
                    loop {
                        self.skip_ws();
                        if self.peek() != Some(b'"') {
                            return Err(self.err("expected a string key in an object"));
                        }
                        let key = self.string()?;
                        self.expect(b':', "expected ':' after an object key")?;
                        let v = self.value(depth + 1)?;
                        entries.push((key, v));
                        self.skip_ws();
                        match self.next() {
                            Some(b',') => continue,
                            Some(b'}') => return Ok(Json::Object(entries)),
                            _ => return Err(self.err("expected ',' or '}' in an object")),
                        }
                    }
                }
                Some(_) => Err(self.err("expected a JSON value")),
            }
        }

        fn literal(&mut self, word: &[u8], v: Json) -> Result<Json, ParseError> {
            if self.b.get(self.pos..self.pos.saturating_add(word.len())) == Some(word) {
                self.pos += word.len();
                Ok(v)
            } else {
                Err(self.err("expected a JSON value"))
            }
        }

        fn digits(&mut self) -> usize {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            self.pos - start
        }

        fn number(&mut self) -> Result<String, ParseError> {
            let start = self.pos;
            if self.peek() == Some(b'-') {
                self.pos += 1;
            }
            let int_start = self.pos;
            let n = self.digits();
            if n == 0 || (n > 1 && self.b.get(int_start) == Some(&b'0')) {
                return Err(self.err("malformed number"));
            }
            if self.peek() == Some(b'.') {
                self.pos += 1;
                if self.digits() == 0 {
                    return Err(self.err("malformed number"));
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                if self.digits() == 0 {
                    return Err(self.err("malformed number"));
                }
            }
            let text = self.b.get(start..self.pos).ok_or_else(|| self.err("malformed number"))?;
            std::str::from_utf8(text).map(str::to_string).map_err(|_| self.err("malformed number"))
        }

        fn hex4(&mut self) -> Result<u32, ParseError> {
            let mut v = 0;
            for _ in 0..4 {
                let d = self
                    .next()
                    .and_then(|c| char::from(c).to_digit(16))
                    .ok_or_else(|| self.err("malformed \\u escape"))?;
                v = v * 16 + d;
            }
            Ok(v)
        }

        /// A string starting at the opening quote. The input is known to be UTF-8
        /// and the parser only splits it at ASCII bytes, so copied runs stay UTF-8.
        fn string(&mut self) -> Result<String, ParseError> {
            self.pos += 1;
            let mut out: Vec<u8> = Vec::new();
            loop {
                let Some(c) = self.next() else { return Err(self.err("unterminated string")) };
                match c {
                    b'"' => break,
                    b'\\' => {
                        let unescaped = match self.next() {
                            Some(b'"') => '"',
                            Some(b'\\') => '\\',
                            Some(b'/') => '/',
                            Some(b'b') => '\u{8}',
                            Some(b'f') => '\u{c}',
                            Some(b'n') => '\n',
                            Some(b'r') => '\r',
                            Some(b't') => '\t',
                            Some(b'u') => {
                                let hi = self.hex4()?;
                                let code = if (0xD800..0xDC00).contains(&hi) {
                                    if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                                        return Err(self.err("unpaired surrogate in a \\u escape"));
                                    }
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.err("unpaired surrogate in a \\u escape"));
                                    }
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                } else {
                                    hi
                                };
                                char::from_u32(code).ok_or_else(|| self.err("unpaired surrogate in a \\u escape"))?
                            }
                            _ => return Err(self.err("unknown escape in a string")),
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(unescaped.encode_utf8(&mut buf).as_bytes());
                    }
                    0x00..=0x1f => return Err(self.err("unescaped control character in a string")),
                    other => out.push(other),
                }
            }
            String::from_utf8(out).map_err(|_| self.err("not UTF-8"))
        }
    }

    /// Appends `s` as a JSON string literal.
    pub(super) fn write_string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn obj_type() -> Type {
        Type::object([
            ("name", Type::String),
            ("port", Type::Number),
            ("enabled", Type::Bool),
            ("remote_pod_cidrs", Type::list(Type::String)),
            ("ports", Type::set(Type::Number)),
            ("tags", Type::map(Type::String)),
            ("pair", Type::tuple(vec![Type::String, Type::Number])),
            ("extra", Type::Dynamic),
            ("nested", Type::list(Type::object([("a", Type::String), ("b", Type::list(Type::Bool))]))),
        ])
    }

    fn round_trip(v: &Value, ty: &Type) -> Value {
        let bytes = encode_msgpack(v, ty).unwrap_or_else(|e| panic!("encode {v:?} as {ty}: {e}"));
        let back = decode_msgpack(&bytes, ty).unwrap_or_else(|e| panic!("decode {v:?} as {ty}: {e}"));
        assert_eq!(&back, v, "msgpack round trip of {v:?} as {ty}");
        if v.is_fully_known() {
            let json = encode_json(v, ty).unwrap_or_else(|e| panic!("json encode {v:?}: {e}"));
            let back = decode_json(&json, ty)
                .unwrap_or_else(|e| panic!("json decode {}: {e}", String::from_utf8_lossy(&json)));
            assert_eq!(&back, v, "JSON round trip of {}", String::from_utf8_lossy(&json));
        } else {
            assert!(encode_json(v, ty).is_err(), "unknowns cannot be JSON");
        }
        back
    }

    // --- exact encodings ----------------------------------------------------

    #[test]
    fn exact_bytes_of_known_encodings() {
        assert_eq!(encode_msgpack(&Value::Null, &Type::String).unwrap(), [0xc0]);
        assert_eq!(encode_msgpack(&Value::Unknown, &Type::String).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::Unknown, &obj_type()).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::Unknown, &Type::Dynamic).unwrap(), [0xd4, 0x00, 0x00]);
        assert_eq!(encode_msgpack(&Value::string("a"), &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_msgpack(&Value::Bool(true), &Type::Bool).unwrap(), [0xc3]);
        assert_eq!(encode_msgpack(&Value::int(5), &Type::Number).unwrap(), [0x05]);
        assert_eq!(encode_msgpack(&Value::int(-1), &Type::Number).unwrap(), [0xff]);
        assert_eq!(encode_msgpack(&Value::int(300), &Type::Number).unwrap(), [0xcd, 0x01, 0x2c]);
        // Whole floats are written as integers, as Terraform does.
        assert_eq!(encode_msgpack(&Value::float(3.0), &Type::Number).unwrap(), [0x03]);
        let mut f = vec![0xcb];
        f.extend_from_slice(&1.5f64.to_be_bytes());
        assert_eq!(encode_msgpack(&Value::float(1.5), &Type::Number).unwrap(), f);
        assert_eq!(
            encode_msgpack(&Value::number(Number::Big("0.1".into())), &Type::Number).unwrap(),
            [0xa3, b'0', b'.', b'1']
        );
        // Attributes in sorted order whatever the value's order; a missing one is nil.
        let ty = Type::object([("b", Type::Number), ("a", Type::String), ("c", Type::Bool)]);
        let v = Value::object([("b", Value::int(1)), ("a", Value::string("x"))]);
        assert_eq!(
            encode_msgpack(&v, &ty).unwrap(),
            [0x83, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0x01, 0xa1, b'c', 0xc0]
        );
        assert_eq!(encode_msgpack(&Value::list(vec![]), &Type::list(Type::String)).unwrap(), [0x90]);
        // A dynamic value is [type JSON as bytes, value].
        let mut d = vec![0x92, 0xc4, 0x08];
        d.extend_from_slice(b"\"string\"");
        d.extend_from_slice(&[0xa1, b'a']);
        assert_eq!(encode_msgpack(&Value::dynamic(Type::String, Value::string("a")), &Type::Dynamic).unwrap(), d);
        // A plain value in a dynamic position gets its inferred type.
        assert_eq!(encode_msgpack(&Value::string("a"), &Type::Dynamic).unwrap(), d);
        assert_eq!(encode_msgpack(&Value::Null, &Type::Dynamic).unwrap(), [0xc0]);
    }

    #[test]
    fn exact_json_encodings() {
        let ty = Type::object([
            ("b", Type::Number),
            ("a", Type::String),
            ("d", Type::Dynamic),
            ("m", Type::map(Type::Bool)),
        ]);
        let v = Value::object([
            ("b", Value::number(Number::Big("123456789012345678901234567890".into()))),
            ("a", Value::string("q\"\\\n\u{1}é")),
            ("d", Value::dynamic(Type::list(Type::String), Value::list(vec![Value::string("x")]))),
        ]);
        assert_eq!(
            String::from_utf8(encode_json(&v, &ty).unwrap()).unwrap(),
            r#"{"a":"q\"\\\n\u0001é","b":123456789012345678901234567890,"d":{"value":["x"],"type":["list","string"]},"m":null}"#
        );
        assert_eq!(encode_json(&Value::float(0.1), &Type::Number).unwrap(), b"0.1");
        assert_eq!(encode_json(&Value::number(Number::Big("+.5".into())), &Type::Number).unwrap(), b"5e-1");
        assert_eq!(encode_json(&Value::Null, &Type::Dynamic).unwrap(), b"null");
        assert_eq!(
            encode_json(&Value::dynamic(Type::String, Value::Null), &Type::Dynamic).unwrap(),
            br#"{"value":null,"type":"string"}"#
        );
    }

    // --- round trips ----------------------------------------------------------

    #[test]
    fn primitives_round_trip() {
        round_trip(&Value::string(""), &Type::String);
        round_trip(&Value::string("héllo \u{1F600}"), &Type::String);
        round_trip(&Value::Bool(false), &Type::Bool);
        for n in [0, 1, -1, 127, 128, -33, i64::MIN, i64::MAX] {
            round_trip(&Value::int(n), &Type::Number);
        }
        for f in [0.5, -1.25, 1e300, 5e-324, 0.1] {
            round_trip(&Value::float(f), &Type::Number);
        }
        for big in ["123456789012345678901234567890", "-0.1", "3.14159265358979323846264338327950288", "1e400"] {
            round_trip(&Value::number(Number::Big(big.into())), &Type::Number);
        }
        for ty in [Type::String, Type::Number, Type::Bool, Type::Dynamic, obj_type(), Type::list(Type::String)] {
            round_trip(&Value::Null, &ty);
            round_trip(&Value::Unknown, &ty);
        }
    }

    #[test]
    fn collections_round_trip_with_nulls_and_unknowns_at_every_depth() {
        let s = Type::list(Type::String);
        round_trip(&Value::list(vec![]), &s);
        round_trip(&Value::list(vec![Value::string("a"), Value::Null, Value::Unknown]), &s);
        round_trip(&Value::list(vec![Value::int(1), Value::Unknown]), &Type::set(Type::Number));
        round_trip(
            &Value::map([("k", Value::string("v")), ("n", Value::Null), ("u", Value::Unknown)]),
            &Type::map(Type::String),
        );
        round_trip(&Value::map::<&str, _>([]), &Type::map(Type::String));
        let tuple = Type::tuple(vec![Type::String, Type::Number, Type::Bool]);
        round_trip(&Value::tuple(vec![Value::string("a"), Value::Unknown, Value::Null]), &tuple);
        round_trip(&Value::tuple(vec![]), &Type::tuple(vec![]));
        let nested = Type::list(Type::map(Type::list(Type::Number)));
        round_trip(
            &Value::list(vec![
                Value::map([("a", Value::list(vec![Value::int(1), Value::Unknown])), ("b", Value::Null)]),
                Value::Unknown,
                Value::Null,
            ]),
            &nested,
        );
    }

    #[test]
    fn objects_round_trip() {
        let ty = obj_type();
        let full = Value::object([
            ("name", Value::string("n")),
            ("port", Value::int(443)),
            ("enabled", Value::Bool(true)),
            ("remote_pod_cidrs", Value::list(vec![Value::string("10.0.0.0/16"), Value::Null])),
            ("ports", Value::set(vec![Value::int(1), Value::int(2)])),
            ("tags", Value::map([("Name", Value::string("x"))])),
            ("pair", Value::tuple(vec![Value::string("a"), Value::float(2.5)])),
            ("extra", Value::dynamic(Type::map(Type::Number), Value::map([("x", Value::int(1))]))),
            (
                "nested",
                Value::list(vec![
                    Value::object([
                        ("a", Value::string("x")),
                        ("b", Value::list(vec![Value::Bool(true), Value::Null])),
                    ]),
                    Value::object([("a", Value::Null), ("b", Value::Null)]),
                ]),
            ),
        ]);
        round_trip(&full, &ty);

        // Unknowns inside: attributes, list elements, nested objects, the dynamic payload.
        let mut partial = full.clone();
        partial.set_attr("name", Value::Unknown);
        partial.set_attr("remote_pod_cidrs", Value::list(vec![Value::Unknown, Value::string("x")]));
        partial.set_attr("extra", Value::dynamic(Type::list(Type::String), Value::Unknown));
        partial.set_attr(
            "nested",
            Value::list(vec![Value::object([("a", Value::Unknown), ("b", Value::list(vec![Value::Unknown]))])]),
        );
        let back = round_trip(&partial, &ty);
        assert!(!back.is_fully_known());
        assert!(back.get_attr("extra").is_some_and(Value::is_unknown));

        // Every attribute null; the object as a whole null or unknown.
        let nulls = Value::object(ty.attributes().unwrap().keys().map(|k| (k.clone(), Value::Null)));
        round_trip(&nulls, &ty);
        round_trip(&Value::Null, &ty);
        round_trip(&Value::Unknown, &ty);
    }

    #[test]
    fn dynamic_values_round_trip() {
        round_trip(&Value::dynamic(Type::String, Value::string("a")), &Type::Dynamic);
        round_trip(&Value::dynamic(Type::Number, Value::Null), &Type::Dynamic);
        let obj = Type::object([("x", Type::Dynamic), ("y", Type::tuple(vec![Type::Bool]))]);
        round_trip(
            &Value::dynamic(
                obj,
                Value::object([
                    ("x", Value::dynamic(Type::set(Type::String), Value::set(vec![Value::string("s")]))),
                    ("y", Value::tuple(vec![Value::Unknown])),
                ]),
            ),
            &Type::Dynamic,
        );
        round_trip(
            &Value::list(vec![Value::Null, Value::dynamic(Type::Bool, Value::Bool(true))]),
            &Type::list(Type::Dynamic),
        );

        // A plain value encodes with its inferred type and decodes wrapped.
        let plain = Value::list(vec![Value::string("a"), Value::int(1)]);
        let back = decode_msgpack(&encode_msgpack(&plain, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap();
        assert_eq!(back.dynamic_type(), Some(&Type::tuple(vec![Type::String, Type::Number])));
        assert_eq!(back.concrete(), &plain);
        assert_eq!(back.get_index(0).and_then(Value::as_str), Some("a"));

        // Terraform may send the type as str rather than bin.
        let mut bytes = vec![0x92, 0xa6];
        bytes.extend_from_slice(b"\"bool\"");
        bytes.push(0xc2);
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), Value::dynamic(Type::Bool, Value::Bool(false)));
        // [\"dynamic\", x] adds nothing: x stands alone.
        let mut bytes = vec![0x92, 0xa9];
        bytes.extend_from_slice(b"\"dynamic\"");
        bytes.push(0xc0);
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), Value::Null);
    }

    #[test]
    fn dynamic_wrappers_in_concrete_positions_stand_for_their_payload() {
        let v = Value::dynamic(Type::String, Value::string("a"));
        assert_eq!(encode_msgpack(&v, &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_json(&v, &Type::String).unwrap(), b"\"a\"");
        let mut chain = Value::string("a");
        for _ in 0..1000 {
            chain = Value::dynamic(Type::Dynamic, chain);
        }
        assert_eq!(chain.as_str(), Some("a"));
        assert_eq!(encode_msgpack(&chain, &Type::String).unwrap(), [0xa1, b'a']);
        assert_eq!(encode_msgpack(&chain, &Type::Dynamic), encode_msgpack(&Value::string("a"), &Type::Dynamic));
        assert_eq!(
            encode_msgpack(&Value::dynamic(Type::Dynamic, Value::Unknown), &Type::Dynamic).unwrap(),
            [0xd4, 0, 0]
        );
        assert!(encode_msgpack(&Value::dynamic(Type::Number, Value::string("x")), &Type::Dynamic).is_err());
    }

    #[test]
    fn every_extension_is_unknown() {
        // fixext1 type 0, fixext4 type 12 (a refined unknown), ext8 of length 3.
        for bytes in [&[0xd4, 0x00, 0x00][..], &[0xd6, 0x0c, 1, 2, 3, 4], &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3]] {
            for ty in [Type::String, Type::Number, Type::Dynamic, obj_type(), Type::map(Type::Bool)] {
                assert_eq!(decode_msgpack(bytes, &ty).unwrap(), Value::Unknown, "{bytes:02x?} as {ty}");
            }
        }
        let mut list = vec![0x92, 0xa1, b'a'];
        list.extend_from_slice(&[0xd6, 0x0c, 1, 2, 3, 4]);
        assert_eq!(
            decode_msgpack(&list, &Type::list(Type::String)).unwrap(),
            Value::list(vec![Value::string("a"), Value::Unknown])
        );
    }

    #[test]
    fn numbers_decode_from_every_form_terraform_uses() {
        assert_eq!(decode_msgpack(&[0x2a], &Type::Number).unwrap(), Value::int(42));
        assert_eq!(decode_msgpack(&[0xd0, 0x80], &Type::Number).unwrap(), Value::int(-128));
        let mut u = vec![0xcf];
        u.extend_from_slice(&u64::MAX.to_be_bytes());
        let big = decode_msgpack(&u, &Type::Number).unwrap();
        assert_eq!(big, Value::number(Number::Big("18446744073709551615".into())));
        assert_eq!(big.as_i64(), None);
        let mut f32b = vec![0xca];
        f32b.extend_from_slice(&0.5f32.to_be_bytes());
        assert_eq!(decode_msgpack(&f32b, &Type::Number).unwrap(), Value::float(0.5));
        // Decimal text: kept exactly, re-encoded byte for byte.
        let text = b"\xa30.1";
        let v = decode_msgpack(text, &Type::Number).unwrap();
        assert!(matches!(v.as_number(), Some(Number::Big(s)) if s == "0.1"));
        assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), text);
        assert_eq!(decode_msgpack(b"\xa242", &Type::Number).unwrap().as_i64(), Some(42));
        assert!(decode_msgpack(b"\xa3abc", &Type::Number).is_err());
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert!(decode_msgpack(&nan, &Type::Number).is_err());
    }

    #[test]
    fn empty_bytes_are_null() {
        assert_eq!(decode_msgpack(&[], &obj_type()), Ok(Value::Null));
        assert_eq!(decode_json(&[], &obj_type()), Ok(Value::Null));
        assert_eq!(decode_json_lenient(&[], &Type::String), Ok(Value::Null));
    }

    // --- rejections -----------------------------------------------------------

    fn msgpack_of(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn object_attributes_must_match_exactly() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let missing = msgpack_of(&rmpv::Value::Map(vec![("a".into(), "x".into())]));
        let e = decode_msgpack(&missing, &ty).unwrap_err();
        assert!(e.message.contains("missing attribute \"b\""), "{e}");
        let extra = msgpack_of(&rmpv::Value::Map(vec![
            ("a".into(), "x".into()),
            ("b".into(), 1.into()),
            ("c".into(), rmpv::Value::Nil),
        ]));
        assert!(decode_msgpack(&extra, &ty).unwrap_err().message.contains("unsupported attribute \"c\""));
        let dup = msgpack_of(&rmpv::Value::Map(vec![
            ("a".into(), "x".into()),
            ("a".into(), "y".into()),
            ("b".into(), 1.into()),
        ]));
        assert!(decode_msgpack(&dup, &ty).unwrap_err().message.contains("duplicate"));
        let int_key = msgpack_of(&rmpv::Value::Map(vec![(1.into(), "x".into())]));
        assert!(decode_msgpack(&int_key, &ty).is_err());
        assert!(decode_msgpack(&int_key, &Type::map(Type::String)).is_err());

        // Encoding: an attribute the type lacks is an error, wherever it is.
        let e = encode_msgpack(&Value::object([("zz", Value::Null)]), &ty).unwrap_err();
        assert!(e.message.contains("zz"));
        let nested_ty = Type::object([("n", Type::list(ty.clone()))]);
        let e =
            encode_msgpack(&Value::object([("n", Value::list(vec![Value::object([("q", Value::Null)])]))]), &nested_ty)
                .unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("n".into()), PathStep::Index(0)]);
        assert!(encode_json(&Value::object([("zz", Value::Null)]), &ty).is_err());
    }

    #[test]
    fn wrong_kinds_are_errors_naming_the_path() {
        let ty = obj_type();
        let mut v = Value::object(ty.attributes().unwrap().keys().map(|k| (k.clone(), Value::Null)));
        v.set_attr("remote_pod_cidrs", Value::list(vec![Value::string("ok"), Value::int(5)]));
        // Encoding refuses the value; write the same shape by hand to decode it.
        let e = encode_msgpack(&v, &ty).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("remote_pod_cidrs".into()), PathStep::Index(1)]);
        assert_eq!(e.to_string(), ".remote_pod_cidrs[1]: expected a string, found a number");
        let entries = ty
            .attributes()
            .unwrap()
            .keys()
            .map(|k| {
                let v = if k == "remote_pod_cidrs" {
                    rmpv::Value::Array(vec!["ok".into(), 5.into()])
                } else {
                    rmpv::Value::Nil
                };
                (rmpv::Value::from(k.as_str()), v)
            })
            .collect();
        let bytes = msgpack_of(&rmpv::Value::Map(entries));
        let e = decode_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("remote_pod_cidrs".into()), PathStep::Index(1)]);
        assert!(e.to_string().starts_with(".remote_pod_cidrs[1]: expected a string"), "{e}");

        let cases: Vec<(Vec<u8>, Type)> = vec![
            (vec![0xa1, b'a'], Type::Number),
            (vec![0x01], Type::String),
            (vec![0x01], Type::Bool),
            (vec![0xc3], Type::list(Type::String)),
            (vec![0x90], Type::map(Type::String)),
            (vec![0x80], Type::list(Type::String)),
            (vec![0x91, 0x01], Type::tuple(vec![Type::Number, Type::Number])),
            (vec![0xa1, b'a'], Type::Dynamic),
            (vec![0x91, 0xc0], Type::Dynamic),
            (vec![0x92, 0x01, 0xc0], Type::Dynamic),
            (vec![0x92, 0xa3, b'b', b'a', b'd', 0xc0], Type::Dynamic),
            (vec![0xa2, 0xff, 0xfe], Type::String),
            (vec![0xc0, 0xc0], Type::String),
        ];
        for (bytes, ty) in cases {
            let e = decode_msgpack(&bytes, &ty).expect_err(&format!("{bytes:02x?} as {ty}"));
            assert!(!e.message.is_empty());
        }

        for (v, ty) in [
            (Value::int(1), Type::String),
            (Value::string("1"), Type::Number),
            (Value::list(vec![]), Type::map(Type::String)),
            (Value::tuple(vec![Value::Null]), Type::tuple(vec![])),
            (Value::float(f64::NAN), Type::Number),
            (Value::number(Number::Big("1.2.3".into())), Type::Number),
        ] {
            assert!(encode_msgpack(&v, &ty).is_err(), "{v:?} as {ty}");
            assert!(encode_json(&v, &ty).is_err(), "{v:?} as {ty}");
        }
        assert!(encode_json(&Value::float(f64::INFINITY), &Type::Number).is_err());
        assert!(encode_json(&Value::list(vec![Value::Unknown]), &Type::list(Type::String)).is_err());
    }

    #[test]
    fn truncated_bytes_are_errors() {
        let ty = obj_type();
        let v = Value::object([
            ("name", Value::string("a longer name")),
            ("remote_pod_cidrs", Value::list(vec![Value::string("10.0.0.0/16")])),
            ("extra", Value::dynamic(Type::String, Value::string("s"))),
            ("pair", Value::tuple(vec![Value::Unknown, Value::float(0.25)])),
        ]);
        let bytes = encode_msgpack(&v, &ty).unwrap();
        for cut in 1..bytes.len() {
            assert!(decode_msgpack(&bytes[..cut], &ty).is_err(), "prefix of {cut} bytes");
        }
        let mut long = bytes.clone();
        long.push(0xc0);
        assert!(decode_msgpack(&long, &ty).unwrap_err().message.contains("after the value"));
    }

    #[test]
    fn nesting_bombs_are_errors() {
        let bomb = vec![0x91; 1_000_000];
        for ty in [Type::Dynamic, Type::list(Type::String), Type::list(Type::Dynamic)] {
            assert!(decode_msgpack(&bomb, &ty).is_err());
        }
        // Within msgpack's limit but beyond ours, along a type that deep.
        let mut deep_ty = Type::String;
        for _ in 0..100 {
            deep_ty = Type::list(deep_ty);
        }
        let mut bytes = vec![0x91; 100];
        bytes.extend_from_slice(&[0xa1, b'a']);
        assert!(decode_msgpack(&bytes, &deep_ty).unwrap_err().message.contains("deeper"));
        let mut deep_v = Value::string("a");
        for _ in 0..100 {
            deep_v = Value::list(vec![deep_v]);
        }
        assert!(encode_msgpack(&deep_v, &deep_ty).is_err());
        assert!(encode_json(&deep_v, &deep_ty).is_err());

        // Exactly MAX_DEPTH levels of nesting are fine.
        let mut ok_ty = Type::String;
        let mut ok_v = Value::string("a");
        for _ in 0..MAX_DEPTH {
            ok_ty = Type::list(ok_ty);
            ok_v = Value::list(vec![ok_v]);
        }
        round_trip(&ok_v, &ok_ty);

        // Dynamic values nested in dynamic values.
        let mut dyn_bomb = Vec::new();
        for _ in 0..10_000 {
            dyn_bomb.extend_from_slice(&[0x92, 0xa9]);
            dyn_bomb.extend_from_slice(b"\"dynamic\"");
        }
        dyn_bomb.push(0xc0);
        assert!(decode_msgpack(&dyn_bomb, &Type::Dynamic).is_err());

        let json_bomb = "[".repeat(1_000_000);
        assert!(decode_json(json_bomb.as_bytes(), &Type::list(Type::String)).is_err());
        let json_dyn_bomb = "{\"type\":\"dynamic\",\"value\":".repeat(10_000);
        assert!(decode_json(json_dyn_bomb.as_bytes(), &Type::Dynamic).is_err());
    }

    #[test]
    fn huge_declared_lengths_are_errors() {
        let cases: [&[u8]; 8] = [
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
            &[0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b'a', 0xc0],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc6, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00],
            &[0xdc, 0xff, 0xff, 0x01],
            &[0xde, 0xff, 0xff],
            &[0x92, 0xc5, 0xff, 0xff, b'"'],
        ];
        for bytes in cases {
            for ty in [Type::String, Type::list(Type::Number), Type::map(Type::String), Type::Dynamic, obj_type()] {
                assert!(decode_msgpack(bytes, &ty).is_err(), "{bytes:02x?} as {ty}");
            }
        }
    }

    // --- JSON -----------------------------------------------------------------

    #[test]
    fn json_state_decodes() {
        let ty = obj_type();
        let state = br#"{
            "name": "plan", "port": 123456789012345678901234567890, "enabled": true,
            "remote_pod_cidrs": ["10.0.0.0/16", null], "ports": [80, 1.5e3],
            "tags": {"Name": "x", "Empty": ""}, "pair": ["a", -0.5],
            "extra": {"type": ["map", "bool"], "value": {"k": true}},
            "nested": [{"a": "\u00e9\ud83d\ude00", "b": null}]
        }"#;
        let v = decode_json(state, &ty).unwrap();
        assert_eq!(v.get_attr("name").and_then(Value::as_str), Some("plan"));
        assert_eq!(v.get_attr("port"), Some(&Value::number(Number::Big("123456789012345678901234567890".into()))));
        assert_eq!(v.get_attr("enabled").and_then(Value::as_bool), Some(true));
        assert_eq!(v.get_path(&[PathStep::Attr("remote_pod_cidrs".into()), PathStep::Index(1)]), Some(&Value::Null));
        assert_eq!(v.get_attr("ports").and_then(|p| p.get_index(1)).and_then(Value::as_i64), Some(1500));
        assert_eq!(
            v.get_path(&[PathStep::Attr("tags".into()), PathStep::Key("Empty".into())]).and_then(Value::as_str),
            Some("")
        );
        assert_eq!(v.get_attr("pair").and_then(|p| p.get_index(1)).and_then(Value::as_f64), Some(-0.5));
        let extra = v.get_attr("extra").unwrap();
        assert_eq!(extra.dynamic_type(), Some(&Type::map(Type::Bool)));
        assert_eq!(extra.get_attr("k").and_then(Value::as_bool), Some(true));
        assert_eq!(
            v.get_path(&[PathStep::Attr("nested".into()), PathStep::Index(0), PathStep::Attr("a".into())])
                .and_then(Value::as_str),
            Some("é\u{1F600}")
        );
        // The state survives a trip to Terraform and back.
        round_trip(&v, &ty);
    }

    #[test]
    fn json_missing_attributes_are_null_and_extra_keys_are_errors_unless_lenient() {
        let ty = Type::object([("a", Type::String), ("n", Type::list(Type::object([("x", Type::Number)])))]);
        let v = decode_json(br#"{"a": "x"}"#, &ty).unwrap();
        assert_eq!(v, Value::object([("a", Value::string("x")), ("n", Value::Null)]));

        let old = br#"{"a": "x", "removed": {"deep": [1]}, "n": [{"x": 1, "gone": true}]}"#;
        let e = decode_json(old, &ty).unwrap_err();
        assert!(e.message.contains("unsupported attribute \"removed\""), "{e}");
        let e = decode_json(br#"{"n": [{"x": 1, "gone": true}]}"#, &ty).unwrap_err();
        assert_eq!(e.path, vec![PathStep::Attr("n".into()), PathStep::Index(0)]);

        let v = decode_json_lenient(old, &ty).unwrap();
        assert_eq!(
            v,
            Value::object(
                [("a", Value::string("x")), ("n", Value::list(vec![Value::object([("x", Value::int(1))])])),]
            )
        );
        // Lenient mode still rejects what is malformed.
        assert!(decode_json_lenient(br#"{"a": 1.5.1}"#, &ty).is_err());
        assert!(decode_json_lenient(br#"{"a": ["x"]}"#, &ty).is_err());
        assert!(decode_json_lenient(br#"{"a": "x", "a": "y"}"#, &ty).is_err());
    }

    #[test]
    fn json_primitives_convert_like_terraform() {
        assert_eq!(decode_json(b"12", &Type::String).unwrap(), Value::string("12"));
        assert_eq!(decode_json(b"true", &Type::String).unwrap(), Value::string("true"));
        assert_eq!(decode_json(b"\"-7\"", &Type::Number).unwrap(), Value::int(-7));
        assert_eq!(decode_json(b"\"false\"", &Type::Bool).unwrap(), Value::Bool(false));
        assert!(decode_json(b"\"yes\"", &Type::Bool).is_err());
        assert!(decode_json(b"\"x\"", &Type::Number).is_err());
        assert!(decode_json(b"1", &Type::Bool).is_err());
        assert_eq!(decode_json(b" null ", &Type::Dynamic).unwrap(), Value::Null);
    }

    #[test]
    fn malformed_json_is_an_error() {
        let ty = Type::map(Type::String);
        for bad in [
            &b"{"[..],
            b"{\"a\"}",
            b"{\"a\":\"b\",}",
            b"[\"a\"]",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"b\"} x",
            b"{'a':'b'}",
            b"\xff",
            b" ",
            b"nul",
            b"{\"a\":01}",
        ] {
            assert!(decode_json(bad, &ty).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        for bad in [&b"-"[..], b"1.", b".5", b"1e", b"+1", b"01", b"1e+"] {
            assert!(decode_json(bad, &Type::Number).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        for bad in [&br#"{"value": 1}"#[..], br#"{"type": "nope"}"#, br#"{"type": "string", "value": 1, "x": 2}"#, b"1"]
        {
            assert!(decode_json(bad, &Type::Dynamic).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            decode_json(br#"{"type": "string"}"#, &Type::Dynamic).unwrap(),
            Value::dynamic(Type::String, Value::Null)
        );
    }

    // --- numbers and accessors ------------------------------------------------

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

    #[test]
    fn accessors() {
        let mut v = Value::Null;
        assert!(v.is_null() && v.is_known() && v.is_fully_known());
        v.set_attr("a", Value::string("x"));
        assert_eq!(v.get_attr("a").and_then(Value::as_str), Some("x"));
        assert_eq!(v.set_attr("a", Value::Unknown), Some(Value::string("x")));
        assert!(!v.is_fully_known() && !v.is_unknown());
        assert!(v.get_attr("a").is_some_and(Value::is_unknown));
        assert_eq!(v.get_attr("missing"), None);
        assert_eq!(Value::string("x").get_attr("a"), None);
        assert_eq!(Value::string("x").as_list(), None);
        assert_eq!(Value::int(5).as_str(), None);
        assert_eq!(Value::from("s"), Value::string("s"));
        assert_eq!(Value::from(Some(3i64)), Value::int(3));
        assert_eq!(Value::from(None::<bool>), Value::Null);
        assert_eq!(Value::Null.with_attr("k", Value::Bool(true)).get_attr("k").and_then(Value::as_bool), Some(true));
        if let Some(a) = v.get_attr_mut("a") {
            *a = Value::int(1);
        }
        assert_eq!(v.get_attr("a").and_then(Value::as_i64), Some(1));

        let d = Value::dynamic(Type::list(Type::String), Value::list(vec![Value::string("x")]));
        assert_eq!(d.as_list().map(<[Value]>::len), Some(1));
        assert!(Value::dynamic(Type::String, Value::Unknown).is_unknown());
        assert!(Value::dynamic(Type::String, Value::Null).is_null());
        assert_eq!(
            Value::object([("a", Value::list(vec![Value::Null, Value::int(1)]))]).infer_type(),
            Type::object([("a", Type::tuple(vec![Type::Dynamic, Type::Number]))])
        );
        assert_eq!(
            format_path(&[PathStep::Attr("tags".into()), PathStep::Key("Name".into()), PathStep::Index(2)]),
            ".tags[\"Name\"][2]"
        );
    }

    // --- properties -------------------------------------------------------------

    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
                prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
            ]
        })
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        use prop::num::f64 as f;
        prop_oneof![
            any::<i64>().prop_map(Number::Int),
            (-1000i64..1000).prop_map(Number::Int),
            (f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO).prop_map(Number::Float),
            "-?[1-9][0-9]{19,30}".prop_map(Number::Big),
            "[+-]?[0-9]{0,4}\\.[0-9]{0,20}[1-9](e[+-]?[0-9]{1,2})?".prop_map(Number::Big),
        ]
    }

    /// Values conforming to `ty`, with nulls and unknowns at every level; values in
    /// dynamic positions carry a random concrete type (`dyn_budget` bounds how
    /// often that recurses).
    fn arb_value(ty: &Type, dyn_budget: u32) -> BoxedStrategy<Value> {
        let b = dyn_budget;
        let known: BoxedStrategy<Value> = match ty {
            Type::String => any::<String>().prop_map(Value::String).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::List(t) | Type::Set(t) => prop::collection::vec(arb_value(t, b), 0..4).prop_map(Value::List).boxed(),
            Type::Map(t) => prop::collection::btree_map(".{0,6}", arb_value(t, b), 0..4).prop_map(Value::Map).boxed(),
            Type::Object(attrs) => attrs
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    arb_value(t, b).prop_map(move |v| (k.clone(), v)).boxed()
                })
                .collect::<Vec<_>>()
                .prop_map(|kv| Value::Map(kv.into_iter().collect()))
                .boxed(),
            Type::Tuple(ts) => ts.iter().map(|t| arb_value(t, b)).collect::<Vec<_>>().prop_map(Value::List).boxed(),
            Type::Dynamic if b == 0 => return prop_oneof![Just(Value::Null), Just(Value::Unknown)].boxed(),
            Type::Dynamic => arb_type()
                .prop_filter("a concrete type", |t| *t != Type::Dynamic)
                .prop_flat_map(move |t| arb_value(&t, b - 1).prop_map(move |v| Value::dynamic(t.clone(), v)))
                .boxed(),
        };
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    }

    fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
        arb_type().prop_flat_map(|t| {
            let v = arb_value(&t, 2);
            (Just(t), v)
        })
    }

    /// A valid encoding with one random edit: a byte changed, inserted or cut off.
    fn arb_mutated() -> impl Strategy<Value = (Type, Vec<u8>)> {
        (arb_typed_value(), any::<prop::sample::Index>(), any::<u8>(), 0..3u8).prop_map(|((t, v), at, byte, op)| {
            let mut bytes = encode_msgpack(&v, &t).unwrap_or_default();
            if bytes.is_empty() {
                return (t, vec![byte]);
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => bytes.truncate(i),
            }
            (t, bytes)
        })
    }

    proptest! {
        // At least 512 cases; PROPTEST_CASES may ask for more.
        #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

        #[test]
        fn conforming_values_round_trip_through_msgpack((ty, v) in arb_typed_value()) {
            let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &v);
            // And byte for byte again.
            prop_assert_eq!(encode_msgpack(&back, &ty).ok(), Some(bytes));
        }

        #[test]
        fn fully_known_values_round_trip_through_json((ty, v) in arb_typed_value()) {
            let json = encode_json(&v, &ty);
            if v.is_fully_known() {
                let json = json.map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back = decode_json(&json, &ty).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
                prop_assert_eq!(&back, &v);
                prop_assert_eq!(decode_json_lenient(&json, &ty).ok(), Some(back));
                // What we write is JSON any reader accepts.
                prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
            } else {
                prop_assert!(json.is_err());
            }
        }

        #[test]
        fn random_bytes_never_panic(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..96)) {
            let _ = decode_msgpack(&bytes, &ty);
            let _ = decode_json(&bytes, &ty);
            let _ = decode_json_lenient(&bytes, &ty);
        }

        #[test]
        fn mutated_encodings_never_panic((ty, bytes) in arb_mutated()) {
            if let Ok(v) = decode_msgpack(&bytes, &ty) {
                // Whatever decodes also encodes.
                prop_assert!(encode_msgpack(&v, &ty).is_ok());
            }
        }

        #[test]
        fn random_json_text_never_panics(ty in arb_type(), text in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,64}") {
            let _ = decode_json(text.as_bytes(), &ty);
            let _ = decode_json_lenient(text.as_bytes(), &ty);
        }

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
