// Preloaded with `--import` (Node refuses --cpu-prof in NODE_OPTIONS): profiles this process from
// start to exit and writes a V8 .cpuprofile (Chrome DevTools, speedscope) to BENCH_CPU_PROFILE_PATH.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const path = process.env.BENCH_CPU_PROFILE_PATH;
if (path) {
  const session = new Session();
  session.connect();
  // A session on this thread answers synchronously, so the profile can be taken in the 'exit' handler.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(path, JSON.stringify(result.profile));
    });
  });
}
