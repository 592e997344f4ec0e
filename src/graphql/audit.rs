//! The audit log in GraphQL: who saw, searched and changed which case data, and when. Entries
//! that name a case, a note, a person or a search are case data: the acting agency's `auditor`
//! reads them, nobody else. Other entries: an agency's users read their own agency's,
//! coordinators their partnership's. The PCC reads none. Reading the log is itself recorded.

use crate::scalar::Timestamp;
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use serde_json::json;

use super::page::{
    Connection, PageArgs, connection, decode_seq_cursor, encode_seq_cursor, wants_total,
};
use super::{Text, principal};
use crate::auth::policy::{Operation, audit_view, authorize};
use crate::db;
use crate::db::audit::{Action, LogFilter, LogRow, LogScope};

/// One audit entry.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEntry {
    /// The entry's id.
    pub id: ID,
    /// When the entry was written (RFC 3339, UTC).
    pub at: crate::scalar::Timestamp,
    /// Who acted: the token's `sub`.
    pub sub: String,
    #[graphql(skip)]
    pub agency: Option<String>,
    /// The slug of the partnership whose log holds the entry.
    pub partnership: Option<String>,
    /// e.g. CASE_VIEWED, NOTES_VIEWED, PEOPLE_SEARCHED, NOTE_ADDED, CASE_SHARED; and, not case
    /// data, REPORT_LINK_CREATED and REPORT_LINK_OPENED (`createReportLink`).
    pub action: String,
    /// The kind of record the entry is about, `case`, `person` or `report_link` (the link's
    /// own id); null when it is about no one record (a list, a search, a read of the log).
    pub record_type: Option<String>,
    /// The id of that record, e.g. a case's `id`; null when `recordType` is.
    pub record_id: Option<String>,
    /// What else the entry records: search terms, the ids listed or read, a share's basis.
    pub detail: Json<serde_json::Value>,
    /// The request it was written in (the `x-request-id` the response carried).
    pub request_id: Option<String>,
}

#[async_graphql::ComplexObject]
impl AuditEntry {
    /// The agency that acted (slug, name, kind); null for an entry of a maintenance command
    /// (retention, subject export), which acts for no agency.
    #[graphql(complexity = "child_complexity")]
    async fn agency(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<Option<std::sync::Arc<crate::graphql::area::Agency>>> {
        match &self.agency {
            Some(slug) => Ok(Some(crate::graphql::incident::agency(ctx, slug).await?)),
            None => Ok(None),
        }
    }
}

impl From<LogRow> for AuditEntry {
    fn from(r: LogRow) -> Self {
        AuditEntry {
            id: ID(r.id.to_string()),
            at: Timestamp(r.at),
            sub: r.sub,
            agency: r.agency,
            partnership: r.partnership,
            action: r.action,
            record_type: r.record_type,
            record_id: r.record_id,
            detail: Json(r.detail),
            request_id: r.request_id,
        }
    }
}

/// Filters for `auditLog`: the filters given must all match.
#[derive(InputObject, Default)]
pub struct AuditFilterInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    /// Only entries of this action, e.g. CASE_VIEWED (up to 40 characters). Naming an action about
    /// case data without the `auditor` capability is FORBIDDEN.
    #[graphql(validator(custom = "Text(40)"))]
    pub action: Option<String>,
    /// Only entries by this actor: a token's `sub`, exactly (up to 200 characters).
    #[graphql(validator(custom = "Text(200)"))]
    pub sub: Option<String>,
    /// A record's id, e.g. a case's.
    #[graphql(validator(custom = "Text(100)"))]
    pub record_id: Option<String>,
    /// From this moment (inclusive).
    pub from: Option<crate::scalar::Timestamp>,
    /// Up to this moment (exclusive).
    pub to: Option<crate::scalar::Timestamp>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit entries, newest first (by time, then id), cursor-paginated. Entries about plans,
    /// reports, pushes and incidents: the caller's own agency's, or with `coordinator` every
    /// agency's in the partnership. Entries that name a case, a note, a person or a search
    /// (case data): with `auditor` only, and only the caller's own agency's; asking for such an
    /// action by name without `auditor` is FORBIDDEN. Not the PCC.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which entries: the filters given must all match.")]
        filter: AuditFilterInput,
        #[graphql(desc = "page size, 1 to 100 (default 50)")] first: Option<i32>,
        #[graphql(desc = "Cursor: the `endCursor` of the previous page; omit for the first page.")]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<AuditEntry>> {
        let p = principal(ctx)?;
        authorize(p, Operation::ReadAuditLog)?;
        let partnership = p.partnership_or_only(filter.partnership.as_deref())?;
        let keys = PageArgs::new(first, after, last, before).keyset(decode_seq_cursor)?;
        let asks_case_data = filter
            .action
            .as_deref()
            .and_then(Action::parse)
            .is_some_and(Action::is_case_data);
        let view = audit_view(p, asks_case_data)?;
        let scope = LogScope {
            partnership: partnership.id,
            agency_id: p.agency_id,
            every_agency: view.every_agency,
            case_data: view.case_data,
        };
        let f = LogFilter {
            action: filter.action.clone(),
            sub: filter.sub.clone(),
            record_id: filter.record_id.clone(),
            from: filter.from.map(Into::into),
            to: filter.to.map(Into::into),
        };
        let conn = super::db(ctx)?;
        let (rows, total_count) =
            db::audit::log_page(conn, &scope, &f, &keys, wants_total(ctx)).await?;
        let page = usize::try_from(keys.limit).unwrap_or(usize::MAX);
        super::audit_read(
            ctx,
            p,
            partnership.id,
            Action::AuditLogViewed,
            None,
            json!({"filter": {"action": f.action, "sub": f.sub, "recordId": f.record_id,
                              "from": f.from, "to": f.to},
                   "entries": rows.len().min(page)}),
        )?;
        Ok(connection(
            &keys,
            rows,
            |r| encode_seq_cursor(r.at, r.id),
            |r| Ok(AuditEntry::from(r)),
            total_count.unwrap_or_default(),
        )?)
    }
}
