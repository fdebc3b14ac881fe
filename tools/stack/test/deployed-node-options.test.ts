import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployedNodeOptions, imageNodeArgs } from '../src/deployed-node-options';

const repoRoot = resolve(__dirname, '../../..');

function fakeRoot(kustomization: string): string {
  const root = mkdtempSync(join(tmpdir(), 'deployed-node-options-'));
  mkdirSync(join(root, 'deploy/k8s/base'), { recursive: true });
  writeFileSync(join(root, 'deploy/k8s/base/kustomization.yaml'), kustomization);
  return root;
}

describe('deployedNodeOptions', () => {
  it("reads each service's V8 flags from its ConfigMap in deploy/k8s/base", () => {
    expect(deployedNodeOptions(repoRoot, 'dispatcher')).toBe('--max-old-space-size=768 --max-semi-space-size=64');
    expect(deployedNodeOptions(repoRoot, 'analytics')).toBe('--max-old-space-size=768 --max-semi-space-size=64');
    expect(deployedNodeOptions(repoRoot, 'ingest')).toMatch(/^--max-old-space-size=\d+/);
    expect(deployedNodeOptions(repoRoot, 'webhook')).toMatch(/^--max-old-space-size=\d+/);
  });

  it('every NODE_OPTIONS in deploy/k8s (base and overlays) is accepted by node (some V8 flags are refused there)', () => {
    const overlays = readdirSync(join(repoRoot, 'deploy/k8s/overlays')).map((o) => `deploy/k8s/overlays/${o}/kustomization.yaml`);
    const files = ['deploy/k8s/base/kustomization.yaml', ...overlays].filter((f) => existsSync(join(repoRoot, f)));
    const options = files.flatMap((f) => [...readFileSync(join(repoRoot, f), 'utf8').matchAll(/NODE_OPTIONS=(.+)$/gm)].map((m) => m[1]!.trim()));
    expect(options.length).toBeGreaterThanOrEqual(4);
    for (const value of options) {
      const run = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: value }, encoding: 'utf8' });
      expect(run.status, `NODE_OPTIONS=${value}: ${run.stderr}`).toBe(0);
    }
  });

  it('is empty for a ConfigMap without NODE_OPTIONS, and names the ConfigMap that is missing', () => {
    const root = fakeRoot(['configMapGenerator:', '  - name: wa-ingest', '    literals:', '      - HTTP_PORT=8081', ''].join('\n'));
    expect(deployedNodeOptions(root, 'ingest')).toBe('');
    expect(() => deployedNodeOptions(root, 'dispatcher')).toThrow(/no ConfigMap wa-dispatcher/);
  });

  it("reads the image's node flags from the Dockerfile's ENTRYPOINT; node accepts them as arguments; WA_IMAGE_NODE_ARGS replaces them", () => {
    const args = imageNodeArgs(repoRoot, {});
    expect(args).toContain('--single-threaded-gc');
    expect(args).toContain('--initial-old-space-size=128');
    const run = spawnSync(process.execPath, [...args, '-e', '0'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(imageNodeArgs(repoRoot, { WA_IMAGE_NODE_ARGS: 'none' })).toEqual([]);
    expect(imageNodeArgs(repoRoot, { WA_IMAGE_NODE_ARGS: '--max-semi-space-size=16 --cpu-prof' })).toEqual(['--max-semi-space-size=16', '--cpu-prof']);
  });
});
