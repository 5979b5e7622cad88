//! A user as Supabase's clients read it: `GET /auth/v1/user` and the `user` of every token
//! answer (the shape of Supabase Auth's `models.User`).
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::ssr::db::{profiles::Profile, users::UserRecord};

#[derive(Clone, Debug, Serialize)]
pub struct ApiUser {
    pub id: Uuid,
    pub aud: &'static str,
    /// The role the database gave the request (`authenticated`, or `admin`): informative only.
    pub role: String,
    pub email: String,
    pub email_confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub phone: &'static str,
    pub app_metadata: Value,
    /// The public profile: what a Supabase app keeps in `user_metadata`.
    pub user_metadata: Value,
    pub identities: Vec<Value>,
    pub factors: Vec<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub is_anonymous: bool,
    /// The address an email change waits to move to (answered by `PUT /user` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    // Palisade's own answer before it spoke Supabase's, kept for the clients written to it.
    pub username: String,
    pub display_name: Option<String>,
    pub bio: Option<String>,
}

impl ApiUser {
    pub fn new(user: &UserRecord, profile: &Profile, role: String) -> Self {
        let email_identity = json!({
            "identity_id": user.id,
            "id": user.id.to_string(),
            "user_id": user.id,
            "identity_data": {
                "sub": user.id.to_string(),
                "email": user.email,
                "email_verified": user.email_confirmed_at.is_some(),
                "phone_verified": false,
            },
            "provider": "email",
            "email": user.email,
            "last_sign_in_at": user.last_sign_in_at,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        });
        Self {
            id: user.id,
            aud: super::jwt::AUDIENCE,
            role,
            email: user.email.clone(),
            email_confirmed_at: user.email_confirmed_at,
            confirmed_at: user.email_confirmed_at,
            phone: "",
            app_metadata: app_metadata(),
            user_metadata: user_metadata(profile),
            identities: vec![email_identity],
            factors: Vec::new(),
            created_at: user.created_at,
            updated_at: user.updated_at,
            last_sign_in_at: user.last_sign_in_at,
            is_anonymous: false,
            new_email: None,
            username: profile.username.clone(),
            display_name: profile.display_name.clone(),
            bio: profile.bio.clone(),
        }
    }
}

/// What the server alone decides about a user (`app_metadata`): how they sign in.
pub fn app_metadata() -> Value {
    json!({ "provider": "email", "providers": ["email"] })
}

/// The profile as `user_metadata`.
pub fn user_metadata(profile: &Profile) -> Value {
    json!({
        "username": profile.username,
        "display_name": profile.display_name,
        "bio": profile.bio,
    })
}

/// What `POST /signup` answers while the address waits for confirmation (no session yet).
/// The same for a new account and a taken address (whose id is made up), so the answer says
/// nothing about who has an account; the owner of a taken address gets an email instead.
pub fn pending(id: Uuid, email: &str) -> Value {
    let now = Utc::now();
    json!({
        "id": id,
        "aud": super::jwt::AUDIENCE,
        "role": "authenticated",
        "email": email,
        "phone": "",
        "confirmation_sent_at": now,
        "app_metadata": app_metadata(),
        "user_metadata": {},
        "identities": [{
            "identity_id": id,
            "id": id.to_string(),
            "user_id": id,
            "identity_data": { "sub": id.to_string(), "email": email, "email_verified": false },
            "provider": "email",
            "email": email,
            "created_at": now,
            "updated_at": now,
        }],
        "created_at": now,
        "updated_at": now,
        "is_anonymous": false,
    })
}
