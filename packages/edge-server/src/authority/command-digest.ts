import { canonicalJson } from '@strata/core';

/** A command's fingerprint: SHA-256 of its name and canonical input, hex. */
export async function commandDigest(name: string, input: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson({ name, input }));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
