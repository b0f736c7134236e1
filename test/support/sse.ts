/** One server-sent event as a client sees it. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/** What a text/event-stream body held: its events, in order, and its comment lines. */
export interface SseBody {
  messages: SseMessage[];
  comments: string[];
}

/**
 * Parses a complete text/event-stream body as the HTML standard's event stream
 * interpretation does, for the fields this API sends: id, event, data and comments.
 */
export function parseSse(text: string): SseBody {
  const messages: SseMessage[] = [];
  const comments: string[] = [];

  for (const block of text.split(/\r?\n\r?\n/)) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '') continue;
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) messages.push({ id, event, data: data.join('\n') });
  }
  return { messages, comments };
}

/**
 * Reads an event stream as it arrives, handing each complete message to `onMessage`;
 * returns when the server closes the stream, or when `onMessage` returns 'stop'
 * (the reader then cancels the stream, as a client that goes away).
 */
export async function readSse(
  response: Response,
  onMessage: (message: SseMessage) => 'stop' | undefined,
): Promise<SseBody> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error('the response has no body');

  const seen: SseBody = { messages: [], comments: [] };
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return seen;
    buffer += value;

    const end = buffer.lastIndexOf('\n\n');
    if (end < 0) continue;
    const complete = parseSse(buffer.slice(0, end));
    buffer = buffer.slice(end + 2);
    seen.comments.push(...complete.comments);
    for (const message of complete.messages) {
      seen.messages.push(message);
      if (onMessage(message) === 'stop') {
        await reader.cancel();
        return seen;
      }
    }
  }
}
