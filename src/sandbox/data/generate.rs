//! Drawing the core of each synthetic record from `(seed, index)`.

use std::collections::HashMap;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use super::words::*;
use super::{normalize, Company, CompanyBody, Person, PersonBody};

pub(super) const PERSON_CORE: u64 = 1;
pub(super) const PERSON_DETAIL: u64 = 2;
pub(super) const COMPANY_CORE: u64 = 3;
pub(super) const COMPANY_DETAIL: u64 = 4;

/// An independent, reproducible stream for one record and purpose.
pub(super) fn rng(seed: u64, stream: u64, index: u64) -> Pcg64Mcg {
    let mixed = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(index.wrapping_mul(0xA24B_AED4_963E_E407));
    Pcg64Mcg::seed_from_u64(mixed)
}

pub(crate) fn uuid(seed: u64, index: u64) -> String {
    let mut r = rng(seed, 99, index);
    let bytes: [u8; 16] = r.random();
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

pub(super) struct SynthCompany {
    pub industry: u8,
    pub size: u8,
    pub city: u8,
    pub sparse: bool,
}

pub(super) struct SynthPerson {
    pub first: u8,
    pub last: u8,
    pub city: u8,
    pub department: u8,
    pub sparse: bool,
    pub linkedin_slug: String,
}

pub(super) fn company(seed: u64, i: u32, domains: &mut HashMap<String, u32>) -> Company {
    let mut r = rng(seed, COMPANY_CORE, i as u64);
    let prefix = COMPANY_PREFIXES.choose(&mut r).unwrap();
    let suffix = COMPANY_SUFFIXES.choose(&mut r).unwrap();
    let base = format!("{prefix} {suffix}");
    let stem = normalize::slug(&base, '\0').replace('\0', "");
    let tld = TLDS.choose(&mut r).unwrap();
    // Names repeat across a large data set, as they do in life; domains stay unique.
    let seen = domains.entry(format!("{stem}.{tld}")).or_insert(0);
    *seen += 1;
    let (name, domain, slug) = if *seen == 1 {
        (base, format!("{stem}.{tld}"), stem)
    } else {
        let n = *seen;
        (base, format!("{stem}{n}.{tld}"), format!("{stem}-{n}"))
    };
    let industry = r.random_range(0..INDUSTRIES.len()) as u8;
    let size = r.random_range(0..COMPANY_SIZES.len()) as u8;
    let city = r.random_range(0..CITIES.len()) as u8;
    let sparse = r.random_bool(0.05);
    let (c, s, _, code) = CITIES[city as usize];
    Company {
        id: uuid(seed ^ COMPANY_CORE, i as u64),
        name,
        domain: Some(domain),
        linkedin_key: Some(format!("company/{slug}")),
        industry: Some(INDUSTRIES[industry as usize].0.to_string()),
        size: (!sparse).then(|| COMPANY_SIZES[size as usize].0.to_string()),
        location: Some(format!("{c}, {s}, {code}")),
        body: CompanyBody::Synthetic(SynthCompany {
            industry,
            size,
            city,
            sparse,
        }),
    }
}

pub(super) fn seniority_title(r: &mut Pcg64Mcg, seniority: usize, department: usize) -> (String, usize) {
    let (dept, role, _) = DEPARTMENTS[department];
    let title = match SENIORITIES[seniority] {
        "Owner" => "Owner".to_string(),
        "Founder" => ["Founder & CEO", "Co-Founder", "Founder", "Co-Founder & CTO"]
            .choose(r)
            .unwrap()
            .to_string(),
        "C-Suite" => {
            let (t, d) = C_SUITE.choose(r).unwrap();
            let department = DEPARTMENTS.iter().position(|x| x.0 == *d).unwrap_or(department);
            return (t.to_string(), department);
        }
        "Partner" => ["Partner", "Managing Partner", "General Partner"]
            .choose(r)
            .unwrap()
            .to_string(),
        "VP" => format!("VP of {dept}"),
        "Head" => format!("Head of {dept}"),
        "Director" => format!("Director of {dept}"),
        "Manager" => format!("{dept} Manager"),
        "Senior" => format!("Senior {role}"),
        "Entry" => role.to_string(),
        "Intern" => format!("{dept} Intern"),
        _ => ["Consultant", "Advisor", "Board Member", "Freelancer"]
            .choose(r)
            .unwrap()
            .to_string(),
    };
    (title, department)
}

fn weighted(r: &mut Pcg64Mcg, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = r.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

pub(super) fn person(seed: u64, i: u32, companies: &[Company]) -> Person {
    let mut r = rng(seed, PERSON_CORE, i as u64);
    let first = r.random_range(0..FIRST_NAMES.len());
    let last = r.random_range(0..LAST_NAMES.len());
    let (first_name, _) = FIRST_NAMES[first];
    let last_name = LAST_NAMES[last];
    let name = format!("{first_name} {last_name}");
    let seniority = weighted(&mut r, SENIORITY_WEIGHTS);
    let department = r.random_range(0..DEPARTMENTS.len());
    let (title, department) = seniority_title(&mut r, seniority, department);
    // A skewed pick, so a few large companies hold many people (and namesakes), as in real data.
    let company = if companies.is_empty() || r.random_bool(0.01) {
        None
    } else {
        let u: f64 = r.random();
        Some(((u * u * companies.len() as f64) as usize).min(companies.len() - 1) as u32)
    };
    let city = if r.random_bool(0.6) {
        company
            .and_then(|c| match &companies[c as usize].body {
                CompanyBody::Synthetic(s) => Some(s.city),
                CompanyBody::Custom(_) => None,
            })
            .unwrap_or_else(|| r.random_range(0..CITIES.len()) as u8)
    } else {
        r.random_range(0..CITIES.len()) as u8
    };
    let sparse = r.random_bool(0.05);
    let gdpr_removed = r.random_bool(0.01);
    // A bijection of the index keeps every slug unique without a lookup.
    let tag = (i ^ (seed as u32)).wrapping_mul(0x9E37_79B1);
    let linkedin_slug = format!(
        "{}-{}-{tag:08x}",
        normalize::slug(first_name, '-'),
        normalize::slug(last_name, '-')
    );
    let email = match company {
        Some(c) if !(sparse && r.random_bool(0.5)) => companies[c as usize].domain.as_ref().map(|d| {
            format!(
                "{}.{}@{d}",
                normalize::slug(first_name, '.'),
                normalize::slug(last_name, '.')
            )
        }),
        _ => None,
    };
    let phone_count = if sparse {
        0
    } else {
        [0, 1, 1, 1, 2, 2, 3].choose(&mut r).copied().unwrap()
    };
    let (c, s, country, _) = CITIES[city as usize];
    Person {
        id: uuid(seed ^ PERSON_CORE, i as u64),
        name,
        title: Some(title),
        location: (!sparse).then(|| format!("{c}, {s}, {country}")),
        email,
        linkedin_key: Some(format!("in/{linkedin_slug}")),
        company,
        seniority: Some(SENIORITIES[seniority]),
        department: Some(DEPARTMENTS[department].0),
        job_function: Some(DEPARTMENTS[department].2),
        gdpr_removed,
        phone_count,
        body: PersonBody::Synthetic(SynthPerson {
            first: first as u8,
            last: last as u8,
            city,
            department: department as u8,
            sparse,
            linkedin_slug,
        }),
    }
}
