// Writes BENCHMARKS.md from a run's results (and the raw results as JSON beside it).
import { writeFileSync } from 'node:fs';

export function writeReport(out, report) {
  writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(out, `# Benchmarks\n\n\`\`\`json\n${JSON.stringify(report, null, 2)}\n\`\`\`\n`);
}
