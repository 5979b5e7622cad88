//! `public.posts`, read and written as the request's actor. RLS decides: everyone reads
//! published posts, authors everything of their own, admins everything. A write that RLS
//! refuses touches zero rows, which these functions report as `None` / `false`.
//!
//! The authors' writes are scoped to the caller's own posts in the query itself
//! (`author_id = auth.uid()`), so an admin's role, which RLS lets change any post, does not
//! turn the authors' endpoints into an unaudited moderation path: moderation has its own
//! functions ([`unpublish_any`], [`delete_any`]), called only with an audit entry.
use chrono::{DateTime, Utc};
use sqlx::Acquire as _;
use uuid::Uuid;

use super::{DbError, Tx};
use crate::domain::{
    Author, PostBody, PostStatus, PostTitle, Slug,
    post::{PostRow as RowView, SLUG_MAX},
};

/// A post with its author's public profile fields.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Post {
    pub id: Uuid,
    pub author_id: Uuid,
    pub author_username: String,
    pub author_display_name: Option<String>,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Post {
    pub fn author(&self) -> Author {
        Author {
            id: self.author_id,
            username: self.author_username.clone(),
            display_name: self.author_display_name.clone(),
        }
    }

    pub fn status(&self) -> PostStatus {
        PostStatus::from_db(&self.status)
    }
}

/// Published posts, newest first (ties broken by id so pages never overlap).
pub async fn published_page(tx: &mut Tx, limit: i64, offset: i64) -> Result<Vec<Post>, DbError> {
    Ok(sqlx::query_as!(
        Post,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.body, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          where p.status = 'published' \
          order by p.published_at desc, p.id desc limit $1 offset $2",
        limit,
        offset,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// A published post. The status is filtered here too, not only by RLS: this feeds the cache.
pub async fn published_by_slug(tx: &mut Tx, slug: &str) -> Result<Option<Post>, DbError> {
    Ok(sqlx::query_as!(
        Post,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.body, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          where p.slug = $1 and p.status = 'published'",
        slug,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Any post the actor may see.
pub async fn by_slug(tx: &mut Tx, slug: &str) -> Result<Option<Post>, DbError> {
    Ok(sqlx::query_as!(
        Post,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.body, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          where p.slug = $1",
        slug,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn by_id(tx: &mut Tx, id: Uuid) -> Result<Option<Post>, DbError> {
    Ok(sqlx::query_as!(
        Post,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.body, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          where p.id = $1",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// A post in a list of rows: everything but the body, which a list never needs.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Listed {
    pub id: Uuid,
    pub author_id: Uuid,
    pub author_username: String,
    pub author_display_name: Option<String>,
    pub slug: String,
    pub title: String,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Listed {
    pub fn row(&self) -> RowView {
        RowView {
            id: self.id,
            slug: self.slug.clone(),
            title: self.title.clone(),
            status: PostStatus::from_db(&self.status),
            author: Author {
                id: self.author_id,
                username: self.author_username.clone(),
                display_name: self.author_display_name.clone(),
            },
            published_at: self.published_at,
            updated_at: self.updated_at,
        }
    }
}

/// One page of the caller's own posts, drafts included, most recently changed first.
pub async fn own_page(tx: &mut Tx, limit: i64, offset: i64) -> Result<Vec<Listed>, DbError> {
    Ok(sqlx::query_as!(
        Listed,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          where p.author_id = (select auth.uid()) \
          order by p.updated_at desc, p.id desc limit $1 offset $2",
        limit,
        offset,
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Every post the actor may see, most recently changed first (the moderation list).
pub async fn all_page(tx: &mut Tx, limit: i64, offset: i64) -> Result<Vec<Listed>, DbError> {
    Ok(sqlx::query_as!(
        Listed,
        "select p.id, p.author_id, a.username as author_username, \
                a.display_name as author_display_name, p.slug, p.title, p.status, \
                p.published_at, p.updated_at \
           from public.posts p join public.profiles a on a.id = p.author_id \
          order by p.updated_at desc, p.id desc limit $1 offset $2",
        limit,
        offset,
    )
    .fetch_all(&mut **tx)
    .await?)
}

pub struct NewPost<'a> {
    pub author_id: Uuid,
    pub title: &'a PostTitle,
    pub body: &'a PostBody,
    pub status: PostStatus,
}

/// Tries before giving up; a random suffix collides again only by a fluke.
const SLUG_TRIES: u32 = 5;

/// Inserts the post under `base` with a random suffix (`hello-world-4f3a9c0b`), a new one on
/// the rare collision. Never the bare `base`, nor `base-2`: the unique constraint sees every
/// post, other users' drafts included, so a slug that depended on which slugs are taken would
/// tell the author that an invisible draft holds one. With a random suffix the answer is the
/// same whether the title's slug is free, published or someone's draft. Each try runs in a
/// savepoint, so a collision does not abort the transaction.
pub async fn insert(tx: &mut Tx, post: &NewPost<'_>, base: &Slug) -> Result<(Uuid, Slug), DbError> {
    debug_assert!(base.as_ref().len() <= SLUG_MAX);
    for _ in 0..SLUG_TRIES {
        let slug = base.with_random_suffix();
        let mut savepoint = tx.begin().await?;
        let inserted = sqlx::query_scalar!(
            "insert into public.posts (author_id, slug, title, body, status) \
             values ($1, $2, $3, $4, $5) returning id",
            post.author_id,
            slug.as_ref(),
            post.title.as_ref(),
            post.body.as_ref(),
            post.status.as_str(),
        )
        .fetch_one(&mut *savepoint)
        .await
        .map_err(DbError::from);
        match inserted {
            Ok(id) => {
                savepoint.commit().await?;
                return Ok((id, slug));
            }
            Err(DbError::Conflict(constraint)) if constraint == "posts_slug_key" => {
                savepoint.rollback().await?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(DbError::Conflict("posts_slug_key".into()))
}

/// Inserts a demo post (`seed-dev`) as the caller, under a fixed slug; `false` when the slug is
/// taken already, so seeding twice adds nothing.
pub async fn insert_demo(
    tx: &mut Tx,
    slug: &str,
    title: &str,
    body: &str,
    status: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query!(
        "insert into public.posts (author_id, slug, title, body, status) \
         values ((select auth.uid()), $1, $2, $3, $4) on conflict do nothing",
        slug,
        title,
        body,
        status,
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a write changed, for the caller's cache invalidation and redirect.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Changed {
    pub slug: String,
    pub author_id: Uuid,
    pub title: String,
    pub status: String,
}

impl Changed {
    pub fn status(&self) -> PostStatus {
        PostStatus::from_db(&self.status)
    }
}

/// New title and body of the caller's own post. `None`: no such post of theirs.
pub async fn update_content(
    tx: &mut Tx,
    id: Uuid,
    title: &PostTitle,
    body: &PostBody,
) -> Result<Option<Changed>, DbError> {
    Ok(sqlx::query_as!(
        Changed,
        "update public.posts set title = $2, body = $3 \
          where id = $1 and author_id = (select auth.uid()) \
         returning slug, author_id, title, status",
        id,
        title.as_ref(),
        body.as_ref(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Publishes or unpublishes the caller's own post (the trigger keeps `published_at` in step).
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    status: PostStatus,
) -> Result<Option<Changed>, DbError> {
    Ok(sqlx::query_as!(
        Changed,
        "update public.posts set status = $2 \
          where id = $1 and author_id = (select auth.uid()) \
         returning slug, author_id, title, status",
        id,
        status.as_str(),
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Deletes the caller's own post; the returned status is the one it had.
pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<Option<Changed>, DbError> {
    Ok(sqlx::query_as!(
        Changed,
        "delete from public.posts where id = $1 and author_id = (select auth.uid()) \
         returning slug, author_id, title, status",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Moderation: unpublishes anyone's post (RLS lets only `admin` touch others' rows). The
/// caller records the audit entry in the same transaction.
pub async fn unpublish_any(tx: &mut Tx, id: Uuid) -> Result<Option<Changed>, DbError> {
    Ok(sqlx::query_as!(
        Changed,
        "update public.posts set status = 'draft' where id = $1 \
         returning slug, author_id, title, status",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Moderation: deletes anyone's post (RLS lets only `admin` touch others' rows). The caller
/// records the audit entry in the same transaction.
pub async fn delete_any(tx: &mut Tx, id: Uuid) -> Result<Option<Changed>, DbError> {
    Ok(sqlx::query_as!(
        Changed,
        "delete from public.posts where id = $1 returning slug, author_id, title, status",
        id,
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// Whether the actor can see the post at all (to tell "not yours" from "no such post").
pub async fn visible(tx: &mut Tx, id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from public.posts where id = $1) as "exists!""#,
        id,
    )
    .fetch_one(&mut **tx)
    .await?)
}
