import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonEnv, ConfigError, describeEnv, env, loadConfig } from '../src';

const schema = z.object({
  ...commonEnv,
  HTTP_PORT: env.int('port', 8080, 1, 65535),
  API_TOKEN: env.string('token for callers'),
  RETRY_BASE_MS: env.int('base delay', 500),
});

describe('loadConfig', () => {
  it('parses, applies defaults and freezes', () => {
    const config = loadConfig(schema, { API_TOKEN: 't0k' });
    expect(config.HTTP_PORT).toBe(8080);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names a missing variable', () => {
    expect(() => loadConfig(schema, {})).toThrowError(ConfigError);
    try {
      loadConfig(schema, {});
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^API_TOKEN: .*\(missing\)$/)]);
    }
  });

  it('names every malformed variable at once, without echoing secrets', () => {
    try {
      loadConfig(schema, { API_TOKEN: 'x', HTTP_PORT: 'eighty', RETRY_BASE_MS: '-5', REDIS_URL: 'not a url' });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/HTTP_PORT: .*got "eighty"/);
      expect(problems.join('\n')).toMatch(/RETRY_BASE_MS: .*got "-5"/);
      expect(problems.join('\n')).toMatch(/REDIS_URL: .*got "not a url"/);
    }
    try {
      loadConfig(z.object({ APP_SECRET: z.string().min(32) }), { APP_SECRET: 'short-secret' });
    } catch (err) {
      expect((err as ConfigError).message).toContain('[redacted]');
      expect((err as ConfigError).message).not.toContain('short-secret');
    }
  });

  it('describes variables for the README table', () => {
    const rows = describeEnv(schema);
    expect(rows.find((r) => r.name === 'API_TOKEN')).toEqual({ name: 'API_TOKEN', required: true, description: 'token for callers' });
    expect(rows.find((r) => r.name === 'HTTP_PORT')).toMatchObject({ required: false, default: '8080' });
  });
});
