//! Second factors on `/account` (list, add, remove, recovery codes left), the enrolment page
//! `/account/two-factor?factor=…` (QR code, secret, first code) and `/account/recovery-codes`
//! (new codes, shown once).
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{A, Redirect},
    hooks::use_query_map,
};
use uuid::Uuid;

use crate::{
    api::factors::{
        ConfirmTotp, EnrolTotp, RegenerateRecoveryCodes, RemoveFactor, get_enrolment, get_factors,
        take_recovery_codes,
    },
    components::forms::{FieldError, FormError, action_error},
    domain::factor::{FactorInfo, TotpEnrolment},
    error::AppError,
};

/// The account page's section.
#[component]
pub fn TwoFactorSection() -> impl IntoView {
    let factors = Resource::new_blocking(|| (), |_| get_factors());
    let enrol = ServerAction::<EnrolTotp>::new();
    let remove = ServerAction::<RemoveFactor>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let enrol_error = action_error(enrol);
    let remove_error = action_error(remove);
    let regenerate_error = action_error(regenerate);
    view! {
        <section class="card" aria-labelledby="factors-h">
            <h2 id="factors-h">"Two-step sign-in"</h2>
            <p class="muted">"After your password, sign-in asks for a code from an authenticator app."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match factors.await {
                        Ok(state) => {
                            let has_factor = !state.factors.is_empty();
                            view! {
                                <ul class="sessions" data-testid="factors">
                                    {state.factors.into_iter().map(|f| view! { <FactorRow factor=f remove /> }).collect_view()}
                                </ul>
                                {has_factor.then(|| view! {
                                    <p data-testid="recovery-codes-left">
                                        "Recovery codes left: " {state.recovery_codes_left}
                                    </p>
                                    <ActionForm action=regenerate>
                                        <button class="button button--secondary" type="submit">"Make new recovery codes"</button>
                                    </ActionForm>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <FormError error=remove_error />
            <FormError error=regenerate_error />
            <ActionForm action=enrol attr:class="form" attr:novalidate=true>
                <label for="friendly_name">"Name of the new factor"</label>
                <input id="friendly_name" name="friendly_name" value="Authenticator app"
                    maxlength="64" required />
                <FieldError error=enrol_error field="friendly_name" />
                <FormError error=enrol_error fields=&["friendly_name"] />
                <button class="button" type="submit">"Add an authenticator app"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn FactorRow(factor: FactorInfo, remove: ServerAction<RemoveFactor>) -> impl IntoView {
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    view! {
        <li class="session">
            <div>
                <strong>{factor.friendly_name.clone()}</strong>
                <p class="muted">
                    "Authenticator app · added " {when(factor.created_at)}
                    {factor.last_used_at.map(|t| format!(" · last used {}", when(t)))}
                </p>
            </div>
            <ActionForm action=remove>
                <input type="hidden" name="factor" value=factor.id.to_string() />
                <button class="button button--secondary" type="submit"
                    aria-label=format!("Remove {}", factor.friendly_name)>"Remove"</button>
            </ActionForm>
        </li>
    }
}

/// `/account/two-factor?factor=…`: scan or type the secret, then confirm with a first code.
#[component]
pub fn TotpEnrolPage() -> impl IntoView {
    let factor =
        use_query_map().with_untracked(|q| q.get("factor").and_then(|f| f.parse::<Uuid>().ok()));
    let enrolment = Resource::new_blocking(
        move || factor,
        |factor| async move {
            match factor {
                Some(f) => get_enrolment(f).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Add an authenticator app" />
        <section class="auth-card">
            <h1>"Add an authenticator app"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match enrolment.await {
                        Ok(e) => view! { <Enrolment enrolment=e /> }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/signin?next=/account" /> }.into_any(),
                        Err(_) => view! {
                            <p>"This enrolment is over or does not exist. " <A href="/account">"Start again from your account"</A></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Enrolment(enrolment: TotpEnrolment) -> impl IntoView {
    let action = ServerAction::<ConfirmTotp>::new();
    let error = action_error(action);
    view! {
        <p>"Scan this code with your authenticator app (for example 1Password, Aegis, Google Authenticator)."</p>
        // Drawn by the server from the otpauth URI: no script, no image request.
        <div class="qr" data-testid="totp-qr" inner_html=enrolment.qr_svg></div>
        <p>"Can't scan? Type this key into the app instead:"</p>
        <p><code data-testid="totp-secret">{enrolment.secret}</code></p>
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <input type="hidden" name="factor" value=enrolment.factor_id.to_string() />
            <label for="code">"Code from the app"</label>
            <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                maxlength="7" required />
            <FieldError error field="code" />
            <FormError error fields=&["code"] />
            <button class="button" type="submit">"Confirm"</button>
        </ActionForm>
    }
}

/// `/account/recovery-codes`: the codes just made, shown once.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    let codes = Resource::new_blocking(|| (), |_| take_recovery_codes());
    view! {
        <Title text="Your recovery codes" />
        <section class="auth-card">
            <h1>"Your recovery codes"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match codes.await {
                        Ok(codes) if !codes.is_empty() => view! { <Codes codes /> }.into_any(),
                        Ok(_) => view! {
                            <p>"Recovery codes are shown only once. " <A href="/account">"Back to your account"</A></p>
                        }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/signin?next=/account" /> }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Codes(codes: Vec<String>) -> impl IntoView {
    let text = codes.join("\n") + "\n";
    let download = format!(
        "data:text/plain;charset=utf-8,{}",
        crate::domain::redirect::encode_query_value(&text)
    );
    view! {
        <p>"Each code signs you in once if you lose your authenticator app. Keep them somewhere safe: "
            "this is the only time they are shown."</p>
        <ul class="recovery-codes" data-testid="recovery-codes">
            {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
        </ul>
        <p><a class="button button--secondary" href=download download="palisade-recovery-codes.txt">"Download"</a></p>
        <p><A href="/account">"I saved them: continue to your account"</A></p>
    }
}
