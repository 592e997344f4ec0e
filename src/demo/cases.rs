//! The demo's made-up cases.

use super::*;

/// The demo's cases: fifteen made-up cases (three of each type) owned by police, council and
/// fire, shared in each way the rules allow (owner only, with one agency, with all), with
/// SHARED and AGENCY notes, plainly fictional people (and a likely duplicate pair, John Example
/// and Jon Exampel, born the same day), interventions, a referral and a MARAC flag. Loaded by
/// `serve --demo`, not by the tests' template, unless already there.
pub async fn load_cases(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    txn.execute_unprepared("SELECT pg_advisory_xact_lock(7461001)")
        .await?;
    #[derive(sea_orm::FromQueryResult)]
    struct N {
        n: i64,
    }
    let existing: Option<N> = db::fetch_optional(
        &txn,
        "SELECT count(*) AS n FROM cases c JOIN partnerships p ON p.id = c.partnership_id WHERE p.slug = $1",
        vec![PARTNERSHIP.into()],
    )
    .await?;
    if existing.is_some_and(|e| e.n > 0) {
        return Ok(());
    }
    txn.execute_unprepared(DEMO_CASES_SQL).await?;
    txn.commit().await?;
    tracing::info!("loaded the demo cases");
    Ok(())
}

pub(super) const DEMO_CASES_SQL: &str = r#"
CREATE TEMP TABLE demo_cases (n int, ref text, case_type text, owner text, lead text, risk text,
    opened date, summary text, share_with text[], dash int, closed date, outcome text) ON COMMIT DROP;
INSERT INTO demo_cases VALUES
 (1,  'ASB-2014-0001', 'ASB', 'herts-police', 'PC Demo Able', 'MEDIUM', '2014-05-06', 'Repeat noise and intimidation at a parade of shops (made-up demo case)', '{stevenage-council}', NULL, NULL, NULL),
 (2,  'ASB-2014-0002', 'ASB', 'stevenage-council', 'ASB Officer Demo Baker', 'STANDARD', '2014-06-10', 'Neighbour dispute over a shared garden (made-up demo case)', '{}', NULL, NULL, NULL),
 (3,  'ASB-2014-0003', 'ASB', 'herts-fire', 'WM Demo Carter', 'MEDIUM', '2014-07-01', 'Repeated small deliberate fires in a stairwell (made-up demo case)', '{herts-police,stevenage-council}', NULL, NULL, NULL),
 (4,  'DA-2014-0004', 'DOMESTIC_ABUSE', 'herts-police', 'DC Demo Davies', 'HIGH', '2014-08-12', 'High-risk domestic abuse, awaiting MARAC referral (made-up demo case)', '{stevenage-council}', 16, NULL, NULL),
 (5,  'DA-2014-0005', 'DOMESTIC_ABUSE', 'herts-police', 'DC Demo Evans', 'MEDIUM', '2014-09-03', 'Medium-risk domestic abuse, panel support (made-up demo case)', '{stevenage-council,herts-fire}', 11, NULL, NULL),
 (6,  'DA-2014-0006', 'DOMESTIC_ABUSE', 'stevenage-council', 'IDVA Demo Foster', 'STANDARD', '2014-10-20', 'Standard-risk domestic abuse, closed after support (made-up demo case)', '{herts-police}', 6, '2015-02-27', 'risk-reduced'),
 (7,  'HATE-2014-0007', 'HATE', 'herts-police', 'PC Demo Green', 'MEDIUM', '2014-11-04', 'Racially aggravated harassment at a bus stop (made-up demo case)', '{}', NULL, NULL, NULL),
 (8,  'HATE-2014-0008', 'HATE', 'stevenage-council', 'Officer Demo Hughes', 'STANDARD', '2014-12-01', 'Homophobic graffiti on a front door (made-up demo case)', '{herts-police}', NULL, NULL, NULL),
 (9,  'HATE-2015-0001', 'HATE', 'herts-police', 'PC Demo Irwin', 'HIGH', '2015-01-15', 'Disability hate incidents against a vulnerable adult (made-up demo case)', '{stevenage-council,herts-fire}', NULL, NULL, NULL),
 (10, 'VUL-2015-0002', 'VULNERABILITY', 'herts-fire', 'WM Demo Jones', 'HIGH', '2015-02-02', 'Hoarding with a high fire risk (made-up demo case)', '{stevenage-council}', NULL, NULL, NULL),
 (11, 'VUL-2015-0003', 'VULNERABILITY', 'stevenage-council', 'Officer Demo King', 'MEDIUM', '2015-02-16', 'Self-neglect of an older resident (made-up demo case)', '{herts-fire}', NULL, NULL, NULL),
 (12, 'VUL-2015-0004', 'VULNERABILITY', 'herts-police', 'PC Demo Lewis', 'STANDARD', '2015-03-02', 'Missing-from-home young person, now returned (made-up demo case)', '{}', NULL, '2015-03-30', 'no-further-action'),
 (13, 'OTH-2015-0005', 'OTHER', 'stevenage-council', 'Officer Demo Morris', 'STANDARD', '2015-03-09', 'Fly-tipping hotspot tied to one address (made-up demo case)', '{}', NULL, NULL, NULL),
 (14, 'OTH-2015-0006', 'OTHER', 'herts-fire', 'WM Demo Nash', 'STANDARD', '2015-03-16', 'Arson risk at an empty building (made-up demo case)', '{herts-police}', NULL, NULL, NULL),
 (15, 'OTH-2015-0007', 'OTHER', 'herts-police', 'PC Demo Owen', 'MEDIUM', '2015-03-23', 'Street drinking group near a school (made-up demo case)', '{stevenage-council,herts-fire}', NULL, NULL, NULL);

INSERT INTO cases (id, partnership_id, ref, case_type, summary, owning_agency_id, lead_officer, risk_level,
    opened_on, dash_score, status, outcome, closed_on, review_on, created_by)
SELECT md5('demo-case-' || d.n)::uuid, p.id, d.ref, d.case_type, d.summary, a.id, d.lead, d.risk, d.opened,
    d.dash, CASE WHEN d.closed IS NULL THEN 'OPEN' ELSE 'CLOSED' END, d.outcome, d.closed,
    (d.closed + make_interval(years => r.years))::date, 'demo'
FROM demo_cases d JOIN partnerships p ON p.slug = 'stevenage' JOIN agencies a ON a.slug = d.owner
JOIN case_retention r ON r.case_type = d.case_type;

INSERT INTO case_ref_counters (partnership_id, year, last_number)
SELECT p.id, y.year, y.n FROM partnerships p, (VALUES (2014, 8), (2015, 7)) AS y(year, n)
WHERE p.slug = 'stevenage'
ON CONFLICT (partnership_id, year) DO UPDATE SET last_number = greatest(case_ref_counters.last_number, EXCLUDED.last_number);

INSERT INTO case_shares (case_id, agency_id, legal_basis, shared_by)
SELECT md5('demo-case-' || d.n)::uuid, a.id, 'OWNER', 'demo' FROM demo_cases d JOIN agencies a ON a.slug = d.owner;
INSERT INTO case_shares (case_id, agency_id, legal_basis, basis_text, shared_by)
SELECT md5('demo-case-' || d.n)::uuid, a.id,
    CASE WHEN d.case_type = 'DOMESTIC_ABUSE' THEN 'SAFEGUARDING' WHEN d.n % 4 = 0 THEN 'CONSENT' ELSE 'S115_CDA_1998' END,
    NULL, 'demo'
FROM demo_cases d CROSS JOIN LATERAL unnest(d.share_with) AS w(slug) JOIN agencies a ON a.slug = w.slug;

CREATE TEMP TABLE demo_people (n int, name text, dob date, part text, case_n int) ON COMMIT DROP;
INSERT INTO demo_people VALUES
 (1, 'John Example', '1980-04-01', 'VICTIM', 1), (2, 'Terry Testcase', '1996-07-14', 'PERPETRATOR', 1),
 (3, 'Pat Placeholder', '1975-01-20', 'COMPLAINANT', 2), (4, 'Sam Sample', '1977-03-03', 'PERPETRATOR', 2),
 (5, 'Jon Exampel', '1980-04-01', 'WITNESS', 3), (6, 'Dee Demo', '1989-09-09', 'VICTIM', 4),
 (7, 'Morgan Mockup', '1986-12-12', 'PERPETRATOR', 4), (8, 'Casey Fictional', '1992-02-29', 'VICTIM', 5),
 (9, 'Robin Madeup', '1990-10-10', 'VICTIM', 6), (10, 'Alex Invented', '1970-06-06', 'VICTIM', 7),
 (11, 'Jamie Notreal', '1985-05-05', 'VICTIM', 8), (12, 'Chris Pretend', '1964-08-08', 'VICTIM', 9),
 (13, 'Lee Imaginary', '1941-11-11', 'OTHER', 10), (14, 'Kim Dummy', '1938-03-17', 'VICTIM', 11),
 (15, 'Jordan Sampleton', '1999-01-01', 'VICTIM', 12), (16, 'Frankie Fakename', '1983-07-07', 'PERPETRATOR', 13),
 (17, 'Charlie Examplesson', '2000-02-02', 'OTHER', 14), (18, 'Drew Testperson', '1988-08-18', 'PERPETRATOR', 15);
INSERT INTO people (id, partnership_id, full_name, date_of_birth, address, contact, consent, consent_on, created_by)
SELECT md5('demo-person-' || d.n)::uuid, p.id, d.name, d.dob, d.n || ' Example Street, Stevenage (made up)',
    '01438 000 ' || lpad(d.n::text, 3, '0') || ' (made up)',
    CASE WHEN d.n % 3 = 0 THEN 'GIVEN' WHEN d.n % 3 = 1 THEN 'NOT_ASKED' ELSE 'REFUSED' END,
    CASE WHEN d.n % 3 = 1 THEN NULL ELSE DATE '2014-05-01' + d.n END, 'demo'
FROM demo_people d JOIN partnerships p ON p.slug = 'stevenage';
INSERT INTO case_subjects (case_id, person_id, part, added_by)
SELECT md5('demo-case-' || d.case_n)::uuid, md5('demo-person-' || d.n)::uuid, d.part, 'demo' FROM demo_people d;
-- John Example is in the ASB case 1 and a witness in the domestic-abuse case 5 too.
INSERT INTO case_subjects (case_id, person_id, part, added_by)
VALUES (md5('demo-case-5')::uuid, md5('demo-person-1')::uuid, 'WITNESS', 'demo');

INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, 'SHARED',
    'Shared note: case discussed at the ODG; actions agreed with partners (made up).', d.opened + time '10:00'
FROM demo_cases d JOIN agencies a ON a.slug = d.owner;
INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, 'AGENCY',
    'Agency-only note: ' || d.owner || ' intelligence, not for partners (made up).', d.opened + time '11:00'
FROM demo_cases d JOIN agencies a ON a.slug = d.owner WHERE d.n % 2 = 1;
-- Partners shared with add their own notes, one of them AGENCY-only.
INSERT INTO case_notes (case_id, author, agency_id, visibility, body, created_at)
SELECT md5('demo-case-' || d.n)::uuid, 'demo', a.id, CASE WHEN d.n % 3 = 0 THEN 'AGENCY' ELSE 'SHARED' END,
    w.slug || ' visited and spoke to the household (made up).', d.opened + 7 + time '09:30'
FROM demo_cases d CROSS JOIN LATERAL unnest(d.share_with) AS w(slug) JOIN agencies a ON a.slug = w.slug;

UPDATE cases SET odg_dates = ARRAY[opened_on + 14, opened_on + 42] WHERE id IN (md5('demo-case-1')::uuid, md5('demo-case-3')::uuid);
UPDATE cases SET dash_override_level = 'HIGH', dash_override_reason = 'Escalation and threats to kill (made up)', risk_level = 'HIGH'
    WHERE id = md5('demo-case-5')::uuid;
UPDATE cases SET marac_referred_on = DATE '2014-09-10', marac_outcome = 'Safety plan agreed (made up)' WHERE id = md5('demo-case-5')::uuid;

INSERT INTO case_interventions (case_id, intervention, agency_id, starts_on, recorded_by)
SELECT md5('demo-case-1')::uuid, 'warning-letter', a.id, DATE '2014-05-20', 'demo' FROM agencies a WHERE a.slug = 'herts-police'
UNION ALL SELECT md5('demo-case-1')::uuid, 'acceptable-behaviour-contract', a.id, DATE '2014-07-01', 'demo' FROM agencies a WHERE a.slug = 'stevenage-council'
UNION ALL SELECT md5('demo-case-15')::uuid, 'community-protection-notice', a.id, DATE '2015-03-30', 'demo' FROM agencies a WHERE a.slug = 'herts-police'
UNION ALL SELECT md5('demo-case-10')::uuid, 'home-fire-safety-visit', a.id, DATE '2015-02-05', 'demo' FROM agencies a WHERE a.slug = 'herts-fire';
INSERT INTO case_referrals (case_id, from_agency_id, to_programme, status, referred_on, decided_on, recorded_by)
SELECT md5('demo-case-2')::uuid, a.id, 'Family Intervention Project (Thriving Families)', 'ACCEPTED', DATE '2014-06-20', DATE '2014-07-01', 'demo'
FROM agencies a WHERE a.slug = 'stevenage-council';
"#;
