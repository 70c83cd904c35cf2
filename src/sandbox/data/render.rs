//! Rendering records as the API's JSON objects, with the spec's field order.

use rand::seq::IndexedRandom;
use rand::RngExt;
use rand_pcg::Pcg64Mcg;
use serde_json::{json, Map, Value};

use super::generate::{rng, uuid, SynthCompany, SynthPerson, COMPANY_DETAIL, PERSON_DETAIL};
use super::words::*;
use super::{Company, Person};

/// What a call paid to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reveal {
    pub email: bool,
    pub phone_numbers: bool,
}

fn date(r: &mut Pcg64Mcg, from_year: i32, to_year: i32) -> String {
    let y = r.random_range(from_year..=to_year.max(from_year));
    let m = r.random_range(1..=12);
    format!("{y}-{m:02}-01")
}

fn opt<T: Into<Value>>(present: bool, value: impl FnOnce() -> T) -> Value {
    if present {
        value().into()
    } else {
        Value::Null
    }
}

pub(super) fn synthetic_person(
    seed: u64,
    idx: u32,
    p: &Person,
    s: &SynthPerson,
    company: Option<Value>,
    reveal: Reveal,
    companies: &[Company],
) -> Value {
    let mut r = rng(seed, PERSON_DETAIL, idx as u64);
    let (first, gender) = FIRST_NAMES[s.first as usize];
    let last = LAST_NAMES[s.last as usize];
    let (city, state, country, code) = CITIES[s.city as usize];
    let title = p.title.clone().unwrap_or_default();
    let company_name = p.company.map(|c| companies[c as usize].name.clone());
    let previous = companies
        .choose(&mut r)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "Acme".into());
    let rich = !s.sparse;
    let start = date(&mut r, 2012, 2025);
    let (dept, _, _) = DEPARTMENTS[s.department as usize];
    let headline = HEADLINE_TEMPLATES
        .choose(&mut r)
        .unwrap()
        .replace("{title}", &title)
        .replace("{company}", company_name.as_deref().unwrap_or("Independent"))
        .replace("{previous}", &previous);

    let mut experiences = Vec::new();
    let mut educations = Vec::new();
    let mut languages = Vec::new();
    if rich {
        experiences.push(json!({
            "company_name": company_name,
            "company_linkedin_url": p.company.and_then(|c| companies[c as usize].linkedin_key.as_ref()).map(|k| format!("https://www.linkedin.com/{k}")),
            "title": title,
            "start_date": start,
            "end_date": null,
            "is_current": true,
            "description": format!("Leading {} initiatives.", dept.to_lowercase()),
        }));
        let mut end_year: i32 = start[..4].parse().unwrap_or(2020);
        for _ in 0..r.random_range(0..4) {
            let c = companies.choose(&mut r);
            let from = end_year - r.random_range(1..6);
            let role = DEPARTMENTS.choose(&mut r).unwrap().1;
            experiences.push(json!({
                "company_name": c.map(|c| c.name.clone()),
                "company_linkedin_url": c.and_then(|c| c.linkedin_key.as_ref()).map(|k| format!("https://www.linkedin.com/{k}")),
                "title": role,
                "start_date": format!("{from}-{:02}-01", r.random_range(1..=12)),
                "end_date": format!("{end_year}-{:02}-01", r.random_range(1..=12)),
                "is_current": false,
                "description": null,
            }));
            end_year = from;
        }
        for _ in 0..r.random_range(1..3) {
            let from = r.random_range(1985..2018);
            educations.push(json!({
                "school_name": SCHOOLS.choose(&mut r).unwrap(),
                "degree": DEGREES.choose(&mut r).unwrap(),
                "field_of_study": FIELDS_OF_STUDY.choose(&mut r).unwrap(),
                "start_date": format!("{from}-09-01"),
                "end_date": format!("{}-06-01", from + r.random_range(1..6)),
            }));
        }
        let mut names: Vec<&str> = vec!["English"];
        for _ in 0..r.random_range(0..3) {
            let l = LANGUAGES.choose(&mut r).unwrap();
            if !names.contains(l) {
                names.push(l);
            }
        }
        for (i, l) in names.iter().enumerate() {
            let proficiency = if i == 0 {
                PROFICIENCIES[0]
            } else {
                PROFICIENCIES.choose(&mut r).unwrap()
            };
            languages.push(json!({"name": l, "proficiency": proficiency}));
        }
    }

    let slug = &s.linkedin_slug;
    let mut m = Map::new();
    m.insert("id".into(), p.id.clone().into());
    m.insert("object".into(), "person".into());
    m.insert("name".into(), p.name.clone().into());
    m.insert("first_name".into(), first.into());
    m.insert("last_name".into(), last.into());
    m.insert(
        "linkedin_url".into(),
        format!("https://www.linkedin.com/in/{slug}").into(),
    );
    m.insert("title".into(), title.clone().into());
    m.insert("headline".into(), opt(rich, || headline));
    m.insert(
        "about".into(),
        opt(rich, || {
            format!("{title} with a passion for {}. Based in {city}.", dept.to_lowercase())
        }),
    );
    m.insert("location".into(), p.location.clone().into());
    m.insert(
        "location_details".into(),
        opt(rich, || json!({"city": city, "state": state, "country": country})),
    );
    m.insert("current_position_start_date".into(), opt(rich, || start));
    m.insert(
        "current_position_description".into(),
        opt(rich, || {
            format!(
                "Responsible for {} at {}.",
                dept.to_lowercase(),
                company_name.as_deref().unwrap_or("my own practice")
            )
        }),
    );
    m.insert(
        "image_url".into(),
        opt(rich, || {
            format!("https://media.sandbox.amplemarket.test/people/{slug}.jpg")
        }),
    );
    m.insert("gender".into(), opt(rich, || gender));
    m.insert("experiences".into(), opt(rich, || experiences));
    m.insert("educations".into(), opt(rich, || educations));
    m.insert("languages".into(), opt(rich, || languages));
    m.insert("company".into(), company.unwrap_or(Value::Null));
    if reveal.email {
        m.insert("email".into(), p.email.clone().into());
    }
    if reveal.phone_numbers {
        let dial = match code {
            "US" | "CA" => "+1",
            "GB" => "+44",
            "PT" => "+351",
            "ES" => "+34",
            "FR" => "+33",
            "DE" => "+49",
            "BR" => "+55",
            "IN" => "+91",
            _ => "+31",
        };
        let phones: Vec<Value> = (0..p.phone_count)
            .map(|n| {
                json!({
                    "object": "phone_number",
                    "id": uuid(seed ^ 0x0fe, ((idx as u64) << 3) | n as u64),
                    "number": format!("{dial} {} {:03} {:04}", r.random_range(200..999), r.random_range(0..1000), r.random_range(0..10000)),
                    "type": PHONE_TYPES.choose(&mut r).unwrap(),
                    "source": PHONE_SOURCES.choose(&mut r).unwrap(),
                })
            })
            .collect();
        m.insert("phone_numbers".into(), phones.into());
    }
    Value::Object(m)
}

pub(super) fn custom_person(map: &Map<String, Value>, company: Option<Value>, reveal: Reveal) -> Value {
    let mut m = Map::with_capacity(map.len() + 1);
    for (k, v) in map {
        match k.as_str() {
            "email" if !reveal.email => {}
            "phone_numbers" if !reveal.phone_numbers => {}
            _ => {
                m.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(c) = company {
        m.insert("company".into(), c);
    }
    if reveal.email {
        m.entry("email").or_insert(Value::Null);
    }
    if reveal.phone_numbers {
        m.entry("phone_numbers").or_insert_with(|| Value::Array(vec![]));
    }
    Value::Object(m)
}

pub(super) fn synthetic_company(seed: u64, idx: u32, c: &Company, s: &SynthCompany) -> Value {
    let mut r = rng(seed, COMPANY_DETAIL, idx as u64);
    let (industry, keywords, sic, naics) = INDUSTRIES[s.industry as usize];
    let (size, lo, hi) = COMPANY_SIZES[s.size as usize];
    let (city, state, country, code) = CITIES[s.city as usize];
    let employees = r.random_range(lo..=hi);
    let rich = !s.sparse;
    let domain = c.domain.clone().unwrap_or_default();
    let slug = c
        .linkedin_key
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches("company/")
        .to_string();
    let mut techs: Vec<&str> = Vec::new();
    for _ in 0..r.random_range(1..8) {
        let t = TECHNOLOGIES.choose(&mut r).unwrap();
        if !techs.contains(t) {
            techs.push(t);
        }
    }
    let mut kw: Vec<&str> = keywords.to_vec();
    kw.truncate(r.random_range(1..=keywords.len()));
    let funded = r.random_bool(0.6);
    let stage = FUNDING_STAGES.choose(&mut r).unwrap();
    let revenue_band = REVENUE_BANDS[(s.size as usize).min(REVENUE_BANDS.len() - 1)];
    let mut locations = vec![
        json!({"address": format!("{} Market Street, {city}, {state}", r.random_range(1..999)), "is_primary": true, "country": country}),
    ];
    for _ in 0..r.random_range(0..3) {
        let (c2, s2, k2, _) = CITIES.choose(&mut r).unwrap();
        locations.push(json!({"address": format!("{} Main Street, {c2}, {s2}", r.random_range(1..999)), "is_primary": false, "country": k2}));
    }
    let share = |n: u32, pct: u32| (n * pct / 100).max(if n > 20 { 1 } else { 0 });
    let mut m = Map::new();
    m.insert("id".into(), c.id.clone().into());
    m.insert("object".into(), "company".into());
    m.insert("name".into(), c.name.clone().into());
    m.insert("website".into(), format!("https://{domain}").into());
    m.insert(
        "linkedin_url".into(),
        format!("https://www.linkedin.com/company/{slug}").into(),
    );
    m.insert(
        "overview".into(),
        opt(rich, || {
            format!("{} builds {} products for modern teams.", c.name, kw.join(", "))
        }),
    );
    m.insert(
        "logo_url".into(),
        opt(rich, || {
            format!("https://media.sandbox.amplemarket.test/logos/{slug}.png")
        }),
    );
    m.insert("founded_year".into(), opt(rich, || r.random_range(1950..2024)));
    m.insert("traffic_rank".into(), opt(rich, || r.random_range(1_000..5_000_000)));
    m.insert("sic_codes".into(), opt(rich, || vec![sic]));
    m.insert("naics_codes".into(), opt(rich, || vec![naics]));
    m.insert("type".into(), opt(rich, || *COMPANY_TYPES.choose(&mut r).unwrap()));
    m.insert(
        "total_funding".into(),
        opt(rich && funded, || r.random_range(1u64..500) * 1_000_000),
    );
    m.insert("latest_funding_stage".into(), opt(rich && funded, || *stage));
    m.insert(
        "latest_funding_date".into(),
        opt(rich && funded, || date(&mut r, 2015, 2026)),
    );
    m.insert("keywords".into(), json!(kw));
    m.insert("estimated_number_of_employees".into(), employees.into());
    m.insert("followers".into(), opt(rich, || employees * r.random_range(3..40)));
    m.insert("size".into(), opt(rich, || size));
    m.insert("industry".into(), industry.into());
    m.insert("location".into(), format!("{city}, {state}, {code}").into());
    m.insert(
        "location_details".into(),
        opt(rich, || json!({"city": city, "state": state, "country": country})),
    );
    m.insert("locations".into(), opt(rich, || locations));
    let b2b = r.random_bool(0.75);
    m.insert("is_b2b".into(), b2b.into());
    m.insert("is_b2c".into(), (!b2b || r.random_bool(0.3)).into());
    m.insert("technologies".into(), json!(techs));
    m.insert(
        "department_headcount".into(),
        opt(rich, || {
            json!({
                "engineering": share(employees, 30), "sales": share(employees, 20), "marketing": share(employees, 10),
                "operations": share(employees, 10), "finance": share(employees, 5), "human_resources": share(employees, 4),
                "customer_success": share(employees, 8), "product": share(employees, 6), "legal": share(employees, 2),
            })
        }),
    );
    m.insert(
        "job_function_headcount".into(),
        opt(rich, || {
            json!({
                "engineering": share(employees, 28), "sales": share(employees, 22), "marketing": share(employees, 9),
                "information_technology": share(employees, 6), "research": share(employees, 4),
                "support": share(employees, 9), "administrative": share(employees, 5),
            })
        }),
    );
    m.insert("estimated_revenue".into(), opt(rich, || revenue_band.0));
    m.insert(
        "revenue".into(),
        opt(rich, || revenue_band.1 + r.random_range(0..1000) * 1000),
    );
    Value::Object(m)
}
