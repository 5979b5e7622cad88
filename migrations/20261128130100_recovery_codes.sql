-- Recovery codes: ten single-use codes per user, shown once when the first second factor is
-- confirmed (and when regenerated, which deletes the old set). Stored as a keyed hash
-- (HMAC-SHA256 under a key derived from the server secret): each code carries 50 random bits,
-- so a slow hash adds nothing a keyed one does not already give. `used_at` is set by the one
-- statement that spends a code, so a code works once even under concurrent attempts.
CREATE TABLE auth.mfa_recovery_codes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mfa_recovery_codes_code_hash_check CHECK (octet_length(code_hash) = 32),
    CONSTRAINT mfa_recovery_codes_user_id_code_hash_key UNIQUE (user_id, code_hash)
);

ALTER TABLE auth.mfa_recovery_codes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.mfa_recovery_codes TO auth_service;
CREATE POLICY mfa_recovery_codes_auth_service_all ON auth.mfa_recovery_codes
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
