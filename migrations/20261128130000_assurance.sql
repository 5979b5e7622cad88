-- Second factors and the assurance level of sign-ins (issue 12).
--
-- auth.mfa_factors: a user's TOTP factors. The secret is stored encrypted (an AEAD keyed from
-- the server secret, bound to the row's id and user: see app/src/ssr/auth/mfa/secret.rs), so a
-- dump of the database alone yields no codes. A factor counts once a first code confirmed it
-- (`verified_at`). `last_step` is the latest RFC 6238 time step accepted: a code is accepted
-- only for a later step, which refuses a replay for as long as the code could be valid.
CREATE TABLE auth.mfa_factors (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    factor_type   text        NOT NULL DEFAULT 'totp',
    friendly_name text        NOT NULL,
    secret        bytea       NOT NULL,
    verified_at   timestamptz,
    last_step     bigint,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mfa_factors_factor_type_check CHECK (factor_type IN ('totp')),
    CONSTRAINT mfa_factors_friendly_name_check CHECK (char_length(friendly_name) BETWEEN 1 AND 64),
    CONSTRAINT mfa_factors_user_id_friendly_name_key UNIQUE (user_id, friendly_name)
);
CREATE INDEX mfa_factors_user_id_idx ON auth.mfa_factors (user_id);

ALTER TABLE auth.mfa_factors ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
-- The auth subsystem only: even encrypted, a secret is not for admins to read.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.mfa_factors TO auth_service;
CREATE POLICY mfa_factors_auth_service_all ON auth.mfa_factors
    FOR ALL TO auth_service USING (true) WITH CHECK (true);

-- Whether a user has a second factor: what decides that sensitive actions need a fresh aal2
-- and that sign-in has a second step. Other kinds of factor (passkeys) extend it with
-- CREATE OR REPLACE in their own migration.
CREATE FUNCTION auth.has_second_factor(uid uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT 1 FROM auth.mfa_factors f WHERE f.user_id = uid AND f.verified_at IS NOT NULL
    )
$$;
REVOKE ALL ON FUNCTION auth.has_second_factor(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.has_second_factor(uuid) TO auth_service;

-- How each API sign-in (refresh-token family) was made, so every access token of the family
-- carries its `amr` and `aal`; a factor verified later (step-up) adds to it. A family without a
-- row is a password sign-in from before this table.
CREATE TABLE auth.refresh_token_families (
    family_id  uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    amr        jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refresh_token_families_amr_check CHECK (jsonb_typeof(amr) = 'array')
);
CREATE INDEX refresh_token_families_user_id_idx ON auth.refresh_token_families (user_id);

ALTER TABLE auth.refresh_token_families ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.refresh_token_families TO auth_service;
CREATE POLICY refresh_token_families_auth_service_all ON auth.refresh_token_families
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
