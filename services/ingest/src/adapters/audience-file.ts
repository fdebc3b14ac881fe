import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { AppError } from '@wa/shared/errors';
import type { AudienceChunk, AudienceReader } from '../ports';

/**
 * Audience files are streamed line by line (readline over a file stream), never loaded whole.
 * Paths come from callers, so they are confined to `root`: `..`, absolute paths elsewhere and
 * symlinks pointing out are refused.
 */
export const AUDIENCE_REFUSED = 'audience file cannot be opened (it must be a readable file inside AUDIENCE_ROOT)';
/** Longest audience line: a recipient with its parameters is far shorter. */
export const MAX_AUDIENCE_LINE_BYTES = 64 * 1024;

const isAppErrorLike = (err: unknown): err is AppError => err instanceof AppError;

/** Passes bytes through, failing the stream once a line runs longer than `max` bytes. */
function lineLengthGuard(max: number): Transform {
  let run = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a, from); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
        if (run + (nl - from) > max) break;
        run = 0;
        from = nl + 1;
      }
      run += chunk.length - from;
      if (run > max || (from < chunk.length && chunk.indexOf(0x0a, from) !== -1)) {
        return done(new AppError('audience_unreadable', `audience line longer than ${max} bytes`, 'dead-letter'));
      }
      done(null, chunk);
    },
  });
}

export function createAudienceFileReader(root: string | undefined, maxLineBytes = MAX_AUDIENCE_LINE_BYTES): AudienceReader {
  return {
    async resolve(path) {
      if (!root) throw new AppError('audience_unreadable', 'audiences are disabled: AUDIENCE_ROOT is not configured', 'dead-letter');
      // Containment is decided on the path before the file system is asked anything, and every refusal reads the
      // same: a caller learns nothing about files outside the root (exists, is a directory, permissions).
      const refused = (cause?: unknown) => new AppError('audience_unreadable', AUDIENCE_REFUSED, 'dead-letter', cause === undefined ? {} : { cause });
      let realRoot: string;
      try {
        realRoot = await realpath(root);
      } catch (err) {
        throw refused(err);
      }
      const lexical = isAbsolute(path) ? resolve(path) : resolve(realRoot, path);
      if (!lexical.startsWith(realRoot + sep) || path.includes('\0')) throw refused();
      let real: string;
      try {
        real = await realpath(lexical);
        // Symlinks inside the root may point out of it.
        if (!real.startsWith(realRoot + sep) || !(await stat(real)).isFile()) throw refused();
      } catch (err) {
        throw isAppErrorLike(err) ? err : refused(err);
      }
      return real;
    },

    async *chunks(file, format, fromIndex, chunkSize): AsyncGenerator<AudienceChunk> {
      const size = (await stat(file)).size;
      const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
      // readline buffers a line whole: a file without newlines would be read into memory in one piece.
      const guarded = stream.pipe(lineLengthGuard(maxLineBytes));
      stream.on('error', (err) => guarded.destroy(err));
      const lines = createInterface({ input: guarded, crlfDelay: Infinity });
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
