/**
 * The consumer-group routes speak tenant cursors (issue 12, item 11). Groups keep their
 * checkpoints in the global order (xid, position), which a server-side group may read across
 * tenants; handing those to a principal would tell it how much every other tenant writes. So the
 * HTTP face names places as the tenant's dense cursors (`t<n>`: the tenant's n-th event, `t0`
 * before the first) and translates at the edge: a checkpoint or event on the way out becomes its
 * tenant cursor, a tenant cursor on the way in becomes the global place of that event.
 */
import { InvalidCursorError } from '@strata/core';
import {
  decodeGlobalCursor,
  encodeGlobalCursor,
  type GlobalCursor,
  START_CURSOR,
} from '../postgres/global-cursor.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';
import {
  decodeClientCursor,
  encodeTenantCursor,
  TENANT_START_CURSOR,
} from '../postgres/tenant-cursor.ts';

const START = encodeGlobalCursor(START_CURSOR);

/** Translation between a tenant's cursors and the global places consumer groups store. */
export interface ConsumerGroupCursors {
  /**
   * The tenant cursor of each global checkpoint (START is `t0`). A checkpoint that is not an
   * event of the tenant (none is made so today) becomes the cursor right before the tenant's
   * next event after it: the same answer every time, so a client quoting it back still matches.
   */
  toTenant(checkpoints: readonly string[]): Promise<Map<string, string>>;
  /**
   * The global place of each tenant cursor: `t0` is the start, `t<n>` the tenant's n-th event.
   * A cursor in any other form, or naming no event of the tenant, is `INVALID_CURSOR`.
   */
  toGlobal(cursors: readonly string[]): Promise<Map<string, string>>;
  /**
   * The global checkpoint each `from` of an ack or nack stands for: the partition's stored
   * checkpoint when `from` is its tenant cursor, else the place `from` names (which will not
   * match, so the call is `lost` as a stale one is). Checked against the stored checkpoint
   * rather than translated back, so even a checkpoint that is no event of the tenant can be
   * quoted.
   */
  quotedCheckpoints(
    groupId: string,
    quotes: readonly { readonly partition: number; readonly from: string }[],
  ): Promise<string[]>;
}

/**
 * The translation for one tenant's groups, one query per direction and call.
 *
 * @example
 * const cursors = consumerGroupCursors(database, principal.tenant);
 * const [from] = (await cursors.toTenant([batch.from])).values();
 */
export function consumerGroupCursors(db: SqlExecutor, tenant: string): ConsumerGroupCursors {
  const cursors: ConsumerGroupCursors = {
    async toTenant(checkpoints) {
      const translated = new Map<string, string>([[START, TENANT_START_CURSOR]]);
      const wanted = [...new Set(checkpoints)].filter((checkpoint) => checkpoint !== START);
      if (wanted.length === 0) return translated;
      const decoded: GlobalCursor[] = wanted.map((checkpoint) => decodeGlobalCursor(checkpoint));
      const { rows } = await db.query<{
        ordinal: string | number;
        tenant_position: string | number;
      }>(
        `SELECT c.ordinal, coalesce(
           (SELECT e.tenant_position FROM strata_events e
            WHERE e.position = c.position AND e.transaction_id = c.transaction_id::xid8
              AND e.tenant = $1),
           (SELECT min(e.tenant_position) - 1 FROM strata_events e
            WHERE e.tenant = $1 AND (e.transaction_id, e.position) > (c.transaction_id::xid8, c.position)),
           (SELECT last FROM strata_tenant_positions WHERE tenant = $1),
           0) AS tenant_position
         FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS c(transaction_id, position, ordinal)`,
        [
          tenant,
          decoded.map((cursor) => cursor.transactionId),
          decoded.map((cursor) => cursor.position),
        ],
      );
      for (const row of rows) {
        const checkpoint = wanted[Number(row.ordinal) - 1] as string;
        translated.set(checkpoint, encodeTenantCursor(Number(row.tenant_position)));
      }
      return translated;
    },

    async toGlobal(cursors) {
      const translated = new Map<string, string>();
      const positions = new Map<number, string>();
      for (const cursor of new Set(cursors)) {
        const decoded = decodeClientCursor(cursor);
        // Only tenant cursors: a global one would let a client probe the global order.
        if (decoded.kind !== 'tenant' || cursor === '') throw new InvalidCursorError(cursor);
        if (decoded.position === 0) translated.set(cursor, START);
        else positions.set(decoded.position, cursor);
      }
      if (positions.size === 0) return translated;
      const { rows } = await db.query<{
        tenant_position: string | number;
        transaction_id: string;
        position: string | number;
      }>(
        `SELECT tenant_position, transaction_id::text AS transaction_id, position
         FROM strata_events WHERE tenant = $1 AND tenant_position = ANY($2::bigint[])`,
        [tenant, [...positions.keys()]],
      );
      for (const row of rows) {
        const cursor = positions.get(Number(row.tenant_position)) as string;
        translated.set(
          cursor,
          encodeGlobalCursor({ transactionId: row.transaction_id, position: Number(row.position) }),
        );
      }
      for (const cursor of positions.values()) {
        if (!translated.has(cursor)) throw new InvalidCursorError(cursor);
      }
      return translated;
    },

    async quotedCheckpoints(groupId, quotes) {
      if (quotes.length === 0) return [];
      const { rows } = await db.query<{
        partition: number;
        transaction_id: string;
        position: string | number;
      }>(
        `SELECT partition, checkpoint_transaction_id::text AS transaction_id,
           checkpoint_position AS position
         FROM strata_consumer_group_partitions WHERE group_id = $1 AND partition = ANY($2::integer[])`,
        [groupId, [...new Set(quotes.map((quote) => quote.partition))]],
      );
      const stored = new Map(
        rows.map((row) => [
          Number(row.partition),
          encodeGlobalCursor({ transactionId: row.transaction_id, position: Number(row.position) }),
        ]),
      );
      const tenantForms = await cursors.toTenant([...stored.values()]);
      const matched = quotes.map((quote) => {
        const checkpoint = stored.get(quote.partition);
        return checkpoint !== undefined && tenantForms.get(checkpoint) === quote.from
          ? checkpoint
          : undefined;
      });
      const named = await cursors.toGlobal(
        quotes.filter((_, index) => matched[index] === undefined).map((quote) => quote.from),
      );
      return quotes.map((quote, index) => matched[index] ?? (named.get(quote.from) as string));
    },
  };
  return cursors;
}
