//! Backup and restore (issue 27). `pg_dump` holds a database, not the cluster's roles, and a
//! restore into a new cluster starts its transaction ids lower than the ones the audit log holds.
//!
//! - **Audit transaction numbers survive a restore.** An entry's `xact` is the writing
//!   transaction's id plus a base (`audit_xact_base`, 0 until a restore): the first entry
//!   written after a restore into a cluster whose ids are lower than the last seal lifts the base
//!   above every number in the log (`csphub_audit_xact`), so new entries never fall into a sealed
//!   range, sealing goes on, and `verify` stays exact. Every start and `csphub migrate` lift it
//!   before anything else can write an entry (`csphub_lift_audit_xact`); the lift inside the
//!   numbering function is the fallback for entries written before any start. Each seal records
//!   its bound here (a trigger: the service role cannot write the row).
//! - **The grants and policies that name the service role are recorded in the database**
//!   (`csphub_access`, refreshed after every migration), so a restore into a cluster that lacks
//!   the role, which skips every grant and policy naming it, is repaired by `csphub migrate` (or
//!   any start): it creates the role and applies what is missing (`csphub_repair_access`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE audit_xact_base (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    -- Added to the writing transaction's id to give an entry's `xact`.
    base      bigint NOT NULL,
    -- The last seal's upper bound (`to_xact`): no entry may be numbered below it.
    sealed_to bigint NOT NULL
);
INSERT INTO audit_xact_base (base, sealed_to)
    SELECT 0, coalesce((SELECT to_xact FROM audit_seals ORDER BY seq DESC LIMIT 1), 0);
GRANT SELECT ON audit_xact_base TO csphub_service;

-- Each seal moves the bound up (by a trigger, so the service role cannot write the row), and a
-- seal reaching past every transaction that could have ended is refused: it cannot be real.
CREATE FUNCTION csphub_note_seal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $f$
BEGIN
    IF NEW.to_xact > txid_current() + (SELECT base FROM audit_xact_base) THEN
        RAISE EXCEPTION 'a seal may not reach past the transactions that have ended'
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE audit_xact_base SET sealed_to = greatest(sealed_to, NEW.to_xact);
    RETURN NEW;
END
$f$;
CREATE TRIGGER audit_seals_bound AFTER INSERT ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION csphub_note_seal();

-- An entry's number. In the cluster that wrote the log it is the transaction id (the base is
-- 0); after a restore into a cluster whose ids are lower than the last seal's bound, the first
-- entry lifts the base above every number the log holds.
CREATE FUNCTION csphub_audit_xact() RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
DECLARE
    x bigint := txid_current();
    b bigint;
    sealed bigint;
    top bigint;
BEGIN
    SELECT base, sealed_to INTO b, sealed FROM audit_xact_base;
    IF x + b >= sealed THEN
        RETURN x + b;
    END IF;
    SELECT base, sealed_to INTO b, sealed FROM audit_xact_base FOR UPDATE;
    IF x + b < sealed THEN
        SELECT greatest(sealed, coalesce(max(xact), 0) + 1) INTO top FROM audit_entries;
        -- A margin, so that transactions a little older than this one, still running, number
        -- their entries above the log too without lifting the base again.
        b := top - x + 1000000;
        UPDATE audit_xact_base SET base = b;
    END IF;
    RETURN x + b;
END
$f$;
REVOKE ALL ON FUNCTION csphub_audit_xact() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION csphub_audit_xact() TO csphub_service;
ALTER TABLE audit_log ALTER COLUMN xact SET DEFAULT csphub_audit_xact();

-- Lifts the base now if the cluster's transaction ids are below the last seal's bound (a
-- restore), before anything else writes an entry; returns the base.
CREATE FUNCTION csphub_lift_audit_xact() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $f$
    SELECT csphub_audit_xact() - txid_current();
$f$;
REVOKE ALL ON FUNCTION csphub_lift_audit_xact() FROM PUBLIC;

-- What the service role is granted and which policies name it (or the owner), as statements
-- that re-create them.
CREATE TABLE csphub_access (
    statement text PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('schema', 'table', 'sequence', 'function', 'policy')),
    object    text NOT NULL,
    privilege text,
    policy    text
);

CREATE FUNCTION csphub_record_access() RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $f$
BEGIN
    DELETE FROM csphub_access;
    INSERT INTO csphub_access (statement, kind, object, privilege, policy)
    SELECT DISTINCT format('GRANT USAGE ON SCHEMA %I TO csphub_service', n.nspname), 'schema',
           n.nspname, 'USAGE', NULL
    FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
    WHERE n.nspname = 'public' AND a.grantee = 'csphub_service'::regrole
    UNION ALL
    SELECT format('GRANT %s ON %s %s TO csphub_service', a.privilege_type,
                  CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass),
           CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END, c.oid::regclass::text,
           a.privilege_type, NULL
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 'csphub_service'::regrole
    UNION ALL
    -- Column privileges (such as UPDATE of one column).
    SELECT format('GRANT %s (%I) ON TABLE %s TO csphub_service', a.privilege_type, att.attname,
                  c.oid::regclass),
           'table', c.oid::regclass::text || '.' || att.attname, a.privilege_type, NULL
    FROM pg_class c JOIN pg_attribute att ON att.attrelid = c.oid
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = 'csphub_service'::regrole
    UNION ALL
    SELECT format('GRANT EXECUTE ON FUNCTION %s TO csphub_service', p.oid::regprocedure),
           'function', p.oid::regprocedure::text, 'EXECUTE', NULL
    FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
    WHERE p.pronamespace = 'public'::regnamespace AND a.grantee = 'csphub_service'::regrole
    UNION ALL
    SELECT format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', pol.polname, pol.polrelid::regclass,
                  CASE WHEN pol.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                  CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                  WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                  (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC'
                                          WHEN r = cl.relowner THEN '{owner}'
                                          ELSE r::regrole::text END, ', ')
                   FROM unnest(pol.polroles) AS r),
                  CASE WHEN pol.polqual IS NULL THEN ''
                       ELSE ' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')' END,
                  CASE WHEN pol.polwithcheck IS NULL THEN ''
                       ELSE ' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')' END),
           'policy', pol.polrelid::regclass::text, NULL, pol.polname
    FROM pg_policy pol JOIN pg_class cl ON cl.oid = pol.polrelid
    WHERE cl.relnamespace = 'public'::regnamespace
    ON CONFLICT (statement) DO NOTHING;
END
$f$;

REVOKE ALL ON FUNCTION csphub_record_access() FROM PUBLIC;

-- Creates the service role if the cluster lacks it and applies every recorded grant and policy
-- that is missing; returns how many it applied.
CREATE FUNCTION csphub_repair_access() RETURNS integer
LANGUAGE plpgsql SET search_path = public, pg_temp AS $f$
DECLARE
    r record;
    n integer := 0;
    missing boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'csphub_service') THEN
        CREATE ROLE csphub_service NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
        n := n + 1;
    END IF;
    IF NOT pg_has_role(current_user, 'csphub_service', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT csphub_service TO %I', current_user);
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
    END IF;
    FOR r IN SELECT * FROM csphub_access ORDER BY kind = 'policy', statement LOOP
        IF r.kind = 'policy' THEN
            missing := NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = r.object::regclass
                                                            AND p.polname = r.policy);
        ELSE
            -- Granted to the role itself, as recorded (not merely through PUBLIC).
            missing := NOT EXISTS (
                SELECT 1 FROM aclexplode(CASE
                    WHEN r.kind = 'schema' THEN
                        (SELECT nspacl FROM pg_namespace WHERE nspname = r.object)
                    WHEN r.kind = 'function' THEN
                        (SELECT proacl FROM pg_proc WHERE oid = r.object::regprocedure)
                    WHEN position('.' IN r.object) > 0 THEN
                        (SELECT attacl FROM pg_attribute
                         WHERE attrelid = split_part(r.object, '.', 1)::regclass
                           AND attname = split_part(r.object, '.', 2))
                    ELSE (SELECT relacl FROM pg_class WHERE oid = r.object::regclass) END) a
                WHERE a.grantee = 'csphub_service'::regrole AND a.privilege_type = r.privilege);
        END IF;
        IF missing THEN
            IF r.kind = 'policy' THEN
                -- The maintenance policies name the table's owner, whoever that is here.
                EXECUTE replace(r.statement, '{owner}',
                                (SELECT relowner::regrole::text FROM pg_class
                                 WHERE oid = r.object::regclass));
            ELSE
                EXECUTE r.statement;
            END IF;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$f$;
REVOKE ALL ON FUNCTION csphub_repair_access() FROM PUBLIC;
REVOKE ALL ON FUNCTION csphub_note_seal() FROM PUBLIC;
"#;

const DOWN: &str = r#"
DROP TRIGGER audit_seals_bound ON audit_seals;
DROP FUNCTION csphub_note_seal();
DROP FUNCTION csphub_repair_access();
DROP FUNCTION csphub_record_access();
DROP TABLE csphub_access;
ALTER TABLE audit_log ALTER COLUMN xact SET DEFAULT txid_current();
DROP FUNCTION csphub_lift_audit_xact();
DROP FUNCTION csphub_audit_xact();
DROP TABLE audit_xact_base;
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
