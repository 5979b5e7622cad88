//! Malformed requests, as a fuzzer or a careless client sends them, against every server
//! function and every `/auth/v1` endpoint: each must answer a 4xx in that surface's one error
//! shape, and leave every table exactly as it was.
mod auth_v1;
mod server_fns;

use std::collections::BTreeMap;

use sqlx::{Connection as _, Row as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{PUBLIC_URL, TestApp};

/// Every table's row count and a digest of its rows, read as the owner.
pub type Snapshot = BTreeMap<String, (i64, String)>;

pub async fn snapshot(app: &TestApp) -> Snapshot {
    let mut conn = app.owner_conn().await;
    let mut tx = conn.begin().await.expect("begin");
    let tables: Vec<String> = sqlx::query_scalar(
        "select format('%I.%I', table_schema, table_name) from information_schema.tables \
         where table_type = 'BASE TABLE' \
           and table_schema not in ('pg_catalog', 'information_schema') order by 1",
    )
    .fetch_all(&mut *tx)
    .await
    .expect("list tables");
    assert!(tables.len() > 5, "the schema has tables: {tables:?}");
    let mut snapshot = Snapshot::new();
    for table in tables {
        // Row Level Security is forced even for the owner; lifting it inside a transaction that
        // is rolled back lets the owner read every row and leaves the schema as it was.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter table {table} no force row level security"
        )))
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "select count(*)::bigint, coalesce(md5(string_agg(t::text, e'\\n' order by t::text)), '') \
             from {table} t"
        )))
        .fetch_one(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        snapshot.insert(table, (row.get(0), row.get(1)));
    }
    tx.rollback().await.expect("rollback");
    snapshot
}

/// The tables whose rows differ between two snapshots, as failures.
pub fn changes(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let names: std::collections::BTreeSet<_> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| {
            let rows = |s: &Snapshot| s.get(name).map_or(-1, |(count, _)| *count);
            format!(
                "table {name} changed: {} rows before, {} after",
                rows(before),
                rows(after)
            )
        })
        .collect()
}

/// A request's answer as the client saw it.
#[derive(Debug)]
pub struct Seen {
    pub case: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How an oversized body is sent.
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    /// `Transfer-Encoding: chunked`: the server learns the size only by reading.
    Chunked,
    /// `Content-Length`: the server can refuse before reading.
    Declared,
}

impl Framing {
    pub fn case(self) -> &'static str {
        match self {
            Self::Chunked => "a chunked body over the limit",
            Self::Declared => "a body over the limit, its length declared",
        }
    }
}

/// Sends `body_bytes` bytes (more than the body limit) over a raw connection, framed as asked,
/// and reads the answer. The server may answer and close before the whole body is sent, so
/// write errors are expected and ignored.
pub async fn oversize(
    app: &TestApp,
    framing: Framing,
    path_and_query: &str,
    content_type: &str,
    extra_headers: &[(&str, &str)],
    body_bytes: usize,
) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let mut head = format!(
        "POST {path_and_query} HTTP/1.1\r\nHost: {}\r\nOrigin: {PUBLIC_URL}\r\n\
         Content-Type: {content_type}\r\nConnection: close\r\n",
        app.addr
    );
    let chunk = vec![b'a'; 64 * 1024];
    let chunks = body_bytes.div_ceil(chunk.len());
    head.push_str(&match framing {
        Framing::Chunked => "Transfer-Encoding: chunked\r\n".to_owned(),
        Framing::Declared => format!("Content-Length: {}\r\n", chunks * chunk.len()),
    });
    for (name, value) in extra_headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let (mut read, mut write) = stream.split();
    let send = async {
        write.write_all(head.as_bytes()).await?;
        for _ in 0..chunks {
            if let Framing::Chunked = framing {
                write
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
            }
            write.write_all(&chunk).await?;
            if let Framing::Chunked = framing {
                write.write_all(b"\r\n").await?;
            }
        }
        if let Framing::Chunked = framing {
            write.write_all(b"0\r\n\r\n").await?;
        }
        write.flush().await
    };
    let mut answer = Vec::new();
    let receive = read.read_to_end(&mut answer);
    let (_sent, received) = tokio::join!(send, receive);
    received.expect("the server answers");
    parse_response(&answer)
}

/// Status, content type and (de-chunked) body of a raw HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> (u16, String, Vec<u8>) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP response: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head}"));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
    };
    let mut body = raw[end + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            let start = line_end + 2;
            plain.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
            rest = &rest[(start + size + 2).min(rest.len())..];
        }
        body = plain;
    }
    (status, header("content-type").unwrap_or_default(), body)
}

/// Bigger than the default body limit (1 MiB).
pub const OVERSIZE: usize = 1024 * 1024 + 128 * 1024;

/// Asserts that nothing failed, listing every failure at once.
#[track_caller]
pub fn assert_no_failures(what: &str, total: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {total} malformed {what} were answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
