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

/** The logged command of this id in the tenant, if any. */
export async function findLoggedCommand(
  db: SqlExecutor,
  tenant: string,
  commandId: string,
): Promise<LoggedCommand | undefined> {
  const { rows } = await db.query<{
    aggregate_type: string;
    aggregate_id: string;
    first_version: number;
    event_count: number;
    user_id: string;
    command_digest: string;
  }>(
    `SELECT aggregate_type, aggregate_id, first_version, event_count, user_id, command_digest
       FROM strata_commands WHERE tenant = $1 AND command_id = $2`,
    [tenant, commandId],
  );
  const row = rows[0];
  return row === undefined
    ? undefined
    : {
        aggregateType: row.aggregate_type,
        aggregateId: row.aggregate_id,
        firstVersion: Number(row.first_version),
        count: Number(row.event_count),
        userId: row.user_id,
        digest: row.command_digest,
      };
}

/**
 * Logs a command. Throws `CommandAlreadyLoggedError` when the id is taken (the insert waits for
 * a concurrent transaction that logs it, then sees its row), so that transaction rolls back.
 */
export async function logCommand(
  db: SqlExecutor,
  tenant: string,
  commandId: string,
  logged: LoggedCommand,
): Promise<void> {
  const { rows } = await db.query(
    `INSERT INTO strata_commands
       (tenant, command_id, aggregate_type, aggregate_id, first_version, event_count, user_id, command_digest)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (tenant, command_id) DO NOTHING
     RETURNING 1 AS logged`,
    [
      tenant,
      commandId,
      logged.aggregateType,
      logged.aggregateId,
      logged.firstVersion,
      logged.count,
      logged.userId,
      logged.digest,
    ],
  );
  if (rows.length === 0) throw new CommandAlreadyLoggedError(commandId);
}
