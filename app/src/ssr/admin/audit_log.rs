//! The audit log, filtered by actor, target, action and time, newest first.
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::{begin_admin, cursor, page_limit, paginate};
use crate::{
    domain::admin::{AuditPage, encode_cursor},
    error::AppError,
    ssr::{
        RequestContext,
        db::admin::{self as queries, AuditFilter},
    },
};

/// The audit log's filter form, as typed: users by id, email or username; times as the
/// browser's `datetime-local` (`2026-11-22T13:05`) or a date, in UTC.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor: String,
    pub target: String,
    pub action: String,
    pub from: String,
    pub until: String,
    pub after: Option<String>,
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// A time from the filter form, read as UTC.
fn parse_time(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(value) = non_empty(value) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| AppError::invalid(field, "Enter a date and time such as 2026-11-22T13:05."))
}

#[tracing::instrument(name = "admin.audit_log", skip_all)]
pub async fn page(ctx: &RequestContext, query: &AuditQuery) -> Result<AuditPage, AppError> {
    let after = cursor::<i64>(query.after.as_deref())?;
    let from = parse_time("from", &query.from)?;
    let until = parse_time("until", &query.until)?;
    let mut a = begin_admin(ctx).await?;
    let mut user = async |field: &str, reference: &str| match non_empty(reference) {
        None => Ok(None),
        Some(r) => queries::resolve_user(&mut a.tx, r)
            .await?
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "No user has that email or username.")),
    };
    let filter = AuditFilter {
        actor: user("actor", &query.actor).await?,
        target: user("target", &query.target).await?,
        action: non_empty(&query.action).map(str::to_owned),
        from,
        until,
        involving: None,
    };
    let mut entries = queries::audit_entries(&mut a.tx, &filter, after, page_limit()).await?;
    a.commit().await?;
    let next = paginate(&mut entries, |e| encode_cursor(e.at, e.id));
    Ok(AuditPage { entries, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_are_read_as_utc_in_the_usual_shapes() {
        let t = |s| parse_time("from", s).unwrap().unwrap().to_rfc3339();
        assert_eq!(t("2026-11-22T13:05"), "2026-11-22T13:05:00+00:00");
        assert_eq!(t("2026-11-22T13:05:09"), "2026-11-22T13:05:09+00:00");
        assert_eq!(t("2026-11-22"), "2026-11-22T00:00:00+00:00");
        assert_eq!(t("2026-11-22T14:05:00+01:00"), "2026-11-22T13:05:00+00:00");
        assert_eq!(parse_time("from", " ").unwrap(), None);
        assert!(parse_time("from", "yesterday").is_err());
    }
}
