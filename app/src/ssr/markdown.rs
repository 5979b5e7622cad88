//! Markdown to safe HTML: pulldown-cmark renders, ammonia keeps only an allow-list of tags,
//! attributes and URL schemes. Whatever raw HTML an author writes (`<script>`, `on*=`
//! handlers, `javascript:` links) comes out inert.
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, TagEnd, html};

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
}

/// ammonia's defaults (no scripts, styles, forms, event handlers, or URL schemes other than
/// http(s), mailto and the like), plus `rel="noopener noreferrer nofollow"` on every link.
/// Task-list checkboxes are dropped with the other `<input>`s; their text stays.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.link_rel(Some("noopener noreferrer nofollow"));
    builder
});

/// The body as sanitized HTML, safe to insert into a page as is.
pub fn render(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options()));
    CLEANER.clean(&unsafe_html).to_string()
}

fn ends_a_block(event: &Event<'_>) -> bool {
    matches!(
        event,
        Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                    | TagEnd::Heading(_)
                    | TagEnd::Item
                    | TagEnd::CodeBlock
                    | TagEnd::TableCell
            )
    )
}

/// Up to `max` characters of the body's text, for list pages (markup and raw HTML dropped).
pub fn excerpt(markdown: &str, max: usize) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            _ if ends_a_block(&event) && !text.ends_with(' ') => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max {
            break;
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches(|c: char| !c.is_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders() {
        let html = render("# Title\n\nSome *emphasis* and [a link](https://example.com).");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>emphasis</em>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com" rel="noopener noreferrer nofollow">"#),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_inert() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            r#"<a href="javascript:alert(1)">x</a>"#,
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "<svg onload=alert(1)>",
            r#"<iframe src="https://evil.example"></iframe>"#,
            r#"<div style="background:url(javascript:alert(1))" onclick="x()">hi</div>"#,
            "<scr<script>ipt>alert(1)</script>",
            r#"<a href="data:text/html,<script>alert(1)</script>">d</a>"#,
            "<form action=javascript:alert(1)><button>go</button></form>",
        ];
        for payload in payloads {
            let html = render(payload).to_lowercase();
            assert!(!html.contains("<script"), "{payload} -> {html}");
            assert!(!html.contains("javascript:"), "{payload} -> {html}");
            assert!(!html.contains("onerror"), "{payload} -> {html}");
            assert!(!html.contains("onload"), "{payload} -> {html}");
            assert!(!html.contains("onclick"), "{payload} -> {html}");
            assert!(!html.contains("<iframe"), "{payload} -> {html}");
            assert!(!html.contains("<form"), "{payload} -> {html}");
            assert!(!html.contains("data:text"), "{payload} -> {html}");
            assert!(!html.contains("style="), "{payload} -> {html}");
        }
    }

    #[test]
    fn task_lists_keep_their_text_without_inputs() {
        let html = render("- [x] done\n- [ ] todo");
        assert!(html.contains("done") && html.contains("todo"), "{html}");
        assert!(!html.contains("<input"), "{html}");
    }

    #[test]
    fn excerpts_are_plain_text_cut_at_a_word() {
        assert_eq!(
            excerpt("# Hi\n\nThis is **bold** <b>raw</b>", 100),
            "Hi This is bold raw"
        );
        let long = excerpt(&"word ".repeat(100), 22);
        assert_eq!(long, "word word word word…");
    }
}
