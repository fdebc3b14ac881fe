// CPU per number of shared/phone.ts on the shapes ingest and the dispatcher see: "+digits" numbers
// with a one-country calling code (the fast path), with a shared calling code (+1, +44: the library
// path), formatted text and digits without "+". Run: npm run bench:phone
import { countryOfPhone, normalisePhone } from '@wa/shared/phone';
import { CORE_SPEED_NUMBERS, CORE_SPEED_ROUNDS, coreSpeedMicros, cpuMicrosPerCall } from './lib/core-speed';
import { printTable, writeReport, type BenchRow } from './lib/report';

const N = CORE_SPEED_NUMBERS;
const ROUNDS = CORE_SPEED_ROUNDS;

function corpus(make: (j: number) => string): string[] {
  return Array.from({ length: N }, (_, j) => make(j));
}

const cases: [string, (s: string) => unknown, string[]][] = [
  ['normalisePhone +336… (FR mobile)', (s) => normalisePhone(s).ok, corpus((j) => `+3361234${String(1_000 + (j % 9_000))}`)],
  ['normalisePhone +1201555… (US, shared code)', (s) => normalisePhone(s).ok, corpus((j) => `+1201555${String(1_000 + (j % 9_000))}`)],
  ['normalisePhone "+49 151 …" (formatted)', (s) => normalisePhone(s).ok, corpus((j) => `+49 151 ${String(20_000_000 + j)}`)],
  ['normalisePhone 49151… (no "+")', (s) => normalisePhone(s).ok, corpus((j) => `49151${String(20_000_000 + j)}`)],
  ['countryOfPhone 49151… (DE mobile)', (s) => countryOfPhone(s), corpus((j) => `49151${String(20_000_000 + j)}`)],
];

// The first case is the core speed every report carries (lib/core-speed.ts), measured once.
const rows: BenchRow[] = [{ metric: 'normalisePhone +49151… (DE mobile): µs CPU per number', value: coreSpeedMicros() }];
for (const [name, run, numbers] of cases) rows.push({ metric: `${name}: µs CPU per number`, value: cpuMicrosPerCall(run, numbers, ROUNDS) });
printTable(`shared/phone.ts — ${N.toLocaleString('en')} numbers × ${ROUNDS} rounds per case`, rows);
writeReport('phone', { numbersPerCase: N, rounds: ROUNDS, results: Object.fromEntries(rows.map((r) => [r.metric, r.value])) });
