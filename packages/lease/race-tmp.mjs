import { MongoClient } from 'mongodb';
const mongo = await new MongoClient(process.env.MONGODB_URI, { maxPoolSize: 32 }).connect();
const db = mongo.db('lf_race_' + Date.now());
let hits = 0; const t0 = Date.now(); const msgs = new Map();
for (let i = 0; i < 100; i++) {
  const col = db.collection('c' + i);
  const ops = [];
  for (let j = 0; j < 12; j++) ops.push(j % 3 === 2 ? col.drop().then(() => 'drop', () => 'drop') : col.insertOne({ _id: `y${i}-${j}` }));
  const rs = await Promise.allSettled(ops);
  for (const a of rs) if (a.status === 'rejected') { hits++; const m = a.reason.code + ' ' + String(a.reason.message).slice(0, 100); msgs.set(m, (msgs.get(m) ?? 0) + 1); }
}
console.log({ hits, ms: Date.now() - t0, msgs: [...msgs] });
await db.dropDatabase(); await mongo.close();
