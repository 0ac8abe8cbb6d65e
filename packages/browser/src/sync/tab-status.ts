/** What a tab knows for itself and does not share: whether it syncs, whether it is online. */
export interface TabStatus {
  /** This tab is the one syncing (it holds the Web Lock). */
  readonly leader: boolean;
  /** The browser reports a network (`navigator.onLine`). */
  readonly online: boolean;
}

/** This tab's status, with listeners told of every change. */
export interface TabStatusCell {
  get(): TabStatus;
  set(change: Partial<TabStatus>): void;
  /** Returns the function that removes `listener`. */
  subscribe(listener: () => void): () => void;
}

/**
 * @example
 * const tab = createTabStatus();
 * tab.subscribe(() => render(tab.get().online));
 * tab.set({ online: false });
 */
export function createTabStatus(online: boolean = isOnline()): TabStatusCell {
  const status = { leader: false, online };
  const listeners = new Set<() => void>();
  return {
    get: () => ({ ...status }),
    set(change) {
      Object.assign(status, change);
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** `navigator.onLine`, or true where there is no navigator (Node). */
export function isOnline(): boolean {
  const navigatorLike = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  return navigatorLike?.onLine ?? true;
}
