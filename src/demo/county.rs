//! The county's other districts with their populations, the PCC's grant and the residents' survey.

use super::*;

/// Hertfordshire's ten districts (each its own partnership; Stevenage is the demo's own), with
/// populations close to the ONS mid-2013 and mid-2014 estimates, rounded: demo figures, not
/// official ones.
pub(super) const COUNTY: [(&str, &str, i32, i32); 10] = [
    ("broxbourne", "Broxbourne", 94_600, 95_700),
    ("dacorum", "Dacorum", 147_200, 148_300),
    ("east-herts", "East Hertfordshire", 140_800, 142_400),
    ("hertsmere", "Hertsmere", 101_400, 102_400),
    ("north-herts", "North Hertfordshire", 129_000, 130_600),
    ("st-albans", "St Albans", 143_000, 144_800),
    (PARTNERSHIP, "Stevenage (SoSafe)", 85_000, 85_600),
    ("three-rivers", "Three Rivers", 89_100, 89_800),
    ("watford", "Watford", 93_700, 94_700),
    ("welwyn-hatfield", "Welwyn Hatfield", 114_000, 115_900),
];

/// The county's other districts, their populations, and made-up incidents from August 2012 (the
/// 2015 strategic assessment's window and the one before it) to March 2015: each district's
/// rate for each category is Stevenage's times a factor between 0.5 and 1.5, so the demo's
/// assessment ranks Stevenage among ten. Stevenage's own records before April 2014 come from
/// the same generator; its records from April 2014 are `demo_incidents`. Deterministic; loading
/// twice changes nothing.
pub(super) async fn load_county<C: ConnectionTrait>(conn: &C) -> Result<(), AppError> {
    for (slug, name, pop13, pop14) in COUNTY {
        db::execute(
            conn,
            "INSERT INTO partnerships (slug, name, county) VALUES ($1, $2, 'Hertfordshire') \
             ON CONFLICT (slug) DO NOTHING",
            vec![slug.into(), name.into()],
            &[],
        )
        .await?;
        for (year, population) in [(2013, pop13), (2014, pop14)] {
            db::execute(
                conn,
                "INSERT INTO populations (partnership_id, year, population, source, recorded_by_sub) \
                 SELECT id, $2, $3, 'Demo figure close to the ONS mid-year estimate (rounded; not official)', $4 \
                 FROM partnerships WHERE slug = $1 ON CONFLICT DO NOTHING",
                vec![slug.into(), year.into(), population.into(), LOADER.into()],
                &[],
            )
            .await?;
        }
    }
    let slugs: Vec<String> = COUNTY.iter().map(|c| c.0.to_owned()).collect();
    let wards: Vec<String> = WARDS.iter().map(|w| slug(w.0)).collect();
    db::execute(
        conn,
        "INSERT INTO agency_partnerships (agency_id, partnership_id) \
         SELECT a.id, p.id FROM agencies a, partnerships p \
         WHERE a.slug IN ('herts-police', 'herts-fire', 'herts-pcc') AND p.slug = ANY($1) \
         ON CONFLICT DO NOTHING",
        vec![slugs.clone().into()],
        &[],
    )
    .await?;
    db::execute(
        conn,
        "INSERT INTO areas (partnership_id, code, name, kind) \
         SELECT p.id, 'whole-district', p.name || ' (whole district)', 'neighbourhood' \
         FROM partnerships p WHERE p.slug = ANY($1) AND p.slug <> $2 ON CONFLICT DO NOTHING",
        vec![slugs.clone().into(), PARTNERSHIP.into()],
        &[],
    )
    .await?;
    db::execute(
        conn,
        COUNTY_SQL,
        vec![slugs.into(), wards.into(), LOADER.into()],
        &[],
    )
    .await?;
    Ok(())
}

/// $1: the districts' slugs; $2: Stevenage's ward codes; $3: the loader's subject.
pub(super) const COUNTY_SQL: &str = r#"
WITH cats(category, base, source) AS (VALUES
    ('violent-crime', 0.29, 'herts-police'), ('burglary', 0.29, 'herts-police'),
    ('vehicle-crime', 0.29, 'herts-police'), ('criminal-damage-arson', 0.29, 'herts-police'),
    ('shoplifting', 0.29, 'herts-police'), ('other-theft', 0.29, 'herts-police'),
    ('drugs', 0.29, 'herts-police'), ('public-order', 0.29, 'herts-police'),
    ('deliberate-fire', 0.39, 'herts-fire'), ('anti-social-behaviour', 1.16, 'herts-police')
), d AS (
    SELECT p.id, p.slug, pop.population,
        CASE WHEN p.slug = 'stevenage' THEN date '2014-03-31' ELSE date '2015-03-31' END AS stop
    FROM partnerships p JOIN populations pop ON pop.partnership_id = p.id AND pop.year = 2013
    WHERE p.slug = ANY($1)
      AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.partnership_id = p.id AND i.external_ref LIKE 'CTY-%')
), rows AS (
    SELECT d.id AS partnership_id, d.slug, s.day::date AS day, c.category, c.source, g.k,
        abs(hashtext(d.slug || s.day::date::text || c.category || g.k::text)) AS h
    FROM d
    CROSS JOIN generate_series(date '2012-08-01', d.stop, interval '1 day') AS s(day)
    CROSS JOIN cats c
    CROSS JOIN LATERAL generate_series(1, floor(
        c.base * d.population / 100000.0
        * CASE WHEN d.slug = 'stevenage' THEN 1.0 ELSE 0.5 + (abs(hashtext(d.slug || c.category)) % 101) / 100.0 END
        + (abs(hashtext(d.slug || s.day::date::text || c.category)) % 1000) / 1000.0)::int) AS g(k)
)
INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category, occurred_at, occurred_on,
    area_id, domestic_abuse, youth_related, hate_strands, drug_class, asb_type, fire_type, content_hash,
    pushed_by_sub)
SELECT
    CASE WHEN r.slug = 'stevenage' AND r.category = 'anti-social-behaviour'
        THEN (SELECT id FROM agencies WHERE slug = 'stevenage-council')
        ELSE (SELECT id FROM agencies WHERE slug = r.source) END,
    'CTY-' || r.slug || '-' || to_char(r.day, 'YYYYMMDD') || '-' || r.category || '-' || r.k,
    r.partnership_id, r.category,
    (r.day + make_interval(hours => r.h % 24, mins => r.h % 60)) AT TIME ZONE 'Europe/London',
    r.day,
    (SELECT a.id FROM areas a WHERE a.partnership_id = r.partnership_id AND a.code =
        CASE WHEN r.slug = 'stevenage' THEN ($2::text[])[1 + r.h % cardinality($2::text[])] ELSE 'whole-district' END),
    r.category = 'violent-crime' AND r.h % 3 = 0,
    r.category IN ('anti-social-behaviour', 'deliberate-fire') AND r.h % 4 = 0,
    CASE WHEN r.category = 'public-order' AND r.h % 6 = 0 THEN ARRAY['race'] ELSE '{}'::text[] END,
    CASE WHEN r.category = 'drugs' THEN (ARRAY['a', 'b', 'c'])[1 + r.h % 3] END,
    CASE WHEN r.category = 'anti-social-behaviour' THEN (ARRAY['personal', 'nuisance', 'environmental'])[1 + r.h % 3] END,
    CASE WHEN r.category = 'deliberate-fire' THEN (ARRAY['secondary', 'secondary', 'primary', 'primary-vehicle'])[1 + r.h % 4] END,
    md5('CTY-' || r.slug || r.day::text || r.category || r.k::text),
    $3
FROM rows r
"#;

/// The report's PCC grant (GBP 30,000 for the standard / medium risk domestic abuse panel and
/// the DART programme; the award date and the spend are made up), the built-in indicators the
/// report quotes linked to the 2014/15 priorities they belong to, and the 2013 residents'
/// survey figures the report quotes (its sample size is not given).
pub(super) const GRANT_AND_SURVEY_SQL: &str = r#"
INSERT INTO grants (partnership_id, funder_agency_id, amount_pence, purpose, awarded_on, recorded_by_sub)
SELECT p.id, a.id, 3000000,
    'Pilot a multi-agency standard / medium risk domestic abuse panel and the NSPCC DART programme',
    '2014-05-01', 'csphub-demo-loader'
FROM partnerships p, agencies a
WHERE p.slug = 'stevenage' AND a.slug = 'herts-pcc'
  AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.partnership_id = p.id);
INSERT INTO grant_actions (grant_id, action_id, partnership_id)
SELECT g.id, ac.id, g.partnership_id FROM grants g
JOIN plans pl ON pl.partnership_id = g.partnership_id AND pl.financial_year = '2014/15'
JOIN actions ac ON ac.plan_id = pl.id AND ac.title LIKE 'Pilot a multi-agency standard / medium risk DA panel%'
WHERE g.amount_pence = 3000000 AND g.recorded_by_sub = 'csphub-demo-loader'
ON CONFLICT DO NOTHING;
INSERT INTO grant_spend (grant_id, partnership_id, amount_pence, spent_on, description, recorded_by_sub)
SELECT g.id, g.partnership_id, s.amount, s.spent_on::date, s.description, 'csphub-demo-loader'
FROM grants g, (VALUES
    (1250000, '2014-09-30', 'Panel coordinator, April to September (made-up demo spend)'),
    (750000, '2014-12-31', 'NSPCC DART programme, first cohort (made-up demo spend)')) AS s(amount, spent_on, description)
WHERE g.amount_pence = 3000000 AND g.recorded_by_sub = 'csphub-demo-loader'
  AND NOT EXISTS (SELECT 1 FROM grant_spend x WHERE x.grant_id = g.id);
INSERT INTO priority_indicators (priority_id, indicator_id, linked_by_sub)
SELECT pr.id, d.id, 'csphub-demo-loader'
FROM plans pl JOIN partnerships p ON p.id = pl.partnership_id AND p.slug = 'stevenage'
JOIN priorities pr ON pr.plan_id = pl.id
JOIN (VALUES (1, 'domestic-abuse'), (2, 'burglary'), (2, 'vehicle-crime'), (3, 'serious-violence'),
    (3, 'class-a-possession'), (4, 'hate-crime'), (6, 'anti-social-behaviour'), (6, 'criminal-damage'),
    (6, 'deliberate-fires')) AS l(position, code) ON l.position = pr.position
JOIN indicators d ON d.partnership_id = p.id AND d.builtin AND d.code = l.code
WHERE pl.financial_year = '2014/15'
ON CONFLICT DO NOTHING;
INSERT INTO survey_results (partnership_id, survey, year, question, percentage, recorded_by_sub)
SELECT p.id, 'Stevenage residents'' survey', 2013, q.question, q.pct, 'csphub-demo-loader'
FROM partnerships p, (VALUES
    ('Feel unsafe after dark', 42.0),
    ('Feel unsafe during the day', 7.0),
    ('Chose tackling crime and anti-social behaviour as a priority', 84.0)) AS q(question, pct)
WHERE p.slug = 'stevenage'
ON CONFLICT DO NOTHING;
"#;
