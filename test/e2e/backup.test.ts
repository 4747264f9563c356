// Backups of the managed Redis and a restore, on pods that really run (make e2e-real, make e2e on kind):
// a birthday is stored, a backup is taken now from the HelloWorld's CronJob, the HelloWorld and its
// Redis volume are deleted, and a new HelloWorld restored from the backup claim answers with the
// birthday. The steps are docs/backup.md's, as a user types them. On simulated nodes it is skipped
// (test/integration/backup.test.ts covers the objects there).
import {
  applyYaml,
  describeRealPods,
  eventReasons,
  eventually,
  exists,
  helloWorld,
  jsonpath,
  kubectl,
  realPodsContext,
  waitHelloWorld,
} from './harness.js';
import { runClient } from './load.js';

const c = realPodsContext('backup');

const original = 'birthdays';
const restored = 'birthdays-restored';

const put = `
const res = await fetch(process.env.TARGET + '/hello/alice', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"dateOfBirth":"1990-02-14"}' });
console.log(JSON.stringify({ status: res.status }));
`;
const get = `
const res = await fetch(process.env.TARGET + '/hello/alice');
console.log(JSON.stringify({ status: res.status, body: await res.json() }));
`;

describeRealPods('a backup restored into a new HelloWorld', (realIt) => {
  realIt(
    'brings back the data after the HelloWorld and its volume are gone',
    async () => {
      const ns = c().namespace;
      await applyYaml(
        ns,
        helloWorld(ns, original, { replicas: 1, redis: { backup: { schedule: '0 3 * * *', retain: 2 } } }),
      );
      await waitHelloWorld(c(), original, 'jsonpath={.status.phase}=Available', 240);
      expect(JSON.parse(await runClient(c(), original, put))).toEqual({ status: 204 });

      // Back up now, as the runbook says, instead of waiting for 03:00.
      await kubectl([
        'create',
        'job',
        '-n',
        ns,
        `--from=cronjob/${original}-redis-backup`,
        `${original}-now`,
      ]);
      await eventually(c(), original, 'the backup to succeed', async () =>
        (await jsonpath(ns, `hw/${original}`, '{.status.conditions[?(@.type=="Backup")].reason}')) ===
        'BackupSucceeded'
          ? true
          : undefined,
      );
      const file = await jsonpath(ns, `hw/${original}`, '{.status.backup.lastFile}');
      const bytes = Number(await jsonpath(ns, `hw/${original}`, '{.status.backup.lastSizeBytes}'));
      console.log(`e2e backup: ${file}, ${String(bytes)} bytes`);
      expect(file).toMatch(/^backup-\d{8}T\d{6}Z\.rdb$/);
      expect(bytes).toBeGreaterThan(0);
      expect(await eventReasons(ns, original)).toContain('BackupSucceeded');

      // Lose everything but the backups.
      await kubectl(['delete', 'hw', original, '-n', ns, '--wait=true']);
      await eventually(c(), original, 'the Redis pod gone', async () =>
        (await exists(ns, `pod/${original}-redis-0`)) ? undefined : true,
      );
      await kubectl(['delete', 'pvc', `data-${original}-redis-0`, '-n', ns, '--wait=true']);
      expect(await exists(ns, `pvc/${original}-redis-backup`)).toBe(true);

      await applyYaml(
        ns,
        helloWorld(ns, restored, {
          replicas: 1,
          redis: { restoreFrom: { claimName: `${original}-redis-backup` } },
        }),
      );
      await waitHelloWorld(c(), restored, 'jsonpath={.status.phase}=Available', 240);
      const restoreLog = await kubectl(['logs', `${restored}-redis-0`, '-c', 'restore', '-n', ns]);
      // alice, and the user the smoke checks wrote.
      expect(restoreLog).toContain(`restored ${file} from claim ${original}-redis-backup: 2 keys`);
      const answer = JSON.parse(await runClient(c(), restored, get)) as {
        status: number;
        body: { message: string };
      };
      expect(answer.status).toBe(200);
      expect(answer.body.message).toMatch(/^Hello, alice! /);

      // The restored Redis restarts like any other: its volume has data, so nothing is restored again.
      await kubectl(['delete', 'pod', `${restored}-redis-0`, '-n', ns, '--wait=true']);
      await eventually(c(), restored, 'the Redis pod back and ready', async () =>
        (await jsonpath(ns, `pod/${restored}-redis-0`, '{.status.containerStatuses[0].ready}').catch(
          () => '',
        )) === 'true'
          ? true
          : undefined,
      );
      expect(await kubectl(['logs', `${restored}-redis-0`, '-c', 'restore', '-n', ns])).toContain(
        'the volume holds data already: nothing restored',
      );
      expect((JSON.parse(await runClient(c(), restored, get)) as { status: number }).status).toBe(200);
    },
    600_000,
  );
});
