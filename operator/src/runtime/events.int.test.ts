// EventRecorder against the real API server: Events are created with their involved object and
// source, repeats are aggregated into one Event's count, and failures never throw.
import { jest } from '@jest/globals';
import type { CoreV1EventList, KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.js';
import { createTestNamespace, deleteTestNamespace, loadKubeConfig } from '../../../test/support/cluster.js';
import { EventRecorder } from './events.js';
import { HttpKubeRest } from './rest.js';

const logger = createLogger('events-test', 'silent');

// Real API calls against the local cluster, which a busy machine can slow to seconds.
jest.setTimeout(60_000);

describe('EventRecorder (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  let namespace: string;
  let subject: V1ConfigMap;

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    namespace = await createTestNamespace('events', kc);
    subject = await rest.request<V1ConfigMap>('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'subject', namespace } },
    });
    subject = { ...subject, apiVersion: 'v1', kind: 'ConfigMap' };
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  const listEvents = async () =>
    (await rest.request<CoreV1EventList>('GET', `/api/v1/namespaces/${namespace}/events`)).items;

  it('creates an Event and aggregates repeats into its count', async () => {
    const recorder = new EventRecorder({
      rest,
      logger,
      component: 'helloworld-operator',
      instance: 'replica-a',
    });
    await recorder.record(subject, 'Warning', 'RolloutFailed', 'pods crash-looping');
    await recorder.record(subject, 'Warning', 'RolloutFailed', 'pods crash-looping');
    await Promise.all([
      recorder.record(subject, 'Normal', 'RolledBack', 'back to revision 1'),
      recorder.record(subject, 'Normal', 'RolledBack', 'back to revision 1'),
      recorder.record(subject, 'Normal', 'RolledBack', 'back to revision 1'),
    ]);

    const events = await listEvents();
    expect(events).toHaveLength(2);
    const failed = events.find((e) => e.reason === 'RolloutFailed');
    expect(failed).toMatchObject({
      type: 'Warning',
      message: 'pods crash-looping',
      count: 2,
      involvedObject: { kind: 'ConfigMap', name: 'subject', namespace, uid: subject.metadata?.uid },
      source: { component: 'helloworld-operator' },
      reportingComponent: 'helloworld-operator',
      reportingInstance: 'replica-a',
    });
    expect(events.find((e) => e.reason === 'RolledBack')?.count).toBe(3);
  });

  it('never throws, even when the Event cannot be written', async () => {
    const recorder = new EventRecorder({ rest, logger, component: 'helloworld-operator' });
    const ghost = { ...subject, metadata: { ...subject.metadata, namespace: 'no-such-namespace-x1' } };
    await expect(recorder.record(ghost, 'Normal', 'Anything', 'lost')).resolves.toBeUndefined();
  });
});
