import type { PendingNotification } from '../crd/types.js';
import { jsonMessage, messageBody, SCHEMA_VERSION, slackEscape, slackMessage } from './message.js';

const HW = { namespace: 'team-a', name: 'hello' };
const T = '2026-03-01T12:00:00.000Z';
const rolledBack: PendingNotification = {
  id: '0123456789abcdef01234567',
  reason: 'CrashLooping',
  transition: 'RolledBack',
  revision: 'bad',
  image: 'hello:2',
  rolloutStartedAt: T,
  time: T,
  message: 'pod restarted 4 times <!channel>',
  rollback: {
    fromRevision: 'bad',
    toRevision: 'good',
    fromImage: 'hello:2',
    toImage: 'hello:1',
    reason: 'CrashLooping',
    message: 'pod restarted 4 times',
    time: T,
  },
};

describe('the JSON message', () => {
  it('has one documented shape, with the rollback detail when rolled back', () => {
    expect(jsonMessage(HW, rolledBack)).toEqual({
      schema: SCHEMA_VERSION,
      id: rolledBack.id,
      helloWorld: { namespace: 'team-a', name: 'hello' },
      transition: 'RolledBack',
      reason: 'CrashLooping',
      severity: 'warning',
      revision: 'bad',
      image: 'hello:2',
      rolloutStartedAt: T,
      time: T,
      message: 'pod restarted 4 times <!channel>',
      rollback: rolledBack.rollback,
    });
  });

  it('is info without a rollback for a start', () => {
    const started = { ...rolledBack, transition: 'Started' as const, reason: 'RolloutStarted' };
    delete started.rollback;
    const message = jsonMessage(HW, started);
    expect(message.severity).toBe('info');
    expect('rollback' in message).toBe(false);
  });

  it('does not carry the attempts bookkeeping', () => {
    expect(JSON.parse(messageBody('Json', HW, { ...rolledBack, attempts: 3 }))).not.toHaveProperty(
      'attempts',
    );
  });
});

describe('the Slack message', () => {
  it('has text and blocks, names the HelloWorld, the transition and the rollback', () => {
    const message = slackMessage(HW, rolledBack);
    expect(message.text).toContain(
      'HelloWorld team-a/hello: rolled back (CrashLooping), revision bad (hello:2)',
    );
    const section = message.blocks[0];
    expect(section?.type).toBe('section');
    expect(JSON.stringify(section)).toContain(
      'rolled back from bad (hello:2) to good (hello:1): CrashLooping',
    );
    expect(JSON.stringify(message.blocks[1])).toContain(rolledBack.id);
  });

  it('escapes what Slack would read as a mention or a link', () => {
    expect(slackEscape('<!channel> & <https://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;https://x|y&gt;');
    const body = messageBody('Slack', HW, rolledBack);
    expect(body).not.toContain('<!channel>');
    expect(body).toContain('&lt;!channel&gt;');
  });
});
