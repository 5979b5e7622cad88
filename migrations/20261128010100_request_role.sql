-- An access token dies with its sign-in (issue 9, item 10).

-- The role of a request, as auth.effective_role decides it, after checking that the access
-- token it came with (if any) belongs to a sign-in that is still live: `family` is the token's
-- refresh-token family (its `session_id` claim). A family ends at sign-out, on reuse of one of
-- its refresh tokens, at its absolute expiry, and through auth.end_grants. An ended family
-- raises SQLSTATE PT401 (PostgREST's "PT" + HTTP status convention), which the app answers
-- with 401: begin_as calls this in the statement it already runs, so revocation costs no extra
-- round trip and holds on every instance at once. Browser sessions pass NULL (Redis ends them).
CREATE FUNCTION auth.request_role(uid uuid, family uuid) RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    IF request_role.family IS NOT NULL AND NOT EXISTS (
        SELECT 1
          FROM auth.refresh_tokens AS r
         WHERE r.family_id = request_role.family
           AND r.user_id = request_role.uid
           AND r.revoked_at IS NULL
           AND r.expires_at > pg_catalog.now()
    ) THEN
        RAISE EXCEPTION 'the sign-in of this access token has ended'
            USING ERRCODE = 'PT401';
    END IF;
    RETURN auth.effective_role(request_role.uid);
END
$$;
REVOKE ALL ON FUNCTION auth.request_role(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.request_role(uuid, uuid) TO authenticator;

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

    ALTER FUNCTION auth.request_role(uuid, uuid) OWNER TO auth_service;

    REVOKE CREATE ON SCHEMA auth FROM auth_service;
    IF granted THEN
        EXECUTE format('REVOKE auth_service FROM %I', current_user);
    END IF;
END
$$;
