//! Pages render what they can: the home page is served from the cache while Postgres is away,
//! a page whose primary content cannot be loaded is a styled 503 with `Retry-After`, and the
//! database's status lives on the admins' System page, not on the product's home page.
use crate::support::{Overrides, Proxy, Reader, ReadersApp, addr_of, owner_url};

/// A short pool-acquire timeout, so a request that does wait for Postgres waits briefly.
fn quick_acquire() -> Vec<(&'static str, String)> {
    vec![("PALISADE_DB_ACQUIRE_TIMEOUT_MS", "1000".into())]
}

#[tokio::test]
async fn while_postgres_is_down_the_cached_home_page_answers_200_and_an_uncached_page_a_styled_503()
{
    let postgres = Proxy::start(addr_of(&owner_url())).await;
    let world = ReadersApp::with(Overrides {
        postgres_addr: Some(postgres.addr),
        env: quick_acquire(),
        ..Default::default()
    })
    .await;
    let anon = Reader::anon();
    world
        .write(&world.author, "Still readable", "From the cache.", true)
        .await;
    let home = world.page(&anon, "/").await;
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("Still readable"));
    assert!(
        !home.body.contains("db-status") && !home.body.contains("data-testid=\"counter\""),
        "the skeleton's demo pieces are gone from the home page"
    );

    postgres.cut();
    let home = world.page(&anon, "/").await;
    assert_eq!(home.status, 200, "{home:?}");
    assert!(home.body.contains("Still readable"), "{home:?}");

    // Page 2 was never cached: its primary content needs Postgres.
    let older = world.page(&anon, "/posts?page=2").await;
    assert_eq!(older.status, 503, "{older:?}");
    assert!(older.header("retry-after").is_some(), "{older:?}");
    assert!(
        older.body.contains("data-testid=\"unavailable\"")
            && older.body.contains("Temporarily unavailable"),
        "a styled page, not a bare error: {older:?}"
    );
    assert!(
        older.body.contains("class=\"nav"),
        "the layout still renders"
    );
    postgres.restore();
}

#[tokio::test]
async fn the_system_page_shows_the_database_to_admins_and_nothing_to_anyone_else() {
    let world = ReadersApp::new().await;
    let page = world.page(&world.admin, "/admin/system").await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("data-testid=\"db-status\""), "{page:?}");
    assert!(
        page.body.contains("data-testid=\"db-role\">admin"),
        "{page:?}"
    );

    for who in [&world.other, &Reader::anon()] {
        let page = world.page(who, "/admin/system").await;
        assert_eq!(page.status, 403, "{page:?}");
        assert!(!page.body.contains("db-status"), "{page:?}");
        let call = world.call(who, "/api/admin/system", &[]).await;
        assert_eq!(call.status, 403, "{call:?}");
    }
}
