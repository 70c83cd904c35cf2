//! `Person.find`, `Person.search` and `Person.search_iter`, blocking and awaitable, and the `SearchPage` type.

use pyo3::prelude::*;

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::models::PyPerson;
use super::paging::page_iterators;
use super::search::search_page;
use super::twins::twins;
use crate::core::models::Person;
use crate::core::paging::SearchPages;
use crate::core::people::{self, FindQuery, SearchCursor, SearchQuery, SEARCH_LISTS};

/// One value or a list of them, for list filters (`person_titles="CEO"` reads as `["CEO"]`).
#[derive(FromPyObject)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A search query from list filters given in the order of `names` (the core's one list of them), with the page
/// asked for.
pub fn search_query<const N: usize>(
    person_name: Option<String>,
    names: &[&str],
    lists: [Option<OneOrMany>; N],
    page: i64,
    page_size: i64,
) -> SearchQuery {
    let lists = names
        .iter()
        .zip(lists)
        .filter_map(|(k, v)| Some((k.to_string(), v?.into_vec())))
        .collect();
    SearchQuery {
        person_name,
        lists,
        page,
        page_size,
    }
}

twins! {
    /// Finds one person by ``linkedin_url``, by ``email``, or by ``name`` with ``company_name`` or
    /// ``company_domain`` (``title`` helps pick among namesakes). Returns ``None`` when nobody matches.
    ///
    /// ``reveal_email`` / ``reveal_phone_numbers`` add the email / phone numbers (charged once per person).
    /// A reveal the server is still processing (408) is waited out up to the client's ``reveal_timeout``.
    static PyPerson, find / find_async,
    signature (*, linkedin_url = None, email = None, name = None, title = None, company_name = None, company_domain = None, reveal_email = false, reveal_phone_numbers = false, client = None),
    |py, linkedin_url: Option<String>, email: Option<String>, name: Option<String>, title: Option<String>,
     company_name: Option<String>, company_domain: Option<String>, reveal_email: bool, reveal_phone_numbers: bool,
     client: Option<&Bound<'_, PyClient>>| -> Option<PyPerson> {
        let query = FindQuery { linkedin_url, email, name, title, company_name, company_domain, reveal_email, reveal_phone_numbers };
        let query = checked(py, query.validated())?;
        let client = resolve(py, client)?;
        async move { Ok(people::find(&client, &query).await?.map(PyPerson::from)) }
    }
}

twins! {
    /// One page of people matching the filters (all optional, combined with AND; a list matches any of its
    /// values). Costs no credits; paced to the search rate limit.
    static PyPerson, search / search_async,
    signature (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=10, client=None),
    |py, person_name: Option<String>, person_titles: Option<OneOrMany>, person_locations: Option<OneOrMany>,
     person_seniorities: Option<OneOrMany>, person_departments: Option<OneOrMany>,
     person_job_functions: Option<OneOrMany>, company_names: Option<OneOrMany>, company_domains: Option<OneOrMany>,
     company_industries: Option<OneOrMany>, company_sizes: Option<OneOrMany>, company_locations: Option<OneOrMany>,
     page: i64, page_size: i64, client: Option<&Bound<'_, PyClient>>| -> PySearchPage {
        let lists = [
            person_titles, person_locations, person_seniorities, person_departments, person_job_functions,
            company_names, company_domains, company_industries, company_sizes, company_locations,
        ];
        let query = search_query(person_name, &SEARCH_LISTS, lists, page, page_size);
        checked(py, query.validate())?;
        PySearchPage::fetch(resolve(py, client)?, query)
    }
}

twins! {
    /// Every person matching the filters, page after page (``page_size`` per request) until the last page, an
    /// empty or repeated page, or ``max_results``. Always ends.
    iter PyPerson, search_iter -> SearchIterator / search_iter_async -> AsyncSearchIterator,
    signature (*, person_name=None, person_titles=None, person_locations=None, person_seniorities=None, person_departments=None, person_job_functions=None, company_names=None, company_domains=None, company_industries=None, company_sizes=None, company_locations=None, page=1, page_size=100, max_results=None, client=None),
    |py, person_name: Option<String>, person_titles: Option<OneOrMany>, person_locations: Option<OneOrMany>,
     person_seniorities: Option<OneOrMany>, person_departments: Option<OneOrMany>,
     person_job_functions: Option<OneOrMany>, company_names: Option<OneOrMany>, company_domains: Option<OneOrMany>,
     company_industries: Option<OneOrMany>, company_sizes: Option<OneOrMany>, company_locations: Option<OneOrMany>,
     page: i64, page_size: i64, max_results: Option<i64>, client: Option<&Bound<'_, PyClient>>| {
        let lists = [
            person_titles, person_locations, person_seniorities, person_departments, person_job_functions,
            company_names, company_domains, company_industries, company_sizes, company_locations,
        ];
        let cursor = checked(py, SearchCursor::new(search_query(person_name, &SEARCH_LISTS, lists, page, page_size), max_results))?;
        SearchPages::new(resolve(py, client)?, cursor)
    }
}

page_iterators! {
    /// Iterator returned by ``Person.search_iter``.
    SearchIterator as "SearchIterator", AsyncSearchIterator as "AsyncSearchIterator", SearchPages => PyPerson
}

search_page! {
    /// One page of people search results: iterable, with its ``_pagination`` numbers and ``next_page()``.
    PySearchPage as "SearchPage", Person => PyPerson
}
