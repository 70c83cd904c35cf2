//! The sandbox's data set: synthetic people and companies drawn deterministically from a seed, plus the records a
//! user adds. Only what matching and search need is kept in memory; the rest of a synthetic record is drawn again
//! from its own seed when it is rendered, which keeps 200,000 people small and quick to build.

mod generate;
pub mod normalize;
mod render;
mod words;

use std::collections::HashMap;

use serde_json::{Map, Value};

pub(crate) use generate::uuid;
pub use render::Reveal;

/// A company: the fields search and matching read, and where the rest of the record comes from.
pub struct Company {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
    pub linkedin_key: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub location: Option<String>,
    body: CompanyBody,
}

enum CompanyBody {
    Synthetic(generate::SynthCompany),
    Custom(Map<String, Value>),
}

pub struct Person {
    pub id: String,
    pub name: String,
    pub title: Option<String>,
    pub location: Option<String>,
    pub email: Option<String>,
    pub linkedin_key: Option<String>,
    pub company: Option<u32>,
    pub seniority: Option<&'static str>,
    pub department: Option<&'static str>,
    pub job_function: Option<&'static str>,
    /// Removed for GDPR: finds answer 451, enrichment says `gdpr_removed`, search never lists them.
    pub gdpr_removed: bool,
    /// How many phone numbers a reveal returns.
    pub phone_count: usize,
    body: PersonBody,
}

enum PersonBody {
    Synthetic(generate::SynthPerson),
    Custom(Map<String, Value>),
}

#[derive(Default)]
pub struct Dataset {
    seed: u64,
    pub people: Vec<Person>,
    pub companies: Vec<Company>,
    person_by_linkedin: HashMap<String, u32>,
    person_by_email: HashMap<String, u32>,
    person_by_name: HashMap<String, Vec<u32>>,
    company_by_domain: HashMap<String, u32>,
    company_by_linkedin: HashMap<String, u32>,
}

/// Takes a hidden `_key` of an added record: one of `allowed` (any case), as the data set spells it.
fn hidden(
    map: &mut Map<String, Value>,
    key: &str,
    allowed: impl Iterator<Item = &'static str> + Clone,
) -> Result<Option<&'static str>, RecordError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) => allowed
            .clone()
            .find(|a| a.eq_ignore_ascii_case(&v))
            .map(Some)
            .ok_or_else(|| {
                RecordError(format!(
                    "`{key}` {v:?} is not one of {}",
                    allowed.collect::<Vec<_>>().join(", ")
                ))
            }),
        Some(other) => Err(RecordError(format!("`{key}` must be a string, not {other}"))),
    }
}

/// Why a record a user added was refused.
#[derive(Debug)]
pub struct RecordError(pub String);

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Dataset {
    pub fn generate(seed: u64, people: usize, companies: Option<usize>) -> Self {
        let n_companies = companies.unwrap_or_else(|| (people / 10).max(1));
        let mut ds = Dataset {
            seed,
            ..Default::default()
        };
        ds.people.reserve(people);
        ds.person_by_linkedin.reserve(people);
        ds.person_by_email.reserve(people);
        ds.person_by_name.reserve(people);
        let mut domains = HashMap::new();
        for i in 0..n_companies {
            let c = generate::company(seed, i as u32, &mut domains);
            ds.push_company(c);
        }
        for i in 0..people {
            let p = generate::person(seed, i as u32, &ds.companies);
            ds.push_person(p);
        }
        ds.add_showcase();
        ds
    }

    /// The records the README, docstrings and examples use (Jane Doe at TechCo), after the synthetic ones, so
    /// every documented call finds what it shows whatever the seed and size.
    fn add_showcase(&mut self) {
        let showcase: Value = serde_json::from_str(include_str!("showcase.json")).expect("showcase.json is JSON");
        for c in showcase["companies"].as_array().into_iter().flatten() {
            self.add_company(c.clone()).expect("a showcase company is valid");
        }
        for p in showcase["people"].as_array().into_iter().flatten() {
            self.add_person(p.clone()).expect("a showcase person is valid");
        }
    }

    fn push_company(&mut self, c: Company) -> u32 {
        let idx = self.companies.len() as u32;
        if let Some(d) = &c.domain {
            self.company_by_domain.entry(d.clone()).or_insert(idx);
        }
        if let Some(l) = &c.linkedin_key {
            self.company_by_linkedin.entry(l.clone()).or_insert(idx);
        }
        self.companies.push(c);
        idx
    }

    fn push_person(&mut self, mut p: Person) -> u32 {
        let idx = self.people.len() as u32;
        if let Some(e) = &p.email {
            let key = normalize::email(e);
            if self.person_by_email.contains_key(&key) {
                // Two people cannot share an address: the later one keeps a numbered variant.
                let (local, host) = key.split_once('@').unwrap_or((&key, "example.com"));
                let mut n = 2;
                let mut candidate = format!("{local}{n}@{host}");
                while self.person_by_email.contains_key(&candidate) {
                    n += 1;
                    candidate = format!("{local}{n}@{host}");
                }
                p.email = Some(candidate.clone());
                if let PersonBody::Custom(map) = &mut p.body {
                    map.insert("email".into(), Value::String(candidate.clone()));
                }
                self.person_by_email.insert(candidate, idx);
            } else {
                self.person_by_email.insert(key, idx);
            }
        }
        if let Some(l) = &p.linkedin_key {
            self.person_by_linkedin.insert(l.clone(), idx);
        }
        self.person_by_name
            .entry(normalize::text(&p.name))
            .or_default()
            .push(idx);
        self.people.push(p);
        idx
    }

    pub fn person_by_linkedin(&self, url: &str) -> Option<u32> {
        self.person_by_linkedin.get(&normalize::linkedin(url)).copied()
    }

    pub fn person_by_email(&self, email: &str) -> Option<u32> {
        self.person_by_email.get(&normalize::email(email)).copied()
    }

    /// A person by name at a company (by name or domain); `title` picks among namesakes.
    pub fn person_by_name(
        &self,
        name: &str,
        company_name: Option<&str>,
        company_domain: Option<&str>,
        title: Option<&str>,
    ) -> Option<u32> {
        let candidates = self.person_by_name.get(&normalize::text(name))?;
        let company_name = company_name.map(normalize::text);
        let company_domain = company_domain.map(normalize::domain);
        let at_company = candidates.iter().copied().filter(|&i| {
            let Some(c) = self.people[i as usize].company else {
                return false;
            };
            let c = &self.companies[c as usize];
            company_name.as_ref().is_some_and(|n| normalize::text(&c.name) == *n)
                || company_domain
                    .as_ref()
                    .is_some_and(|d| c.domain.as_deref() == Some(d.as_str()))
        });
        let matches: Vec<u32> = at_company.collect();
        if let Some(t) = title.map(normalize::text).filter(|t| !t.is_empty()) {
            let titled = matches.iter().copied().find(|&i| {
                self.people[i as usize]
                    .title
                    .as_deref()
                    .is_some_and(|pt| normalize::text(pt).contains(&t))
            });
            if titled.is_some() {
                return titled;
            }
        }
        matches.first().copied()
    }

    pub fn company_by_domain(&self, domain: &str) -> Option<u32> {
        self.company_by_domain.get(&normalize::domain(domain)).copied()
    }

    pub fn company_by_linkedin(&self, url: &str) -> Option<u32> {
        self.company_by_linkedin.get(&normalize::linkedin(url)).copied()
    }

    /// The Person object as the API sends it.
    pub fn person_json(&self, idx: u32, reveal: Reveal) -> Value {
        let p = &self.people[idx as usize];
        let company = p.company.map(|c| self.company_json(c));
        match &p.body {
            PersonBody::Synthetic(s) => {
                render::synthetic_person(self.seed, idx, p, s, company, reveal, &self.companies)
            }
            PersonBody::Custom(map) => render::custom_person(map, company, reveal),
        }
    }

    /// The full record, email and phone numbers included: what `sb.people[i]` shows.
    pub fn person_record(&self, idx: u32) -> Value {
        let mut v = self.person_json(
            idx,
            Reveal {
                email: true,
                phone_numbers: true,
            },
        );
        if let Value::Object(map) = &mut v {
            if self.people[idx as usize].gdpr_removed {
                map.insert("_gdpr_removed".into(), Value::Bool(true));
            }
        }
        v
    }

    pub fn company_json(&self, idx: u32) -> Value {
        let c = &self.companies[idx as usize];
        match &c.body {
            CompanyBody::Synthetic(s) => render::synthetic_company(self.seed, idx, c, s),
            CompanyBody::Custom(map) => Value::Object(map.clone()),
        }
    }

    /// Removes people added after the first `len` (an all-or-nothing batch that failed part way).
    pub fn truncate_people(&mut self, len: usize) {
        while self.people.len() > len {
            let p = self.people.pop().expect("len checked");
            let idx = self.people.len() as u32;
            self.person_by_linkedin.retain(|_, v| *v != idx);
            self.person_by_email.retain(|_, v| *v != idx);
            if let Some(v) = self.person_by_name.get_mut(&normalize::text(&p.name)) {
                v.retain(|i| *i != idx);
            }
        }
    }

    /// Adds a person given as a Person object. `company` may be an object (matched to a known company by
    /// domain or LinkedIn URL, else added) and `_gdpr_removed: true` marks the record as removed.
    pub fn add_person(&mut self, value: Value) -> Result<u32, RecordError> {
        let Value::Object(mut map) = value else {
            return Err(RecordError("a person must be a JSON object".into()));
        };
        let text = |map: &Map<String, Value>, key: &str| -> Result<Option<String>, RecordError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(RecordError(format!(
                    "person field `{key}` must be a string, not {other}"
                ))),
            }
        };
        let first = text(&map, "first_name")?;
        let last = text(&map, "last_name")?;
        let name = match text(&map, "name")? {
            Some(n) => n,
            None => match (&first, &last) {
                (Some(f), Some(l)) => format!("{f} {l}"),
                _ => {
                    return Err(RecordError(
                        "a person needs `name` (or `first_name` and `last_name`)".into(),
                    ))
                }
            },
        };
        let linkedin_url = text(&map, "linkedin_url")?;
        let email = text(&map, "email")?;
        if linkedin_url.is_none() && email.is_none() && map.get("company").is_none_or(Value::is_null) {
            return Err(RecordError(
                "a person needs at least one of `linkedin_url`, `email` or `company`, or no lookup can find it".into(),
            ));
        }
        let gdpr_removed = matches!(map.remove("_gdpr_removed"), Some(Value::Bool(true)));
        // What search filters on but the Person object does not show: one of the data set's own values, or none.
        let seniority = hidden(&mut map, "_seniority", words::SENIORITIES.iter().copied())?;
        let department = hidden(&mut map, "_department", words::DEPARTMENTS.iter().map(|d| d.0))?;
        let job_function = department.and_then(|d| words::DEPARTMENTS.iter().find(|x| x.0 == d).map(|x| x.2));
        let company = match map.remove("company") {
            None | Some(Value::Null) => None,
            Some(Value::Object(c)) => Some(self.resolve_company(c)?),
            Some(other) => {
                return Err(RecordError(format!(
                    "person field `company` must be an object, not {other}"
                )))
            }
        };
        let id = match text(&map, "id")? {
            Some(id) => id,
            None => {
                let id = generate::uuid(self.seed ^ 0x5eed_c057, self.people.len() as u64);
                map.insert("id".into(), Value::String(id.clone()));
                id
            }
        };
        map.entry("object").or_insert_with(|| Value::String("person".into()));
        map.entry("name").or_insert_with(|| Value::String(name.clone()));
        let phone_count = match map.get("phone_numbers") {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        let person = Person {
            id,
            title: text(&map, "title")?,
            location: text(&map, "location")?,
            name,
            linkedin_key: linkedin_url.as_deref().map(normalize::linkedin),
            email,
            company,
            seniority,
            department,
            job_function,
            gdpr_removed,
            phone_count,
            body: PersonBody::Custom(map),
        };
        Ok(self.push_person(person))
    }

    fn resolve_company(&mut self, c: Map<String, Value>) -> Result<u32, RecordError> {
        let known = c
            .get("website")
            .and_then(Value::as_str)
            .and_then(|w| self.company_by_domain(w))
            .or_else(|| {
                c.get("linkedin_url")
                    .and_then(Value::as_str)
                    .and_then(|l| self.company_by_linkedin(l))
            });
        match known {
            Some(idx) if c.len() <= 3 => Ok(idx),
            _ => self.add_company(Value::Object(c)),
        }
    }

    /// Adds a company given as a Company object (`name` required; `website` gives its domain).
    pub fn add_company(&mut self, value: Value) -> Result<u32, RecordError> {
        let Value::Object(mut map) = value else {
            return Err(RecordError("a company must be a JSON object".into()));
        };
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_string);
        let Some(name) = text("name") else {
            return Err(RecordError("a company needs a string `name`".into()));
        };
        let domain = text("website")
            .or_else(|| text("domain"))
            .map(|w| normalize::domain(&w));
        let company = Company {
            id: text("id").unwrap_or_else(|| generate::uuid(self.seed ^ 0xc0c0, self.companies.len() as u64)),
            linkedin_key: text("linkedin_url").map(|l| normalize::linkedin(&l)),
            industry: text("industry"),
            size: text("size"),
            location: text("location"),
            name,
            domain,
            body: CompanyBody::Custom(Map::new()),
        };
        map.remove("domain");
        map.insert("id".into(), Value::String(company.id.clone()));
        map.entry("object").or_insert_with(|| Value::String("company".into()));
        let company = Company {
            body: CompanyBody::Custom(map),
            ..company
        };
        Ok(self.push_company(company))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn small() -> Dataset {
        Dataset::generate(7, 2_000, None)
    }

    #[test]
    fn generation_is_deterministic() {
        let (a, b) = (small(), small());
        for i in [0u32, 17, 1999] {
            assert_eq!(a.person_record(i), b.person_record(i));
        }
        let c = Dataset::generate(8, 2_000, None);
        assert_ne!(a.person_record(0), c.person_record(0));
    }

    #[test]
    fn every_person_is_found_by_each_identifier() {
        let ds = small();
        for (i, p) in ds.people.iter().enumerate() {
            let i = i as u32;
            if let Some(e) = &p.email {
                assert_eq!(ds.person_by_email(&e.to_uppercase()), Some(i));
            }
            let url = ds.person_json(i, Reveal::default())["linkedin_url"]
                .as_str()
                .map(str::to_string);
            if let Some(url) = url {
                assert_eq!(ds.person_by_linkedin(&url), Some(i));
            }
            if let Some(c) = p.company {
                let c = &ds.companies[c as usize];
                let found = ds.person_by_name(
                    &format!("  {}  ", p.name.to_uppercase()),
                    Some(&c.name),
                    None,
                    p.title.as_deref(),
                );
                assert_eq!(found.map(|f| ds.people[f as usize].name.clone()), Some(p.name.clone()));
            }
        }
    }

    #[test]
    fn records_are_varied_and_some_are_sparse_or_removed() {
        let ds = small();
        let removed = ds.people.iter().filter(|p| p.gdpr_removed).count();
        assert!(removed > 0 && removed < 100, "{removed}");
        let sparse = (0..2000u32)
            .filter(|&i| ds.person_json(i, Reveal::default())["headline"].is_null())
            .count();
        assert!(sparse > 10 && sparse < 400, "{sparse}");
        let full = ds.person_record(3);
        for key in [
            "experiences",
            "educations",
            "languages",
            "location_details",
            "company",
            "phone_numbers",
        ] {
            assert!(full.get(key).is_some(), "{key} missing in {full}");
        }
        let company = ds.company_json(0);
        for key in [
            "sic_codes",
            "naics_codes",
            "technologies",
            "department_headcount",
            "locations",
            "total_funding",
        ] {
            assert!(company.get(key).is_some(), "{key} missing in {company}");
        }
    }

    #[test]
    fn every_data_set_holds_the_documented_records() {
        for ds in [small(), Dataset::generate(0, 1, Some(1))] {
            let jane = ds.person_by_email("jane@techco.com").expect("jane");
            assert_eq!(
                ds.person_by_linkedin("https://www.linkedin.com/in/jane-doe"),
                Some(jane)
            );
            assert_eq!(
                ds.person_by_name("Jane Doe", None, Some("techco.com"), Some("VP of Engineering")),
                Some(jane)
            );
            let record = ds.person_record(jane);
            assert_eq!(record["title"], "VP of Engineering");
            assert!(record.get("_seniority").is_none());
            assert_eq!(ds.people[jane as usize].seniority, Some("VP"));
            assert_eq!(record["company"]["name"], "TechCo");
            assert_eq!(record["phone_numbers"].as_array().map(Vec::len), Some(2));
            let techco = ds.company_by_domain("techco.com").expect("techco");
            assert_eq!(ds.company_json(techco)["industry"], "Software Development");
        }
    }

    #[test]
    fn added_people_are_found_and_keep_unknown_fields() {
        let mut ds = small();
        let idx = ds
            .add_person(json!({
                "name": "Ada Lovelace", "email": "ada@engine.example", "title": "Analyst",
                "linkedin_url": "https://www.linkedin.com/in/ada", "x_custom": [1, 2],
                "company": {"name": "Analytical Engines", "website": "https://engine.example"}
            }))
            .unwrap();
        assert_eq!(ds.person_by_email("ADA@engine.example"), Some(idx));
        assert_eq!(ds.person_by_linkedin("linkedin.com/in/ada/"), Some(idx));
        assert_eq!(
            ds.person_by_name("ada lovelace", None, Some("engine.example"), None),
            Some(idx)
        );
        let v = ds.person_json(idx, Reveal::default());
        assert_eq!(v["x_custom"], json!([1, 2]));
        assert!(v.get("email").is_none());
        assert_eq!(v["company"]["object"], "company");
        assert!(ds.add_person(json!({"email": "x@y.z"})).is_err());
        assert!(ds.add_person(json!([1])).is_err());
    }
}
