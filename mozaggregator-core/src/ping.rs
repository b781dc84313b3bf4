//! The borrowed model of a Firefox main ping's envelope, and the lenient leaf types the
//! aggregator's streaming parser reads the payload with.
//!
//! Strings are borrowed from the input unless they contain escapes ([`Str`], [`Text`]).
//! Everything aggregation does not read — most of `environment`, `payload.info`, `slowSQL`,
//! `threadHangStats`, … — is skipped by the parser without being built, and unknown fields are
//! always accepted.
//!
//! The types are **lenient where the rules of docs/ingest.md ("What is aggregated") skip one item**: a field whose JSON type
//! is wrong parses into an "invalid" variant ([`Text::Invalid`], [`Lenient::Invalid`],
//! [`Scalar::String`], …) instead of failing the whole ping, so the aggregator can count it and
//! keep the rest. Only a ping that is not JSON at all, or whose top level is not an object,
//! fails to parse.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The JSON type of a value, for reject reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// `"null"`, `"bool"`, `"number"`, `"string"`, `"array"` or `"object"`.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "bool",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

pub(crate) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements every non-container `visit_*` of a lenient visitor as "this JSON type".
macro_rules! visit_primitives {
    ($out:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($out(JsonType::Bool))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($out(JsonType::Number))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($out(JsonType::Number))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($out(JsonType::Number))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($out(JsonType::String))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($out(JsonType::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($out(JsonType::Null))
        }
    };
}

// ------------------------------------------------------------------------------------------------
// Strings

/// A string of the ping, borrowed from the input unless it contained escapes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Str<'a>(pub Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Str(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

/// A field expected to hold a string: the string, or the JSON type found instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// Something else.
    Invalid(JsonType),
}

impl Text<'_> {
    /// The string, if the field held one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            Text::Invalid(_) => None,
        }
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Bool))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Number))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Number))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Number))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Text::Invalid(JsonType::Null))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text::Str(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Text::Invalid(JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Text::Invalid(JsonType::Object))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

// ------------------------------------------------------------------------------------------------
// Numbers

/// A leaf value where a number is expected (a scalar, a bucket count, a `sum`, …), classified.
///
/// JSON integers beyond 64 bits arrive as [`Scalar::Float`] (that is how serde_json parses
/// them); the aggregator treats floats of magnitude `>= 2^64` as out of range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// A non-negative JSON integer.
    Unsigned(u64),
    /// A negative JSON integer.
    Negative(i64),
    /// A JSON number with a fraction or exponent (or an integer beyond 64 bits).
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// A string (its content is not kept).
    String,
    /// `null`.
    Null,
    /// An array (skipped).
    Array,
    /// An object (skipped).
    Object,
}

impl Scalar {
    /// The JSON type.
    pub fn json_type(self) -> JsonType {
        match self {
            Scalar::Unsigned(_) | Scalar::Negative(_) | Scalar::Float(_) => JsonType::Number,
            Scalar::Bool(_) => JsonType::Bool,
            Scalar::String => JsonType::String,
            Scalar::Null => JsonType::Null,
            Scalar::Array => JsonType::Array,
            Scalar::Object => JsonType::Object,
        }
    }

    /// The value when it is a JSON integer (negative or not).
    pub fn as_integer(self) -> Option<i128> {
        match self {
            Scalar::Unsigned(v) => Some(i128::from(v)),
            Scalar::Negative(v) => Some(i128::from(v)),
            _ => None,
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(match u64::try_from(v) {
            Ok(u) => Scalar::Unsigned(u),
            Err(_) => Scalar::Negative(v),
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Unsigned(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Scalar, E> {
        Ok(Scalar::String)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        drain_seq(seq)?;
        Ok(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        drain_map(map)?;
        Ok(Scalar::Object)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

// ------------------------------------------------------------------------------------------------
// Sections

/// A structured section (an object with known fields) or the JSON type found instead.
#[derive(Clone, Debug, PartialEq)]
pub enum Lenient<T> {
    /// The section.
    Valid(T),
    /// Not an object.
    Invalid(JsonType),
}

impl<T> Lenient<T> {
    /// The section, if it was an object.
    pub fn valid(&self) -> Option<&T> {
        match self {
            Lenient::Valid(v) => Some(v),
            Lenient::Invalid(_) => None,
        }
    }
}

struct LenientVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_primitives!(Lenient::Invalid);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Lenient::Invalid(JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Lenient::Valid)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

// ------------------------------------------------------------------------------------------------
// The envelope

/// The envelope of a Firefox main ping: everything aggregation reads except the payload,
/// which [`crate::Aggregator`] streams straight into its aggregates while parsing.
///
/// ```
/// use mozaggregator_core::ping::Envelope;
/// let json = br#"{"application": {"channel": "nightly", "version": 42},
///                 "payload": {"histograms": {}}, "environment": {"settings": {}}}"#;
/// let ping = Envelope::from_slice(json).unwrap();
/// let app = ping.application.as_ref().and_then(|a| a.valid()).unwrap();
/// assert_eq!(app.channel.as_ref().and_then(|c| c.as_str()), Some("nightly"));
/// assert_eq!(app.version.as_ref().and_then(|c| c.as_str()), None); // not a string
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Envelope<'a> {
    /// Added by the ingestion pipeline: submission date and sample id.
    #[serde(borrow, default)]
    pub meta: Option<Lenient<Meta<'a>>>,
    /// The client id (used for the sample id when `meta` has none).
    #[serde(borrow, default, rename = "clientId")]
    pub client_id: Option<Text<'a>>,
    /// Channel, version, build id, name, architecture.
    #[serde(borrow, default)]
    pub application: Option<Lenient<Application<'a>>>,
    /// Only `system.os` is read.
    #[serde(borrow, default)]
    pub environment: Option<Lenient<Environment<'a>>>,
}

impl<'a> Envelope<'a> {
    /// Parses the envelope of a ping, skipping its payload.
    ///
    /// # Errors
    /// The parser's error when `json` is not a JSON object.
    pub fn from_slice(json: &'a [u8]) -> serde_json::Result<Self> {
        match serde_json::from_slice::<Lenient<Self>>(json)? {
            Lenient::Valid(envelope) => Ok(envelope),
            // A derived struct would also accept an array (fields by position).
            Lenient::Invalid(found) => Err(<serde_json::Error as de::Error>::custom(format!(
                "a ping must be a JSON object, found {}",
                found.name()
            ))),
        }
    }
}

/// `meta`: fields added by Mozilla's ingestion pipeline.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Meta<'a> {
    /// `YYYYMMDD`.
    #[serde(borrow, default, rename = "submissionDate")]
    pub submission_date: Option<Text<'a>>,
    /// 0–99.
    #[serde(default, rename = "sampleId")]
    pub sample_id: Option<Scalar>,
}

/// `application`.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Application<'a> {
    /// `nightly`, `aurora`, `beta`, `release`, …
    #[serde(borrow, default)]
    pub channel: Option<Text<'a>>,
    /// e.g. `"45.0b6"`.
    #[serde(borrow, default)]
    pub version: Option<Text<'a>>,
    /// e.g. `"20151103030248"`.
    #[serde(borrow, default, rename = "buildId")]
    pub build_id: Option<Text<'a>>,
    /// e.g. `"Firefox"`.
    #[serde(borrow, default)]
    pub name: Option<Text<'a>>,
    /// e.g. `"x86-64"`.
    #[serde(borrow, default)]
    pub architecture: Option<Text<'a>>,
}

/// `environment`: only `system` is read.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Environment<'a> {
    /// `environment.system`.
    #[serde(borrow, default)]
    pub system: Option<Lenient<System<'a>>>,
}

/// `environment.system`: only `os` is read.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct System<'a> {
    /// `environment.system.os`.
    #[serde(borrow, default)]
    pub os: Option<Lenient<Os<'a>>>,
}

/// `environment.system.os`.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Os<'a> {
    /// e.g. `"Windows_NT"`.
    #[serde(borrow, default)]
    pub name: Option<Text<'a>>,
    /// e.g. `"6.1"`.
    #[serde(borrow, default)]
    pub version: Option<Text<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_classified_not_fatal() {
        let json = br#"{
            "meta": {"submissionDate": "20240102", "sampleId": 1.5},
            "application": {"channel": 5, "version": ["x"], "buildId": "2015\u0031103",
                            "name": null},
            "environment": {"system": "nope", "settings": {"x": [1, 2, {"y": null}]}},
            "payload": [1, 2, 3]
        }"#;
        let ping = Envelope::from_slice(json).unwrap();
        let app = ping.application.as_ref().unwrap().valid().unwrap();
        assert_eq!(app.channel, Some(Text::Invalid(JsonType::Number)));
        assert_eq!(app.version, Some(Text::Invalid(JsonType::Array)));
        assert_eq!(app.name, None, "null is absent");
        // Escapes produce an owned string.
        assert_eq!(app.build_id.as_ref().unwrap().as_str(), Some("20151103"));
        let env = ping.environment.as_ref().unwrap().valid().unwrap();
        assert_eq!(env.system, Some(Lenient::Invalid(JsonType::String)));
        let meta = ping.meta.as_ref().unwrap().valid().unwrap();
        assert_eq!(meta.sample_id, Some(Scalar::Float(1.5)));
    }

    #[test]
    fn scalars_are_classified() {
        let v: Vec<Scalar> = serde_json::from_str(
            r#"[1, -2, 2.5, true, "s", null, [1], {"a": 1}, 18446744073709551616]"#,
        )
        .unwrap();
        assert_eq!(
            &v[..8],
            &[
                Scalar::Unsigned(1),
                Scalar::Negative(-2),
                Scalar::Float(2.5),
                Scalar::Bool(true),
                Scalar::String,
                Scalar::Null,
                Scalar::Array,
                Scalar::Object
            ]
        );
        assert!(matches!(v[8], Scalar::Float(f) if f >= 1.8e19));
    }

    #[test]
    fn a_non_object_ping_is_an_error() {
        assert!(Envelope::from_slice(b"[1, 2]").is_err());
        assert!(Envelope::from_slice(b"{\"payload\": ").is_err());
        assert!(Envelope::from_slice(b"{}").is_ok());
    }
}
