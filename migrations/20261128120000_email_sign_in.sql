-- Email sign-in (a link and a 6-digit code, issue 11 and 12): a one-time token purpose of its
-- own, asked for through the account-request queue like "forgot password" (the request looks
-- the same whether or not the address has an account), and voided by every recovery like the
-- other links that grant control of the account. And reauthentication codes (`POST
-- /auth/v1/reauthenticate`, a code that lets one password change through): a purpose of their
-- own, voided by recoveries too.

ALTER TABLE auth.one_time_tokens DROP CONSTRAINT one_time_tokens_purpose_check;
ALTER TABLE auth.one_time_tokens ADD CONSTRAINT one_time_tokens_purpose_check
    CHECK (purpose IN ('verify_email', 'reset_password', 'change_email', 'email_sign_in',
                       'reauthenticate'));

ALTER TABLE auth.account_requests DROP CONSTRAINT account_requests_kind_check;
ALTER TABLE auth.account_requests ADD CONSTRAINT account_requests_kind_check
    CHECK (kind IN ('reset_password', 'resend_verification', 'email_sign_in'));

-- auth.end_grants as before, with email sign-in links and reauthentication codes among what a
-- recovery voids.
-- Replaced as its owner auth_service (see ..._end_grants.sql for the trick).
DO $$
DECLARE
    granted boolean := false;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'auth_service', 'MEMBER') THEN
        EXECUTE format('GRANT auth_service TO %I', current_user);
        granted := true;
    END IF;
    GRANT CREATE ON SCHEMA auth TO auth_service;

    CREATE OR REPLACE FUNCTION auth.end_grants(uid uuid, OUT voided_links integer, OUT revoked_refresh_tokens integer)
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = ''
    AS $body$
    BEGIN
        UPDATE auth.one_time_tokens AS t
           SET used_at = pg_catalog.now()
         WHERE t.user_id = end_grants.uid
           AND t.used_at IS NULL
           AND t.purpose IN ('reset_password', 'change_email', 'email_sign_in', 'reauthenticate');
        GET DIAGNOSTICS voided_links = ROW_COUNT;
        UPDATE auth.refresh_tokens AS r
           SET revoked_at = pg_catalog.now()
         WHERE r.user_id = end_grants.uid
           AND r.revoked_at IS NULL;
        GET DIAGNOSTICS revoked_refresh_tokens = ROW_COUNT;
    END
    $body$;

    REVOKE CREATE ON SCHEMA auth FROM auth_service;
    IF granted THEN
        EXECUTE format('REVOKE auth_service FROM %I', current_user);
    END IF;
END
$$;
