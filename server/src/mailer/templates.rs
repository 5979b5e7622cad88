//! One template per email kind. Each builds a subject and a list of blocks from its typed
//! payload; the same blocks render to plain text and to HTML, so every value reaches the HTML
//! through one escaping function (the app's `escape_html`).

/// Escapes text for HTML element content and quoted attribute values: the app's one escaper.
pub use app::components::raw_text::escape_html as escape;
use app::ssr::db::outbox::{EmailKind, Payload, payload};
use serde_json::Value;

const PRODUCT: &str = "Palisade";

/// A rendered email, ready for a `multipart/alternative` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The payload does not fit its kind. Retrying cannot help: the row is parked.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("payload does not fit {kind}: {source}")]
    Payload {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{kind}: {field} is not an http(s) link")]
    Link {
        kind: &'static str,
        field: &'static str,
    },
}

enum Block {
    Text(String),
    /// A button in HTML, a labelled URL in text.
    Action {
        label: &'static str,
        url: String,
    },
    /// A one-time code, set large.
    Code(String),
}

pub fn render(kind: EmailKind, payload: &Value) -> Result<Rendered, TemplateError> {
    use Block::{Code, Text};
    let text = |s: &str| Text(s.to_owned());
    let (subject, blocks) = match kind {
        EmailKind::VerifyEmail => {
            let p: payload::VerifyEmail = parse(payload)?;
            let mut blocks = vec![
                text(
                    "Welcome! Confirm that this is your email address to finish setting up your \
                     account.",
                ),
                action(kind, "link", "Confirm email address", p.link)?,
            ];
            if let Some(code) = p.code {
                blocks.push(text("Or enter this code on the confirmation page:"));
                blocks.push(Code(code));
            }
            blocks.push(Text(format!(
                "This expires in {}. If you did not create an account, you can ignore this email.",
                plural(p.expires_in_hours, "hour")
            )));
            ("Confirm your email address", blocks)
        }
        EmailKind::ResetPassword => {
            let p: payload::ResetPassword = parse(payload)?;
            let blocks = vec![
                text(
                    "Someone asked to reset the password of your account. If it was you, choose a \
                     new password:",
                ),
                action(kind, "link", "Choose a new password", p.link)?,
                Text(format!(
                    "This link expires in {} and works once. If you did not ask for it, ignore \
                     this email: your password stays as it is.",
                    plural(p.expires_in_minutes, "minute")
                )),
            ];
            ("Reset your password", blocks)
        }
        EmailKind::ChangeEmailConfirm => {
            let p: payload::ChangeEmailConfirm = parse(payload)?;
            let mut blocks = vec![
                Text(format!(
                    "Confirm that {} should become the email address of your account.",
                    p.new_email
                )),
                action(kind, "link", "Confirm new address", p.link)?,
            ];
            if let Some(code) = p.code {
                blocks.push(text("Or enter this code on the confirmation page:"));
                blocks.push(Code(code));
            }
            blocks.push(text(
                "If you did not ask for this change, ignore this email: nothing changes until the \
                 new address is confirmed.",
            ));
            ("Confirm your new email address", blocks)
        }
        EmailKind::ChangeEmailNotice => {
            let p: payload::ChangeEmailNotice = parse(payload)?;
            let blocks = vec![
                Text(format!(
                    "A change of your account's email address to {} was requested. Once it is \
                     confirmed, sign-in and emails use the new address.",
                    p.new_email
                )),
                text(
                    "If this was not you, sign in and change your password right away, then \
                     review your active sessions.",
                ),
            ];
            ("Your email address is being changed", blocks)
        }
        EmailKind::SignupAttempt => {
            let p: payload::SignupAttempt = parse(payload)?;
            let blocks = vec![
                text(
                    "Someone tried to create an account with this email address, but you already \
                     have one. If it was you, sign in instead:",
                ),
                action(kind, "signin_link", "Sign in", p.signin_link)?,
                text("Forgot your password? Choose a new one:"),
                action(kind, "forgot_link", "Reset password", p.forgot_link)?,
                text("If it was not you, you can ignore this email. Nothing has changed."),
            ];
            ("Someone tried to sign up with your email address", blocks)
        }
        EmailKind::PasswordChanged => {
            let _: payload::PasswordChanged = parse(payload)?;
            let blocks = vec![
                text("The password of your account was just changed."),
                text(
                    "If this was not you, reset your password from the sign-in page right away \
                     and review your active sessions.",
                ),
            ];
            ("Your password was changed", blocks)
        }
        EmailKind::AccountDeleted => {
            let _: payload::AccountDeleted = parse(payload)?;
            let blocks = vec![
                text("Your account and its data have been deleted, as requested."),
                text("If you did not ask for this, reply to this email."),
            ];
            ("Your account was deleted", blocks)
        }
        EmailKind::EmailSignIn => {
            let p: payload::EmailSignIn = parse(payload)?;
            let blocks = vec![
                text("Someone asked to sign in to your account with this email address."),
                action(kind, "link", "Sign in", p.link)?,
                text("Or enter this code where you asked to sign in:"),
                Code(p.code),
                Text(format!(
                    "The link and the code work once, for {}. If you did not ask to sign in, \
                     ignore this email: nobody can sign in without it.",
                    plural(p.expires_in_minutes, "minute")
                )),
            ];
            ("Your sign-in link", blocks)
        }
        EmailKind::Reauthentication => {
            let p: payload::Reauthentication = parse(payload)?;
            let blocks = vec![
                text("Enter this code to confirm it is you before changing your password:"),
                Code(p.code),
                Text(format!(
                    "It works once, for {}. If you did not ask for it, change your password: \
                     someone may be signed in as you.",
                    plural(p.expires_in_minutes, "minute")
                )),
            ];
            ("Your confirmation code", blocks)
        }
        EmailKind::SecondFactorNotice => {
            let p: payload::SecondFactorNotice = parse(payload)?;
            let (subject, what) = match p.event.as_str() {
                "factor_added" => (
                    "A second factor was added",
                    "A second factor (an authenticator app) was added to your account.",
                ),
                "factor_removed" => (
                    "A second factor was removed",
                    "A second factor was removed from your account.",
                ),
                "recovery_code_used" => (
                    "A recovery code was used",
                    "One of your recovery codes was just used to sign in to your account.",
                ),
                "recovery_codes_regenerated" => (
                    "New recovery codes",
                    "New recovery codes were made for your account; the old ones no longer work.",
                ),
                "factors_reset" => (
                    "Your second factors were reset",
                    "An administrator removed all second factors and recovery codes from your account, and signed out all of its sessions.",
                ),
                _ => (
                    "Your sign-in settings changed",
                    "The second factors of your account changed.",
                ),
            };
            let mut blocks = vec![text(what)];
            if let Some(n) = p.remaining {
                blocks.push(Text(format!("Recovery codes left: {n}.")));
            }
            blocks.push(text(
                "If this was not you, reset your password from the sign-in page right away \
                 and review your second factors and active sessions.",
            ));
            (subject, blocks)
        }
    };
    let subject = format!("{subject} - {PRODUCT}");
    Ok(Rendered {
        text: render_text(&blocks),
        html: render_html(&subject, &blocks),
        subject,
    })
}

fn parse<P: Payload>(payload: &Value) -> Result<P, TemplateError> {
    P::deserialize(payload).map_err(|source| TemplateError::Payload {
        kind: P::KIND.as_str(),
        source,
    })
}

/// Only http(s) links become buttons: a `javascript:` URL must never reach an `href`.
fn action(
    kind: EmailKind,
    field: &'static str,
    label: &'static str,
    url: String,
) -> Result<Block, TemplateError> {
    let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        Ok(Block::Action { label, url })
    } else {
        Err(TemplateError::Link {
            kind: kind.as_str(),
            field,
        })
    }
}

fn plural(n: u32, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

fn render_text(blocks: &[Block]) -> String {
    let mut out = String::from("Hello,\n\n");
    for block in blocks {
        match block {
            Block::Text(t) => out.push_str(t),
            Block::Action { label, url } => {
                out.push_str(label);
                out.push_str(":\n");
                out.push_str(url);
            }
            Block::Code(code) => {
                out.push_str("    ");
                out.push_str(code);
            }
        }
        out.push_str("\n\n");
    }
    out.push_str(&format!("-- \nThe {PRODUCT} team\n"));
    out
}

// Inline styles: many mail clients drop <style> blocks.
const PARAGRAPH: &str = "margin:0 0 16px;font-size:16px;line-height:1.5";
const BUTTON: &str = "display:inline-block;padding:12px 20px;background:#1f2937;color:#ffffff;\
                      border-radius:6px;text-decoration:none;font-weight:600";
const FINE_PRINT: &str = "margin:0 0 16px;font-size:13px;color:#6b7280;word-break:break-all";
const CODE: &str = "margin:0 0 16px;font-size:28px;font-weight:700;letter-spacing:6px;\
                    font-family:monospace";
const PAGE: &str = "margin:0;padding:24px;background:#f3f4f6;color:#111827;\
                    font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const CARD: &str =
    "max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px";
const SIGNATURE: &str = "margin:24px 0 0;font-size:14px;color:#6b7280";

/// Every value from a payload goes through `escape`; the styles are constants.
fn render_html(subject: &str, blocks: &[Block]) -> String {
    let mut body = String::new();
    for block in blocks {
        let html = match block {
            Block::Text(t) => format!(r#"<p style="{PARAGRAPH}">{}</p>"#, escape(t)),
            Block::Action { label, url } => {
                let (label, url) = (escape(label), escape(url));
                format!(
                    r#"<p style="{PARAGRAPH}"><a href="{url}" style="{BUTTON}">{label}</a></p>
<p style="{FINE_PRINT}">Or open this link: <a href="{url}">{url}</a></p>"#
                )
            }
            Block::Code(code) => format!(r#"<p style="{CODE}">{}</p>"#, escape(code)),
        };
        body.push_str(&html);
        body.push('\n');
    }
    let (title, product) = (escape(subject), escape(PRODUCT));
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="{PAGE}">
<div style="{CARD}">
<p style="{PARAGRAPH}">Hello,</p>
{body}<p style="{SIGNATURE}">The {product} team</p>
</div>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(kind: EmailKind) -> Value {
        match kind {
            EmailKind::VerifyEmail => {
                json!({"link": "https://x.test/verify?token=a&b=1", "code": "123456", "expires_in_hours": 24})
            }
            EmailKind::ResetPassword => {
                json!({"link": "https://x.test/reset?token=a", "expires_in_minutes": 60})
            }
            EmailKind::ChangeEmailConfirm => {
                json!({"link": "https://x.test/email?token=a", "new_email": "new@x.test"})
            }
            EmailKind::ChangeEmailNotice => json!({"new_email": "new@x.test"}),
            EmailKind::SignupAttempt => {
                json!({"signin_link": "https://x.test/signin", "forgot_link": "https://x.test/forgot"})
            }
            EmailKind::PasswordChanged | EmailKind::AccountDeleted => json!({}),
            EmailKind::Reauthentication => json!({"code": "123456", "expires_in_minutes": 10}),
            EmailKind::EmailSignIn => {
                json!({"link": "https://x.test/signin/email?token=a", "code": "123456", "expires_in_minutes": 15})
            }
            EmailKind::SecondFactorNotice => json!({"event": "recovery_code_used", "remaining": 9}),
        }
    }

    #[test]
    fn every_kind_renders_a_subject_text_and_html() {
        for kind in EmailKind::ALL {
            let r = render(kind, &sample(kind)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert!(r.subject.ends_with("- Palisade"), "{kind:?}");
            assert!(r.text.starts_with("Hello,"), "{kind:?}");
            assert!(r.html.contains("<!doctype html>"), "{kind:?}");
        }
    }

    #[test]
    fn links_and_codes_appear_in_both_parts_escaped_in_html() {
        let r = render(EmailKind::VerifyEmail, &sample(EmailKind::VerifyEmail)).unwrap();
        assert!(r.text.contains("https://x.test/verify?token=a&b=1"));
        assert!(r.text.contains("123456"));
        assert!(
            r.html
                .contains(r#"href="https://x.test/verify?token=a&amp;b=1""#)
        );
        assert!(r.html.contains("123456"));
        assert!(r.text.contains("24 hours"));
    }

    #[test]
    fn every_interpolated_value_is_escaped_in_html() {
        let evil = r#"<script>alert("x")</script>'@x.test"#;
        let r = render(
            EmailKind::ChangeEmailConfirm,
            &json!({"link": "https://x.test/?a=\"><script>", "code": "<b>1</b>", "new_email": evil}),
        )
        .unwrap();
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(!r.html.contains("<b>1"), "{}", r.html);
        assert!(
            r.html
                .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;@x.test")
        );
        assert!(
            r.text.contains(evil),
            "text is not HTML: values stay as they are"
        );
    }

    #[test]
    fn a_link_that_is_not_http_is_refused() {
        let err = render(
            EmailKind::ResetPassword,
            &json!({"link": "javascript:alert(1)", "expires_in_minutes": 60}),
        )
        .unwrap_err();
        assert!(matches!(err, TemplateError::Link { field: "link", .. }));
    }

    #[test]
    fn a_payload_missing_a_field_is_refused_by_kind() {
        let err = render(
            EmailKind::SignupAttempt,
            &json!({"signin_link": "https://x"}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("signup_attempt"), "{err}");
        assert!(err.to_string().contains("forgot_link"), "{err}");
    }

    #[test]
    fn one_hour_is_singular() {
        let r = render(
            EmailKind::VerifyEmail,
            &json!({"link": "https://x.test/v", "expires_in_hours": 1}),
        )
        .unwrap();
        assert!(r.text.contains("expires in 1 hour."), "{}", r.text);
        assert!(!r.text.contains("code"), "no code line without a code");
    }
}
