import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// vitest run on a fixture, through the repository's reporter: what `npm test` prints about skips.
const root = resolve(import.meta.dirname, '../..');
const vitestBin = join(root, 'node_modules/vitest/vitest.mjs');

function runFixture(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [vitestBin, 'run', '--config', 'scripts/test/fixtures/vitest.tool-skips.config.ts'],
      { cwd: root, env: { ...process.env, REQUIRE_ALL_TOOLS: '', ...env }, timeout: 90_000 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('tests that need a missing tool', () => {
  it('are skipped and counted in one line naming the tool and its install command', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'wa-tool-skips-')), 'skips.txt');
    const { code, output } = await runFixture({ WA_TOOL_SKIPS_FILE: file });
    expect(code, output).toBe(0);
    const line = 'skipped 3: wa-no-such-tool not found — `apt-get install wa-no-such-tool`';
    expect(output).toContain(line);
    expect(readFileSync(file, 'utf8')).toBe(`${line}\n`);
  });

  it('fail the run under REQUIRE_ALL_TOOLS=1, naming the tool', async () => {
    const { code, output } = await runFixture({ REQUIRE_ALL_TOOLS: '1', WA_TOOL_SKIPS_FILE: '' });
    expect(code).not.toBe(0);
    expect(output).toContain('wa-no-such-tool not found — `apt-get install wa-no-such-tool` (REQUIRE_ALL_TOOLS=1');
  });
});
