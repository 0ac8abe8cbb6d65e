import { ValidationFailedError } from '@strata/core';
import type { Table } from 'dexie';
import type { PendingCommandRow } from '../database/strata-database.ts';
import { pageLimit } from './event-log.ts';

/** Which page of the outbox or of the rejected commands, oldest first. */
export interface CommandQuery {
  /** The previous page's `next`. */
  readonly after?: number | undefined;
  /** Rows per page. Defaults to 50; at most 500. */
  readonly limit?: number | undefined;
}

/** A page of command rows (pending or rejected), in execution order. */
export interface CommandPage<TRow> {
  readonly rows: readonly TRow[];
  /** Rows in the table (every page). */
  readonly total: number;
  /** Pass as `after` for the next page; undefined on the last one. */
  readonly next?: number;
}

/**
 * A page of `db.commands` (the outbox: pushed in this order) or `db.rejected`, by `seq`, read
 * with a limit: an outbox of thousands of commands written offline costs one page.
 */
export async function readCommandPage<TRow extends PendingCommandRow>(
  table: Table<TRow, number>,
  query: CommandQuery = {},
): Promise<CommandPage<TRow>> {
  const limit = pageLimit(query.limit);
  const after = query.after;
  if (after !== undefined && !Number.isInteger(after)) {
    throw new ValidationFailedError(`Not a command page cursor: ${after}`, [
      { path: ['after'], message: 'the `next` of the previous page' },
    ]);
  }
  const range = after === undefined ? table.orderBy(':id') : table.where(':id').above(after);
  const [rows, total] = await Promise.all([range.limit(limit + 1).toArray(), table.count()]);
  const page = rows.slice(0, limit);
  const last = page.at(-1)?.seq;
  return {
    rows: page,
    total,
    ...(rows.length > limit && last !== undefined ? { next: last } : {}),
  };
}
