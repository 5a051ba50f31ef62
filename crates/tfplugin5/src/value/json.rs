//! The JSON encoding of values: stored state handed to `UpgradeResourceState`, and
//! the optional JSON form of a `DynamicValue`.
//!
//! serde_json reads and writes the text; this file maps it to and from [`Value`]s
//! along the schema's [`Type`], with serde's own interfaces:
//!
//! - Decoding drives serde_json's `Deserializer` with a [`DeserializeSeed`] that
//!   knows the type of each position. Going through `serde_json::Value` instead
//!   would lose what the codec must see: `serde_json::Value` keeps only the last of
//!   duplicate keys, and rounds numbers to `f64`.
//! - A primitive position is read as a `&RawValue` (serde_json's `raw_value`
//!   feature), which is the value's exact text: numbers stay exact
//!   (`123456789012345678901234567890`, `0.1` and `1e400` as written), and a number
//!   read as a string keeps its spelling.
//! - A dynamic value's `"value"` may come before its `"type"`: it is kept as a
//!   `&RawValue` and read by a second `Deserializer` once the type is known.
//! - Nesting: [`MAX_DEPTH`](super::MAX_DEPTH) is checked at each position before
//!   serde_json reads a level deeper, so that check, not serde_json's own recursion
//!   limit of 128 levels, is what stops a deep value: the error names the depth and
//!   the path. serde_json skips raw values and ignored keys without recursing, and
//!   each dynamic payload gets a fresh `Deserializer`, so a deep type spec inside a
//!   value does not count against the value's 128 levels either.
//! - Encoding is a `Serialize` implementation written by `serde_json::Serializer`;
//!   numbers are written as `RawValue` text so that they stay exact.
//!
//! serde's error types carry only a message, so a codec error (with its path) is
//! kept in a [`Failure`] while serde unwinds, and serde is handed a stand-in.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::{fmt, io};

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use serde_json::value::RawValue;

use super::number::{f64_to_i64_exact, Decimal};
use super::{
    check_no_extra_attrs, depth_check, expected, quote, split_dynamic, unexpected, wrap_dynamic, DecodeError,
    EncodeError, Number, PathStep, Type, Value,
};

// ---------------------------------------------------------------------------
// Decoding
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

fn decode_json_with(bytes: &[u8], ty: &Type, lenient: bool) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    // serde_json checks UTF-8 only in the strings it decodes; the whole text must be.
    let doc = std::str::from_utf8(bytes)
        .map_err(|e| DecodeError::new(format!("malformed JSON at byte {}: not UTF-8", e.valid_up_to())))?;
    let failure = Failure::new();
    decode_text(doc, Decoder { ty, depth: 0, lenient, doc, failure: &failure })
}

/// Reads `text`, the whole document or the payload of a dynamic value, as one
/// value at the seed's position.
fn decode_text(text: &str, seed: Decoder<'_>) -> Result<Value, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let decoded = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    decoded.map_err(|e| seed.failure.take().unwrap_or_else(|| malformed(&e, seed.doc, text)))
}

/// serde_json's own error (bad syntax), located by its byte offset in the whole
/// document: serde_json counts lines and columns in `text`, a part of `doc`.
fn malformed(e: &serde_json::Error, doc: &str, text: &str) -> DecodeError {
    let full = e.to_string();
    if e.line() == 0 {
        return DecodeError::new(format!("malformed JSON: {full}"));
    }
    let line_start = match e.line() {
        1 => 0,
        n => text.bytes().enumerate().filter(|&(_, b)| b == b'\n').nth(n - 2).map_or(0, |(i, _)| i + 1),
    };
    // The column counts bytes into the line, up to and including the offending one.
    let base = (text.as_ptr() as usize).saturating_sub(doc.as_ptr() as usize);
    let at = base + line_start + e.column().saturating_sub(1);
    let what = full.strip_suffix(&format!(" at line {} column {}", e.line(), e.column())).unwrap_or(&full);
    DecodeError::new(format!("malformed JSON at byte {at}: {what}"))
}

/// The message of the stand-in serde error for a failure kept in a [`Failure`].
const RECORDED: &str = "see the recorded failure";

/// The codec error that stopped decoding or encoding, with its path, kept while
/// serde unwinds: each level it passes on the way out prefixes its step.
struct Failure<E>(Cell<Option<E>>);

impl<E> Failure<E> {
    fn new() -> Self {
        Failure(Cell::new(None))
    }

    fn record(&self, e: E) {
        self.0.set(Some(e));
    }

    fn take(&self) -> Option<E> {
        self.0.take()
    }

    fn update(&self, f: impl FnOnce(E) -> E) {
        if let Some(e) = self.0.take() {
            self.0.set(Some(f(e)));
        }
    }
}

/// Reads the value at one position, of type `ty`.
#[derive(Clone, Copy)]
struct Decoder<'a> {
    ty: &'a Type,
    depth: usize,
    /// Whether object keys the type lacks are skipped rather than refused.
    lenient: bool,
    /// The whole document, to place serde_json's errors in it.
    doc: &'a str,
    failure: &'a Failure<DecodeError>,
}

impl<'a> Decoder<'a> {
    fn child<'b>(&self, ty: &'b Type) -> Decoder<'b>
    where
        'a: 'b,
    {
        Decoder { ty, depth: self.depth + 1, lenient: self.lenient, doc: self.doc, failure: self.failure }
    }

    fn fail<E: de::Error>(&self, e: DecodeError) -> E {
        self.failure.record(e);
        E::custom(RECORDED)
    }

    /// Passes on the error of the value at `step`, prefixing the path with it.
    fn under<E>(&self, err: E, step: PathStep) -> E {
        self.failure.update(|e| e.under(step));
        err
    }

    fn mismatch_error(&self, found: &str) -> DecodeError {
        match self.ty {
            Type::Dynamic => {
                DecodeError::new(format!("expected a dynamic value ({{\"value\": ..., \"type\": ...}}), found {found}"))
            }
            ty => DecodeError::new(format!("expected {}, found {found}", expected(ty))),
        }
    }

    fn mismatch<E: de::Error>(&self, found: &str) -> E {
        self.fail(self.mismatch_error(found))
    }

    /// A primitive from its JSON text, converted as Terraform converts state.
    fn primitive(&self, raw: &str) -> Result<Value, DecodeError> {
        match raw.as_bytes().first() {
            Some(b'n') => Ok(Value::Null),
            Some(b't' | b'f') => match self.ty {
                Type::Bool => Ok(Value::Bool(raw == "true")),
                Type::String => Ok(Value::String(raw.to_string())),
                _ => Err(self.mismatch_error("a bool")),
            },
            Some(b'"') => {
                let s: String = serde_json::from_str(raw).map_err(|e| malformed(&e, self.doc, raw))?;
                match self.ty {
                    Type::String => Ok(Value::String(s)),
                    Type::Number => Number::parse(&s)
                        .map(Value::Number)
                        .ok_or_else(|| DecodeError::new(format!("{} is not a valid number", quote(&s)))),
                    Type::Bool if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                    _ => Err(self.mismatch_error("a string")),
                }
            }
            Some(b'[') => Err(self.mismatch_error("an array")),
            Some(b'{') => Err(self.mismatch_error("an object")),
            // A number, exactly as written.
            _ => match self.ty {
                Type::String => Ok(Value::String(raw.to_string())),
                Type::Number => Number::parse(raw)
                    .map(Value::Number)
                    .ok_or_else(|| DecodeError::new(format!("{} is not a number", quote(raw)))),
                _ => Err(self.mismatch_error("a number")),
            },
        }
    }

    fn list<'de, A: SeqAccess<'de>>(&self, mut seq: A, elem: &Type) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        for i in 0.. {
            match seq.next_element_seed(self.child(elem)).map_err(|err| self.under(err, PathStep::index(i)))? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Value::List(items))
    }

    fn tuple<'de, A: SeqAccess<'de>>(&self, mut seq: A, elems: &[Type]) -> Result<Value, A::Error> {
        let wrong_length =
            |found: usize| DecodeError::new(format!("expected a tuple of {} elements, found {found}", elems.len()));
        let mut items = Vec::with_capacity(elems.len());
        for (i, t) in elems.iter().enumerate() {
            match seq.next_element_seed(self.child(t)).map_err(|err| self.under(err, PathStep::index(i)))? {
                Some(item) => items.push(item),
                None => return Err(self.fail(wrong_length(i))),
            }
        }
        let mut found = elems.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            found += 1;
        }
        if found != elems.len() {
            return Err(self.fail(wrong_length(found)));
        }
        Ok(Value::List(items))
    }

    fn map<'de, A: MapAccess<'de>>(&self, mut entries: A, elem: &Type) -> Result<Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = entries.next_key::<String>()? {
            let v =
                entries.next_value_seed(self.child(elem)).map_err(|err| self.under(err, PathStep::Key(k.clone())))?;
            if out.contains_key(&k) {
                return Err(self.fail(DecodeError::new(format!("duplicate map key {}", quote(&k)))));
            }
            out.insert(k, v);
        }
        Ok(Value::Map(out))
    }

    fn object<'de, A: MapAccess<'de>>(
        &self,
        mut entries: A,
        attrs: &BTreeMap<String, Type>,
    ) -> Result<Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = entries.next_key::<String>()? {
            let Some(attr_ty) = attrs.get(&k) else {
                if self.lenient {
                    entries.next_value::<IgnoredAny>()?;
                    continue;
                }
                return Err(self.fail(DecodeError::new(format!("unsupported attribute {}", quote(&k)))));
            };
            let v = entries
                .next_value_seed(self.child(attr_ty))
                .map_err(|err| self.under(err, PathStep::Attr(k.clone())))?;
            if out.contains_key(&k) {
                return Err(self.fail(DecodeError::new(format!("duplicate attribute {}", quote(&k)))));
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

    /// `{"value": ..., "type": ...}`, in either order: both are kept as raw text
    /// until the whole object is read.
    fn dynamic<'de, A: MapAccess<'de>>(&self, mut entries: A) -> Result<Value, A::Error> {
        let mut type_json: Option<&'de RawValue> = None;
        let mut value_json: Option<&'de RawValue> = None;
        while let Some(k) = entries.next_key::<String>()? {
            let slot = match k.as_str() {
                "type" => &mut type_json,
                "value" => &mut value_json,
                other => {
                    return Err(self.fail(DecodeError::new(format!(
                        "a dynamic value has only \"value\" and \"type\", found {}",
                        quote(other)
                    ))))
                }
            };
            if slot.replace(entries.next_value()?).is_some() {
                return Err(self.fail(DecodeError::new(format!("duplicate key {} in a dynamic value", quote(&k)))));
            }
        }
        let Some(type_json) = type_json else {
            return Err(self.fail(DecodeError::new("a dynamic value lacks its \"type\"")));
        };
        // As the msgpack decoder reads it.
        let concrete = Type::from_json_bytes(type_json.get().as_bytes())
            .map_err(|e| self.fail(DecodeError::new(e.to_string())))?;
        let inner = match value_json {
            Some(raw) => decode_text(raw.get(), self.child(&concrete)).map_err(|e| self.fail(e))?,
            None => Value::Null,
        };
        Ok(wrap_dynamic(concrete, inner))
    }
}

impl<'de> DeserializeSeed<'de> for Decoder<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        depth_check(self.depth).map_err(|message| self.fail(DecodeError::new(message)))?;
        match self.ty {
            Type::String | Type::Number | Type::Bool => {
                let raw = <&RawValue>::deserialize(de)?;
                self.primitive(raw.get()).map_err(|e| self.fail(e))
            }
            _ => de.deserialize_any(self),
        }
    }
}

/// For collections and dynamic values; primitives are read as raw text.
impl<'de> Visitor<'de> for Decoder<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&expected(self.ty))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Err(self.mismatch("a bool"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Err(self.mismatch("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Err(self.mismatch("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Err(self.mismatch("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
        Err(self.mismatch("a string"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::List(elem) | Type::Set(elem) => self.list(seq, elem),
            Type::Tuple(elems) => self.tuple(seq, elems),
            _ => Err(self.mismatch("an array")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, entries: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Dynamic => self.dynamic(entries),
            Type::Map(elem) => self.map(entries, elem),
            Type::Object(attrs) => self.object(entries, attrs),
            _ => Err(self.mismatch("an object")),
        }
    }
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Encodes `value` as JSON of type `ty`. Unknown values cannot be written as JSON
/// and are an error; otherwise conformance is checked as by
/// [`encode_msgpack`](super::encode_msgpack).
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let failure = Failure::new();
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Compact);
    Encoder { value, ty, depth: 0, failure: &failure }
        .serialize(&mut ser)
        .map_err(|e| failure.take().unwrap_or_else(|| EncodeError::new(format!("JSON encoding failed: {e}"))))?;
    Ok(out)
}

/// serde_json's compact output, except that backspace and form feed are written as
/// `\u0008` and `\u000c` (not `\b` and `\f`), so that the bytes stay those the
/// provider wrote before it used serde_json.
struct Compact;

impl Formatter for Compact {
    fn write_char_escape<W: ?Sized + io::Write>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()> {
        match escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }
}

/// Writes `value` at a position of type `ty`.
struct Encoder<'a> {
    value: &'a Value,
    ty: &'a Type,
    depth: usize,
    failure: &'a Failure<EncodeError>,
}

impl Encoder<'_> {
    fn child<'b>(&'b self, value: &'b Value, ty: &'b Type) -> Encoder<'b> {
        Encoder { value, ty, depth: self.depth + 1, failure: self.failure }
    }

    fn fail<E: ser::Error>(&self, e: EncodeError) -> E {
        self.failure.record(e);
        E::custom(RECORDED)
    }

    /// Passes on the error of the value at `step`, prefixing the path with it.
    fn under<E>(&self, err: E, step: PathStep) -> E {
        self.failure.update(|e| e.under(step));
        err
    }
}

impl Serialize for Encoder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        depth_check(self.depth).map_err(|message| self.fail(EncodeError::new(message)))?;
        if let Type::Dynamic = self.ty {
            let (concrete, inner) = split_dynamic(self.value);
            if *concrete == Type::Dynamic {
                // Only null and unknown have no concrete type: they stand alone.
                return match inner {
                    Value::Null => s.serialize_unit(),
                    Value::Unknown => Err(self.fail(EncodeError::new("an unknown value cannot be written as JSON"))),
                    other => Err(self.fail(unexpected(self.ty, other))),
                };
            }
            let mut out = s.serialize_map(Some(2))?;
            out.serialize_entry("value", &self.child(inner, &concrete))?;
            out.serialize_entry("type", &concrete.to_json())?;
            return out.end();
        }
        // A dynamic wrapper in a position of a concrete type: its payload must fit.
        let value = self.value.concrete();
        match (self.ty, value) {
            (_, Value::Null) => s.serialize_unit(),
            (_, Value::Unknown) => Err(self.fail(EncodeError::new("an unknown value cannot be written as JSON"))),
            (Type::String, Value::String(text)) => s.serialize_str(text),
            (Type::Bool, Value::Bool(b)) => s.serialize_bool(*b),
            (Type::Number, Value::Number(n)) => match number_to_json(n) {
                Ok(raw) => raw.serialize(s),
                Err(e) => Err(self.fail(e)),
            },
            (Type::List(elem) | Type::Set(elem), Value::List(items)) => {
                let mut out = s.serialize_seq(Some(items.len()))?;
                for (i, v) in items.iter().enumerate() {
                    out.serialize_element(&self.child(v, elem)).map_err(|err| self.under(err, PathStep::index(i)))?;
                }
                out.end()
            }
            (Type::Tuple(elems), Value::List(items)) => {
                if items.len() != elems.len() {
                    return Err(self.fail(EncodeError::new(format!(
                        "expected a tuple of {} elements, found {}",
                        elems.len(),
                        items.len()
                    ))));
                }
                let mut out = s.serialize_seq(Some(items.len()))?;
                for (i, (v, t)) in items.iter().zip(elems).enumerate() {
                    out.serialize_element(&self.child(v, t)).map_err(|err| self.under(err, PathStep::index(i)))?;
                }
                out.end()
            }
            (Type::Map(elem), Value::Map(entries)) => {
                let mut out = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &self.child(v, elem))
                        .map_err(|err| self.under(err, PathStep::Key(k.clone())))?;
                }
                out.end()
            }
            (Type::Object(attrs), Value::Map(entries)) => {
                check_no_extra_attrs(attrs, entries).map_err(|e| self.fail(e))?;
                let mut out = s.serialize_map(Some(attrs.len()))?;
                for (name, t) in attrs {
                    match entries.get(name) {
                        Some(v) => out
                            .serialize_entry(name, &self.child(v, t))
                            .map_err(|err| self.under(err, PathStep::Attr(name.clone())))?,
                        None => out.serialize_entry(name, &())?,
                    }
                }
                out.end()
            }
            (ty, value) => Err(self.fail(unexpected(ty, value))),
        }
    }
}

/// A number's JSON text: an integer when the number is whole and in range (exactly:
/// beyond 2^53 the shortest text of a float is another integer), else the shortest
/// decimal that reads back as the same float (Rust writes it without an exponent),
/// else a `Big`'s own text when that is already JSON, else its canonical form.
fn number_to_json(n: &Number) -> Result<Box<RawValue>, EncodeError> {
    let text = match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => match f64_to_i64_exact(*f) {
            Some(i) => i.to_string(),
            None if f.is_finite() => f.to_string(),
            None => return Err(EncodeError::new(format!("{f} cannot be written as JSON"))),
        },
        Number::Big(s) => match json_number(s) {
            Some(raw) => return Ok(raw),
            None => Decimal::parse(s)
                .map(|d| d.to_text())
                .ok_or_else(|| EncodeError::new(format!("{} is not a valid number", quote(s))))?,
        },
    };
    RawValue::from_string(text).map_err(|e| EncodeError::new(format!("{n} cannot be written as JSON: {e}")))
}

/// `s` as JSON, when it follows JSON's number grammar exactly (serde_json checks).
fn json_number(s: &str) -> Option<Box<RawValue>> {
    if !s.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return None;
    }
    // `from_string` allows whitespace around the value, which a number must not have.
    RawValue::from_string(s.to_string()).ok().filter(|raw| raw.get().len() == s.len())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::MAX_DEPTH;
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn numbers_keep_their_text() {
        // Beyond f64 and i64, in both directions.
        for text in ["1e400", "-123456789012345678901234567890.000001", "0.1", "1E500", "2.50"] {
            let v = decode_json(text.as_bytes(), &Type::Number).unwrap();
            assert_eq!(v, Value::number(Number::Big(text.into())), "{text}");
            assert_eq!(encode_json(&v, &Type::Number).unwrap(), text.as_bytes());
            // Read as a string, a number keeps its spelling.
            assert_eq!(decode_json(text.as_bytes(), &Type::String).unwrap(), Value::string(text));
        }
        assert_eq!(decode_json(b"12", &Type::Number).unwrap(), Value::int(12));
        // A JSON number whose exponent Terraform cannot hold is not a number.
        assert!(decode_json(b"1e1000000000000000000000", &Type::Number).is_err());
        // Floats are written as Rust writes them, without an exponent.
        assert_eq!(encode_json(&Value::float(1.5e-7), &Type::Number).unwrap(), b"0.00000015");
        // Text that is not JSON is written in canonical form.
        for (big, json) in [("+1", "1"), ("01.50", "15e-1"), ("1.", "1"), ("-.5e3", "-5e2")] {
            assert_eq!(encode_json(&Value::number(Number::Big(big.into())), &Type::Number).unwrap(), json.as_bytes());
        }
        assert!(encode_json(&Value::number(Number::Big("1 ".into())), &Type::Number).is_err());
    }

    #[test]
    fn strings_are_escaped_as_before() {
        let all: String = (0u8..0x20).map(char::from).chain("\"\\/\u{7f}é\u{2028}".chars()).collect();
        let json = String::from_utf8(encode_json(&Value::string(all.clone()), &Type::String).unwrap()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\t\n\u000b\u000c\r\u000e\u000f"#,
                r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#,
                "\\\"\\\\/\u{7f}é\u{2028}\""
            )
        );
        assert_eq!(decode_json(json.as_bytes(), &Type::String).unwrap(), Value::string(all));
        assert_eq!(decode_json(br#""\b\f\/\u00e9""#, &Type::String).unwrap(), Value::string("\u{8}\u{c}/é"));
    }

    #[test]
    fn json_errors_name_the_path() {
        let ty = Type::object([
            ("tags", Type::map(Type::String)),
            ("pair", Type::tuple(vec![Type::String, Type::Number])),
            ("extra", Type::Dynamic),
        ]);
        let e = decode_json(br#"{"tags": {"a": "x", "a": "y"}}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".tags: duplicate map key \"a\"");
        let e = decode_json(br#"{"tags": {"a": ["x"]}}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".tags[\"a\"]: expected a string, found an array");
        let e = decode_json(br#"{"pair": ["a", 1, 2]}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".pair: expected a tuple of 2 elements, found 3");
        let e = decode_json(br#"{"pair": ["a"]}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".pair: expected a tuple of 2 elements, found 1");
        let e = decode_json(br#"{"pair": ["a", true]}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".pair[1]: expected a number, found a bool");
        // Inside the payload of a dynamic value, which comes before its type.
        let e = decode_json(br#"{"extra": {"value": {"k": [1, "x"]}, "type": ["map", ["list", "number"]]}}"#, &ty)
            .unwrap_err();
        assert_eq!(e.to_string(), ".extra[\"k\"][1]: \"x\" is not a valid number");
        let e = decode_json(br#"{"extra": {"type": "string", "type": "bool"}}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), ".extra: duplicate key \"type\" in a dynamic value");
        let e = decode_json(br#"{"extra": {"type": ["list"]}}"#, &ty).unwrap_err();
        assert!(e.to_string().starts_with(".extra: "), "{e}");
        let e = decode_json(br#"{"extra": 5}"#, &ty).unwrap_err();
        assert_eq!(e.to_string(), r#".extra: expected a dynamic value ({"value": ..., "type": ...}), found a number"#);

        // Bad syntax is placed by its byte offset in the whole document.
        let e = decode_json(b"{\"tags\":\n {\"a\": \"x\" \"b\"}}", &ty).unwrap_err();
        assert!(e.path.is_empty());
        assert!(e.message.starts_with("malformed JSON at byte 20: expected `,` or `}`"), "{e}");
        // In a dynamic value's payload, read by a second Deserializer: still the
        // offset in the whole document (the string starts at byte 20).
        let e = decode_json(br#"{"extra": {"value": "\ud800", "type": "string"}}"#, &ty).unwrap_err();
        let at = e.message.strip_prefix("malformed JSON at byte ").and_then(|m| m.split(':').next());
        assert!(at.and_then(|at| at.parse::<usize>().ok()).is_some_and(|at| (20..28).contains(&at)), "{e}");
        let e = decode_json(b"[\"a\", \xff]", &Type::list(Type::String)).unwrap_err();
        assert_eq!(e.message, "malformed JSON at byte 6: not UTF-8");
    }

    #[test]
    fn lenient_mode_skips_unknown_keys_unread() {
        let ty = Type::object([("a", Type::String)]);
        // Duplicates among keys it skips are not looked at (as before).
        let old = br#"{"gone": 1, "a": "x", "gone": {"deep": [[[1e400]]]}}"#;
        assert_eq!(decode_json_lenient(old, &ty).unwrap(), Value::object([("a", Value::string("x"))]));
        assert!(decode_json(old, &ty).is_err());
        // Skipped values must still be JSON.
        assert!(decode_json_lenient(br#"{"gone": [1,], "a": "x"}"#, &ty).is_err());
    }

    #[test]
    fn json_nesting_is_bounded_by_max_depth_not_by_serde_json() {
        // Deeper than serde_json's own limit of 128 levels: our error, with its path.
        let mut deep_ty = Type::String;
        for _ in 0..200 {
            deep_ty = Type::list(deep_ty);
        }
        let deep = format!("{}\"a\"{}", "[".repeat(200), "]".repeat(200));
        let e = decode_json(deep.as_bytes(), &deep_ty).unwrap_err();
        assert_eq!(e.message, format!("the value nests deeper than {MAX_DEPTH} levels"));
        assert_eq!(e.path, vec![PathStep::Index(0); MAX_DEPTH + 1]);
        let e = decode_json(deep.as_bytes(), &Type::list(Type::Dynamic)).unwrap_err();
        assert_eq!(e.to_string(), r#"[0]: expected a dynamic value ({"value": ..., "type": ...}), found an array"#);

        // A value within MAX_DEPTH whose document nests deeper than 128 levels: a
        // dynamic value of a deep object type, inside lists.
        let mut spec = Type::String;
        for _ in 0..60 {
            spec = Type::object([("a", spec)]);
        }
        let mut ty = Type::Dynamic;
        let mut v = Value::dynamic(spec, Value::Null);
        for _ in 0..10 {
            ty = Type::list(ty);
            v = Value::list(vec![v]);
        }
        let json = encode_json(&v, &ty).unwrap();
        let nesting = json
            .iter()
            .scan(0i32, |level, b| {
                *level += match b {
                    b'[' | b'{' => 1,
                    b']' | b'}' => -1,
                    _ => 0,
                };
                Some(*level)
            })
            .max();
        assert!(nesting > Some(128), "{nesting:?}");
        assert_eq!(decode_json(&json, &ty).unwrap(), v);

        // Dynamic values nested in dynamic values, each read by its own Deserializer.
        let mut chain = "null".to_string();
        for _ in 0..100 {
            chain = format!(r#"{{"value":{chain},"type":"dynamic"}}"#);
        }
        let e = decode_json(chain.as_bytes(), &Type::Dynamic).unwrap_err();
        assert_eq!(e.message, format!("the value nests deeper than {MAX_DEPTH} levels"));
    }

    proptest! {
        // At least 512 cases; PROPTEST_CASES may ask for more.
        #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(512), ..ProptestConfig::default() })]

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
        fn random_json_text_never_panics(ty in arb_type(), text in "[\\[\\]{}\",:0-9a-z\\\\ .eE+-]{0,64}") {
            let _ = decode_json(text.as_bytes(), &ty);
            let _ = decode_json_lenient(text.as_bytes(), &ty);
        }
    }
}
