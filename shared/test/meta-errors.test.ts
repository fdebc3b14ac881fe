import { describe, expect, it } from 'vitest';
import { classifyMetaError } from '../src';

// The table itself (codes, actions, sources) is checked in scripts/test/meta-error-codes.test.ts.
describe('Meta error classification', () => {
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
    [33, 'auth'],
    [131037, 'auth'],
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
