//! `/posts?page=N`: published posts, newest first, ten a page; and the home page's list of the
//! newest ones. Offset pagination by page number: the same URL shows the same page to every
//! reader, which is what lets the cache hold it.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{Byline, error_view, page_number};
use crate::{
    api::posts::list_posts,
    domain::post::{PostPage, PostSummary},
};

#[component]
pub fn PostsPage() -> impl IntoView {
    let page = page_number();
    let posts = Resource::new_blocking(page, |page| list_posts(Some(page)));
    view! {
        <Title text="Posts" />
        <header class="page-header">
            <h1>"Posts"</h1>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match posts.await {
                    Ok(page) => view! { <PostList page=page.clone() /> <Pager page /> }.into_any(),
                    Err(e) => error_view(e),
                }
            })}
        </Transition>
    }
}

/// The newest published posts, for the home page.
#[component]
pub fn LatestPosts() -> impl IntoView {
    let posts = Resource::new_blocking(|| (), |_| list_posts(Some(1)));
    view! {
        <section class="latest-posts" aria-labelledby="latest-h">
            <h2 id="latest-h">"Latest posts"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match posts.await {
                        Ok(page) => {
                            let more = page.has_next;
                            view! {
                                <PostList page />
                                {more.then(|| view! { <p><A href="/posts?page=2">"Older posts →"</A></p> })}
                            }
                            .into_any()
                        }
                        Err(e) => error_view(e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn PostList(page: PostPage) -> impl IntoView {
    // Shown only once the list has loaded: an error is never shared.
    crate::pages::shareable_when_anonymous();
    if page.posts.is_empty() {
        return view! { <p class="muted" data-testid="no-posts">"No posts here yet."</p> }
            .into_any();
    }
    view! {
        <ul class="post-list" data-testid="post-list">
            {page.posts.into_iter().map(|post| view! { <PostItem post /> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn PostItem(post: PostSummary) -> impl IntoView {
    let href = format!("/posts/{}", post.slug);
    view! {
        <li class="post-item">
            <h3><A href=href>{post.title}</A></h3>
            <Byline author=post.author.name().to_string() published_at=post.published_at />
            <p class="post-item__excerpt">{post.excerpt}</p>
        </li>
    }
}

#[component]
fn Pager(page: PostPage) -> impl IntoView {
    let n = page.page;
    view! {
        <nav class="pager" aria-label="Pages">
            {(n > 1).then(|| view! { <A href=format!("/posts?page={}", n - 1)>"← Newer"</A> })}
            <span class="muted">"Page " {n}</span>
            {page.has_next.then(|| view! { <A href=format!("/posts?page={}", n + 1)>"Older →"</A> })}
        </nav>
    }
}
