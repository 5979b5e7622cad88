//! The audit log's vocabulary: every action any writer records, and the exact string stored.
use std::fmt;

/// Declares the enum, its stored strings and `ALL` from one list, so a new action cannot be
/// written without also being offered by the admin filter.
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident => $value:literal,)+) => {
        /// One action recorded in `auth.audit_log.action`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)+
        }

        impl AuditAction {
            /// Every action, in the order the admin filter offers them.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// The value stored in the database (it never changes for an existing action).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }
    };
}

audit_actions! {
    RoleChanged => "admin.role_changed",
    UserBanned => "admin.user_banned",
    UserUnbanned => "admin.user_unbanned",
    AdminSessionsRevoked => "admin.sessions_revoked",
    AdminVerificationResent => "admin.verification_resent",
    OutboxRetried => "admin.outbox_retried",
    /// By a server holding the secret key (`/auth/v1/admin`), which has no user to act as.
    AdminApiUserCreated => "admin.api_user_created",
    AdminApiUserDeleted => "admin.api_user_deleted",
    /// An admin removed all of a user's second factors and recovery codes.
    AdminFactorsReset => "admin.factors_reset",
    /// By the `grant-admin` command, which has no user to act as.
    RoleGrantedCli => "admin.role_granted_cli",
    PostUnpublished => "post.unpublished",
    PostDeleted => "post.deleted",
    SignedUp => "user.signed_up",
    /// Someone tried to sign up with an address that already has an account.
    SignUpAttemptExisting => "user.sign_up_attempt_existing",
    SignedIn => "user.signed_in",
    SignedOut => "user.signed_out",
    SignInFailed => "user.sign_in_failed",
    SignInRefusedBanned => "user.sign_in_refused_banned",
    EmailVerified => "user.email_verified",
    VerificationResent => "user.verification_resent",
    ResetRequested => "user.reset_requested",
    EmailSignInRequested => "user.email_sign_in_requested",
    PasswordReset => "user.password_reset",
    PasswordChanged => "user.password_changed",
    EmailChangeRequested => "user.email_change_requested",
    EmailChanged => "user.email_changed",
    SessionsRevoked => "user.sessions_revoked",
    Deleted => "user.deleted",
    TokenReuseDetected => "token.reuse_detected",
    PasskeyAdded => "user.passkey_added",
    PasskeyRenamed => "user.passkey_renamed",
    PasskeyRemoved => "user.passkey_removed",
    /// A passkey's signature counter went backwards: the credential may have been cloned.
    PasskeyCounterRegressed => "user.passkey_counter_regressed",
    MfaFactorAdded => "user.mfa_factor_added",
    MfaFactorRemoved => "user.mfa_factor_removed",
    /// A wrong second-factor or recovery code (sign-in or step-up).
    MfaChallengeFailed => "user.mfa_challenge_failed",
    /// A second factor proven for a sensitive action on an already signed-in session.
    SteppedUp => "user.stepped_up",
    RecoveryCodeUsed => "user.recovery_code_used",
    RecoveryCodesRegenerated => "user.recovery_codes_regenerated",
}

impl AuditAction {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_audit_action_round_trips_through_its_stored_string() {
        for &action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(AuditAction::parse("user.unheard_of"), None);
    }

    #[test]
    fn audit_action_strings_are_unique_and_namespaced() {
        let strings: HashSet<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(strings.len(), AuditAction::ALL.len());
        for s in strings {
            let (scope, name) = s.split_once('.').expect(s);
            assert!(["admin", "post", "token", "user"].contains(&scope), "{s}");
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s}"
            );
        }
    }
}
