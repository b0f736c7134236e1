import { describe, expect, it } from 'vitest';

import { SseParser } from './sse.ts';

describe('server-sent events parser', () => {
  it('reads id, event and data, and drops heartbeats', () => {
    const parser = new SseParser();
    const messages = parser.push(
      ': heartbeat\n\nid: 17-0\nevent: stage-started\ndata: {"a":1}\n\nid: 17-1\ndata:{"b":2}\n\n',
    );

    expect(messages).toEqual([
      { id: '17-0', event: 'stage-started', data: '{"a":1}' },
      { id: '17-1', event: 'message', data: '{"b":2}' },
    ]);
  });

  it('waits for the blank line, however the chunks are cut', () => {
    const parser = new SseParser();
    const text = 'id: 1-0\r\nevent: completed\r\ndata: {"x":\r\ndata: 1}\r\n\r\n';
    const messages = Array.from({ length: text.length }, (_, i) => text.charAt(i)).flatMap((char) =>
      parser.push(char),
    );

    expect(messages).toEqual([{ id: '1-0', event: 'completed', data: '{"x":\n1}' }]);
  });

  it('gives no id to a message without one, so the last seen id is kept', () => {
    const parser = new SseParser();
    const [first, derived] = parser.push('id: 5-0\ndata: a\n\ndata: b\n\n');

    expect(first?.id).toBe('5-0');
    expect(derived?.id).toBeUndefined();
  });
});
