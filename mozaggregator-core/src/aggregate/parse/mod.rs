//! The streaming parse of one ping: the envelope into an [`Envelope`], the payload straight
//! into records of the scratch, following the table of docs/ingest.md ("What is extracted"). Nothing of the payload is
//! built as a tree; the parts aggregation does not read are skipped by serde_json.
//!
//! - objects with known fields match their keys on a field enum ([`fields`]);
//! - sections that map names to items (histograms, scalars, processes, …) share one seed,
//!   [`Section`], and differ only in how they read one entry ([`Entries`]): [`payload`],
//!   [`histogram`], [`scalar`].

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserializer;

use super::rules::{Ctx, Scratch};
use crate::ping::{Application, Envelope, Environment, Lenient, Meta, Str, Text};

mod fields;
mod histogram;
mod payload;
mod scalar;
pub(crate) use histogram::IGNORED_KEYED_HISTOGRAMS;
pub(crate) use scalar::IGNORED_SCALAR_PREFIX;

use fields::{Field, PingField};
use payload::Payload;

/// Implements the `visit_*` of the JSON types a visitor does not read as "wrong type": skip
/// the value and return `$wrong(self)`. `primitives`: every type but arrays and objects;
/// `seq`: arrays; `map`: objects; `primitives, seq; $wrong`: several kinds at once.
macro_rules! wrong_type {
    ($($kind:ident),+; $wrong:expr) => {
        $(wrong_type!($kind, $wrong);)+
    };
    (primitives, $wrong:expr) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(($wrong)(self))
        }
    };
    (seq, $wrong:expr) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            crate::ping::drain_seq(seq)?;
            Ok(($wrong)(self))
        }
    };
    (map, $wrong:expr) => {
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            crate::ping::drain_map(map)?;
            Ok(($wrong)(self))
        }
    };
}
pub(crate) use wrong_type;

/// Implements `DeserializeSeed` (reading any JSON type) and `Visitor` for a seed: `$ty` reads
/// a `$value` and is `$expecting`; the items given are the rest of its `Visitor` impl.
macro_rules! any_seed {
    ($ty:ty => $value:ty, $expecting:literal; $($visit:tt)*) => {
        impl<'de> serde::de::DeserializeSeed<'de> for $ty {
            type Value = $value;

            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<$value, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> serde::de::Visitor<'de> for $ty {
            type Value = $value;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($expecting)
            }

            $($visit)*
        }
    };
}
pub(crate) use any_seed;

/// Declares a section type (`Copy`) and its [`Entries`]: what it is (`expecting`), the
/// [`Scratch`] reject method and reason counted when it is not an object (`else`), and how it
/// reads one entry (`fn entry(self, ctx, key, map)`, the arguments of [`Entries::entry`]).
macro_rules! section {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident $body:tt
        expecting $expecting:expr, else $reject:ident($reason:expr);
        $(#[$entry_attr:meta])*
        fn entry($self:ident, $ctx:ident, $key:ident, $map:ident) $entry:block
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy)]
        $vis struct $name $body

        impl $crate::aggregate::parse::Entries for $name {
            fn expecting($self) -> &'static str {
                $expecting
            }

            fn not_an_object($self, scratch: &mut $crate::aggregate::rules::Scratch) {
                scratch.$reject($reason);
            }

            $(#[$entry_attr])*
            fn entry<'de, A: serde::de::MapAccess<'de>>(
                $self,
                $ctx: &mut $crate::aggregate::rules::Ctx<'_>,
                $key: &str,
                $map: &mut A,
            ) -> Result<(), A::Error> $entry
        }
    };
}
pub(crate) use section;

/// A map key read as the field `F` of an object (no allocation): `None` for a key the parser
/// does not read.
struct FieldKey<F>(PhantomData<F>);

impl<F: Field> FieldKey<F> {
    fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, F: Field> DeserializeSeed<'de> for FieldKey<F> {
    type Value = Option<F>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<F>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<F: Field> Visitor<'_> for FieldKey<F> {
    type Value = Option<F>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<F>, E> {
        Ok(F::from_key(v))
    }
}

// ------------------------------------------------------------------------------------------------
// Sections: objects of named entries

/// How a section of the payload reads its entries, and what counts when it is not an object.
pub(super) trait Entries: Copy {
    /// What the section is (for serde's messages).
    fn expecting(self) -> &'static str;

    /// Counts the section as rejected because it is not an object.
    fn not_an_object(self, scratch: &mut Scratch);

    /// Reads the value of the entry named `key` (one `next_value…` of `map`).
    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// One section of the payload: an object whose entries `E` reads, or a counted reject.
pub(super) struct Section<'c, 's, E> {
    pub(super) ctx: &'c mut Ctx<'s>,
    pub(super) entries: E,
}

impl<'de, S: Entries> DeserializeSeed<'de> for Section<'_, '_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Entries> Visitor<'de> for Section<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.entries.expecting())
    }

    wrong_type!(primitives, seq; |s: Self| s.entries.not_an_object(s.ctx.scratch));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, entries) = (self.ctx, self.entries);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            entries.entry(&mut *ctx, &key, &mut map)?;
        }
        Ok(())
    }
}

/// Reads the value of `map`'s current entry as a section whose entries `entries` reads.
#[inline]
pub(super) fn next_section<'de, A: MapAccess<'de>, E: Entries>(
    map: &mut A,
    ctx: &mut Ctx<'_>,
    entries: E,
) -> Result<(), A::Error> {
    map.next_value_seed(Section { ctx, entries })
}

// ------------------------------------------------------------------------------------------------
// The ping

/// Parses a whole ping: returns its envelope (or `None` when the document is not an object),
/// with the payload's records in the scratch.
pub(crate) struct PingSeed<'c, 's> {
    pub(crate) ctx: &'c mut Ctx<'s>,
}

any_seed! {
    PingSeed<'_, '_> => Option<Envelope<'de>>, "a ping";

    wrong_type!(primitives, seq; |_| None);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope::default();
        let mut payload_seen = false;
        while let Some(field) = map.next_key_seed(FieldKey::<PingField>::new())? {
            match field {
                Some(PingField::Meta) => {
                    envelope.meta = Some(map.next_value::<Lenient<Meta<'de>>>()?);
                }
                Some(PingField::ClientId) => {
                    envelope.client_id = Some(map.next_value::<Text<'de>>()?);
                }
                Some(PingField::Application) => {
                    envelope.application = Some(map.next_value::<Lenient<Application<'de>>>()?);
                }
                Some(PingField::Environment) => {
                    envelope.environment = Some(map.next_value::<Lenient<Environment<'de>>>()?);
                }
                Some(PingField::Payload) => {
                    // Its records are already in the scratch: a second one cannot be undone.
                    if payload_seen {
                        return Err(de::Error::duplicate_field("payload"));
                    }
                    payload_seen = true;
                    map.next_value_seed(Section {
                        ctx: &mut *self.ctx,
                        entries: Payload {
                            legacy_child: false,
                        },
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(envelope))
    }
}
