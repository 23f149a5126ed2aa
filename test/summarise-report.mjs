// Prints the suite's closing line ('N passed, N failed, N skipped') and names every skipped
// test, so a skip is always seen with the reason in its title.
import { readFileSync, existsSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) process.exit(0);
const report = JSON.parse(readFileSync(file, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const skips = [];
const brokenFiles = [];
for (const suite of report.testResults ?? []) {
  const assertions = suite.assertionResults ?? [];
  // A file that failed to load or whose hooks threw fails without a failed test in it.
  if (suite.status === 'failed' && !assertions.some((t) => t.status === 'failed')) {
    failed++;
    brokenFiles.push(suite.name.replace(process.cwd() + '/', ''));
  }
  for (const t of assertions) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else {
      skipped++;
      skips.push(`${suite.name.replace(process.cwd() + '/', '')} > ${t.fullName ?? t.title}`);
    }
  }
}
if (skips.length > 0) {
  console.log(`Skipped (${skips.length}):`);
  for (const s of skips) console.log(`  - ${s}`);
}
if (brokenFiles.length > 0) {
  console.log(`Test files that failed outside a test (${brokenFiles.length}), each counted as one failure:`);
  for (const f of brokenFiles) console.log(`  - ${f}`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
