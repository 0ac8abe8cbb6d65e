import { describe, expect, it } from 'vitest';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

describe('browser tier environment', () => {
  it('runs in real Chromium', () => {
    expect(navigator.userAgent).toContain('Chrome');
  });

  it('round-trips a record through real IndexedDB', async () => {
    const name = `strata-smoke-${crypto.randomUUID()}`;
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore('events', { keyPath: 'id' });
    };
    const db = await request(open);
    try {
      const write = db.transaction('events', 'readwrite');
      write.objectStore('events').put({ id: 'e1', type: 'Created', data: { n: 1 } });
      await new Promise<void>((resolve, reject) => {
        write.oncomplete = () => resolve();
        write.onerror = () => reject(write.error);
      });
      const read = db.transaction('events', 'readonly').objectStore('events').get('e1');
      expect(await request(read)).toEqual({ id: 'e1', type: 'Created', data: { n: 1 } });
    } finally {
      db.close();
      await request(indexedDB.deleteDatabase(name));
    }
  });

  it('has Web Crypto and Web Locks', async () => {
    expect(typeof crypto.getRandomValues).toBe('function');
    expect(crypto.getRandomValues(new Uint8Array(16))).toHaveLength(16);
    expect(navigator.locks).toBeDefined();
    await expect(navigator.locks.request('strata-smoke', async () => 'held')).resolves.toBe('held');
  });
});
