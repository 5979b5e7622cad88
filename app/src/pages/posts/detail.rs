//! `/posts/{slug}`: a post. Published posts for everyone; drafts only for their author (and
//! admins). The author also gets the edit, publish/unpublish and delete controls.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_params_map};

use super::{Byline, error_view};
use crate::{
    api::posts::{DeletePost, PublishPost, UnpublishPost, get_post},
    components::forms::{FormError, Notice, action_error},
    domain::{PostStatus, post::PostView},
    error::AppError,
    pages::not_found::NotFound,
};

#[component]
pub fn PostPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let publish = ServerAction::<PublishPost>::new();
    let unpublish = ServerAction::<UnpublishPost>::new();
    let delete = ServerAction::<DeletePost>::new();
    let post = Resource::new_blocking(
        move || (slug(), publish.version().get(), unpublish.version().get()),
        |(slug, _, _)| get_post(slug),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match post.await {
                    Ok(view) => view! { <Article view publish unpublish delete /> }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(e) => error_view(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn Article(
    view: PostView,
    publish: ServerAction<PublishPost>,
    unpublish: ServerAction<UnpublishPost>,
    delete: ServerAction<DeletePost>,
) -> impl IntoView {
    let PostView { post, can_edit } = view;
    let draft = post.status == PostStatus::Draft;
    if !draft {
        crate::pages::shareable_when_anonymous();
    }
    view! {
        <Title text=post.title.clone() />
        <Notice key="saved" value="draft">"Saved as a draft: only you can see it."</Notice>
        <Notice key="saved" value="published">"Published."</Notice>
        <Notice key="saved" value="edited">"Changes saved."</Notice>
        <Notice key="saved" value="unpublished">"Unpublished: it is a draft again."</Notice>
        <article class="post" data-testid="post" data-status=post.status.as_str()>
            <header class="post__header">
                <h1 data-testid="post-title">{post.title.clone()}</h1>
                <Byline author=post.author.name().to_string() published_at=post.published_at />
            </header>
            {draft.then(|| view! {
                <p class="callout" data-testid="draft-notice">
                    "This is a draft. Nobody else can see it until it is published."
                </p>
            })}
            // Rendered from markdown and sanitized on the server (ammonia): safe as is.
            <div class="prose" data-testid="post-body" inner_html=post.html.clone()></div>
        </article>
        {can_edit.then(|| view! {
            <AuthorControls id=post.id.to_string() slug=post.slug.clone() draft publish unpublish delete />
        })}
        <p><A href="/posts">"← All posts"</A></p>
    }
}

#[component]
fn AuthorControls(
    id: String,
    slug: String,
    draft: bool,
    publish: ServerAction<PublishPost>,
    unpublish: ServerAction<UnpublishPost>,
    delete: ServerAction<DeletePost>,
) -> impl IntoView {
    let publish_error = action_error(publish);
    let unpublish_error = action_error(unpublish);
    let delete_error = action_error(delete);
    let toggle_id = id.clone();
    let toggle = if draft {
        view! {
            <ActionForm action=publish attr:class="inline">
                <input type="hidden" name="id" value=toggle_id />
                <button class="button" type="submit" data-testid="publish">"Publish"</button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=unpublish attr:class="inline">
                <input type="hidden" name="id" value=toggle_id />
                <button class="button button--secondary" type="submit" data-testid="unpublish">"Unpublish"</button>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section class="post-actions" aria-label="Your post">
            <div class="row">
                <A href=format!("/posts/{slug}/edit") attr:class="button button--secondary" attr:data-testid="edit">"Edit"</A>
                {toggle}
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button class="button button--danger" type="submit" data-testid="delete">"Delete"</button>
                </ActionForm>
            </div>
            <FormError error=publish_error />
            <FormError error=unpublish_error />
            <FormError error=delete_error />
        </section>
    }
}
