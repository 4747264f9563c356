/**
 * Smoke-check paths for tests of the path rules: the CRD's (on the API server) and the operator's own.
 * Each hostile path tries to make the API server's pod proxy send the operator's request elsewhere.
 */

/** [path, what the refusal must say]. */
export const HOSTILE_PATHS: readonly (readonly [string, RegExp])[] = [
  ['/../../../../api/v1/namespaces/kube-system/configmaps', /dot segments/],
  ['/hello/../../../../api/v1/namespaces/kube-system/secrets', /dot segments/],
  ['/./readyz', /dot segments/],
  ['/hello/..', /dot segments/],
  ['/hello/.', /dot segments/],
  ['/..?x=1', /dot segments/],
  ['/%2e%2e/%2e%2e/api/v1/namespaces/kube-system/configmaps', /dot segments/],
  ['/%2E%2e/api', /dot segments/],
  ['/.%2e/api', /dot segments/],
  ['/%2e./api', /dot segments/],
  ['/%252e%252e/api', /double encoding/],
  ['/hello\\..\\..\\api', /backslash/],
  ['/hello/%5c..%5capi', /encoded backslash/],
  ['/hello%2f..%2f..%2fapi', /encoded slash/],
  ['/hello/%2F', /encoded slash/],
  ['hello/smokecheck', /does not start with \//],
  ['', /does not start with \//],
  ['http://evil.example/', /does not start with \//],
  ['//evil.example/api', /starts with \/\//],
  ['/hello smoke', /whitespace/],
  ['/hello\tsmoke', /whitespace/],
  ['/hello\n/../api', /whitespace/],
  ['/hello\u0000', /control/],
  ['/hello\u007f', /control/],
  ['/hello/\u2024\u2024/api', /non-ASCII/],
  ['/\uff0e\uff0e/api', /non-ASCII/],
  ['/hello#fragment', /# fragment/],
  ['/hello?x=1#/../../api', /# fragment/],
  ['/hello/%zz', /% that is not followed by two hex digits/],
  ['/hello/<script>', /not allowed in a URL path/],
];

/** Paths that must still be accepted. */
export const SAFE_PATHS: readonly string[] = [
  '/',
  '/readyz',
  '/metrics',
  '/hello/smokecheck',
  '/hello/smoke-test',
  '/hello/john.doe',
  '/hello/...',
  '/hello/x?y=1',
  '/hello/x?y=1&z=two?',
  '/hello/x?next=/a/../b',
  '/hello/x?q=%2e%2e%2f',
  '/hello/a%20b',
  "/hello/~user_1!$&'()*+,;=:@",
];
