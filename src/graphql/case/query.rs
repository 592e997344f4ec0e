//! The queries of cases: `cases`, `case`, `caseByRef` and `searchPeople`.

use super::*;

/// The most matches `searchPeople` finds: the best, by score.
const SEARCH_MAX: usize = 100;

/// What `cases` can be ordered by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CaseOrderField {
    /// When the case was recorded in csphub (`createdAt`), then its id.
    CreatedAt,
    /// The day the case was opened (`openedOn`), then its id.
    OpenedOn,
    /// Its risk level (STANDARD, MEDIUM, HIGH: DESC puts HIGH first), then the day it was
    /// opened, then its id.
    Risk,
}

/// The order of `cases`: a field and a direction (`cases` without `orderBy` is
/// `{field: CREATED_AT, direction: DESC}`).
#[derive(InputObject, Clone, Copy, Debug)]
pub struct CaseOrder {
    /// What to order by.
    pub field: CaseOrderField,
    /// ASC (smallest, oldest or lowest first) or DESC (largest, newest or highest first).
    pub direction: OrderDirection,
}

impl Default for CaseOrder {
    fn default() -> Self {
        CaseOrder {
            field: CaseOrderField::CreatedAt,
            direction: OrderDirection::Desc,
        }
    }
}

/// The keyset of a page of cases, by the order's key.
enum Paged {
    Created(crate::db::page::Keyset<chrono::DateTime<chrono::Utc>, Uuid>),
    Opened(crate::db::page::Keyset<NaiveDate, Uuid>),
    Risk(crate::db::page::Keyset<i64, Uuid>),
}

impl Paged {
    fn limit(&self) -> u64 {
        match self {
            Paged::Created(k) => k.limit,
            Paged::Opened(k) => k.limit,
            Paged::Risk(k) => k.limit,
        }
    }
}

/// Filters for `cases`.
#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    /// The partnership's slug; may be left out when the token names one partnership.
    pub partnership: Option<String>,
    /// Only cases of this type.
    pub case_type: Option<CaseType>,
    /// Only open, or only closed, cases.
    pub status: Option<CaseStatus>,
    /// Only cases at this risk level.
    pub risk_level: Option<RiskLevel>,
    /// The owning agency's slug.
    pub owning_agency: Option<String>,
    /// An area code.
    pub area: Option<String>,
    /// Part of the reference, e.g. "2015-00".
    #[graphql(validator(custom = "Text(40)"))]
    pub ref_contains: Option<String>,
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// The cases shared with the caller's agency, filtered, in the order asked for (by default
    /// newest first), as a Relay connection with the total count. Needs `caseworker`; never the
    /// PCC. Audited (with the ids listed).
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filter, its order and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default,
            desc = "Which cases: the filters given must all match. Omit for every case shared with the caller's agency in the partnership."
        )]
        filter: CaseFilterInput,
        #[graphql(
            desc = "The list's order (null or left out: the default): when the case was recorded (the default, newest first), the day it was opened, or its risk (highest first when DESC, then the most recently opened). A cursor is of one order: pass it back with the same `orderBy`."
        )]
        order_by: Option<CaseOrder>,
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
    ) -> Result<Connection<Case>> {
        let p = caseworker(ctx)?;
        let partnership = p.partnership_or_only(filter.partnership.as_deref())?;
        let args = PageArgs::new(first, after, last, before);
        let f = db::case::CaseFilter {
            partnership_id: partnership.id,
            case_type: filter.case_type.map(|t| t.as_str().to_owned()),
            status: filter.status.map(|s| {
                match s {
                    CaseStatus::Open => "OPEN",
                    CaseStatus::Closed => "CLOSED",
                }
                .to_owned()
            }),
            risk_level: filter.risk_level.map(|r| r.as_str().to_owned()),
            owning_agency: filter.owning_agency.clone(),
            area: filter.area.clone(),
            ref_contains: filter.ref_contains.clone(),
        };
        let conn = crate::graphql::db(ctx)?;
        let order_by = order_by.unwrap_or_default();
        let desc = order_by.direction == OrderDirection::Desc;
        let (rows, limit) = match order_by.field {
            CaseOrderField::CreatedAt => {
                let keys = args.keyset(decode_cursor)?;
                let rows = db::case::page(conn, p, &f, db::case::Order::Created, desc, &keys);
                (rows.await?, Paged::Created(keys))
            }
            CaseOrderField::OpenedOn => {
                let keys = args.keyset(|c| {
                    decode_tagged("o", c, |k| {
                        // Only days a list can hold: one PostgreSQL cannot store would abort
                        // the request's transaction.
                        NaiveDate::parse_from_str(k, "%Y-%m-%d")
                            .ok()
                            .filter(|d| (1900..=9999).contains(&chrono::Datelike::year(d)))
                    })
                })?;
                let rows = db::case::page(conn, p, &f, db::case::Order::Opened, desc, &keys);
                (rows.await?, Paged::Opened(keys))
            }
            CaseOrderField::Risk => {
                let keys = args.keyset(|c| decode_tagged("r", c, |k| k.parse::<i64>().ok()))?;
                let rows = db::case::page(conn, p, &f, db::case::Order::Risk, desc, &keys);
                (rows.await?, Paged::Risk(keys))
            }
        };
        let total_count = if wants_total(ctx) {
            db::case::count(conn, p, &f).await?
        } else {
            0
        };
        let page = usize::try_from(limit.limit()).unwrap_or(usize::MAX);
        let ids: Vec<String> = rows.iter().take(page).map(|c| c.id.to_string()).collect();
        crate::graphql::audit_read(
            ctx,
            p,
            partnership.id,
            Action::CasesListed,
            None,
            json!({
                "filter": {
                    "caseType": f.case_type, "status": f.status, "riskLevel": f.risk_level,
                    "owningAgency": f.owning_agency, "area": f.area, "refContains": f.ref_contains,
                },
                "cases": ids,
            }),
        )?;
        Ok(match limit {
            Paged::Created(keys) => connection(
                &keys,
                rows,
                |c| encode_cursor(c.created_at, c.id),
                Case::try_from,
                total_count,
            ),
            Paged::Opened(keys) => connection(
                &keys,
                rows,
                |c| encode_tagged("o", c.opened_on.format("%Y-%m-%d"), c.id),
                Case::try_from,
                total_count,
            ),
            Paged::Risk(keys) => connection(
                &keys,
                rows,
                |c| encode_tagged("r", db::case::risk_key(&c.risk_level, c.opened_on), c.id),
                Case::try_from,
                total_count,
            ),
        }?)
    }

    /// One case shared with the caller's agency. NOT_FOUND otherwise, whether it exists or
    /// not. Audited.
    async fn case(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The case's id.")] id: ID,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let conn = crate::graphql::db(ctx)?;
        let row = db::case::by_id(conn, p, parse_id(&id, "case")?)
            .await?
            .ok_or_else(not_found)?;
        viewed(ctx, p, &row)?;
        Ok(Case::try_from(row)?)
    }

    /// One case by its reference (e.g. ASB-2015-0042), as `case`.
    async fn case_by_ref(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "the partnership's slug; may be left out when the token names one")]
        partnership: Option<String>,
        #[graphql(
            validator(custom = "Text(40)"),
            desc = "The case's reference, e.g. ASB-2015-0042, in capitals or not; up to 40 characters."
        )]
        r#ref: String,
    ) -> Result<Case> {
        let p = caseworker(ctx)?;
        let scope = p.partnership_or_only(partnership.as_deref())?;
        let conn = crate::graphql::db(ctx)?;
        let row = db::case::by_ref(conn, p, scope.id, &r#ref)
            .await?
            .ok_or_else(not_found)?;
        viewed(ctx, p, &row)?;
        Ok(Case::try_from(row)?)
    }

    /// People held in cases shared with the caller's agency whose name is like `name` (a
    /// misspelt surname finds them: trigram similarity), optionally with a date of birth, best
    /// first: the 100 best matches at most, as a Relay connection (`totalCount` counts those).
    /// People of other cases are never found. The name needs at least 3 letters; a search is
    /// heavy work and waits for a heavy slot like statistics. Audited with the terms and the
    /// people on the page returned.
    #[graphql(complexity = "crate::graphql::list_cost(first.or(last), child_complexity)")]
    // A list field's arguments are its filters and Relay's four paging arguments.
    #[allow(clippy::too_many_arguments)]
    async fn search_people(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The partnership's slug; may be left out when the token names one partnership."
        )]
        partnership: Option<String>,
        #[graphql(
            validator(custom = "Text(200)"),
            desc = "The name to look for, up to 200 characters, with at least 3 letters or digits (fewer is BAD_USER_INPUT); a surname alone will do."
        )]
        name: String,
        #[graphql(
            desc = "Only people born on this day (YYYY-MM-DD); people with no date of birth recorded are then left out."
        )]
        date_of_birth: Option<crate::scalar::Date>,
        #[graphql(desc = "page size, 1 to 100 (default 20)")] first: Option<i32>,
        #[graphql(
            desc = "The `pageInfo.endCursor` of the previous page; left out for the first page. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Page size counted back from the end of the list (or from `before`), 1 to 100: give it instead of `first` to page backwards."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Cursor: the `startCursor` of the page after the one wanted; with `last`, the items just before it. A cursor this API did not give out is BAD_USER_INPUT."
        )]
        before: Option<String>,
    ) -> Result<Connection<PersonMatch>> {
        let p = caseworker(ctx)?;
        crate::graphql::heavy_granted(ctx)?;
        let scope = p.partnership_or_only(partnership.as_deref())?;
        let name = name.trim();
        // A trigram needs three letters: anything shorter matches nearly everyone.
        if name.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            return Err(
                AppError::BadUserInput("name must have at least 3 letters".to_owned()).into(),
            );
        }
        let args = PageArgs {
            first: first.or(if last.is_none() { Some(20) } else { None }),
            after,
            last,
            before,
        };
        // The best SEARCH_MAX matches at most, read only as far as the page needs (all of
        // them for a count or a page counted back from the end).
        let reach = if wants_total(ctx) {
            None
        } else {
            crate::graphql::page::reach(&args)?
        };
        let limit = reach.map_or(SEARCH_MAX, |n| n.min(SEARCH_MAX));
        let conn = crate::graphql::db(ctx)?;
        let found = db::case::search_people(
            conn,
            p,
            scope.id,
            name,
            date_of_birth.map(Into::into),
            u64::try_from(limit).unwrap_or(1),
        )
        .await?;
        let page = crate::graphql::page::page_of(
            found.into_iter().map(PersonMatch::from).collect(),
            &args,
        )?;
        crate::graphql::audit_read(
            ctx,
            p,
            scope.id,
            Action::PeopleSearched,
            None,
            json!({
                "name": name, "dateOfBirth": date_of_birth,
                "found": page.nodes.iter().map(|m| m.person_id.to_string()).collect::<Vec<_>>(),
            }),
        )?;
        Ok(page)
    }
}
