//! Server functions of the posts pages and of the posts moderation page. Writes answer with a
//! redirect, so plain form posts (before the wasm loads) land on the right page too.
use leptos::prelude::*;

use crate::{
    domain::post::{EditablePost, PostPage, PostView, RowPage},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::{
    domain::PostStatus,
    ssr::{posts_service, serve},
};

/// The form's hidden `id`, as a post id.
#[cfg(feature = "ssr")]
fn post_id(id: &str) -> Result<uuid::Uuid, AppError> {
    id.trim().parse().map_err(|_| AppError::NotFound)
}

/// Page `page` (from 1) of published posts, newest first.
#[server(endpoint = "posts/list")]
pub async fn list_posts(#[server(default)] page: Option<u32>) -> Result<PostPage, AppError> {
    serve(async |ctx| posts_service::list(&ctx, page.unwrap_or(1)).await).await
}

#[server(endpoint = "posts/get")]
pub async fn get_post(slug: String) -> Result<PostView, AppError> {
    serve(async |ctx| posts_service::get(&ctx, &slug).await).await
}

/// Page `page` (from 1) of the signed-in user's posts, drafts included, without bodies.
#[server(endpoint = "posts/mine")]
pub async fn my_posts(#[server(default)] page: Option<u32>) -> Result<RowPage, AppError> {
    serve(async |ctx| posts_service::mine(&ctx, page.unwrap_or(1)).await).await
}

#[server(endpoint = "posts/editable")]
pub async fn post_for_editing(slug: String) -> Result<EditablePost, AppError> {
    serve(async |ctx| posts_service::editable(&ctx, &slug).await).await
}

/// The body rendered and sanitized exactly as the post page will show it.
#[server(endpoint = "posts/preview")]
pub async fn preview_post(body: String) -> Result<String, AppError> {
    serve(async |_ctx| posts_service::preview(&body)).await
}

/// `intent`: `publish`, or anything else for a draft.
#[server(endpoint = "posts/create")]
pub async fn create_post(
    title: String,
    body: String,
    #[server(default)] intent: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let status = PostStatus::from_intent(intent.as_deref());
        let slug = posts_service::create(&ctx, &title, &body, status).await?;
        super::redirect(&format!("/posts/{slug}?saved={}", status.as_str()));
        Ok(())
    })
    .await
}

#[server(endpoint = "posts/update")]
pub async fn update_post(id: String, title: String, body: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let slug = posts_service::update(&ctx, post_id(&id)?, &title, &body).await?;
        super::redirect(&format!("/posts/{slug}?saved=edited"));
        Ok(())
    })
    .await
}

#[server(endpoint = "posts/publish")]
pub async fn publish_post(
    id: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let slug = posts_service::set_status(&ctx, post_id(&id)?, PostStatus::Published).await?;
        super::redirect_or(next.as_deref(), &format!("/posts/{slug}?saved=published"));
        Ok(())
    })
    .await
}

#[server(endpoint = "posts/unpublish")]
pub async fn unpublish_post(
    id: String,
    #[server(default)] next: Option<String>,
) -> Result<(), AppError> {
    serve(async |ctx| {
        let slug = posts_service::set_status(&ctx, post_id(&id)?, PostStatus::Draft).await?;
        super::redirect_or(next.as_deref(), &format!("/posts/{slug}?saved=unpublished"));
        Ok(())
    })
    .await
}

#[server(endpoint = "posts/delete")]
pub async fn delete_post(id: String) -> Result<(), AppError> {
    serve(async |ctx| {
        posts_service::delete(&ctx, post_id(&id)?).await?;
        super::redirect("/posts/mine?saved=deleted");
        Ok(())
    })
    .await
}

/// Every post, drafts included (admins only: 403 otherwise, and RLS besides).
#[server(endpoint = "admin/posts/list")]
pub async fn moderation_posts(#[server(default)] page: Option<u32>) -> Result<RowPage, AppError> {
    serve(async |ctx| posts_service::moderation_list(&ctx, page.unwrap_or(1)).await).await
}

#[server(endpoint = "admin/posts/unpublish")]
pub async fn moderate_unpublish(id: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let what = posts_service::Moderation::Unpublish;
        posts_service::moderate(&ctx, post_id(&id)?, what).await?;
        super::redirect("/admin/posts?saved=unpublished");
        Ok(())
    })
    .await
}

#[server(endpoint = "admin/posts/delete")]
pub async fn moderate_delete(id: String) -> Result<(), AppError> {
    serve(async |ctx| {
        let what = posts_service::Moderation::Delete;
        posts_service::moderate(&ctx, post_id(&id)?, what).await?;
        super::redirect("/admin/posts?saved=deleted");
        Ok(())
    })
    .await
}
