import type { V1Service } from '@kubernetes/client-node';
import { servicePortsToReplace } from './service.js';

const service = (...ports: { name: string; port: number; protocol?: string }[]): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'hello' },
  spec: { ports: ports.map((p) => ({ targetPort: 'http', ...p })) },
});

describe('servicePortsToReplace', () => {
  const desired = service({ name: 'http', port: 80, protocol: 'TCP' });

  it('gives the desired ports when a desired port was renumbered (apply would add a second "http")', () => {
    expect(servicePortsToReplace(desired, service({ name: 'http', port: 81, protocol: 'TCP' }))).toEqual(
      desired.spec?.ports,
    );
    expect(servicePortsToReplace(desired, service({ name: 'http', port: 80, protocol: 'UDP' }))).toEqual(
      desired.spec?.ports,
    );
  });

  it('leaves to apply what apply repairs: same ports, a changed targetPort, a missing or an extra port', () => {
    expect(servicePortsToReplace(desired, service({ name: 'http', port: 80 }))).toBeUndefined();
    const retargeted: V1Service = {
      ...desired,
      spec: { ports: [{ name: 'http', port: 80, targetPort: 9999 }] },
    };
    expect(servicePortsToReplace(desired, retargeted)).toBeUndefined();
    expect(servicePortsToReplace(desired, service())).toBeUndefined();
    expect(
      servicePortsToReplace(desired, service({ name: 'http', port: 80 }, { name: 'debug', port: 9000 })),
    ).toBeUndefined();
  });

  it('concerns Services only, and only ones that exist', () => {
    expect(servicePortsToReplace(desired, undefined)).toBeUndefined();
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hello' } };
    expect(servicePortsToReplace(deployment, deployment)).toBeUndefined();
  });
});
