import { ConfigError } from '#common/env.js';
import { loadNotifyConfig } from './config.js';
import { isBlocked } from './url.js';

const URL_TEXT = 'https://hooks.example.com/services/sekrit-token';
const files = (content: Record<string, string>) => (path: string) => {
  const text = content[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  return text;
};

function configError(env: NodeJS.ProcessEnv, read = files({})): string {
  try {
    loadNotifyConfig(env, read);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadNotifyConfig', () => {
  it('has no default webhook unless a file is named, and the default limits', () => {
    const config = loadNotifyConfig({});
    expect(config.defaultWebhook).toBeUndefined();
    expect(config.limits).toMatchObject({ timeoutMs: 5000, maxAttempts: 6, maxInFlightPerNamespace: 2 });
    expect(isBlocked(config.blocked, '169.254.169.254')).toBe(true);
    expect(isBlocked(config.blocked, '10.0.0.1')).toBe(false);
  });

  it('reads the default webhook from its file, with its format', () => {
    const config = loadNotifyConfig(
      { NOTIFY_WEBHOOK_URL_FILE: '/etc/hook/url', NOTIFY_WEBHOOK_FORMAT: 'Slack' },
      files({ '/etc/hook/url': `${URL_TEXT}\n` }),
    );
    expect(config.defaultWebhook?.url.href).toBe(URL_TEXT);
    expect(config.defaultWebhook?.format).toBe('Slack');
  });

  it('stops at start-up on a missing file, naming it', () => {
    expect(configError({ NOTIFY_WEBHOOK_URL_FILE: '/etc/hook/url' })).toBe(
      'NOTIFY_WEBHOOK_URL_FILE: cannot read /etc/hook/url (ENOENT); mount the Secret holding the webhook URL there, or unset it',
    );
  });

  it('stops at start-up on a file without a usable URL, never quoting it', () => {
    const read = files({ '/u': 'ftp://hooks.example.com/sekrit-token' });
    const message = configError({ NOTIFY_WEBHOOK_URL_FILE: '/u' }, read);
    expect(message).toBe(
      'NOTIFY_WEBHOOK_URL_FILE: the URL in /u has scheme ftp:; only http: and https: are sent to',
    );
    expect(message).not.toContain('sekrit');
  });

  it('takes blocked ranges of its own, or none, and refuses a bad one', () => {
    const own = loadNotifyConfig({ NOTIFY_BLOCKED_CIDRS: '10.0.0.0/8, 169.254.0.0/16' }).blocked;
    expect(isBlocked(own, '10.2.3.4')).toBe(true);
    expect(isBlocked(own, '127.0.0.1')).toBe(false);
    expect(isBlocked(loadNotifyConfig({ NOTIFY_BLOCKED_CIDRS: 'none' }).blocked, '127.0.0.1')).toBe(false);
    expect(configError({ NOTIFY_BLOCKED_CIDRS: '10.0.0.0' })).toBe(
      'NOTIFY_BLOCKED_CIDRS: "10.0.0.0" is not a CIDR range such as 10.0.0.0/8 or fe80::/10',
    );
  });

  it('bounds the delivery settings', () => {
    expect(configError({ NOTIFY_MAX_ATTEMPTS: '0' })).toBe(
      'NOTIFY_MAX_ATTEMPTS must be between 1 and 20, got 0',
    );
    expect(configError({ NOTIFY_WEBHOOK_FORMAT: 'Teams' })).toMatch(/NOTIFY_WEBHOOK_FORMAT/);
  });
});
