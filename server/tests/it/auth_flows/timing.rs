//! Asking for a reset link, for the confirmation again, and signing in with a wrong password
//! must not tell, by how long they take, whether an address has an account. One sample proves
//! nothing either way, so these tests time many interleaved requests for addresses with and
//! without an account and compare the two samples: a Mann–Whitney U test (is one group
//! systematically slower?) and the ratio of the medians. Each email address is asked for from
//! a client address of its own, so no rate limit is shared between addresses or groups.
use std::time::Instant;

use app::ssr::{
    auth::password::Hasher,
    db::{ServiceRole, begin_service},
};
use rand::seq::SliceRandom as _;

use crate::support::{Answer, Browser, TestApp, mail, new_email};

/// Addresses timed per group, after [`WARM_UP`] untimed ones per group.
const SAMPLES: usize = 150;
const WARM_UP: usize = 10;
/// Requests per timed address: the per-address limit (3 an hour) allows exactly this many.
const ROUNDS: usize = 3;
/// Below this p-value the two groups differ: strict, so a busy machine does not fail the test
/// by chance, while a real difference (the issue measured p < 1e-4 with fewer samples) does.
const ALPHA: f64 = 1e-3;
/// The medians may differ by at most this fraction.
const MAX_MEDIAN_GAP: f64 = 0.10;
const WRONG_PASSWORD: &str = "Not-The-Password-42";

#[tokio::test]
async fn forgot_takes_as_long_for_an_unknown_address_as_for_an_account() {
    mail_request_is_alike("/api/auth/forgot", "/forgot?sent=1", "reset_password").await;
}

#[tokio::test]
async fn resend_takes_as_long_for_an_unknown_address_as_for_an_unconfirmed_account() {
    mail_request_is_alike("/api/auth/resend", "/verify?resent=1", "verify_email").await;
}

#[tokio::test]
async fn a_wrong_password_takes_as_long_as_an_unknown_address() {
    let app = TestApp::spawn().await;
    // A real hash with the server's parameters, so the account's check costs what it would.
    let hash = Hasher::new(1).hash("The-Real-Password-42").await.unwrap();
    let known = accounts(&app, SAMPLES + WARM_UP, &hash).await;
    let unknown = unknown_addresses(SAMPLES + WARM_UP);
    timed_alike(
        &app,
        "/api/auth/sign_in",
        [&known, &unknown],
        |email| vec![("email", email), ("password", WRONG_PASSWORD)],
        |answer| assert_eq!(answer.status, 400, "{answer:?}"),
    )
    .await;
}

async fn mail_request_is_alike(path: &str, answer: &str, kind: &str) {
    let app = TestApp::spawn().await;
    let known = accounts(&app, SAMPLES + WARM_UP, "not-a-hash").await;
    let unknown = unknown_addresses(SAMPLES + WARM_UP);
    timed_alike(
        &app,
        path,
        [&known, &unknown],
        |email| vec![("email", email)],
        |a| a.assert_redirects_to(answer),
    )
    .await;

    // The mail still goes to the accounts, and only to them.
    assert_eq!(
        mail::kinds(&app.pool, &known[0])
            .await
            .last()
            .map(String::as_str),
        Some(kind)
    );
    assert!(mail::queued(&app.pool, &unknown[0]).await.is_empty());
}

/// Times `path` for every address of both groups (`[with an account, without]`) and asserts
/// the two samples cannot be told apart. `form` builds the request's fields for an address;
/// `check` asserts each answer (the same for both groups).
async fn timed_alike<'a>(
    app: &TestApp,
    path: &str,
    groups: [&'a Vec<String>; 2],
    form: impl Fn(&'a str) -> Vec<(&'a str, &'a str)>,
    check: impl Fn(&Answer),
) {
    let per_group = groups[0].len();
    let browsers: Vec<Vec<Browser>> = groups
        .iter()
        .map(|emails| emails.iter().map(|_| Browser::open(app)).collect())
        .collect();
    for browser in browsers.iter().flatten() {
        // Each client's connection is open before its first request.
        assert_eq!(browser.get("/health").await.status, 200);
    }
    let ask = async |group: usize, i: usize| {
        let fields = form(&groups[group][i]);
        let started = Instant::now();
        let response = browsers[group][i].call(path, &fields).await;
        let took = started.elapsed().as_secs_f64() * 1000.0;
        check(&response);
        took
    };
    for i in 0..WARM_UP {
        ask(0, i).await;
        ask(1, i).await;
    }

    // Every measured address is asked for ROUNDS times and keeps its fastest time (as an
    // attacker would: the minimum filters out the machine's other work). All requests are
    // interleaved in a random order, so drift falls on both groups alike.
    let mut order: Vec<(usize, usize)> = (0..ROUNDS)
        .flat_map(|_| (WARM_UP..per_group).flat_map(|i| [(0, i), (1, i)]))
        .collect();
    order.shuffle(&mut rand::rng());
    let mut fastest = vec![vec![f64::INFINITY; per_group]; 2];
    for (group, i) in order {
        let took = ask(group, i).await;
        fastest[group][i] = fastest[group][i].min(took);
    }
    let known_ms = &fastest[0][WARM_UP..];
    let unknown_ms = &fastest[1][WARM_UP..];

    let p = mann_whitney_p(known_ms, unknown_ms);
    let (k, u) = (median(known_ms), median(unknown_ms));
    let ratio = k / u;
    eprintln!(
        "{path}: median {k:.3} ms with an account, {u:.3} ms without (ratio {ratio:.3}); \
         Mann–Whitney U p = {p:.3e}, n = {} + {}",
        known_ms.len(),
        unknown_ms.len()
    );
    assert!(
        p > ALPHA,
        "{path}: known and unknown addresses are told apart by timing (p = {p:.3e})"
    );
    assert!(
        (ratio - 1.0).abs() <= MAX_MEDIAN_GAP,
        "{path}: medians differ by more than {MAX_MEDIAN_GAP}: ratio {ratio:.3}"
    );
}

fn unknown_addresses(n: usize) -> Vec<String> {
    (0..n).map(|_| new_email("nobody")).collect()
}

/// `n` accounts with unconfirmed addresses and `password_hash`, written straight into the
/// database (signing up that many accounts through the form would hash 160 passwords).
async fn accounts(app: &TestApp, n: usize, password_hash: &str) -> Vec<String> {
    let emails: Vec<String> = (0..n).map(|_| new_email("timed")).collect();
    let mut tx = begin_service(&app.pool, ServiceRole::Auth).await.unwrap();
    sqlx::query(
        "insert into auth.users (email, password_hash) \
         select e, $2 from unnest($1::text[]) as e",
    )
    .bind(&emails)
    .bind(password_hash)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    emails
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Two-sided p-value of the Mann–Whitney U test (normal approximation with tie correction
/// and continuity correction; good for samples this large).
fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let rank = (i + j + 2) as f64 / 2.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_sum_a += rank * all[i..=j].iter().filter(|(_, in_a)| *in_a).count() as f64;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let total = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' `erfcc`, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[test]
fn the_statistics_are_right_on_known_cases() {
    // erfc(1) = 0.157299…, erfc(0) = 1.
    assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
    assert!((erfc(0.0) - 1.0).abs() < 1e-6);
    let a: Vec<f64> = (0..100).map(f64::from).collect();
    let shifted: Vec<f64> = (0..100).map(|x| f64::from(x) + 50.0).collect();
    let same: Vec<f64> = (0..100).map(|x| f64::from(x) + 0.5).collect();
    assert!(mann_whitney_p(&a, &shifted) < 1e-9);
    assert!(mann_whitney_p(&a, &same) > 0.9);
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
}
