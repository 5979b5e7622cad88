//! The two role vocabularies: the role a profile holds, and the Postgres role a request runs
//! as. The database stores and decides them; these enums are how the code names them.
use serde::{Deserialize, Serialize};

/// A profile role an admin can give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        match s.trim() {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err("Choose user or admin."),
        }
    }

    /// The value of `profiles.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

/// The Postgres role a request's transaction runs as (`current_user`), which the database
/// derives from the profile in `begin_as`; also the `role` claim a token or session carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestRole {
    /// Nobody signed in, or a user the database refuses (banned or deleted).
    Anon,
    Authenticated,
    Admin,
}

impl RequestRole {
    pub const ALL: [Self; 3] = [Self::Anon, Self::Authenticated, Self::Admin];

    /// The Postgres role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::Authenticated => "authenticated",
            Self::Admin => "admin",
        }
    }

    /// `None` for any other role (e.g. a service role).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_roles_round_trip_and_service_roles_are_none_of_them() {
        for r in RequestRole::ALL {
            assert_eq!(RequestRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(RequestRole::parse("auth_service"), None);
        assert_eq!(RequestRole::parse("user"), None);
    }
}
