/**
 * Shared by the sync benchmarks (sync.bench.ts in Node, sync.browser.bench.ts in
 * Chromium, and the latter's Node-side setup): Todo commands shaped as the sync protocol carries
 * them, an offline client's pending commands written straight into its database, and the
 * baselines, i.e. the sync protocol spoken with plain `fetch` (`POST /v1/push`, `GET /v1/pull`).
 * No Node built-ins: this runs in pages too.
 */

import {
  COMMAND_PROTOCOL_VERSION,
  type CommandCommit,
  type CommandPushResponse,
  type Commit,
  newKsuid,
  type PushResponse,
} from '@strata/core';
import type { EventRow, PendingCommandRow } from '../../src/database/strata-database.ts';
import type { Strata } from '../../src/runtime/create-strata.ts';
import { SYNC_DEFAULTS } from '../../src/sync/start-sync.ts';

/** The sync client's push batching defaults (the subjects push in these batches). */
export const CLIENT_MAX_EVENTS_PER_PUSH = SYNC_DEFAULTS.maxEventsPerPush;
export const CLIENT_MAX_COMMITS_PER_PUSH = SYNC_DEFAULTS.maxCommitsPerPush;
/**
 * The plain-fetch baselines' batching: 200 commits per push, as the client pushed when issue 16
 * set its goal against them, kept whatever the client's defaults become (a client that makes
 * fewer, larger pushes than this is faster for it, and the baseline does not follow it there).
 */
export const BASELINE_MAX_EVENTS_PER_PUSH = 500;
export const BASELINE_MAX_COMMITS_PER_PUSH = 200;

/** How many pushes the client makes for `events` pending events, one event per command. */
export function clientPushes(events: number): number {
  return Math.ceil(events / Math.min(CLIENT_MAX_EVENTS_PER_PUSH, CLIENT_MAX_COMMITS_PER_PUSH));
}

/** How many pushes the baselines make for `events` events, one event per command. */
export function baselinePushes(events: number): number {
  return Math.ceil(events / Math.min(BASELINE_MAX_EVENTS_PER_PUSH, BASELINE_MAX_COMMITS_PER_PUSH));
}
/** Events per pull page: the client's default and the protocol's maximum. */
export const PULL_LIMIT = SYNC_DEFAULTS.pullLimit;
/** The most events the server takes in one push (its default limit); used for seeding. */
export const SERVER_MAX_EVENTS_PER_PUSH = 1000;

/** One executed Todo command and the one event it produced, as the sync protocol carries it. */
export interface TodoCommand {
  readonly command: 'add' | 'rename' | 'complete' | 'reopen';
  readonly input: Record<string, unknown>;
  readonly metadata: Record<string, string>;
  readonly event: Commit['events'][number];
}

export function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`bench check failed: ${message}`);
}

/** Throws with the response's status and body unless it is a 2xx (reads the body only then). */
async function checkOk(response: Response, what: string): Promise<void> {
  if (!response.ok) check(false, `${what} answered ${response.status}: ${await response.text()}`);
}

/** The command at `version` of todo number `index`, and its event, occurring at `occurredMs`. */
function todoCommand(
  aggregateId: string,
  index: number,
  version: number,
  occurredMs: number,
  clientId: string,
): TodoCommand {
  const commandId = newKsuid({ now: occurredMs });
  const metadata = { clientId, commandId, correlationId: commandId, causationId: commandId };
  const [command, type, input, schemaVersion] =
    version === 1
      ? (['add', 'TodoAdded', { title: `Todo ${index}` }, 2] as const)
      : version % 10 === 5
        ? (['complete', 'TodoCompleted', {}, 1] as const)
        : version % 10 === 6
          ? (['reopen', 'TodoReopened', {}, 1] as const)
          : (['rename', 'TodoRenamed', { title: `Todo ${index}, take ${version}` }, 1] as const);
  return {
    command,
    input,
    metadata,
    event: {
      id: newKsuid({ now: occurredMs }),
      type,
      schemaVersion,
      aggregateType: 'Todo',
      aggregateId,
      version,
      occurredAt: new Date(occurredMs).toISOString(),
      data: input,
      metadata,
    },
  };
}

/**
 * `aggregates` todos with `eventsPerAggregate` events each: TodoAdded (schema version 2) first,
 * then renames, with a complete at every version ending in 5 and a reopen right after it, so
 * every command is valid on the state before it. `interleaved` (the default) orders them version
 * by version, as one user working on many todos would; `by-todo` gives each todo's history in
 * one run. Fresh ids on every call.
 *
 * One second apart, in that order, ending now: a KSUID starts with its time in seconds (the rest
 * is random), so ids ascend in the order the commands were made, as real ones do. How many ids
 * share a second matters on fake-indexeddb: its `continue(key)` scans from the start of the
 * cursor's range instead of seeking (6.2.8: `makeKeyRange` keeps the lowest lower bound), so
 * Dexie's `anyOf` over a batch costs as many steps per key as stored ids lie between the batch's
 * lowest id and that key. At 1,000 commands a second, the Node catch-up spent most of its time
 * there (~1.2k events/s; ~5-10k at one a second). Real IndexedDB seeks.
 */
export function todoCommands(
  aggregates: number,
  eventsPerAggregate: number,
  clientId: string,
  order: 'interleaved' | 'by-todo' = 'interleaved',
): TodoCommand[] {
  const aggregateIds = Array.from({ length: aggregates }, () => newKsuid());
  const start = Date.now() - aggregates * eventsPerAggregate * 1000;
  const commands: TodoCommand[] = [];
  const add = (index: number, version: number) =>
    commands.push(
      todoCommand(
        aggregateIds[index] as string,
        index,
        version,
        start + commands.length * 1000,
        clientId,
      ),
    );
  if (order === 'interleaved') {
    for (let version = 1; version <= eventsPerAggregate; version++) {
      for (let index = 0; index < aggregates; index++) add(index, version);
    }
  } else {
    for (let index = 0; index < aggregates; index++) {
      for (let version = 1; version <= eventsPerAggregate; version++) add(index, version);
    }
  }
  return commands;
}

/**
 * Writes `commands` into an offline client's database as `strata.execute` leaves them: each
 * event a pending row, each command a pending command row, in execution order; one transaction.
 * (Only the snapshots `execute` would also write are left out: pushing never reads them.) Executing
 * 10k commands one by one takes ~40 s on fake-indexeddb: too slow for a per-run set-up.
 */
export async function seedPendingCommands(
  strata: Strata,
  commands: readonly TodoCommand[],
): Promise<void> {
  const { db } = strata;
  // No position: the store assigns it (auto-increment), as for any local event.
  const events: Omit<EventRow, 'position'>[] = commands.map(({ event }) => ({
    ...event,
    recordedAt: event.occurredAt,
    pending: 1,
  }));
  const pending: PendingCommandRow[] = commands.map(({ command, input, metadata, event }) => ({
    commandId: metadata.commandId as string,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    command,
    input,
    metadata,
    eventIds: [event.id],
    executedAt: event.occurredAt,
  }));
  await db.transaction('rw', db.events, db.commands, async () => {
    await db.events.bulkAdd(events as EventRow[]);
    await db.commands.bulkAdd(pending);
  });
}

/**
 * Splits commands into pushes as the client does (collectCommits): commits in order, a push
 * closed before it would exceed `maxEvents` events or `maxCommits` commits (by default the
 * baselines' batching).
 */
export function pushBatches(
  commands: readonly TodoCommand[],
  maxEvents = BASELINE_MAX_EVENTS_PER_PUSH,
  maxCommits = BASELINE_MAX_COMMITS_PER_PUSH,
): TodoCommand[][] {
  // One event per command here, so events and commits count alike.
  const size = Math.max(1, Math.min(maxEvents, maxCommits));
  const batches: TodoCommand[][] = [];
  let batch: TodoCommand[] = [];
  for (const command of commands) {
    if (batch.length === size) {
      batches.push(batch);
      batch = [];
    }
    batch.push(command);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** `fetch`, with the causes of a network failure in the message. */
async function fetchExplained(input: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (error) {
    throw new Error(`${init.method ?? 'GET'} ${input.pathname} failed: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** Headers of a request as `tenant`'s client, as the sync client sends them. */
function headers(token: string, json: boolean): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    ...(json ? { 'content-type': 'application/json' } : {}),
  };
}

/**
 * The push baseline: each batch `POST`ed to `/v1/push` with plain `fetch`, one after the other,
 * every commit checked accepted. Returns the number of pushes.
 */
export async function pushWithFetch(
  url: string,
  token: string,
  clientId: string,
  batches: readonly (readonly TodoCommand[])[],
): Promise<number> {
  const endpoint = new URL('v1/push', url);
  for (const batch of batches) {
    const response = await fetchExplained(endpoint, {
      method: 'POST',
      headers: headers(token, true),
      body: JSON.stringify({
        clientId,
        commits: batch.map(({ metadata, event }) => ({
          commitId: metadata.commandId,
          events: [event],
        })),
      }),
    });
    await checkOk(response, 'push');
    const { results } = (await response.json()) as PushResponse;
    const refused = results.filter((result) => result.status !== 'accepted');
    check(refused.length === 0, `push refused ${JSON.stringify(refused.slice(0, 3))}`);
  }
  return batches.length;
}

/** A batch as the client's commits (`POST /v2/push`): the command as issued and its event. */
export function commandCommitsOf(batch: readonly TodoCommand[]): CommandCommit[] {
  return batch.map(({ command, input, metadata, event }) => ({
    commitId: metadata.commandId as string,
    command: {
      aggregateType: event.aggregateType,
      aggregateId: event.aggregateId,
      name: command,
      input,
      issuedAt: event.occurredAt,
    },
    events: [event],
  })) as CommandCommit[];
}

/**
 * The push baseline in the client's protocol: each batch `POST`ed to `/v2/push` as commands with
 * their events (`commandCommitsOf`), with plain `fetch` (`fetchImpl`, the global one unless
 * given), one after the other, every commit checked accepted. Returns the number of pushes.
 */
export async function commandPushWithFetch(
  url: string,
  token: string,
  clientId: string,
  batches: readonly (readonly TodoCommand[])[],
  fetchImpl: typeof fetch = fetch,
): Promise<number> {
  const endpoint = new URL('v2/push', url);
  for (const batch of batches) {
    const response = await fetchImpl(endpoint, {
      method: 'POST',
      headers: headers(token, true),
      body: JSON.stringify({
        protocol: COMMAND_PROTOCOL_VERSION,
        clientId,
        commits: commandCommitsOf(batch),
      }),
    });
    await checkOk(response, 'push');
    const { results } = (await response.json()) as CommandPushResponse;
    const refused = results.filter((result) => result.status !== 'accepted');
    check(refused.length === 0, `push refused ${JSON.stringify(refused.slice(0, 3))}`);
  }
  return batches.length;
}

/**
 * The pull baseline: `/v1/pull?limit=1000` paged with plain `fetch` from the start to the end,
 * every page's JSON parsed, nothing stored. Returns the number of events read.
 */
export async function pullWithFetch(url: string, token: string): Promise<number> {
  let events = 0;
  let after: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: String(PULL_LIMIT) });
    if (after !== undefined) query.set('after', after);
    const response = await fetchExplained(new URL(`v1/pull?${query}`, url), {
      headers: headers(token, false),
    });
    await checkOk(response, 'pull');
    const page = (await response.json()) as { events: unknown[]; cursor: string; hasMore: boolean };
    events += page.events.length;
    after = page.cursor;
    if (!page.hasMore) return events;
  }
}

/**
 * Gives the server a history of `aggregates` × `eventsPerAggregate` Todo events under `token`'s
 * tenant, pushed with plain `fetch`: one commit per todo holding its whole history, ten commits
 * (1,000 events, the server's maximum) per push, one push at a time. (The server appends commit
 * by commit, ~7 queries each: 100k one-event commits would take over 20 minutes. One push at a
 * time keeps the server's order that of the ids, see `todoCommands`.) A push that fails on the
 * network is sent again: the server answers events it already has with their positions.
 */
export async function seedServer(
  url: string,
  token: string,
  aggregates: number,
  eventsPerAggregate: number,
): Promise<void> {
  const clientId = newKsuid();
  const commands = todoCommands(aggregates, eventsPerAggregate, clientId, 'by-todo');
  const commits: Commit[] = [];
  for (let i = 0; i < commands.length; i += eventsPerAggregate) {
    const history = commands.slice(i, i + eventsPerAggregate);
    commits.push({ commitId: newKsuid(), events: history.map(({ event }) => event) });
  }
  const perPush = Math.max(1, Math.floor(SERVER_MAX_EVENTS_PER_PUSH / eventsPerAggregate));
  for (let i = 0; i < commits.length; i += perPush) {
    const body = JSON.stringify({ clientId, commits: commits.slice(i, i + perPush) });
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(new URL('v1/push', url), {
          method: 'POST',
          headers: headers(token, true),
          body,
        });
      } catch (error) {
        if (attempt === 3) throw error;
        console.warn(`seed push failed (${describe(error)}), sending it again`);
        continue;
      }
      await checkOk(response, 'seed push');
      const { results } = (await response.json()) as PushResponse;
      check(
        results.every((result) => result.status === 'accepted'),
        'seed push: a commit was refused',
      );
      break;
    }
  }
}

/** An error and its causes, on one line ("fetch failed" alone says little). */
export function describe(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined && parts.length < 4; ) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(' <- ');
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * An HS256 JWT for `tenant`, as the server's `jwtAuthentication` verifies (WebCrypto). It expires
 * in 12 hours, longer than any bench run (the server refuses tokens without `exp`).
 */
export async function bearerToken(secret: string, tenant: string): Promise<string> {
  const header = base64url(utf8(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const exp = Math.floor(Date.now() / 1000) + 12 * 3600;
  const payload = base64url(utf8(JSON.stringify({ sub: 'bench', tenant, exp })));
  const key = await crypto.subtle.importKey(
    'raw',
    utf8(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signature = await crypto.subtle.sign('HMAC', key, utf8(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(new Uint8Array(signature))}`;
}

let tenants = 0;
/** A tenant no earlier run used: the server holds nothing for it. */
export const freshTenant = (label: string) =>
  `${label}-${Date.now().toString(36)}-${tenants++}-${Math.random().toString(36).slice(2, 8)}`;

/** A `fetch` for the sync client that counts its pushes (checked against the baseline's). */
export function countingFetch(): { readonly fetch: typeof fetch; readonly pushes: () => number } {
  let pushes = 0;
  return {
    fetch: (input, init) => {
      if (init?.method === 'POST' && String(input).endsWith('/v2/push')) pushes++;
      return fetch(input, init);
    },
    pushes: () => pushes,
  };
}
