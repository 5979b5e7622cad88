//! Text for the few places Leptos writes *without* escaping when it renders on the server:
//! the head's `<title>` (leptos_meta) and the contents of a `<textarea>` (tachys treats it as
//! raw text, like `<script>`). User text goes there only through [`server_escaped`].

/// `text` escaped on the server, as is in the browser. In the browser these places are set
/// through the DOM (`document.title`, a text node), which takes text, not markup: escaping there
/// would show the entities.
pub fn server_escaped(text: String) -> String {
    if cfg!(feature = "ssr") {
        escape_html(&text)
    } else {
        text
    }
}

/// Text made safe to write between tags or inside a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_comes_out_as_text() {
        assert_eq!(
            escape_html(r#"</textarea><a href="x">'&'</a>"#),
            "&lt;/textarea&gt;&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_html("plain · text"), "plain · text");
    }
}
