// The commands the server has decided, by id: a re-pushed command (its acknowledgement was lost)
// is answered with what was stored the first time instead of being decided twice. Written in
// the same transaction as the command's events, so a command is logged exactly when its events
// are stored; a command that decided nothing is logged on its own.
import type { StreamRef } from '@strata/core';
import type { Migration } from '../migrations/migration.ts';
import type { SqlExecutor } from '../postgres/sql-database.ts';

export const COMMAND_LOG_MIGRATION: Migration = {
  version: 8,
  name: 'decided commands, for idempotent command pushes',
  sql: `
    CREATE TABLE strata_commands (
      tenant text NOT NULL,
      command_id text NOT NULL,
      aggregate_type text NOT NULL,
      aggregate_id text NOT NULL,
      first_version integer NOT NULL,
      event_count integer NOT NULL,
      -- Who ran it and what it was: a command id answers only its own user's same command.
      user_id text NOT NULL,
      command_digest text NOT NULL,
      decided_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant, command_id)
    );
    -- Retention (purgeDecidedCommands) finds the old rows without a full scan.
    CREATE INDEX strata_commands_decided_at ON strata_commands (decided_at);
  `,
};

/** A logged command: where its events are (none when `count` is 0), who ran it and what it was. */
export interface LoggedCommand extends StreamRef {
  readonly firstVersion: number;
  readonly count: number;
  readonly userId: string;
  /** `commandDigest(name, input)`. */
  readonly digest: string;
}

/** Thrown inside the append's transaction when another request logged the command first. */
export class CommandAlreadyLoggedError extends Error {
  constructor(readonly commandId: string) {
    super(`Command ${commandId} was decided by another request`);
    this.name = 'CommandAlreadyLoggedError';
  }
}

type LoggedRow = {
  command_id: string;
  aggregate_type: string;
  aggregate_id: string;
  first_version: number;
  event_count: number;
  user_id: string;
  command_digest: string;
};

const loggedOf = (row: LoggedRow): LoggedCommand => ({
  aggregateType: row.aggregate_type,
  aggregateId: row.aggregate_id,
  firstVersion: Number(row.first_version),
  count: Number(row.event_count),
  userId: row.user_id,
  digest: row.command_digest,
});

/** The logged command of this id in the tenant, if any. */
export async function findLoggedCommand(
  db: SqlExecutor,
  tenant: string,
  commandId: string,
): Promise<LoggedCommand | undefined> {
  return (await findLoggedCommands(db, tenant, [commandId])).get(commandId);
}

/** The logged commands among these ids in the tenant, by id: one statement for all. */
export async function findLoggedCommands(
  db: SqlExecutor,
  tenant: string,
  commandIds: readonly string[],
): Promise<Map<string, LoggedCommand>> {
  if (commandIds.length === 0) return new Map();
  const { rows } = await db.query<LoggedRow>(
    `SELECT command_id, aggregate_type, aggregate_id, first_version, event_count, user_id, command_digest
       FROM strata_commands WHERE tenant = $1 AND command_id = ANY($2::text[])`,
    [tenant, commandIds],
  );
  return new Map(rows.map((row) => [row.command_id, loggedOf(row)]));
}

/**
 * Logs a command. Throws `CommandAlreadyLoggedError` when the id is taken (the insert waits for
 * a concurrent transaction that logs it, then sees its row), so that transaction rolls back.
 */
export function logCommand(
  db: SqlExecutor,
  tenant: string,
  commandId: string,
  logged: LoggedCommand,
): Promise<void> {
  return logCommands(db, tenant, new Map([[commandId, logged]]));
}

/**
 * Logs commands in one statement (a push's decisions stored together). Throws
 * `CommandAlreadyLoggedError`, naming one of them, when any id is taken: its transaction must
 * roll back, so that nothing of the others stays either.
 */
export async function logCommands(
  db: SqlExecutor,
  tenant: string,
  commands: ReadonlyMap<string, LoggedCommand>,
): Promise<void> {
  if (commands.size === 0) return;
  const ids = [...commands.keys()];
  const logged = [...commands.values()];
  const { rows } = await db.query<{ command_id: string }>(
    `INSERT INTO strata_commands
       (tenant, command_id, aggregate_type, aggregate_id, first_version, event_count, user_id, command_digest)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
     ON CONFLICT (tenant, command_id) DO NOTHING
     RETURNING command_id`,
    [
      tenant,
      ids,
      logged.map((entry) => entry.aggregateType),
      logged.map((entry) => entry.aggregateId),
      logged.map((entry) => entry.firstVersion),
      logged.map((entry) => entry.count),
      logged.map((entry) => entry.userId),
      logged.map((entry) => entry.digest),
    ],
  );
  if (rows.length < ids.length) {
    const inserted = new Set(rows.map((row) => row.command_id));
    throw new CommandAlreadyLoggedError(ids.find((id) => !inserted.has(id)) as string);
  }
}
