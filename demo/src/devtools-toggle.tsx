import { StrataDevtools } from '@strata/browser/devtools';
import { useStrata, useSyncClient } from '@strata/browser/react';
import { Todo } from '@strata/example-todo';
import { useState } from 'react';

// Module-level: a new array would make the panel a new inspector on every render.
const AGGREGATES = [Todo];
const REMEMBERED = 'strata-demo-devtools';

/**
 * The footer's "devtools" button: shows the strata devtools panel (and remembers it in
 * localStorage). `?devtools` in the address shows it at load too.
 */
export function DevtoolsToggle() {
  const strata = useStrata();
  const sync = useSyncClient();
  const [shown, setShown] = useState(shownAtLoad);
  const toggle = () => {
    setShown(!shown);
    remember(!shown);
  };
  return (
    <>
      <p>
        <button
          type="button"
          className="devtools-toggle"
          aria-pressed={shown}
          onClick={toggle}
          style={{ textDecoration: 'underline', cursor: 'pointer' }}
        >
          {shown ? 'hide devtools' : 'devtools'}
        </button>
      </p>
      {shown && (
        // Last in the page: it reserves its height there, so the footer can scroll above it.
        <StrataDevtools
          strata={strata}
          sync={sync}
          aggregates={AGGREGATES}
          defaultOpen
          reserveSpace
        />
      )}
    </>
  );
}

function shownAtLoad(): boolean {
  if (new URLSearchParams(location.search).has('devtools')) return true;
  try {
    return localStorage.getItem(REMEMBERED) === 'shown';
  } catch {
    // Storage can be off (some private modes): the button still works for this page.
    return false;
  }
}

function remember(shown: boolean): void {
  try {
    if (shown) localStorage.setItem(REMEMBERED, 'shown');
    else localStorage.removeItem(REMEMBERED);
  } catch {
    // As above: not remembered, nothing else lost.
  }
}
