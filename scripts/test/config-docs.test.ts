import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../config-docs';

describe('configuration reference', () => {
  it("matches the services' env schemas (regenerate with `npm run docs:config`)", () => {
    expect(readFileSync(resolve(__dirname, '../..', CONFIG_DOCS_PATH), 'utf8')).toBe(renderConfigDocs());
  });
});
