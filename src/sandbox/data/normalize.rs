//! Normalisation of lookup values (the core's, shared with the client's cache), and slugs for generated records.

pub use crate::core::normalize::{domain, email, linkedin, text};

/// ASCII form of a name for e-mail addresses and URL slugs: `José Núñez` -> `jose-nunez`.
pub fn slug(value: &str, sep: char) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let mapped = match c {
            'á' | 'à' | 'ã' | 'â' | 'ä' | 'å' | 'Á' | 'Å' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'Î' => 'i',
            'ó' | 'ò' | 'õ' | 'ô' | 'ö' | 'ø' | 'Ö' | 'Ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'Ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ł' | 'Ł' => 'l',
            'ý' => 'y',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => sep,
        };
        if mapped == sep && (out.is_empty() || out.ends_with(sep)) {
            continue;
        }
        out.push(mapped);
    }
    while out.ends_with(sep) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slug("José Núñez", '-'), "jose-nunez");
        assert_eq!(slug("O'Brien", '.'), "o.brien");
        assert_eq!(slug("Van der Berg", '.'), "van.der.berg");
        assert_eq!(slug("Łucja Søndergaard", '-'), "lucja-sondergaard");
    }
}
