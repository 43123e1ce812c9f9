/*
 * microcred as `npm start` runs it (src/main.ts), for the load test (test/load/launchAndReview.ts), with one
 * stand-in: until the progress engine's evidence snapshots are wired into the review (docs/review.md), submissions
 * seeded as `load-<n>` get a synthetic snapshot — a short text, a URL and two attachments, like a typical
 * submission — so the review pages have evidence to render. Everything else is the production code path.
 */
import { loadConfig } from '../../src/config';
import { handleSignals, startServer } from '../../src/server';
import { tinyPdf } from '../../src/sandbox/scenario';
import type { EvidenceSource } from '../../src/review/ports';

const evidence: EvidenceSource = {
  async snapshot(_tenantId, snapshotId) {
    if (!snapshotId.startsWith('load-')) return undefined;
    return {
      text: `<p>Evidence ${snapshotId}: a lesson on digital citizenship, taught to 7th graders, with a reflection on what worked.</p>`,
      url: 'https://example.org/portfolio',
      attempt: 1,
      submittedAt: new Date(Date.now() - 86_400_000),
      attachments: [
        { id: `${snapshotId}-a1`, filename: 'lesson-plan.pdf', contentType: 'application/pdf', size: 812, sha256: '0'.repeat(64) },
        { id: `${snapshotId}-a2`, filename: 'reflection.pdf', contentType: 'application/pdf', size: 812, sha256: '1'.repeat(64) },
      ],
    };
  },
  async attachment(_tenantId, attachmentId) {
    return attachmentId.startsWith('load-') ? { bytes: Buffer.from(tinyPdf('Evidence')), contentType: 'application/pdf', filename: 'evidence.pdf' } : undefined;
  },
};

async function main() {
  const running = await startServer(loadConfig());
  running.app.review.setEvidenceSource(evidence);
  handleSignals(running);
  // The load test asks for the heap figures behind the RSS it reads from /proc.
  process.on('message', (m) => {
    if (m === 'memory') process.send?.({ memory: process.memoryUsage() });
  });
  process.send?.('ready');
}

main().catch((err) => {
  console.error(`load server could not start: ${(err as Error).message}`);
  process.exit(1);
});
