-- The auth subsystem's tables: users (credentials), one-time tokens, the audit log.
-- Owned by the migration owner; auth_service works on them through grants and policies,
-- admin sees a safe subset of users and the audit log, nobody else sees anything here.

CREATE TABLE auth.users (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text        NOT NULL,
    password_hash      text        NOT NULL,
    email_confirmed_at timestamptz,
    banned_until       timestamptz,
    last_sign_in_at    timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_check CHECK (char_length(email) BETWEEN 3 AND 254 AND email LIKE '_%@_%'),
    CONSTRAINT users_password_hash_check CHECK (char_length(password_hash) BETWEEN 1 AND 512)
);
-- Case-insensitive uniqueness; the Rust side maps this name to a Conflict.
CREATE UNIQUE INDEX users_email_lower_key ON auth.users (lower(email));

CREATE TRIGGER users_set_updated_at
    BEFORE UPDATE ON auth.users
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

CREATE TABLE auth.one_time_tokens (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    token_hash bytea       NOT NULL,   -- SHA-256 of the random token; the token itself is never stored
    code_hash  text,                   -- hash of the optional 6-digit code
    attempts   integer     NOT NULL DEFAULT 0,
    new_email  text,                   -- only for change_email
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT one_time_tokens_purpose_check
        CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    CONSTRAINT one_time_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT one_time_tokens_token_hash_check CHECK (octet_length(token_hash) BETWEEN 16 AND 64),
    CONSTRAINT one_time_tokens_attempts_check CHECK (attempts >= 0),
    CONSTRAINT one_time_tokens_new_email_check
        CHECK ((purpose = 'change_email') = (new_email IS NOT NULL)
               AND (new_email IS NULL OR (char_length(new_email) BETWEEN 3 AND 254 AND new_email LIKE '_%@_%')))
);
CREATE INDEX one_time_tokens_user_id_idx ON auth.one_time_tokens (user_id);

CREATE TABLE auth.audit_log (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id   uuid,       -- no foreign keys: the log outlives the users it mentions
    target_id  uuid,
    action     text        NOT NULL,
    ip         inet,
    user_agent text,
    details    jsonb       NOT NULL DEFAULT '{}',
    at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_log_action_check CHECK (char_length(action) BETWEEN 1 AND 64),
    CONSTRAINT audit_log_user_agent_check CHECK (char_length(user_agent) <= 1024),
    CONSTRAINT audit_log_details_check CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX audit_log_actor_id_at_idx  ON auth.audit_log (actor_id, at DESC);
CREATE INDEX audit_log_target_id_at_idx ON auth.audit_log (target_id, at DESC);
CREATE INDEX audit_log_action_at_idx    ON auth.audit_log (action, at DESC);
CREATE INDEX audit_log_at_idx           ON auth.audit_log (at DESC);

-- Append-only even for the owner (who holds every privilege and could otherwise rewrite
-- history). Only a superuser with session_replication_role = replica, or the owner
-- dropping the trigger in a migration, gets past this.
CREATE FUNCTION auth.audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    RAISE EXCEPTION 'auth.audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION auth.audit_log_is_append_only() FROM PUBLIC;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON auth.audit_log
    FOR EACH ROW EXECUTE FUNCTION auth.audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON auth.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION auth.audit_log_is_append_only();

-- Row Level Security: enabled and forced (the owner too) on every table.
ALTER TABLE auth.users           ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.one_time_tokens ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE auth.audit_log       ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- users: auth_service does sign-up, sign-in, confirmation, password and email changes and
-- account deletion. admin lists users (never the password hash) and bans/unbans.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.users TO auth_service;
GRANT SELECT (id, email, email_confirmed_at, banned_until, last_sign_in_at, created_at, updated_at)
    ON auth.users TO admin;
GRANT UPDATE (banned_until) ON auth.users TO admin;

CREATE POLICY users_auth_service_all ON auth.users
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
CREATE POLICY users_admin_select ON auth.users
    FOR SELECT TO admin USING (true);
CREATE POLICY users_admin_update ON auth.users
    FOR UPDATE TO admin USING (true) WITH CHECK (true);

-- one_time_tokens: the auth subsystem only. Not even admin: a live token is a credential.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.one_time_tokens TO auth_service;

CREATE POLICY one_time_tokens_auth_service_all ON auth.one_time_tokens
    FOR ALL TO auth_service USING (true) WITH CHECK (true);

-- audit_log: written by auth_service (for any actor) and by admin (only as themselves);
-- read by admin. No UPDATE, DELETE or TRUNCATE for anyone. auth_service cannot SELECT,
-- so its inserts must not use RETURNING.
GRANT INSERT (actor_id, target_id, action, ip, user_agent, details) ON auth.audit_log TO auth_service, admin;
GRANT SELECT ON auth.audit_log TO admin;

CREATE POLICY audit_log_auth_service_insert ON auth.audit_log
    FOR INSERT TO auth_service WITH CHECK (true);
CREATE POLICY audit_log_admin_insert ON auth.audit_log
    FOR INSERT TO admin WITH CHECK (actor_id = (SELECT auth.uid()));
CREATE POLICY audit_log_admin_select ON auth.audit_log
    FOR SELECT TO admin USING (true);
