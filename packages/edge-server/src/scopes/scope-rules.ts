// Who may hold which scope: the server's rules per scope name, checked on every scoped request
// (pull, subscribe open and its periodic re-check) and on every write. A scope key from a client
// is parsed against the declared definitions first, so a rule only ever sees parameters its
// schema accepted; anything else is a 400 before a rule or a query runs.
import {
  type AnyScopeDefinition,
  ForbiddenError,
  parseScopeKey,
  type ScopeDefinition,
  type ScopeMembership,
  type ScopeRef,
  safeParseSchema,
  scopeKey,
  TENANT_SCOPE_NAME,
  tenantScope,
  UnavailableError,
  ValidationFailedError,
} from '@strata/core';
import type { Principal } from '../app/auth.ts';

/** Whether `principal` may hold the scope with these (validated) parameters. */
export type ScopeRule<TParams = Readonly<Record<string, unknown>>> = (
  principal: Principal,
  params: TParams,
) => boolean | Promise<boolean>;

type ParamsOf<TDefinition> =
  TDefinition extends ScopeDefinition<string, infer TParams> ? TParams : never;

/**
 * One rule per declared scope name, typed by its parameters; `tenant` (the whole tenant, and
 * the v1 pull and subscribe) is granted only by a rule of its own.
 */
export type ScopeRules<TDefinition extends AnyScopeDefinition = AnyScopeDefinition> = {
  readonly [D in TDefinition as D['scopeName']]: ScopeRule<ParamsOf<D>>;
} & { readonly tenant?: ScopeRule<Readonly<Record<string, never>>> };

/**
 * The `scopes` option of `createSyncApp`: the scopes devices may ask for, how aggregates fall
 * into them (the membership folds, written as scope rows in each append's transaction) and who
 * may hold each.
 *
 * @example
 * scopes: {
 *   definitions: [project, assignedTo],
 *   membership: [taskScopes],
 *   rules: {
 *     project: (principal, { projectId }) => memberOf(principal, projectId),
 *     assignedTo: (principal, { userId }) => principal.subject === userId,
 *   },
 * }
 */
export interface ScopesOptions<TDefinition extends AnyScopeDefinition = AnyScopeDefinition> {
  readonly definitions: readonly TDefinition[];
  readonly membership: readonly ScopeMembership[];
  readonly rules: NoInfer<ScopeRules<TDefinition>>;
  /**
   * How long a rule may take to answer, in ms; past it the check fails as if the rule threw:
   * the request answers 503 `UNAVAILABLE`, an open subscription's re-check ends its stream. A
   * rule asking a backend that never answers must not hold a request, or a subscription's slot,
   * for ever. Defaults to 5000.
   */
  readonly ruleTimeoutMs?: number;
  /**
   * Who may put an aggregate into a scope by writing (creating it there, moving it there), per
   * scope name; a scope without one takes any writer the write check lets through (reassigning
   * a task to a colleague puts it in `assignedTo(colleague)`, which only they hold). Holders of
   * `tenant` place anywhere.
   *
   * @example
   * placement: { project: (principal, { projectId }) => memberOf(principal, projectId) }
   */
  readonly placement?: NoInfer<ScopePlacement<TDefinition>>;
}

/** Placement rules (`ScopesOptions.placement`): each optional, typed by its scope's parameters. */
export type ScopePlacement<TDefinition extends AnyScopeDefinition = AnyScopeDefinition> = {
  readonly [D in TDefinition as D['scopeName']]?: ScopeRule<ParamsOf<D>>;
};

/** The checked form of the `scopes` option (or of its absence). */
export interface ScopeAccess {
  /** Whether the app declares scopes: then `tenant` needs its rule and writes are checked. */
  readonly configured: boolean;
  /** The membership folds, by aggregate type. */
  readonly memberships: ReadonlyMap<string, ScopeMembership>;
  /**
   * Each key as a declared scope with valid, canonical parameters; else `VALIDATION_FAILED`
   * naming the key's place (`path(index)`).
   */
  resolve(keys: readonly string[], path: (index: number) => (string | number)[]): ScopeRef[];
  /** The keys of `scopes` that `principal` may not hold (empty: all granted). */
  refused(principal: Principal, scopes: readonly ScopeRef[]): Promise<string[]>;
  /** Whether `principal` may hold at least one of these keys; keys that resolve to no declared scope count as refused. */
  holdsAny(principal: Principal, keys: readonly string[]): Promise<boolean>;
  /** Whether `principal` may put an aggregate into `scope` (its placement rule; none: yes). */
  mayPlace(principal: Principal, scope: ScopeRef): Promise<boolean>;
}

/**
 * Checks the option once (unique names, a rule per name, no definition called `tenant`) and
 * makes its access checks. Without the option, `tenant` is the only scope and everyone of the
 * tenant holds it: the server behaves as before scopes.
 *
 * @example
 * const access = scopeAccess(options.scopes);
 * await assertHolds(access, principal, access.resolve(keys, (i) => ['scopes', i, 'scope']));
 */
export function scopeAccess(options: ScopesOptions | undefined): ScopeAccess {
  const definitions = new Map<string, AnyScopeDefinition>();
  for (const definition of options?.definitions ?? []) {
    const name = definition.scopeName;
    if (name === TENANT_SCOPE_NAME) {
      throw new TypeError(`scopes: "${TENANT_SCOPE_NAME}" is built in; grant it with rules.tenant`);
    }
    if (definitions.has(name)) throw new TypeError(`scopes: "${name}" is declared twice`);
    const rules = options?.rules as Record<string, unknown> | undefined;
    if (typeof rules?.[name] !== 'function') {
      throw new TypeError(`scopes: "${name}" has no rule (rules.${name})`);
    }
    definitions.set(name, definition);
  }
  const memberships = new Map<string, ScopeMembership>();
  for (const membership of options?.membership ?? []) {
    if (memberships.has(membership.aggregateType)) {
      throw new TypeError(`scopes: ${membership.aggregateType} has two memberships`);
    }
    memberships.set(membership.aggregateType, membership);
  }
  const rules = (options?.rules ?? {}) as Readonly<Record<string, ScopeRule | undefined>>;
  const placement = (options?.placement ?? {}) as Readonly<Record<string, ScopeRule | undefined>>;
  const configured = options !== undefined;
  const timeoutMs = options?.ruleTimeoutMs ?? DEFAULT_RULE_TIMEOUT_MS;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new TypeError(`scopes: ruleTimeoutMs is a positive number of ms, not ${timeoutMs}`);
  }

  const resolveKey = (key: string): ScopeRef | string => {
    if (key === TENANT_SCOPE_NAME) return tenantScope;
    const parts = parseScopeKey(key);
    if (parts === undefined) return 'not a scope key';
    const definition = definitions.get(parts.name);
    if (definition === undefined) return `no scope is named "${parts.name}"`;
    const parsed = safeParseSchema(definition.params, parts.params);
    if (!parsed.success) return `invalid parameters of scope "${parts.name}"`;
    // A schema that strips or rewrites (unknown keys, defaults, trims) would make another key
    // name the same scope: only the canonical key of the parsed parameters is that scope.
    const canonical = scopeKey(parts.name, parsed.data as Record<string, unknown>);
    if (canonical !== key) return `not the canonical key of this scope (${canonical})`;
    return { name: parts.name, params: parsed.data as Record<string, unknown>, key };
  };

  const mayHold = async (principal: Principal, scope: ScopeRef): Promise<boolean> => {
    if (scope.name === TENANT_SCOPE_NAME && !configured) return true;
    const rule = rules[scope.name];
    if (rule === undefined) return false;
    return (await answerWithin(rule(principal, scope.params), timeoutMs, scope.name)) === true;
  };

  return {
    configured,
    memberships,
    resolve(keys, path) {
      const issues: { path: (string | number)[]; message: string }[] = [];
      const scopes: ScopeRef[] = [];
      keys.forEach((key, index) => {
        const resolved = resolveKey(key);
        if (typeof resolved === 'string') issues.push({ path: path(index), message: resolved });
        else scopes.push(resolved);
      });
      const [first] = issues;
      if (first !== undefined) {
        throw new ValidationFailedError(
          `Unknown or invalid scope: ${first.path.join('.')}: ${first.message}`,
          issues,
        );
      }
      return scopes;
    },
    async refused(principal, scopes) {
      const answers = await Promise.all(scopes.map((scope) => mayHold(principal, scope)));
      return scopes.filter((_, index) => !answers[index]).map((scope) => scope.key);
    },
    async holdsAny(principal, keys) {
      for (const key of keys) {
        const scope = resolveKey(key);
        if (typeof scope !== 'string' && (await mayHold(principal, scope))) return true;
      }
      return false;
    },
    async mayPlace(principal, scope) {
      const rule = placement[scope.name];
      if (rule === undefined) return true;
      return (await answerWithin(rule(principal, scope.params), timeoutMs, scope.name)) === true;
    },
  };
}

/** `ScopesOptions.ruleTimeoutMs` when not given. */
const DEFAULT_RULE_TIMEOUT_MS = 5_000;

/** A rule's answer, or `UNAVAILABLE` once it has taken longer than `ms`. */
async function answerWithin(
  answer: boolean | Promise<boolean>,
  ms: number,
  scopeName: string,
): Promise<boolean> {
  if (typeof answer === 'boolean') return answer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new UnavailableError(`The rule of scope "${scopeName}" did not answer in ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Throws `FORBIDDEN` naming every scope of `scopes` the principal may not hold (problem+json
 * `scopes`), before anything is read.
 *
 * @example
 * await assertHolds(access, principal, scopes); // 403 { code: 'FORBIDDEN', scopes: [...] }
 */
export async function assertHolds(
  access: ScopeAccess,
  principal: Principal,
  scopes: readonly ScopeRef[],
): Promise<void> {
  const refused = await access.refused(principal, scopes);
  if (refused.length > 0) {
    throw new ForbiddenError(`Not allowed to hold scope ${refused.join(', ')}`, {
      scopes: refused,
    });
  }
}
