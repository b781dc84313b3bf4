//! The borrowed model of a Firefox main ping: only what aggregation reads.
//!
//! A ping is parsed straight from its JSON bytes into [`Ping`], borrowing every string it can
//! from the input (escaped strings become owned, see [`Str`]). Everything the aggregation does
//! not read — most of `environment`, `payload.info`, `slowSQL`, `threadHangStats`, … — is
//! skipped by the parser without being built. Unknown fields are always accepted.
//!
//! The model is **lenient where the rules of SPEC §2 skip one item**: a histogram, a scalar, a
//! section (`payload.histograms`, a process, …) whose JSON type is wrong parses into an
//! "invalid" variant ([`HistogramBody::Invalid`], [`Obj::Invalid`], [`Lenient::Invalid`],
//! [`Scalar::String`], …) instead of failing the whole ping, so the aggregator can count it as
//! a rejected item and keep the rest. Only a ping that is not JSON at all, or whose top level is
//! not an object, fails to parse.
//!
//! ```
//! use mozaggregator_core::ping::{Ping, Scalar};
//! let json = br#"{"application": {"channel": "nightly", "version": "42.0a1"},
//!                 "payload": {"simpleMeasurements": {"uptime": 42}, "histograms": {"A": 5}}}"#;
//! let ping = Ping::from_slice(json).unwrap();
//! let app = ping.application.as_ref().and_then(|a| a.valid()).unwrap();
//! assert_eq!(app.channel.as_ref().and_then(|c| c.as_str()), Some("nightly"));
//! ```

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

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
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
// Containers

/// A JSON object of `V`s, in document order, or the JSON type found instead of an object.
#[derive(Clone, Debug, PartialEq)]
pub enum Obj<'a, V> {
    /// The entries of the object, keys borrowed from the input where possible.
    Map(Vec<(Str<'a>, V)>),
    /// Not an object.
    Invalid(JsonType),
}

impl<'a, V> Obj<'a, V> {
    /// The entries, or an empty slice when this was not an object.
    pub fn entries(&self) -> &[(Str<'a>, V)] {
        match self {
            Obj::Map(entries) => entries,
            Obj::Invalid(_) => &[],
        }
    }
}

struct ObjVisitor<'a, V>(PhantomData<fn() -> (&'a (), V)>);

impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for ObjVisitor<'a, V> {
    type Value = Obj<'a, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_primitives!(Obj::Invalid);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Obj::Invalid(JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key::<Str<'de>>()? {
            entries.push((key, map.next_value::<V>()?));
        }
        Ok(Obj::Map(entries))
    }
}

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Obj<'a, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// A JSON array of `T`s, or the JSON type found instead of an array.
#[derive(Clone, Debug, PartialEq)]
pub enum List<T> {
    /// The elements.
    Items(Vec<T>),
    /// Not an array.
    Invalid(JsonType),
}

impl<T> List<T> {
    /// The elements, or an empty slice when this was not an array.
    pub fn items(&self) -> &[T] {
        match self {
            List::Items(items) => items,
            List::Invalid(_) => &[],
        }
    }
}

struct ListVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_primitives!(List::Invalid);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<T>()? {
            items.push(item);
        }
        Ok(List::Items(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(List::Invalid(JsonType::Object))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

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
// Histograms and simple measurements

/// One histogram of a ping, as found: an object with the fields aggregation reads, or the JSON
/// type found instead of an object.
#[derive(Clone, Debug, PartialEq)]
pub enum HistogramBody<'a> {
    /// An object.
    Object(RawHistogram<'a>),
    /// Not an object (`null` histograms occur in real pings).
    Invalid(JsonType),
}

/// The fields of a histogram object, unvalidated (SPEC §2.3 validates them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawHistogram<'a> {
    /// `histogram_type`: 0 exponential, 1 linear, 2 boolean, 3 flag, 4 count, 5 categorical.
    pub histogram_type: Option<Scalar>,
    /// `range`: `[low, high]`.
    pub range: Option<List<Scalar>>,
    /// `bucket_count`.
    pub bucket_count: Option<Scalar>,
    /// `sum`.
    pub sum: Option<Scalar>,
    /// `values`: bucket lower bound (as a string) → count.
    pub values: Option<Obj<'a, Scalar>>,
}

struct HistogramVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for HistogramVisitor<'a> {
    type Value = HistogramBody<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    visit_primitives!(HistogramBody::Invalid);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(HistogramBody::Invalid(JsonType::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut h = RawHistogram::default();
        // Duplicate fields: the last one wins, as in most JSON readers.
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "values" => h.values = Some(map.next_value()?),
                "sum" => h.sum = Some(map.next_value()?),
                "histogram_type" => h.histogram_type = Some(map.next_value()?),
                "bucket_count" => h.bucket_count = Some(map.next_value()?),
                "range" => h.range = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(HistogramBody::Object(h))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for HistogramBody<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HistogramVisitor(PhantomData))
    }
}

/// One entry of `simpleMeasurements`: a leaf value, or an object whose leaves are read one
/// level deep (deeper objects are skipped, SPEC §2.2).
#[derive(Clone, Debug, PartialEq)]
pub enum Measure<'a> {
    /// A leaf (numbers and booleans are aggregated, anything else skipped).
    Leaf(Scalar),
    /// An object: its entries, one level deep.
    Nested(Vec<(Str<'a>, Scalar)>),
}

struct MeasureVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for MeasureVisitor<'a> {
    type Value = Measure<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        ScalarVisitor.visit_bool(v).map(Measure::Leaf)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_i64(v).map(Measure::Leaf)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Measure::Leaf(Scalar::Unsigned(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Measure::Leaf(Scalar::Float(v)))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Measure::Leaf(Scalar::String))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Measure::Leaf(Scalar::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Measure::Leaf(Scalar::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Measure::Leaf(Scalar::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Str<'de>>()? {
            entries.push((key, map.next_value::<Scalar>()?));
        }
        Ok(Measure::Nested(entries))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Measure<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MeasureVisitor(PhantomData))
    }
}

// ------------------------------------------------------------------------------------------------
// The ping

/// `payload.histograms` (and the same under processes and child payloads).
pub type Histograms<'a> = Obj<'a, HistogramBody<'a>>;
/// `payload.keyedHistograms`: name → key → histogram.
pub type KeyedHistograms<'a> = Obj<'a, Obj<'a, HistogramBody<'a>>>;
/// `scalars`: name → value.
pub type Scalars<'a> = Obj<'a, Scalar>;
/// `keyedScalars`: name → key → value.
pub type KeyedScalars<'a> = Obj<'a, Obj<'a, Scalar>>;
/// `simpleMeasurements`: name → value or object of values.
pub type SimpleMeasurements<'a> = Obj<'a, Measure<'a>>;

/// A Firefox main ping: the parts aggregation reads.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Ping<'a> {
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
    /// The measurements.
    #[serde(borrow, default)]
    pub payload: Option<Lenient<Payload<'a>>>,
}

impl<'a> Ping<'a> {
    /// Parses a ping from JSON text, borrowing from it.
    ///
    /// # Errors
    /// The parser's error when `json` is not a JSON object (syntax, truncation, non-UTF-8
    /// strings, nesting beyond serde_json's recursion limit, a number too large for f64, or
    /// a wrong type at the top level or in a field that has no lenient form).
    pub fn from_slice(json: &'a [u8]) -> serde_json::Result<Self> {
        Self::top_level(serde_json::from_slice(json)?)
    }

    /// Parses a ping from a JSON string, borrowing from it.
    ///
    /// # Errors
    /// As [`Ping::from_slice`].
    #[allow(clippy::should_implement_trait)] // borrows from `json`, unlike `FromStr`
    pub fn from_str(json: &'a str) -> serde_json::Result<Self> {
        Self::top_level(serde_json::from_str(json)?)
    }

    // A derived struct would also accept an array (fields by position): only objects are pings.
    fn top_level(doc: Lenient<Self>) -> serde_json::Result<Self> {
        match doc {
            Lenient::Valid(ping) => Ok(ping),
            Lenient::Invalid(found) => Err(<serde_json::Error as de::Error>::custom(format!(
                "a ping must be a JSON object, found {}",
                found.name()
            ))),
        }
    }

    /// The payload, if it is an object.
    pub fn payload(&self) -> Option<&Payload<'a>> {
        self.payload.as_ref().and_then(Lenient::valid)
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

/// `payload`: the measurements of the parent process, other processes and legacy children.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Payload<'a> {
    /// Parent histograms.
    #[serde(borrow, default)]
    pub histograms: Option<Histograms<'a>>,
    /// Parent keyed histograms.
    #[serde(borrow, default, rename = "keyedHistograms")]
    pub keyed_histograms: Option<KeyedHistograms<'a>>,
    /// Parent simple measurements.
    #[serde(borrow, default, rename = "simpleMeasurements")]
    pub simple_measurements: Option<SimpleMeasurements<'a>>,
    /// `parent`, `content` and `gpu` (other processes are skipped).
    #[serde(borrow, default)]
    pub processes: Option<Lenient<Processes<'a>>>,
    /// Legacy child payloads (Firefox < 51): content.
    #[serde(borrow, default, rename = "childPayloads")]
    pub child_payloads: Option<List<Lenient<ChildPayload<'a>>>>,
}

/// `payload.processes`: the three processes aggregation reads.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct Processes<'a> {
    /// Only its scalars are read (parent histograms live in `payload.histograms`).
    #[serde(borrow, default)]
    pub parent: Option<Lenient<ProcessData<'a>>>,
    /// Content processes.
    #[serde(borrow, default)]
    pub content: Option<Lenient<ProcessData<'a>>>,
    /// The GPU process.
    #[serde(borrow, default)]
    pub gpu: Option<Lenient<ProcessData<'a>>>,
}

/// One entry of `payload.processes`.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct ProcessData<'a> {
    /// Histograms.
    #[serde(borrow, default)]
    pub histograms: Option<Histograms<'a>>,
    /// Keyed histograms.
    #[serde(borrow, default, rename = "keyedHistograms")]
    pub keyed_histograms: Option<KeyedHistograms<'a>>,
    /// Scalars.
    #[serde(borrow, default)]
    pub scalars: Option<Scalars<'a>>,
    /// Keyed scalars.
    #[serde(borrow, default, rename = "keyedScalars")]
    pub keyed_scalars: Option<KeyedScalars<'a>>,
}

/// One entry of the legacy `payload.childPayloads`.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
pub struct ChildPayload<'a> {
    /// Histograms.
    #[serde(borrow, default)]
    pub histograms: Option<Histograms<'a>>,
    /// Keyed histograms.
    #[serde(borrow, default, rename = "keyedHistograms")]
    pub keyed_histograms: Option<KeyedHistograms<'a>>,
    /// Simple measurements.
    #[serde(borrow, default, rename = "simpleMeasurements")]
    pub simple_measurements: Option<SimpleMeasurements<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_do_not_fail_the_ping() {
        let json = br#"{
            "application": {"channel": 5, "version": ["x"], "buildId": "2015\u0031103"},
            "environment": {"system": "nope", "settings": {"x": [1, 2, {"y": null}]}},
            "payload": {
                "histograms": {"A": null, "B": 5, "C": {"sum": 1.5, "values": [1], "range": {}},
                               "D": {"sum": 3, "values": {"1": "x", "2": 7, "3": -1}}},
                "keyedHistograms": [1, 2],
                "simpleMeasurements": {"a": {"b": {"c": 1}, "d": true}, "e": "s"},
                "processes": {"content": 7, "gpu": {"scalars": {"x": 1}}, "extension": {}},
                "childPayloads": {"not": "a list"}
            }
        }"#;
        let ping = Ping::from_slice(json).unwrap();
        let app = ping.application.as_ref().unwrap().valid().unwrap();
        assert_eq!(app.channel, Some(Text::Invalid(JsonType::Number)));
        assert_eq!(app.version, Some(Text::Invalid(JsonType::Array)));
        // Escapes produce an owned string.
        assert_eq!(app.build_id.as_ref().unwrap().as_str(), Some("20151103"));
        let env = ping.environment.as_ref().unwrap().valid().unwrap();
        assert_eq!(env.system, Some(Lenient::Invalid(JsonType::String)));
        let payload = ping.payload().unwrap();
        let h = payload.histograms.as_ref().unwrap().entries();
        assert_eq!(h[0].1, HistogramBody::Invalid(JsonType::Null));
        assert_eq!(h[1].1, HistogramBody::Invalid(JsonType::Number));
        let HistogramBody::Object(c) = &h[2].1 else {
            panic!("C is an object")
        };
        assert_eq!(c.sum, Some(Scalar::Float(1.5)));
        assert_eq!(c.values, Some(Obj::Invalid(JsonType::Array)));
        assert_eq!(c.range, Some(List::Invalid(JsonType::Object)));
        let HistogramBody::Object(d) = &h[3].1 else {
            panic!("D is an object")
        };
        let values = d.values.as_ref().unwrap().entries();
        assert_eq!(values[0].1, Scalar::String);
        assert_eq!(values[2].1, Scalar::Negative(-1));
        assert_eq!(
            payload.keyed_histograms,
            Some(Obj::Invalid(JsonType::Array))
        );
        let sm = payload.simple_measurements.as_ref().unwrap().entries();
        assert_eq!(
            sm[0].1,
            Measure::Nested(vec![
                (Str("b".into()), Scalar::Object),
                (Str("d".into()), Scalar::Bool(true))
            ])
        );
        let processes = payload.processes.as_ref().unwrap().valid().unwrap();
        assert_eq!(processes.content, Some(Lenient::Invalid(JsonType::Number)));
        assert!(processes.gpu.as_ref().unwrap().valid().is_some());
        assert_eq!(
            payload.child_payloads,
            Some(List::Invalid(JsonType::Object))
        );
    }

    #[test]
    fn big_integers_become_floats_and_borrowed_keys_stay_borrowed() {
        let json = br#"{"payload": {"histograms": {"H": {"sum": 18446744073709551616,
            "values": {"1": 18446744073709551615}}}}}"#;
        let ping = Ping::from_slice(json).unwrap();
        let h = &ping
            .payload()
            .unwrap()
            .histograms
            .as_ref()
            .unwrap()
            .entries()[0];
        assert!(matches!(h.0 .0, Cow::Borrowed("H")));
        let HistogramBody::Object(body) = &h.1 else {
            panic!("an object")
        };
        assert!(matches!(body.sum, Some(Scalar::Float(f)) if f >= 1.8e19));
        assert_eq!(
            body.values.as_ref().unwrap().entries()[0].1,
            Scalar::Unsigned(u64::MAX)
        );
    }

    #[test]
    fn a_non_object_ping_is_an_error() {
        assert!(Ping::from_slice(b"[1, 2]").is_err());
        assert!(Ping::from_slice(b"{\"payload\": ").is_err());
        assert!(Ping::from_slice(b"{}").is_ok());
    }
}
