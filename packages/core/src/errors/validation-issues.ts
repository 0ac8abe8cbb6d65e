import type { z } from 'zod';
import type { ValidationIssue } from './errors.ts';

/** zod issues as the plain, serialisable issues strata errors carry. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((key): key is string | number => typeof key !== 'symbol'),
    message: issue.message,
  }));
}
