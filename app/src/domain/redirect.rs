//! Where a redirect may send the browser: a path on this site, and nothing a browser could read
//! as another host. Every redirect (after sign-in, after a write, `<Redirect/>` on a page) goes
//! through [`local_path_or`], in the browser and on the server alike.

/// Longer targets are not paths a form of ours produced; they only bloat a header.
const MAX_LEN: usize = 2048;

/// `target` if it is a same-origin path, else `fallback` (a constant path of ours).
pub fn local_path_or(target: Option<&str>, fallback: &str) -> String {
    match target {
        Some(target) if is_local_path(target) => target.to_owned(),
        _ => fallback.to_owned(),
    }
}

/// Whether a browser given `target` as `Location` stays on this site, without relying on how a
/// browser cleans URLs up. Browsers drop tabs and newlines inside a URL (`/\t/evil.example` is
/// `//evil.example`, another host) and read `\` as `/`, so the target must be plain printable
/// ASCII with no whitespace, no backslash, one leading `/` and no second one right after it,
/// both as written and after percent-decoding (as often as it still decodes to something new).
/// A target that is not valid in an HTTP header (a control character) never passes, so the
/// header can always be built.
pub fn is_local_path(target: &str) -> bool {
    if target.len() > MAX_LEN || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let mut current = target.as_bytes().to_vec();
    // Each pass peels one layer of encoding (`%252F` → `%2F` → `/`); three is more than any
    // real link of ours carries.
    for _ in 0..4 {
        if !looks_local(&current) {
            return false;
        }
        match percent_decode(&current) {
            Some(decoded) if decoded == current => return true,
            Some(decoded) => current = decoded,
            None => return false,
        }
    }
    false
}

fn looks_local(bytes: &[u8]) -> bool {
    let starts_with_one_slash =
        bytes.first() == Some(&b'/') && !matches!(bytes.get(1), Some(b'/' | b'\\'));
    let clean_ascii = bytes
        .iter()
        .all(|&b| b >= 0x80 || (b.is_ascii_graphic() && b != b'\\'));
    // Decoded non-ASCII is text (UTF-8); browsers may also strip Unicode spaces.
    let clean_text = String::from_utf8_lossy(bytes)
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && c != char::REPLACEMENT_CHARACTER);
    starts_with_one_slash && clean_ascii && clean_text
}

/// `%XX` → the byte; `None` for a `%` not followed by two hex digits.
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `value` made safe to put in a query string (`?next=…`): everything but unreserved
/// characters and `/` is percent-encoded.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_followed() {
        for good in [
            "/",
            "/account",
            "/posts/new?x=1",
            "/posts/a-b/edit",
            "/admin/users?q=ada%40example.com&after=abc",
            "/signin?next=%2Fposts%2Fnew",
            "/posts#comments",
        ] {
            assert_eq!(local_path_or(Some(good), "/account"), good, "{good:?}");
        }
    }

    #[test]
    fn anything_a_browser_could_read_as_another_host_falls_back() {
        let hostile = [
            "https://evil.example",
            "http:/evil.example",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example/",
            "/%09/evil.example/",
            "/%0a/evil.example",
            "/%0D/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%5cevil.example",
            "/%252F/evil.example",
            "/%25252F%25252Fevil.example",
            "/%2525252F/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\0",
            "/a%00b",
            "/ /evil.example",
            "/%20/evil.example",
            "/\u{a0}/evil.example",
            "/%C2%A0/evil.example",
            "/\u{2028}/evil.example",
            "/%E2%80%A8/evil.example",
            "/%zz",
            "/%",
            "/%FF",
            "/é",
            "account",
            "javascript:alert(1)",
            "",
        ];
        for bad in hostile {
            assert_eq!(local_path_or(Some(bad), "/account"), "/account", "{bad:?}");
        }
        assert_eq!(
            local_path_or(Some(&format!("/{}", "a".repeat(3000))), "/"),
            "/"
        );
        assert_eq!(local_path_or(None, "/account"), "/account");
    }

    #[test]
    fn encoded_query_values_stay_local_paths() {
        let next = encode_query_value("/posts/\n x/edit?a=b&c");
        assert_eq!(next, "/posts/%0A%20x/edit%3Fa%3Db%26c");
        assert!(is_local_path(&format!(
            "/signin?next={}",
            encode_query_value("/posts/x/edit")
        )));
    }
}
