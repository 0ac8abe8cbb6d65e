import { describe, expect, it, vi } from 'vitest';

describe('the README example of command input versions', () => {
  it('runs and prints what its comments say', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const { Note } = await import('./readme-versions-example.ts');
    expect(log.mock.calls).toEqual([[{ title: 'Milk' }], [{ title: 'Eggs' }]]);
    log.mockRestore();
    expect(Note.commands.write.versions?.inputVersion).toBe(2);
  });
});
