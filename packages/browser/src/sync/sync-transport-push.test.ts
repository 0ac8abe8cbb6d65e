import {
  type CommandPushRequest,
  CommandPushRequestSchema,
  isStrataError,
  NotFoundError,
  toProblemDetails,
} from '@strata/core';
import { describe, expect, it } from 'vitest';
import { createSyncTransport } from './sync-transport.ts';

const event = {
  id: '2Yb7u5nN1cZ8qJ3kTqk5m0fX4aB',
  type: 'TodoAdded',
  schemaVersion: 2,
  aggregateType: 'Todo',
  aggregateId: 't1',
  version: 1,
  occurredAt: '2026-12-01T10:00:00.000Z',
  data: { title: 'Buy milk' },
  metadata: { commandId: 'c1' },
};

const request: CommandPushRequest = {
  protocol: 2,
  clientId: 'device-1',
  commits: [
    {
      commitId: 'c1',
      command: {
        aggregateType: 'Todo',
        aggregateId: 't1',
        name: 'add',
        input: { title: 'Buy milk' },
        issuedAt: '2026-12-01T10:00:00.000Z',
      },
      events: [event],
    },
  ],
};

/** A transport whose server answers each push with `answer`; the requests it saw are kept. */
function answering(answer: () => Response) {
  const requests: Request[] = [];
  const transport = createSyncTransport({
    url: 'http://sync.test/base/',
    fetch: async (input, init) => {
      requests.push(new Request(input, init));
      return answer();
    },
  });
  return { transport, requests };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const pushError = (answer: () => Response) =>
  answering(answer)
    .transport.push(request)
    .then(
      () => undefined,
      (error: unknown) => error,
    );

describe('sync transport pushes (protocol 2)', () => {
  it('posts the commands to /v2/push and returns the stored events the server answered', async () => {
    const stored = {
      ...event,
      id: '2Yb7u5nN1cZ8qJ3kTqk5m0fX4aC',
      position: 7,
      recordedAt: event.occurredAt,
    };
    const { transport, requests } = answering(() =>
      json({ protocol: 2, results: [{ commitId: 'c1', status: 'accepted', events: [stored] }] }),
    );
    const answer = await transport.push(request);
    expect(answer.results).toEqual([{ commitId: 'c1', status: 'accepted', events: [stored] }]);
    const [sent] = requests;
    expect(sent?.method).toBe('POST');
    expect(new URL(sent?.url ?? '').pathname).toBe('/base/v2/push');
    expect(sent?.headers.get('content-type')).toBe('application/json');
    const body: unknown = await sent?.json();
    expect(body).toEqual(request);
    expect(CommandPushRequestSchema.safeParse(body).success).toBe(true);
  });

  it('reads a v1 answer (positions, no protocol) as a server speaking an older protocol', async () => {
    const error = await pushError(() =>
      json({ results: [{ commitId: 'c1', status: 'accepted', positions: [7] }] }),
    );
    expect(isStrataError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(/speaks an older protocol/);
  });

  it("reads an older server's 404 (no /v2/push route) as an older protocol, not a missing thing", async () => {
    const problem = toProblemDetails(new NotFoundError('No route POST /base/v2/push'));
    const error = await pushError(() => json(problem, 404));
    expect(isStrataError(error, 'INTERNAL')).toBe(true);
    expect((error as Error).message).toMatch(/older protocol.*no \/v2\/push route/);
  });

  it('refuses a protocol 2 answer of the wrong shape, and names a newer protocol as such', async () => {
    const malformed = await pushError(() =>
      json({ protocol: 2, results: [{ commitId: 'c1', status: 'accepted', positions: [7] }] }),
    );
    expect(isStrataError(malformed, 'INTERNAL')).toBe(true);
    expect((malformed as Error).message).toMatch(/unexpected body/);
    const newer = await pushError(() => json({ protocol: 3, results: [] }));
    expect(isStrataError(newer, 'INTERNAL')).toBe(true);
    expect((newer as Error).message).toMatch(/protocol 3; this client speaks 2/);
  });

  it("keeps the server's typed refusal of the whole push", async () => {
    const problem = toProblemDetails(new NotFoundError('gone'));
    // Any status but 404: a problem answer is the error it carries.
    const error = await pushError(() => json({ ...problem, status: 400 }, 400));
    expect(isStrataError(error, 'NOT_FOUND')).toBe(true);
  });
});
