//! Leads out of an Arrow table: the columns that map to lead fields read as text, one lead per row, each checked
//! by the same rule as a dict lead (`core::lead`). Problems of the whole table (no lead column, a column that is
//! not text, duplicated names, no rows) are errors before anything is sent; a bad row becomes that row's
//! `invalid` result.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use serde_json::{Map, Value};

use super::columns::{map_columns, Targets, COMPANIES, EMAILS, FIRST_NAME, LAST_NAME, LEADS};
use crate::core::lead::{check_company, check_email, check_lead};

/// A table as given: its schema and its batches, kept to be carried into the output unchanged.
#[derive(Clone, Debug)]
pub struct InputTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// A lead ready to send, or why it cannot be sent; with the fields it was read from, for results made locally.
pub type ReadLead = (Result<Map<String, Value>, String>, Map<String, Value>);

impl InputTable {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        InputTable { schema, batches }
    }

    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn column_names(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    /// One lead per row, in row order. `overrides` map columns to lead fields (`None`: never read the column).
    pub fn leads(&self, overrides: &[(String, Option<String>)]) -> Result<Vec<ReadLead>, String> {
        self.inputs(&LEADS, overrides, check_lead)
    }

    /// One company per row (`Company.enrich`), read as `leads` reads leads.
    pub fn companies(&self, overrides: &[(String, Option<String>)]) -> Result<Vec<ReadLead>, String> {
        self.inputs(&COMPANIES, overrides, check_company)
    }

    /// One email per row (`validate_emails`), read as `leads` reads leads.
    pub fn emails(&self, overrides: &[(String, Option<String>)]) -> Result<Vec<ReadLead>, String> {
        let check = |m: &Map<String, Value>| {
            let email = m.get("email").and_then(Value::as_str).unwrap_or_default();
            check_email(email).map(|e| Map::from_iter([("email".to_string(), Value::String(e))]))
        };
        self.inputs(&EMAILS, overrides, check)
    }

    /// One input per row, its columns mapped by `targets` and `overrides`, each checked by `check`.
    fn inputs(
        &self,
        targets: &Targets,
        overrides: &[(String, Option<String>)],
        check: impl Fn(&Map<String, Value>) -> Result<Map<String, Value>, String>,
    ) -> Result<Vec<ReadLead>, String> {
        let columns = self.column_names();
        check_unique(&columns)?;
        let mapping = map_columns(targets, &columns, overrides)?;
        if mapping.is_empty() {
            let (headers, example) = match targets.noun {
                "company" => (
                    "Domain or Website, Company LinkedIn URL, Company",
                    "{\"Account Domain\": \"domain\"}",
                ),
                "email" => ("Email", "{\"Work Email\": \"email\"}"),
                _ => (
                    "Email, LinkedIn URL, Full Name or First Name + Last Name, Company, Domain, Title",
                    "{\"Work Email\": \"email\"}",
                ),
            };
            return Err(format!(
                "no column of the table holds a {} field (its columns: {columns:?}); name them as exports do \
                 ({headers}) or map them: columns={example}",
                targets.noun
            ));
        }
        if self.num_rows() == 0 {
            return Err("the table has no rows: there is nothing to enrich".into());
        }
        for &(i, field) in &mapping {
            let f = self.schema.field(i);
            if !readable(f.data_type()) && !self.batches.iter().all(|b| all_missing(b.column(i))) {
                return Err(format!(
                    "column {:?} holds {} values, not text, so it cannot be read as the {} field `{field}`; \
                     convert it to text first (pandas: df[{0:?}].astype(\"string\"); polars: \
                     pl.col({0:?}).cast(pl.String)) or leave it out with columns={{{0:?}: None}}",
                    f.name(),
                    f.data_type(),
                    targets.noun
                ));
            }
        }
        let mut out = Vec::with_capacity(self.num_rows());
        for batch in &self.batches {
            let texts: Vec<(Option<ArrayRef>, &'static str)> = mapping
                .iter()
                .map(|&(i, field)| Ok((as_text(batch.column(i))?, field)))
                .collect::<Result<_, String>>()?;
            for row in 0..batch.num_rows() {
                let mut lead = Map::new();
                let (mut first, mut last) = (None, None);
                for (array, field) in &texts {
                    let Some(array) = array else { continue };
                    let array = array.as_string::<i32>();
                    if array.is_null(row) {
                        continue;
                    }
                    let value = array.value(row).trim();
                    if value.is_empty() {
                        continue;
                    }
                    match *field {
                        FIRST_NAME => first = Some(value),
                        LAST_NAME => last = Some(value),
                        f => {
                            lead.insert(f.to_string(), Value::String(value.to_string()));
                        }
                    }
                }
                if !lead.contains_key("name") && (first.is_some() || last.is_some()) {
                    let name = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
                    lead.insert("name".into(), Value::String(name));
                }
                let index = out.len();
                let checked = if lead.is_empty() {
                    Err(format!("row {index}: empty row: no {} field has a value", targets.noun))
                } else {
                    check(&lead).map_err(|e| format!("row {index}: {e}"))
                };
                out.push((checked, lead));
            }
        }
        Ok(out)
    }
}

/// Refuses a table with two columns of one name: which of them holds the lead field would be a guess.
pub fn check_unique(columns: &[String]) -> Result<(), String> {
    match columns
        .iter()
        .enumerate()
        .find_map(|(i, c)| columns[..i].contains(c).then_some(c))
    {
        Some(name) => Err(format!(
            "the table has two columns named {name:?}; rename one (pandas: df.columns = [...]; polars: \
             df.rename({{...}})) so each lead field is read from one column"
        )),
        None => Ok(()),
    }
}

/// Text of any Arrow encoding (large, view, dictionary-encoded).
fn readable(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
        DataType::Dictionary(_, v) => readable(v),
        _ => false,
    }
}

/// Every value null or NaN: a column pandas read from an empty spreadsheet column, say.
fn all_missing(a: &ArrayRef) -> bool {
    if a.null_count() == a.len() {
        return true;
    }
    match a.data_type() {
        DataType::Float64 => a
            .as_primitive::<arrow_array::types::Float64Type>()
            .iter()
            .all(|v| v.is_none_or(f64::is_nan)),
        DataType::Float32 => a
            .as_primitive::<arrow_array::types::Float32Type>()
            .iter()
            .all(|v| v.is_none_or(f32::is_nan)),
        _ => false,
    }
}

/// The column as `Utf8`, or `None` when it holds no value at all.
fn as_text(a: &ArrayRef) -> Result<Option<ArrayRef>, String> {
    if !readable(a.data_type()) {
        return Ok(None); // checked above: every value is missing
    }
    if a.data_type() == &DataType::Null {
        return Ok(None);
    }
    if a.data_type() == &DataType::Utf8 {
        return Ok(Some(Arc::clone(a)));
    }
    arrow_cast::cast(a, &DataType::Utf8)
        .map(Some)
        .map_err(|e| format!("a text column could not be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int64Array, StringArray, StringViewArray};
    use arrow_schema::{Field, Schema};

    fn table(columns: Vec<(&str, ArrayRef)>) -> InputTable {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
        InputTable::new(schema, vec![batch])
    }

    #[test]
    fn rows_become_checked_leads_in_order() {
        let t = table(vec![
            (
                "Email",
                Arc::new(StringArray::from(vec![
                    Some(" jane@techco.com "),
                    None,
                    Some("not an email"),
                    None,
                ])),
            ),
            (
                "First Name",
                Arc::new(StringViewArray::from(vec![None, Some("Sam"), None, None])),
            ),
            (
                "Last Name",
                Arc::new(StringArray::from(vec![None, Some("Rivera"), None, Some("  ")])),
            ),
            (
                "Company",
                Arc::new(StringArray::from(vec![None, Some("TechCo"), None, None])),
            ),
            ("Score", Arc::new(Int64Array::from(vec![1, 2, 3, 4]))),
            (
                "Title",
                Arc::new(Float64Array::from(vec![f64::NAN, f64::NAN, f64::NAN, f64::NAN])),
            ),
        ]);
        let leads = t.leads(&[]).unwrap();
        assert_eq!(leads.len(), 4);
        assert_eq!(
            Value::Object(leads[0].0.clone().unwrap()),
            serde_json::json!({"email": "jane@techco.com"})
        );
        assert_eq!(
            Value::Object(leads[1].0.clone().unwrap()),
            serde_json::json!({"name": "Sam Rivera", "company_name": "TechCo"})
        );
        assert!(leads[2].0.as_ref().unwrap_err().starts_with("row 2: `email`"));
        assert!(leads[3].0.as_ref().unwrap_err().contains("row 3: empty row"));
    }

    #[test]
    fn whole_table_problems_are_errors() {
        let ints = table(vec![("Email", Arc::new(Int64Array::from(vec![1, 2])))]);
        let e = ints.leads(&[]).unwrap_err();
        assert!(
            e.contains("\"Email\"") && e.contains("Int64") && e.contains("astype"),
            "{e}"
        );
        let none = table(vec![("Notes", Arc::new(StringArray::from(vec!["x"])))]);
        assert!(none
            .leads(&[])
            .unwrap_err()
            .contains("columns={\"Work Email\": \"email\"}"));
        let overridden = none.leads(&[("Notes".into(), Some("email".into()))]).unwrap();
        assert!(overridden[0].0.is_err());
        let empty = table(vec![("Email", Arc::new(StringArray::from(Vec::<&str>::new())))]);
        assert!(empty.leads(&[]).unwrap_err().contains("no rows"));
        let twice = table(vec![
            ("Email", Arc::new(StringArray::from(vec!["a@b.co"]))),
            ("Email", Arc::new(StringArray::from(vec!["c@d.co"]))),
        ]);
        assert!(twice.leads(&[]).unwrap_err().contains("two columns named \"Email\""));
    }
}
