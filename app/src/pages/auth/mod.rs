//! Sign-up, sign-in, email verification and password recovery pages.
pub mod confirm_email;
pub mod email_sign_in;
pub mod forgot;
pub mod reset;
pub mod second_factor;
pub mod signin;
pub mod signup;
pub mod verify;
