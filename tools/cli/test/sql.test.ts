import { describe, expect, it } from 'vitest';
import { formatTable, readOnlyProblem } from '../src/sql';

describe('wa-broadcast sql', () => {
  it('runs reads only, one statement at a time', () => {
    expect(readOnlyProblem('SELECT 1')).toBeUndefined();
    expect(readOnlyProblem('  with x AS (SELECT 1) SELECT * FROM x;')).toBeUndefined();
    expect(readOnlyProblem('DROP TABLE wa.charges')).toMatch(/only SELECT/);
    expect(readOnlyProblem('INSERT INTO wa.rate_card VALUES (1)')).toMatch(/only SELECT/);
    expect(readOnlyProblem('SELECT 1; DROP TABLE wa.charges')).toMatch(/one statement/);
    expect(readOnlyProblem("SELECT * FROM wa.v_daily_spend INTO OUTFILE '/tmp/x'")).toMatch(/OUTFILE/);
  });

  it('prints rows as an aligned table', () => {
    expect(
      formatTable([
        { day: '2026-12-06', spend_usd: '12.5' },
        { day: '2026-12-07', spend_usd: '3' },
      ]),
    ).toBe(['day         spend_usd', '----------  ---------', '2026-12-06       12.5', '2026-12-07          3', '(2 rows)', ''].join('\n'));
    expect(formatTable([])).toBe('(no rows)\n');
  });
});
