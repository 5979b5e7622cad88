//! Posts for the server functions: public reads through the cache (loaded as `anon`), the
//! rest as the request's actor, and every write in one transaction followed, after the commit,
//! by the cache's invalidation.
use uuid::Uuid;

use super::{
    RequestContext,
    cache::{Entry, PostCache},
    db::{self, Tx, posts},
    markdown,
};
use crate::{
    domain::{
        PostBody, PostStatus, PostTitle, Slug,
        audit::AuditAction,
        post::{EditablePost, PAGE_SIZE, PostPage, PostSummary, PostView, RenderedPost, RowPage},
    },
    error::AppError,
};

/// Characters of body text shown on list pages.
const EXCERPT_CHARS: usize = 240;
/// Pages beyond this are refused (offsets that large only cost the database).
const MAX_PAGE: u32 = 10_000;

fn render(post: &posts::Post) -> RenderedPost {
    RenderedPost {
        id: post.id,
        slug: post.slug.clone(),
        title: post.title.clone(),
        html: markdown::render(&post.body),
        author: post.author(),
        status: post.status(),
        published_at: post.published_at,
        updated_at: post.updated_at,
    }
}

/// Page `page` (from 1) of the public list. The same for every reader, so cached.
#[tracing::instrument(name = "posts.list", skip(ctx))]
pub async fn list(ctx: &RequestContext, page: u32) -> Result<PostPage, AppError> {
    let page = page.clamp(1, MAX_PAGE);
    let cached = PostCache::of(&ctx.state)
        .get_or_load(Entry::Page(page), || load_page(ctx, page))
        .await?;
    Ok(cached.unwrap_or(PostPage {
        page,
        posts: Vec::new(),
        has_next: false,
    }))
}

/// Loads a list page as `anon`. An empty page past the first is not worth caching.
async fn load_page(ctx: &RequestContext, page: u32) -> Result<Option<PostPage>, AppError> {
    let size = i64::from(PAGE_SIZE);
    let position = PostCache::of(&ctx.state).write_position().await;
    let mut tx = db::replica::begin_public_read(&ctx.state.db, position).await?;
    let mut rows = posts::published_page(&mut tx, size + 1, i64::from(page - 1) * size).await?;
    db::commit(tx).await?;
    let has_next = rows.len() as i64 > size;
    rows.truncate(PAGE_SIZE as usize);
    if rows.is_empty() && page > 1 {
        return Ok(None);
    }
    let posts = rows
        .iter()
        .map(|p| PostSummary {
            slug: p.slug.clone(),
            title: p.title.clone(),
            excerpt: markdown::excerpt(&p.body, EXCERPT_CHARS),
            author: p.author(),
            published_at: p.published_at,
        })
        .collect();
    Ok(Some(PostPage {
        page,
        posts,
        has_next,
    }))
}

/// A published post as `anon` sees it; this is what the cache holds.
async fn load_published(
    ctx: &RequestContext,
    slug: &str,
) -> Result<Option<RenderedPost>, AppError> {
    let position = PostCache::of(&ctx.state).write_position().await;
    let mut tx = db::replica::begin_public_read(&ctx.state.db, position).await?;
    let post = posts::published_by_slug(&mut tx, slug).await?;
    db::commit(tx).await?;
    Ok(post.as_ref().map(render))
}

/// The post page. Published posts come from the cache; anything else the reader may see (their
/// own draft, or any draft for an admin) is read as the reader, uncached.
#[tracing::instrument(name = "posts.get", skip(ctx), fields(user_id = ?ctx.actor.user_id()))]
pub async fn get(ctx: &RequestContext, slug: &str) -> Result<PostView, AppError> {
    let slug = Slug::parse(slug).map_err(|_| AppError::NotFound)?;
    let public = PostCache::of(&ctx.state)
        .get_or_load(Entry::Post(slug.as_ref()), || {
            load_published(ctx, slug.as_ref())
        })
        .await?;
    let post = match (public, ctx.actor.user_id()) {
        (Some(post), _) => post,
        (None, None) => return Err(AppError::NotFound),
        (None, Some(_)) => {
            let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
            let post = posts::by_slug(&mut tx, slug.as_ref()).await?;
            db::commit(tx).await?;
            post.as_ref().map(render).ok_or(AppError::NotFound)?
        }
    };
    let can_edit = ctx.actor.user_id() == Some(post.author.id);
    Ok(PostView { post, can_edit })
}

/// Rows per page of "My posts" and of the moderation list (rows carry no body).
const ROWS_PER_PAGE: u32 = PAGE_SIZE * 2;

/// Page `page` (from 1) of a list of rows, fetched by `load(limit, offset)`: one row more than
/// a page tells whether there is a next one.
async fn row_page<F>(page: u32, load: F) -> Result<RowPage, AppError>
where
    F: AsyncFnOnce(i64, i64) -> Result<Vec<posts::Listed>, AppError>,
{
    let page = page.clamp(1, MAX_PAGE);
    let size = i64::from(ROWS_PER_PAGE);
    let mut rows = load(size + 1, i64::from(page - 1) * size).await?;
    let has_next = rows.len() as i64 > size;
    rows.truncate(ROWS_PER_PAGE as usize);
    Ok(RowPage {
        page,
        rows: rows.iter().map(posts::Listed::row).collect(),
        has_next,
    })
}

/// Page `page` of the signed-in user's posts, drafts included, newest change first.
pub async fn mine(ctx: &RequestContext, page: u32) -> Result<RowPage, AppError> {
    ctx.actor.require_user()?;
    row_page(page, async |limit, offset| {
        let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
        let rows = posts::own_page(&mut tx, limit, offset).await?;
        db::commit(tx).await?;
        Ok(rows)
    })
    .await
}

/// A post with its markdown, for its author's edit form.
pub async fn editable(ctx: &RequestContext, slug: &str) -> Result<EditablePost, AppError> {
    let id = ctx.actor.require_user()?;
    let slug = Slug::parse(slug).map_err(|_| AppError::NotFound)?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let post = posts::by_slug(&mut tx, slug.as_ref()).await?;
    db::commit(tx).await?;
    let post = post.ok_or(AppError::NotFound)?;
    if post.author_id != id {
        return Err(AppError::Forbidden);
    }
    Ok(EditablePost {
        id: post.id,
        slug: post.slug,
        title: post.title,
        body: post.body,
        status: PostStatus::from_db(&post.status),
    })
}

/// The markdown as the post page would show it.
pub fn preview(body: &str) -> Result<String, AppError> {
    let body = PostBody::parse(body).map_err(|m| AppError::invalid("body", m))?;
    Ok(markdown::render(body.as_ref()))
}

fn parse(title: &str, body: &str) -> Result<(PostTitle, PostBody), AppError> {
    let title = PostTitle::parse(title).map_err(|m| AppError::invalid("title", m))?;
    let body = PostBody::parse(body).map_err(|m| AppError::invalid("body", m))?;
    Ok((title, body))
}

/// Creates a post for the signed-in user; returns its slug.
#[tracing::instrument(name = "posts.create", skip_all, fields(user_id = ?ctx.actor.user_id()))]
pub async fn create(
    ctx: &RequestContext,
    title: &str,
    body: &str,
    status: PostStatus,
) -> Result<Slug, AppError> {
    let author_id = ctx.actor.require_user()?;
    let (title, body) = parse(title, body)?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let new = posts::NewPost {
        author_id,
        title: &title,
        body: &body,
        status,
    };
    let (_, slug) = posts::insert(&mut tx, &new, &Slug::from_title(&title)).await?;
    db::commit(tx).await?;
    if status == PostStatus::Published {
        PostCache::of(&ctx.state).invalidate().await;
    }
    Ok(slug)
}

/// After a write touched no row: the post is either invisible to the actor or not theirs.
async fn refusal(mut tx: Tx, id: Uuid) -> AppError {
    match posts::visible(&mut tx, id).await {
        Ok(true) => AppError::Forbidden,
        Ok(false) => AppError::NotFound,
        Err(e) => e.into(),
    }
}

/// Invalidates the cache if the post is, or was, public.
async fn settle(
    ctx: &RequestContext,
    tx: Tx,
    id: Uuid,
    changed: Option<posts::Changed>,
    was_public: bool,
) -> Result<posts::Changed, AppError> {
    let Some(changed) = changed else {
        return Err(refusal(tx, id).await);
    };
    db::commit(tx).await?;
    if was_public || changed.status() == PostStatus::Published {
        PostCache::of(&ctx.state).invalidate().await;
    }
    Ok(changed)
}

#[tracing::instrument(name = "posts.update", skip_all, fields(user_id = ?ctx.actor.user_id(), post_id = %id))]
pub async fn update(
    ctx: &RequestContext,
    id: Uuid,
    title: &str,
    body: &str,
) -> Result<Slug, AppError> {
    ctx.actor.require_user()?;
    let (title, body) = parse(title, body)?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let changed = posts::update_content(&mut tx, id, &title, &body).await?;
    let changed = settle(ctx, tx, id, changed, false).await?;
    Slug::parse(&changed.slug).map_err(|_| AppError::Internal)
}

#[tracing::instrument(name = "posts.set_status", skip_all, fields(user_id = ?ctx.actor.user_id(), post_id = %id))]
pub async fn set_status(
    ctx: &RequestContext,
    id: Uuid,
    status: PostStatus,
) -> Result<Slug, AppError> {
    ctx.actor.require_user()?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let changed = posts::set_status(&mut tx, id, status).await?;
    // Unpublishing makes a public post private: always invalidate.
    let changed = settle(ctx, tx, id, changed, true).await?;
    Slug::parse(&changed.slug).map_err(|_| AppError::Internal)
}

#[tracing::instrument(name = "posts.delete", skip_all, fields(user_id = ?ctx.actor.user_id(), post_id = %id))]
pub async fn delete(ctx: &RequestContext, id: Uuid) -> Result<(), AppError> {
    ctx.actor.require_user()?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    let changed = posts::delete(&mut tx, id).await?;
    settle(ctx, tx, id, changed, false).await?;
    Ok(())
}

/// Opens a transaction as the actor and checks the database made it `admin`.
async fn begin_admin(ctx: &RequestContext) -> Result<Tx, AppError> {
    ctx.actor.require_user()?;
    let mut tx = db::begin_as(&ctx.state.db, &ctx.actor).await?;
    if !db::is_admin(&mut tx).await? {
        return Err(AppError::Forbidden);
    }
    if let Some(user) = ctx.actor.user_id()
        && super::admin::lacks_required_factor(ctx, user).await?
    {
        return Err(AppError::Forbidden);
    }
    Ok(tx)
}

/// Every post, drafts included, for the moderation page. Admins only.
pub async fn moderation_list(ctx: &RequestContext, page: u32) -> Result<RowPage, AppError> {
    row_page(page, async |limit, offset| {
        let mut tx = begin_admin(ctx).await?;
        let rows = posts::all_page(&mut tx, limit, offset).await?;
        db::commit(tx).await?;
        Ok(rows)
    })
    .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moderation {
    Unpublish,
    Delete,
}

/// An admin unpublishes or deletes any post; recorded in the audit log in the same
/// transaction.
#[tracing::instrument(name = "posts.moderate", skip(ctx), fields(user_id = ?ctx.actor.user_id()))]
pub async fn moderate(ctx: &RequestContext, id: Uuid, what: Moderation) -> Result<(), AppError> {
    let mut tx = begin_admin(ctx).await?;
    ctx.require_fresh_aal2().await?;
    let (changed, action) = match what {
        Moderation::Unpublish => (
            posts::unpublish_any(&mut tx, id).await?,
            AuditAction::PostUnpublished,
        ),
        Moderation::Delete => (
            posts::delete_any(&mut tx, id).await?,
            AuditAction::PostDeleted,
        ),
    };
    let Some(changed) = changed else {
        return Err(AppError::NotFound);
    };
    ctx.audit(
        &mut tx,
        action,
        ctx.actor.user_id(),
        Some(changed.author_id),
        serde_json::json!({
            "post_id": id,
            "slug": changed.slug,
            "title": changed.title,
        }),
    )
    .await?;
    db::commit(tx).await?;
    PostCache::of(&ctx.state).invalidate().await;
    Ok(())
}
