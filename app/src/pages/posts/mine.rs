//! `/posts/mine`: the signed-in user's posts, drafts included, with their controls.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};

use super::{StatusBadge, date, error_view, page_number};
use crate::{
    api::posts::{DeletePost, PublishPost, UnpublishPost, my_posts},
    components::forms::{FormError, Notice, action_error},
    domain::{PostStatus, post::PostRow},
    error::AppError,
};

const HERE: &str = "/posts/mine";

#[derive(Clone, Copy)]
struct Actions {
    publish: ServerAction<PublishPost>,
    unpublish: ServerAction<UnpublishPost>,
    delete: ServerAction<DeletePost>,
}

#[component]
pub fn MyPostsPage() -> impl IntoView {
    let page = page_number();
    let actions = Actions {
        publish: ServerAction::new(),
        unpublish: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let posts = Resource::new_blocking(
        move || {
            (
                page(),
                actions.publish.version().get(),
                actions.unpublish.version().get(),
                actions.delete.version().get(),
            )
        },
        |(page, ..)| my_posts(Some(page)),
    );
    let publish_error = action_error(actions.publish);
    let unpublish_error = action_error(actions.unpublish);
    let delete_error = action_error(actions.delete);
    view! {
        <Title text="My posts" />
        <header class="page-header row row--spread">
            <h1>"My posts"</h1>
            <A href="/posts/new" attr:class="button">"Write a post"</A>
        </header>
        <Notice key="saved" value="deleted">"Post deleted."</Notice>
        <FormError error=publish_error />
        <FormError error=unpublish_error />
        <FormError error=delete_error />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match posts.await {
                    Ok(list) if list.rows.is_empty() && list.page == 1 => view! {
                        <p class="muted">"You have not written anything yet."</p>
                    }.into_any(),
                    Ok(list) => {
                        let (n, more) = (list.page, list.has_next);
                        view! {
                            <table class="table" data-testid="my-posts">
                                <thead><tr><th>"Title"</th><th>"Status"</th><th>"Updated"</th><th></th></tr></thead>
                                <tbody>
                                    {list.rows.into_iter().map(|row| view! { <MyRow row actions /> }).collect_view()}
                                </tbody>
                            </table>
                            <nav class="pager" aria-label="Pages">
                                {(n > 1).then(|| view! { <A href=format!("{HERE}?page={}", n - 1)>"← Newer"</A> })}
                                <span class="muted">"Page " {n}</span>
                                {more.then(|| view! { <A href=format!("{HERE}?page={}", n + 1)>"Older →"</A> })}
                            </nav>
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => view! { <Redirect path="/signin?next=/posts/mine" /> }.into_any(),
                    Err(e) => error_view(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn MyRow(row: PostRow, actions: Actions) -> impl IntoView {
    let id = row.id.to_string();
    let toggle_id = id.clone();
    let toggle = match row.status {
        PostStatus::Draft => view! {
            <ActionForm action=actions.publish attr:class="inline">
                <input type="hidden" name="id" value=toggle_id />
                <input type="hidden" name="next" value=HERE />
                <button class="link-button" type="submit">"Publish"</button>
            </ActionForm>
        }
        .into_any(),
        PostStatus::Published => view! {
            <ActionForm action=actions.unpublish attr:class="inline">
                <input type="hidden" name="id" value=toggle_id />
                <input type="hidden" name="next" value=HERE />
                <button class="link-button" type="submit">"Unpublish"</button>
            </ActionForm>
        }
        .into_any(),
    };
    view! {
        <tr data-slug=row.slug.clone()>
            <td><A href=format!("/posts/{}", row.slug)>{row.title}</A></td>
            <td><StatusBadge status=row.status /></td>
            <td class="muted">{date(row.updated_at)}</td>
            <td class="table__actions">
                <A href=format!("/posts/{}/edit", row.slug)>"Edit"</A>
                {toggle}
                <ActionForm action=actions.delete attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button class="link-button link-button--danger" type="submit">"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
