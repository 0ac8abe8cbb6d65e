/** JSON with object keys sorted, so key order does not make equal data differ. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** A command's fingerprint: SHA-256 of its name and canonical input, hex. */
export async function commandDigest(name: string, input: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson({ name, input }));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
