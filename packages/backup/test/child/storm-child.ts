/**
 * One process of a snapshot storm: invokes the same snapshot job (prefix `CHILD_PREFIX`,
 * job `storm`) again and again for `CHILD_FOR_MS`, each with a short deadline
 * (`CHILD_DEADLINE_MS`), so runs checkpoint and the next one resumes. Each UploadPart is
 * slowed (`SLOW_PART_MS`). Prints `part <n>` as each part returns and one line per run:
 * `run complete <id>`, `run checkpointed <id>`, `run held`, or `run failed <class> <code>`.
 */
import { MongoClient } from 'mongodb';
import { mongoSource, snapshotBackup } from '../../src/index.js';
import { slowPartsClient } from './slow-parts-client.js';

async function main(): Promise<void> {
  const env = process.env;
  const client = slowPartsClient(env.CHILD_S3_ENDPOINT!, Number(env.SLOW_PART_MS ?? 0));
  const mongo = await MongoClient.connect(env.MONGODB_URI!);
  const job = snapshotBackup({
    job: 'storm',
    source: mongoSource({ db: mongo.db(env.CHILD_DB!), batchSize: 200 }),
    target: { client, bucket: env.CHILD_BUCKET!, prefix: env.CHILD_PREFIX! },
    partSizeBytes: 5 * 1024 * 1024,
    segmentBytes: 5 * 1024 * 1024,
    partsInFlight: 1,
    memoryBudgetBytes: 64 * 1024 * 1024,
    leaseMs: Number(env.CHILD_LEASE_MS ?? 3000),
    reserveMs: 1_000,
  });
  const until = Date.now() + Number(env.CHILD_FOR_MS ?? 10_000);
  for (let i = 0; Date.now() < until; i++) {
    const deadline = Date.now() + Number(env.CHILD_DEADLINE_MS ?? 3000);
    try {
      const result = await job.run({ requestId: `storm-${process.pid}-${i}`, remainingMs: () => deadline - Date.now() });
      process.stdout.write(`run ${result.status} ${result.backupId}\n`);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      process.stdout.write(code === 'BACKUP_LEASE_HELD' ? 'run held\n' : `run failed ${(error as Error).name} ${code}\n`);
      await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 400)));
    }
  }
  process.stdout.write('done\n');
  await mongo.close();
}

main().catch((error) => {
  process.stderr.write(`child failed: ${(error as Error).name} ${(error as { code?: string }).code ?? ''}\n`);
  process.exit(1);
});
