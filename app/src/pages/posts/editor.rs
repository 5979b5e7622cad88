//! `/posts/new` and `/posts/{slug}/edit`: title and markdown body, a server-rendered preview
//! (after hydration), and save as draft / publish. Refusals show next to their field.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::use_params_map,
};

use super::{StatusBadge, error_view};
use crate::{
    api::{
        auth::signed_in,
        posts::{CreatePost, PreviewPost, UpdatePost, post_for_editing},
    },
    components::{
        forms::{FieldError, FormError, action_error},
        raw_text::server_escaped,
    },
    domain::{
        post::EditablePost,
        redirect::{encode_query_value, local_path_or},
    },
    error::AppError,
    pages::not_found::NotFound,
};

#[component]
pub fn NewPostPage() -> impl IntoView {
    let signed_in = Resource::new_blocking(|| (), |_| signed_in());
    view! {
        <Title text="New post" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match signed_in.await {
                    Ok(true) => view! { <NewPostForm /> }.into_any(),
                    Ok(false) => view! { <Redirect path="/signin?next=/posts/new" /> }.into_any(),
                    Err(e) => error_view(e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewPostForm() -> impl IntoView {
    let action = ServerAction::<CreatePost>::new();
    let error = action_error(action);
    view! {
        <header class="page-header">
            <h1>"New post"</h1>
            <p class="muted">"Drafts are yours alone until you publish them."</p>
        </header>
        <ActionForm action=action attr:class="form editor" attr:novalidate=true>
            <PostFields title=String::new() body=String::new() error />
            <FormError error fields=&["title", "body"] />
            <div class="row">
                <button class="button button--secondary" type="submit" name="intent" value="draft"
                    data-testid="save-draft">"Save draft"</button>
                <button class="button" type="submit" name="intent" value="publish"
                    data-testid="publish-now">"Publish"</button>
            </div>
        </ActionForm>
    }
}

#[component]
pub fn EditPostPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let post = Resource::new_blocking(slug, post_for_editing);
    view! {
        <Title text="Edit post" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match post.await {
                    Ok(post) => view! { <EditPostForm post /> }.into_any(),
                    Err(AppError::Unauthorized) => {
                        let back = encode_query_value(&format!("/posts/{}/edit", slug()));
                        let to = local_path_or(Some(&format!("/signin?next={back}")), "/signin");
                        view! { <Redirect path=to /> }.into_any()
                    }
                    Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                    Err(AppError::Forbidden) => view! {
                        <section class="notice">
                            <h1>"This is not your post"</h1>
                            <p>"Only its author can edit it."</p>
                        </section>
                    }
                    .into_any(),
                    Err(e) => error_view(e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EditPostForm(post: EditablePost) -> impl IntoView {
    let action = ServerAction::<UpdatePost>::new();
    let error = action_error(action);
    let back = format!("/posts/{}", post.slug);
    let (address, cancel) = (back.clone(), back.clone());
    view! {
        <header class="page-header">
            <h1>"Edit post" <StatusBadge status=post.status /></h1>
            <p class="muted">"Address: " <A href=back>{address}</A></p>
        </header>
        <ActionForm action=action attr:class="form editor" attr:novalidate=true>
            <input type="hidden" name="id" value=post.id.to_string() />
            <PostFields title=post.title body=post.body error />
            <FormError error fields=&["title", "body"] />
            <div class="row">
                <button class="button" type="submit" data-testid="save">"Save changes"</button>
                <A href=cancel attr:class="button button--secondary">"Cancel"</A>
            </div>
        </ActionForm>
    }
}

/// The title and body inputs, their errors, and the preview.
#[component]
fn PostFields(title: String, body: String, error: Signal<Option<AppError>>) -> impl IntoView {
    let source = RwSignal::new(body.clone());
    let preview = ServerAction::<PreviewPost>::new();
    view! {
        <label for="title">"Title"</label>
        <input id="title" name="title" value=title required maxlength="200" autocomplete="off" />
        <FieldError error field="title" />
        <label for="body">"Body " <span class="muted">"(Markdown)"</span></label>
        <textarea id="body" name="body" rows="16" required
            on:input=move |ev| source.set(event_target_value(&ev))>{server_escaped(body)}</textarea>
        <FieldError error field="body" />
        <div class="row">
            <button class="button button--secondary button--small" type="button" data-testid="preview"
                on:click=move |_| {
                    preview.dispatch(PreviewPost { body: source.get_untracked() });
                }>
                "Preview"
            </button>
        </div>
        {move || preview.value().get().map(|rendered| match rendered {
            Ok(html) => view! {
                <div class="preview">
                    <p class="muted">"Preview"</p>
                    <div class="prose" data-testid="preview-body" inner_html=html></div>
                </div>
            }.into_any(),
            Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
    }
}
