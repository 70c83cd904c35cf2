//! Results as Arrow columns, built straight from the text the server sent (`Obj` spans, no intermediate
//! values): `status`, `error`, the person's fields as `person.<field>`, its company's as `company.<field>`, and the
//! person's whole JSON in `person_json`. Each documented field has an Arrow type; a value of another type than
//! documented reads as null, as the models' attributes read it as `None`.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int64Builder, ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use serde_json::value::RawValue;

use super::read::InputTable;
use crate::core::lead::EMAIL_RESULT_FIELDS;
use crate::core::models::{members, Company, Obj, Person, COMPANY_FIELDS, PERSON_FIELDS};

/// How a field is typed in the table.
#[derive(Debug)]
pub enum Kind {
    Text,
    /// `YYYY-MM-DD` text, as `date32`.
    Date,
    Int,
    Bool,
    Texts,
    Ints,
    Struct(&'static [Member]),
    Structs(&'static [Member]),
}

pub type Member = (&'static str, Kind);

use Kind::*;

const LOCATION: &[Member] = &[("city", Text), ("state", Text), ("country", Text)];
const EXPERIENCE: &[Member] = &[
    ("company_name", Text),
    ("company_linkedin_url", Text),
    ("title", Text),
    ("start_date", Date),
    ("end_date", Date),
    ("is_current", Bool),
    ("description", Text),
];
const EDUCATION: &[Member] = &[
    ("school_name", Text),
    ("degree", Text),
    ("field_of_study", Text),
    ("start_date", Date),
    ("end_date", Date),
];
const LANGUAGE: &[Member] = &[("name", Text), ("proficiency", Text)];
const PHONE: &[Member] = &[("number", Text), ("type", Text), ("source", Text)];
const OFFICE: &[Member] = &[("address", Text), ("is_primary", Bool), ("country", Text)];

/// The person's columns, in order (`company` is flattened apart; everything else is in `person_json`).
pub const PERSON_COLUMNS: &[Member] = &[
    ("id", Text),
    ("name", Text),
    ("first_name", Text),
    ("last_name", Text),
    ("linkedin_url", Text),
    ("email", Text),
    ("phone_numbers", Structs(PHONE)),
    ("gender", Text),
    ("title", Text),
    ("headline", Text),
    ("about", Text),
    ("current_position_start_date", Date),
    ("current_position_description", Text),
    ("location", Text),
    ("location_details", Struct(LOCATION)),
    ("image_url", Text),
    ("experiences", Structs(EXPERIENCE)),
    ("educations", Structs(EDUCATION)),
    ("languages", Structs(LANGUAGE)),
];

/// The company's columns, in order (`department_headcount` and `job_function_headcount` stay in the JSON).
pub const COMPANY_COLUMNS: &[Member] = &[
    ("id", Text),
    ("name", Text),
    ("website", Text),
    ("linkedin_url", Text),
    ("industry", Text),
    ("size", Text),
    ("estimated_number_of_employees", Int),
    ("type", Text),
    ("founded_year", Int),
    ("location", Text),
    ("location_details", Struct(LOCATION)),
    ("locations", Structs(OFFICE)),
    ("overview", Text),
    ("logo_url", Text),
    ("keywords", Texts),
    ("technologies", Texts),
    ("sic_codes", Ints),
    ("naics_codes", Ints),
    ("is_b2b", Bool),
    ("is_b2c", Bool),
    ("followers", Int),
    ("traffic_rank", Int),
    ("total_funding", Int),
    ("latest_funding_stage", Text),
    ("latest_funding_date", Date),
    ("estimated_revenue", Text),
    ("revenue", Int),
];

/// One row of results: what every kind of result has.
#[derive(Default)]
pub struct Row<'a> {
    pub status: Option<&'a str>,
    pub error: Option<String>,
    pub result_id: Option<i64>,
    pub person: Option<&'a Person>,
    /// The company of a company enrichment.
    pub company: Option<&'a Company>,
    /// An email validation's result object.
    pub validation: Option<&'a Obj>,
}

/// Which results a table holds, and so which columns follow `status` and `error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `find_many`: the person's and company's columns, `person_json`.
    Found,
    /// People enrichment: `result_id`, then as `Found`.
    People,
    /// Company enrichment: `result_id`, the company's columns, `company_json`.
    Companies,
    /// Email validation: `result`, `catch_all`.
    Emails,
}

impl Kind {
    fn data_type(&self) -> DataType {
        match self {
            Text => DataType::Utf8,
            Date => DataType::Date32,
            Int => DataType::Int64,
            Bool => DataType::Boolean,
            Texts => DataType::new_list(DataType::Utf8, true),
            Ints => DataType::new_list(DataType::Int64, true),
            Struct(members) => DataType::Struct(fields(members)),
            Structs(members) => DataType::new_list(DataType::Struct(fields(members)), true),
        }
    }
}

fn fields(members: &[Member]) -> Fields {
    members
        .iter()
        .map(|(name, kind)| Field::new(*name, kind.data_type(), true))
        .collect()
}

/// A column being built, appended to with each row's raw JSON value.
enum Builder {
    Text(StringBuilder),
    Date(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Texts(ListBuilder<StringBuilder>),
    Ints(ListBuilder<Int64Builder>),
    Struct(Members),
    /// The items' members, the offsets of each row's items, and which rows have a list.
    Structs(Members, Vec<i32>, NullBufferBuilder),
}

/// The members of struct values, one builder each, and which values are null.
struct Members {
    members: &'static [Member],
    children: Vec<Builder>,
    valid: NullBufferBuilder,
}

impl Members {
    fn new(members: &'static [Member], capacity: usize) -> Self {
        Members {
            members,
            children: members.iter().map(|(_, k)| Builder::new(k, capacity)).collect(),
            valid: NullBufferBuilder::new(capacity),
        }
    }

    /// One struct value from an object's raw text; anything else appends a null struct.
    fn append(&mut self, raw: Option<&str>) {
        let names: [&str; 8] = std::array::from_fn(|i| self.members.get(i).map_or("", |m| m.0));
        let values = raw.and_then(|r| members::<8>(r, &names[..self.members.len()]));
        self.valid.append(values.is_some());
        for (i, child) in self.children.iter_mut().enumerate() {
            child.append(values.and_then(|v| v[i]));
        }
    }

    fn finish(mut self) -> StructArray {
        let arrays = self.children.into_iter().map(Builder::finish).collect();
        StructArray::new(fields(self.members), arrays, self.valid.finish())
    }
}

/// A JSON string, borrowed when it has no escapes.
fn text(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    serde_json::from_str::<&str>(raw)
        .map(Into::into)
        .or_else(|_| serde_json::from_str::<String>(raw).map(Into::into))
        .ok()
}

impl Builder {
    fn new(kind: &Kind, capacity: usize) -> Self {
        match kind {
            Text => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
            Date => Builder::Date(StringBuilder::with_capacity(capacity, capacity * 10)),
            Int => Builder::Int(Int64Builder::with_capacity(capacity)),
            Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            Texts => Builder::Texts(ListBuilder::with_capacity(StringBuilder::new(), capacity)),
            Ints => Builder::Ints(ListBuilder::with_capacity(Int64Builder::new(), capacity)),
            Struct(members) => Builder::Struct(Members::new(members, capacity)),
            Structs(members) => {
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Builder::Structs(
                    Members::new(members, capacity),
                    offsets,
                    NullBufferBuilder::new(capacity),
                )
            }
        }
    }

    fn append(&mut self, raw: Option<&str>) {
        // A value that cannot be of the column's kind is null without asking serde, whose errors are costly to
        // make (most misses are `null`).
        let first = raw.and_then(|r| r.as_bytes().first().copied());
        let raw = raw.filter(|_| match self {
            Builder::Text(_) | Builder::Date(_) => first == Some(b'"'),
            Builder::Int(_) => matches!(first, Some(b'-' | b'0'..=b'9')),
            Builder::Bool(_) => matches!(first, Some(b't' | b'f')),
            Builder::Texts(_) | Builder::Ints(_) | Builder::Structs(..) => first == Some(b'['),
            Builder::Struct(_) => first == Some(b'{'),
        });
        match self {
            Builder::Text(b) | Builder::Date(b) => b.append_option(raw.and_then(text)),
            Builder::Int(b) => b.append_option(raw.and_then(|r| serde_json::from_str::<i64>(r).ok())),
            Builder::Bool(b) => b.append_option(raw.and_then(|r| serde_json::from_str::<bool>(r).ok())),
            Builder::Texts(b) => match raw.and_then(|r| serde_json::from_str::<Vec<String>>(r).ok()) {
                Some(items) => b.append_value(items.into_iter().map(Some)),
                None => b.append_null(),
            },
            Builder::Ints(b) => match raw.and_then(|r| serde_json::from_str::<Vec<i64>>(r).ok()) {
                Some(items) => b.append_value(items.into_iter().map(Some)),
                None => b.append_null(),
            },
            Builder::Struct(m) => m.append(raw),
            Builder::Structs(m, offsets, lists) => {
                let items = raw.and_then(|r| serde_json::from_str::<Vec<&RawValue>>(r).ok());
                let mut end = *offsets.last().expect("offsets start with 0");
                if let Some(items) = &items {
                    for item in items.iter().filter(|i| i.get().starts_with('{')) {
                        m.append(Some(item.get()));
                        end += 1;
                    }
                }
                offsets.push(end);
                lists.append(items.is_some());
            }
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Text(mut b) => Arc::new(b.finish()),
            Builder::Date(mut b) => {
                let texts: StringArray = b.finish();
                arrow_cast::cast(&texts, &DataType::Date32).expect("text casts to dates, unreadable ones as null")
            }
            Builder::Int(mut b) => Arc::new(b.finish()),
            Builder::Bool(mut b) => Arc::new(b.finish()),
            Builder::Texts(mut b) => Arc::new(b.finish()),
            Builder::Ints(mut b) => Arc::new(b.finish()),
            Builder::Struct(m) => Arc::new(m.finish()),
            Builder::Structs(m, offsets, mut lists) => {
                let values = m.finish();
                let item = Arc::new(Field::new("item", values.data_type().clone(), true));
                Arc::new(ListArray::new(
                    item,
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    Arc::new(values),
                    lists.finish(),
                ))
            }
        }
    }
}

/// The columns of `members` read from objects (`None`: a row without one), named `prefix.member`.
fn object_columns<'a>(
    prefix: &str,
    members: &'static [Member],
    fields: &'static [&'static str],
    objects: impl Iterator<Item = Option<&'a Obj>>,
    rows: usize,
) -> Vec<(Field, ArrayRef)> {
    let at: Vec<usize> = members
        .iter()
        .map(|(name, _)| {
            fields
                .iter()
                .position(|f| f == name)
                .expect("each column is a field of the model")
        })
        .collect();
    // Row by row, every column at once: each object is read while it is in cache (column by column, the
    // objects of a large result set were fetched from memory again for every column, several times slower).
    let mut builders: Vec<Builder> = members.iter().map(|(_, kind)| Builder::new(kind, rows)).collect();
    for obj in objects {
        for (&i, b) in at.iter().zip(&mut builders) {
            b.append(obj.and_then(|o| o.raw_at(i)));
        }
    }
    members
        .iter()
        .zip(builders)
        .map(|((name, kind), b)| {
            (
                Field::new(format!("{prefix}.{name}"), kind.data_type(), true),
                b.finish(),
            )
        })
        .collect()
}

/// The result columns of `rows`: `status`, `error`, then those of its `Shape`.
pub fn result_columns(rows: &[Row<'_>], shape: Shape) -> Vec<(Field, ArrayRef)> {
    let n = rows.len();
    let mut out: Vec<(Field, ArrayRef)> = vec![
        (
            Field::new("status", DataType::Utf8, true),
            Arc::new(rows.iter().map(|r| r.status).collect::<StringArray>()),
        ),
        (
            Field::new("error", DataType::Utf8, true),
            Arc::new(rows.iter().map(|r| r.error.as_deref()).collect::<StringArray>()),
        ),
    ];
    if matches!(shape, Shape::People | Shape::Companies) {
        out.push((
            Field::new("result_id", DataType::Int64, true),
            Arc::new(rows.iter().map(|r| r.result_id).collect::<arrow_array::Int64Array>()),
        ));
    }
    match shape {
        Shape::Found | Shape::People => {
            let people = rows.iter().map(|r| r.person.map(|p| &p.obj));
            out.extend(object_columns("person", PERSON_COLUMNS, PERSON_FIELDS, people, n));
            let companies = rows
                .iter()
                .map(|r| r.person.and_then(|p| p.company.as_deref()).map(|c| &c.obj));
            out.extend(object_columns("company", COMPANY_COLUMNS, COMPANY_FIELDS, companies, n));
            out.push(json_column(
                "person_json",
                rows.iter().map(|r| r.person.map(Person::raw)),
            ));
        }
        Shape::Companies => {
            let companies = rows.iter().map(|r| r.company.map(|c| &c.obj));
            out.extend(object_columns("company", COMPANY_COLUMNS, COMPANY_FIELDS, companies, n));
            out.push(json_column(
                "company_json",
                rows.iter().map(|r| r.company.map(|c| c.obj.text())),
            ));
        }
        Shape::Emails => {
            let members: &[Member] = &[("result", Text), ("catch_all", Bool)];
            let all = object_columns(
                "validation",
                members,
                EMAIL_RESULT_FIELDS,
                rows.iter().map(|r| r.validation),
                n,
            );
            // Named as the API names them: `result`, `catch_all`.
            out.extend(all.into_iter().map(|(f, a)| {
                let name = f.name().trim_start_matches("validation.").to_string();
                (f.with_name(name), a)
            }));
        }
    }
    out
}

/// A text column of whole objects as the server sent them.
fn json_column<'a>(name: &str, texts: impl ExactSizeIterator<Item = Option<&'a str>> + Clone) -> (Field, ArrayRef) {
    let bytes = texts.clone().flatten().map(str::len).sum();
    let mut json = StringBuilder::with_capacity(texts.len(), bytes);
    for t in texts {
        json.append_option(t);
    }
    (Field::new(name, DataType::Utf8, true), Arc::new(json.finish()))
}

/// A table as a schema and batches: the input's columns first, unchanged (no copy: each input batch is joined
/// to the matching slice of the result columns), then the result columns; without `include_input`, the result
/// columns alone. A result column whose name the input has is renamed `<name>_result` either way.
pub fn join(
    input: &InputTable,
    include_input: bool,
    results: Vec<(Field, ArrayRef)>,
    rows: usize,
) -> (SchemaRef, Vec<RecordBatch>) {
    let taken = input.column_names();
    let results: Vec<(Field, ArrayRef)> = results
        .into_iter()
        .map(|(f, a)| match taken.contains(f.name()) {
            true => {
                let name = format!("{}_result", f.name());
                (f.with_name(name), a)
            }
            false => (f, a),
        })
        .collect();
    let include_input = include_input && !(input.batches.is_empty() && input.schema.fields().is_empty());
    let mut fields: Vec<Field> = Vec::new();
    if include_input {
        fields.extend(input.schema.fields().iter().map(|f| f.as_ref().clone()));
    }
    fields.extend(results.iter().map(|(f, _)| f.clone()));
    let schema = Arc::new(Schema::new(fields));
    let batch = |columns: Vec<ArrayRef>, len: usize| {
        RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(len)),
        )
        .expect("the columns match the schema")
    };
    if !include_input {
        return (
            schema.clone(),
            vec![batch(results.into_iter().map(|(_, a)| a).collect(), rows)],
        );
    }
    if input.batches.is_empty() {
        // A table without rows (the schema of results for a table, before any is enriched): one empty batch.
        let mut columns: Vec<ArrayRef> = input
            .schema
            .fields()
            .iter()
            .map(|f| arrow_array::new_empty_array(f.data_type()))
            .collect();
        columns.extend(results.into_iter().map(|(_, a)| a));
        return (schema.clone(), vec![batch(columns, 0)]);
    }
    let mut offset = 0;
    let batches = input
        .batches
        .iter()
        .map(|b| {
            let len = b.num_rows();
            let mut columns = b.columns().to_vec();
            columns.extend(results.iter().map(|(_, a)| a.slice(offset, len)));
            offset += len;
            batch(columns, len)
        })
        .collect();
    (schema, batches)
}

impl InputTable {
    /// The fields of dict inputs as a table of text columns, in the order the fields first appear; a value that
    /// is not text is kept as its JSON.
    pub fn from_fields(maps: &[serde_json::Map<String, serde_json::Value>]) -> InputTable {
        let mut names: Vec<&String> = Vec::new();
        for m in maps {
            for k in m.keys() {
                if !names.contains(&k) {
                    names.push(k);
                }
            }
        }
        if names.is_empty() {
            return InputTable::new(Arc::new(Schema::empty()), Vec::new());
        }
        let columns: Vec<ArrayRef> = names
            .iter()
            .map(|k| {
                let values = maps.iter().map(|m| match m.get(*k) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                });
                Arc::new(values.collect::<StringArray>()) as ArrayRef
            })
            .collect();
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(n.as_str(), DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("text columns of one length");
        InputTable::new(schema, vec![batch])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::cast::AsArray;
    use arrow_array::Array;

    #[test]
    fn people_flatten_with_types_and_drift_reads_as_null() {
        let jane = Person::from_json(
            r#"{"id":"p1","name":"Jane","title":42,"current_position_start_date":"2020-03-01",
            "location_details":{"city":"SF","country":"US"},
            "phone_numbers":[{"number":"+1 1","type":"mobile"},"junk"],
            "experiences":[{"title":"VP","start_date":"2020-03-01","is_current":true,"x":1}],
            "company":{"name":"TechCo","founded_year":2012,"keywords":["a","b"],"sic_codes":[1,"x"],"is_b2b":true}}"#,
        )
        .unwrap();
        let rows = vec![
            Row {
                status: Some("enriched"),
                result_id: Some(7),
                person: Some(&jane),
                ..Row::default()
            },
            Row {
                status: Some("invalid"),
                error: Some("lead 1: no usable identifier".into()),
                ..Row::default()
            },
        ];
        let columns = result_columns(&rows, Shape::People);
        let get = |name: &str| {
            columns
                .iter()
                .find(|(f, _)| f.name() == name)
                .map(|(_, a)| a.clone())
                .unwrap()
        };
        assert_eq!(get("status").as_string::<i32>().value(1), "invalid");
        assert_eq!(
            get("result_id")
                .as_primitive::<arrow_array::types::Int64Type>()
                .value(0),
            7
        );
        assert!(
            get("person.title").is_null(0),
            "a number where text is documented reads as null"
        );
        assert_eq!(get("person.current_position_start_date").data_type(), &DataType::Date32);
        assert_eq!(
            get("person.current_position_start_date")
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(0),
            18322
        );
        let phones = get("person.phone_numbers");
        assert_eq!(
            phones.as_list::<i32>().value(0).len(),
            1,
            "items that are not objects are skipped"
        );
        assert!(phones.is_null(1));
        let city = get("person.location_details");
        assert_eq!(
            city.as_struct()
                .column_by_name("city")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "SF"
        );
        assert!(city.is_null(1));
        assert_eq!(
            get("company.founded_year")
                .as_primitive::<arrow_array::types::Int64Type>()
                .value(0),
            2012
        );
        assert_eq!(get("company.keywords").as_list::<i32>().value(0).len(), 2);
        assert!(
            get("company.sic_codes").is_null(0),
            "a list with a non-integer reads as null"
        );
        assert!(get("person_json").as_string::<i32>().value(0).contains("\"x\":1"));
        assert!(columns.iter().all(|(_, a)| a.len() == 2));
    }

    #[test]
    fn join_keeps_input_columns_first_and_renames_clashes() {
        let input_schema = Arc::new(Schema::new(vec![Field::new("status", DataType::Int64, true)]));
        let b1 = RecordBatch::try_new(
            input_schema.clone(),
            vec![Arc::new(arrow_array::Int64Array::from(vec![1, 2]))],
        )
        .unwrap();
        let b2 = RecordBatch::try_new(
            input_schema.clone(),
            vec![Arc::new(arrow_array::Int64Array::from(vec![3]))],
        )
        .unwrap();
        let input = InputTable::new(input_schema, vec![b1, b2]);
        let rows: Vec<Row> = ["a", "b", "c"]
            .iter()
            .map(|s| Row {
                status: Some(s),
                ..Row::default()
            })
            .collect();
        let (schema, batches) = join(&input, true, result_columns(&rows, Shape::Found), 3);
        assert_eq!(schema.field(0).name(), "status");
        assert_eq!(schema.field(1).name(), "status_result");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].column(1).as_string::<i32>().value(0), "c");
    }
}
