import type { Migration } from '../migrations/migration.ts';

/**
 * Schema of the transactional outbox (issue 7). One row per event and destination, so every
 * webhook or async reactor has its own delivery state. A row is `pending` until a relay's sink
 * acknowledges it (`delivered`) or it ran out of attempts (`dead`, until replayed). A relay
 * delivering a row holds its lease: `locked_by` (one claim of one relay) until `locked_until`.
 */
export const OUTBOX_MIGRATION: Migration = {
  version: 3,
  name: 'transactional outbox',
  sql: `
    CREATE TABLE strata_outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      destination text NOT NULL,
      tenant text NOT NULL,
      event_id text NOT NULL,
      -- The event as stored (payloads possibly encrypted): relays decrypt right before a sink.
      event jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
      -- Claims so far: counted when claimed, so a message that crashes its relay still runs out.
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      locked_by text,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz
    );
    -- Claims scan only what may be due; delivered rows (the bulk, over time) stay out of it.
    CREATE INDEX strata_outbox_due ON strata_outbox (next_attempt_at, id) WHERE status = 'pending';
    CREATE INDEX strata_outbox_dead ON strata_outbox (destination, id) WHERE status = 'dead';
    -- Retention (purgeDeliveredMessages) finds the old delivered rows without a full scan.
    CREATE INDEX strata_outbox_delivered ON strata_outbox (delivered_at) WHERE status = 'delivered';
  `,
};
