//! Posts: the title, body and slug rules (kept in step with the `posts` table's CHECKs), and
//! what the pages get to show.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Posts per list page (`/posts?page=N`, the home page shows page 1).
pub const PAGE_SIZE: u32 = 10;
pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 100_000;
pub const SLUG_MAX: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostTitle(String);

impl PostTitle {
    /// 1–200 characters after trimming, one line, no control characters.
    pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
        let title = input.as_ref().trim();
        if title.is_empty() {
            return Err("Give the post a title.".into());
        }
        if title.chars().count() > TITLE_MAX {
            return Err(format!(
                "Keep the title to {TITLE_MAX} characters or fewer."
            ));
        }
        if title.chars().any(char::is_control) {
            return Err("The title contains characters that are not allowed.".into());
        }
        Ok(Self(title.to_string()))
    }
}

impl AsRef<str> for PostTitle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Markdown, 1–100 000 characters. Line endings are normalised to `\n` first, so a browser's
/// `\r\n` does not count twice against the limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostBody(String);

impl PostBody {
    pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
        let body = input.as_ref().replace("\r\n", "\n");
        if body.trim().is_empty() {
            return Err("Write something first: the body is empty.".into());
        }
        if body.chars().count() > BODY_MAX {
            return Err(format!(
                "The body can be at most {BODY_MAX} characters; this one has {}.",
                body.chars().count()
            ));
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("The body contains characters that are not allowed.".into());
        }
        Ok(Self(body))
    }
}

impl AsRef<str> for PostBody {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The post's address: `^[a-z0-9]+(-[a-z0-9]+)*$`, at most 128 characters (the DB CHECK).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: impl AsRef<str>) -> Result<Self, String> {
        let s = input.as_ref();
        let well_formed = !s.is_empty()
            && s.len() <= SLUG_MAX
            && s.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(Self(s.to_string()))
        } else {
            Err("Not a post address.".into())
        }
    }

    /// The slug a title suggests: ASCII letters and digits lower-cased, everything else a
    /// single hyphen, trimmed to fit. A title with no ASCII letters or digits becomes `post`.
    pub fn from_title(title: &PostTitle) -> Self {
        let mut slug = String::new();
        for c in title.as_ref().chars() {
            let c = fold_latin(c);
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        Self::fit(&slug, "").unwrap_or_else(|| Self("post".into()))
    }

    /// This slug with `-{n}` appended, shortened first so the result still fits in 128.
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        Self::fit(&self.0, &suffix).unwrap_or_else(|| Self(format!("post{suffix}")))
    }

    /// This slug with a random `-xxxxxxxx` appended: what every new post gets, so its slug
    /// says nothing about which other slugs are taken (other users' drafts included).
    #[cfg(feature = "ssr")]
    pub fn with_random_suffix(&self) -> Self {
        let tag = Uuid::new_v4().simple().to_string();
        let suffix = format!("-{}", &tag[..8]);
        Self::fit(&self.0, &suffix).unwrap_or_else(|| Self(format!("post{suffix}")))
    }

    fn fit(base: &str, suffix: &str) -> Option<Self> {
        let room = SLUG_MAX - suffix.len();
        let base = base.get(..base.len().min(room)).unwrap_or(base);
        let base = base.trim_matches('-');
        (!base.is_empty()).then(|| Self(format!("{base}{suffix}")))
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The common accented Latin letters, so "Crème brûlée" becomes `creme-brulee`, not `cr-me`.
fn fold_latin(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    Draft,
    Published,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    /// The editor's submit button (`intent`): `publish`, or anything else for a draft.
    pub fn from_intent(intent: Option<&str>) -> Self {
        match intent {
            Some("publish") => Self::Published,
            _ => Self::Draft,
        }
    }

    pub fn from_db(s: &str) -> Self {
        if s == "published" {
            Self::Published
        } else {
            Self::Draft
        }
    }
}

/// Who wrote a post, as anyone may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
}

impl Author {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.username)
    }
}

/// One entry of a list page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostSummary {
    pub slug: String,
    pub title: String,
    /// Plain text from the start of the body.
    pub excerpt: String,
    pub author: Author,
    pub published_at: Option<DateTime<Utc>>,
}

/// A page of the public list, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostPage {
    pub page: u32,
    pub posts: Vec<PostSummary>,
    pub has_next: bool,
}

/// A post as rendered: the body is sanitized HTML, safe to insert as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPost {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub html: String,
    pub author: Author,
    pub status: PostStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The post page's data: the post (shared by everyone who may see it) and what this reader
/// may do with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostView {
    pub post: RenderedPost,
    pub can_edit: bool,
}

/// A post as its author edits it: the markdown source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditablePost {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub status: PostStatus,
}

/// A row of "My posts" and of the moderation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRow {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub status: PostStatus,
    pub author: Author,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the moderation list (every post, drafts included), newest change first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowPage {
    pub page: u32,
    pub rows: Vec<PostRow>,
    pub has_next: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug_of(title: &str) -> String {
        Slug::from_title(&PostTitle::parse(title).unwrap()).to_string()
    }

    #[test]
    fn slugs_come_from_titles_and_match_the_database_rule() {
        assert_eq!(slug_of("Hello, World!"), "hello-world");
        assert_eq!(
            slug_of("  Rust 2024 -- what's new?  "),
            "rust-2024-what-s-new"
        );
        assert_eq!(slug_of("Crème brûlée"), "creme-brulee");
        assert_eq!(slug_of("日本語"), "post");
        assert_eq!(slug_of("---"), "post");
        let long = slug_of(&"ab ".repeat(60));
        assert!(
            long.len() <= SLUG_MAX && Slug::parse(&long).is_ok(),
            "{long}"
        );
        for title in ["Hello, World!", "a--b", "Ünïcode ✓ ok", "x"] {
            assert!(Slug::parse(slug_of(title)).is_ok(), "{title}");
        }
    }

    #[test]
    fn suffixes_keep_slugs_within_the_limit() {
        let base = Slug::parse("hello-world").unwrap();
        assert_eq!(base.with_suffix(2).as_ref(), "hello-world-2");
        let long = Slug::parse("a".repeat(SLUG_MAX)).unwrap();
        let suffixed = long.with_suffix(12);
        assert_eq!(suffixed.as_ref().len(), SLUG_MAX);
        assert!(suffixed.as_ref().ends_with("-12"));
        let hyphen_at_cut = Slug::parse(format!("{}-b", "a".repeat(125))).unwrap();
        assert!(Slug::parse(hyphen_at_cut.with_suffix(3)).is_ok());
    }

    #[test]
    fn slug_parsing_follows_the_check_constraint() {
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "ä", &"a".repeat(129)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Slug::parse("a-1-b").is_ok());
    }

    #[test]
    fn titles_and_bodies_have_bounds() {
        assert!(PostTitle::parse("   ").is_err());
        assert!(PostTitle::parse("x".repeat(201)).is_err());
        assert!(PostTitle::parse("x".repeat(200)).is_ok());
        assert!(PostTitle::parse("a\nb").is_err());
        assert!(PostBody::parse(" \n ").is_err());
        assert!(PostBody::parse("x".repeat(100_001)).is_err());
        assert!(
            PostBody::parse("x\r\n".repeat(50_000)).is_ok(),
            "CRLF counts once"
        );
        assert!(PostBody::parse("nul\u{0}").is_err());
    }
}
