-- Passkeys (WebAuthn credentials) a user registered for sign-in. `passkey` is webauthn-rs's
-- serialised `Passkey`: the credential's public key, its signature counter and backup flags,
-- nothing secret (the private key never leaves the authenticator). `credential_id` is copied
-- out of it so sign-in finds the credential the browser names with one index lookup.
CREATE TABLE auth.passkeys (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    credential_id bytea       NOT NULL,
    passkey       jsonb       NOT NULL,
    name          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    CONSTRAINT passkeys_credential_id_key UNIQUE (credential_id),
    -- WebAuthn caps credential ids at 1023 bytes.
    CONSTRAINT passkeys_credential_id_check CHECK (octet_length(credential_id) BETWEEN 16 AND 1023),
    CONSTRAINT passkeys_name_check CHECK (char_length(name) BETWEEN 1 AND 64)
);
CREATE INDEX passkeys_user_id_idx ON auth.passkeys (user_id);

ALTER TABLE auth.passkeys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- The auth subsystem only, like refresh tokens: the account page reaches its own passkeys
-- through the auth service's flows, which always filter by the signed-in user.
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.passkeys TO auth_service;

CREATE POLICY passkeys_auth_service_all ON auth.passkeys
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
