import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { AppError } from '@wa/shared/errors';
import type { AudienceChunk, AudienceReader } from '../ports';

/**
 * Audience files are streamed line by line (readline over a file stream), never loaded whole.
 * Paths come from callers, so they are confined to `root`: `..`, absolute paths elsewhere and
 * symlinks pointing out are refused.
 */
export function createAudienceFileReader(root: string | undefined): AudienceReader {
  return {
    async resolve(path) {
      if (!root) throw new AppError('audience_unreadable', 'audiences are disabled: AUDIENCE_ROOT is not configured', 'dead-letter');
      let realRoot: string;
      let real: string;
      try {
        realRoot = await realpath(root);
        real = await realpath(isAbsolute(path) ? path : resolve(realRoot, path));
      } catch (err) {
        throw new AppError('audience_unreadable', `audience ${path} cannot be opened: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'dead-letter', { cause: err });
      }
      if (!real.startsWith(realRoot + sep)) {
        throw new AppError('audience_unreadable', `audience ${path} is outside the audience root ${realRoot} (AUDIENCE_ROOT)`, 'dead-letter');
      }
      const info = await stat(real);
      if (!info.isFile()) throw new AppError('audience_unreadable', `audience ${path} is not a file`, 'dead-letter');
      return real;
    },

    async *chunks(file, format, fromIndex, chunkSize): AsyncGenerator<AudienceChunk> {
      const size = (await stat(file)).size;
      const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      let index = 0;
      let headerPending = format === 'csv';
      let batch: { index: number; text: string }[] = [];
      try {
        for await (const text of lines) {
          if (headerPending) {
            headerPending = false;
            batch.push({ index: -1, text });
            continue;
          }
          const i = index++;
          if (i < fromIndex) continue;
          batch.push({ index: i, text });
          if (batch.length >= chunkSize) {
            yield { lines: batch, next: i + 1, bytesRead: stream.bytesRead, size };
            batch = [];
          }
        }
      } finally {
        lines.close();
        stream.destroy();
      }
      yield { lines: batch, next: index, bytesRead: size, size };
    },
  };
}
