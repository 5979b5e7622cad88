-- Generations of the ES256 key access tokens are signed with. The keys themselves are derived
-- from the server secret and the generation number (app/src/ssr/auth/signing_keys.rs); this
-- table only says which generations are published, and which one signs. No key material here.
CREATE TABLE auth.signing_keys (
    generation   integer     PRIMARY KEY CHECK (generation > 0),
    state        text        NOT NULL CHECK (state IN ('next', 'current', 'previous', 'retired')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    demoted_at   timestamptz,
    retired_at   timestamptz
);
-- Exactly one generation signs at a time.
CREATE UNIQUE INDEX signing_keys_one_current ON auth.signing_keys (state) WHERE state = 'current';

INSERT INTO auth.signing_keys (generation, state, activated_at) VALUES (1, 'current', now());
INSERT INTO auth.signing_keys (generation, state) VALUES (2, 'next');

ALTER TABLE auth.signing_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON auth.signing_keys TO auth_service;
CREATE POLICY signing_keys_auth_service_all ON auth.signing_keys
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
