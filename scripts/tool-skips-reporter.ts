import { appendFileSync } from 'node:fs';
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';
import { summarizeToolSkips } from '@wa/shared/required-tools';

/** The missing tool a skipped test (or one of its suites) was marked with by requireTool, if any. */
function missingToolOf(test: TestCase): string | undefined {
  let node: TestCase | TestSuite | TestModule = test;
  for (;;) {
    const meta = node.meta() as { missingTool?: unknown };
    if (typeof meta.missingTool === 'string') return meta.missingTool;
    if (node.type === 'module') return undefined;
    node = node.parent;
  }
}

/**
 * Prints one line per missing tool after a vitest run ("skipped 4: docker-compose not found — …"),
 * and appends the lines to $WA_TOOL_SKIPS_FILE so scripts/test.sh repeats them in its summary.
 */
export default class ToolSkipsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const reasons: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) {
        const reason = missingToolOf(test);
        if (reason) reasons.push(reason);
      }
    }
    const lines = summarizeToolSkips(reasons);
    if (lines.length === 0) return;
    process.stdout.write(`\n${lines.join('\n')}\n`);
    const file = process.env.WA_TOOL_SKIPS_FILE;
    if (file) appendFileSync(file, `${lines.join('\n')}\n`);
  }
}
