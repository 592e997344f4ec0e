//! Cases and case notes, their people, shares, interventions and referrals; the audit log; the
//! service's own database role and the row-level-security policies that hold the sharing rules.
//!
//! - `csphub_service` is the role every request runs as (the pool sets it at connection start,
//!   see `db::connect`). It is neither a superuser nor the owner of any table, has no
//!   BYPASSRLS, and gets only the privileges below: case notes and the audit log can be
//!   inserted and read, never updated or deleted.
//! - The policies for `csphub_service` read the acting agency and partnerships from the
//!   transaction-local settings the request's first statement writes (`csphub.agency_id`,
//!   `csphub.partnership_ids`). A transaction that has not set them sees no case rows.
//! - The role that ran this migration (the tables' owner) is the maintenance role: retention,
//!   subject export and audit verification run as it, and its own policy lets it see every row.
//!   `FORCE ROW LEVEL SECURITY` makes the owner go through the policies too, so no one but a
//!   superuser reads case tables without one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $$ BEGIN
    CREATE ROLE csphub_service NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
-- The migrating role may act as the service (development on one superuser URL does).
DO $$ BEGIN
    EXECUTE format('GRANT csphub_service TO %I', current_user);
EXCEPTION WHEN OTHERS THEN NULL;
END $$;

ALTER TABLE vocabulary_terms DROP CONSTRAINT vocabulary_terms_vocabulary_check;
ALTER TABLE vocabulary_terms ADD CONSTRAINT vocabulary_terms_vocabulary_check
    CHECK (vocabulary IN ('CRIME_CATEGORY', 'ASB_TYPE', 'FIRE_TYPE', 'HATE_STRAND', 'OUTCOME',
                          'DRUG_CLASS', 'CANCEL_REASON', 'CASE_OUTCOME', 'INTERVENTION'));

-- The acting caller, from the request's transaction-local settings; NULL (no rows) when unset.
CREATE FUNCTION csphub_agency() RETURNS uuid LANGUAGE sql STABLE AS $f$
    SELECT NULLIF(current_setting('csphub.agency_id', true), '')::uuid
$f$;
CREATE FUNCTION csphub_partnerships() RETURNS uuid[] LANGUAGE sql STABLE AS $f$
    SELECT string_to_array(NULLIF(current_setting('csphub.partnership_ids', true), ''), ',')::uuid[]
$f$;

-- How long after closing a case of each type is due for retention review (and deletion).
-- Written at start from CSPHUB_RETENTION_YEARS; 6 years unless configured.
CREATE TABLE case_retention (
    case_type text PRIMARY KEY CHECK (case_type IN ('ASB', 'DOMESTIC_ABUSE', 'HATE', 'VULNERABILITY', 'OTHER')),
    years     int NOT NULL CHECK (years BETWEEN 1 AND 100)
);
INSERT INTO case_retention VALUES ('ASB', 6), ('DOMESTIC_ABUSE', 6), ('HATE', 6), ('VULNERABILITY', 6), ('OTHER', 6);

-- Reference numbers: per partnership and year, across case types.
CREATE TABLE case_ref_counters (
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    year           int  NOT NULL,
    last_number    int  NOT NULL,
    PRIMARY KEY (partnership_id, year)
);

CREATE TABLE cases (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    partnership_id       uuid NOT NULL REFERENCES partnerships (id),
    ref                  text NOT NULL,
    case_type            text NOT NULL CHECK (case_type IN ('ASB', 'DOMESTIC_ABUSE', 'HATE', 'VULNERABILITY', 'OTHER')),
    status               text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
    summary              text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000),
    owning_agency_id     uuid NOT NULL REFERENCES agencies (id),
    lead_officer         text NOT NULL CHECK (length(lead_officer) BETWEEN 1 AND 200),
    risk_level           text NOT NULL CHECK (risk_level IN ('STANDARD', 'MEDIUM', 'HIGH')),
    area_code            text,
    opened_on            date NOT NULL,
    odg_dates            date[] NOT NULL DEFAULT '{}',
    dash_score           int CHECK (dash_score BETWEEN 0 AND 24),
    dash_override_level  text CHECK (dash_override_level IN ('STANDARD', 'MEDIUM', 'HIGH')),
    dash_override_reason text CHECK (length(dash_override_reason) <= 2000),
    marac_referred_on    date,
    marac_outcome        text CHECK (length(marac_outcome) <= 2000),
    outcome              text,
    closed_on            date,
    review_on            date,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    version              int NOT NULL DEFAULT 1,
    UNIQUE (partnership_id, ref),
    CHECK ((status = 'CLOSED') = (outcome IS NOT NULL AND closed_on IS NOT NULL)),
    CHECK ((dash_override_level IS NULL) = (dash_override_reason IS NULL))
);
CREATE INDEX cases_ref_trgm ON cases USING gin (ref gin_trgm_ops);
CREATE INDEX cases_owner ON cases (owning_agency_id, partnership_id);
CREATE INDEX cases_review ON cases (review_on) WHERE review_on IS NOT NULL;

CREATE TABLE case_shares (
    case_id      uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    -- The case's partnership, copied by a trigger: the sharing rule is then one indexed lookup
    -- in this table, which every policy can inline.
    partnership_id uuid NOT NULL REFERENCES partnerships (id),
    legal_basis  text NOT NULL CHECK (legal_basis IN ('OWNER', 'S115_CDA_1998', 'CONSENT', 'SAFEGUARDING', 'OTHER')),
    basis_text   text CHECK (length(basis_text) <= 2000),
    shared_by    text NOT NULL,
    shared_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, agency_id),
    CHECK ((legal_basis = 'OTHER') = (basis_text IS NOT NULL))
);
CREATE INDEX case_shares_agency ON case_shares (agency_id, case_id);
CREATE INDEX case_shares_case_agency ON case_shares (case_id, agency_id, partnership_id);

CREATE TABLE people (
    id                uuid PRIMARY KEY,
    partnership_id    uuid NOT NULL REFERENCES partnerships (id),
    full_name         text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    date_of_birth     date,
    address           text CHECK (length(address) <= 1000),
    contact           text CHECK (length(contact) <= 1000),
    consent           text NOT NULL DEFAULT 'NOT_ASKED' CHECK (consent IN ('GIVEN', 'REFUSED', 'NOT_ASKED')),
    consent_on        date,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    version           int NOT NULL DEFAULT 1
);
CREATE INDEX people_name_trgm ON people USING gin (full_name gin_trgm_ops);
CREATE INDEX people_dob ON people (partnership_id, date_of_birth);

CREATE TABLE case_subjects (
    case_id   uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    person_id uuid NOT NULL REFERENCES people (id),
    part      text NOT NULL CHECK (part IN ('VICTIM', 'PERPETRATOR', 'COMPLAINANT', 'WITNESS', 'OTHER')),
    added_by  text NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, person_id, part)
);
CREATE INDEX case_subjects_person ON case_subjects (person_id);

CREATE TABLE case_notes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id       uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    author        text NOT NULL,
    agency_id     uuid NOT NULL REFERENCES agencies (id),
    visibility    text NOT NULL CHECK (visibility IN ('SHARED', 'AGENCY')),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    supersedes_id uuid REFERENCES case_notes (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX case_notes_case ON case_notes (case_id, created_at DESC, id DESC);
CREATE INDEX case_notes_supersedes ON case_notes (supersedes_id) WHERE supersedes_id IS NOT NULL;

CREATE TABLE case_interventions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id      uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    intervention text NOT NULL,
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    starts_on    date NOT NULL,
    ends_on      date,
    notes        text CHECK (length(notes) <= 2000),
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX case_interventions_case ON case_interventions (case_id);

CREATE TABLE case_referrals (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    case_id         uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    from_agency_id  uuid NOT NULL REFERENCES agencies (id),
    to_programme    text NOT NULL CHECK (length(to_programme) BETWEEN 1 AND 200),
    status          text NOT NULL DEFAULT 'REFERRED' CHECK (status IN ('REFERRED', 'ACCEPTED', 'DECLINED', 'COMPLETED')),
    referred_on     date NOT NULL,
    decided_on      date,
    completed_on    date,
    recorded_by     text NOT NULL,
    version         int NOT NULL DEFAULT 1
);
CREATE INDEX case_referrals_case ON case_referrals (case_id);

CREATE TABLE case_incidents (
    case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    incident_id uuid NOT NULL REFERENCES incidents (id),
    linked_by   text NOT NULL,
    linked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, incident_id)
);
CREATE INDEX case_incidents_incident ON case_incidents (incident_id);

-- A share row carries its case's partnership (set here, whatever the insert says).
CREATE FUNCTION csphub_share_partnership() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    SELECT c.partnership_id INTO NEW.partnership_id FROM cases c WHERE c.id = NEW.case_id;
    RETURN NEW;
END
$f$;
CREATE TRIGGER case_shares_partnership BEFORE INSERT OR UPDATE ON case_shares
    FOR EACH ROW EXECUTE FUNCTION csphub_share_partnership();

-- Whether the acting agency may see a case: it is shared with the agency (the owner's share is
-- a row like the others) in a partnership in scope. SECURITY DEFINER, for the one policy that
-- cannot use the inline rule (other agencies' share rows of a case the agency sees) without
-- recursing through its own table.
CREATE FUNCTION csphub_sees_case(case_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
    SELECT EXISTS (
        SELECT 1 FROM case_shares s
        WHERE s.case_id = $1 AND s.agency_id = csphub_agency()
          AND s.partnership_id = ANY (csphub_partnerships()))
$f$;
REVOKE ALL ON FUNCTION csphub_sees_case(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION csphub_sees_case(uuid) TO csphub_service;
-- Whether the acting agency owns a case in scope (it may share, unshare and close it).
CREATE FUNCTION csphub_owns_case(case_id uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
    SELECT EXISTS (
        SELECT 1 FROM cases c
        WHERE c.id = $1 AND c.owning_agency_id = csphub_agency()
          AND c.partnership_id = ANY (csphub_partnerships()))
$f$;
REVOKE ALL ON FUNCTION csphub_owns_case(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION csphub_owns_case(uuid) TO csphub_service;

-- People whose name is like `name` (trigram word similarity, so "Smyth" finds "John Smith"),
-- among those the acting agency sees, best first. Under row-level security PostgreSQL may not
-- apply the trigram operator (not leakproof) before the policies, so the index would go unused
-- and every visible person be scanned; this function runs as the owner, uses the index, and
-- applies the same sharing rule itself. Callers still read `people` under their policies.
CREATE FUNCTION csphub_people_like(p_partnership uuid, p_name text, p_dob date, p_limit int)
RETURNS TABLE (person_id uuid, score real)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
SET pg_trgm.word_similarity_threshold = 0.3 AS $f$
    SELECT pe.id, word_similarity(p_name, pe.full_name)
    FROM people pe
    WHERE pe.partnership_id = p_partnership AND p_partnership = ANY (csphub_partnerships())
      AND p_name <% pe.full_name
      AND (p_dob IS NULL OR pe.date_of_birth = p_dob)
      AND EXISTS (SELECT 1 FROM case_subjects cs JOIN case_shares s ON s.case_id = cs.case_id
                  WHERE cs.person_id = pe.id AND s.agency_id = csphub_agency()
                    AND s.partnership_id = ANY (csphub_partnerships()))
    ORDER BY 2 DESC, pe.id
    LIMIT p_limit
$f$;
REVOKE ALL ON FUNCTION csphub_people_like(uuid, text, date, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION csphub_people_like(uuid, text, date, int) TO csphub_service;

-- The audit log: append-only. Rows carry the id of the transaction that wrote them, so that a
-- seal can cover exactly the entries of transactions that have ended (see `audit_seals`).
CREATE TABLE audit_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    xact           bigint NOT NULL DEFAULT txid_current(),
    sub            text NOT NULL,
    agency_id      uuid REFERENCES agencies (id),
    partnership_id uuid REFERENCES partnerships (id),
    action         text NOT NULL,
    record_type    text,
    record_id      text,
    detail         jsonb NOT NULL DEFAULT '{}',
    request_id     text
);
CREATE INDEX audit_log_xact ON audit_log (xact, id);
CREATE INDEX audit_log_agency ON audit_log (agency_id, id DESC);
CREATE INDEX audit_log_partnership ON audit_log (partnership_id, id DESC);

-- Seals: each covers the entries written by transactions with ids in [from_xact, to_xact)
-- (all ended when the seal was made), listing their ids and content hashes; `hash` chains the
-- seal to the one before.
CREATE TABLE audit_seals (
    seq          bigint PRIMARY KEY,
    from_xact    bigint NOT NULL,
    to_xact      bigint NOT NULL,
    entry_ids    bigint[] NOT NULL,
    entry_hashes bytea[] NOT NULL,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL,
    sealed_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (to_xact >= from_xact)
);

CREATE FUNCTION csphub_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'the % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$f$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION csphub_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_refuse_change();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION csphub_refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION csphub_refuse_change();
-- A note is never edited: a correction is a new note that supersedes it.
CREATE TRIGGER case_notes_no_update BEFORE UPDATE ON case_notes
    FOR EACH ROW EXECUTE FUNCTION csphub_refuse_change();

-- What the service may do. Everything before this migration: read and write as before.
GRANT USAGE ON SCHEMA public TO csphub_service;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    partnerships, agencies, agency_partnerships, plans, plan_events, priorities, actions,
    progress_records, areas, vocabulary_terms, incidents, incident_revisions, incident_pushes,
    case_ref_counters, case_retention
    TO csphub_service;
GRANT SELECT ON seaql_migrations TO csphub_service;
GRANT SELECT, INSERT, UPDATE ON cases, people, case_referrals TO csphub_service;
GRANT SELECT, INSERT, DELETE ON case_shares, case_subjects, case_incidents TO csphub_service;
GRANT SELECT, INSERT ON case_notes, case_interventions TO csphub_service;
GRANT SELECT, INSERT ON audit_log, audit_seals TO csphub_service;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO csphub_service;

-- Row-level security on every table of case data.
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE cases FORCE ROW LEVEL SECURITY;
ALTER TABLE case_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_shares FORCE ROW LEVEL SECURITY;
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
ALTER TABLE people FORCE ROW LEVEL SECURITY;
ALTER TABLE case_subjects ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_subjects FORCE ROW LEVEL SECURITY;
ALTER TABLE case_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_notes FORCE ROW LEVEL SECURITY;
ALTER TABLE case_interventions ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_interventions FORCE ROW LEVEL SECURITY;
ALTER TABLE case_referrals ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_referrals FORCE ROW LEVEL SECURITY;
ALTER TABLE case_incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_incidents FORCE ROW LEVEL SECURITY;

-- The sharing rule, inline: a share row of the case for the acting agency in a partnership in
-- scope (an index lookup the planner can fold into any query). `case_shares` answers it with
-- the first clause of its own policy, so nothing recurses.
-- Cases: shared with the acting agency. A new case is opened by the acting agency as its owner,
-- in scope.
CREATE POLICY service_read ON cases FOR SELECT TO csphub_service USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id AND s.agency_id = csphub_agency()
            AND s.partnership_id = ANY (csphub_partnerships())));
CREATE POLICY service_open ON cases FOR INSERT TO csphub_service WITH CHECK (
    partnership_id = ANY (csphub_partnerships()) AND owning_agency_id = csphub_agency());
CREATE POLICY service_update ON cases FOR UPDATE TO csphub_service USING (
    EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = cases.id AND s.agency_id = csphub_agency()
            AND s.partnership_id = ANY (csphub_partnerships())))
    WITH CHECK (csphub_sees_case(id));

-- Shares: the agency's own share rows in scope, and every share of a case it sees; written by
-- the owning agency only (and the owner's own row as the case is opened).
CREATE POLICY service_read ON case_shares FOR SELECT TO csphub_service USING (
    partnership_id = ANY (csphub_partnerships())
    AND (agency_id = csphub_agency() OR csphub_sees_case(case_id)));
CREATE POLICY service_share ON case_shares FOR INSERT TO csphub_service WITH CHECK (
    csphub_owns_case(case_id));
CREATE POLICY service_unshare ON case_shares FOR DELETE TO csphub_service USING (
    legal_basis <> 'OWNER' AND csphub_owns_case(case_id));

-- People: seen through a case the agency sees; created in a partnership in scope.
CREATE POLICY service_read ON people FOR SELECT TO csphub_service USING (
    EXISTS (SELECT 1 FROM case_subjects cs JOIN case_shares s ON s.case_id = cs.case_id
            WHERE cs.person_id = people.id AND s.agency_id = csphub_agency()
              AND s.partnership_id = ANY (csphub_partnerships())));
CREATE POLICY service_add ON people FOR INSERT TO csphub_service WITH CHECK (
    partnership_id = ANY (csphub_partnerships()) AND csphub_agency() IS NOT NULL);
CREATE POLICY service_update ON people FOR UPDATE TO csphub_service USING (
    EXISTS (SELECT 1 FROM case_subjects cs JOIN case_shares s ON s.case_id = cs.case_id
            WHERE cs.person_id = people.id AND s.agency_id = csphub_agency()
              AND s.partnership_id = ANY (csphub_partnerships())));

CREATE POLICY service_all ON case_subjects TO csphub_service
    USING (EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_subjects.case_id
                   AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())))
    WITH CHECK (csphub_sees_case(case_id));
CREATE POLICY service_all ON case_interventions TO csphub_service
    USING (EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_interventions.case_id
                   AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())))
    WITH CHECK (csphub_sees_case(case_id) AND agency_id = csphub_agency());
CREATE POLICY service_all ON case_referrals TO csphub_service
    USING (EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_referrals.case_id
                   AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())))
    WITH CHECK (csphub_sees_case(case_id));
CREATE POLICY service_all ON case_incidents TO csphub_service
    USING (EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_incidents.case_id
                   AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())))
    WITH CHECK (csphub_sees_case(case_id));

-- Notes: SHARED ones with every agency that sees the case, AGENCY ones with their own agency
-- only; written as the acting agency.
CREATE POLICY service_read ON case_notes FOR SELECT TO csphub_service USING (
    (visibility = 'SHARED' OR agency_id = csphub_agency())
    AND EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = case_notes.case_id
                AND s.agency_id = csphub_agency() AND s.partnership_id = ANY (csphub_partnerships())));
CREATE POLICY service_write ON case_notes FOR INSERT TO csphub_service WITH CHECK (
    csphub_sees_case(case_id) AND agency_id = csphub_agency());

-- The owner (maintenance: retention, subject export, audit verification) sees every row.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'case_shares', 'people', 'case_subjects', 'case_notes',
                             'case_interventions', 'case_referrals', 'case_incidents'] LOOP
        EXECUTE format('CREATE POLICY maintenance ON %I TO %I USING (true) WITH CHECK (true)', t, current_user);
    END LOOP;
END $$;
"#;

const DOWN: &str = r#"
DROP TABLE IF EXISTS case_retention, audit_seals, audit_log, case_incidents, case_referrals, case_interventions,
    case_notes, case_subjects, people, case_shares, cases, case_ref_counters CASCADE;
DROP FUNCTION IF EXISTS csphub_people_like(uuid, text, date, int), csphub_sees_case(uuid), csphub_owns_case(uuid), csphub_share_partnership(), csphub_agency(), csphub_partnerships(),
    csphub_refuse_change();
DELETE FROM vocabulary_terms WHERE vocabulary IN ('CASE_OUTCOME', 'INTERVENTION');
ALTER TABLE vocabulary_terms DROP CONSTRAINT vocabulary_terms_vocabulary_check;
ALTER TABLE vocabulary_terms ADD CONSTRAINT vocabulary_terms_vocabulary_check
    CHECK (vocabulary IN ('CRIME_CATEGORY', 'ASB_TYPE', 'FIRE_TYPE', 'HATE_STRAND', 'OUTCOME', 'DRUG_CLASS', 'CANCEL_REASON'));
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM csphub_service;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM csphub_service;
REVOKE USAGE ON SCHEMA public FROM csphub_service;
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
