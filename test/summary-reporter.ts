// A vitest reporter that ends the run with one plain line, "tests: N passed, N failed[, N skipped]",
// so any reader of the log (people, CI) sees the count without parsing vitest's own layout; a run
// in which any test was skipped fails.

import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    const line = `tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`\n${line}\n`);
    if (skipped > 0) {
      // Nothing is skipped silently: a skipped or todo test fails the run.
      process.stdout.write(`tests: ${skipped} test(s) did not run (skipped or todo); the suite must run every test\n`);
      process.exitCode = 1;
    }
  }
}
