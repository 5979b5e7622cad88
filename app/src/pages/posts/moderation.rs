//! `/admin/posts` (inside the admin layout): every post, drafts included, and the admin's
//! unpublish and delete. The server answers 403 to anyone else, and the database would refuse
//! them anyway.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::{StatusBadge, date, page_number};
use crate::{
    api::posts::{ModerateDelete, ModerateUnpublish, moderation_posts},
    components::forms::{FormError, Notice, action_error},
    domain::{PostStatus, post::PostRow},
    pages::admin::load_error,
};

#[component]
pub fn PostModerationPage() -> impl IntoView {
    let page = page_number();
    let unpublish = ServerAction::<ModerateUnpublish>::new();
    let delete = ServerAction::<ModerateDelete>::new();
    let rows = Resource::new_blocking(
        move || (page(), unpublish.version().get(), delete.version().get()),
        |(page, _, _)| moderation_posts(Some(page)),
    );
    let unpublish_error = action_error(unpublish);
    let delete_error = action_error(delete);
    view! {
        <Title text="Posts · Admin" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Ok(list) => {
                        let n = list.page;
                        let more = list.has_next;
                        view! {
                            <header class="page-header">
                                <h1>"Posts"</h1>
                                <p class="muted">"Every post, drafts included. Unpublishing and deleting are recorded in the audit log."</p>
                            </header>
                            <Notice key="saved" value="unpublished">"Post unpublished."</Notice>
                            <Notice key="saved" value="deleted">"Post deleted."</Notice>
                            <FormError error=unpublish_error />
                            <FormError error=delete_error />
                            <div class="table-wrap">
                            <table class="admin-table" data-testid="moderation">
                                <thead><tr><th>"Title"</th><th>"Author"</th><th>"Status"</th><th>"Updated"</th><th></th></tr></thead>
                                <tbody>
                                    {list.rows.into_iter().map(|row| view! { <ModerationRow row unpublish delete /> }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="pager" aria-label="Pages">
                                {(n > 1).then(|| view! { <A href=format!("/admin/posts?page={}", n - 1)>"← Newer"</A> })}
                                <span class="muted">"Page " {n}</span>
                                {more.then(|| view! { <A href=format!("/admin/posts?page={}", n + 1)>"Older →"</A> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => load_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn ModerationRow(
    row: PostRow,
    unpublish: ServerAction<ModerateUnpublish>,
    delete: ServerAction<ModerateDelete>,
) -> impl IntoView {
    let id = row.id.to_string();
    let unpublish_id = id.clone();
    view! {
        <tr data-slug=row.slug.clone()>
            <td><A href=format!("/posts/{}", row.slug)>{row.title}</A></td>
            <td>{row.author.name().to_string()} " " <span class="muted">"@" {row.author.username.clone()}</span></td>
            <td><StatusBadge status=row.status /></td>
            <td class="muted">{date(row.updated_at)}</td>
            <td class="table__actions">
                {(row.status == PostStatus::Published).then(|| view! {
                    <ActionForm action=unpublish attr:class="inline">
                        <input type="hidden" name="id" value=unpublish_id />
                        <button class="link-button" type="submit">"Unpublish"</button>
                    </ActionForm>
                })}
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button class="link-button link-button--danger" type="submit">"Delete"</button>
                </ActionForm>
            </td>
        </tr>
    }
}
