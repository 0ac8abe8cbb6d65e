/** What to do when the browser says the network came or went. */
export interface NetworkHandlers {
  readonly onOnline: () => void;
  readonly onOffline: () => void;
}

/**
 * Listens to the browser's `online` and `offline` events (none where there is no window, e.g.
 * Node); returns the function that stops listening.
 *
 * @example
 * const unwatch = watchNetwork({ onOnline: () => wake.wake(), onOffline: () => stream.abort() });
 */
export function watchNetwork(handlers: NetworkHandlers): () => void {
  const events = globalThis as unknown as Partial<Pick<Window, 'addEventListener'>> &
    Partial<Pick<Window, 'removeEventListener'>>;
  const { onOnline, onOffline } = handlers;
  events.addEventListener?.('online', onOnline);
  events.addEventListener?.('offline', onOffline);
  return () => {
    events.removeEventListener?.('online', onOnline);
    events.removeEventListener?.('offline', onOffline);
  };
}
