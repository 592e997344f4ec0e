//! The mutations of indicators: add, link, record external figures and populations.

use super::*;

#[derive(Default)]
pub struct IndicatorMutation;

#[Object]
impl IndicatorMutation {
    /// Adds an indicator of the partnership's own. Coordinators only (not the PCC).
    async fn create_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new indicator: its code, name, kind and, for INCIDENTS, what it counts."
        )]
        input: CreateIndicatorInput,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageIndicators)?;
        let conn = crate::graphql::db_txn(ctx)?;
        let code = check_code(&input.code)?;
        let name = crate::domain::plan::required_text(&input.name, "name")?;
        let definition = definition_of(conn, &input).await?;
        let existing = db::indicator::list(conn, target.id, None).await?;
        if existing.iter().any(|i| i.code == code) {
            return Err(AppError::Conflict(format!(
                "the partnership already has an indicator '{code}' (built-in codes are taken too)"
            ))
            .into());
        }
        let own = existing.iter().filter(|i| !i.builtin).count();
        if own >= MAX_OWN_INDICATORS {
            return Err(AppError::BadUserInput(format!(
                "a partnership may have at most {MAX_OWN_INDICATORS} indicators of its own"
            ))
            .into());
        }
        let row = db::indicator::create(
            conn,
            target.id,
            &code,
            &name,
            input.description.trim(),
            input.kind.as_str(),
            &definition,
            &p.sub,
        )
        .await?;
        Ok(row.into())
    }

    /// Links an indicator to a priority of a plan (linking twice changes nothing), so that the
    /// priority's reports show it. Coordinators only.
    async fn link_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A priority of a plan of a partnership in scope (NOT_FOUND otherwise).")]
        priority_id: ID,
        #[graphql(desc = "An indicator of the priority's partnership (NOT_FOUND otherwise).")]
        indicator_id: ID,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db_txn(ctx)?;
        let (priority, partnership) = priority_in_scope(conn, p, &priority_id).await?;
        let indicator =
            db::indicator::get(conn, partnership, parse_id(&indicator_id, "indicator")?).await?;
        authorize(p, Operation::ManageIndicators)?;
        db::indicator::link(conn, priority, indicator.id, &p.sub).await?;
        Ok(db::indicator::get(conn, partnership, indicator.id)
            .await?
            .into())
    }

    /// Removes an indicator's link to a priority. Coordinators only; NOT_FOUND when there is no
    /// such link.
    async fn unlink_indicator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A priority of a plan of a partnership in scope (NOT_FOUND otherwise).")]
        priority_id: ID,
        #[graphql(desc = "An indicator of the priority's partnership (NOT_FOUND otherwise).")]
        indicator_id: ID,
    ) -> Result<Indicator> {
        let p = principal(ctx)?;
        let conn = crate::graphql::db_txn(ctx)?;
        let (priority, partnership) = priority_in_scope(conn, p, &priority_id).await?;
        let indicator =
            db::indicator::get(conn, partnership, parse_id(&indicator_id, "indicator")?).await?;
        authorize(p, Operation::ManageIndicators)?;
        if !db::indicator::unlink(conn, priority, indicator.id).await? {
            return Err(AppError::not_found("link between the priority and the indicator").into());
        }
        Ok(db::indicator::get(conn, partnership, indicator.id)
            .await?
            .into())
    }

    /// Records an external indicator's figure for a partnership and a period (recording the same
    /// period again corrects it). Coordinators only.
    async fn record_indicator_value(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The indicator, the partnership, the period, the figure and its source.")]
        input: RecordIndicatorValueInput,
    ) -> Result<IndicatorValue> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        let conn = crate::graphql::db(ctx)?;
        let indicator =
            db::indicator::get(conn, target.id, parse_id(&input.indicator_id, "indicator")?)
                .await?;
        authorize(p, Operation::ManageIndicators)?;
        if indicator.kind != "EXTERNAL" {
            return Err(AppError::BadUserInput(format!(
                "'{}' counts incidents; only EXTERNAL indicators take recorded figures",
                indicator.code
            ))
            .into());
        }
        check_window(*input.from, input.to.into())?;
        if input.value < 0 {
            return Err(AppError::BadUserInput("value must not be negative".to_owned()).into());
        }
        let source = crate::domain::plan::required_text(&input.source, "source")?;
        let row = db::indicator::record_value(
            conn,
            indicator.id,
            target.id,
            *input.from,
            input.to.into(),
            input.value,
            &source,
            &p.sub,
        )
        .await?;
        Ok(value(&target.slug, row))
    }

    /// Records (or corrects) a partnership's mid-year population estimate. Coordinators only.
    async fn record_population(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partnership, the year, the estimate and its source.")]
        input: RecordPopulationInput,
    ) -> Result<Population> {
        let p = principal(ctx)?;
        let target = p.partnership_or_only(input.partnership.as_deref())?;
        authorize(p, Operation::ManageIndicators)?;
        let this_year = chrono::Utc::now().year();
        if !(1990..=this_year + 1).contains(&input.year) {
            return Err(AppError::BadUserInput(format!(
                "year must be between 1990 and {}",
                this_year + 1
            ))
            .into());
        }
        if !(1..=100_000_000).contains(&input.population) {
            return Err(AppError::BadUserInput(
                "population must be between 1 and 100,000,000".to_owned(),
            )
            .into());
        }
        let source = crate::domain::plan::required_text(&input.source, "source")?;
        let row = db::indicator::record_population(
            crate::graphql::db(ctx)?,
            target.id,
            input.year,
            input.population,
            &source,
            &p.sub,
        )
        .await?;
        Ok(population(&target.slug, row))
    }
}
