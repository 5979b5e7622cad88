//! `/admin/users` (search and list) and `/admin/users/{id}` (details and actions).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Form},
    hooks::{use_params_map, use_query_map},
};
use uuid::Uuid;

use super::{AuditTable, ForAdmins, load_error, maybe_when, query_string, when};
use crate::{
    api::admin::{
        BanUser, ResendUserVerification, SetUserRole, SignOutUser, UnbanUser, get_user, list_users,
    },
    components::forms::{FormError, Notice, action_error},
    domain::admin::{BanDuration, Role, UserDetail, UserPage, UserSummary},
    error::AppError,
};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    let after = move || query.with(|m| m.get("after"));
    let page = Resource::new_blocking(move || (q(), after()), |(q, after)| list_users(q, after));
    view! {
        <Title text="Users · Admin" />
        <ForAdmins>
            <header class="page-header">
                <h1>"Users"</h1>
                <p class="muted">"Newest first. Times are UTC."</p>
            </header>
            <Form method="GET" action="/admin/users" attr:class="admin-search" attr:role="search">
                <label for="q">"Find a user"</label>
                <input id="q" type="search" name="q" value=q placeholder="Email or username, or part of it" />
                <button class="button" type="submit">"Search"</button>
            </Form>
        </ForAdmins>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <UserTable page q=q() first=after().is_none() /> }.into_any(),
                    Err(e) => load_error(e),
                }
            })}
        </Transition>
    }
}

/// The account's state, and until when (for a ban).
fn status(user: &UserSummary) -> (&'static str, Option<String>) {
    if user.banned {
        (
            "Banned",
            user.banned_until.map(|t| format!("until {}", when(t))),
        )
    } else if user.email_confirmed_at.is_none() {
        ("Unconfirmed", None)
    } else {
        ("Active", None)
    }
}

#[component]
fn UserTable(page: UserPage, q: String, first: bool) -> impl IntoView {
    let older = page.next.map(|next| {
        format!(
            "/admin/users{}",
            query_string(&[("q", &q), ("after", &next)])
        )
    });
    let newest = format!("/admin/users{}", query_string(&[("q", &q)]));
    let empty = page.users.is_empty();
    view! {
        {empty.then(|| view! { <p class="muted">"No users match."</p> })}
        <div class="table-wrap" class:hidden=empty>
            <table class="admin-table" data-testid="users">
                <thead>
                    <tr>
                        <th>"Email"</th>
                        <th>"Username"</th>
                        <th>"Role"</th>
                        <th>"Status"</th>
                        <th>"Last sign-in"</th>
                        <th>"Joined"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .users
                        .into_iter()
                        .map(|u| {
                            let (status, until) = status(&u);
                            view! {
                                <tr>
                                    <td><A href=format!("/admin/users/{}", u.id)>{u.email}</A></td>
                                    <td>{u.username}</td>
                                    <td>{u.role}</td>
                                    <td>
                                        {status}
                                        {until.map(|u| view! { <div class="details">{u}</div> })}
                                    </td>
                                    <td class="nowrap">{maybe_when(u.last_sign_in_at, "never")}</td>
                                    <td class="nowrap">{when(u.created_at)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {(!first).then(|| view! { <A href=newest>"← Newest"</A> })}
            {older.map(|href| view! { <A href=href attr:rel="next">"Older →"</A> })}
        </nav>
    }
}

#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| Uuid::parse_str(&s).ok()));
    let actions = Actions {
        role: ServerAction::new(),
        ban: ServerAction::new(),
        unban: ServerAction::new(),
        sign_out: ServerAction::new(),
        resend: ServerAction::new(),
    };
    let version = move || {
        actions.role.version().get()
            + actions.ban.version().get()
            + actions.unban.version().get()
            + actions.sign_out.version().get()
            + actions.resend.version().get()
    };
    let detail = Resource::new_blocking(
        move || (id(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="User · Admin" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <UserSections detail actions /> }.into_any(),
                    Err(e) => load_error(e),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    role: ServerAction<SetUserRole>,
    ban: ServerAction<BanUser>,
    unban: ServerAction<UnbanUser>,
    sign_out: ServerAction<SignOutUser>,
    resend: ServerAction<ResendUserVerification>,
}

#[component]
fn UserSections(detail: UserDetail, actions: Actions) -> impl IntoView {
    let UserDetail {
        user,
        recent,
        sessions,
        is_self,
    } = detail;
    let id = user.id.to_string();
    let sessions = match sessions {
        Some(list) if list.is_empty() => "Not signed in anywhere".to_string(),
        Some(list) => format!("Signed in on {} device(s)", list.len()),
        None => "Unknown (the session store did not answer)".into(),
    };
    let audit_href = format!("/admin/audit{}", query_string(&[("target", &id)]));
    view! {
        <header class="page-header">
            <p class="muted"><A href="/admin/users">"← Users"</A></p>
            <h1>{user.username.clone()}</h1>
            <p class="muted">"Times are UTC."</p>
        </header>
        <Notice key="done" value="role">"Role changed. They were signed out everywhere; their next sign-in carries the new role."</Notice>
        <Notice key="done" value="banned">"Banned. They were signed out everywhere and cannot sign in until the ban ends."</Notice>
        <Notice key="done" value="unbanned">"Unbanned. They can sign in again."</Notice>
        <Notice key="done" value="signed-out">"Signed out everywhere."</Notice>
        <Notice key="done" value="resent">"A new verification email is on its way."</Notice>
        <div class="stack">
            <section class="card" aria-labelledby="account-h">
                <h2 id="account-h">"Account"</h2>
                <dl class="facts">
                    <dt>"Email"</dt>
                    <dd data-testid="user-email">{user.email.clone()}</dd>
                    <dt>"Username"</dt>
                    <dd>{user.username.clone()}</dd>
                    <dt>"Display name"</dt>
                    <dd>{user.display_name.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Role"</dt>
                    <dd data-testid="user-role">{user.role.clone()}</dd>
                    <dt>"Email confirmed"</dt>
                    <dd>{maybe_when(user.email_confirmed_at, "No")}</dd>
                    <dt>"Banned until"</dt>
                    <dd data-testid="user-banned">
                        {if user.banned { maybe_when(user.banned_until, "") } else { "Not banned".into() }}
                    </dd>
                    <dt>"Last sign-in"</dt>
                    <dd>{maybe_when(user.last_sign_in_at, "Never")}</dd>
                    <dt>"Joined"</dt>
                    <dd>{when(user.created_at)}</dd>
                    <dt>"Sessions"</dt>
                    <dd>{sessions}</dd>
                </dl>
            </section>
            <ActionsCard user=user.clone() is_self actions />
            <super::factors::ResetFactorsCard id=user.id is_self />
            <section class="card" aria-labelledby="activity-h">
                <h2 id="activity-h">"Recent activity"</h2>
                <AuditTable entries=recent />
                <p><A href=audit_href>"All audit entries about this user"</A></p>
            </section>
        </div>
    }
}

#[component]
fn ActionsCard(user: UserSummary, is_self: bool, actions: Actions) -> impl IntoView {
    // Copy, so every form's (moved) children can have it.
    let id = user.id;
    let role_error = action_error(actions.role);
    let ban_error = action_error(actions.ban);
    let unban_error = action_error(actions.unban);
    let sign_out_error = action_error(actions.sign_out);
    let resend_error = action_error(actions.resend);
    let is_admin = user.role == Role::Admin.as_str();
    view! {
        <section class="card" aria-labelledby="actions-h">
            <h2 id="actions-h">"Actions"</h2>
            {is_self.then(|| view! {
                <p class="muted">"This is your own account: another admin can change its role or ban it."</p>
            })}
            {(!is_self).then(|| view! {
                <ActionForm action=actions.role attr:class="admin-action">
                    <input type="hidden" name="id" value=id.to_string() />
                    <label for="role">"Role"</label>
                    <select id="role" name="role">
                        <option value=Role::User.as_str() selected=!is_admin>{Role::User.as_str()}</option>
                        <option value=Role::Admin.as_str() selected=is_admin>{Role::Admin.as_str()}</option>
                    </select>
                    <button class="button button--secondary" type="submit">"Change role"</button>
                </ActionForm>
                <FormError error=role_error />
                <ActionForm action=actions.ban attr:class="admin-action">
                    <input type="hidden" name="id" value=id.to_string() />
                    <label for="duration">"Ban for"</label>
                    <select id="duration" name="duration">
                        {BanDuration::ALL
                            .into_iter()
                            .map(|d| view! { <option value=d.as_str() selected=d == BanDuration::Day>{d.label()}</option> })
                            .collect_view()}
                    </select>
                    <button class="button button--danger" type="submit">"Ban"</button>
                </ActionForm>
                <FormError error=ban_error />
            })}
            {user.banned.then(|| view! {
                <ActionForm action=actions.unban attr:class="admin-action">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button class="button button--secondary" type="submit">"Unban"</button>
                </ActionForm>
                <FormError error=unban_error />
            })}
            <ActionForm action=actions.sign_out attr:class="admin-action">
                <input type="hidden" name="id" value=id.to_string() />
                <button class="button button--secondary" type="submit">"Sign out everywhere"</button>
            </ActionForm>
            <FormError error=sign_out_error />
            {user.email_confirmed_at.is_none().then(|| view! {
                <ActionForm action=actions.resend attr:class="admin-action">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button class="button button--secondary" type="submit">"Resend verification email"</button>
                </ActionForm>
                <FormError error=resend_error />
            })}
        </section>
    }
}
