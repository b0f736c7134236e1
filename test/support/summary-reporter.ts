import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the run's totals as one plain line, `vitest: N passed, N failed, N skipped`,
 * after vitest's own summary, so that tools that read only a closing line of that
 * shape (CI among them) see the result.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'failed') count[state] += 1;
        else count.skipped += 1;
      }
    }
    process.stdout.write(
      `\nvitest: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`,
    );
  }
}
