-- Recovery ends what a thief may hold (issue 9, item 1).
--
-- auth.end_grants(uid): everything outstanding that lets its holder take control of the account
-- without the password: password-reset and email-change links, and every API sign-in (refresh
-- token family; its access tokens are refused from then on, see ..._request_role.sql). Every
-- recovery action (password change or reset, sign out everywhere, API global sign-out, ban,
-- role change) calls it inside the transaction that records the action. Email verification
-- links are left alone: they only confirm the address the account already has and grant
-- nothing (sign-in still needs the password), and voiding them would only strand an owner who
-- has not confirmed yet.
--
-- SECURITY DEFINER, owned by auth_service (which alone may touch these tables), so an admin's
-- ban or role change ends them in the admin's own transaction, atomically with the change.
CREATE FUNCTION auth.end_grants(uid uuid, OUT voided_links integer, OUT revoked_refresh_tokens integer)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    UPDATE auth.one_time_tokens AS t
       SET used_at = pg_catalog.now()
     WHERE t.user_id = end_grants.uid
       AND t.used_at IS NULL
       AND t.purpose IN ('reset_password', 'change_email');
    GET DIAGNOSTICS voided_links = ROW_COUNT;
    UPDATE auth.refresh_tokens AS r
       SET revoked_at = pg_catalog.now()
     WHERE r.user_id = end_grants.uid
       AND r.revoked_at IS NULL;
    GET DIAGNOSTICS revoked_refresh_tokens = ROW_COUNT;
END
$$;
REVOKE ALL ON FUNCTION auth.end_grants(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.end_grants(uuid) TO auth_service, admin;

-- Owned by auth_service, as auth.effective_role is (see ..._profiles.sql for the trick).
DO $$
DECLARE
    granted boolean := false;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'auth_service', 'MEMBER') THEN
        EXECUTE format('GRANT auth_service TO %I', current_user);
        granted := true;
    END IF;
    GRANT CREATE ON SCHEMA auth TO auth_service;

    ALTER FUNCTION auth.end_grants(uuid) OWNER TO auth_service;

    REVOKE CREATE ON SCHEMA auth FROM auth_service;
    IF granted THEN
        EXECUTE format('REVOKE auth_service FROM %I', current_user);
    END IF;
END
$$;
