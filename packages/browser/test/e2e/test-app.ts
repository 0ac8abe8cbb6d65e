/**
 * The page that `*.e2e.test.ts` files drive in real Chromium: a strata runtime on the sample
 * Todo aggregate with a `todos` projection table, exposed on `window.strataTest`. Bundled by
 * `serve-test-app.ts`; runs in the browser only (no Node APIs).
 *
 * The page reads its settings from the query string: `db` (the IndexedDB name, required) and
 * `retries` (conflict retries, defaults to the runtime's).
 */
import { defineInlineProjection, isStrataError, newKsuid, type StoredEvent } from '@strata/core';
import { Todo } from '@strata/example-todo';
import type { StrataTransaction } from '../../src/event-store/strata-transaction.ts';
import { createStrata, type StrataOptions } from '../../src/runtime/create-strata.ts';

/** A row of the `todos` projection table. */
export interface TodoRow {
  readonly id: string;
  readonly title: string;
  readonly status: 'active' | 'completed';
  /** The aggregate version the row reflects. */
  readonly version: number;
}

export type TodoCommandName = 'add' | 'rename' | 'complete' | 'reopen' | 'remove';

/** One command for the page to execute. */
export interface CommandRequest {
  readonly id: string;
  readonly command: TodoCommandName;
  readonly input: { readonly title?: string };
  /** Defaults to a fresh KSUID; returned in the outcome either way. */
  readonly commandId?: string;
}

/** What became of a command; never a rejection, so it crosses `page.evaluate` intact. */
export type CommandOutcome =
  | {
      readonly ok: true;
      readonly commandId: string;
      readonly version: number;
      readonly eventVersions: readonly number[];
    }
  | {
      readonly ok: false;
      readonly commandId: string;
      /** The strata error code, or undefined for an error that is not a strata error. */
      readonly code: string | undefined;
      readonly name: string;
      readonly message: string;
    };

/** An event as the tests compare it. */
export interface EventSummary {
  readonly id: string;
  readonly position: number;
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  readonly commandId: unknown;
  readonly clientId: unknown;
}

/** A pending command row as the tests compare it. */
export interface PendingCommandSummary {
  readonly seq: number | undefined;
  readonly commandId: string;
  readonly aggregateId: string;
  readonly command: string;
  readonly input: unknown;
  readonly eventIds: readonly string[];
}

/** What a live-query subscription has reported so far. */
export interface WatchReport {
  readonly notifications: number;
  readonly last: unknown;
  readonly error: string | undefined;
}

export interface StrataTestApi {
  readonly dbName: string;
  readonly clientId: string;
  execute(request: CommandRequest): Promise<CommandOutcome>;
  /**
   * Registers commands to run all at once when `fire()` is called in any page of the origin
   * (through a BroadcastChannel), so several pages start them in the same task.
   */
  arm(key: string, requests: readonly CommandRequest[]): void;
  /** Starts every armed batch in every page of the origin, this one included. */
  fire(): void;
  /** The outcomes of an armed batch, in request order, once all have settled. */
  outcomes(key: string): Promise<readonly CommandOutcome[]>;
  todos(): Promise<TodoRow[]>;
  load(id: string): Promise<{ readonly state: unknown; readonly version: number }>;
  history(id: string): Promise<EventSummary[]>;
  allEvents(): Promise<EventSummary[]>;
  pendingCommands(): Promise<PendingCommandSummary[]>;
  /** Subscribes a live query on the `todos` table. */
  watchTodos(key: string): void;
  /** Subscribes `liveState` on one todo. */
  watchState(key: string, id: string): void;
  watched(key: string): WatchReport;
  rebuildProjections(): Promise<{ readonly done: number; readonly total: number }>;
}

/** What `strata.live` and `strata.liveState` return, as far as this page uses it. */
interface Subscribable<T> {
  subscribe(observer: { next: (value: T) => void; error: (error: unknown) => void }): {
    unsubscribe(): void;
  };
}

declare global {
  interface Window {
    strataTest?: StrataTestApi;
    strataTestError?: string;
  }
}

const todoList = defineInlineProjection({
  name: 'todo-list',
  aggregate: Todo,
  async apply(event, tx: StrataTransaction) {
    const todos = tx.table<TodoRow, string>('todos');
    const id = event.aggregateId;
    const version = event.version;
    switch (event.type) {
      case 'TodoAdded':
        await todos.put({ id, title: event.data.title, status: 'active', version });
        return;
      case 'TodoRenamed':
        await todos.update(id, { title: event.data.title, version });
        return;
      case 'TodoCompleted':
        await todos.update(id, { status: 'completed', version });
        return;
      case 'TodoReopened':
        await todos.update(id, { status: 'active', version });
        return;
      case 'TodoRemoved':
        await todos.delete(id);
        return;
    }
  },
});

function summarize(event: StoredEvent): EventSummary {
  return {
    id: event.id,
    position: event.position,
    aggregateId: event.aggregateId,
    version: event.version,
    type: event.type,
    data: event.data,
    commandId: event.metadata.commandId,
    clientId: event.metadata.clientId,
  };
}

function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: typeof error, message: String(error) };
}

async function start(): Promise<StrataTestApi> {
  const params = new URLSearchParams(location.search);
  const dbName = params.get('db');
  if (dbName === null || dbName === '') throw new Error('test-app: the ?db= parameter is required');
  const retries = params.get('retries');
  const options: StrataOptions = {
    name: dbName,
    tables: { todos: 'id, status' },
    projections: [todoList],
    ...(retries === null ? {} : { conflictRetries: Number(retries) }),
  };
  const strata = await createStrata(options);
  const todos = () => strata.db.table<TodoRow, string>('todos');

  async function execute(request: CommandRequest): Promise<CommandOutcome> {
    const commandId = request.commandId ?? newKsuid();
    try {
      const result = await strata.execute(
        Todo,
        request.id,
        request.command,
        request.input as never,
        { metadata: { commandId } },
      );
      return {
        ok: true,
        commandId,
        version: result.version,
        eventVersions: result.events.map((event) => event.version),
      };
    } catch (error) {
      return {
        ok: false,
        commandId,
        code: isStrataError(error) ? error.code : undefined,
        ...describeError(error),
      };
    }
  }

  const armed = new Map<string, readonly CommandRequest[]>();
  const batches = new Map<string, Promise<readonly CommandOutcome[]>>();
  const waiting = new Map<string, (outcomes: Promise<readonly CommandOutcome[]>) => void>();
  const runArmed = () => {
    for (const [key, requests] of armed) {
      armed.delete(key);
      const outcomes = Promise.all(requests.map(execute));
      batches.set(key, outcomes);
      waiting.get(key)?.(outcomes);
      waiting.delete(key);
    }
  };
  // A channel object does not receive its own messages: `fire` posts on one, `listen` hears
  // on another, so the page that fires starts its batches from the same message as the others.
  const listen = new BroadcastChannel(`strata-e2e-fire:${dbName}`);
  listen.onmessage = runArmed;

  const watches = new Map<string, { report: WatchReport; subscription: { unsubscribe(): void } }>();
  const watch = <T>(key: string, observable: Subscribable<T>) => {
    watches.get(key)?.subscription.unsubscribe();
    const report: { -readonly [K in keyof WatchReport]: WatchReport[K] } = {
      notifications: 0,
      last: undefined,
      error: undefined,
    };
    const subscription = observable.subscribe({
      next: (value) => {
        report.notifications += 1;
        report.last = value;
      },
      error: (error: unknown) => {
        report.error = String(error);
      },
    });
    watches.set(key, { report, subscription });
  };

  return {
    dbName,
    clientId: strata.clientId,
    execute,
    arm(key, requests) {
      if (armed.has(key) || batches.has(key)) throw new Error(`batch ${key} is already armed`);
      armed.set(key, requests);
    },
    fire() {
      const channel = new BroadcastChannel(`strata-e2e-fire:${dbName}`);
      channel.postMessage('fire');
      channel.close();
    },
    outcomes(key) {
      const batch = batches.get(key);
      if (batch !== undefined) return batch;
      if (!armed.has(key)) return Promise.reject(new Error(`no batch ${key}`));
      return new Promise<readonly CommandOutcome[]>((resolve) => waiting.set(key, resolve));
    },
    todos: () => todos().orderBy('id').toArray(),
    async load(id) {
      const { state, version } = await strata.load(Todo, id);
      return { state, version };
    },
    async history(id) {
      return (await strata.history(Todo, id)).map(summarize);
    },
    async allEvents() {
      const events: EventSummary[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await strata.store.readAll(after === undefined ? {} : { after });
        events.push(...page.events.map(summarize));
        after = page.cursor;
        if (!page.hasMore) return events;
      }
    },
    async pendingCommands() {
      return (await strata.pendingCommands()).map((row) => ({
        seq: row.seq,
        commandId: row.commandId,
        aggregateId: row.aggregateId,
        command: row.command,
        input: row.input,
        eventIds: row.eventIds,
      }));
    },
    watchTodos(key) {
      watch<TodoRow[]>(
        key,
        strata.live(() => todos().orderBy('id').toArray()),
      );
    },
    watchState(key, id) {
      watch(key, strata.liveState(Todo, id));
    },
    watched(key) {
      const entry = watches.get(key);
      if (entry === undefined) throw new Error(`no watch ${key}`);
      return { ...entry.report };
    },
    rebuildProjections: () => strata.rebuildProjections(),
  };
}

start().then(
  (api) => {
    window.strataTest = api;
  },
  (error: unknown) => {
    window.strataTestError =
      error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  },
);
