// Pods the API server can proxy to on the simulated cluster: kwok's pod addresses lead nowhere, but a pod
// whose status names an address of this machine is proxied there, where a test's own server listens.
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { CoreV1Api } from '@kubernetes/client-node';

/**
 * An address of this machine the API server may proxy to (it refuses loopback and link-local): IPv4 by
 * default. A benchmark asks for IPv6 where the machine has it, so that its servers do not hold the IPv4
 * port a test run on the same machine listens on.
 */
export function proxyableLocalAddress(family: 'IPv4' | 'IPv6' = 'IPv4'): string {
  const linkLocal = family === 'IPv4' ? /^169\.254\./ : /^fe[89ab]/i;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === family && !address.internal && !linkLocal.test(address.address)) {
        return address.address;
      }
    }
  }
  throw new Error(`this machine has no non-loopback ${family} address for the API server to proxy to`);
}

/** Rewrites a running pod's address in its status; kwok leaves a Running pod's status alone. */
export async function pointPodAt(
  core: CoreV1Api,
  namespace: string,
  name: string,
  address: string,
): Promise<void> {
  const current = await core.readNamespacedPod({ name, namespace });
  current.status = { ...current.status, podIP: address, podIPs: [{ ip: address }] };
  await core.replaceNamespacedPodStatus({ name, namespace, body: current });
}

/**
 * A pod bound to a node nobody runs, whose status says its IP is `address`: the API server proxies to that
 * address. Nothing else manages the pod, so the status stays as written. The node's name is new for each
 * pod: the controller-manager's pod garbage collector deletes pods of a node name it has seen missing for
 * 40 s, and one name shared by every test file got there once enough files ran in a row.
 */
export async function createPodAt(
  core: CoreV1Api,
  namespace: string,
  name: string,
  address: string,
  port: number,
): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        nodeName: `verification-test-no-such-node-${randomBytes(4).toString('hex')}`,
        containers: [{ name: 'api', image: 'registry.invalid/hello:1', ports: [{ containerPort: port }] }],
      },
    },
  });
  const current = await core.readNamespacedPod({ name, namespace });
  current.status = { phase: 'Running', podIP: address, podIPs: [{ ip: address }] };
  await core.replaceNamespacedPodStatus({ name, namespace, body: current });
}
