//! Finding users: by any part of their email or username in any case, page after page newest
//! first without gaps or repeats.
use app::{
    domain::admin::UserPage,
    ssr::db::{ServiceRole, begin_service},
};
use uuid::Uuid;

use crate::support::{PeopleApp, Person};

async fn search(admin: &Person, q: &str, after: Option<&str>) -> UserPage {
    let mut form = vec![("q", q)];
    form.extend(after.map(|a| ("after", a)));
    admin.call("/api/admin/users", &form).await.json()
}

async fn emails(admin: &Person, q: &str) -> Vec<String> {
    let mut found: Vec<String> = search(admin, q, None)
        .await
        .users
        .into_iter()
        .map(|u| u.email)
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn users_are_found_by_any_part_of_their_email_or_username_in_any_case() {
    let w = PeopleApp::new().await;
    let admin = w.admin("boss").await;
    let (ada, ada_email) = w.account("ada-lovelace").await;
    let (_, grace_email) = w.account("grace-hopper").await;
    // Sign-up gives a random handle; Ada picked her name.
    w.set_username(ada, "ada_lovelace_1815").await;

    assert_eq!(emails(&admin, "LOVELACE").await, vec![ada_email.clone()]);
    assert_eq!(emails(&admin, "  hopper-").await, vec![grace_email.clone()]);
    // The username has `_` where the email has `-`: found through the username, and `_` is
    // not a wildcard.
    assert_eq!(
        emails(&admin, "ada_lovelace_").await,
        vec![ada_email.clone()]
    );
    assert!(emails(&admin, "ada_lovelace-").await.is_empty());
    assert!(emails(&admin, "%").await.is_empty());
    // A pasted id finds exactly that account.
    assert_eq!(
        emails(&admin, &ada.to_string()).await,
        vec![ada_email.clone()]
    );
    let mut everyone = vec![admin.email.clone(), ada_email, grace_email];
    everyone.sort();
    assert_eq!(emails(&admin, "@FLOWS.test").await, everyone);
    assert_eq!(emails(&admin, "").await, everyone);
}

#[tokio::test]
async fn the_user_list_pages_newest_first_without_gaps_or_repeats() {
    let w = PeopleApp::new().await;
    let admin = w.admin("pager").await;
    // Thirty accounts created in one transaction share their created_at: only the id can
    // order them, which is what the cursor must get right.
    let mut tx = begin_service(&w.app.pool, ServiceRole::Auth).await.unwrap();
    // (Not a whole uuid: pasted, that is searched for as an id.)
    let tag = Uuid::new_v4().simple().to_string()[..12].to_string();
    sqlx::query(
        "insert into auth.users (email, password_hash) \
         select 'bulk' || n || '-' || $1 || '@flows.test', 'x' from generate_series(1, 30) n",
    )
    .bind(&tag)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let first = search(&admin, "", None).await;
    assert_eq!(first.users.len(), 25);
    let next = first.next.clone().expect("a second page");
    let second = search(&admin, "", Some(&next)).await;
    assert_eq!(second.users.len(), 6);
    assert_eq!(second.next, None);

    let listed: Vec<_> = first.users.iter().chain(&second.users).collect();
    let mut ids: Vec<Uuid> = listed.iter().map(|u| u.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 31, "no repeats");
    for pair in listed.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        assert!(
            (a.created_at, a.id) > (b.created_at, b.id),
            "newest first, then by id: {a:?} before {b:?}"
        );
    }
    assert_eq!(listed[30].id, admin.id, "the admin is the oldest account");

    // Searching pages the same way.
    let bulk = search(&admin, &tag, None).await;
    assert_eq!(bulk.users.len(), 25);
    let rest = search(&admin, &tag, bulk.next.as_deref()).await;
    assert_eq!(rest.users.len(), 5);

    let bad = admin
        .call("/api/admin/users", &[("q", ""), ("after", "yesterday")])
        .await;
    assert_eq!(bad.field_error().0, "after");
}
