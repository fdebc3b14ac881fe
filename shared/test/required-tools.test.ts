import { describe, expect, it } from 'vitest';
import { findOnPath, MissingToolError, requireTool, summarizeToolSkips, TOOLS } from '../src/required-tools';

const compose = TOOLS.compose;
const probeSeeing =
  (...present: string[]) =>
  (argv: readonly string[]) =>
    present.includes(argv.join(' '));

describe('requireTool', () => {
  it('lets the tests run when one of the probes succeeds', () => {
    const tool = requireTool(compose, {}, probeSeeing('docker-compose version'));
    expect(tool).toMatchObject({ name: 'docker-compose', available: true, options: { skip: false } });
  });

  it('skips, with the tool and how to install it, when no probe succeeds', () => {
    const tool = requireTool(compose, {}, probeSeeing('docker version'));
    expect(tool.available).toBe(false);
    expect(tool.options).toEqual({ skip: true, meta: { missingTool: 'docker-compose not found — `apt-get install docker-compose`' } });
  });

  it('fails instead under REQUIRE_ALL_TOOLS=1, and only for a missing tool', () => {
    expect(() => requireTool(compose, { REQUIRE_ALL_TOOLS: '1' }, probeSeeing())).toThrow(MissingToolError);
    expect(() => requireTool(compose, { REQUIRE_ALL_TOOLS: '1' }, probeSeeing())).toThrow(
      /docker-compose not found — `apt-get install docker-compose` \(REQUIRE_ALL_TOOLS=1/,
    );
    expect(requireTool(compose, { REQUIRE_ALL_TOOLS: '1' }, probeSeeing('docker compose version')).available).toBe(true);
    expect(requireTool(compose, { REQUIRE_ALL_TOOLS: '0' }, probeSeeing()).options.skip).toBe(true);
  });

  it('probes by running the command (a real one and one that does not exist)', () => {
    expect(requireTool({ name: 'node', probe: [[process.execPath, '--version']], install: '-' }).available).toBe(true);
    expect(requireTool({ name: 'nope', probe: [['wa-no-such-tool-7f3a']], install: '-' }, {}).available).toBe(false);
  });
});

describe('summarizeToolSkips', () => {
  it('prints one line per missing tool with the number of tests it skipped', () => {
    const kcat = 'kcat not found — `apt-get install kcat`';
    const compose = 'docker-compose not found — `apt-get install docker-compose`';
    expect(summarizeToolSkips([kcat, compose, compose, kcat, compose, compose])).toEqual([
      'skipped 4: docker-compose not found — `apt-get install docker-compose`',
      'skipped 2: kcat not found — `apt-get install kcat`',
    ]);
    expect(summarizeToolSkips([])).toEqual([]);
  });
});

describe('findOnPath', () => {
  it('finds an executable on PATH and nothing that is not there', () => {
    const dir = process.execPath.slice(0, process.execPath.lastIndexOf('/'));
    expect(findOnPath('node', { PATH: `/nonexistent:${dir}` })).toBe(`${dir}/node`);
    expect(findOnPath('node', { PATH: '/nonexistent' })).toBeUndefined();
  });
});
