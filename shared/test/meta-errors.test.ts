import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyMetaError, META_ERROR_CODES } from '../src';

// The shared docs sit beside the repository root, on developer machines and in CI alike.
const DOCS_TABLE = resolve(__dirname, '../../../shared/docs/cloud-api-errors.json');

describe('Meta error classification', () => {
  it.runIf(existsSync(DOCS_TABLE))('matches the documented table row for row', () => {
    const documented = JSON.parse(readFileSync(DOCS_TABLE, 'utf8')) as { code: number; title: string; action: string }[];
    expect(META_ERROR_CODES.map(({ code, title, action }) => ({ code, title, action }))).toEqual(
      documented.map(({ code, title, action }) => ({ code, title, action })),
    );
  });

  it.each([
    [131000, 'transient'],
    [131016, 'transient'],
    [133004, 'transient'],
    [130429, 'throttle'],
    [131056, 'throttle'],
    [80007, 'throttle'],
    [131026, 'permanent'],
    [131047, 'permanent'],
    [131049, 'permanent'],
    [131050, 'permanent'],
    [132001, 'permanent'],
    [100, 'fix_request'],
    [131008, 'fix_request'],
    [190, 'auth'],
    [131031, 'auth'],
    [250, 'auth'],
  ] as const)('code %i is %s', (code, errorClass) => {
    expect(classifyMetaError(code, 400).errorClass).toBe(errorClass);
  });

  it('falls back on the HTTP status for unknown codes and network failures', () => {
    expect(classifyMetaError(999999, 503)).toMatchObject({ errorClass: 'transient', inferred: true });
    expect(classifyMetaError(undefined, undefined)).toMatchObject({ errorClass: 'transient', inferred: true });
    expect(classifyMetaError(null, 429)).toMatchObject({ errorClass: 'throttle' });
    expect(classifyMetaError(null, 401)).toMatchObject({ errorClass: 'auth' });
    expect(classifyMetaError(999999, 400)).toMatchObject({ errorClass: 'permanent', inferred: true });
  });
});
