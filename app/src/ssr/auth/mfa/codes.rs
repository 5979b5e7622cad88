//! Recovery codes: how they look, how they are made, and how typed ones are read.
use rand::Rng as _;

/// Codes in a set.
pub const SET_SIZE: usize = 10;

/// Lower-case letters and digits without the ones people misread (0/o, 1/l/i): 31 symbols,
/// so a code's 10 characters carry about 49 random bits.
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A new set of codes, formatted `xxxxx-xxxxx` for reading aloud and typing.
pub fn new_set() -> Vec<String> {
    let mut rng = rand::rng();
    (0..SET_SIZE)
        .map(|_| {
            let chars: String = (0..10)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A typed code in the form it was hashed in (`xxxxx-xxxxx`): case, spaces and the dash are
/// forgiven; `None` when it cannot be a code at all.
pub fn normalise(input: &str) -> Option<String> {
    let chars: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = chars.len() == 10 && chars.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| format!("{}-{}", &chars[..5], &chars[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let set = new_set();
        assert_eq!(set.len(), SET_SIZE);
        for code in &set {
            assert_eq!(normalise(code).as_deref(), Some(code.as_str()));
        }
        let mut unique = set.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), SET_SIZE);
    }

    #[test]
    fn typed_codes_forgive_case_spaces_and_the_dash() {
        assert_eq!(normalise("ABCDE FGHJK").as_deref(), Some("abcde-fghjk"));
        assert_eq!(normalise("abcdefghjk").as_deref(), Some("abcde-fghjk"));
        for wrong in ["abcde-fghj", "abcde-fghjkm", "abcde-fghj0", "123456", ""] {
            assert_eq!(normalise(wrong), None, "{wrong:?}");
        }
    }
}
