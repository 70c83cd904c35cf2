//! Response models: typed fields for what the docs describe, and the raw JSON of each object kept beside them,
//! so `to_dict()` gives back exactly what the server sent. Fields of an unexpected type read as missing instead
//! of failing the whole response: the API adds and changes fields over time.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_with::{serde_as, DefaultOnError};

use super::error::{DecodeError, Error, Result};
use super::transport::Response;

/// Reads a response body as `T`, explaining what came back when it is not.
pub fn decode<T: DeserializeOwned>(resp: &Response, what: &str) -> Result<T> {
    serde_json::from_slice(&resp.body).map_err(|e| {
        let content_type = resp
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no content type");
        let excerpt: String = String::from_utf8_lossy(&resp.body).chars().take(120).collect();
        let message = if resp.body.is_empty() {
            format!("expected {what}, got an empty body")
        } else {
            format!("expected {what} as JSON, got {content_type} that does not read as one ({e}): {excerpt:?}")
        };
        Error::Decode(DecodeError {
            message,
            status: resp.status,
            request: resp.request.clone(),
        })
    })
}

fn object(raw: &RawValue, what: &str) -> std::result::Result<(), String> {
    if raw.get().trim_start().starts_with('{') {
        Ok(())
    } else {
        Err(format!(
            "expected {what} object, got {}",
            raw.get().chars().take(60).collect::<String>()
        ))
    }
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PersonFields {
    #[serde_as(as = "DefaultOnError")]
    pub id: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub object: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub name: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub first_name: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub last_name: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub linkedin_url: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub email: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub gender: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub title: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub headline: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub about: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub current_position_start_date: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub current_position_description: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub location: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub image_url: Option<String>,
    pub location_details: Option<Box<RawValue>>,
    pub experiences: Option<Box<RawValue>>,
    pub educations: Option<Box<RawValue>>,
    pub languages: Option<Box<RawValue>>,
    pub phone_numbers: Option<Box<RawValue>>,
    pub company: Option<Box<RawValue>>,
}

#[derive(Debug)]
pub struct Person {
    pub raw: Box<RawValue>,
    pub fields: PersonFields,
    pub company: Option<Arc<Company>>,
    /// `None` when the response had no `phone_numbers` (not revealed).
    pub phone_numbers: Option<Vec<Arc<PhoneNumber>>>,
}

impl Person {
    pub fn from_raw(raw: Box<RawValue>) -> std::result::Result<Person, String> {
        object(&raw, "a Person")?;
        let mut fields: PersonFields = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        let company = match fields.company.take() {
            Some(c) if c.get().trim_start().starts_with('{') => Some(Arc::new(Company::from_raw(c)?)),
            _ => None,
        };
        // RawValue cannot pass through serde_with's buffering, so the list is read by hand, leniently.
        let phone_numbers = fields.phone_numbers.take().map(|list| {
            serde_json::from_str::<Vec<Box<RawValue>>>(list.get())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| PhoneNumber::from_raw(p).ok().map(Arc::new))
                .collect()
        });
        Ok(Person {
            raw,
            fields,
            company,
            phone_numbers,
        })
    }

    pub fn parse(resp: &Response) -> Result<Person> {
        let raw: Box<RawValue> = decode(resp, "a Person object")?;
        Person::from_raw(raw).map_err(|m| decode_error(resp, m))
    }
}

pub fn decode_error(resp: &Response, message: String) -> Error {
    Error::Decode(DecodeError {
        message,
        status: resp.status,
        request: resp.request.clone(),
    })
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CompanyFields {
    #[serde_as(as = "DefaultOnError")]
    pub id: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub object: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub name: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub linkedin_url: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub website: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub overview: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub logo_url: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub founded_year: Option<i64>,
    #[serde_as(as = "DefaultOnError")]
    pub traffic_rank: Option<i64>,
    #[serde_as(as = "DefaultOnError")]
    pub sic_codes: Option<Vec<i64>>,
    #[serde_as(as = "DefaultOnError")]
    pub naics_codes: Option<Vec<i64>>,
    #[serde(rename = "type")]
    #[serde_as(as = "DefaultOnError")]
    pub kind: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub total_funding: Option<i64>,
    #[serde_as(as = "DefaultOnError")]
    pub latest_funding_stage: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub latest_funding_date: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub keywords: Option<Vec<String>>,
    #[serde_as(as = "DefaultOnError")]
    pub estimated_number_of_employees: Option<i64>,
    #[serde_as(as = "DefaultOnError")]
    pub followers: Option<i64>,
    #[serde_as(as = "DefaultOnError")]
    pub size: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub industry: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub location: Option<String>,
    pub location_details: Option<Box<RawValue>>,
    pub locations: Option<Box<RawValue>>,
    #[serde_as(as = "DefaultOnError")]
    pub is_b2b: Option<bool>,
    #[serde_as(as = "DefaultOnError")]
    pub is_b2c: Option<bool>,
    #[serde_as(as = "DefaultOnError")]
    pub technologies: Option<Vec<String>>,
    pub department_headcount: Option<Box<RawValue>>,
    pub job_function_headcount: Option<Box<RawValue>>,
    #[serde_as(as = "DefaultOnError")]
    pub estimated_revenue: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub revenue: Option<i64>,
}

#[derive(Debug)]
pub struct Company {
    pub raw: Box<RawValue>,
    pub fields: CompanyFields,
}

impl Company {
    pub fn from_raw(raw: Box<RawValue>) -> std::result::Result<Company, String> {
        object(&raw, "a Company")?;
        let fields = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        Ok(Company { raw, fields })
    }

    pub fn parse(resp: &Response) -> Result<Company> {
        let raw: Box<RawValue> = decode(resp, "a Company object")?;
        Company::from_raw(raw).map_err(|m| decode_error(resp, m))
    }
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PhoneNumberFields {
    #[serde_as(as = "DefaultOnError")]
    pub id: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub object: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub number: Option<String>,
    #[serde(rename = "type")]
    #[serde_as(as = "DefaultOnError")]
    pub kind: Option<String>,
    #[serde_as(as = "DefaultOnError")]
    pub source: Option<String>,
}

#[derive(Debug)]
pub struct PhoneNumber {
    pub raw: Box<RawValue>,
    pub fields: PhoneNumberFields,
}

impl PhoneNumber {
    pub fn from_raw(raw: Box<RawValue>) -> std::result::Result<PhoneNumber, String> {
        object(&raw, "a PhoneNumber")?;
        let fields = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        Ok(PhoneNumber { raw, fields })
    }
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(default)]
pub struct Pagination {
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
    pub total: u64,
}

#[derive(Deserialize)]
struct SearchWire {
    #[serde(default)]
    results: Vec<Box<RawValue>>,
    #[serde(rename = "_pagination")]
    pagination: Option<Pagination>,
}

#[derive(Debug)]
pub struct SearchPage {
    pub results: Vec<Person>,
    pub pagination: Pagination,
}

impl SearchPage {
    pub fn parse(resp: &Response) -> Result<SearchPage> {
        let wire: SearchWire = decode(resp, "a person_search_result object")?;
        let results = wire
            .results
            .into_iter()
            .map(Person::from_raw)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| decode_error(resp, m))?;
        let pagination = wire.pagination.unwrap_or(Pagination {
            page: 1,
            page_size: results.len() as u64,
            total_pages: 1,
            total: results.len() as u64,
        });
        Ok(SearchPage { results, pagination })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    #[test]
    fn people_keep_raw_json_and_survive_drift() {
        let text = r#"{"id":"p1","object":"person","name":"Jane","founded":1,"gender":"nonbinary","title":42,
            "phone_numbers":[{"object":"phone_number","number":"+1 1","type":"satellite"},"junk"],
            "company":{"id":"c1","object":"company","name":"Co","sic_codes":[1,"x"],"founded_year":"1999","x_new":{"a":1}}}"#;
        let p = Person::from_raw(raw(text)).unwrap();
        assert_eq!(p.raw.get(), text);
        assert_eq!(p.fields.gender.as_deref(), Some("nonbinary"));
        assert_eq!(p.fields.title, None);
        let phones = p.phone_numbers.unwrap();
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].fields.kind.as_deref(), Some("satellite"));
        let c = p.company.unwrap();
        assert_eq!(c.fields.name.as_deref(), Some("Co"));
        assert_eq!(c.fields.sic_codes, None);
        assert_eq!(c.fields.founded_year, None);
        assert!(c.raw.get().contains("x_new"));
    }

    #[test]
    fn nulls_and_missing_fields_are_none() {
        let p = Person::from_raw(raw(r#"{"id":"p","name":null,"company":null}"#)).unwrap();
        assert!(p.fields.name.is_none() && p.company.is_none() && p.phone_numbers.is_none());
        assert!(Person::from_raw(raw("[1]")).is_err());
    }
}
