//! The settings as operators meet them: defaults, refusals, and what each refusal names.
use super::*;
use std::collections::HashMap;

/// Everything production needs, and no `PALISADE_ENV`: unset means production.
const PRODUCTION: &[(&str, &str)] = &[
    ("PALISADE_PUBLIC_URL", "https://example.com"),
    ("PALISADE_SECRET", "0123456789abcdef0123456789abcdef-prod"),
    ("DATABASE_URL", "postgres://authenticator@db/palisade"),
    ("REDIS_URL", "redis://redis"),
    ("SMTP_URL", "smtps://smtp.example.com"),
    ("PALISADE_MAIL_FROM", "Palisade <no-reply@example.com>"),
];

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned())
}

fn dev(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    settings(&[&[("PALISADE_ENV", "development")], pairs].concat())
}

#[test]
fn development_runs_on_defaults() {
    let s = dev(&[]).expect("defaults are valid in development");
    assert_eq!(s.environment, Environment::Development);
    assert!(!s.is_https());
}

#[test]
fn production_refuses_to_start_without_secrets_and_https() {
    let err = settings(&[("PALISADE_ENV", "production")]).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "PALISADE_PUBLIC_URL",
            ..
        }
    ));
    let err = settings(&[
        ("PALISADE_ENV", "production"),
        ("PALISADE_PUBLIC_URL", "https://example.com"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::MissingInProduction("PALISADE_SECRET")
    ));
    let err = settings(&[
        ("PALISADE_ENV", "production"),
        ("PALISADE_PUBLIC_URL", "https://example.com"),
        ("PALISADE_SECRET", "short"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "PALISADE_SECRET",
            ..
        }
    ));
}

#[test]
fn secrets_never_print() {
    let s = dev(&[("PALISADE_SECRET", "hunter2-hunter2-hunter2-hunter2-x")]).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
}

#[test]
fn degradation_settings_have_safe_defaults_and_refuse_a_zero_limit() {
    let s = dev(&[]).unwrap();
    assert_eq!(s.database.circuit_probe_interval, Duration::from_secs(1));
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(s.http.max_in_flight, 256 * cpus);

    let s = dev(&[
        ("PALISADE_MAX_IN_FLIGHT", "3"),
        ("PALISADE_DB_CIRCUIT_PROBE_MS", "250"),
    ])
    .unwrap();
    assert_eq!(s.http.max_in_flight, 3);
    assert_eq!(
        s.database.circuit_probe_interval,
        Duration::from_millis(250)
    );

    let err = dev(&[("PALISADE_MAX_IN_FLIGHT", "0")]).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "PALISADE_MAX_IN_FLIGHT",
            ..
        }
    ));
}

#[test]
fn mail_and_outbox_settings_have_defaults_and_env_overrides() {
    let s = dev(&[]).unwrap();
    assert_eq!(
        s.mail.from.to_string(),
        "Palisade <no-reply@palisade.local>"
    );
    assert!(s.outbox.worker_enabled);
    assert_eq!(s.outbox.max_attempts, 8);
    assert_eq!(s.outbox.poll_interval, Duration::from_secs(1));

    let s = dev(&[
        ("PALISADE_MAIL_FROM", "Acme <hello@acme.test>"),
        ("PALISADE_WORKER_ENABLED", "false"),
        ("PALISADE_OUTBOX_MAX_ATTEMPTS", "3"),
    ])
    .unwrap();
    assert_eq!(s.mail.from.email.to_string(), "hello@acme.test");
    assert_eq!(s.mail.from.name.as_deref(), Some("Acme"));
    assert!(!s.outbox.worker_enabled);
    assert_eq!(s.outbox.max_attempts, 3);
}

#[test]
fn bad_mail_and_outbox_settings_are_refused_by_name() {
    for (name, value) in [
        ("PALISADE_MAIL_FROM", "not an address"),
        ("PALISADE_WORKER_ENABLED", "yes please"),
        ("PALISADE_OUTBOX_MAX_ATTEMPTS", "0"),
    ] {
        let err = dev(&[(name, value)]).unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
    let err = settings(&[
        ("PALISADE_ENV", "production"),
        ("PALISADE_PUBLIC_URL", "https://example.com"),
        ("PALISADE_SECRET", "0123456789abcdef0123456789abcdef-prod"),
        ("DATABASE_URL", "postgres://authenticator@db/palisade"),
        ("REDIS_URL", "redis://redis"),
        ("SMTP_URL", "smtps://smtp.example.com"),
    ])
    .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::MissingInProduction("PALISADE_MAIL_FROM")
    ));
}

#[test]
fn an_unset_environment_is_production_and_refuses_to_start_without_its_settings() {
    let err = settings(&[]).unwrap_err();
    assert!(err.to_string().contains("PALISADE_ENV"), "{err}");
    let s = settings(PRODUCTION).expect("a complete production setup starts");
    assert_eq!(s.environment, Environment::Production);
}

#[test]
fn a_development_server_without_a_secret_gets_a_random_one_per_process() {
    let first = dev(&[]).unwrap();
    let second = dev(&[]).unwrap();
    let (a, b) = (first.secret.expose_secret(), second.secret.expose_secret());
    assert_ne!(a, b, "no secret is built into the source");
    assert!(a.len() >= 32);
    assert!(first.secret_generated);
    let set = dev(&[("PALISADE_SECRET", "a-developer-s-own-secret")]).unwrap();
    assert_eq!(set.secret.expose_secret(), "a-developer-s-own-secret");
    assert!(!set.secret_generated);
}

#[test]
fn trusted_proxies_and_the_metrics_listener_are_read_by_name() {
    let s = dev(&[]).unwrap();
    assert!(s.http.trusted_proxies.is_empty(), "none trusted by default");
    assert_eq!(s.metrics_listen, Some("127.0.0.1:9464".parse().unwrap()));
    let s = dev(&[
        ("PALISADE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1"),
        ("PALISADE_METRICS_LISTEN", "off"),
    ])
    .unwrap();
    assert!(s.http.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
    assert!(
        !s.http
            .trusted_proxies
            .contains("192.0.2.2".parse().unwrap())
    );
    assert_eq!(s.metrics_listen, None);
    for (name, value) in [
        ("PALISADE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
        ("PALISADE_TRUSTED_PROXIES", "0.0.0.0/0"),
        ("PALISADE_METRICS_LISTEN", "everywhere"),
    ] {
        let err = dev(&[(name, value)]).unwrap_err();
        assert!(err.to_string().contains(name), "{value}: {err}");
    }
}

#[test]
fn a_development_server_refuses_an_https_or_non_loopback_public_url() {
    for url in [
        "https://localhost:3000",
        "https://127.0.0.1",
        "http://palisade.example.com",
        "http://10.0.0.5:3000",
        "http://0.0.0.0:3000",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://localhost@evil.example",
        "http://[2001:db8::1]:3000",
    ] {
        let err = dev(&[("PALISADE_PUBLIC_URL", url)]).unwrap_err();
        assert!(
            err.to_string().contains("PALISADE_PUBLIC_URL"),
            "{url}: {err}"
        );
    }
    for url in [
        "http://localhost:3000",
        "http://LOCALHOST",
        "http://app.localhost:8080/",
        "http://127.0.0.1:3000",
        "http://127.9.8.7",
        "http://[::1]:3000",
    ] {
        dev(&[("PALISADE_PUBLIC_URL", url)]).unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn production_refuses_a_placeholder_secret() {
    for secret in [
        "0".repeat(64),
        "s".repeat(48),
        "abababababababababababababababab".into(),
    ] {
        let mut pairs = PRODUCTION.to_vec();
        pairs.retain(|(k, _)| *k != "PALISADE_SECRET");
        pairs.push(("PALISADE_SECRET", &secret));
        let err = settings(&pairs).unwrap_err();
        assert!(
            err.to_string().contains("PALISADE_SECRET"),
            "{secret}: {err}"
        );
    }
}

#[test]
fn the_old_trust_proxy_switch_is_refused_naming_its_replacement() {
    for value in ["true", "false", ""] {
        let err = dev(&[("PALISADE_TRUST_PROXY", value)]).unwrap_err();
        assert!(
            err.to_string().contains("PALISADE_TRUSTED_PROXIES"),
            "{err}"
        );
    }
}

#[test]
fn malformed_numbers_are_refused_by_name() {
    let err = dev(&[("PALISADE_DB_MAX_CONNECTIONS", "many")]).unwrap_err();
    assert!(err.to_string().contains("PALISADE_DB_MAX_CONNECTIONS"));
}

#[test]
fn admins_need_a_second_factor_unless_development_or_an_operator_says_otherwise() {
    let prod = settings(PRODUCTION).expect("production settings");
    assert!(prod.sessions.require_admin_second_factor);
    assert!(prod.auth_settings().require_admin_second_factor);
    assert!(!dev(&[]).unwrap().sessions.require_admin_second_factor);
    let relaxed = [PRODUCTION, &[("PALISADE_ADMIN_SECOND_FACTOR", "optional")]].concat();
    assert!(
        !settings(&relaxed)
            .unwrap()
            .sessions
            .require_admin_second_factor
    );
    let strict = dev(&[("PALISADE_ADMIN_SECOND_FACTOR", "required")]).unwrap();
    assert!(strict.sessions.require_admin_second_factor);
    let err = dev(&[("PALISADE_ADMIN_SECOND_FACTOR", "yes")]).unwrap_err();
    assert!(matches!(
        err,
        ConfigError::Invalid {
            name: "PALISADE_ADMIN_SECOND_FACTOR",
            ..
        }
    ));
}

#[test]
fn the_step_up_window_is_ten_minutes_and_bounded() {
    let s = dev(&[]).unwrap();
    assert_eq!(s.auth_settings().step_up_window, Duration::from_secs(600));
    let s = dev(&[("PALISADE_STEP_UP_WINDOW_SECS", "120")]).unwrap();
    assert_eq!(s.sessions.step_up_window, Duration::from_secs(120));
    for bad in ["0", "29", "86401", "ten"] {
        let err = dev(&[("PALISADE_STEP_UP_WINDOW_SECS", bad)]).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    name: "PALISADE_STEP_UP_WINDOW_SECS",
                    ..
                }
            ),
            "{bad}"
        );
    }
}
