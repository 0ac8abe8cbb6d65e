// The authority decides a tenant's commands with one command handler (and one store) per
// tenant, so its shared state cache serves every user; the scope write check inside the append
// still has to know which user's command is being stored. Each decision registers its principal
// here under its command id (stamped into every event it stores) for as long as it runs.
import type { Principal } from '../app/auth.ts';
import type { PostgresStoredEvent } from '../postgres/postgres-stored-event.ts';

/** Principals of the commands being decided right now, by command id. */
export interface WritingPrincipals {
  /** Runs `work` with `principal` registered as the writer of command `commandId`. */
  during<T>(commandId: string, principal: Principal, work: () => Promise<T>): Promise<T>;
  /** `during` for several commands at once (a push's commands decided together). */
  duringAll<T>(
    commandIds: readonly string[],
    principal: Principal,
    work: () => Promise<T>,
  ): Promise<T>;
  /**
   * Who writes `events`: the registered principal of their command whose subject stamped them
   * (`userId`); undefined when none is registered.
   */
  writerOf(events: readonly PostgresStoredEvent[]): Principal | undefined;
}

/**
 * @example
 * const writing = createWritingPrincipals();
 * await writing.during(command.commandId, principal, () => authority.decide({ principal }, command));
 */
export function createWritingPrincipals(): WritingPrincipals {
  // Several requests may carry one command id at once (a re-push while the first still runs,
  // or a replay by someone else): each keeps its own entry.
  const byCommand = new Map<string, Principal[]>();
  const duringAll: WritingPrincipals['duringAll'] = async (commandIds, principal, work) => {
    const registered = commandIds.map((commandId) => {
      const entries = byCommand.get(commandId) ?? [];
      entries.push(principal);
      byCommand.set(commandId, entries);
      return [commandId, entries] as const;
    });
    try {
      return await work();
    } finally {
      for (const [commandId, entries] of registered) {
        entries.splice(entries.indexOf(principal), 1);
        if (entries.length === 0) byCommand.delete(commandId);
      }
    }
  };
  return {
    during: (commandId, principal, work) => duringAll([commandId], principal, work),
    duringAll,
    writerOf(events) {
      const metadata = events[0]?.metadata;
      const commandId = metadata?.commandId;
      if (typeof commandId !== 'string') return undefined;
      return byCommand
        .get(commandId)
        ?.find(
          (principal) =>
            principal.subject === metadata?.userId && principal.tenant === metadata?.tenant,
        );
    },
  };
}
