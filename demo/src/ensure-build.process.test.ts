/**
 * `pnpm start`'s build step (ensure-build.ts) as a process, on a copy of the demo in a temporary
 * folder (so that a source can change without touching the checkout): the first run builds, a
 * second with nothing changed does not, a changed source or version builds again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCopy, runBuildStep, type TempRepository } from '../e2e/build-fixtures.ts';

let copy: TempRepository;
beforeAll(async () => {
  copy = await demoCopy();
});
afterAll(() => copy?.dispose());

const BUILT = /demo: built in/;
const SKIPPED = /demo: no input changed since the last build; not rebuilding/;
const builtAt = () => copy.modifiedAt('demo/dist/index.html');

describe("pnpm start's build step", () => {
  it('builds once, then again only when an input changes', async () => {
    expect(await runBuildStep(copy)).toMatch(BUILT);
    const first = await builtAt();

    // Nothing changed: no build, and the same files.
    const again = await runBuildStep(copy);
    expect(again).toMatch(SKIPPED);
    expect(again).not.toMatch(BUILT);
    expect(await builtAt()).toBe(first);

    // A source of the app changes: built again.
    await copy.append('demo/src/app.tsx', '\n// changed by the test\n');
    expect(await runBuildStep(copy)).toMatch(BUILT);
    expect(await builtAt()).toBeGreaterThan(first);
    expect(await runBuildStep(copy)).toMatch(SKIPPED);

    // The version the build writes into the app is an input too.
    const version = { STRATA_DEMO_VERSION: '9.9.9' };
    expect(await runBuildStep(copy, version)).toMatch(BUILT);
    expect(await runBuildStep(copy, version)).toMatch(SKIPPED);

    // A deleted build is built again.
    await copy.remove('demo/dist');
    expect(await runBuildStep(copy, version)).toMatch(BUILT);
  }, 240_000);
});
