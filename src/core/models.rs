//! Response models. Each object keeps the exact text the server sent, shared with the objects nested in it (a
//! person and its company are one buffer), and where each documented field sits in that text; a field is read
//! when asked for. So `to_dict()` gives back exactly what was sent, a large page of results costs little more
//! memory than its text, and a field of an unexpected type reads as missing instead of failing the response.

use std::sync::Arc;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{DecodeError, Error, Result};
use super::transport::Response;

/// Reads a response body as `T`, explaining what came back when it is not.
pub fn decode<T: DeserializeOwned>(resp: &Response, what: &str) -> Result<T> {
    decode_with(resp, what, serde_json::from_slice)
}

pub fn decode_with<'a, T>(
    resp: &'a Response,
    what: &str,
    parse: impl FnOnce(&'a [u8]) -> serde_json::Result<T>,
) -> Result<T> {
    parse(&resp.body).map_err(|e| {
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
        decode_error(resp, message)
    })
}

pub fn decode_error(resp: &Response, message: String) -> Error {
    Error::Decode(DecodeError {
        message,
        status: resp.status,
        request: resp.request.clone(),
    })
}

/// The body as shared text, for models to point into.
pub fn body_text(resp: &Response, what: &str) -> Result<Arc<str>> {
    std::str::from_utf8(&resp.body)
        .map(Arc::from)
        .map_err(|e| decode_error(resp, format!("expected {what}, got a body that is not UTF-8 ({e})")))
}

/// A text holding one object, trimmed and ready to be shared, with the object's span.
pub fn shared(text: &str) -> (Arc<str>, usize, usize) {
    let text: Arc<str> = Arc::from(text.trim());
    let len = text.len();
    (text, 0, len)
}

/// Where `part` (a slice of `text`) starts in `text`.
fn offset(text: &str, part: &str) -> usize {
    part.as_ptr() as usize - text.as_ptr() as usize
}

/// Reads a JSON object's members without allocating (keys are borrowed unless escaped, values are raw spans) and
/// keeps `(index in names, offset in the text, length)` of the members named in `names`. A repeated member counts
/// once, with its last value, as a map would keep it.
struct FieldSpans {
    names: &'static [&'static str],
    /// The address of the whole text, which the parsed slice is part of.
    base: usize,
}

/// A member name: borrowed from the text, or decoded when it has escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for FieldSpans {
    type Value = Vec<(u8, u32, u32)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FieldSpans {
    type Value = Vec<(u8, u32, u32)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        // What the map this replaces said, so messages stay the same.
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut fields: Vec<(u8, u32, u32)> = Vec::with_capacity(self.names.len().min(32));
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            let Some(i) = self.names.iter().position(|n| *n == key) else {
                continue;
            };
            let span = (
                i as u8,
                (value.get().as_ptr() as usize - self.base) as u32,
                value.get().len() as u32,
            );
            match fields.iter_mut().find(|f| f.0 == span.0) {
                Some(f) => *f = span,
                None => fields.push(span),
            }
        }
        Ok(fields)
    }
}

/// The raw value of each of `names` in the JSON object `raw` (`None` where absent), read without allocating: how
/// tables read the members of nested objects. `None` when `raw` is not an object.
pub fn members<'a, const N: usize>(raw: &'a str, names: &[&str]) -> Option<[Option<&'a str>; N]> {
    struct Members<'n, const N: usize>(&'n [&'n str]);
    impl<'de, const N: usize> serde::de::Visitor<'de> for Members<'_, N> {
        type Value = [Option<&'de str>; N];
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
            let mut out = [None; N];
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                if let Some(i) = self.0.iter().position(|n| *n == key) {
                    out[i] = Some(value.get());
                }
            }
            Ok(out)
        }
    }
    impl<'de, const N: usize> DeserializeSeed<'de> for Members<'_, N> {
        type Value = [Option<&'de str>; N];
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    if !raw.starts_with('{') || names.len() > N {
        return None;
    }
    Members::<N>(names)
        .deserialize(&mut serde_json::Deserializer::from_str(raw))
        .ok()
}

/// A JSON object in a shared text: its span, and the spans of the fields named in `names`.
#[derive(Debug, Clone)]
pub struct Obj {
    text: Arc<str>,
    start: u32,
    end: u32,
    names: &'static [&'static str],
    fields: Box<[(u8, u32, u32)]>,
}

impl Obj {
    /// Indexes the object at `text[start..end]` (which must be valid JSON).
    pub fn index(
        text: &Arc<str>,
        start: usize,
        end: usize,
        names: &'static [&'static str],
        what: &str,
    ) -> std::result::Result<Obj, String> {
        let slice = &text[start..end];
        if !slice.trim_start().starts_with('{') {
            let head: String = slice.chars().take(60).collect();
            return Err(format!("expected {what} object, got {head}"));
        }
        let mut de = serde_json::Deserializer::from_str(slice);
        let mut fields = FieldSpans {
            names,
            base: text.as_ptr() as usize,
        }
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|_| f))
        .map_err(|e| format!("{what}: {e}"))?;
        fields.sort_unstable_by_key(|f| f.0);
        Ok(Obj {
            text: text.clone(),
            start: start as u32,
            end: end as u32,
            names,
            fields: fields.into_boxed_slice(),
        })
    }

    /// Exactly the object's text as the server sent it.
    pub fn text(&self) -> &str {
        &self.text[self.start as usize..self.end as usize]
    }

    pub fn shared_text(&self) -> &Arc<str> {
        &self.text
    }

    fn span(&self, name: &str) -> Option<(usize, usize)> {
        self.span_at(self.names.iter().position(|n| *n == name)?)
    }

    fn span_at(&self, i: usize) -> Option<(usize, usize)> {
        let &(_, off, len) = self.fields.iter().find(|f| f.0 as usize == i)?;
        Some((off as usize, (off + len) as usize))
    }

    /// The raw JSON of the field `names[i]` of the table this object was indexed with, when present.
    pub fn raw_at(&self, i: usize) -> Option<&str> {
        self.span_at(i).map(|(a, b)| &self.text[a..b])
    }

    /// The raw JSON of a field, when present.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.span(name).map(|(a, b)| &self.text[a..b])
    }

    /// A field read as `T`; missing, null or of another type reads as `None`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        serde_json::from_str::<Option<T>>(self.raw(name)?).ok().flatten()
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name)
    }

    /// A nested object field, sharing this text.
    pub fn nested<T>(
        &self,
        name: &str,
        make: impl FnOnce(&Arc<str>, usize, usize) -> std::result::Result<T, String>,
    ) -> Option<std::result::Result<T, String>> {
        let (a, b) = self.span(name)?;
        self.text[a..b].starts_with('{').then(|| make(&self.text, a, b))
    }

    /// The objects of a list field, sharing this text (other items are skipped).
    fn nested_list<T>(&self, name: &str, make: impl Fn(&Arc<str>, usize, usize) -> Option<T>) -> Option<Vec<T>> {
        let raw = self.raw(name)?;
        let items: Vec<&RawValue> = serde_json::from_str(raw).ok()?;
        Some(
            items
                .into_iter()
                .filter(|i| i.get().starts_with('{'))
                .filter_map(|i| {
                    let a = offset(&self.text, i.get());
                    make(&self.text, a, a + i.get().len())
                })
                .collect(),
        )
    }
}

/// A model that is only its indexed object, with no models nested in it (unlike a person and its company): made
/// from a span of a shared text, or from a text of its own.
macro_rules! flat_model {
    ($model:ident, $fields:expr, $what:literal) => {
        #[derive(Debug)]
        pub struct $model {
            pub obj: Obj,
        }

        impl $model {
            pub fn from_text(text: &Arc<str>, start: usize, end: usize) -> std::result::Result<$model, String> {
                Ok($model {
                    obj: Obj::index(text, start, end, $fields, $what)?,
                })
            }

            pub fn from_json(text: &str) -> std::result::Result<$model, String> {
                let (text, start, end) = shared(text);
                $model::from_text(&text, start, end)
            }
        }

        impl AsRef<Obj> for $model {
            fn as_ref(&self) -> &Obj {
                &self.obj
            }
        }
    };
}

/// The API's name of a field: its Rust name, or the one given (`r#type as "type"`).
macro_rules! key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $key:literal) => {
        $key
    };
}

pub(crate) use key;

/// `pub const $name`: the names of a field table (below), `id` and `object` first as every object has them.
macro_rules! field_names {
    ($name:ident fields { $( $(#[doc = $doc:literal])* $kind:ident $field:ident $(as $key:literal)? ),* $(,)? }) => {
        pub const $name: &[&str] = &["id", "object", $(key!($field $($key)?)),*];
    };
}

/// The fields of a person, in the API's order: the one declaration of the model's fields. Each says how it reads
/// (`text`, `int`, `flag`, `ints`, `texts`, `dict`, `list`, or `phones` / `company`, models of their own) and
/// what the docs say of it. `person_fields!(m! { … })` hands the table to `m!` after what it was given: the core
/// makes `PERSON_FIELDS` of it, the binding layer the Python class.
macro_rules! person_fields {
    ($then:ident! { $($head:tt)* }) => {
        $then! { $($head)* fields {
            text name, text first_name, text last_name, text linkedin_url,
            /// The email address, when revealed (``reveal_email=True``).
            text email,
            /// ``"male"``, ``"female"``, or another value the API adds later.
            text gender,
            text title, text headline, text about,
            text current_position_start_date, text current_position_description,
            text location, text image_url,
            /// ``{"city": ..., "state": ..., "country": ...}``.
            dict location_details,
            /// A list of experience dicts (company, title, dates…).
            list experiences,
            list educations, list languages,
            /// The phone numbers, when revealed (``reveal_phone_numbers=True``); ``None`` otherwise.
            phones phone_numbers,
            /// The company the person works for now.
            company company,
        } }
    };
}

/// The fields of a company, in the API's order (as `person_fields!`).
macro_rules! company_fields {
    ($then:ident! { $($head:tt)* }) => {
        $then! { $($head)* fields {
            text name, text linkedin_url, text website, text overview, text logo_url,
            int founded_year, int traffic_rank, ints sic_codes, ints naics_codes,
            /// Type of the company (``"Public Company"``, ``"Privately Held"``…); the API's field ``type``.
            text r#type as "type",
            int total_funding, text latest_funding_stage, text latest_funding_date,
            texts keywords, int estimated_number_of_employees,
            /// Followers on LinkedIn.
            int followers,
            /// Self-reported size, such as ``"201-500 employees"``.
            text size,
            text industry, text location, dict location_details,
            /// A list of location dicts (``address``, ``is_primary``, ``country``).
            list locations,
            flag is_b2b, flag is_b2c, texts technologies,
            /// Headcount by department, a dict of name to count.
            dict department_headcount,
            dict job_function_headcount,
            /// Estimated annual revenue, such as ``"$10M-$50M"``.
            text estimated_revenue,
            int revenue,
        } }
    };
}

/// The fields of a revealed phone number, in the API's order (as `person_fields!`).
macro_rules! phone_fields {
    ($then:ident! { $($head:tt)* }) => {
        $then! { $($head)* fields {
            /// The number, such as ``"+1 123456789"``.
            text number,
            /// ``"mobile"``, ``"work"``, ``"landline"``, or another value the API adds later; the API's field ``type``.
            text r#type as "type",
            text source,
        } }
    };
}

pub(crate) use {company_fields, person_fields, phone_fields};

person_fields!(field_names! { PERSON_FIELDS });
company_fields!(field_names! { COMPANY_FIELDS });
phone_fields!(field_names! { PHONE_FIELDS });

#[derive(Debug)]
pub struct Person {
    pub obj: Obj,
    pub company: Option<Arc<Company>>,
    /// `None` when the response had no `phone_numbers` (not revealed).
    pub phone_numbers: Option<Vec<Arc<PhoneNumber>>>,
}

impl AsRef<Obj> for Person {
    fn as_ref(&self) -> &Obj {
        &self.obj
    }
}

impl Person {
    pub fn from_text(text: &Arc<str>, start: usize, end: usize) -> std::result::Result<Person, String> {
        let obj = Obj::index(text, start, end, PERSON_FIELDS, "a Person")?;
        let company = obj.nested("company", Company::from_text).transpose()?.map(Arc::new);
        let phone_numbers = obj.nested_list("phone_numbers", |t, a, b| {
            PhoneNumber::from_text(t, a, b).ok().map(Arc::new)
        });
        Ok(Person {
            obj,
            company,
            phone_numbers,
        })
    }

    pub fn from_json(text: &str) -> std::result::Result<Person, String> {
        let (text, start, end) = shared(text);
        Person::from_text(&text, start, end)
    }

    pub fn raw(&self) -> &str {
        self.obj.text()
    }

    pub fn name(&self) -> Option<String> {
        self.obj.string("name")
    }

    pub fn parse(resp: &Response) -> Result<Person> {
        // One pass when the body is a good person (indexing it reads and checks all of it); otherwise the checks
        // below, one after the other, say what is wrong with it.
        if let Ok(body) = std::str::from_utf8(&resp.body) {
            let text: Arc<str> = Arc::from(body);
            // JSON's whitespace only: a body that is not JSON must take the path that says so.
            let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
            let start = offset(&text, trimmed);
            if let Ok(p) = Person::from_text(&text, start, start + trimmed.len()) {
                return Ok(p);
            }
        }
        let _: &RawValue = decode_with(resp, "a Person object", serde_json::from_slice)?;
        let text = body_text(resp, "a Person object")?;
        let trimmed = text.trim();
        let start = offset(&text, trimmed);
        Person::from_text(&text, start, start + trimmed.len()).map_err(|m| decode_error(resp, m))
    }
}

flat_model!(Company, COMPANY_FIELDS, "a Company");

impl Company {
    pub fn parse(resp: &Response) -> Result<Company> {
        let _: &RawValue = decode_with(resp, "a Company object", serde_json::from_slice)?;
        let text = body_text(resp, "a Company object")?;
        Company::from_json(&text).map_err(|m| decode_error(resp, m))
    }
}

flat_model!(PhoneNumber, PHONE_FIELDS, "a PhoneNumber");

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(default)]
pub struct Pagination {
    pub page: u64,
    pub page_size: u64,
    pub total_pages: u64,
    pub total: u64,
}

#[derive(Deserialize)]
struct SearchWire<'a> {
    #[serde(default, borrow)]
    results: Vec<&'a RawValue>,
    #[serde(rename = "_pagination")]
    pagination: Option<Pagination>,
}

impl SearchWire<'_> {
    /// The page's results, pointing into `text`, the page's text.
    fn results<T: Listed>(&self, text: &Arc<str>) -> std::result::Result<Vec<T>, String> {
        self.results
            .iter()
            .map(|r| {
                let a = offset(text, r.get());
                T::from_text(text, a, a + r.get().len())
            })
            .collect()
    }
}

/// What a search lists: people or companies.
pub trait Listed: Sized + Send + Sync + 'static {
    /// The `object` of a page of them.
    const PAGE_OBJECT: &'static str;
    /// Where they are searched.
    const SEARCH_PATH: &'static str;
    fn from_text(text: &Arc<str>, start: usize, end: usize) -> std::result::Result<Self, String>;
    /// Its exact text, which tells one page from another.
    fn text(&self) -> &str;
}

/// `impl Listed`: the page object and the search path of a model parsed by its own `from_text`.
macro_rules! listed {
    ($model:ident, $page_object:literal, $path:literal) => {
        impl Listed for $model {
            const PAGE_OBJECT: &'static str = $page_object;
            const SEARCH_PATH: &'static str = $path;
            fn from_text(text: &Arc<str>, start: usize, end: usize) -> std::result::Result<Self, String> {
                $model::from_text(text, start, end)
            }
            fn text(&self) -> &str {
                self.obj.text()
            }
        }
    };
}

listed!(Person, "person_search_result", "/people/search");
listed!(Company, "company_search_result", "/companies/search");

#[derive(Debug)]
pub struct SearchPage<T = Person> {
    pub results: Vec<T>,
    pub pagination: Pagination,
}

impl<T: Listed> SearchPage<T> {
    /// A page from its text (a page the cache kept).
    pub fn from_text(text: &str) -> std::result::Result<SearchPage<T>, String> {
        let (shared_text, _, _) = shared(text);
        let wire: SearchWire = serde_json::from_str(&shared_text).map_err(|e| e.to_string())?;
        let results = wire.results(&shared_text)?;
        let pagination = wire.pagination.unwrap_or_default();
        Ok(SearchPage { results, pagination })
    }

    pub fn parse(resp: &Response) -> Result<SearchPage<T>> {
        let what = format!("a {} object", T::PAGE_OBJECT);
        let text = body_text(resp, &what)?;
        let wire: SearchWire = decode_with(resp, &what, |_| serde_json::from_str(&text))?;
        let results = wire.results(&text).map_err(|m| decode_error(resp, m))?;
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

    #[test]
    fn people_keep_raw_json_and_survive_drift() {
        let text = r#"{"id":"p1","object":"person","name":"Jane","founded":1,"gender":"nonbinary","title":42,
            "phone_numbers":[{"object":"phone_number","number":"+1 1","type":"satellite"},"junk"],
            "company":{"id":"c1","object":"company","name":"Co","sic_codes":[1,"x"],"founded_year":"1999","x_new":{"a":1}}}"#;
        let p = Person::from_json(text).unwrap();
        assert_eq!(p.raw(), text);
        assert_eq!(p.obj.string("gender").as_deref(), Some("nonbinary"));
        assert_eq!(p.obj.string("title"), None);
        let phones = p.phone_numbers.unwrap();
        assert_eq!(phones.len(), 1);
        assert_eq!(phones[0].obj.string("type").as_deref(), Some("satellite"));
        let c = p.company.unwrap();
        assert_eq!(c.obj.string("name").as_deref(), Some("Co"));
        assert_eq!(c.obj.get::<Vec<i64>>("sic_codes"), None);
        assert_eq!(c.obj.get::<i64>("founded_year"), None);
        assert!(c.obj.text().contains("x_new"));
        assert!(
            Arc::ptr_eq(c.obj.shared_text(), p.obj.shared_text()),
            "a person and its company share one text"
        );
    }

    #[test]
    fn nulls_and_missing_fields_are_none() {
        let p = Person::from_json(r#"{"id":"p","name":null,"company":null}"#).unwrap();
        assert!(p.obj.string("name").is_none() && p.company.is_none() && p.phone_numbers.is_none());
        assert!(Person::from_json("[1]").is_err());
        let escaped = Person::from_json(r#"{"name":"Ren\u00e9 \"R\" O'Neil"}"#).unwrap();
        assert_eq!(escaped.name().as_deref(), Some("René \"R\" O'Neil"));
    }
}
