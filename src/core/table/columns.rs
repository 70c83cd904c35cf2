//! Which column of a table holds which lead field: the header names of CRM and spreadsheet exports, one rule for
//! tables given to the SDK (`Person.enrich(df)`) and files given to the CLI.

use crate::core::lead::LEAD_KEYS;

/// Lead fields a column can fill, and two that are joined into `name`.
pub const FIRST_NAME: &str = "first_name";
pub const LAST_NAME: &str = "last_name";

/// Header names seen in exports, normalised by `header_key` (lower case, letters and digits only), per target.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "email",
        &["email", "emailaddress", "workemail", "businessemail", "mail", "emailid"],
    ),
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
    (
        "company_domain",
        &[
            "domain",
            "companydomain",
            "website",
            "companywebsite",
            "companyurl",
            "url",
        ],
    ),
];

/// A header as compared with the aliases: `Work E-mail` and `work_email` are both `workemail`.
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What a column can be mapped to: a lead field, or `first_name` / `last_name`.
pub fn targets() -> impl Iterator<Item = &'static str> {
    LEAD_KEYS.iter().copied().chain([FIRST_NAME, LAST_NAME])
}

fn target(name: &str) -> Option<&'static str> {
    targets().find(|t| *t == name)
}

/// The lead field of each column that maps to one, as `(column index, field)`: first the `overrides`
/// (`column -> field`, or `None` to leave a column out), then the aliases, each field taken by the first column
/// that names it. An override naming a column the table lacks, or a field that does not exist, is an error that
/// says what there is.
pub fn map_columns(
    columns: &[String],
    overrides: &[(String, Option<String>)],
) -> Result<Vec<(usize, &'static str)>, String> {
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
                    let known: Vec<&str> = targets().collect();
                    return Err(format!(
                        "columns= maps {column:?} to {f:?}, which is not a lead field; map it to one of {}",
                        known.join(", ")
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
        let found = ALIASES
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
        let m = map_columns(&columns, &[]).unwrap();
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
            &columns,
            &[("Notes".into(), Some("title".into())), ("Website".into(), None)],
        )
        .unwrap();
        assert!(m.contains(&(6, "title")) && !m.iter().any(|(i, _)| *i == 5), "{m:?}");
        // The first column naming a field takes it; an override takes it before any alias.
        let m = map_columns(
            &names(&["email", "E-mail", "Mail"]),
            &[("Mail".into(), Some("email".into()))],
        )
        .unwrap();
        assert_eq!(m, vec![(2, "email")]);
    }

    #[test]
    fn bad_overrides_say_what_there_is() {
        let columns = names(&["Email", "Who"]);
        let e = map_columns(&columns, &[("Whom".into(), Some("name".into()))]).unwrap_err();
        assert!(e.contains("\"Whom\"") && e.contains("[\"Email\", \"Who\"]"), "{e}");
        let e = map_columns(&columns, &[("Who".into(), Some("fullname".into()))]).unwrap_err();
        assert!(e.contains("\"fullname\"") && e.contains("linkedin_url"), "{e}");
        let e = map_columns(
            &columns,
            &[
                ("Who".into(), Some("email".into())),
                ("Email".into(), Some("email".into())),
            ],
        )
        .unwrap_err();
        assert!(e.contains("both"), "{e}");
    }
}
