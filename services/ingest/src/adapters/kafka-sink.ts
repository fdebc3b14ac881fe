import type { Message, Producer, TopicMessages } from 'kafkajs';
import { kafkaError } from '@wa/shared/kafka';
import { encodeJson, encodeJsonText } from '@wa/shared/decode';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { topicName, topics } from '@wa/shared/topics';
import type { OutputSink } from '../ports';

/** Stays under the broker's default 1 MiB `message.max.bytes` for one partition's record batch. */
const MAX_REQUEST_BYTES = 768 * 1024;

/**
 * Produces dispatch jobs to their lane topic (keyed by recipient) and DLQ records, with acks=-1.
 * Every record is validated against its topic schema on the way out. Large outputs are split into
 * several requests sent together; `send` resolves when all of them are acknowledged.
 */
export function createKafkaSink(producer: Producer, options: { topicPrefix: string; validateEveryJob?: boolean }): OutputSink {
  const laneTopics = {
    auth: topicName(topics.dispatchJobs.auth, options.topicPrefix),
    utility: topicName(topics.dispatchJobs.utility, options.topicPrefix),
    marketing: topicName(topics.dispatchJobs.marketing, options.topicPrefix),
  };
  const dlqTopic = topicName(topics.notificationsDlq, options.topicPrefix);

  return {
    async send(jobs, deadLetters) {
      if (jobs.length === 0 && deadLetters.length === 0) return;
      const requests: TopicMessages[][] = [];
      let current = new Map<string, Message[]>();
      let bytes = 0;
      const push = (topic: string, message: Message & { value: Buffer | string }) => {
        const size = (typeof message.value === 'string' ? Buffer.byteLength(message.value) : message.value.length) + 64;
        if (bytes + size > MAX_REQUEST_BYTES && bytes > 0) {
          requests.push([...current].map(([t, messages]) => ({ topic: t, messages })));
          current = new Map();
          bytes = 0;
        }
        let list = current.get(topic);
        if (!list) current.set(topic, (list = []));
        list.push(message);
        bytes += size;
      };
      // Jobs are typed and built from validated parts (request schema, normalised numbers, bounded
      // audience params); schema-checking each one costs ~12 µs, so by default the first job of
      // every send is checked (catching a shape bug at once) and the rest are serialised directly.
      // Values go to kafkajs as strings: it writes a string straight into the record's buffer, where a
      // Buffer would be one more allocation and copy per record (the bytes on the wire are the same).
      jobs.forEach((job, i) => {
        const value = i === 0 || options.validateEveryJob ? encodeJsonText(topics.dispatchJobs[job.lane].schema, job) : JSON.stringify(job);
        push(laneTopics[job.lane], { key: job.to, value });
      });
      for (const dl of deadLetters) push(dlqTopic, { key: dl.requestKey ?? null, value: encodeJson(topics.notificationsDlq.schema, dl) });
      if (bytes > 0) requests.push([...current].map(([t, messages]) => ({ topic: t, messages })));
      try {
        await Promise.all(requests.map((topicMessages) => producer.sendBatch({ topicMessages, acks: -1 })));
      } catch (err) {
        throw kafkaError(err, 'produce dispatch jobs');
      }
    },
  };
}

export type { DispatchJobV1, DeadLetterV1 };
