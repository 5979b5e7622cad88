//! `/account`: profile, password, email, second factors, passkeys, sessions and account
//! deletion.
pub mod factors;
mod passkeys;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::{
    api::account::{
        ChangeEmail, ChangePassword, DeleteAccount, RevokeSessions, UpdateProfile, get_account,
        list_sessions,
    },
    components::{
        forms::{FieldError, FormError, NewPassword, Notice, action_error},
        raw_text::server_escaped,
    },
    domain::{session::SessionInfo, user::Account},
    error::AppError,
};

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new_blocking(|| (), |_| get_account());
    view! {
        <Title text="Your account" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => view! { <AccountSections account /> }.into_any(),
                    Err(AppError::Unauthorized) => {
                        view! { <Redirect path="/signin?next=/account" /> }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AccountSections(account: Account) -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>"Your account"</h1>
            <p class="muted" data-testid="account-email">{account.email.clone()}</p>
        </header>
        <Notice key="saved" value="profile">"Profile saved."</Notice>
        <Notice key="saved" value="password">"Password changed. Your other sessions were signed out."</Notice>
        <Notice key="saved" value="email">"Check your new inbox: the change takes effect when you follow the link we sent there."</Notice>
        <Notice key="saved" value="email-confirmed">"Your email address was changed."</Notice>
        <Notice key="saved" value="sessions">"Sessions updated."</Notice>
        <Notice key="saved" value="passkey-added">"Passkey added. You can sign in with it now."</Notice>
        <Notice key="saved" value="passkeys">"Passkeys updated."</Notice>
        <Notice key="need" value="second-factor">"Admins need a second factor: add an authenticator app below to use the admin area."</Notice>
        <Notice key="saved" value="factor">"Your new second factor is ready."</Notice>
        <Notice key="saved" value="factor-removed">"The second factor was removed."</Notice>
        <div class="stack">
            <ProfileForm account=account.clone() />
            <PasswordForm email=account.email.clone() />
            <EmailForm />
            <factors::TwoFactorSection />
            <passkeys::Passkeys />
            <Sessions />
            <DeleteForm />
        </div>
    }
}

#[component]
fn ProfileForm(account: Account) -> impl IntoView {
    let action = ServerAction::<UpdateProfile>::new();
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="profile-h">
            <h2 id="profile-h">"Profile"</h2>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="username">"Username"</label>
                <input id="username" name="username" value=account.username required
                    minlength="3" maxlength="32" autocomplete="nickname" />
                <FieldError error field="username" />
                <label for="display_name">"Display name"</label>
                <input id="display_name" name="display_name"
                    value=account.display_name.unwrap_or_default() maxlength="64" autocomplete="name" />
                <FieldError error field="display_name" />
                <label for="bio">"Bio"</label>
                <textarea id="bio" name="bio" rows="4" maxlength="1000">{server_escaped(account.bio.unwrap_or_default())}</textarea>
                <FieldError error field="bio" />
                <FormError error fields=&["username", "display_name", "bio"] />
                <button class="button" type="submit">"Save profile"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordForm(email: String) -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="password-h">
            <h2 id="password-h">"Password"</h2>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="current_password">"Current password"</label>
                <input id="current_password" name="current_password" type="password"
                    autocomplete="current-password" required />
                <FieldError error field="current_password" />
                <NewPassword name="new_password" label="New password" context=Signal::stored(email) />
                <FieldError error field="new_password" />
                <FormError error fields=&["current_password", "new_password"] />
                <button class="button" type="submit">"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn EmailForm() -> impl IntoView {
    let action = ServerAction::<ChangeEmail>::new();
    let error = action_error(action);
    view! {
        <section class="card" aria-labelledby="email-h">
            <h2 id="email-h">"Email address"</h2>
            <p class="muted">"We send a link to the new address; your old address gets a notice."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="new_email">"New email"</label>
                <input id="new_email" name="new_email" type="email" autocomplete="email" required />
                <FieldError error field="new_email" />
                <label for="email_password">"Password"</label>
                <input id="email_password" name="password" type="password"
                    autocomplete="current-password" required />
                <FieldError error field="password" />
                <FormError error fields=&["new_email", "password"] />
                <button class="button" type="submit">"Change email"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let revoke = ServerAction::<RevokeSessions>::new();
    let error = action_error(revoke);
    let sessions = Resource::new_blocking(move || revoke.version().get(), |_| list_sessions());
    view! {
        <section class="card" aria-labelledby="sessions-h">
            <h2 id="sessions-h">"Where you're signed in"</h2>
            <FormError error />
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <ul class="sessions" data-testid="sessions">
                                {list.into_iter().map(|s| view! { <SessionRow session=s revoke /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <div class="row">
                <ActionForm action=revoke>
                    <input type="hidden" name="which" value="others" />
                    <button class="button button--secondary" type="submit">"Sign out other sessions"</button>
                </ActionForm>
                <ActionForm action=revoke>
                    <input type="hidden" name="which" value="all" />
                    <button class="button button--secondary" type="submit">"Sign out everywhere"</button>
                </ActionForm>
            </div>
        </section>
    }
}

#[component]
fn SessionRow(session: SessionInfo, revoke: ServerAction<RevokeSessions>) -> impl IntoView {
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    view! {
        <li class="session" data-current=session.current.to_string()>
            <div>
                <strong>{session.device.clone()}</strong>
                {session.current.then(|| view! { <span class="badge">"This device"</span> })}
                <p class="muted">
                    {session.ip.clone().unwrap_or_else(|| "unknown address".into())}
                    " · signed in " {when(session.created_at)}
                    " · last seen " {when(session.last_seen_at)}
                </p>
            </div>
            {(!session.current).then(|| view! {
                <ActionForm action=revoke>
                    <input type="hidden" name="which" value=session.id.clone() />
                    <button class="button button--secondary" type="submit">"Sign out"</button>
                </ActionForm>
            })}
        </li>
    }
}

#[component]
fn DeleteForm() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let error = action_error(action);
    view! {
        <section class="card card--danger" aria-labelledby="delete-h">
            <h2 id="delete-h">"Delete account"</h2>
            <p>"This deletes your profile and posts at once. It cannot be undone."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <label for="delete_password">"Password"</label>
                <input id="delete_password" name="password" type="password"
                    autocomplete="current-password" required />
                <FieldError error field="password" />
                <FormError error fields=&["password"] />
                <button class="button button--danger" type="submit">"Delete my account"</button>
            </ActionForm>
        </section>
    }
}
