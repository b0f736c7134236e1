import type { Writable } from 'node:stream';

/**
 * Draws a frame of lines and redraws it in place on a terminal: the cursor goes
 * back to the frame's first line and everything below is erased before the new
 * frame is written. Lines must already fit the terminal's width, or wrapped lines
 * would throw the count off.
 */
export class LiveView {
  private readonly out: Writable;
  private drawnLines = 0;

  constructor(out: Writable) {
    this.out = out;
  }

  draw(lines: string[]): void {
    // ESC[nF: cursor to the start of the line n lines up; ESC[J: erase to the end of screen.
    const back = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '';
    this.out.write(`${back}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** Leaves the last frame on screen; what follows is printed below it. */
  finish(): void {
    this.drawnLines = 0;
  }
}
