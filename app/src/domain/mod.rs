//! Parse-don't-validate types shared by the browser and the server: a form checks its input
//! with the same code the server trusts.
pub mod actor;
pub mod admin;
pub mod assurance;
pub mod audit;
pub mod device;
pub mod email;
pub mod factor;
pub mod passkey;
pub mod password;
pub mod post;
pub mod profile;
pub mod redirect;
pub mod role;
pub mod session;
pub mod status;
pub mod user;

pub use email::EmailAddress;
#[cfg(feature = "ssr")]
pub use password::Password;
pub use password::PasswordStrength;
pub use post::{Author, PostBody, PostStatus, PostTitle, Slug};
pub use profile::{Bio, DisplayName, Username};
