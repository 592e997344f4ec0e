//! Row-level security that costs once per statement, not once per row (issue 29, measured with
//! `bench/pages`): the policies on `cases` and `case_shares` call `csphub_agency()` and
//! `csphub_partnerships()` inside scalar sub-selects, which PostgreSQL evaluates once per
//! statement (an InitPlan), where an inlined call re-read and re-parsed the request's settings
//! for every row. A page of cases reads its agency's shares once for the policy (a hash of them):
//! with 50,000 shares that took 56 ms before and 6 ms after. The rules themselves are unchanged.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER POLICY service_read ON cases USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id
            AND s.agency_id = (SELECT csphub_agency())
            AND s.partnership_id = ANY ((SELECT csphub_partnerships())::uuid[])));
ALTER POLICY service_update ON cases USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id
            AND s.agency_id = (SELECT csphub_agency())
            AND s.partnership_id = ANY ((SELECT csphub_partnerships())::uuid[])));
ALTER POLICY service_read ON case_shares USING (
    partnership_id = ANY ((SELECT csphub_partnerships())::uuid[])
    AND (agency_id = (SELECT csphub_agency()) OR csphub_sees_case(case_id)));
"#;

const DOWN: &str = r#"
ALTER POLICY service_read ON cases USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id AND s.agency_id = csphub_agency()
            AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_update ON cases USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id AND s.agency_id = csphub_agency()
            AND s.partnership_id = ANY (csphub_partnerships())));
ALTER POLICY service_read ON case_shares USING (
    partnership_id = ANY (csphub_partnerships())
    AND (agency_id = csphub_agency() OR csphub_sees_case(case_id)));
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(DOWN).await?;
        Ok(())
    }
}
