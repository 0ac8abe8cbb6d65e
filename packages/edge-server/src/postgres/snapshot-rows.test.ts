import { describe, expect, it } from 'vitest';
import { recordingExecutor } from '../../test/fixtures/recording-executor.ts';
import { loadSnapshotRow, saveSnapshotRow } from './snapshot-rows.ts';

const stream = { aggregateType: 'Note', aggregateId: 'n1' };

describe('snapshot rows', () => {
  it('saves one snapshot per stream of the tenant, replacing the one before', async () => {
    const { executor, calls } = recordingExecutor([]);
    await saveSnapshotRow(executor, 'acme', {
      ...stream,
      version: 7,
      state: { text: 'hi' },
      fingerprint: 'f1',
      takenAt: '2026-01-01T00:00:00.000Z',
    });
    expect(calls[0]?.params).toEqual([
      'acme',
      'Note',
      'n1',
      7,
      '{"text":"hi"}',
      'f1',
      '2026-01-01T00:00:00.000Z',
    ]);
    expect(calls[0]?.text).toContain(
      'ON CONFLICT (tenant, aggregate_type, aggregate_id) DO UPDATE',
    );
  });

  it('loads it back with an ISO time whatever the driver returns, or undefined', async () => {
    const row = { version: 7, state: { text: 'hi' }, fingerprint: 'f1' };
    const takenAt = '2026-01-01T00:00:00.000Z';
    for (const taken_at of [new Date(takenAt), '2026-01-01 00:00:00+00']) {
      const { executor, calls } = recordingExecutor([{ ...row, taken_at }]);
      expect(await loadSnapshotRow(executor, 'acme', stream)).toEqual({
        ...stream,
        ...row,
        takenAt,
      });
      expect(calls[0]?.params).toEqual(['acme', 'Note', 'n1']);
    }
    expect(await loadSnapshotRow(recordingExecutor([]).executor, 'acme', stream)).toBeUndefined();
  });
});
