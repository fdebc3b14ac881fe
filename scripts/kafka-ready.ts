/**
 * Exit 0 when the broker(s) in KAFKA_BROKERS answer Metadata with at least one registered broker,
 * 1 otherwise. Used by scripts/kafka.sh: an open port alone does not mean the KRaft broker has
 * joined the quorum and been unfenced, and topic creation fails until it has.
 *
 * Usage: tsx scripts/kafka-ready.ts [timeoutMs]
 */
import { Kafka, logLevel } from 'kafkajs';

const timeoutMs = Number(process.argv[2] ?? 5000);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

const kafka = new Kafka({
  clientId: 'wa-kafka-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: Math.min(timeoutMs, 3000),
  requestTimeout: timeoutMs,
  retry: { retries: 0 },
});
const admin = kafka.admin();
const timer = setTimeout(() => {
  console.error(`no Metadata answer from ${brokers.join(',')} within ${timeoutMs} ms`);
  process.exit(1);
}, timeoutMs);

try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (cluster.brokers.length === 0) throw new Error('no broker registered yet');
  console.log(`cluster ${cluster.clusterId}: ${cluster.brokers.length} broker(s), controller ${cluster.controller}`);
  await admin.disconnect();
  clearTimeout(timer);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
