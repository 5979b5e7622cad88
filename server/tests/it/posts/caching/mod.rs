//! The posts cache: identical answers cached or not, for every reader; every write seen on the
//! next read; one load under a burst of misses; Postgres answers while Redis is away.
mod stress;

use std::time::{Duration, Instant};

use fred::interfaces::LuaInterface as _;
use serde_json::Value;

use crate::support::{Overrides, Proxy, Reader, ReadersApp, addr_of, redis_url, through};

const DRAFT: &str = "Secret draft of the author";
const OTHER_DRAFT: &str = "Unfinished thoughts of the other user";

async fn get_post(world: &ReadersApp, who: &Reader, slug: &str) -> crate::support::Answer {
    world.call(who, "/api/posts/get", &[("slug", slug)]).await
}

async fn list(world: &ReadersApp, who: &Reader, page: u32) -> Value {
    world
        .call(who, "/api/posts/list", &[("page", &page.to_string())])
        .await
        .json()
}

fn titles(page: &Value) -> Vec<String> {
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect()
}

/// Every value stored under this database's cache prefix.
async fn cached_values(world: &ReadersApp) -> Vec<String> {
    world
        .redis
        .eval::<Vec<Option<String>>, _, _, _>(
            "local out = {} \
             for _, k in ipairs(redis.call('KEYS', ARGV[1])) do \
               table.insert(out, redis.call('GET', k)) end \
             return out",
            Vec::<String>::new(),
            vec![format!("{}:*", world.cache().prefix())],
        )
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

/// Reads `read` twice after an invalidation: the first goes to the database, the second is
/// served from Redis. Returns both answers.
async fn uncached_then_cached<F, Fut>(world: &ReadersApp, read: F) -> (String, String)
where
    F: Fn() -> Fut,
    Fut: Future<Output = crate::support::Answer>,
{
    world.cache().invalidate().await;
    let before = world.cache().loads();
    let uncached = read().await;
    assert_eq!(uncached.status, 200, "{uncached:?}");
    assert_eq!(world.cache().loads(), before + 1, "the first read loads");
    let cached = read().await;
    assert_eq!(
        world.cache().loads(),
        before + 1,
        "the second read is a hit"
    );
    (uncached.body, cached.body)
}

#[tokio::test]
async fn cached_and_uncached_reads_agree_for_every_reader_and_never_show_a_draft() {
    let world = ReadersApp::new().await;
    let mut published = Vec::new();
    for i in 1..=12 {
        let title = format!("Published post number {i}");
        let slug = world
            .write(&world.author, &title, &format!("Body of post {i}."), true)
            .await;
        published.push((slug, title));
    }
    let draft = world
        .write(&world.author, DRAFT, "not for anyone else", false)
        .await;
    let other_draft = world
        .write(&world.other, OTHER_DRAFT, "not yet", false)
        .await;
    let readers = [
        Reader::anon(),
        world.author.clone(),
        world.other.clone(),
        world.admin.clone(),
    ];

    for who in &readers {
        for page in [1u32, 2] {
            let (uncached, cached) = uncached_then_cached(&world, || async {
                world
                    .call(who, "/api/posts/list", &[("page", &page.to_string())])
                    .await
            })
            .await;
            assert_eq!(uncached, cached, "{} page {page}", who.username);
            assert!(!cached.contains(DRAFT) && !cached.contains(OTHER_DRAFT));
        }
        let first = list(&world, who, 1).await;
        let second = list(&world, who, 2).await;
        assert_eq!(first["has_next"], true);
        assert_eq!(second["has_next"], false);
        let mut seen = titles(&first);
        seen.extend(titles(&second));
        let newest_first: Vec<String> = published.iter().rev().map(|(_, t)| t.clone()).collect();
        assert_eq!(seen, newest_first, "{}", who.username);

        for (slug, title) in [&published[0], &published[11]] {
            let (uncached, cached) =
                uncached_then_cached(&world, || get_post(&world, who, slug)).await;
            assert_eq!(uncached, cached, "{} {slug}", who.username);
            let view: Value = serde_json::from_str(&cached).unwrap();
            assert_eq!(view["post"]["title"], title.as_str());
            assert_eq!(view["post"]["status"], "published");
            assert_eq!(view["can_edit"], who.id == world.author.id);

            let page = world.page(who, &format!("/posts/{slug}")).await;
            assert_eq!(page.status, 200);
            assert!(page.body.contains(title.as_str()));
            assert!(!page.body.contains(DRAFT) && !page.body.contains(OTHER_DRAFT));
        }
        for path in ["/", "/posts", "/posts?page=2"] {
            let page = world.page(who, path).await;
            assert_eq!(page.status, 200, "{path}");
            assert!(!page.body.contains(DRAFT) && !page.body.contains(OTHER_DRAFT));
        }
    }

    // Drafts: their author and admins see them (never through the cache); others get a 404.
    for (slug, author) in [(&draft, &world.author), (&other_draft, &world.other)] {
        for who in &readers {
            let first = get_post(&world, who, slug).await;
            let again = get_post(&world, who, slug).await;
            assert_eq!(first.body, again.body);
            if who.id == author.id || who.id == world.admin.id {
                let view: Value = first.json();
                assert_eq!(view["post"]["status"], "draft");
            } else {
                assert_eq!(first.error(), app::error::AppError::NotFound);
                assert_eq!(world.page(who, &format!("/posts/{slug}")).await.status, 404);
            }
        }
    }

    let stored = cached_values(&world).await;
    assert!(stored.len() > 2, "the cache was used: {stored:?}");
    for value in stored {
        assert!(
            !value.contains(DRAFT) && !value.contains(OTHER_DRAFT),
            "{value}"
        );
        assert!(!value.contains("not for anyone else"), "{value}");
    }
}

/// Reads the post and page 1 twice, so both are cached before the write under test.
async fn warm(world: &ReadersApp, slug: &str) {
    for _ in 0..2 {
        get_post(world, &Reader::anon(), slug).await;
        list(world, &Reader::anon(), 1).await;
    }
    let loads = world.cache().loads();
    get_post(world, &Reader::anon(), slug).await;
    list(world, &Reader::anon(), 1).await;
    assert_eq!(
        world.cache().loads(),
        loads,
        "warm: both served from the cache"
    );
}

#[tokio::test]
async fn every_write_is_seen_on_the_next_read() {
    let world = ReadersApp::new().await;
    let anon = Reader::anon();
    let author = &world.author;
    let slug = world
        .write(author, "Before the edit", "Old body.", true)
        .await;
    let id = world.id_of(author, &slug).await;

    // Edit.
    warm(&world, &slug).await;
    world
        .call(
            author,
            "/api/posts/update",
            &[
                ("id", &id),
                ("title", "After the edit"),
                ("body", "New *body*."),
            ],
        )
        .await
        .redirect();
    let view: Value = get_post(&world, &anon, &slug).await.json();
    assert_eq!(view["post"]["title"], "After the edit");
    assert!(
        view["post"]["html"]
            .as_str()
            .unwrap()
            .contains("<em>body</em>")
    );
    assert_eq!(titles(&list(&world, &anon, 1).await), ["After the edit"]);

    // Unpublish.
    warm(&world, &slug).await;
    let to = world
        .call(author, "/api/posts/unpublish", &[("id", &id)])
        .await;
    assert!(to.redirect().starts_with(&format!("/posts/{slug}")));
    assert_eq!(get_post(&world, &anon, &slug).await.status, 404);
    assert!(titles(&list(&world, &anon, 1).await).is_empty());

    // Publish again.
    get_post(&world, &anon, &slug).await;
    list(&world, &anon, 1).await;
    world
        .call(author, "/api/posts/publish", &[("id", &id)])
        .await
        .redirect();
    assert_eq!(get_post(&world, &anon, &slug).await.status, 200);
    assert_eq!(titles(&list(&world, &anon, 1).await), ["After the edit"]);

    // The author's display name and username change.
    warm(&world, &slug).await;
    let new_username = format!("renamed{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    world
        .call(
            author,
            "/api/account/profile",
            &[
                ("username", new_username.as_str()),
                ("display_name", "Ada Renamed"),
                ("bio", ""),
            ],
        )
        .await
        .redirect();
    let view: Value = get_post(&world, &anon, &slug).await.json();
    assert_eq!(view["post"]["author"]["display_name"], "Ada Renamed");
    assert_eq!(view["post"]["author"]["username"], new_username.as_str());
    let page = list(&world, &anon, 1).await;
    assert_eq!(page["posts"][0]["author"]["display_name"], "Ada Renamed");

    // A new published post appears on the cached list at once.
    warm(&world, &slug).await;
    let newer = world.write(author, "A newer post", "Fresh.", true).await;
    assert_eq!(
        titles(&list(&world, &anon, 1).await),
        ["A newer post", "After the edit"]
    );
    // A new draft changes nothing public.
    world.write(author, "Quiet draft", "Shh.", false).await;
    assert_eq!(titles(&list(&world, &anon, 1).await).len(), 2);

    // Delete.
    warm(&world, &newer).await;
    let newer_id = world.id_of(author, &newer).await;
    let to = world
        .call(author, "/api/posts/delete", &[("id", &newer_id)])
        .await;
    assert_eq!(to.redirect(), "/posts/mine?saved=deleted");
    assert_eq!(get_post(&world, &anon, &newer).await.status, 404);
    assert_eq!(titles(&list(&world, &anon, 1).await), ["After the edit"]);

    // Admin moderation.
    warm(&world, &slug).await;
    world
        .call(&world.admin, "/api/admin/posts/unpublish", &[("id", &id)])
        .await
        .redirect();
    assert_eq!(get_post(&world, &anon, &slug).await.status, 404);
    assert!(titles(&list(&world, &anon, 1).await).is_empty());
}
