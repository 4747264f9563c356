import {
  blockedRanges,
  DEFAULT_BLOCKED_CIDRS,
  isBlocked,
  parseWebhookUrl,
  redact,
  WebhookUrlError,
} from './url.js';

const SECRET_URL = 'https://hooks.example.com/services/T000/B000/sekrit-token?x=1';

describe('parseWebhookUrl', () => {
  it('takes http and https URLs, trimmed', () => {
    expect(parseWebhookUrl(` ${SECRET_URL}\n`).href).toBe(SECRET_URL);
    expect(parseWebhookUrl('http://receiver.team-a.svc:8080/hook').port).toBe('8080');
  });

  it.each([
    ['', 'is empty'],
    ['not a url', 'is not a URL'],
    ['file:///etc/passwd', 'has scheme file:'],
    ['gopher://x/', 'has scheme gopher:'],
    ['ftp://x/', 'has scheme ftp:'],
    ['https://user:pw@hooks.example.com/x', 'carries a user or password'],
    [`https://x/${'a'.repeat(3000)}`, 'is longer than 2048 characters'],
  ])('refuses %j: %s, without echoing the URL', (text, problem) => {
    let error: unknown;
    try {
      parseWebhookUrl(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookUrlError);
    expect((error as Error).message).toContain(problem);
    if (text.length > 8) expect((error as Error).message).not.toContain(text);
  });
});

describe('blocked addresses', () => {
  const blocked = blockedRanges(DEFAULT_BLOCKED_CIDRS);

  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '169.254.169.254',
    '0.0.0.0',
    '::1',
    '[::1]',
    'fe80::1',
    '::ffff:127.0.0.1',
  ])('refuses %s by default', (address) => {
    expect(isBlocked(blocked, address)).toBe(true);
  });

  it.each(['10.0.0.5', '192.168.1.1', '8.8.8.8', '2001:db8::1', 'hooks.example.com'])(
    'allows %s',
    (address) => {
      expect(isBlocked(blocked, address)).toBe(false);
    },
  );

  it('takes a list of its own, and nothing', () => {
    const own = blockedRanges(['10.0.0.0/8']);
    expect(isBlocked(own, '10.1.2.3')).toBe(true);
    expect(isBlocked(own, '127.0.0.1')).toBe(false);
    expect(isBlocked(blockedRanges([]), '169.254.169.254')).toBe(false);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', 'host/8', '::1/129'])('refuses %j as a CIDR', (cidr) => {
    expect(() => blockedRanges([cidr])).toThrow(/is not a CIDR range/);
  });
});

describe('redact', () => {
  it('removes the URL, its path and its query from a message', () => {
    const url = new URL(SECRET_URL);
    const text = `failed POST ${SECRET_URL}; path ${url.pathname}${url.search}; query ${url.search}`;
    const out = redact(text, url);
    expect(out).not.toContain('sekrit-token');
    expect(out).not.toContain('x=1');
    expect(out).toContain('[redacted]');
  });
});
