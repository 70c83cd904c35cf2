//! `Person.find`, `Person.search` and `Person.search_iter`, blocking and awaitable, and the `SearchPage` type.

use pyo3::prelude::*;

use super::client::{resolve, PyClient};
use super::errors::checked;
use super::models::PyPerson;
use super::search::searches;
use super::twins::twins;
use crate::core::models::Person;
use crate::core::people::{self, FindQuery, PERSON_FILTERS};

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

searches! {
    PyPerson(Person) as "Person", filters PERSON_FILTERS, results "people",
    page PySearchPage as "SearchPage",
    iterators SearchIterator as "SearchIterator", AsyncSearchIterator as "AsyncSearchIterator",
    search {
        /// One page of people matching the filters (all optional, combined with AND; a list matches any of its
        /// values). Costs no credits; paced to the search rate limit.
    }
    search_iter {
        /// Every person matching the filters, page after page (``page_size`` per request) until the last page, an
        /// empty or repeated page, or ``max_results``. Always ends.
    }
}
