// Who runs a command, as `decide` and a command's `allow` rule see it. The same shape in the
// browser (the signed-in user the app names) and on the server (from the verified token, never
// from a request body), so one rule runs on both sides.

/** The caller of a command: the user, their tenant and the token's other claims. */
export interface CommandPrincipal {
  readonly userId: string;
  readonly tenant: string;
  /** The verified token's claims (roles, plan, ...); empty when there is no token. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What a command's `allow` rule decides on: who asks, the state it would change and the input. */
export interface CommandRuleInput<TState, TInput> {
  /** Undefined where nobody is signed in (a local-only app): a rule may refuse that. */
  readonly principal: CommandPrincipal | undefined;
  readonly state: TState;
  readonly input: TInput;
}

/** Who may run a command; false is `FORBIDDEN`. Pure: checked in the browser and again on the server. */
export type CommandRule<TState, TInput> = (rule: CommandRuleInput<TState, TInput>) => boolean;
