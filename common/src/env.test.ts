import { ConfigError, readBoolean, readEnum, readFloat, readInt, readString } from './env.js';

describe('environment parsing', () => {
  it('falls back on unset and blank values', () => {
    expect(readInt({}, 'PORT', 8080, 1, 65535)).toBe(8080);
    expect(readInt({ PORT: '  ' }, 'PORT', 8080, 1, 65535)).toBe(8080);
    expect(readString({}, 'X', 'd')).toBe('d');
    expect(readBoolean({}, 'B', false)).toBe(false);
  });

  it('parses valid values', () => {
    expect(readInt({ PORT: '9000' }, 'PORT', 8080, 1, 65535)).toBe(9000);
    expect(readFloat({ R: '0.25' }, 'R', 0, 0, 1)).toBe(0.25);
    expect(readBoolean({ B: 'TRUE' }, 'B', false)).toBe(true);
    expect(readEnum({ L: 'debug' }, 'L', ['info', 'debug'], 'info')).toBe('debug');
  });

  it.each([
    ['PORT', 'abc', 'PORT must be a whole number, got "abc"'],
    ['PORT', '80.5', 'PORT must be a whole number, got "80.5"'],
    ['PORT', '0x50', 'PORT must be a whole number, got "0x50"'],
    ['PORT', '70000', 'PORT must be between 1 and 65535, got 70000'],
    ['PORT', '1e3', 'PORT must be a whole number, got "1e3"'],
  ])('rejects %s=%s with a clear message', (name, value, message) => {
    expect(() => readInt({ [name]: value }, name, 8080, 1, 65535)).toThrow(new ConfigError(message));
  });

  it('rejects malformed numbers, booleans and enums', () => {
    expect(() => readFloat({ R: 'NaN' }, 'R', 0, 0, 1)).toThrow('R must be a number, got "NaN"');
    expect(() => readFloat({ R: '1.5' }, 'R', 0, 0, 1)).toThrow('R must be between 0 and 1, got 1.5');
    expect(() => readBoolean({ B: 'yes' }, 'B', false)).toThrow('B must be true or false, got "yes"');
    expect(() => readEnum({ L: 'loud' }, 'L', ['info'], 'info')).toThrow('L must be one of info, got "loud"');
  });
});
