//! People operations: find (with reveals) and search, with their inputs checked before anything is sent.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Map, Value};

use super::budget::Credits;
use super::error::{Error, Result};
use super::lead::check_value;
use super::memory::{self, Spend};
use super::models::{body_text, Listed, Person, SearchPage};
use super::transport::{Client, Request};

/// The lookup of `GET /people/find`.
#[derive(Clone, Debug, Default)]
pub struct FindQuery {
    pub linkedin_url: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
    pub reveal_email: bool,
    pub reveal_phone_numbers: bool,
}

const LOOKUPS: &str = "`linkedin_url`, `email`, or `name` with `company_name` or `company_domain` (`title` optional)";

/// `Some(trimmed)` for a usable value; an error for one that is present but blank.
fn field(name: &str, value: &Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Err(Error::InvalidInput(format!(
            "`{name}` is empty; leave it out or give a value (a lookup needs {LOOKUPS})"
        ))),
        Some(v) => Ok(Some(v.trim().to_string())),
    }
}

/// The keys of a query dict of `find_many`: the lookup and the reveal flags.
const QUERY_KEYS: [&str; 8] = [
    "linkedin_url",
    "email",
    "name",
    "title",
    "company_name",
    "company_domain",
    "reveal_email",
    "reveal_phone_numbers",
];

impl FindQuery {
    /// A query given as a JSON object (a `find_many` query): known keys, text values, boolean reveal flags
    /// (`reveal_*` default to the batch's). The message says what is wrong, without naming the query.
    pub fn from_map(
        map: &Map<String, Value>,
        reveal_email: bool,
        reveal_phone_numbers: bool,
    ) -> std::result::Result<FindQuery, String> {
        if let Some(k) = map.keys().find(|k| !QUERY_KEYS.contains(&k.as_str())) {
            return Err(format!("unknown key `{k}`; keys are {}", QUERY_KEYS.join(", ")));
        }
        let text = |k: &str| match map.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{k}` must be a string")),
        };
        let flag = |k: &str, default: bool| match map.get(k) {
            Some(Value::Bool(b)) => Ok(*b),
            None | Some(Value::Null) => Ok(default),
            Some(_) => Err(format!("`{k}` must be True or False")),
        };
        Ok(FindQuery {
            linkedin_url: text("linkedin_url")?,
            email: text("email")?,
            name: text("name")?,
            title: text("title")?,
            company_name: text("company_name")?,
            company_domain: text("company_domain")?,
            reveal_email: flag("reveal_email", reveal_email)?,
            reveal_phone_numbers: flag("reveal_phone_numbers", reveal_phone_numbers)?,
        })
    }

    /// Checks the combination and the values, returning the trimmed query.
    pub fn validated(&self) -> Result<FindQuery> {
        let q = FindQuery {
            linkedin_url: field("linkedin_url", &self.linkedin_url)?,
            email: field("email", &self.email)?,
            name: field("name", &self.name)?,
            title: field("title", &self.title)?,
            company_name: field("company_name", &self.company_name)?,
            company_domain: field("company_domain", &self.company_domain)?,
            ..self.clone()
        };
        for (name, value) in [("email", &q.email), ("linkedin_url", &q.linkedin_url)] {
            if let Some(v) = value {
                check_value(name, v).map_err(Error::InvalidInput)?;
            }
        }
        let has_company = q.company_name.is_some() || q.company_domain.is_some();
        if q.linkedin_url.is_some() || q.email.is_some() {
            return Ok(q);
        }
        match (&q.name, has_company) {
            (Some(_), true) => Ok(q),
            (Some(_), false) => Err(Error::InvalidInput(
                "`name` alone is too ambiguous: add `company_name` or `company_domain` (and `title` if you know it)".into(),
            )),
            (None, _) if has_company || q.title.is_some() => Err(Error::InvalidInput(format!(
                "`title`, `company_name` and `company_domain` narrow a lookup by `name`; add `name` (a lookup needs {LOOKUPS})"
            ))),
            (None, _) => Err(Error::InvalidInput(format!("nothing to look up: give {LOOKUPS}"))),
        }
    }

    fn request(&self) -> Request {
        let mut query = Vec::new();
        for (k, v) in [
            ("linkedin_url", &self.linkedin_url),
            ("email", &self.email),
            ("name", &self.name),
            ("title", &self.title),
            ("company_name", &self.company_name),
            ("company_domain", &self.company_domain),
        ] {
            if let Some(v) = v {
                query.push((k.to_string(), v.clone()));
            }
        }
        if self.reveal_email {
            query.push(("reveal_email".into(), "true".into()));
        }
        if self.reveal_phone_numbers {
            query.push(("reveal_phone_numbers".into(), "true".into()));
        }
        Request {
            query,
            reveal: self.reveal_email || self.reveal_phone_numbers,
            ..Request::get("/people/find")
        }
    }
}

/// Finds one person; `None` when nobody matches.
pub async fn find(client: &Client, query: &FindQuery) -> Result<Option<Person>> {
    Ok(find_with(client, query, Spend::Reserve(Credits::UNLIMITED)).await?.0)
}

/// Finds one person through the client's cache and budget (`spend`); `true` with an answer from the cache.
pub async fn find_with(client: &Client, query: &FindQuery, spend: Spend) -> Result<(Option<Person>, bool)> {
    let query = query.validated()?;
    let send = async {
        match client.send(&query.request()).await {
            Ok(resp) => Person::parse(&resp).map(Some),
            Err(Error::Status(s)) if s.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    };
    memory::find_person(client, &query, spend, send).await
}

/// The filters of `POST /people/search` and the page to fetch.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub person_name: Option<String>,
    /// List filters by their API name (`person_titles`, `company_domains`…).
    pub lists: Vec<(String, Vec<String>)>,
    pub page: i64,
    pub page_size: i64,
}

/// The filters of `POST /people/search` by their API name: `person_name` (one text), then the lists.
pub const PERSON_FILTERS: [&str; 11] = [
    "person_name",
    "person_titles",
    "person_locations",
    "person_seniorities",
    "person_departments",
    "person_job_functions",
    "company_names",
    "company_domains",
    "company_industries",
    "company_sizes",
    "company_locations",
];

impl SearchQuery {
    /// The query of filters given by name (one or more values each, `None` for one left out; `person_name` takes
    /// one value) for a search that takes the filters `names`, in their order whatever the order given. `Err` says
    /// which name it does not take.
    pub fn of_filters(
        call: &str,
        names: &[&str],
        given: Vec<(String, Option<Vec<String>>)>,
        page: i64,
        page_size: i64,
    ) -> std::result::Result<SearchQuery, String> {
        if let Some((name, _)) = given.iter().find(|(k, _)| !names.contains(&k.as_str())) {
            return Err(format!(
                "{call}() got an unexpected keyword argument '{name}'; its filters are {}",
                names.join(", ")
            ));
        }
        let mut given: Vec<(String, Vec<String>)> = given.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        given.sort_by_key(|(k, _)| names.iter().position(|n| n == k));
        let person_name = match given.first() {
            Some((k, _)) if k == "person_name" => given.remove(0).1.pop(),
            _ => None,
        };
        Ok(SearchQuery {
            person_name,
            lists: given,
            page,
            page_size,
        })
    }

    pub fn validate(&self) -> Result<()> {
        if self.page < 1 {
            return Err(Error::InvalidInput(format!("`page` starts at 1, got {}", self.page)));
        }
        if !(1..=100).contains(&self.page_size) {
            return Err(Error::InvalidInput(format!(
                "`page_size` must be from 1 to 100, got {}",
                self.page_size
            )));
        }
        for (k, values) in &self.lists {
            if let Some(blank) = values.iter().position(|v| v.trim().is_empty()) {
                return Err(Error::InvalidInput(format!("`{k}`[{blank}] is empty")));
            }
        }
        Ok(())
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        if let Some(n) = &self.person_name {
            m.insert("person_name".into(), n.clone().into());
        }
        for (k, v) in &self.lists {
            m.insert(k.clone(), v.clone().into());
        }
        m.insert("page".into(), self.page.into());
        m.insert("page_size".into(), self.page_size.into());
        Value::Object(m)
    }
}

/// The filters of `POST /companies/search`, all lists.
pub const COMPANY_FILTERS: [&str; 7] = [
    "company_names",
    "company_domains",
    "company_industries",
    "company_sizes",
    "company_types",
    "company_locations",
    "company_keywords",
];

/// One page of a search of people (`T` = `Person`) or companies (`Company`); paced as a search.
pub async fn search<T: Listed>(client: &Client, query: &SearchQuery) -> Result<SearchPage<T>> {
    query.validate()?;
    let body = query.body();
    let req = Request {
        is_search: true,
        ..Request::json(Method::POST, T::SEARCH_PATH, &body)
    };
    if client.memory().cache().is_none() {
        return SearchPage::parse(&client.send(&req).await?);
    }
    // Through the cache: the page is read once from the response (so a bad one fails as a decode error there) and
    // kept as its text.
    let send = async {
        let resp = client.send(&req).await?;
        SearchPage::<T>::parse(&resp)?;
        Ok(body_text(&resp, T::PAGE_OBJECT)?.to_string())
    };
    let (text, _) = memory::search_page(client, T::SEARCH_PATH, &body, send).await?;
    SearchPage::from_text(&text).map_err(memory::cached_decode_error)
}

/// Walks search pages until the last one, and stops early on an empty page, a page seen before (a server that
/// ignores `page` would otherwise loop forever and burn the rate limit) or `max_results`.
#[derive(Debug)]
pub struct SearchCursor<T = Person> {
    query: SearchQuery,
    max_results: Option<u64>,
    yielded: u64,
    seen_pages: HashSet<Vec<String>>,
    done: bool,
    listed: std::marker::PhantomData<fn() -> T>,
}

impl<T: Listed> SearchCursor<T> {
    pub fn new(query: SearchQuery, max_results: Option<i64>) -> Result<Self> {
        query.validate()?;
        let max_results = match max_results {
            Some(n) if n < 0 => {
                return Err(Error::InvalidInput(format!(
                    "`max_results` cannot be negative, got {n}"
                )));
            }
            other => other.map(|n| n as u64),
        };
        Ok(SearchCursor {
            done: max_results == Some(0),
            query,
            max_results,
            yielded: 0,
            seen_pages: HashSet::new(),
            listed: std::marker::PhantomData,
        })
    }

    /// The next people (or companies) to hand out, or `None` when the walk is over.
    pub async fn next_page(&mut self, client: &Client) -> Result<Option<Vec<T>>> {
        if self.done {
            return Ok(None);
        }
        let page = search::<T>(client, &self.query).await?;
        let ids: Vec<String> = page.results.iter().map(|p| p.text().to_string()).collect();
        let mut people = page.results;
        if people.is_empty() || !self.seen_pages.insert(ids) {
            self.done = true;
            return Ok(None);
        }
        if let Some(max) = self.max_results {
            let left = max - self.yielded;
            if people.len() as u64 >= left {
                people.truncate(left as usize);
                self.done = true;
            }
        }
        self.yielded += people.len() as u64;
        if page.pagination.total_pages > 0 && self.query.page as u64 >= page.pagination.total_pages {
            self.done = true;
        }
        self.query.page += 1;
        Ok(Some(people))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn given(pairs: &[(&str, &[&str])]) -> Vec<(String, Option<Vec<String>>)> {
        lists(pairs).into_iter().map(|(k, v)| (k, Some(v))).collect()
    }

    #[test]
    fn filters_are_read_in_the_search_order_whatever_order_they_come_in() {
        let q = SearchQuery::of_filters(
            "search",
            &PERSON_FILTERS,
            given(&[
                ("company_names", &["A"]),
                ("person_name", &["Jane"]),
                ("person_titles", &["CEO", "CTO"]),
            ]),
            2,
            10,
        )
        .unwrap();
        assert_eq!(q.person_name.as_deref(), Some("Jane"));
        assert_eq!(
            q.lists,
            lists(&[("person_titles", &["CEO", "CTO"]), ("company_names", &["A"])])
        );
        assert_eq!((q.page, q.page_size), (2, 10));
    }

    #[test]
    fn a_filter_left_out_with_none_is_not_sent_but_its_name_is_checked() {
        let left_out = vec![("company_names".to_string(), None)];
        let q = SearchQuery::of_filters("search", &PERSON_FILTERS, left_out, 1, 10).unwrap();
        assert!(q.lists.is_empty() && q.person_name.is_none());
        let misspelt = vec![("titles".to_string(), None)];
        assert!(SearchQuery::of_filters("search", &PERSON_FILTERS, misspelt, 1, 10).is_err());
    }

    #[test]
    fn a_filter_the_search_does_not_take_is_named() {
        let err = SearchQuery::of_filters("search", &COMPANY_FILTERS, given(&[("person_titles", &["CEO"])]), 1, 10)
            .unwrap_err();
        assert!(
            err.starts_with(
                "search() got an unexpected keyword argument 'person_titles'; its filters are company_names"
            ),
            "{err}"
        );
    }
}
