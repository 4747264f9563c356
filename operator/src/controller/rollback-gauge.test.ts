import { Gauge, Registry } from 'prom-client';
import { RolledBackGauge } from './rollback-gauge.js';

async function series(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text.split('\n').filter((line) => line.startsWith('helloworld_rolled_back{'));
}

describe('the rolled-back gauge', () => {
  it('has one series while rolled back, follows the reason, and disappears afterwards', async () => {
    const registry = new Registry();
    const gauge = new Gauge({
      name: 'helloworld_rolled_back',
      help: 'h',
      labelNames: ['namespace', 'name', 'reason'] as const,
      registers: [registry],
    });
    const rolledBack = new RolledBackGauge(gauge);

    rolledBack.report('team', 'web', undefined);
    expect(await series(registry)).toEqual([]);

    rolledBack.report('team', 'web', 'CrashLooping');
    rolledBack.report('team', 'web', 'CrashLooping');
    expect(await series(registry)).toEqual([
      'helloworld_rolled_back{namespace="team",name="web",reason="CrashLooping"} 1',
    ]);

    rolledBack.report('team', 'web', 'SmokeTestFailed');
    expect(await series(registry)).toEqual([
      'helloworld_rolled_back{namespace="team",name="web",reason="SmokeTestFailed"} 1',
    ]);

    rolledBack.report('team', 'web', undefined);
    expect(await series(registry)).toEqual([]);
  });
});
