import type { Admin } from 'kafkajs';
import { runCommand } from './processes';

/**
 * The three-node Kafka cluster of scripts/kafka-cluster.sh, for the cluster drill: started here
 * unless it already runs (then left running), nodes killed and restarted by number (node N has
 * Kafka node id N).
 */
export interface ClusterInfra {
  brokers: string;
  kill(node: number): Promise<void>;
  startNode(node: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startClusterInfra(root: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterInfra> {
  const cluster = (...args: string[]) => runCommand('bash', ['scripts/kafka-cluster.sh', ...args], { cwd: root, env });
  const alreadyRunning = await cluster('status').then(
    () => true,
    () => false,
  );
  if (!alreadyRunning) {
    // A node that did not come up in time leaves the others running: stop them all, not only the test.
    await cluster('start').catch(async (err: unknown) => {
      await cluster('stop').catch(() => undefined);
      throw err;
    });
  }
  const brokers = (await cluster('brokers')).trim();
  return {
    brokers,
    kill: async (node) => void (await cluster('kill', String(node))),
    startNode: async (node) => void (await cluster('start-node', String(node))),
    async stop() {
      if (!alreadyRunning) await cluster('stop').catch(() => undefined);
    },
  };
}

/** The node id that leads the most partitions of these topics (ties: the lowest id). */
export async function leaderOfMostPartitions(admin: Admin, topicNames: string[]): Promise<{ node: number; led: number; total: number }> {
  const { topics } = await admin.fetchTopicMetadata({ topics: topicNames });
  const led = new Map<number, number>();
  let total = 0;
  for (const t of topics) {
    for (const p of t.partitions) {
      total++;
      led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
    }
  }
  const [node, count] = [...led].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0] ?? [-1, 0];
  return { node, led: count, total };
}

/** Consumer lag per group on topics whose names start with `prefix` (end offset minus committed). */
export async function lagByGroup(admin: Admin, prefix: string): Promise<Map<string, number>> {
  const { groups } = await admin.listGroups();
  const lag = new Map<string, number>();
  const ends = new Map<string, Map<number, number>>();
  for (const { groupId } of groups) {
    const committed = await admin.fetchOffsets({ groupId }).catch(() => []);
    let total = 0;
    let ours = false;
    for (const { topic, partitions } of committed) {
      if (!topic.startsWith(prefix)) continue;
      ours = true;
      if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)])));
      for (const p of partitions) {
        const end = ends.get(topic)!.get(p.partition) ?? 0;
        const at = Number(p.offset);
        total += at < 0 ? end : Math.max(0, end - at);
      }
    }
    if (ours) lag.set(groupId, total);
  }
  return lag;
}
