/** The consumer id and lease checks shared by claims, acks, nacks and lease renewals (internal). */
import { ValidationFailedError } from '@strata/core';

export function validateConsumer(consumerId: string, leaseMs: number): void {
  if (consumerId === '' || consumerId.length > 200) {
    throw new ValidationFailedError('consumerId must be 1 to 200 characters', [
      { path: ['consumerId'], message: 'must be 1 to 200 characters' },
    ]);
  }
  if (!Number.isInteger(leaseMs) || leaseMs < 100 || leaseMs > 3_600_000) {
    throw new ValidationFailedError('leaseMs must be a whole number from 100 to 3 600 000', [
      { path: ['leaseMs'], message: 'must be a whole number from 100 to 3600000' },
    ]);
  }
}
