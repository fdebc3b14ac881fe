import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform, type Readable } from 'node:stream';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import { AppError } from '@wa/shared/errors';
import type { AudienceChunk, AudienceLine, AudienceReader } from '../ports';

/**
 * Audience files are streamed, never loaded whole: NDJSON line by line (readline), CSV record by
 * record (csv-parse: RFC 4180 quoting, newlines inside quotes, BOM, CRLF). Paths come from callers,
 * so they are confined to `root`: `..`, absolute paths elsewhere and symlinks pointing out are refused.
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
        return done(unreadable(`audience line longer than ${max} bytes`));
      }
      done(null, chunk);
    },
  });
}

const unreadable = (message: string, cause?: unknown) => new AppError('audience_unreadable', message, 'dead-letter', cause === undefined ? {} : { cause });

/** NDJSON lines as they are. */
async function* ndjsonLines(input: Readable): AsyncGenerator<{ text: string; cells?: string[] }> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const text of lines) yield { text };
  } finally {
    lines.close();
  }
}

/** CSV records: the cells, and the record's own text (for a dead letter). */
async function* csvRecords(input: Readable, maxRecordBytes: number): AsyncGenerator<{ text: string; cells: string[] }> {
  // relax_column_count: a short row reads its missing cells as empty; relax_quotes: a quote inside an unquoted cell is text.
  const parser = input.pipe(parseCsv({ bom: true, raw: true, relax_column_count: true, relax_quotes: true, max_record_size: maxRecordBytes }));
  input.on('error', (err) => parser.destroy(err));
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; raw: string }>) yield { text: r.raw.replace(/\r?\n?$/, ''), cells: r.record };
  } catch (err) {
    if ((err as CsvError).code?.startsWith('CSV_')) throw unreadable(`audience CSV cannot be parsed: ${(err as Error).message}`, err);
    throw err;
  } finally {
    parser.destroy();
  }
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
      const records = format === 'csv' ? csvRecords(guarded, maxLineBytes) : ndjsonLines(guarded);
      let index = 0;
      let headerPending = format === 'csv';
      let batch: AudienceLine[] = [];
      try {
        for await (const record of records) {
          if (headerPending) {
            headerPending = false;
            batch.push({ index: -1, ...record });
            continue;
          }
          const i = index++;
          if (i < fromIndex) continue;
          batch.push({ index: i, ...record });
          if (batch.length >= chunkSize) {
            yield { lines: batch, next: i + 1, bytesRead: stream.bytesRead, size };
            batch = [];
          }
        }
      } finally {
        await records.return(undefined);
        stream.destroy();
      }
      yield { lines: batch, next: index, bytesRead: size, size };
    },
  };
}
