-- Refresh tokens of API clients (/auth/v1). Opaque, 256 random bits, stored only as SHA-256,
-- single use: every refresh marks the presented token used and issues its successor. One
-- sign-in is one family; presenting a token that was already used (a stolen copy, or the
-- thief beat the owner to it) revokes the whole family. A family ends at `expires_at`
-- (absolute, set at sign-in), at sign-out, and on password change, reset or ban.
CREATE TABLE auth.refresh_tokens (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    token_hash bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    ip         inet,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_user_agent_check CHECK (char_length(user_agent) <= 1024)
);
-- Revoking a user's families (password change, ban; and the cascade of an account deletion)
-- and one family (sign-out, reuse).
CREATE INDEX refresh_tokens_user_id_idx ON auth.refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON auth.refresh_tokens (family_id);

ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- The auth subsystem only. Not even admin: a live refresh token is a credential.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.refresh_tokens TO auth_service;

CREATE POLICY refresh_tokens_auth_service_all ON auth.refresh_tokens
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
