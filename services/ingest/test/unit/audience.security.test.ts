import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIENCE_REFUSED, createAudienceFileReader } from '../../src/adapters/audience-file';

function world() {
  const base = mkdtempSync(join(tmpdir(), 'wa-aud-sec-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'ok.ndjson'), '"+14155550123"\n');
  writeFileSync(join(outside, 'secret.txt'), 'x\n');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link.ndjson'));
  return { base, root, outside };
}

const messageOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (err: Error) => err.message,
  );

describe('audience paths: containment first, one generic refusal', () => {
  it('answers the same for an existing and a missing file outside the root, a directory, a symlink out, and a missing file inside', async () => {
    const { root, outside } = world();
    const reader = createAudienceFileReader(root);
    const attempts = [
      '../outside/secret.txt',
      '../outside/missing.txt',
      join(outside, 'secret.txt'),
      join(outside, 'nope'),
      '/etc/passwd',
      '/nonexistent/x',
      'sub',
      'link.ndjson',
      'missing.ndjson',
      'sub/../../outside/secret.txt',
    ];
    const messages = await Promise.all(attempts.map((p) => messageOf(reader.resolve(p))));
    expect(messages).toEqual(attempts.map(() => AUDIENCE_REFUSED));
    expect(await reader.resolve('ok.ndjson')).toBe(join(root, 'ok.ndjson'));
  });

  it('a line longer than the cap fails the read instead of being buffered whole', async () => {
    const { root } = world();
    writeFileSync(join(root, 'long.ndjson'), `"+14155550123"\n"${'9'.repeat(200_000)}"\n`);
    const reader = createAudienceFileReader(root, 64 * 1024);
    const read = async () => {
      for await (const _chunk of reader.chunks(join(root, 'long.ndjson'), 'ndjson', 0, 10)) void _chunk;
    };
    await expect(read()).rejects.toThrow(/longer than 65536 bytes/);
    const fine: string[] = [];
    for await (const c of reader.chunks(join(root, 'ok.ndjson'), 'ndjson', 0, 10)) fine.push(...c.lines.map((l) => l.text));
    expect(fine).toEqual(['"+14155550123"']);
  });
});
