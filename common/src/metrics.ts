import { Registry, collectDefaultMetrics } from 'prom-client';

/** A fresh registry with the process metrics (CPU, memory, event loop lag, GC) both programs expose. */
export function createRegistry(prefix = ''): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  return registry;
}
