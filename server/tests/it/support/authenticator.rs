//! A software passkey for the tests: 1Password's `passkey` crate (a CTAP2 authenticator that
//! keeps one discoverable credential, behind its WebAuthn client), fed the server's options
//! JSON and answering with the credential JSON a browser's script sends.
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use passkey::{
    authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod},
    client::{Client, DefaultClientData, DefaultClientDataWithCustomHash},
    crypto::rust_crypto::RustCryptoBackend,
    types::{
        Passkey,
        ctap2::{Aaguid, Ctap2Error},
        webauthn::{CredentialCreationOptions, CredentialRequestOptions},
    },
};
use sha2::{Digest as _, Sha256};
use url::Url;

/// The person at the authenticator: present and verified (fingerprint, face or PIN).
struct Verified;

#[async_trait::async_trait]
impl UserValidationMethod for Verified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

/// One authenticator holding at most one passkey. By default it is a synced passkey (no
/// signature counter: always 0), as platform passkeys are.
#[derive(Default)]
pub struct SoftPasskey {
    credential: Option<Passkey>,
    with_counter: bool,
}

fn origin(url: &str) -> Url {
    Url::parse(url).expect("an origin")
}

impl SoftPasskey {
    pub fn new() -> Self {
        Self::default()
    }

    /// A hardware-key style passkey, whose counter starts at 0 and grows with every use.
    pub fn with_counter() -> Self {
        Self {
            credential: None,
            with_counter: true,
        }
    }

    fn client(
        &self,
    ) -> Client<Option<Passkey>, Verified, RustCryptoBackend, public_suffix::PublicSuffixList, ()>
    {
        let mut authenticator = Authenticator::new(
            Aaguid::new_empty(),
            self.credential.clone(),
            Verified,
            RustCryptoBackend,
        );
        authenticator.set_make_credentials_with_signature_counter(self.with_counter);
        Client::new(authenticator).allows_insecure_localhost(true)
    }

    /// `navigator.credentials.create` at `at` (an origin), with the server's options JSON.
    pub async fn register(&mut self, at: &str, options: &str) -> String {
        let options: CredentialCreationOptions =
            serde_json::from_str(options).expect("creation options in the WebAuthn JSON shape");
        let mut client = self.client();
        let created = client
            .register(origin(at), options, DefaultClientData)
            .await
            .expect("the authenticator makes a credential");
        self.credential = client.authenticator().store().clone();
        serde_json::to_string(&created).unwrap()
    }

    /// `navigator.credentials.get` at `at`, with the server's options JSON.
    pub async fn sign_in(&mut self, at: &str, options: &str) -> String {
        let options: CredentialRequestOptions =
            serde_json::from_str(options).expect("request options in the WebAuthn JSON shape");
        let mut client = self.client();
        let asserted = client
            .authenticate(origin(at), options, DefaultClientData)
            .await
            .expect("the authenticator signs");
        self.credential = client.authenticator().store().clone();
        serde_json::to_string(&asserted).unwrap()
    }

    /// An assertion from a client at `at` whose signed client data names `claimed_origin`:
    /// with `at` ours, a hostile client relaying our challenge for another site; with the
    /// options' `rpId` changed, a credential scoped to another RP ID under our origin.
    pub async fn sign_in_forged(
        &mut self,
        at: &str,
        claimed_origin: &str,
        options: &str,
    ) -> String {
        let parsed: serde_json::Value = serde_json::from_str(options).unwrap();
        let challenge = parsed["publicKey"]["challenge"].as_str().unwrap();
        let client_data = serde_json::json!({
            "type": "webauthn.get",
            "challenge": challenge,
            "origin": claimed_origin,
            "crossOrigin": false,
        })
        .to_string();
        let hash = Sha256::digest(client_data.as_bytes()).to_vec();
        let options: CredentialRequestOptions = serde_json::from_value(parsed).unwrap();
        let mut client = self.client();
        let asserted = client
            .authenticate(origin(at), options, DefaultClientDataWithCustomHash(hash))
            .await
            .expect("the authenticator signs");
        self.credential = client.authenticator().store().clone();
        let mut json = serde_json::to_value(&asserted).unwrap();
        json["response"]["clientDataJSON"] = URL_SAFE_NO_PAD.encode(client_data).into();
        json.to_string()
    }

    /// Sets the stored signature counter, as a clone of the authenticator would have it.
    pub fn set_counter(&mut self, counter: u32) {
        if let Some(credential) = self.credential.as_mut() {
            credential.counter = Some(counter);
        }
    }

    /// Replaces the user handle the authenticator returns (the account it claims to be for).
    pub fn set_user_handle(&mut self, handle: &[u8]) {
        if let Some(credential) = self.credential.as_mut() {
            credential.user_handle = Some(handle.to_vec().into());
        }
    }
}
