import { useRegisterSW } from 'virtual:pwa-register/react';
import { useSyncStatus } from '@strata/browser/react';
import { useEffect, useRef, useState } from 'react';
import { commandsSettled } from './run-command.ts';

/** How often an open page asks for a new version besides on reconnecting (browsers: daily). */
const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Registers the service worker (which makes the app open offline) and, when a new deployment
 * has been installed beside the running one, offers to switch: "A new version is available —
 * Reload". Never reloads on its own.
 *
 * Why a reload is safe then: every command is stored in IndexedDB (its events and its pending
 * command, one transaction) before it counts as done, so pending commands outlive the page and
 * the new version syncs them. What is not safe is a reload in the middle of that transaction, so
 * Reload first waits for the commands in flight (`commandsSettled`).
 *
 * Tabs: the new service worker takes over every tab of the app at once when one tab's Reload
 * activates it. That tab reloads; the others keep running the old version and say so, waiting
 * for their own Reload (an automatic reload could cut a write or an edit short there).
 */
export function UpdatePrompt() {
  const [registration, setRegistration] = useState<ServiceWorkerRegistration>();
  // A new version was installed while this page ran (the prompt is up).
  const updateFound = useRef(false);
  // Set by this tab's Reload: the new version is activating because this tab asked.
  const reloadRequested = useRef(false);
  const [activatedElsewhere, setActivatedElsewhere] = useState(false);
  const [reloading, setReloading] = useState(false);
  const {
    needRefresh: [needRefresh],
    updateServiceWorker,
  } = useRegisterSW({
    onRegisteredSW: (_url, registered) => setRegistration(registered),
    onNeedRefresh: () => {
      updateFound.current = true;
    },
    // The plugin would reload here on its own (and only in tabs that had a worker when they
    // loaded); the controllerchange listener below decides instead.
    onNeedReload: () => undefined,
    onRegisterError: (error: unknown) =>
      console.error('The service worker did not register:', error),
  });

  // The new version took over this tab: reload if this tab asked for it, else say so.
  useEffect(() => {
    const workers = navigator.serviceWorker;
    if (workers === undefined) return;
    const onControllerChange = () => {
      // The first install claiming the page (no prompt was up) needs nothing.
      if (!updateFound.current) return;
      if (reloadRequested.current) void reloadWhenSettled();
      else setActivatedElsewhere(true);
    };
    workers.addEventListener('controllerchange', onControllerChange);
    return () => workers.removeEventListener('controllerchange', onControllerChange);
  }, []);

  // A server that comes back may well be a new deployment: look for it then, and now and then.
  const connected = useSyncStatus()?.connected ?? false;
  useEffect(() => {
    if (registration === undefined) return;
    const check = () => {
      registration.update().catch(() => undefined); // offline: the next check will do
    };
    if (connected) check();
    const timer = setInterval(check, UPDATE_CHECK_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [registration, connected]);

  if (!needRefresh && !activatedElsewhere) return null;

  const reload = async () => {
    setReloading(true);
    reloadRequested.current = true;
    await commandsSettled();
    // Waiting: activate it (every tab), then reload on controllerchange. Already active
    // (another tab's Reload): this page only has to load the new version.
    if (registration?.waiting) await updateServiceWorker();
    else await reloadWhenSettled();
  };

  return (
    <div
      className="update-prompt"
      role="status"
      data-state={reloading ? 'reloading' : activatedElsewhere ? 'activated' : 'waiting'}
    >
      <span>
        {activatedElsewhere
          ? 'A new version is running in another tab'
          : 'A new version is available'}
      </span>
      {' — '}
      <button type="button" className="update-reload" disabled={reloading} onClick={reload}>
        {reloading ? 'Reloading…' : 'Reload'}
      </button>
    </div>
  );
}

/** Reloads once no command is mid-write (pending commands are in IndexedDB: they survive). */
async function reloadWhenSettled(): Promise<void> {
  await commandsSettled();
  location.reload();
}
