// Splits the text of an event stream (`GET /v1/events`) into its complete Server-Sent Events —
// `id`, `event` and the JSON `data` — and its comment lines, leaving an unfinished frame as the
// rest to prepend to the next chunk. Pure: every reader of the stream uses it; it reads no socket.

export interface EventFrame {
  /** The `id:` line, when the frame had one. */
  id?: number;
  /** The `event:` line (`message` when absent). */
  event: string;
  /** The `data:` lines joined and parsed as JSON. */
  data: unknown;
}

export interface SplitFrames {
  events: EventFrame[];
  /** The text of each comment line (`: keepalive` → `keepalive`). */
  comments: string[];
  /** An unfinished frame at the end of the text. */
  rest: string;
}

export function splitFrames(text: string): SplitFrames {
  const blocks = text.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: EventFrame[] = [];
  const comments: string[] = [];
  for (const block of blocks) {
    let id: number | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = Number(value);
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) as unknown });
  }
  return { events, comments, rest };
}
