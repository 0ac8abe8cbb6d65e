import type { Migration } from '../migrations/migration.ts';

/**
 * Dense per-tenant positions (issue 12, item 11): what clients see instead of the global
 * position, which jumps by whatever other tenants wrote. `strata_tenant_positions.last` is the
 * tenant's last committed position. An append bumps it in its INSERT statement and numbers its
 * events last-n+1..last; the bumped row stays locked until COMMIT, so one tenant's appends
 * commit in position order and a rollback hands its numbers back. Invariant: every position
 * 1..last of a tenant is a committed event, so a reader ordering by tenant_position never skips
 * a late commit (no xmin horizon needed).
 *
 * Existing events are numbered in the global (transaction_id, position) order, the order clients
 * already read them in; the ALTER TABLE holds off appends while that runs. A row inserted without
 * a tenant position (an instance still running the previous release during a rolling deploy, a
 * hand-written INSERT) is numbered by a trigger the same way, one row at a time; the store's own
 * INSERT numbers its rows itself and skips the trigger.
 */
export const TENANT_POSITIONS_MIGRATION: Migration = {
  version: 7,
  name: 'dense per-tenant positions',
  sql: `
    ALTER TABLE strata_events ADD COLUMN tenant_position bigint;
    UPDATE strata_events SET tenant_position = numbered.tenant_position
    FROM (
      SELECT position, row_number() OVER (
        PARTITION BY tenant ORDER BY transaction_id, position
      ) AS tenant_position
      FROM strata_events
    ) numbered
    WHERE strata_events.position = numbered.position;
    ALTER TABLE strata_events ALTER COLUMN tenant_position SET NOT NULL;
    ALTER TABLE strata_events
      ADD CONSTRAINT strata_events_tenant_position_key UNIQUE (tenant, tenant_position);
    CREATE TABLE strata_tenant_positions (
      tenant text PRIMARY KEY,
      last bigint NOT NULL CHECK (last >= 0)
    );
    INSERT INTO strata_tenant_positions (tenant, last)
    SELECT tenant, count(*) FROM strata_events GROUP BY tenant;
    CREATE FUNCTION strata_number_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO strata_tenant_positions AS counter (tenant, last) VALUES (NEW.tenant, 1)
      ON CONFLICT (tenant) DO UPDATE SET last = counter.last + 1
      RETURNING counter.last INTO NEW.tenant_position;
      RETURN NEW;
    END
    $$;
    CREATE TRIGGER strata_events_number BEFORE INSERT ON strata_events
    FOR EACH ROW WHEN (NEW.tenant_position IS NULL) EXECUTE FUNCTION strata_number_event();
  `,
};
