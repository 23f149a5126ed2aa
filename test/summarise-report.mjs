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
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
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
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
