/** The deadline of one round's deliveries. */
export interface DeliveryDeadline {
  /** A fresh signal for one delivery; already aborted when the deadline has passed. */
  signal(): AbortSignal;
  /** Ends the timer (the round is over). */
  clear(): void;
}

/**
 * Aborts every delivery signal handed out once `timeoutMs` have passed, with `reason()`. One
 * controller per delivery, not one signal for the batch: a sink (fetch) adds listeners to its
 * signal, and a hundred on one signal is a leak warning in Node.
 *
 * @example
 * const deadline = startDeliveryDeadline(15_000, () => new OutboxDeliveryTimeoutError(15_000));
 * try {
 *   await Promise.all(messages.map((message) => sink(message, { signal: deadline.signal() })));
 * } finally {
 *   deadline.clear();
 * }
 */
export function startDeliveryDeadline(timeoutMs: number, reason: () => unknown): DeliveryDeadline {
  const controllers: AbortController[] = [];
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    for (const controller of controllers) controller.abort(reason());
  }, timeoutMs);
  return {
    signal() {
      const controller = new AbortController();
      if (expired) controller.abort(reason());
      controllers.push(controller);
      return controller.signal;
    },
    clear: () => clearTimeout(timer),
  };
}
