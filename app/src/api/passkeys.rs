//! Server functions of passkeys: the account page's list, rename and delete (plain forms),
//! and the two halves of each WebAuthn ceremony, which `public/passkeys.js` calls around
//! `navigator.credentials` (the credential travels as its standard JSON, in a form field).
use leptos::prelude::*;

use crate::{
    domain::passkey::{PasskeyCeremony, PasskeyInfo},
    error::AppError,
};

#[cfg(feature = "ssr")]
use crate::ssr::{
    auth::flows::{passkey_signin, passkeys},
    serve,
};

#[cfg(feature = "ssr")]
fn ceremony(started: crate::ssr::auth::passkeys::Started) -> PasskeyCeremony {
    PasskeyCeremony {
        ceremony: started.ceremony,
        options: started.options,
    }
}

#[server(endpoint = "passkeys/list")]
pub async fn list_passkeys() -> Result<Vec<PasskeyInfo>, AppError> {
    serve(async |ctx| passkeys::list(&ctx).await).await
}

#[server(endpoint = "passkeys/register_start")]
pub async fn start_passkey_registration() -> Result<PasskeyCeremony, AppError> {
    serve(async |ctx| passkeys::start_registration(&ctx).await.map(ceremony)).await
}

#[server(endpoint = "passkeys/register_finish")]
pub async fn finish_passkey_registration(
    ceremony: String,
    #[server(default)] name: String,
    credential: String,
) -> Result<PasskeyInfo, AppError> {
    serve(async |ctx| passkeys::finish_registration(&ctx, &ceremony, &name, &credential).await)
        .await
}

#[server(endpoint = "passkeys/rename")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    serve(async |ctx| {
        passkeys::rename(&ctx, &id, &name).await?;
        super::redirect("/account?saved=passkeys");
        Ok(())
    })
    .await
}

#[server(endpoint = "passkeys/delete")]
pub async fn delete_passkey(id: String) -> Result<(), AppError> {
    serve(async |ctx| {
        passkeys::delete(&ctx, &id).await?;
        super::redirect("/account?saved=passkeys");
        Ok(())
    })
    .await
}

#[server(endpoint = "auth/passkey_start")]
pub async fn start_passkey_sign_in() -> Result<PasskeyCeremony, AppError> {
    serve(async |ctx| passkey_signin::start(&ctx).await.map(ceremony)).await
}

/// Answers with where to go next (`next` if it is a path on this site, else `/account`): the
/// script navigates there itself, as a fetch cannot follow a redirect into a page load.
#[server(endpoint = "auth/passkey_finish")]
pub async fn finish_passkey_sign_in(
    ceremony: String,
    credential: String,
    #[server(default)] next: Option<String>,
) -> Result<String, AppError> {
    serve(async |ctx| {
        let session = ctx.session().await?;
        passkey_signin::finish(&ctx, &session, &ceremony, &credential).await?;
        Ok(crate::domain::redirect::local_path_or(
            next.as_deref(),
            "/account",
        ))
    })
    .await
}
