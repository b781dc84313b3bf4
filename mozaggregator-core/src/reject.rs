//! Why something read is not aggregated or written: one enum per kind of item (pings,
//! histograms, scalars, damaged inputs, store rows), each variant with its stable snake_case
//! name — the name reports, JSON, Python and `docs/ingest.md` use ("What is rejected, and
//! why"). Counted per reason in a [`Tally`](crate::tally::Tally).

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// A reason enum: its variants, and each one's stable name.
///
/// Reasons order by name (so a tally serializes in the order of its names), and serialize as
/// their name.
pub trait Reason: Copy + Ord + fmt::Debug + fmt::Display + 'static {
    /// Every variant, in declaration order (`ALL[r as usize] == r`).
    const ALL: &'static [Self];

    /// The stable snake_case name (`"invalid_json"`, …).
    fn name(self) -> &'static str;

    /// The reason with this name, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.name() == name)
    }
}

/// Declares a reason enum: the variants with their names, [`Reason`], `COUNT`, `Display`,
/// ordering by name, and serde as the name.
macro_rules! reasons {
    (
        $(#[$doc:meta])*
        $name:ident {
            $($(#[$vdoc:meta])* $variant:ident => $text:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// How many variants there are (the length of a counter indexed by `self as usize`).
            pub const COUNT: usize = <Self as Reason>::ALL.len();

            /// The stable snake_case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl Reason for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)*];

            fn name(self) -> &'static str {
                $name::name(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        /// By name, as the reports list reasons.
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.name().cmp(other.name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(NameVisitor::<$name>(std::marker::PhantomData))
            }
        }
    };
}

/// Reads a reason from its name; an unknown name is an error that names it.
struct NameVisitor<R>(std::marker::PhantomData<R>);

impl<R: Reason> Visitor<'_> for NameVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reason name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<R, E> {
        R::from_name(v).ok_or_else(|| E::custom(format_args!("unknown reason `{v}`")))
    }
}

reasons! {
    /// Why a JSON document is not aggregated as a ping (`pings_rejected`; docs/ingest.md, "Which pings count").
    PingReject {
        /// The document is not valid UTF-8.
        InvalidUtf8 => "invalid_utf8",
        /// The document is not well-formed JSON.
        InvalidJson => "invalid_json",
        /// The document ends before its JSON does.
        TruncatedJson => "truncated_json",
        /// A number beyond the range of f64.
        NumberOutOfRange => "number_out_of_range",
        /// The document is not a JSON object (or a field has a type that cannot be read).
        NotAPingObject => "not_a_ping_object",
        /// A field of the envelope, or `payload`, given twice.
        DuplicateField => "duplicate_field",
        /// An NDJSON line longer than the line limit (256 MiB).
        LineTooLong => "line_too_long",
        /// Nested beyond serde_json's recursion limit.
        TooDeeplyNested => "too_deeply_nested",
        /// The JSON reader failed to read (not reachable when parsing from memory).
        IoError => "io_error",
        /// `meta` is not an object.
        InvalidMeta => "invalid_meta",
        /// `meta.submissionDate` is not a `YYYYMMDD` date string.
        InvalidSubmissionDate => "invalid_submission_date",
        /// No `meta.submissionDate`, and no `--submission-date` to give it one.
        MissingSubmissionDate => "missing_submission_date",
        /// The ping's submission date is not the `--submission-date` of the job.
        OtherSubmissionDate => "other_submission_date",
        /// `meta.sampleId` is not a number (a string, a boolean, …).
        InvalidSampleId => "invalid_sample_id",
        /// `meta.sampleId` is 100 or more.
        SampleIdOutOfRange => "sample_id_out_of_range",
        /// No `meta.sampleId` and no `clientId` to derive it from.
        MissingClientId => "missing_client_id",
        /// `application.channel` (or `application`) is absent or `null`.
        MissingChannel => "missing_channel",
        /// `application.channel` is not a string.
        InvalidChannel => "invalid_channel",
        /// The channel is not nightly, aurora, beta or release.
        UnknownChannel => "unknown_channel",
        /// The channel is not among the job's `--channels`.
        ChannelNotSelected => "channel_not_selected",
        /// `application.version` is absent or `null`.
        MissingVersion => "missing_version",
        /// `application.version` is not a string, or empty before its first `.`.
        InvalidVersion => "invalid_version",
        /// The major version is not among the job's `--versions`.
        VersionNotSelected => "version_not_selected",
        /// `application.buildId` is absent or `null`.
        MissingBuildId => "missing_build_id",
        /// `application.buildId` does not start with 8 digits forming a date.
        InvalidBuildId => "invalid_build_id",
        /// `application.name` is absent or `null`.
        MissingApplication => "missing_application",
        /// `application.name` is not a string, or `application` is not an object.
        InvalidApplication => "invalid_application",
        /// `application.architecture` is absent or `null`.
        MissingArchitecture => "missing_architecture",
        /// `application.architecture` is not a string.
        InvalidArchitecture => "invalid_architecture",
        /// `environment.system.os.name` is absent or `null` (or a section above it).
        MissingOs => "missing_os",
        /// `environment.system.os.name` is not a string.
        InvalidOs => "invalid_os",
        /// `environment.system.os.version` is absent or `null`.
        MissingOsVersion => "missing_os_version",
        /// `environment.system.os.version` is not a string.
        InvalidOsVersion => "invalid_os_version",
        /// More than 2³² distinct strings in one aggregate.
        TooManyStrings => "too_many_strings",
        /// A mobile-metrics ping's `metrics` is not an object.
        InvalidMetrics => "invalid_metrics",
    }
}

reasons! {
    /// Why a histogram (or a histogram section) is not aggregated (`histograms_rejected`;
    /// docs/ingest.md, "One histogram").
    HistogramReject {
        /// The histogram is not an object (`null` histograms included).
        NotAnObject => "not_an_object",
        /// `histogram_type` is missing or not an integer.
        TypeNotInteger => "type_not_integer",
        /// `values` is missing or not an object.
        ValuesNotAnObject => "values_not_an_object",
        /// `sum` is missing or not an integer (`9362.0` included).
        SumNotInteger => "sum_not_integer",
        /// `sum` is negative.
        NegativeSum => "negative_sum",
        /// A sum or count of 2⁶⁴ or more.
        NumberOutOfRange => "number_out_of_range",
        /// A bucket count is negative: the whole histogram is rejected.
        NegativeCount => "negative_count",
        /// The declared layout is impossible (unknown type, too few or too many buckets, bad
        /// range, `range` missing for exponential/linear).
        InvalidLayout => "invalid_layout",
        /// The counts of the histogram, or of its series, would exceed 2⁶⁴.
        Overflow => "overflow",
        /// A keyed histogram never aggregated (`MESSAGE_MANAGER_MESSAGE_SIZE`, …).
        IgnoredByName => "ignored_by_name",
        /// A histogram section (`payload.histograms`, a process, …) is not an object.
        SectionNotAnObject => "section_not_an_object",
        /// `payload` is not an object.
        PayloadNotAnObject => "payload_not_an_object",
        /// More than 2³² distinct strings in one aggregate.
        TooManyStrings => "too_many_strings",
    }
}

reasons! {
    /// Why a scalar value, keyed scalar value or simple measure is not aggregated
    /// (`scalars_rejected`; docs/ingest.md, "Scalars, simple measures, count histograms").
    ScalarReject {
        /// A negative value.
        Negative => "negative",
        /// Not a number or boolean (strings, `null`, arrays, objects nested too deep).
        NotNumeric => "not_numeric",
        /// A value of 2⁶⁴ or more.
        OutOfRange => "out_of_range",
        /// A scalar never aggregated (`browser.engagement.navigation…`).
        IgnoredByName => "ignored_by_name",
        /// A keyed scalar that is not an object.
        NotAnObject => "not_an_object",
        /// A scalar or simple-measurement section that is not an object.
        SectionNotAnObject => "section_not_an_object",
        /// The series' counts would exceed 2⁶⁴.
        Overflow => "overflow",
        /// More than 2³² distinct strings in one aggregate.
        TooManyStrings => "too_many_strings",
    }
}

reasons! {
    /// Why the rest of an input was lost (`inputs_damaged`).
    InputDamage {
        /// A gzip stream that is corrupt or truncated.
        CorruptGzip => "corrupt_gzip",
        /// A zstd stream that is corrupt or truncated.
        CorruptZstd => "corrupt_zstd",
    }
}

reasons! {
    /// Why a row is not written (`rows_rejected`; docs/store.md, "The contract in plain words").
    RowReject {
        /// The metric name has characters outside `[A-Za-z0-9_.\-\[\]]` (or is empty).
        BadMetricName => "bad_metric_name",
        /// A dimension or the label contains NUL.
        NulInDimension => "nul_in_dimension",
        /// The sum exceeds the signed 64-bit range.
        SumOutOfRange => "sum_out_of_range",
        /// The bucket counts do not fit the layout.
        LayoutMismatch => "layout_mismatch",
        /// Merging into the stored row, or the build ids of a submission-date series, would
        /// overflow a count or sum.
        MergeOverflow => "merge_overflow",
    }
}

reasons! {
    /// Why a row of an export file is not imported (`rows_rejected` of an
    /// [`ImportReport`](crate::import::ImportReport); README, "Importing an export").
    ImportReject {
        /// Not a JSON object or CSV record that can be read: bad syntax, a truncated line,
        /// invalid UTF-8, a CSV record with the wrong number of fields.
        Malformed => "malformed",
        /// A line longer than the line limit (256 MiB).
        LineTooLong => "line_too_long",
        /// A field missing or of the wrong type (a string where a number belongs, a negative
        /// count, a number beyond 2^64, …).
        WrongType => "wrong_type",
        /// `prefix` is neither `build_id` nor `submission_date`.
        UnknownPrefix => "unknown_prefix",
        /// `process` is not `parent`, `content` or `gpu`.
        UnknownProcess => "unknown_process",
        /// `kind` is not a histogram kind.
        UnknownKind => "unknown_kind",
        /// `date`, or one of the `absorbed` dates, is not a `YYYYMMDD` date; or `absorbed` is
        /// empty.
        BadDate => "bad_date",
        /// `buckets` are not the lower bounds of any layout of the row's kind (labels for a
        /// kind that is not categorical included).
        LayoutMismatch => "layout_mismatch",
        /// `histogram` does not have one count per entry of `buckets`.
        LengthMismatch => "length_mismatch",
        /// `count` is 0 while `sum` or a bucket is not.
        InconsistentCounts => "inconsistent_counts",
        /// `sum` exceeds the signed 64-bit range, alone or merged into the stored row.
        SumOutOfRange => "sum_out_of_range",
        /// The metric name has characters outside `[A-Za-z0-9_.\-\[\]]` (or is empty).
        BadMetricName => "bad_metric_name",
        /// A dimension or the label contains NUL.
        NulInDimension => "nul_in_dimension",
        /// Merging into the stored row would overflow a count or sum.
        MergeOverflow => "merge_overflow",
        /// The same series and layout twice in the rows of one target.
        DuplicateRow => "duplicate_row",
        /// A row of a target (with the same absorbed dates) that came after that target's rows
        /// were written, in the same input: an export lists each target's rows together.
        TargetRepeated => "target_repeated",
        /// The store already absorbed some, not all, of the target's absorbed dates: the rows
        /// cannot be added without counting some submission dates twice.
        PartlyAbsorbed => "partly_absorbed",
        /// Original service: the metric has no layout: not a `SCALARS_`, `SIMPLE_MEASURES_`,
        /// `[[COUNT]]_` or use counter name, and no definition given names it.
        UnknownMetric => "unknown_metric",
        /// Original service: the `histogram` array is not one count per bucket of the
        /// metric's layout followed by the sum and the count.
        ArrayLength => "array_length",
        /// Original service: the `histogram` array is NULL, not a one-dimensional `bigint[]`,
        /// or holds a NULL or negative number.
        BadArray => "bad_array",
        /// Original service: `dimensions` is not a JSON object with the string keys `metric`,
        /// `label`, `application`, `architecture`, `os`, `osVersion` and a `child`.
        MalformedDimensions => "malformed_dimensions",
        /// Original service: `child` is none of `"false"`/`false` (parent), `"true"`/`true`
        /// (content), `"gpu"` (also `"parent"`, `"content"`).
        UnknownChild => "unknown_child",
    }
}

impl From<RowReject> for ImportReject {
    /// The import reason of a store's row reject.
    fn from(reason: RowReject) -> Self {
        match reason {
            RowReject::BadMetricName => ImportReject::BadMetricName,
            RowReject::NulInDimension => ImportReject::NulInDimension,
            RowReject::SumOutOfRange => ImportReject::SumOutOfRange,
            RowReject::LayoutMismatch => ImportReject::LayoutMismatch,
            RowReject::MergeOverflow => ImportReject::MergeOverflow,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn check<R: Reason + Serialize + for<'de> Deserialize<'de>>() {
        let mut names = BTreeSet::new();
        for (i, &r) in R::ALL.iter().enumerate() {
            let name = r.name();
            assert!(names.insert(name), "{name} twice");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name} is not snake_case"
            );
            assert_eq!(r.to_string(), name);
            assert_eq!(R::from_name(name), Some(r));
            let json = serde_json::to_string(&r).unwrap_or_default();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<R>(&json).ok(), Some(r));
            // ALL is in declaration order: a dense counter indexes by position.
            assert_eq!(R::ALL.iter().position(|&x| x == r), Some(i));
        }
        assert_eq!(R::from_name("no_such_reason"), None);
        assert!(serde_json::from_str::<R>("\"no_such_reason\"").is_err());
        // Reasons order by name.
        let mut sorted = R::ALL.to_vec();
        sorted.sort();
        let by_name: Vec<&str> = sorted.iter().map(|r| r.name()).collect();
        let mut want = by_name.clone();
        want.sort_unstable();
        assert_eq!(by_name, want);
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        check::<PingReject>();
        check::<HistogramReject>();
        check::<ScalarReject>();
        check::<InputDamage>();
        check::<RowReject>();
        check::<ImportReject>();
    }

    #[test]
    fn counts_and_positions_agree() {
        assert_eq!(PingReject::COUNT, 35);
        assert_eq!(HistogramReject::COUNT, 13);
        assert_eq!(ScalarReject::COUNT, 8);
        for (i, r) in HistogramReject::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
        for (i, r) in ScalarReject::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i);
        }
    }
}
