//! A query answer ([`MetricResponse`]) as one Arrow record batch, the frame Python's
//! `QueryResult.to_arrow()` and `.to_pandas()` give: `date`, `label`, `group` (only when the
//! query was grouped), `count`, `sum`, then one int64 column per served bucket, named by its
//! lower bound or label.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::query::{Bucket, MetricResponse};

fn long(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| {
        Error::invalid(
            "query result",
            format!("{value} does not fit a signed 64-bit Arrow column"),
        )
    })
}

/// The answer's `data` as one record batch (see the module).
///
/// ```
/// use mozaggregator_core::export::query_frame::response_batch;
/// use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
/// let response = MetricResponse {
///     buckets: vec![Bucket::Number(0), Bucket::Number(1)],
///     kind: "flag".into(),
///     description: String::new(),
///     data: vec![DataPoint::new("20240101".parse().unwrap(), "".into(), 2, 1, vec![1, 1])],
/// };
/// let batch = response_batch(&response).unwrap();
/// assert_eq!(batch.schema().field(5).name(), "1");
/// assert_eq!((batch.num_rows(), batch.num_columns()), (1, 6));
/// ```
///
/// # Errors
/// [`Error::Invalid`] when a count exceeds `i64::MAX`.
pub fn response_batch(response: &MetricResponse) -> Result<RecordBatch> {
    let grouped = response.data.iter().any(|p| p.group.is_some());
    let mut date = StringBuilder::new();
    let mut label = StringBuilder::new();
    let mut group = StringBuilder::new();
    let mut count = Int64Builder::new();
    let mut sum = Int64Builder::new();
    let mut buckets: Vec<Int64Builder> = response
        .buckets
        .iter()
        .map(|_| Int64Builder::with_capacity(response.data.len()))
        .collect();
    for point in &response.data {
        date.append_value(point.date.to_string());
        label.append_value(&point.label);
        group.append_option(point.group.as_deref());
        count.append_value(long(point.count)?);
        sum.append_value(long(point.sum)?);
        for (i, builder) in buckets.iter_mut().enumerate() {
            match point.histogram.get(i) {
                Some(&c) => builder.append_value(long(c)?),
                None => builder.append_null(),
            }
        }
    }
    let mut fields = vec![
        Field::new("date", DataType::Utf8, false),
        Field::new("label", DataType::Utf8, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(date.finish()), Arc::new(label.finish())];
    if grouped {
        fields.push(Field::new("group", DataType::Utf8, true));
        columns.push(Arc::new(group.finish()));
    }
    fields.push(Field::new("count", DataType::Int64, false));
    fields.push(Field::new("sum", DataType::Int64, false));
    columns.push(Arc::new(count.finish()));
    columns.push(Arc::new(sum.finish()));
    for (bucket, mut builder) in response.buckets.iter().zip(buckets) {
        let name = match bucket {
            Bucket::Number(n) => n.to_string(),
            Bucket::Label(l) => l.clone(),
        };
        let array = builder.finish();
        fields.push(Field::new(name, DataType::Int64, array.null_count() > 0));
        columns.push(Arc::new(array));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::invalid("query result", e.to_string()))
}
