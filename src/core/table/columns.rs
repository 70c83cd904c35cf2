//! Which column of a table holds which input field (a lead's, a company's, an email's): the header names of CRM
//! and spreadsheet exports, one rule for tables given to the SDK (`Person.enrich(df)`) and files given to the CLI.

use crate::core::lead::{COMPANY_KEYS, LEAD_KEYS};

/// The parts of a lead's `name` a column can fill.
pub const FIRST_NAME: &str = "first_name";
pub const LAST_NAME: &str = "last_name";

const EMAIL_HEADERS: &[&str] = &["email", "emailaddress", "workemail", "businessemail", "mail", "emailid"];
/// A company's domain or website, for leads (`company_domain`) and companies (`domain`) alike.
const DOMAIN_HEADERS: &[&str] = &[
    "domain",
    "companydomain",
    "website",
    "companywebsite",
    "companyurl",
    "url",
    "websiteurl",
];

/// What a table's columns can be read as, for one kind of input.
pub struct Targets {
    /// The fields, as `columns=` names them.
    pub fields: &'static [&'static str],
    /// Fields a column can hold part of, joined into one of `fields` when read.
    parts: &'static [&'static str],
    /// Header names seen in exports, normalised by `header_key`, per field; the first field a header names wins.
    aliases: &'static [(&'static str, &'static [&'static str])],
    /// What one of the inputs is called in messages.
    pub noun: &'static str,
}

impl Targets {
    /// What a column can be mapped to: the fields, then the parts.
    fn mappable(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().chain(self.parts).copied()
    }
}

/// Leads (`Person.enrich`, `find_many`, `EnrichmentJob.create`).
pub const LEADS: Targets = Targets {
    fields: LEAD_KEYS,
    parts: &[FIRST_NAME, LAST_NAME],
    aliases: ALIASES,
    noun: "lead",
};

/// Companies (`Company.enrich`): a domain or website, a LinkedIn page, a name.
pub const COMPANIES: Targets = Targets {
    fields: COMPANY_KEYS,
    parts: &[],
    aliases: &[
        ("domain", DOMAIN_HEADERS),
        (
            "linkedin_url",
            &[
                "companylinkedinurl",
                "linkedinurl",
                "linkedin",
                "companylinkedin",
                "linkedincompanyurl",
                "linkedinpage",
            ],
        ),
        (
            "name",
            &[
                "company",
                "companyname",
                "name",
                "organization",
                "organisation",
                "account",
                "accountname",
            ],
        ),
    ],
    noun: "company",
};

/// Emails to validate.
pub const EMAILS: Targets = Targets {
    fields: &["email"],
    parts: &[],
    aliases: &[("email", EMAIL_HEADERS)],
    noun: "email",
};

/// Header names seen in exports, normalised by `header_key` (lower case, letters and digits only), per target.
const ALIASES: &[(&str, &[&str])] = &[
    ("email", EMAIL_HEADERS),
    (
        "linkedin_url",
        &[
            "linkedinurl",
            "linkedin",
            "linkedinprofile",
            "linkedinprofileurl",
            "profileurl",
            "personlinkedinurl",
        ],
    ),
    ("linkedin_id", &["linkedinid", "linkedinhandle"]),
    ("name", &["name", "fullname", "contactname", "personname", "leadname"]),
    (FIRST_NAME, &["firstname", "first", "givenname"]),
    (LAST_NAME, &["lastname", "last", "surname", "familyname"]),
    ("title", &["title", "jobtitle", "position", "role", "designation"]),
    (
        "company_name",
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "account",
            "accountname",
            "employer",
        ],
    ),
    ("company_domain", DOMAIN_HEADERS),
];

/// A header as compared with the aliases: `Work E-mail` and `work_email` are both `workemail`.
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The lead field of each column that maps to one, as `(column index, field)`: first the `overrides`
/// (`column -> field`, or `None` to leave a column out), then the aliases, each field taken by the first column
/// that names it. An override naming a column the table lacks, or a field that does not exist, is an error that
/// says what there is.
pub fn map_columns(
    targets: &Targets,
    columns: &[String],
    overrides: &[(String, Option<String>)],
) -> Result<Vec<(usize, &'static str)>, String> {
    let target = |name: &str| targets.mappable().find(|t| *t == name);
    let mut mapped: Vec<(usize, &'static str)> = Vec::new();
    let mut skipped = Vec::new();
    for (column, field) in overrides {
        let Some(i) = columns.iter().position(|c| c == column) else {
            return Err(format!(
                "columns= names {column:?}, which the table does not have; its columns are {columns:?}"
            ));
        };
        match field {
            None => skipped.push(i),
            Some(f) => {
                let Some(t) = target(f) else {
                    return Err(format!(
                        "columns= maps {column:?} to {f:?}, which is not a {} field; map it to one of {}",
                        targets.noun,
                        targets.mappable().collect::<Vec<_>>().join(", ")
                    ));
                };
                if let Some((j, _)) = mapped.iter().find(|(_, m)| *m == t) {
                    return Err(format!(
                        "columns= maps both {:?} and {column:?} to {t:?}; map one column to each field",
                        columns[*j]
                    ));
                }
                mapped.push((i, t));
            }
        }
    }
    for (i, column) in columns.iter().enumerate() {
        if skipped.contains(&i) || mapped.iter().any(|(j, _)| *j == i) {
            continue;
        }
        let key = header_key(column);
        let found = targets
            .aliases
            .iter()
            .find(|(t, names)| names.contains(&key.as_str()) && !mapped.iter().any(|(_, m)| m == t));
        if let Some((t, _)) = found {
            mapped.push((i, t));
        }
    }
    mapped.sort_unstable();
    Ok(mapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_map_by_alias_then_override() {
        let columns = names(&[
            "Work Email",
            "LinkedIn URL",
            "First Name",
            "Last Name",
            "Company",
            "Website",
            "Notes",
        ]);
        let m = map_columns(&LEADS, &columns, &[]).unwrap();
        assert_eq!(
            m,
            vec![
                (0, "email"),
                (1, "linkedin_url"),
                (2, FIRST_NAME),
                (3, LAST_NAME),
                (4, "company_name"),
                (5, "company_domain")
            ]
        );
        let m = map_columns(
            &LEADS,
            &columns,
            &[("Notes".into(), Some("title".into())), ("Website".into(), None)],
        )
        .unwrap();
        assert!(m.contains(&(6, "title")) && !m.iter().any(|(i, _)| *i == 5), "{m:?}");
        // The first column naming a field takes it; an override takes it before any alias.
        let m = map_columns(
            &LEADS,
            &names(&["email", "E-mail", "Mail"]),
            &[("Mail".into(), Some("email".into()))],
        )
        .unwrap();
        assert_eq!(m, vec![(2, "email")]);
    }

    #[test]
    fn bad_overrides_say_what_there_is() {
        let columns = names(&["Email", "Who"]);
        let e = map_columns(&LEADS, &columns, &[("Whom".into(), Some("name".into()))]).unwrap_err();
        assert!(e.contains("\"Whom\"") && e.contains("[\"Email\", \"Who\"]"), "{e}");
        let e = map_columns(&LEADS, &columns, &[("Who".into(), Some("fullname".into()))]).unwrap_err();
        assert!(e.contains("\"fullname\"") && e.contains("linkedin_url"), "{e}");
        let e = map_columns(
            &LEADS,
            &columns,
            &[
                ("Who".into(), Some("email".into())),
                ("Email".into(), Some("email".into())),
            ],
        )
        .unwrap_err();
        assert!(e.contains("both"), "{e}");
    }

    #[test]
    fn company_and_email_headers() {
        let columns = names(&["Company", "Website", "Company LinkedIn URL", "Owner"]);
        let m = map_columns(&COMPANIES, &columns, &[]).unwrap();
        assert_eq!(m, vec![(0, "name"), (1, "domain"), (2, "linkedin_url")]);
        let e = map_columns(&COMPANIES, &columns, &[("Owner".into(), Some("title".into()))]).unwrap_err();
        assert!(
            e.contains("not a company field") && e.contains("domain, linkedin_url, name"),
            "{e}"
        );
        let m = map_columns(&EMAILS, &names(&["Name", "Work Email"]), &[]).unwrap();
        assert_eq!(m, vec![(1, "email")]);
    }
}
