/**
 * A server-sent events parser, fed text as it arrives. It follows the event stream
 * interpretation of the HTML standard
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
 * as far as a client of one known server needs: fields data, event and id; comments
 * (heartbeats) are dropped; a retry field is ignored, reconnection is the caller's.
 */
export interface SseMessage {
  /** The message's own id line; undefined when it had none. */
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  private pending = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** The previous chunk ended in \r: a \n opening this one belongs to that line end. */
  private afterCarriageReturn = false;

  /** Feeds a chunk; returns the messages it completed. */
  push(chunk: string): SseMessage[] {
    const text = this.afterCarriageReturn && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    if (text !== '') this.afterCarriageReturn = text.endsWith('\r');
    this.pending += text;
    const lines = this.pending.split(/\r\n|\r|\n/);
    // The last piece has no line end yet.
    this.pending = lines.pop() ?? '';

    const messages: SseMessage[] = [];
    for (const line of lines) {
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;

    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const message =
      this.data.length === 0
        ? undefined
        : {
            id: this.id,
            event: this.event === '' ? 'message' : this.event,
            data: this.data.join('\n'),
          };
    this.data = [];
    this.event = '';
    this.id = undefined;
    return message;
  }
}
