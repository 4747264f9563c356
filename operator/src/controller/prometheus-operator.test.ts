// Discovery of the Prometheus Operator's CRDs as they come, go and come back: the informers start once,
// and every change (the removal and a re-install included) reaches the handler that requeues every
// HelloWorld, whose Monitoring condition and children depend on it. The API server is a scripted
// discovery answer (pure logic: no cluster involved).
import { createLogger } from '#common/logger.js';
import { ApiError, type KubeRest } from '../runtime/rest.js';
import { PrometheusOperatorDiscovery } from './prometheus-operator.js';

type Answer = 'installed' | 'absent' | 'group-gone' | 'error';

function scripted(answers: Answer[]): KubeRest {
  return {
    request<T>(): Promise<T> {
      const answer = answers.shift() ?? 'installed';
      if (answer === 'group-gone') return Promise.reject(new ApiError(404, 'NotFound', 'not found'));
      if (answer === 'error') return Promise.reject(new Error('connection reset'));
      const resources = answer === 'installed' ? ['servicemonitors', 'prometheusrules'] : ['podmonitors'];
      return Promise.resolve({ resources: resources.map((name) => ({ name })) } as T);
    },
  };
}

async function run(answers: Answer[]) {
  const calls: string[] = [];
  const discovery = new PrometheusOperatorDiscovery(scripted([...answers]), createLogger('test', 'silent'), {
    firstInstalled: () => calls.push('firstInstalled'),
    changed: (present) => calls.push(present ? 'installed' : 'gone'),
  });
  const seen: boolean[] = [];
  for (let i = 0; i < answers.length; i++) {
    await (discovery as unknown as { check(): Promise<void> }).check();
    seen.push(discovery.present());
  }
  return { calls, seen };
}

describe('PrometheusOperatorDiscovery', () => {
  it('starts the informers once, and reports every change, a removal and a re-install included', async () => {
    expect(await run(['absent', 'installed', 'installed', 'group-gone', 'absent', 'installed'])).toEqual({
      seen: [false, true, true, false, false, true],
      calls: ['firstInstalled', 'installed', 'gone', 'installed'],
    });
  });

  it('keeps the last answer when discovery fails for another reason', async () => {
    expect(await run(['installed', 'error', 'installed'])).toEqual({
      seen: [true, true, true],
      calls: ['firstInstalled', 'installed'],
    });
  });
});
